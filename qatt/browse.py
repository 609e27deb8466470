"""Read-only queries behind the desktop screens: lists of populations and samples, and pages of cases.

Everything returns plain tuples so the GUI can show a million cases without building model
instances, and so these queries are tested without Qt. Sorting and filtering happen in SQL.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, List, Optional, Sequence, Tuple

import peewee

from qatt import case_order
from qatt.intake.extract_dates import MONTH
from qatt.storage import models as m
from qatt.storage.db import database_proxy, is_sqlite

# (field name, column heading) in the order the case browser shows them.
CASE_COLUMNS: Tuple[Tuple[str, str], ...] = (
    ("reference", "Reference"),
    ("area", "Area"),
    ("recorded_date", "Recorded"),
    ("division", "Division"),
    ("team", "Team"),
    ("officer", "Officer"),
    ("supervisor", "Supervisor"),
    ("risk", "Risk"),
    ("status", "Status"),
)

# Fields the case filter box searches. The summary is left out: it is long free text, and
# scanning it on every keystroke over a million rows would make the filter sluggish.
FILTER_FIELDS = tuple(name for name, _ in CASE_COLUMNS if name != "recorded_date")

# Recorded dates may be empty; sorting on a value that is never NULL keeps keyset paging simple.
_EARLIEST = dt.date(1, 1, 1)
# The extract's own columns (kept in Case.extra) are named in sorts as this prefix and their header.
EXTRA = "extra:"


def extra_headers(population_id: Optional[int]) -> List[str]:
    """The extract's own columns (those mapped to no Case field), headers as in the file, in file order."""
    if population_id is None:
        return []
    row = m.Population.select(m.Population.extra_columns).where(m.Population.id == population_id).tuples().first()
    return list(row[0] or []) if row and row[0] else []


def population_columns(population_id: Optional[int]) -> List[Tuple[str, str]]:
    """(sort key, heading) for every column the case browser shows for this population: the Case
    fields, then each of the extract's own columns under its header as in the file."""
    return list(CASE_COLUMNS) + [(EXTRA + header, header) for header in extra_headers(population_id)]


def date_precision(population_id: Optional[int]) -> str:
    """'month' when the population's dates give the month only, else 'day'."""
    if population_id is None:
        return "day"
    row = m.Population.select(m.Population.import_options).where(m.Population.id == population_id).tuples().first()
    options = row[0] if row else None
    return MONTH if isinstance(options, dict) and options.get("date_precision") == MONTH else "day"


def _extra_expression(header: str) -> Any:
    return case_order.key_expression(EXTRA + header)  # the one place that reads a key of Case.extra in SQL


@dataclass(frozen=True)
class CasePage:
    """One page of cases; `next_key` continues after its last row (None when there are no more)."""

    rows: List[Tuple[Any, ...]]
    next_key: Optional[Tuple[Any, str]]  # (sort value, reference) of the page's last row


def _sort_expression(field_name: str) -> Any:
    if field_name == "reference":
        return m.Case.reference
    if field_name.startswith(EXTRA) or field_name in dict(CASE_COLUMNS):
        return case_order.key_expression(field_name)  # the expression the population's sort index holds
    raise ValueError(f"cannot sort cases by {field_name!r}")


def _filtered_cases(population_id: int, filter_text: str) -> peewee.ModelSelect:
    # The id written into the SQL, so the population's sort indexes (partial indexes) can serve the query.
    query = m.Case.select().where(case_order.of_population(population_id))
    words = filter_text.split()
    extras = extra_headers(population_id) if words else []
    # Every word must appear in at least one column, so "north high" narrows as users expect.
    for word in words:
        condition = None
        for name in FILTER_FIELDS:
            # contains() escapes % and _, and is case-insensitive on both SQLite and PostgreSQL.
            clause = getattr(m.Case, name).contains(word)
            condition = clause if condition is None else condition | clause
        if extras:
            # The extract's own columns: the JSON text is searched first (cheap), then each value,
            # so a word found only in a header ("LSOA") does not match every case.
            in_values = None
            for header in extras:
                clause = _extra_expression(header).contains(word)
                in_values = clause if in_values is None else in_values | clause
            condition = condition | (peewee.Cast(m.Case.extra, "TEXT").contains(word) & in_values)
        query = query.where(condition)
    return query


