"""Monitoring the monthly rounds: `plan completion` (in qatt/commands/reviews.py's plan group calls
this module's handler) and `targets show|set` for the force's own MOSOVO targets."""

from __future__ import annotations

import argparse

from qatt.cli import Context
from qatt.errors import QattError


def plan_completion(args: argparse.Namespace, ctx: Context) -> int:
    """Planned, submitted and outstanding checks per plan and month, with the shortfall line."""
    from qatt.selection import monitoring

    ctx.db()
    rows = monitoring.plan_completion([args.month] if args.month else None, plan_name=args.plan)
    ctx.emit([r.as_dict() for r in rows], "\n".join(r.statement for r in rows) if rows else "no plans have run")
    return 0


def _targets(args: argparse.Namespace, ctx: Context) -> int:
    from qatt import targets

    ctx.db()
    if args.set:
        wanted = {}
        for item in args.set:
            key, sep, value = item.partition("=")
            if not sep:
                raise QattError(f"Write each target as ITEM=SHARE, e.g. m2=0.9 or m2=90 (got {item!r}).")
            try:
                wanted[key.strip()] = float(value.rstrip("%"))
            except ValueError:
                raise QattError(f"The target {item!r} is not a number; write e.g. m2=0.9 or m2=90.") from None
        targets.set_force_targets(wanted, ctx.actor)
    force = targets.force_targets()
    rows = []
    for question_id, label in targets.TARGET_QUESTIONS.items():
        reported = targets.REPORTED_RATES.get(question_id)
        rows.append({"question_id": question_id, "label": label, "force_target": force.get(question_id),
                     "reported_rate": reported.rate if reported else None,
                     "reported_in": reported.source if reported else None})
    lines = []
    for r in rows:
        goal = "no force target" if r["force_target"] is None else f"force target {r['force_target']:.0%}"
        reported = targets.REPORTED_RATES.get(r["question_id"])
        lines.append(f"{r['label']:<48} {goal}"
                     + (f"; {reported.text()} (a reported rate, not a target)" if reported else ""))
    ctx.emit(rows, "\n".join(lines))
    return 0


def register(add_command) -> None:
    p = add_command("targets", "show the force's MOSOVO targets beside the rates the sources reported; "
                               "a QA lead can set them", _targets)
    p.add_argument("--set", nargs="+", metavar="ITEM=SHARE",
                   help="replace the targets, e.g. --set m2=0.9 m3=0.9 (items: m1, m2, m3, m4, m7)")


def add_plan_completion(plan_action) -> None:
    p = plan_action("completion", "per plan and month: checks planned, submitted and outstanding, and when due",
                    plan_completion)
    p.add_argument("--month", help="the month, YYYY-MM (default: every month each plan ran for)")
    p.add_argument("--plan", help="only this plan")

