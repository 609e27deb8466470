"""`action list|update|history`: follow the actions raised from reviews to closure (qatt.loop.actions),
and `feedback acknowledge`: record that the officer has seen a review's feedback."""

from __future__ import annotations

import argparse
import datetime as dt

from qatt.cli import Context, _common_options
from qatt.errors import QattError


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write it as YYYY-MM-DD") from None


def _line(a) -> str:
    due = a.due_date.isoformat() if a.due_date else "no due date"
    late = f", {a.days_overdue} days overdue" if a.overdue else ""
    return (f"{a.id:>5}  {a.status_label:<28} {a.owner or '-':<20} due {due}{late}\n"
            f"       case {a.case_reference} ({a.area}, {a.team or 'no team'}), review {a.review_id}: {a.text}"
            + (f"\n       note: {a.note}" if a.note else "")
            + (f"\n       verified by {a.verified_by}" if a.verified_by else ""))


def _list(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.loop import actions

    ctx.db()
    rows = actions.list_actions(statuses=args.status or (), owner=args.owner or "", team=args.team or "",
                                overdue=args.overdue, today=args.today, viewer=ctx.actor)
    total = actions.summary(rows)
    text = "\n".join(_line(a) for a in rows) if rows else "no actions match"
    if rows:
        text += f"\n{len(rows)} actions, {total.overdue} overdue"
    ctx.emit([a.as_dict() for a in rows], text)
    return 0


def _update(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.loop import actions

    ctx.db()
    if not (args.status or args.owner or args.due):
        raise QattError("Say what to change: --status (with --note), --owner (reassign) or --due (extend, with --reason).")
    if args.owner:
        actions.reassign(args.action_id, ctx.actor, args.owner, args.reason or "")
    if args.due:
        actions.extend(args.action_id, ctx.actor, args.due, args.reason or "")
    if args.status:
        actions.set_status(args.action_id, ctx.actor, args.status, args.note or args.reason or "")
    view = actions.get_action(args.action_id, viewer=ctx.actor)
    ctx.emit(view.as_dict(), _line(view))
    return 0


def _history(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.loop import actions

    ctx.db()
    actions.get_action(args.action_id, viewer=ctx.actor)
    events = actions.history(args.action_id)
    lines = []
    for e in events:
        fields = ", ".join(f"{k}: {v['old']!s} -> {v['new']!s}" for k, v in (e.get("fields") or {}).items())
        why = e.get("note") or e.get("reason") or ""
        lines.append(f"{e['at']:%Y-%m-%d %H:%M} {e['actor']}: {fields}" + (f" ({why})" if why else ""))
    ctx.emit(events, "\n".join(lines) or "no changes recorded")
    return 0


def _acknowledge(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.loop import acknowledgement

    ctx.db()
    ack = acknowledgement.acknowledge(args.review_id, ctx.actor, args.on, args.comment or "")
    ctx.emit({"review_id": args.review_id, "acknowledged_on": ack.acknowledged_on.isoformat(),
              "comment": ack.comment, "recorded_by": ack.recorded_by},
             f"review {args.review_id}: the officer acknowledged the feedback on {ack.acknowledged_on:%d %b %Y}"
             + (f" ({ack.comment})" if ack.comment else ""))
    return 0


def _choose(choices: str):
    def handler(args: argparse.Namespace, ctx: Context) -> int:
        raise QattError(f"Choose one: {choices}.")
    return handler


def _subcommands(parser: argparse.ArgumentParser, dest: str):
    sub = parser.add_subparsers(dest=dest, metavar="ACTION")
    sub.required = True
    common = _common_options(top=False)

    def command(name: str, help: str, handler) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help, parents=[common])
        p.set_defaults(handler=handler)
        return p
    return command


# An action's statuses, written out so that `--help` need not import the models (peewee);
# tests/unit/test_cli_startup.py checks they are the models' own.
STATUSES = ("open", "in progress", "done", "verified", "cancelled")


def register(add_command) -> None:

    action = _subcommands(add_command("action", "follow actions raised from reviews to closure",
                                      _choose("action list | update ID | history ID")), "action_command")
    p = action("list", "list actions, overdue first", _list)
    p.add_argument("--status", action="append", choices=STATUSES,
                   help="only actions with this status (repeat for several)")
    p.add_argument("--owner", help="only actions this person owns")
    p.add_argument("--team", help="only actions on cases of this team")
    p.add_argument("--overdue", action="store_true", help="only open or in-progress actions past their due date")
    p.add_argument("--today", type=_date, help=argparse.SUPPRESS)
    p = action("update", "move an action on (in progress, done with a note, verified, cancelled with a "
                         "reason), reassign it (--owner) or extend it (--due with --reason)", _update)
    p.add_argument("action_id", type=int, metavar="ID")
    p.add_argument("--status", choices=STATUSES)
    p.add_argument("--note", help="what was done (needed for done), or what is still missing")
    p.add_argument("--owner", help="reassign the action to this person")
    p.add_argument("--due", type=_date, help="new due date (YYYY-MM-DD); needs --reason")
    p.add_argument("--reason", help="why it is extended, reassigned or cancelled")
    p = action("history", "every recorded change of an action", _history)
    p.add_argument("action_id", type=int, metavar="ID")

    feedback = _subcommands(add_command("feedback", "officers' acknowledgement of review feedback",
                                        _choose("feedback acknowledge REVIEW_ID")), "feedback_command")
    p = feedback("acknowledge", "record that the officer has seen the feedback on a review", _acknowledge)
    p.add_argument("review_id", type=int, metavar="REVIEW_ID")
    p.add_argument("--on", type=_date, help="the day the officer saw it (default today)")
    p.add_argument("--comment", help="the officer's comment, if any")
