"""Defensible random samples: simple, stratified and systematic draws, reserves, replacement, verification.

Every draw is recorded with what an inspector needs to re-derive it independently: the seed, the
method and its parameters, the filters, the references the exclusion window removed, fingerprints
of the population and of the eligible set, and the algorithm version. The algorithm itself
("qatt-sampling/1") is specified in docs/sampling.md; `derive_draw` is its reference implementation
and is pure (no database), so `verify_sample` re-runs exactly what `draw_sample` ran.
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import hashlib
import itertools
import json
import math
import random
import re
import secrets
import dataclasses
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

import peewee

import qatt
from qatt import case_order
from qatt.trust import audit, users
from qatt.dates import iso_date
from qatt.intake.extract_dates import MONTH, month_start
from qatt.errors import QattError
from qatt.intake.fingerprint import canonical_reference, fingerprint_references
from qatt.intake.importing import GENERATED_PREFIX
from qatt.progress import CancelToken, ProgressFn, checkpoint, no_progress
from qatt.storage import models as m
from qatt.storage.db import database_proxy, is_sqlite, write_transaction

ALGORITHM = "qatt-sampling/1"
METHODS = ("simple", "stratified", "systematic")
# What users read for each method (the desktop, messages); the id stays in the database and on the CLI.
METHOD_LABELS = {"simple": "simple random", "stratified": "stratified random", "systematic": "systematic"}
# Case columns a draw may filter or stratify on; anything else must be a column kept in Case.extra.
CASE_COLUMNS = ("area", "division", "team", "officer", "supervisor", "risk", "status")
# Who may do what: anyone with moderator rights draws and replaces (every draw is recorded and
# verifiable, so who pressed the button does not weaken it); re-drawing a period is what could be
# used to fish for a friendlier sample, so it needs a QA lead.
DRAW_ROLE = "moderator"
REDRAW_ROLE = "qa_lead"
# How many items of one kind a verification report lists before summarising the rest.
REPORT_LIMIT = 20
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
class StratumSummary:
    key: str  # "" for an unstratified draw; otherwise a JSON array of the stratum's values
    eligible: int
    drawn: int
    reserves: int
    short: bool  # the stratum had fewer eligible cases than asked for, so all of them were taken


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


@dataclass
class Verification:
    sample_id: int
    verified: bool
    differences: List[str]
    population_fingerprint_ok: bool
    replacements: List[str]


class SampleRow(NamedTuple):
    """One recorded item, for listings."""

    position: int
    reference: str
    stratum: str
    is_reserve: bool
    active: bool
    replaces_ref: str
    reason: str


class DrawnItem(NamedTuple):
    reference: str
    stratum: str
    is_reserve: bool


@dataclass(frozen=True)
class DrawSpec:
    """Everything the algorithm needs, as recorded on a Sample: built from a request or from the record."""

    method: str
    seed: int
    size: Optional[int] = None
    per_stratum: Optional[int] = None
    proportional: Optional[int] = None
    min_per_stratum: int = 0
    stratify: Tuple[str, ...] = ()
    reserves: int = 0

    def params(self, date_from: Optional[dt.date], date_to: Optional[dt.date], date_precision: str = "") -> Dict[str, Any]:
        params = {
            "size": self.size, "per_stratum": self.per_stratum, "proportional": self.proportional,
            "min_per_stratum": self.min_per_stratum, "stratify": list(self.stratify),
            "reserves": self.reserves,
            "date_from": date_from.isoformat() if date_from else None,
            "date_to": date_to.isoformat() if date_to else None,
        }
        if date_precision == MONTH:  # recorded only then, so every earlier sample's parameters read as before
            params["date_precision"] = MONTH
        return params


# --------------------------------------------------------------------------------------------
# The algorithm (pure): qatt-sampling/1. Keep in step with docs/sampling.md.
# --------------------------------------------------------------------------------------------

def stratum_key(values: Iterable[Any]) -> str:
    """A stratum's key: its values as strings, as a compact JSON array (missing values are "")."""
    return json.dumps(["" if v is None else str(v) for v in values], ensure_ascii=False, separators=(",", ":"))


