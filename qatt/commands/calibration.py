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
    if args.names_in_exports:
        from qatt.calibration_report import set_names_in_exports

        named = args.names_in_exports == "yes"
        set_names_in_exports(ctx.actor, named)
        ctx.emit({"names_in_exports": named}, "Exports now " + ("name reviewers." if named else
                                                                "code reviewers (Reviewer A, B...)."))
        return 0
    flt = reports.ReportFilter(period_from=args.period_from or "", period_to=args.period_to or "")
    inspectorate = None
    if args.inspectorate:
        _scale, rows = read_pairs_on_any_scale(Path(args.inspectorate))
        inspectorate = {reference: second for reference, _first, second in rows}
    result = calibration.reviewer_profiles(flt, ctx.actor, args.reviewer, coded=args.coded,
                                           inspectorate=inspectorate)
    ctx.emit(result.as_dict(), result.text())
    return 0


def _estimate(args: argparse.Namespace, ctx: Context) -> int:
    from qatt import corrected_estimate as ce
    from qatt import reports
    from qatt.errors import QattError

    if args.pairs or args.first:
        if not (args.pairs and args.first):
            raise QattError("Give both --pairs PAIRS.csv and --first FIRST.csv, or --period YYYY-MM.")
        title, estimate = ce.estimate_from_files(Path(args.pairs), Path(args.first), args.scale or "",
                                                 replicates=args.replicates, seed=args.seed)
        ctx.emit(dict(estimate.as_dict(), scale=title), estimate.text(
            f"{title}: first grades in {Path(args.first).name} and the estimate of what independent reviewers "
            f"would have given (pairs from {Path(args.pairs).name})"))
        return 0
    if not args.period:
        raise QattError("Give the period: --period YYYY-MM (or --pairs and --first files).")
    ctx.db()
    flt = reports.ReportFilter.for_month(args.period)
    pairs_flt = None
    if args.pairs_from or args.pairs_to:
        pairs_flt = reports.ReportFilter(period_from=args.pairs_from or "", period_to=args.pairs_to or "")
    result = ce.estimate_for_period(flt, ctx.actor, pairs_flt, replicates=args.replicates, seed=args.seed)
    ctx.emit(result.as_dict(), result.text())
    return 0


def register(add_command) -> None:
    p = add_command("calibration", "reviewer profiles: each reviewer's grades against independent second reviews",
                    _calibration)
    p.add_argument("--from", dest="period_from", metavar="YYYY-MM", help="first sample month (default: all)")
    p.add_argument("--to", dest="period_to", metavar="YYYY-MM", help="last sample month (default: all)")
    p.add_argument("--reviewer", metavar="USER", help="only this reviewer (a reviewer may see only their own)")
    p.add_argument("--coded", action="store_true", help="show reviewers as codes (Reviewer A, B...) not names")
    p.add_argument("--names-in-exports", choices=("yes", "no"),
                   help="QA leads: whether the workbook and the PDF reports name reviewers (default no: coded)")
    p.add_argument("--inspectorate", metavar="PAIRS.csv",
                   help="inspectorate grades (case_ref,first_grade,second_grade; second_grade is the "
                        "inspectorate's): each profile counts its pairs that also have one")

    p = add_command("estimate", "the grades independent reviewers would most likely have given to a period's "
                    "first reviews (an estimate, with its interval)", _estimate)
    p.add_argument("--period", metavar="YYYY-MM", help="the sample month whose first reviews to correct")
    p.add_argument("--pairs-from", metavar="YYYY-MM", help="take the paired reviews from this month (default: the "
                                                           "period itself)")
    p.add_argument("--pairs-to", metavar="YYYY-MM", help="... to this month")
    p.add_argument("--pairs", metavar="PAIRS.csv", help="paired grades from a file: case_ref,first_grade,second_grade")
    p.add_argument("--first", metavar="FIRST.csv", help="every first grade of the period: case_ref,first_grade")
    p.add_argument("--scale", help="grading scale of the files (default: the first scale that reads them)")
    p.add_argument("--replicates", type=int, default=2000, help="bootstrap replicates (default 2000)")
    p.add_argument("--seed", type=int, default=17, help="bootstrap seed, for a reproducible interval (default 17)")
