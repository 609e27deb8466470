"""Audit and retention commands: `audit verify`, `audit anchor`, `audit export`, `purge`."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from qatt.cli import Context
from qatt.errors import QattError


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (use YYYY-MM-DD)")


def _audit(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.trust import audit, users

    ctx.db()
    if args.action == "verify":
        return _verify(args, ctx)
    if args.action == "anchor":
        return _anchor(args, ctx)
    users.require_role(ctx.actor, "qa_lead", "export the audit log")
    if not args.out:
        raise QattError("audit export needs --out FILE.csv")
    count, withheld = audit.export_csv_withholding(Path(args.out), args.start, args.end, viewer=ctx.actor)
    # The reviews whose events were withheld: the others in the range were shown to the exporter
    # (qatt.trust.visibility.how_seen counts that as having seen them).
    audit.record(ctx.actor, audit.DISCLOSURE, "audit_log", "",
                 {"file": Path(args.out).name, "events": count, "from": str(args.start or ""),
                  "to": str(args.end or ""), "purpose": args.purpose or "", "withheld_reviews": withheld})
    ctx.emit({"file": args.out, "events": count}, f"wrote {count} audit events to {args.out}")
    return 0


def _verify(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.trust import audit, audit_state

    anchor = audit.parse_anchor(args.anchor) if args.anchor else None
    report = audit.verify_chain(anchor)
    differing = audit_state.differing_reviews()
    lines = []
    if report.ok:
        lines.append(f"audit log intact: {report.events} events, every link verified (head {report.head})")
    else:
        lines.append(f"AUDIT LOG BROKEN at event {report.first_broken_id}: {report.problem}")
        lines += [f"  also: {p}" for p in report.problems[1:]]
    if report.erased:
        lines.append(f"{report.erased} events had their case content erased by a purge"
                     + (f" ({report.link_only} older events among them are checked by their links only)"
                        if report.link_only else ""))
    if anchor is not None and report.anchor and report.anchor["found"]:
        lines.append(f"anchor verified: the log still holds head {anchor.head} as event {report.anchor['at_event']}")
    if differing:
        lines.append(f"{len(differing)} review{'s' if len(differing) != 1 else ''} differ from the audit log:")
        lines += [f"  {d.text()}" for d in differing]
    data = {**report.as_dict(), "differing_reviews": [d.as_dict() for d in differing]}
    ok = report.ok and not differing
    from qatt.storage.pg_security import verify_report

    extra = verify_report(ctx.db())  # PostgreSQL: changes made outside QATT, role memberships
    if extra is not None:
        data.update(extra["data"])
        lines += extra["lines"]
        ok = ok and extra["ok"]
    ctx.emit(data, "\n".join(lines))
    return 0 if ok else 1


def _anchor(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.trust import audit
    from qatt.fileio import atomic_path

    anchor = audit.current_anchor()
    data = anchor.as_dict()
    if args.out:
        with atomic_path(Path(args.out), ".json") as tmp:
            tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    ctx.emit(data, f"{anchor.events}:{anchor.head}" + (f" (written to {args.out})" if args.out else "")
             + "\nkeep it outside the database; `audit verify --anchor` proves the log still holds it")
    return 0


def _purge(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.trust import retention

    ctx.db()
    plan = retention.plan_purge(args.before)
    if not args.yes:
        if not sys.stdin.isatty():
            raise QattError(
                f"purge would delete {plan.cases} cases and {plan.reviews} reviews recorded before "
                f"{args.before}; run again with --yes to confirm.")
        answer = input(f"Delete {plan.cases} cases and {plan.reviews} reviews recorded before {args.before}? "
                       "Aggregate figures are kept. Type 'purge' to confirm: ")
        if answer.strip().lower() != "purge":
            ctx.emit({"purged": False, **plan.as_dict()}, "nothing purged")
            return 1
    done = retention.purge(args.before, ctx.actor, reason=args.reason or "")
    ctx.emit({"purged": True, **done.as_dict()},
             f"purged {done.cases} cases and {done.reviews} reviews recorded before {args.before}")
    return 0


def register(add_command) -> None:
    p = add_command("audit", "verify the hash-chained audit log, anchor its head outside the database, or export it",
                    _audit)
    p.add_argument("action", choices=["verify", "anchor", "export"])
    p.add_argument("--out", help="CSV file for export; JSON file for anchor")
    p.add_argument("--anchor", metavar="HASH_OR_FILE",
                   help="verify: prove the log still holds this head (a hash, COUNT:HASH or an anchor file)")
    p.add_argument("--from", dest="start", type=_date, help="first day (YYYY-MM-DD)")
    p.add_argument("--to", dest="end", type=_date, help="last day (YYYY-MM-DD)")
    p.add_argument("--purpose", help="why the log is exported, and for whom (recorded)")
    p = add_command("purge", "delete case details and reviews recorded before a date (administrators)", _purge)
    p.add_argument("--before", required=True, type=_date, help="cut-off date (YYYY-MM-DD)")
    p.add_argument("--reason", help="recorded in the audit log")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