def stratum_seed(seed: int, key: str) -> int:
    """The sub-seed for one stratum: SHA-256 of "<seed>:<key>" read as a big-endian integer."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{key}".encode("utf-8")).digest(), "big")


def eligible_fingerprint(strata: Dict[str, List[str]]) -> str:
    """SHA-256 over the eligible set with each case's stratum, in canonical order.

    For each stratum in key order: "S<key>\\n", then "R<reference>\\n" for each of its references
    in order. Changing a case's stratum, adding or removing an eligible case changes it."""
    digest = hashlib.sha256()
    for key in sorted(strata):
        refs = strata[key]
        digest.update(f"S{key}\n".encode("utf-8"))
        if refs:
            digest.update(("R" + "\nR".join(refs) + "\n").encode("utf-8"))
    return digest.hexdigest()


def allocate_proportional(sizes: Dict[str, int], total: int, minimum: int) -> Dict[str, int]:
    """Share `total` over strata in proportion to their sizes, each getting at least `minimum`.

    Strata whose exact share falls below their minimum (capped at their size) get the minimum and
    leave the allocation, which is repeated over the rest; the rest get the integer part of their
    exact share, and the units still missing go one each to the largest fractional remainders
    (ties: larger stratum first, then key order). Asking for at least every eligible case takes them all."""
    eligible = sum(sizes.values())
    if total >= eligible:
        return dict(sizes)
    floors = {key: min(minimum, n) for key, n in sizes.items()}
    if sum(floors.values()) > total:
        raise QattError(
            f"A minimum of {minimum} per stratum over {len(sizes)} strata needs {sum(floors.values())} cases, "
            f"more than the total of {total}; raise the total or lower --min-per-stratum.")
    allocation: Dict[str, int] = {}
    free = sorted(sizes)
    remaining = total
    while free:
        pool = sum(sizes[key] for key in free)
        below = [key for key in free if Fraction(remaining * sizes[key], pool) < floors[key]]
        if not below:
            break
        for key in below:
            allocation[key] = floors[key]
            remaining -= floors[key]
        free = [key for key in free if key not in allocation]
    if free:
        pool = sum(sizes[key] for key in free)
        shares = {key: Fraction(remaining * sizes[key], pool) for key in free}
        for key in free:
            allocation[key] = math.floor(shares[key])
        missing = remaining - sum(allocation[key] for key in free)
        by_remainder = sorted(free, key=lambda k: (-(shares[k] - math.floor(shares[k])), -sizes[k], k.encode("utf-8")))
        for key in by_remainder[:missing]:
            allocation[key] += 1
    return allocation