def count_cases(population_id: int, filter_text: str = "") -> int:
    """How many cases of the population match the filter."""
    return _filtered_cases(population_id, filter_text).count()


def population_size(population_id: int) -> int:
    """The number of cases the population was imported with (no count over its cases)."""
    row = m.Population.select(m.Population.row_count).where(m.Population.id == population_id).tuples().first()
    return int(row[0] or 0) if row else 0


def sort_ready(population_id: int, sort_by: str) -> bool:
    """True when pages sorted by this column are read in index order (qatt.case_order); else each
    page sorts every matching case, which takes a noticeable time on a large population."""
    return sort_by == "reference" or case_order.has_index(population_id, (sort_by,))


def prepare_sort(population_id: int, sort_by: str, progress: Any = None, cancel: Any = None) -> bool:
    """Build the population's sort order for this column once (run it in a worker: at a million cases
    it takes a few seconds). False when the database does not let this user build it."""
    if sort_by == "reference":
        return True
    _sort_expression(sort_by)  # refuses unknown columns
    return case_order.ensure_index(population_id, (sort_by,), progress=progress, cancel=cancel)


def case_page(population_id: int, *, sort_by: str = "reference", descending: bool = False,
              filter_text: str = "", after: Optional[Tuple[Any, str]] = None, limit: int = 500) -> CasePage:
    """The next `limit` cases in the given order, starting after the key `after` (keyset paging).

    Keyset paging costs the same at row 900,000 as at row 0, unlike OFFSET. Rows are
    (id, reference, area, recorded_date, division, team, officer, supervisor, risk, status), then
    the value of each of the extract's own columns (population_columns) as text, "" when empty.
    Cases with the same value are ordered by reference (unique in a population), so the key is
    (value, reference). A page after a key is read as the rest of that value's cases (value equal,
    reference after) and then the cases of the next values (value after): each part is a seek in
    the population's sort index on the column (prepare_sort), so a page costs the same at any
    depth. (SQLite does not seek an expression index by a row value, which made the extract's
    columns and the recorded date scan from the start of the index on every page; PostgreSQL does,
    so there the key is compared as a row value.)"""
    sort_key = _sort_expression(sort_by)
    query = _filtered_cases(population_id, filter_text)
    by_reference = sort_by == "reference"
    tie = case_order.reference_order()
    keys = (sort_key,) if by_reference else (sort_key, tie)
    order = tuple(key.desc() for key in keys) if descending else tuple(key.asc() for key in keys)
    shown = population_columns(population_id)
    columns = [m.Case.id] + [getattr(m.Case, name) for name, _ in CASE_COLUMNS]
    columns += [_extra_expression(key[len(EXTRA):]) for key, _ in shown[len(CASE_COLUMNS):]]
    sort_index = 1 + [name for name, _ in shown].index(sort_by)

    def read(part: peewee.ModelSelect, count: int, by: Tuple[Any, ...] = order) -> List[Tuple[Any, ...]]:
        return list(part.select(*columns).order_by(*by).limit(count).tuples())

    def after_value(expression: Any, value: Any) -> Any:
        return (expression < value) if descending else (expression > value)

    if after is None:
        rows = read(query, limit)
    elif by_reference:
        rows = read(query.where(after_value(m.Case.reference, after[0])), limit)
    elif not is_sqlite(database_proxy.obj):
        # PostgreSQL seeks the index by a row value (5-12 ms a page at 300,000 cases; the two-part
        # read below took 115-130 ms there).
        last_value, last_reference = after
        mine, theirs = peewee.Tuple(sort_key, tie), peewee.Tuple(peewee.Value(last_value), peewee.Value(last_reference))
        rows = read(query.where(after_value(mine, theirs)), limit)
    else:
        last_value, last_reference = after
        # Ordered by the reference alone: the value is fixed, and SQLite would otherwise sort the tied rows.
        rows = read(query.where(sort_key == peewee.Value(last_value), after_value(tie, last_reference)), limit,
                    order[1:])
        if len(rows) < limit:
            rows += read(query.where(after_value(sort_key, peewee.Value(last_value))), limit - len(rows))
    if len(rows) < limit or not rows:
        return CasePage(rows, None)
    last = rows[-1]
    last_value = last[sort_index]
    if sort_by == "recorded_date" and last_value is None:
        last_value = _EARLIEST
    return CasePage(rows, (last_value, last[1]))


