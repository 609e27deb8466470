"""Sort orders for large populations: indexes built once, lazily, per population and column.

A stratified draw over a million cases spent most of its time grouping them by an unindexed
column, and the case browser re-sorted the million rows for every page sorted by anything but the
reference. Indexing every column at import would slow the import (each index is maintained for
every row written), so instead the first draw that stratifies by a column, or the first sort by a
column in the case browser (in a worker, with progress), builds an index for that population and
column(s); every later draw, verification and page reads the cases in that order.

Naming rule: ``qatt_case_p<population id>_<digest>``, where the digest is the first 12 hex digits of
SHA-256 over the column list as compact JSON (e.g. ``["officer"]``, ``["extra:Beat"]``). Each is a
partial index ``WHERE population_id = <id>`` on ``(population_id, <key>..., reference)``, so an
import of another population never touches it, and `drop_indexes` removes a population's indexes
(a retention purge does) by their name's prefix.

Columns are named as the case browser names its sort keys: a Case field (``officer``,
``recorded_date``, ...) or ``extra:<header>`` for one of the extract's own columns (Case.extra).
`key_expression` is the SQL the queries use for a column and `_index_sql` the same expression in
the index's DDL: a database uses an expression index only when the query's expression is the same,
so literals are written into the SQL on SQLite (a bound parameter never matches an index there).
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Optional, Sequence, Tuple

import peewee

from qatt.errors import Cancelled
from qatt.progress import CancelToken, ProgressFn, no_progress
from qatt.storage import models as m
from qatt.storage.db import database_proxy, is_sqlite

log = logging.getLogger("qatt.case_order")

EXTRA = "extra:"
PREFIX = "qatt_case_p"
# Missing recorded dates sort first, as the earliest possible date (so keyset paging never meets NULL).
EARLIEST_SQL = "'0001-01-01'"
# Case fields a sort order may be built on (the reference has its own unique index).
CASE_FIELDS = ("area", "recorded_date", "division", "team", "officer", "supervisor", "risk", "status")


def _literal(text: str) -> str:
    """A SQL string literal (standard SQL: quotes doubled; both backends read backslashes as is)."""
    return "'" + text.replace("'", "''") + "'"


def _json_path(header: str) -> str:
    return '$."' + header.replace('"', '\\"') + '"'


def _check(column: str) -> None:
    if column not in CASE_FIELDS and not (column.startswith(EXTRA) and len(column) > len(EXTRA)):
        raise ValueError(f"no sort order can be built on {column!r}")


def extra_value(header: str) -> peewee.Node:
    """SQL for a key of Case.extra (JSON kept as text) as text, NULL when missing, on either backend."""
    if is_sqlite(database_proxy.obj):
        # As text, like PostgreSQL's ->>, so a number kept in the extract compares as it reads.
        return peewee.Cast(peewee.fn.json_extract(m.Case.extra, peewee.SQL(_literal(_json_path(header)))), "TEXT")
    return peewee.NodeList((peewee.Cast(m.Case.extra, "jsonb"), peewee.SQL("->>"), peewee.Value(header)), glue=" ")


def key_expression(column: str) -> peewee.Node:
    """The SQL value a column sorts and groups by: the Case field as stored (the recorded date with
    missing dates as 0001-01-01), or an extract column's text with "" when missing."""
    _check(column)
    if column.startswith(EXTRA):
        return peewee.fn.COALESCE(extra_value(column[len(EXTRA):]), peewee.SQL("''"))
    if column == "recorded_date":
        return peewee.fn.COALESCE(m.Case.recorded_date, peewee.SQL(EARLIEST_SQL))
    return getattr(m.Case, column)


def _index_sql(column: str) -> str:
    if column.startswith(EXTRA):
        header = column[len(EXTRA):]
        if is_sqlite(database_proxy.obj):
            value = f'CAST(json_extract("extra", {_literal(_json_path(header))}) AS TEXT)'
        else:
            value = f'CAST("extra" AS jsonb) ->> {_literal(header)}'
        return f"(COALESCE({value}, ''))"
    if column == "recorded_date":
        return f'(COALESCE("recorded_date", {EARLIEST_SQL}))'
    return f'"{column}"'