def derive_draw(spec: DrawSpec, strata: Dict[str, List[str]]) -> Tuple[List[DrawnItem], List[StratumSummary]]:
    """Re-derivable draw over `strata` (key -> references sorted by code point, i.e. by UTF-8 bytes).

    Returns the items in position order (main draw, then reserves) and a summary per stratum."""
    if spec.method == "stratified":
        sizes = {key: len(refs) for key, refs in strata.items()}
        if spec.per_stratum is not None:
            wanted = {key: spec.per_stratum for key in strata}
        else:
            wanted = allocate_proportional(sizes, spec.proportional or 0, spec.min_per_stratum)
        main: List[DrawnItem] = []
        spare: List[DrawnItem] = []
        summaries = []
        for key in sorted(strata, key=lambda k: k.encode("utf-8")):
            refs = strata[key]
            take = min(wanted[key], len(refs))
            drawn = random.Random(stratum_seed(spec.seed, key)).sample(refs, min(take + spec.reserves, len(refs)))
            main.extend(DrawnItem(ref, key, False) for ref in drawn[:take])
            spare.extend(DrawnItem(ref, key, True) for ref in drawn[take:])
            asked = spec.per_stratum if spec.per_stratum is not None else max(spec.min_per_stratum, wanted[key])
            short = len(refs) < asked or (spec.proportional is not None and spec.proportional > sum(sizes.values()))
            summaries.append(StratumSummary(key, len(refs), take, len(drawn) - take, short))
        return main + spare, summaries

    refs = strata.get("", [])
    size = spec.size or 0
    take = min(size, len(refs))
    rng = random.Random(spec.seed)
    if spec.method == "simple":
        drawn = rng.sample(refs, min(take + spec.reserves, len(refs)))
        chosen, reserves = drawn[:take], drawn[take:]
    else:  # systematic: random start in [0, k), then every k-th case in canonical order
        interval = systematic_interval(len(refs), size)
        start = rng.randrange(interval) if take else 0
        chosen = [refs[start + i * interval] for i in range(take)]
        picked = set(chosen)
        rest = [ref for ref in refs if ref not in picked]
        reserves = rng.sample(rest, min(spec.reserves, len(rest)))
    items = [DrawnItem(ref, "", False) for ref in chosen] + [DrawnItem(ref, "", True) for ref in reserves]
    return items, [StratumSummary("", len(refs), take, len(reserves), len(refs) < size)]


def systematic_interval(eligible: int, size: int) -> int:
    """k = floor(N / n) (1 when fewer cases than asked are eligible, so all are taken)."""
    return eligible // size if 0 < size <= eligible else 1


# --------------------------------------------------------------------------------------------
# Reading the eligible set (SQL filters; tuples, never one model per case)
# --------------------------------------------------------------------------------------------

def _column_expr(column: str) -> peewee.Node:
    """SQL for a Case column or a key of Case.extra (JSON kept as text), the same on both backends."""
    if column in CASE_COLUMNS:
        return getattr(m.Case, column)
    return case_order.extra_value(column)


def _stratum_expr(column: str) -> peewee.Node:
    """What a draw groups by: the same SQL as the population's sort index on that column, if built."""
    return case_order.key_expression(column if column in CASE_COLUMNS else case_order.EXTRA + column)


def _resolve_column(population: m.Population, column: str, option: str) -> str:
    """The canonical name of a column given by the user: a Case field, an extra column, or an
    extract header that the population's mapping sends to a Case field."""
    name = column.strip()
    if name in CASE_COLUMNS:
        return name
    extra = list(population.extra_columns or [])
    if name in extra:
        return name
    for field_name, header in (population.mapping or {}).items():
        if header == name and field_name in CASE_COLUMNS:
            return field_name
    choices = ", ".join(CASE_COLUMNS) + (f"; or the extract's own columns: {', '.join(extra)}" if extra else "")
    raise QattError(f"Unknown column {column!r} in {option} for population {population.id}; choose one of {choices}.")


def _references_array(db: peewee.Database) -> peewee.Node:
    """The references of a group as one JSON array: the database builds the lists, so Python makes
    no object per row (reading a million (reference, stratum) rows and grouping them took 2-3x longer).
    JSON keeps any reference intact, whatever characters it holds."""
    return peewee.fn.json_group_array(m.Case.reference) if is_sqlite(db) else peewee.fn.json_agg(m.Case.reference)


def _as_list(array: Any) -> List[str]:
    """SQLite returns the array as JSON text, psycopg2 as a decoded list (json_agg of no rows is NULL)."""
    if array is None:
        return []
    return json.loads(array) if isinstance(array, str) else array


def _filtered(query: peewee.ModelSelect, filters: Dict[str, str]) -> peewee.ModelSelect:
    for col, value in sorted(filters.items()):
        query = query.where(peewee.fn.COALESCE(_column_expr(col), "") == str(value))
    return query