def population_rows() -> List[Tuple[Any, ...]]:
    """(id, name, cases, imported at, imported by, source file, fingerprint), newest first."""
    p = m.Population
    query = (p.select(p.id, p.name, p.row_count, p.imported_at, p.imported_by, p.source_file, p.fingerprint)
             .where(p.purged == False)  # noqa: E712 - peewee needs ==, not `is`
             .order_by(p.imported_at.desc(), p.id.desc()))
    return list(query.tuples())


def has_populations() -> bool:
    """False on a new, empty database (the desktop then offers the demo population)."""
    return m.Population.select().exists()


def sample_rows(population_id: Optional[int] = None) -> List[Tuple[Any, ...]]:
    """(id, name, population, method, period, cases, seed, drawn at, drawn by), newest first.

    `cases` counts the active, non-reserve items: the cases to review."""
    s, p, item = m.Sample, m.Population, m.SampleItem
    in_review = (item.select(peewee.fn.COUNT(item.id))
                 .where((item.sample == s.id) & (item.is_reserve == False) & (item.active == True)))  # noqa: E712
    query = (s.select(s.id, s.name, p.name, s.method, s.period, in_review, s.seed, s.drawn_at, s.drawn_by)
             .join(p).order_by(s.drawn_at.desc(), s.id.desc()))
    if population_id is not None:
        query = query.where(s.population == population_id)
    return list(query.tuples())


def sample_item_rows(sample_id: int) -> List[Tuple[Any, ...]]:
    """(position, reference, area, stratum, reserve?, active?, replaces reference, replacement reason)."""
    item, case = m.SampleItem, m.Case
    replaced = m.SampleItem.alias("replaced")
    replaced_case = m.Case.alias("replaced_case")
    query = (item.select(item.position, case.reference, case.area, item.stratum, item.is_reserve, item.active,
                         replaced_case.reference, item.replacement_reason)
             .join(case, on=(item.case == case.id))
             .switch(item).join(replaced, peewee.JOIN.LEFT_OUTER, on=(item.replaces == replaced.id))
             .join(replaced_case, peewee.JOIN.LEFT_OUTER, on=(replaced.case == replaced_case.id))
             .where(item.sample == sample_id)
             .order_by(item.position))
    return [tuple(row) for row in query.tuples()]


@dataclass(frozen=True)
class SampleSummary:
    """What the samples screen shows above a sample's cases."""

    sample_id: int
    name: str
    population_id: int
    population_name: str
    method: str
    seed: str
    population_fingerprint: str
    drawn_at: dt.datetime
    drawn_by: str


def sample_summary(sample_id: int) -> SampleSummary:
    sample = m.Sample.select(m.Sample, m.Population).join(m.Population).where(m.Sample.id == sample_id).get()
    return SampleSummary(sample.id, sample.name, sample.population.id, sample.population.name, sample.method,
                         sample.seed, sample.population_fingerprint, sample.drawn_at, sample.drawn_by)


def distinct_values(population_id: int, field_name: str, limit: int = 200) -> List[str]:
    """The different values of one case column or of one of the extract's own columns (by its
    header), for filter pick-lists, most common first."""
    if field_name in FILTER_FIELDS:
        column = getattr(m.Case, field_name)
    elif field_name in extra_headers(population_id):
        column = _extra_expression(field_name)
    else:
        raise ValueError(f"cannot list values of {field_name!r}")
    query = (m.Case.select(column, peewee.fn.COUNT(m.Case.id).alias("n"))
             .where(m.Case.population == population_id)
             .group_by(column).order_by(peewee.fn.COUNT(m.Case.id).desc(), column).limit(limit))
    return [value for value, _ in query.tuples() if value]


