"""`calibration`: reviewer profiles against independent second reviews; `estimate`: the grades
independent reviewers would most likely have given to a period's first reviews; `pairs-needed`:
how many paired reviews a period needs. The figures are computed in qatt.agreement.calibration and
qatt.agreement.corrected_estimate; this module reads the options and prints.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from qatt.cli import Context


def _calibration(args: argparse.Namespace, ctx: Context) -> int:
    from qatt import reports
    from qatt.agreement import calibration
    from qatt.agreement.grade_pairs import read_pairs_on_any_scale

    ctx.db()
    if args.names_in_exports:
        from qatt.agreement.calibration_report import set_names_in_exports

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
    from qatt.agreement import corrected_estimate as ce
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


def _pairs_needed(args: argparse.Namespace, ctx: Context) -> int:
    from qatt import reports
    from qatt.selection import pair_planning
    from qatt.errors import QattError

    if args.per_reviewer:
        ctx.db()
        window = reports.ReportFilter(period_from=args.history_from or "", period_to=args.history_to or "")
        rows = pair_planning.pairs_shortfall(window, ctx.actor, args.per_reviewer)
        ctx.emit([r.as_dict() for r in rows], pair_planning.shortfall_text(rows, args.per_reviewer, window.label()))
        return 0
    if args.margin is None:
        raise QattError("Give --margin (e.g. 0.1 for ±10 points), or --per-reviewer K.")
    if not args.share:
        result = pair_planning.pairs_for_reviewer_difference(args.margin, args.higher, args.lower)
        ctx.emit(result.as_dict(), result.text())
        return 0
    from qatt.agreement import corrected_estimate
    from qatt.trust import users

    ctx.db()
    users.require_role(ctx.actor, "moderator", "plan from independent second reviews")
    vocab = reports.Vocabulary.load()
    history = reports.ReportFilter(period_from=args.history_from or "", period_to=args.history_to or "")
    first_counts, pairs = corrected_estimate.period_grades(history, history, vocab)
    wanted = next((scale for scale in first_counts if args.share in scale), None)
    if wanted is None:
        labels = {vocab.grade_label(g).lower(): g for scale in first_counts for g in scale}
        grade = labels.get(args.share.lower())
        wanted = next((scale for scale in first_counts if grade in scale), None)
        args.share = grade or args.share
    if wanted is None:
        raise QattError(f"No first review in {history.label()} has the grade {args.share!r}; give a grade id "
                        "such as good, or a longer history.")
    index = {g: i for i, g in enumerate(wanted)}
    matrix = [[0] * len(wanted) for _ in wanted]
    for first, second in pairs.get(wanted, []):
        matrix[index[first]][index[second]] += 1
    counts = [first_counts[wanted].get(g, 0) for g in wanted]
    from qatt.storage import models as m

    months = reports.submitted_reviews(history, m.Sample.period).distinct().count()
    expected = args.first_reviews or max(1, round(sum(counts) / max(1, months)))
    result = pair_planning.plan_from_history(args.margin, counts, matrix, index[args.share], expected,
                                             vocab.grade_label(args.share))
    data = dict(result.as_dict(), first_reviews=expected, history=history.label())
    ctx.emit(data, result.text() + f" Planned for {expected} first reviews, from the pairs of {history.label()}.")
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

    p = add_command("pairs-needed", "paired (second) reviews needed for a chosen margin: a reviewer's difference, "
                    "or the corrected share of a grade", _pairs_needed)
    p.add_argument("--margin", type=float, help="half-width of the 95%% interval, e.g. 0.1 for ±10 points")
    p.add_argument("--higher", type=float, default=0.25, help="reviewer: expected share graded higher (default 0.25)")
    p.add_argument("--lower", type=float, default=0.05, help="reviewer: expected share graded lower (default 0.05)")
    p.add_argument("--share", metavar="GRADE", help="plan for the corrected share of this grade (e.g. good) instead")
    p.add_argument("--per-reviewer", type=int, metavar="K",
                   help="instead: second reviews still needed so every first reviewer has K pairs in the window "
                        "(--history-from/--history-to, e.g. a quarter)")
    p.add_argument("--history-from", metavar="YYYY-MM", help="--share: earlier months to plan from (default: all); "
                                                             "--per-reviewer: the window")
    p.add_argument("--history-to", metavar="YYYY-MM", help="... to this month")
    p.add_argument("--first-reviews", type=int, help="--share: first reviews the period will have (default: the "
                                                       "history's monthly average)")