def _read_strata(population_id: int, stratify: Sequence[str], filters: Dict[str, str],
                 date_from: Optional[dt.date], date_to: Optional[dt.date], date_precision: str = "") -> Dict[str, List[str]]:
    """The eligible cases grouped by stratum, references sorted by code point (= UTF-8 bytes).

    SQL filters and groups, returning one row per stratum with its references as a JSON array;
    the sort is Python's (a database's collation may not be code point order). References are
    compared as stored, which the importer keeps in canonical form (stripped, see qatt.intake.fingerprint).

    With month precision a case (stored on the first of its month) spans its whole month, so it is
    in a date range that overlaps that month: the range starts, for it, on the first of its month."""
    db = database_proxy.obj
    values = [_stratum_expr(col) for col in stratify]
    # The population's id written into the SQL, so that its sort index on the stratification columns
    # (qatt.case_order) serves the grouping: the rows then come grouped and ordered, with no sort.
    query = _filtered(m.Case.select(*values, _references_array(db)).where(case_order.of_population(population_id)),
                      filters)
    if date_from:
        query = query.where(m.Case.recorded_date >= (month_start(date_from) if date_precision == MONTH else date_from))
    if date_to:
        query = query.where(m.Case.recorded_date <= date_to)
    if stratify:
        # By position: the same expression written twice would bind its parameters twice.
        query = query.group_by(*[peewee.SQL(str(n)) for n in range(1, len(values) + 1)])
    strata: Dict[str, List[str]] = {}
    for row in db.execute_sql(*query.sql()).fetchall():
        refs = _as_list(row[-1])
        if refs:
            refs.sort()
            strata[stratum_key(row[:-1]) if stratify else ""] = refs
    return strata


def _generated_drawn(population: m.Population, items: Sequence[DrawnItem]) -> int:
    """How many drawn cases (reserves included) carry a reference QATT generated at import."""
    if not (population.import_options or {}).get("generated_references"):
        return 0
    return sum(1 for item in items if item.reference.startswith(GENERATED_PREFIX))


def _undated_count(population_id: int, filters: Dict[str, str]) -> int:
    """Cases that pass the filters but have no recorded date, so that any date range leaves them out."""
    query = m.Case.select(peewee.fn.COUNT(m.Case.id)).where(m.Case.population == population_id,
                                                             m.Case.recorded_date.is_null())
    return _filtered(query, filters).scalar() or 0


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


def _without(strata: Dict[str, List[str]], excluded: Iterable[str]) -> Dict[str, List[str]]:
    """The strata less the excluded references (strata left empty disappear)."""
    excluded = set(excluded)
    if not excluded:
        return strata
    kept = {key: [ref for ref in refs if ref not in excluded] for key, refs in strata.items()}
    return {key: refs for key, refs in kept.items() if refs}


def _population_fingerprint(population_id: int) -> str:
    """The population's fingerprint recomputed from its cases as they are now."""
    db = database_proxy.obj
    query = m.Case.select(_references_array(db)).where(m.Case.population == population_id)
    return fingerprint_references(_as_list(db.execute_sql(*query.sql()).fetchone()[0]))


def _indexed_population_fingerprint(population_id: int) -> str:
    """SHA-256 of the population's references as stored, in the order of the unique (population,
    reference) index, each followed by a newline: joined, and on PostgreSQL hashed, by the database,
    with no Python object per case.

    That order is code point order wherever the index collates so (SQLite; PostgreSQL with the "C"
    or "C.UTF-8" collation) and the references are stored canonical, as the importer keeps them:
    then these are the bytes the documented rule hashes. Verification trusts only a match with the
    recorded fingerprint (equal SHA-256 means equal bytes, so the canonical list is the one
    recorded); anything else is recomputed by the rule in Python before it counts as a change.
    SQLite is told the index, or it would read a population's sort index (qatt.case_order) instead."""
    db = database_proxy.obj
    table = f'"{m.Case._meta.table_name}"'
    # A literal line feed inside the quotes: char(10) would be evaluated once a row.
    if is_sqlite(db):
        (unique,) = [index.name for index in db.get_indexes(m.Case._meta.table_name)
                     if index.unique and index.columns == ["population_id", "reference"]]
        text = db.execute_sql(f"SELECT group_concat(reference, '\n') FROM {table} INDEXED BY \"{unique}\" "
                              "WHERE population_id = ?", (population_id,)).fetchone()[0]
        return hashlib.sha256((text + "\n").encode("utf-8") if text is not None else b"").hexdigest()
    sql = (f"SELECT encode(sha256(convert_to(string_agg(reference || '\n', ''), 'UTF8')), 'hex'), count(*) "
           f"FROM (SELECT reference FROM {table} WHERE population_id = %s ORDER BY reference) AS ordered")
    digest, count = db.execute_sql(sql, (population_id,)).fetchone()
    return digest if count else hashlib.sha256(b"").hexdigest()


