"""`calibration`: reviewer profiles against independent second reviews; `estimate`: the grades
independent reviewers would most likely have given to a period's first reviews; `pairs-needed`:
how many paired reviews a period needs. The figures are computed in qatt.calibration and
qatt.corrected_estimate; this module reads the options and prints.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from qatt.cli import Context


def _calibration(args: argparse.Namespace, ctx: Context) -> int:
    from qatt import calibration, reports
    from qatt.grade_pairs import read_pairs_on_any_scale

    ctx.db()
    flt = reports.ReportFilter(period_from=args.period_from or "", period_to=args.period_to or "")
    inspectorate = None
    if args.inspectorate:
        _scale, rows = read_pairs_on_any_scale(Path(args.inspectorate))
        inspectorate = {reference: second for reference, _first, second in rows}
    result = calibration.reviewer_profiles(flt, ctx.actor, args.reviewer, coded=args.coded,
                                           inspectorate=inspectorate)
    ctx.emit(result.as_dict(), result.text())
    return 0


def register(add_command) -> None:
    p = add_command("calibration", "reviewer profiles: each reviewer's grades against independent second reviews",
                    _calibration)
    p.add_argument("--from", dest="period_from", metavar="YYYY-MM", help="first sample month (default: all)")
    p.add_argument("--to", dest="period_to", metavar="YYYY-MM", help="last sample month (default: all)")
    p.add_argument("--reviewer", metavar="USER", help="only this reviewer (a reviewer may see only their own)")
    p.add_argument("--coded", action="store_true", help="show reviewers as codes (Reviewer A, B...) not names")
    p.add_argument("--inspectorate", metavar="PAIRS.csv",
                   help="inspectorate grades (case_ref,first_grade,second_grade; second_grade is the "
                        "inspectorate's): each profile counts its pairs that also have one")
