"""Drawing and recording a sample: the request checked, then the draw run and written, with its items
and its audit event, in one transaction.

What is recorded is what an inspector needs to re-derive the draw (docs/sampling.md, "What is
recorded"); the audit event's record digest lets verification notice a record altered afterwards.
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import hashlib
import itertools
import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import peewee

import qatt
from qatt import case_order
from qatt.trust import audit, users
from qatt.dates import iso_date
from qatt.errors import QattError
from qatt.intake.importing import GENERATED_PREFIX
from qatt.progress import CancelToken, ProgressFn, checkpoint, no_progress
from qatt.selection.eligible_set import (
    CASE_COLUMNS, _population_fingerprint, _read_strata, _recently_sampled, _resolve_column, _undated_count, _without)
from qatt.selection.sampling_rule import (
    ALGORITHM, METHODS, DrawSpec, DrawnItem, StratumSummary, derive_draw, eligible_fingerprint)
from qatt.storage import models as m
from qatt.storage.db import database_proxy, is_sqlite, write_transaction

# Who may do what: anyone with moderator rights draws and replaces (every draw is recorded and
# verifiable, so who pressed the button does not weaken it); re-drawing a period is what could be
# used to fish for a friendlier sample, so it needs a QA lead.
DRAW_ROLE = "moderator"
REDRAW_ROLE = "qa_lead"
_INSERT_BATCH = 500


@dataclass
class SampleRequest:
    """What to draw. Exactly one of size / per_stratum / proportional applies, depending on method."""

    population_id: int
    method: str = "simple"
    size: Optional[int] = None
    per_stratum: Optional[int] = None
    proportional: Optional[int] = None
    min_per_stratum: int = 0
    stratify: Sequence[str] = ()
    filters: Dict[str, str] = field(default_factory=dict)
    date_from: Optional[Any] = None  # dt.date or "YYYY-MM-DD"; on Case.recorded_date, inclusive
    date_to: Optional[Any] = None
    exclude_months: int = 0
    reserves: int = 0
    seed: Optional[Any] = None  # decimal integer; None = 128 bits from the operating system's secure source
    period: str = ""  # YYYY-MM
    name: str = ""
    redraw_reason: str = ""
    form_id: str = ""


@dataclass
class DrawResult:
    sample_id: int
    seed: str
    references: List[str]
    reserves: List[str]
    strata: List[StratumSummary]
    eligible_count: int
    excluded_count: int
    supersedes: Optional[int] = None
    undated_count: int = 0  # cases the date range left out because they have no recorded date
    date_precision: str = ""  # "month" when the population's dates give the month only


def _generated_drawn(population: m.Population, items: Sequence[DrawnItem]) -> int:
    """How many drawn cases (reserves included) carry a reference QATT generated at import."""
    if not (population.import_options or {}).get("generated_references"):
        return 0
    return sum(1 for item in items if item.reference.startswith(GENERATED_PREFIX))


def _undated_note(undated: int) -> str:
    if not undated:
        return ""
    return (f" {undated:,} case(s) have no recorded date, and a date range (--from/--to) always leaves such cases "
            "out; draw without a date range to include them.")


def undated_message(result: "DrawResult") -> str:
    """What the draw's date range did to undated cases, in words ('' when it left none out)."""
    if not result.undated_count:
        return ""
    return (f"{result.undated_count:,} case(s) with no recorded date were left out by the date range "
            "(a case without a date is in no date range)")


def _positive(value: Optional[int], option: str) -> int:
    if value is None or isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise QattError(f"{option} must be a whole number of at least 1 (got {value!r}).")
    return value


def _spec_from_request(request: SampleRequest) -> DrawSpec:
    method = request.method
    if method not in METHODS:
        raise QattError(f"Unknown sampling method {method!r}; choose one of {', '.join(METHODS)}.")
    if request.reserves < 0 or request.exclude_months < 0 or request.min_per_stratum < 0:
        raise QattError("Reserves, exclusion months and the minimum per stratum cannot be negative.")
    if request.seed is None or str(request.seed).strip() == "":
        seed = secrets.randbits(128)
    elif re.fullmatch(r"\s*\d+\s*", str(request.seed)):
        seed = int(str(request.seed))
    else:
        raise QattError(f"The seed {request.seed!r} must be a non-negative whole number, e.g. 271828182845904523536.")
    stratify = tuple(col.strip() for col in request.stratify if col.strip())
    if method == "stratified":
        if not stratify:
            raise QattError("A stratified draw needs at least one column to stratify by (--stratify COL).")
        if (request.per_stratum is None) == (request.proportional is None):
            raise QattError("A stratified draw needs exactly one of a number per stratum (--per-stratum) "
                            "or a total shared proportionally (--proportional).")
        if request.per_stratum is not None:
            _positive(request.per_stratum, "The number per stratum")
        else:
            _positive(request.proportional, "The proportional total")
        return DrawSpec(method, seed, per_stratum=request.per_stratum, proportional=request.proportional,
                        min_per_stratum=request.min_per_stratum if request.proportional is not None else 0,
                        stratify=stratify, reserves=request.reserves)
    if stratify or request.per_stratum is not None or request.proportional is not None:
        raise QattError(f"A {method} draw takes a size (--size N); to draw per stratum use the stratified method.")
    return DrawSpec(method, seed, size=_positive(request.size, "The sample size"), reserves=request.reserves)