def _recently_sampled(months: int, now: dt.datetime) -> set:
    """References (from any population) sampled since `months` calendar months before `now`.

    Counts cases in use in a sample that has not been superseded: main-draw items still active and
    reserves brought in as replacements."""
    if months <= 0:
        return set()
    month_index = now.year * 12 + now.month - 1 - months
    year, month = divmod(month_index, 12)
    last_day = [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28, 31, 30, 31, 30,
                31, 31, 30, 31, 30, 31][month]
    cutoff = now.replace(year=year, month=month + 1, day=min(now.day, last_day))
    Superseding = m.Sample.alias()
    query = (m.SampleItem.select(m.Case.reference).distinct()
             .join(m.Case, on=(m.SampleItem.case == m.Case.id))
             .switch(m.SampleItem).join(m.Sample, on=(m.SampleItem.sample == m.Sample.id))
             .where(m.Sample.drawn_at >= cutoff, m.SampleItem.active == True,  # noqa: E712 (SQL)
                    (m.SampleItem.is_reserve == False) | m.SampleItem.replaces.is_null(False),  # noqa: E712
                    ~peewee.fn.EXISTS(Superseding.select(Superseding.id).where(Superseding.supersedes == m.Sample.id))))
    return {row[0] for row in database_proxy.obj.execute_sql(*query.sql()).fetchall()}


# --------------------------------------------------------------------------------------------
# Drawing
# --------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------
# Replacement
# --------------------------------------------------------------------------------------------

def replace_item(sample_id: int, case_reference: str, reason: str, actor: str) -> m.SampleItem:
    """Replace a sampled case by the next unused reserve of its stratum (else of any stratum).

    The replaced item stays on record, inactive; the reserve records what it replaces, why, when and
    by whom. Returns the reserve brought in (compare its stratum with the replaced one's to tell
    whether it came from another stratum)."""
    users.require_role(actor, DRAW_ROLE, "replace a sampled case")
    if not (reason or "").strip():
        raise QattError("Give the reason for replacing the case (e.g. 'wrongly categorised as domestic abuse').")
    reference = canonical_reference(case_reference)
    db = database_proxy.obj
    with write_transaction(db):
        sample_query = m.Sample.select().where(m.Sample.id == sample_id)
        if not is_sqlite(db):
            sample_query = sample_query.for_update()  # two replacements must not take the same reserve
        if sample_query.get_or_none() is None:
            raise QattError(f"There is no sample {sample_id}; list them with `samples`.")
        in_use = (m.SampleItem.is_reserve == False) | m.SampleItem.replaces.is_null(False)  # noqa: E712
        item = (m.SampleItem.select().join(m.Case)
                .where(m.SampleItem.sample == sample_id, m.Case.reference == reference,
                       m.SampleItem.active == True, in_use).first())  # noqa: E712
        if item is None:
            raise QattError(f"Case {reference} is not an active case of sample {sample_id} "
                            "(it may already have been replaced, or be an unused reserve).")
        unused = (m.SampleItem.select()
                  .where(m.SampleItem.sample == sample_id, m.SampleItem.is_reserve == True,  # noqa: E712
                         m.SampleItem.active == True, m.SampleItem.replaces.is_null(True))  # noqa: E712
                  .order_by(m.SampleItem.position))
        reserve = unused.where(m.SampleItem.stratum == item.stratum).first() or unused.first()
        if reserve is None:
            raise QattError(f"Sample {sample_id} has no unused reserve left; draw a new sample with more "
                            "reserves (--reserves) and a redraw reason.")
        item.active = False
        item.save()
        reserve.replaces = item
        reserve.replacement_reason = reason.strip()
        reserve.replaced_at = m.utcnow()
        reserve.replaced_by_user = actor
        reserve.save()
        audit.record(actor, audit.ALTERATION, "sample_item", reserve.id, {
            "operation": "replace", "sample_id": sample_id, "replaced_item_id": item.id,
            "replaced_position": item.position, "reserve_position": reserve.position,
            "same_stratum": reserve.stratum == item.stratum,
        })
    return reserve


