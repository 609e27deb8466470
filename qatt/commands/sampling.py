"""Sampling commands: `sample`, `samples`, `sample-items`, `verify-sample`, `replace`, `sample-size`."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import Dict, List

from qatt.cli import Context
from qatt.errors import QattError


def _filters(pairs: List[str]) -> Dict[str, str]:
    filters: Dict[str, str] = {}
    for pair in pairs or []:
        column, sep, value = pair.partition("=")
        if not sep or not column.strip():
            raise QattError(f"--filter {pair!r} must be written COLUMN=VALUE, e.g. --filter division=North.")
        filters[column.strip()] = value.strip()
    return filters


def _stratum_label(key: str) -> str:
    return " / ".join(json.loads(key)) if key else "(all)"


def _sample(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.selection import sampling

    stratify = [col for text in args.stratify or [] for col in text.split(",") if col.strip()]
    method = args.method or ("stratified" if args.per_stratum is not None or args.proportional is not None else "simple")
    request = sampling.SampleRequest(
        population_id=args.population_id, method=method, size=args.size, per_stratum=args.per_stratum,
        proportional=args.proportional, min_per_stratum=args.min_per_stratum, stratify=stratify,
        filters=_filters(args.filter), date_from=args.date_from, date_to=args.date_to,
        exclude_months=args.exclude_months, reserves=args.reserves, seed=args.seed, period=args.period or "",
        name=args.name or "", redraw_reason=args.redraw_reason or "", form_id=args.form or "")
    ctx.db()
    result = sampling.draw_sample(request, ctx.actor, progress=ctx.progress)
    data = {
        "sample_id": result.sample_id, "seed": result.seed, "method": method, "cases": result.references,
        "reserves": result.reserves, "eligible": result.eligible_count, "excluded": result.excluded_count,
        "supersedes": result.supersedes, "strata": [asdict(s) for s in result.strata],
        "undated_left_out": result.undated_count, "date_precision": result.date_precision or "day",
    }
    lines = [f"sample {result.sample_id}: {len(result.references)} cases and {len(result.reserves)} reserves "
             f"drawn from {result.eligible_count} eligible ({result.excluded_count} excluded as recently sampled)",
             f"seed {result.seed} (keep it: with the population it re-derives this sample)"]
    if result.supersedes:
        lines.append(f"supersedes sample {result.supersedes}, which stays on record")
    if sampling.undated_message(result):
        lines.append(sampling.undated_message(result))
    if result.date_precision == "month":
        lines.append("the population's dates give the month only: a case is in the date range when its month overlaps it")
    short = [s for s in result.strata if s.short]
    if method == "stratified":
        lines += [f"  {_stratum_label(s.key)}: {s.drawn} of {s.eligible}" + (" (all it has)" if s.short else "")
                  for s in result.strata]
    elif short:
        lines.append(f"only {result.eligible_count} cases are eligible, so all were taken")
    lines.append("cases: " + ", ".join(result.references))
    if result.reserves:
        lines.append("reserves: " + ", ".join(result.reserves))
    ctx.emit(data, "\n".join(lines))
    return 0


def _samples(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.selection import sampling

    ctx.db()
    rows = sampling.list_samples(args.population)
    text = "\n".join(
        f"{r['sample_id']:>5}  population {r['population_id']:<4} {r['period'] or '-':<8} {r['method']:<11} "
        f"{r['cases']:>4} cases {r['reserves_unused']:>3} reserves {r['replaced']:>3} replaced  "
        f"{r['drawn_at']:%Y-%m-%d %H:%M} {r['drawn_by']}"
        + (f"  superseded by {r['superseded_by']}" if r["superseded_by"] else "")
        for r in rows) or "no samples yet"
    ctx.emit(rows, text)
    return 0


def _sample_items(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.selection import sampling

    ctx.db()
    rows = sampling.sample_items(args.sample_id)
    if not rows:
        raise QattError(f"Sample {args.sample_id} has no items; list samples with `samples`.")

    def status(row: sampling.SampleRow) -> str:
        if not row.active:
            return "replaced"
        if row.replaces_ref:
            return f"replaces {row.replaces_ref}: {row.reason}"
        return "reserve" if row.is_reserve else "sampled"

    text = "\n".join(f"{r.position:>5}  {r.reference:<24} {_stratum_label(r.stratum) if r.stratum else '':<30} {status(r)}"
                     for r in rows)
    ctx.emit([r._asdict() for r in rows], text)
    return 0


def _verify(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.selection import sampling

    ctx.db()
    result = sampling.verify_sample(args.sample_id, ctx.actor)
    if result.verified:
        text = f"sample {result.sample_id} verified: re-derived identically from its record and the population"
    else:
        text = f"sample {result.sample_id} NOT verified:\n" + "\n".join(f"  - {d}" for d in result.differences)
    if result.replacements:
        text += "\nreplacements (not differences):\n" + "\n".join(f"  - {r}" for r in result.replacements)
    ctx.emit(asdict(result), text)
    return 0 if result.verified else 1


def _replace(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.selection import sampling

    ctx.db()
    reserve = sampling.replace_item(args.sample_id, args.case_ref, args.reason or "", ctx.actor)
    replaced = reserve.replaces
    same_stratum = reserve.stratum == replaced.stratum
    data = {"sample_id": args.sample_id, "replaced": replaced.case.reference, "replaced_position": replaced.position,
            "reserve": reserve.case.reference, "reserve_position": reserve.position,
            "same_stratum": same_stratum}
    text = f"{data['replaced']} replaced by reserve {data['reserve']} (position {reserve.position})"
    if not same_stratum:
        text += f"; its stratum had no reserve left, so it comes from {_stratum_label(reserve.stratum)}"
    ctx.emit(data, text)
    return 0


def _sample_size(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.selection.sample_size import sample_size

    result = sample_size(args.confidence, args.tolerable, args.expected, args.population)
    text = (f"examine {result.sample_size} cases ({result.method}); the deviation rate is below "
            f"{result.tolerable:.2%} with {result.confidence:.0%} confidence if no more than "
            f"{result.allowed_deviations} deviation(s) are found")
    ctx.emit(asdict(result), text)
    return 0


def register(add_command) -> None:
    p = add_command("sample", "draw a recorded, re-derivable random sample from a population", _sample)
    p.add_argument("population_id", type=int, metavar="POPULATION_ID")
    size = p.add_mutually_exclusive_group(required=True)
    size.add_argument("--size", type=int, help="number of cases (simple or systematic)")
    size.add_argument("--per-stratum", type=int, help="number of cases per stratum (needs --stratify)")
    size.add_argument("--proportional", type=int, metavar="TOTAL", help="total shared over strata by size (needs --stratify)")
    p.add_argument("--min-per-stratum", type=int, default=0, help="with --proportional: at least this many per stratum")
    p.add_argument("--stratify", action="append", metavar="COL[,COL]", help="stratify by these columns (Case fields or extract columns)")
    p.add_argument("--method", choices=("simple", "stratified", "systematic"),
                   help="default: stratified with --per-stratum/--proportional, else simple")
    p.add_argument("--seed", help="a whole number; default: 128 random bits from the operating system")
    p.add_argument("--filter", action="append", metavar="COL=VALUE", help="only cases with this value (repeatable)")
    p.add_argument("--from", dest="date_from", metavar="DATE", help="recorded on or after YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", metavar="DATE", help="recorded on or before YYYY-MM-DD")
    p.add_argument("--exclude-months", type=int, default=0, metavar="M", help="leave out cases sampled in the last M months")
    p.add_argument("--reserves", type=int, default=0, metavar="R", help="reserve cases per stratum, for replacements")
    p.add_argument("--period", metavar="YYYY-MM", help="the month the sample is for")
    p.add_argument("--name", help="a name for the sample")
    p.add_argument("--form", help="the form id its reviews use")
    p.add_argument("--redraw-reason", metavar="TEXT", help="why the period is drawn again (the earlier draw stays on record)")

    p = add_command("samples", "list recorded samples", _samples)
    p.add_argument("--population", type=int, metavar="POPULATION_ID", help="only this population's samples")

    p = add_command("sample-items", "list a sample's cases, reserves and replacements in draw order", _sample_items)
    p.add_argument("sample_id", type=int, metavar="SAMPLE_ID")

    p = add_command("verify-sample", "re-derive a sample and report whether it matches its record", _verify)
    p.add_argument("sample_id", type=int, metavar="SAMPLE_ID")

    p = add_command("replace", "replace a sampled case by the next reserve (a reason is required)", _replace)
    p.add_argument("sample_id", type=int, metavar="SAMPLE_ID")
    p.add_argument("case_ref", metavar="CASE_REF")
    p.add_argument("--reason", required=True, metavar="TEXT", help="why the case is replaced (e.g. wrongly categorised)")

    p = add_command("sample-size", "cases needed for attribute (compliance) testing", _sample_size)
    p.add_argument("--confidence", required=True, help="confidence level, e.g. 95 or 0.95")
    p.add_argument("--tolerable", required=True, help="tolerable deviation rate, e.g. 5 or 0.05")
    p.add_argument("--expected", default="0", help="expected deviation rate (default 0)")
    p.add_argument("--population", type=int, metavar="N", help="population size: exact hypergeometric instead of binomial")
