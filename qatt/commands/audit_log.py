"""Audit and retention commands: `audit verify`, `audit export`, `purge`."""

from __future__ import annotations

import argparse
import datetime as dt
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
    from qatt import audit, users

    ctx.db()
    if args.action == "verify":
        report = audit.verify_chain()
        text = (f"audit log intact: {report.events} events, every link verified" if report.ok
                else f"AUDIT LOG BROKEN at event {report.first_broken_id}: {report.problem}")
        data = report.as_dict()
        ok = report.ok
        from qatt.storage.pg_security import verify_report

        extra = verify_report(ctx.db())
        if extra is not None:
            data.update(extra["data"])
            text += "".join("\n" + line for line in extra["lines"])
            ok = ok and extra["ok"]
        ctx.emit(data, text)
        return 0 if ok else 1
    users.require_role(ctx.actor, "qa_lead", "export the audit log")
    if not args.out:
        raise QattError("audit export needs --out FILE.csv")
    count = audit.export_csv(Path(args.out), args.start, args.end)
    audit.record(ctx.actor, audit.DISCLOSURE, "audit_log", "",
                 {"file": Path(args.out).name, "events": count, "from": str(args.start or ""),
                  "to": str(args.end or ""), "purpose": args.purpose or ""})
    ctx.emit({"file": args.out, "events": count}, f"wrote {count} audit events to {args.out}")
    return 0


def _purge(args: argparse.Namespace, ctx: Context) -> int:
    from qatt import retention

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
    p = add_command("audit", "verify the hash-chained audit log, or export it", _audit)
    p.add_argument("action", choices=["verify", "export"])
    p.add_argument("--out", help="CSV file for export")
    p.add_argument("--from", dest="start", type=_date, help="first day (YYYY-MM-DD)")
    p.add_argument("--to", dest="end", type=_date, help="last day (YYYY-MM-DD)")
    p.add_argument("--purpose", help="why the log is exported, and for whom (recorded)")
    p = add_command("purge", "delete case details and reviews recorded before a date (administrators)", _purge)
    p.add_argument("--before", required=True, type=_date, help="cut-off date (YYYY-MM-DD)")
    p.add_argument("--reason", help="recorded in the audit log")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