# --------------------------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------------------------

def _spec_from_sample(sample: m.Sample) -> DrawSpec:
    params = sample.params or {}
    return DrawSpec(method=sample.method, seed=int(sample.seed), size=params.get("size"),
                    per_stratum=params.get("per_stratum"), proportional=params.get("proportional"),
                    min_per_stratum=params.get("min_per_stratum") or 0, stratify=tuple(params.get("stratify") or ()),
                    reserves=params.get("reserves") or 0)


def _limited(lines: List[str]) -> List[str]:
    if len(lines) <= REPORT_LIMIT:
        return lines
    return lines[:REPORT_LIMIT] + [f"... and {len(lines) - REPORT_LIMIT} more like these"]


def _recorded_items(sample_id: int) -> List[Tuple[int, str, str, bool]]:
    query = (m.SampleItem.select(m.SampleItem.position, m.Case.reference, m.SampleItem.stratum, m.SampleItem.is_reserve)
             .join(m.Case, on=(m.SampleItem.case == m.Case.id))
             .where(m.SampleItem.sample == sample_id).order_by(m.SampleItem.position))
    return [(pos, ref, stratum, bool(reserve))
            for pos, ref, stratum, reserve in database_proxy.obj.execute_sql(*query.sql()).fetchall()]


def _compare_items(expected: List[Tuple[int, str, str, bool]], recorded: List[Tuple[int, str, str, bool]]) -> List[str]:
    differences: List[str] = []
    expected_at = {ref: (pos, stratum, reserve) for pos, ref, stratum, reserve in expected}
    recorded_at = {ref: (pos, stratum, reserve) for pos, ref, stratum, reserve in recorded}
    missing = [f"missing from the record: {ref} (re-derived at position {expected_at[ref][0]})"
               for _, ref, _, _ in expected if ref not in recorded_at]
    extra = [f"recorded but not in the re-derived draw: {ref} (position {recorded_at[ref][0]})"
             for _, ref, _, _ in recorded if ref not in expected_at]
    moved, relabelled = [], []
    for ref, (pos, stratum, reserve) in recorded_at.items():
        if ref not in expected_at:
            continue
        want_pos, want_stratum, want_reserve = expected_at[ref]
        if pos != want_pos:
            moved.append(f"reordered: {ref} is recorded at position {pos}, re-derived at {want_pos}")
        if stratum != want_stratum or reserve != want_reserve:
            relabelled.append(f"{ref} is recorded as {'reserve' if reserve else 'sampled'} in stratum {stratum or '-'}, "
                              f"re-derived as {'reserve' if want_reserve else 'sampled'} in stratum {want_stratum or '-'}")
    for group in (missing, extra, sorted(moved), sorted(relabelled)):
        differences.extend(_limited(group))
    return differences


def _draw_event(sample_id: int) -> Optional[m.AuditEvent]:
    return (m.AuditEvent.select()
            .where(m.AuditEvent.object_type == "sample", m.AuditEvent.object_id == str(sample_id),
                   m.AuditEvent.action == audit.COLLECTION)
            .order_by(m.AuditEvent.id).first())