def reference_order() -> peewee.Node:
    """The reference as the sort indexes hold it: in code point order (PostgreSQL: the "C" collation)."""
    if is_sqlite(database_proxy.obj):
        return m.Case.reference
    return peewee.NodeList((m.Case.reference, peewee.SQL('COLLATE "C"')))


def index_name(population_id: int, columns: Sequence[str]) -> str:
    digest = hashlib.sha256(json.dumps(list(columns), ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    return f"{PREFIX}{int(population_id)}_{digest.hexdigest()[:12]}"


def of_population(population_id: int) -> peewee.Expression:
    """`population_id = <id>` with the id written into the SQL: a partial index is used only when the
    query's condition names the same constant (a bound parameter is unknown when the plan is made)."""
    return m.Case.population == peewee.SQL(str(int(population_id)))


def _existing(db: peewee.Database) -> list:
    if is_sqlite(db):
        sql = "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'qatt\\_case\\_p%' ESCAPE '\\'"
    else:
        sql = ("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
               "AND indexname LIKE 'qatt\\_case\\_p%%' ESCAPE '\\'")
    return [name for (name,) in db.execute_sql(sql).fetchall()]


def has_index(population_id: int, columns: Sequence[str]) -> bool:
    """True when the sort order for these columns is built (the reference always has one)."""
    columns = tuple(columns)
    if columns == ("reference",):
        return True
    return index_name(population_id, columns) in _existing(database_proxy.obj)


def ensure_index(population_id: int, columns: Sequence[str], progress: Optional[ProgressFn] = None,
                 cancel: Optional[CancelToken] = None) -> bool:
    """Build the population's sort order for these columns unless it exists; True when it exists after.

    False when it cannot be built (on PostgreSQL only the tables' owner may create an index): the
    queries then work as before, only slower. SQLite builds can be cancelled (Cancelled is raised)."""
    columns = tuple(columns)
    if columns == ("reference",):
        return True
    for column in columns:
        _check(column)
    db = database_proxy.obj
    name = index_name(population_id, columns)
    if name in _existing(db):
        return True
    progress = progress or no_progress
    progress(0, 0, "Preparing the sort order (once for this population)")
    keys = ", ".join(_index_sql(column) for column in columns)
    reference = '"reference"' if is_sqlite(db) else '"reference" COLLATE "C"'
    sql = (f'CREATE INDEX IF NOT EXISTS "{name}" ON "{m.Case._meta.table_name}" '
           f"(population_id, {keys}, {reference}) WHERE population_id = {int(population_id)}")
    connection = db.connection()
    interrupted = []
    if is_sqlite(db) and cancel is not None:
        def stop() -> int:
            if cancel.cancelled:
                interrupted.append(True)
                return 1
            return 0
        connection.set_progress_handler(stop, 20_000)
    try:
        with db.atomic():
            # No parameters in DDL: psycopg2 reads % as a placeholder, so a % in a header is doubled.
            db.execute_sql(sql if is_sqlite(db) else sql.replace("%", "%%"))
            if not is_sqlite(db):
                # A table just filled by COPY may have no statistics yet; without them PostgreSQL
                # estimated a handful of rows and sorted half a million for each page (0.5-1 s)
                # instead of reading the new index in order (5-12 ms). ANALYZE reads a sample only.
                db.execute_sql(f'ANALYZE "{m.Case._meta.table_name}"')
    except peewee.DatabaseError as exc:
        if interrupted:
            raise Cancelled() from exc
        if name in _existing(db):
            return True  # built meanwhile by another session (PostgreSQL: a duplicate name)
        log.info("no sort index for population %s (%s): %s", population_id, name, type(exc).__name__)
        return False
    finally:
        if is_sqlite(db) and cancel is not None:
            connection.set_progress_handler(None, 0)
    progress(1, 1, "Sort order ready")
    return True


def drop_indexes(population_id: int) -> int:
    """Drop every sort index of this population (its cases are gone); returns how many."""
    db = database_proxy.obj
    prefix = f"{PREFIX}{int(population_id)}_"
    names = [name for name in _existing(db) if name.startswith(prefix)]
    for name in names:
        db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
    return len(names)


def stratify_columns(stratify: Sequence[str], case_columns: Sequence[str]) -> Tuple[str, ...]:
    """Sampling's column names (Case fields, or extract headers) as sort-order column names."""
    return tuple(column if column in case_columns else EXTRA + column for column in stratify)