def stratum_columns() -> Sequence[str]:
    """Case columns a sample can be stratified by."""
    return FILTER_FIELDS[1:]


def column_choices(population_id: Optional[int]) -> List[Tuple[str, str]]:
    """(name for the core, label for users) of every column a draw may stratify or filter by: the
    Case fields under the extract's header where one is mapped to them (else the field's label),
    then the extract's own columns under their headers."""
    from qatt.intake.mapping import FIELD_LABELS

    mapping: dict = {}
    if population_id is not None:
        row = m.Population.select(m.Population.mapping).where(m.Population.id == population_id).tuples().first()
        mapping = (row[0] if row else None) or {}
    choices = [(name, mapping.get(name) or FIELD_LABELS[name]) for name in stratum_columns()]
    return choices + [(header, header) for header in extra_headers(population_id)]


# --------------------------------------------------------------------------- the review worklist

@dataclass(frozen=True)
class WorkItem:
    """One sampled case as the Review page lists it, with the state of its review in one role."""

    sample_item_id: int
    position: int
    reference: str
    area: str
    officer: str
    reviewer: str  # who holds the review in this role ("" when nobody has started it)
    status: str  # "not started", "draft" or "submitted"
    grade: str
    review_id: Optional[int]


def in_review_set(sample_id: int) -> peewee.Expression:
    """Sample items that need a review: active items of the main draw and replacements (spare reserves wait)."""
    item = m.SampleItem
    return ((item.sample == sample_id) & (item.active == True)  # noqa: E712 - SQL comparison
            & ((item.is_reserve == False) | item.replaces.is_null(False)))  # noqa: E712


def review_worklist(sample_id: int, role: str = "first", viewer: Optional[str] = None) -> List[WorkItem]:
    """The cases of a sample that are to be reviewed (drawn or replacement, not replaced, not spare
    reserves), in draw order, each with the state of its review in `role`. With a `viewer`, the
    grades of reviews they may not see (qatt.trust.visibility) are left blank."""
    item, case, review = m.SampleItem, m.Case, m.Review
    query = (item.select(item.id, item.position, case.reference, case.area, case.officer,
                         review.reviewer, review.status, review.grade, review.id)
             .join(case, on=(item.case == case.id))
             .switch(item).join(review, peewee.JOIN.LEFT_OUTER,
                                on=((review.sample_item == item.id) & (review.role == role)))
             .where(in_review_set(sample_id))
             .order_by(item.position))
    rows = list(query.tuples())
    if viewer is not None:
        from qatt.trust import visibility

        shown = visibility.visible_ids(viewer, [row[-1] for row in rows])
        rows = [row if row[-1] in shown else row[:-2] + ("", row[-1]) for row in rows]
    return [WorkItem(item_id, position, reference, area, officer, reviewer or "", status or "not started",
                     grade or "", review_id)
            for item_id, position, reference, area, officer, reviewer, status, grade, review_id in rows]


def case_details(sample_item_id: int) -> List[Tuple[str, str]]:
    """(heading, value) pairs describing the sampled case, for the reviewer's header."""
    found = (m.Case.select().join(m.SampleItem, on=(m.SampleItem.case == m.Case.id))
             .where(m.SampleItem.id == sample_item_id).first())
    if found is None:
        return []
    from qatt.intake.extract_dates import show_date

    precision = date_precision(found.population_id)
    pairs = [(heading, show_date(found.recorded_date, precision) if name == "recorded_date"
              else str(getattr(found, name) or "")) for name, heading in CASE_COLUMNS]
    pairs.append(("Summary", found.summary or ""))
    pairs.extend((str(key), "" if value is None else str(value)) for key, value in (found.extra or {}).items())
    return [(heading, value) for heading, value in pairs if value]


def sample_of_item(sample_item_id: int) -> Optional[int]:
    """The sample a sampled case belongs to (None if there is no such item)."""
    row = m.SampleItem.select(m.SampleItem.sample).where(m.SampleItem.id == sample_item_id).tuples().first()
    return row[0] if row else None
