"""`narrative show|edit|history AREA --from YYYY-MM --to YYYY-MM`: the pack's narrative for an area
(qatt.reporting.narrative): QATT's draft from the figures until the QA lead keeps a version."""

from __future__ import annotations

import argparse

from qatt.cli import Context, _common_options
from qatt.errors import QattError

TEXT_FIELDS = ("judgement", "strengths", "work_in_progress", "improvements", "developing")


def _current(args: argparse.Namespace):
    from qatt import reports
    from qatt.reporting import narrative

    flt = reports.ReportFilter(args.period_from or "", args.period_to or "")
    return narrative.current_for_area(flt, args.area), narrative.scope_of(flt)


def _text(n) -> str:
    parts = [f"{n.area} ({n.scope}): {n.provenance}"]
    for name in TEXT_FIELDS:
        value = getattr(n, name)
        if value:
            parts.append(f"{name.replace('_', ' ').capitalize()}:\n  " + value.replace("\n", "\n  "))
    return "\n".join(parts)


def _show(args: argparse.Namespace, ctx: Context) -> int:
    ctx.db()
    current, _scope = _current(args)
    ctx.emit(current.as_dict(), _text(current))
    return 0


def _edit(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.reporting import narrative

    ctx.db()
    current, scope = _current(args)
    changes = {name: getattr(args, name) for name in TEXT_FIELDS if getattr(args, name) is not None}
    if args.keep_draft and current.is_draft:
        changes = {**{name: getattr(current, name) for name in TEXT_FIELDS}, **changes}
    if not changes:
        raise QattError("Say what to keep: --judgement, --strengths, --work-in-progress, --improvements, "
                        "--developing, or --keep-draft to keep QATT's draft as it stands.")
    kept = narrative.save(ctx.actor, args.area, scope, **changes)
    ctx.emit(kept.as_dict(), _text(kept))
    return 0


def _history(args: argparse.Namespace, ctx: Context) -> int:
    from qatt import reports
    from qatt.reporting import narrative

    ctx.db()
    scope = narrative.scope_of(reports.ReportFilter(args.period_from or "", args.period_to or ""))
    rows = narrative.versions(args.area, scope)
    ctx.emit([n.as_dict() for n in rows], "\n".join(n.provenance for n in rows) or "no kept versions")
    return 0


def _choose(args: argparse.Namespace, ctx: Context) -> int:
    raise QattError("Choose one: narrative show | edit | history AREA --from YYYY-MM --to YYYY-MM.")


def register(add_command) -> None:
    parser = add_command("narrative", "the pack's narrative per area: drafted from the figures, kept in versions",
                         _choose)
    sub = parser.add_subparsers(dest="narrative_command", metavar="ACTION")
    sub.required = True
    common = _common_options(top=False)
    for name, help, handler in (("show", "the kept narrative, or QATT's draft", _show),
                                ("edit", "QA lead: keep a new version", _edit),
                                ("history", "every kept version", _history)):
        p = sub.add_parser(name, help=help, description=help, parents=[common])
        p.set_defaults(handler=handler)
        p.add_argument("area", help="the area of practice, as in the case list")
        p.add_argument("--from", dest="period_from", metavar="YYYY-MM")
        p.add_argument("--to", dest="period_to", metavar="YYYY-MM")
        if name == "edit":
            for field in TEXT_FIELDS:
                p.add_argument(f"--{field.replace('_', '-')}", dest=field, help="one line per point")
            p.add_argument("--keep-draft", action="store_true", help="start from QATT's draft")