def _replacements(sample_id: int) -> List[str]:
    Replaced = m.SampleItem.alias()
    ReplacedCase = m.Case.alias()
    query = (m.SampleItem.select(m.SampleItem.position, m.Case.reference, Replaced.position, ReplacedCase.reference,
                                 m.SampleItem.replaced_at, m.SampleItem.replaced_by_user, m.SampleItem.replacement_reason)
             .join(m.Case, on=(m.SampleItem.case == m.Case.id))
             .switch(m.SampleItem).join(Replaced, on=(m.SampleItem.replaces == Replaced.id))
             .join(ReplacedCase, on=(Replaced.case == ReplacedCase.id))
             .where(m.SampleItem.sample == sample_id, m.SampleItem.replaces.is_null(False))
             .order_by(m.SampleItem.replaced_at, m.SampleItem.position))
    return [f"{old_ref} (position {old_pos}) replaced by reserve {ref} (position {pos}) on "
            f"{m.SampleItem.replaced_at.python_value(at):%Y-%m-%d} by {who}: {why}"
            for pos, ref, old_pos, old_ref, at, who, why in database_proxy.obj.execute_sql(*query.sql()).fetchall()]


@_without_cycle_collector
def verify_sample(sample_id: int, actor: Optional[str] = None) -> Verification:
    """Re-derive the sample from its record and the population as it is now, and compare.

    Only the original draw (main and reserves) is re-derived; replacements are listed, not counted
    as differences."""
    sample = m.Sample.get_or_none(m.Sample.id == sample_id)
    if sample is None:
        raise QattError(f"There is no sample {sample_id}; list them with `samples`.")
    differences: List[str] = []
    if sample.algorithm != ALGORITHM:
        raise QattError(f"Sample {sample_id} was drawn with {sample.algorithm!r}; this version of QATT verifies "
                        f"{ALGORITHM} only. Verify it with the QATT version that drew it ({sample.software_version}).")
    if not re.fullmatch(r"\d+", sample.seed or ""):
        differences.append(f"the recorded seed {sample.seed!r} is not a whole number, so nothing can be re-derived")
        spec = None
    else:
        spec = _spec_from_sample(sample)
    params = sample.params or {}
    filters = sample.filters or {}
    excluded = list(sample.excluded_references or [])
    stratify = spec.stratify if spec else ()
    everything = _read_strata(sample.population_id, stratify, filters, iso_date(params.get("date_from"), "date_from"),
                              iso_date(params.get("date_to"), "date_to"), params.get("date_precision") or "")
    population_now = _indexed_population_fingerprint(sample.population_id)
    if population_now != sample.population_fingerprint:
        # Not the recorded one: recomputed by the rule itself before a difference is reported.
        # Without filters every case of the population was just read: no need to read them again.
        unfiltered = not filters and not params.get("date_from") and not params.get("date_to")
        population_now = (fingerprint_references(itertools.chain.from_iterable(everything.values())) if unfiltered
                          else _population_fingerprint(sample.population_id))
    strata = _without(everything, excluded)
    if sample.method != "stratified":
        strata = {"": strata.get("", [])}
    population_ok = population_now == sample.population_fingerprint
    if not population_ok:
        differences.append("the population has changed since the draw (cases added, removed or re-referenced): "
                           f"fingerprint now {population_now[:16]}..., recorded {sample.population_fingerprint[:16]}...")
    if eligible_fingerprint(strata) != sample.eligible_fingerprint:
        differences.append("the eligible set has changed since the draw (a case was added, removed or edited in "
                           "a filter or stratification column)")
    recorded = _recorded_items(sample.id)
    if spec is not None:
        items, _ = derive_draw(spec, strata)
        expected = [(pos, item.reference, item.stratum, item.is_reserve) for pos, item in enumerate(items, start=1)]
        differences.extend(_compare_items(expected, recorded))
    event = _draw_event(sample.id)
    stored = {"population_id": sample.population_id, "method": sample.method, "params": params, "filters": filters,
              "exclude_months": sample.exclude_months, "excluded_references": excluded, "seed": sample.seed,
              "population_fingerprint": sample.population_fingerprint,
              "eligible_fingerprint": sample.eligible_fingerprint, "algorithm": sample.algorithm}
    if event is None:
        differences.append(f"the audit log holds no draw event for sample {sample.id}")
    elif (event.details or {}).get("record_digest") != _record_digest(stored, recorded):
        differences.append(f"the sample record (seed, parameters or items) no longer matches what audit event "
                           f"{event.id} recorded at the draw: it was altered afterwards")
    result = Verification(sample.id, not differences, differences, population_ok, _replacements(sample.id))
    audit.record(actor or users.current_username(), audit.CONSULTATION, "sample", sample.id,
                 {"operation": "verify", "verified": result.verified, "differences": len(differences)})
    return result


