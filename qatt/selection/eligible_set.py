"""Reading the eligible set from the database: the cases a draw is made over, grouped by stratum, the
references the exclusion window removes, and the population's fingerprint as it is now.

SQL filters, groups and counts; tuples, never one model per case.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any, Dict, Iterable, List, Optional, Sequence

import peewee

from qatt import case_order
from qatt.errors import QattError
from qatt.intake.extract_dates import MONTH, month_start
from qatt.intake.fingerprint import fingerprint_references
from qatt.selection.sampling_rule import stratum_key
from qatt.storage import models as m
from qatt.storage.db import database_proxy, is_sqlite

# Case columns a draw may filter or stratify on; anything else must be a column kept in Case.extra.
CASE_COLUMNS = ("area", "division", "team", "officer", "supervisor", "risk", "status")


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


def _undated_count(population_id: int, filters: Dict[str, str]) -> int:
    """Cases that pass the filters but have no recorded date, so that any date range leaves them out."""
    query = m.Case.select(peewee.fn.COUNT(m.Case.id)).where(m.Case.population == population_id,
                                                             m.Case.recorded_date.is_null())
    return _filtered(query, filters).scalar() or 0


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