def _record_digest(sample: Dict[str, Any], items: Sequence[Tuple[int, str, str, bool]]) -> str:
    """SHA-256 of the recorded draw (seed, parameters, fingerprints and items), kept in the audit log
    so that a record altered consistently afterwards (seed and items together) is still noticed."""
    payload = {key: sample[key] for key in (
        "population_id", "method", "params", "filters", "exclude_months", "excluded_references", "seed",
        "population_fingerprint", "eligible_fingerprint", "algorithm")}
    payload["items"] = [list(item) for item in items]
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _without_cycle_collector(function):
    """Run `function` with Python's cyclic garbage collector paused: a draw or verification holds a
    million references in lists, and every full collection walks each element of every list (paired
    runs at a million cases: 0.03-0.14 s of CPU a verification, of 0.7-1.0 s).
    Nothing here makes reference cycles; the collector's previous state is restored after."""
    @functools.wraps(function)
    def paused(*args, **kwargs):
        enabled = gc.isenabled()
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()
    return paused


def _prepare_strata_order(population_id: int, stratify: Sequence[str], progress: ProgressFn,
                          cancel: Optional[CancelToken]) -> None:
    """Build the population's sort index on the stratification columns the first time it is needed
    (qatt.case_order): once built, the draw and its verifications read the strata already grouped
    and sorted. Done before the draw's transaction, so a draw refused later keeps the index."""
    population = m.Population.get_or_none(m.Population.id == population_id)
    if population is None or population.purged:
        return  # the draw says why
    try:
        columns = [_resolve_column(population, col, "--stratify") for col in stratify]
    except QattError:
        return  # the draw says why
    if not case_order.has_index(population_id, case_order.stratify_columns(columns, CASE_COLUMNS)):
        case_order.ensure_index(population_id, case_order.stratify_columns(columns, CASE_COLUMNS),
                                progress=lambda done, total, message: progress(0, 3, message), cancel=cancel)


@_without_cycle_collector
def draw_sample(request: SampleRequest, actor: str, progress: Optional[ProgressFn] = None,
                cancel: Optional[CancelToken] = None) -> DrawResult:
    """Draw and record a sample in one transaction (nothing is written if it fails or is cancelled)."""
    progress = progress or no_progress
    users.require_role(actor, DRAW_ROLE, "draw a sample")
    spec = _spec_from_request(request)
    date_from = iso_date(request.date_from, "--from")
    date_to = iso_date(request.date_to, "--to")
    if date_from and date_to and date_from > date_to:
        raise QattError(f"The date range runs backwards ({date_from} to {date_to}); swap --from and --to.")
    period = (request.period or "").strip()
    if period and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period):
        raise QattError(f"The period {period!r} must be a month written YYYY-MM, e.g. 2024-03.")
    db = database_proxy.obj
    if spec.method == "stratified":
        _prepare_strata_order(request.population_id, spec.stratify, progress, cancel)
    with write_transaction(db):
        population_query = m.Population.select().where(m.Population.id == request.population_id)
        if not is_sqlite(db):
            # Serialises draws of the same population, so the redraw check below cannot race.
            population_query = population_query.for_update()
        population = population_query.get_or_none()
        if population is None:
            raise QattError(f"There is no population {request.population_id}; list them with `populations`.")
        if population.purged:
            raise QattError(f"Population {population.id} has been purged under the retention policy; import a new extract.")
        stratify = tuple(_resolve_column(population, col, "--stratify") for col in spec.stratify)
        spec = dataclasses.replace(spec, stratify=stratify)
        filters = {_resolve_column(population, col, "--filter"): str(value) for col, value in request.filters.items()}
        earlier = _current_sample_for(population.id, period)
        reason = request.redraw_reason.strip()
        if earlier is not None:
            if not reason:
                raise QattError(
                    f"Population {population.id} already has sample {earlier.id} for period {period or '(none)'}, "
                    f"drawn by {earlier.drawn_by} on {earlier.drawn_at:%Y-%m-%d %H:%M}. To draw again give the reason "
                    "(--redraw-reason); the earlier draw stays on record.")
            users.require_role(actor, REDRAW_ROLE, "re-draw a sample")

        progress(0, 3, "Reading the eligible cases")
        checkpoint(cancel)
        now = m.utcnow()
        precision = (population.import_options or {}).get("date_precision") or ""
        strata = _read_strata(population.id, stratify, filters, date_from, date_to, precision)
        undated = _undated_count(population.id, filters) if (date_from or date_to) else 0
        recent = _recently_sampled(request.exclude_months, now)
        excluded = sorted(ref for refs in strata.values() for ref in refs if ref in recent) if recent else []
        strata = _without(strata, excluded)
        if spec.method != "stratified":
            strata = {"": strata.get("", [])}
        eligible_count = sum(len(refs) for refs in strata.values())
        if eligible_count == 0:
            raise QattError(f"No case of population {population.id} is eligible after the filters and exclusions; "
                            "widen the filters or shorten the exclusion window." + _undated_note(undated))

        progress(1, 3, "Drawing")
        checkpoint(cancel)
        items, summaries = derive_draw(spec, strata)
        generated = _generated_drawn(population, items)
        params = spec.params(date_from, date_to, precision)
        if generated:  # said on the record (not used to re-derive): these cases have no reference of their own
            params["generated_references"] = generated
        record = {
            "population_id": population.id, "method": spec.method, "params": params,
            "filters": filters, "exclude_months": request.exclude_months, "excluded_references": excluded,
            "seed": str(spec.seed), "population_fingerprint": population.fingerprint or _population_fingerprint(population.id),
            "eligible_fingerprint": eligible_fingerprint(strata), "algorithm": ALGORITHM,
        }
        progress(2, 3, "Recording the sample")
        checkpoint(cancel)
        sample = m.Sample.create(
            **record, name=request.name, period=period, software_version=qatt.__version__, drawn_at=now,
            drawn_by=actor, supersedes=earlier, redraw_reason=reason if earlier else "", form_id=request.form_id)
        positioned = [(position, item.reference, item.stratum, item.is_reserve)
                      for position, item in enumerate(items, start=1)]
        _insert_items(sample.id, population.id, positioned)
        main_count = sum(1 for item in items if not item.is_reserve)
        audit.record(actor, audit.COLLECTION, "sample", sample.id, {
            "operation": "redraw" if earlier else "draw", "population_id": population.id,
            "supersedes": earlier.id if earlier else None, "method": spec.method, "seed": str(spec.seed),
            "cases": main_count, "reserves": len(items) - main_count, "excluded": len(excluded),
            "eligible": eligible_count, "record_digest": _record_digest(record, positioned),
            "undated_left_out": undated, "generated_references": generated,
        })
    progress(3, 3, "Done")
    return DrawResult(
        sample_id=sample.id, seed=str(spec.seed),
        references=[item.reference for item in items if not item.is_reserve],
        reserves=[item.reference for item in items if item.is_reserve],
        strata=summaries, eligible_count=eligible_count, excluded_count=len(excluded),
        supersedes=earlier.id if earlier else None, undated_count=undated, date_precision=precision)