# --------------------------------------------------------------------------------------------
# Listings
# --------------------------------------------------------------------------------------------

def sample_items(sample_id: int) -> List[SampleRow]:
    """Every recorded item of a sample in position order, replaced and reserve items included."""
    Replaced = m.SampleItem.alias()
    ReplacedCase = m.Case.alias()
    query = (m.SampleItem.select(m.SampleItem.position, m.Case.reference, m.SampleItem.stratum, m.SampleItem.is_reserve,
                                 m.SampleItem.active, ReplacedCase.reference, m.SampleItem.replacement_reason)
             .join(m.Case, on=(m.SampleItem.case == m.Case.id))
             .switch(m.SampleItem).join(Replaced, peewee.JOIN.LEFT_OUTER, on=(m.SampleItem.replaces == Replaced.id))
             .join(ReplacedCase, peewee.JOIN.LEFT_OUTER, on=(Replaced.case == ReplacedCase.id))
             .where(m.SampleItem.sample == sample_id).order_by(m.SampleItem.position))
    return [SampleRow(pos, ref, stratum, bool(reserve), bool(active), old_ref or "", reason or "")
            for pos, ref, stratum, reserve, active, old_ref, reason in database_proxy.obj.execute_sql(*query.sql()).fetchall()]


def list_samples(population_id: Optional[int] = None) -> List[Dict[str, Any]]:
    """The recorded samples, newest first, with their counts and what supersedes what."""
    counts = {}
    count_query = (m.SampleItem.select(m.SampleItem.sample, m.SampleItem.is_reserve, m.SampleItem.active,
                                       m.SampleItem.replaces.is_null(False), peewee.fn.COUNT(m.SampleItem.id))
                   .group_by(m.SampleItem.sample, m.SampleItem.is_reserve, m.SampleItem.active,
                             m.SampleItem.replaces.is_null(False)))
    for sample_id, reserve, active, brought_in, n in database_proxy.obj.execute_sql(*count_query.sql()).fetchall():
        c = counts.setdefault(sample_id, {"cases": 0, "reserves_unused": 0, "replaced": 0})
        if not active:
            c["replaced"] += n
        elif reserve and not brought_in:
            c["reserves_unused"] += n
        else:
            c["cases"] += n
    query = m.Sample.select().order_by(m.Sample.id.desc())
    if population_id is not None:
        query = query.where(m.Sample.population == population_id)
    superseded_by = {s.supersedes_id: s.id for s in m.Sample.select(m.Sample.id, m.Sample.supersedes)
                     if s.supersedes_id is not None}
    return [{
        "sample_id": s.id, "population_id": s.population_id, "name": s.name, "period": s.period,
        "method": s.method, "seed": s.seed, "drawn_at": s.drawn_at, "drawn_by": s.drawn_by,
        **counts.get(s.id, {"cases": 0, "reserves_unused": 0, "replaced": 0}),
        "supersedes": s.supersedes_id, "superseded_by": superseded_by.get(s.id), "form_id": s.form_id,
    } for s in query]
