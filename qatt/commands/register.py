"""`register list|show|add|update|note|link|export|import`: the register of recommendations and
commitments (qatt.loop.register). `register export --out plan.xlsx` gives the updated action plan."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from qatt.cli import Context, _common_options
from qatt.errors import QattError


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write it as YYYY-MM-DD") from None


def _line(e) -> str:
    when = e.timescale or (e.due_date.isoformat() if e.due_date else "no timescale")
    return f"{e.code:<14} {e.status:<15} {when:<16} {e.owner or '-':<16} {e.text[:80]}"


def _list(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.loop import register

    ctx.db()
    rows = register.entries(kind=args.kind or "", status=args.status or "")
    ctx.emit([e.as_dict() for e in rows], "\n".join(_line(e) for e in rows) or "the register is empty")
    return 0


def _show(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.loop import register

    ctx.db()
    e = register.entry(args.code)
    lines = [f"{e.code} ({e.kind}) from {e.source or 'no source recorded'}", e.text,
             f"Owner: {e.owner or '-'}; timescale: {e.timescale or '-'}; due: {e.due_date or '-'}; status: {e.status}"]
    lines += [f"  {n.noted_on.isoformat()} {n.text} ({n.recorded_by})" for n in e.notes]
    lines += [f"  evidence: {x.label}" for x in e.evidence]
    lines += [f"Warning: {e.warning}"] if e.warning else []
    ctx.emit(e.as_dict(), "\n".join(lines))
    return 0


def _add(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.loop import register

    ctx.db()
    register.add_entry(ctx.actor, args.code, args.text, kind=args.kind, source=args.source or "",
                       owner=args.owner or "", timescale=args.timescale or "", due_date=args.due,
                       status=args.status)
    e = register.entry(args.code)
    ctx.emit(e.as_dict(), _line(e))
    return 0


def _update(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.loop import register

    ctx.db()
    changes = {name: getattr(args, name) for name in ("kind", "source", "text", "owner", "timescale", "status",
                                                      "evidence") if getattr(args, name) is not None}
    if args.due is not None:
        changes["due_date"] = args.due
    if args.clear_due:
        changes["due_date"] = None
    if not changes:
        raise QattError("Say what to change, e.g. --status 'in progress' --owner 'DCI Public Protection'.")
    register.update_entry(ctx.actor, args.code, **changes)
    e = register.entry(args.code)
    ctx.emit(e.as_dict(), _line(e) + (f"\nWarning: {e.warning}" if e.warning else ""))
    return 0


def _note(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.loop import register

    ctx.db()
    note = register.add_note(ctx.actor, args.code, args.text, args.on)
    ctx.emit({"code": args.code, "noted_on": note.noted_on.isoformat(), "text": note.text},
             f"{args.code}: note of {note.noted_on:%d %b %Y} added")
    return 0


def _link(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.loop import register

    ctx.db()
    link = register.link_evidence(ctx.actor, args.code, args.kind, args.ref, args.note or "")
    e = register.entry(args.code)
    shown = next(x for x in e.evidence if x.id == link.id)
    ctx.emit({"code": args.code, "kind": link.kind, "ref": link.ref, "note": link.note, "label": shown.label,
              "warning": e.warning or None},
             f"{args.code}: evidence {shown.label} linked" + (f"\nWarning: {e.warning}" if e.warning else ""))
    return 0


def _export(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.loop import register
    from qatt.trust import audit

    ctx.db()
    count = register.export_xlsx(Path(args.out), args.marking or "")
    audit.record(ctx.actor, audit.DISCLOSURE, "export", Path(args.out).name,
                 {"report": "register", "rows": count, "purpose": args.purpose or ""})
    ctx.emit({"file": args.out, "entries": count}, f"wrote {args.out}: {count} register entries")
    return 0


def _import(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.loop import register

    ctx.db()
    result = register.import_xlsx(Path(args.file), ctx.actor)
    ctx.emit(result.as_dict(), f"added {len(result.added)}, updated {len(result.updated)}, "
                               f"{result.notes_added} progress notes added"
                               + "".join(f"\nWarning: {w}" for w in result.warnings))
    return 0


def _choose(args: argparse.Namespace, ctx: Context) -> int:
    raise QattError("Choose one: register list | show CODE | add | update CODE | note CODE TEXT | link CODE | "
                    "export --out FILE.xlsx | import FILE.xlsx.")


# The register's choices, written out so that `--help` need not import the core (qatt.loop.register and
# the models pull in peewee and openpyxl); tests/unit/test_cli_startup.py checks they are the same.
KINDS = ("recommendation", "area for improvement", "aim for improvement", "cause of concern", "coroner's concern",
         "review recommendation", "commitment")
STATUSES = ("not started", "in progress", "fully achieved", "closed")
EVIDENCE_KINDS = ("form", "question", "sample", "review", "action", "document")


def register(add_command) -> None:
    parser = add_command("register", "the register of recommendations and commitments", _choose)
    sub = parser.add_subparsers(dest="register_command", metavar="ACTION")
    sub.required = True
    common = _common_options(top=False)

    def command(name, help, handler):
        p = sub.add_parser(name, help=help, description=help, parents=[common])
        p.set_defaults(handler=handler)
        return p

    p = command("list", "list the register", _list)
    p.add_argument("--kind", choices=KINDS)
    p.add_argument("--status", choices=STATUSES)
    p = command("show", "one entry with its progress notes and evidence", _show)
    p.add_argument("code")
    p = command("add", "QA lead: add an entry", _add)
    p.add_argument("code")
    p.add_argument("text")
    p.add_argument("--kind", choices=KINDS, default="recommendation")
    p.add_argument("--source", help="the document that made it")
    p.add_argument("--owner")
    p.add_argument("--timescale", help='e.g. "immediately", "3 months"')
    p.add_argument("--due", type=_date)
    p.add_argument("--status", choices=STATUSES, default="not started")
    p = command("update", "QA lead: change an entry", _update)
    p.add_argument("code")
    for name in ("text", "source", "owner", "timescale", "evidence"):
        p.add_argument(f"--{name}")
    p.add_argument("--kind", choices=KINDS)
    p.add_argument("--status", choices=STATUSES)
    p.add_argument("--due", type=_date)
    p.add_argument("--clear-due", action="store_true", help="remove the due date")
    p = command("note", "QA lead: add a dated progress note", _note)
    p.add_argument("code")
    p.add_argument("text")
    p.add_argument("--on", type=_date, help="the note's date (default today)")
    p = command("link", "QA lead: link evidence (a form, question, sample, review, action or document)", _link)
    p.add_argument("code")
    p.add_argument("--kind", required=True, choices=EVIDENCE_KINDS)
    p.add_argument("--ref", required=True, help="form id, form_id:question_id, a number or a document title")
    p.add_argument("--note")
    p = command("export", "write the register to a spreadsheet (the updated action plan)", _export)
    p.add_argument("--out", required=True, metavar="FILE.xlsx")
    p.add_argument("--marking", help="protective marking (default: the force setting)")
    p.add_argument("--purpose", help="why it is exported (recorded)")
    p = command("import", "QA lead: add and update entries from a spreadsheet (all rows or none)", _import)
    p.add_argument("file", metavar="FILE.xlsx")