def _insert_items(sample_id: int, population_id: int, positioned: Sequence[Tuple[int, str, str, bool]]) -> None:
    """The drawn items, each joined by the database to its case through the (population, reference)
    index, so no case id comes to Python (looking them up first took as long as the insert).
    In reference order, so that the look-ups walk the index rather than hop across it (the item ids
    then follow the references; the position is the draw's order). SQLite: one prepared INSERT ...
    SELECT run once an item (executemany, in C); PostgreSQL: multi-row statements, so not one round
    trip an item."""
    db = database_proxy.obj
    positioned = sorted(positioned, key=lambda item: item[1])
    columns = ('INSERT INTO "' + m.SampleItem._meta.table_name + '" (sample_id, case_id, position, stratum, '
               "is_reserve, active, replacement_reason, replaced_by_user) ")
    case_table = f'"{m.Case._meta.table_name}"'
    if is_sqlite(db):
        cursor = db.cursor()
        cursor.executemany(columns + f"SELECT ?, id, ?, ?, ?, 1, '', '' FROM {case_table} "
                           "WHERE population_id = ? AND reference = ?",
                           [(sample_id, position, stratum, reserve, population_id, ref)
                            for position, ref, stratum, reserve in positioned])
        written = cursor.rowcount
    else:
        written = 0
        for start in range(0, len(positioned), _INSERT_BATCH):
            batch = positioned[start:start + _INSERT_BATCH]
            sql = (columns + "SELECT %s, c.id, v.column1, v.column2, v.column3, true, '', '' FROM (VALUES "
                   + ", ".join(["(%s, %s, %s, %s)"] * len(batch))
                   + f") AS v JOIN {case_table} AS c ON c.population_id = %s AND c.reference = v.column4")
            params = [sample_id, *itertools.chain.from_iterable(
                (position, stratum, reserve, ref) for position, ref, stratum, reserve in batch), population_id]
            written += db.execute_sql(sql, params).rowcount
    if written != len(positioned):  # every drawn reference was read from this population in this transaction
        raise RuntimeError(f"{len(positioned) - written} drawn case(s) not found in population {population_id}")


def _current_sample_for(population_id: int, period: str) -> Optional[m.Sample]:
    """The newest sample of this population and period that no later draw supersedes."""
    Superseding = m.Sample.alias()
    return (m.Sample.select()
            .where(m.Sample.population == population_id, m.Sample.period == period,
                   ~peewee.fn.EXISTS(Superseding.select(Superseding.id).where(Superseding.supersedes == m.Sample.id)))
            .order_by(m.Sample.id.desc()).first())
