"""A population's fingerprint from its cases as stored, streamed from the database in reference
order (the same bytes as qatt.intake.fingerprint's documented rule), and the population that
already has a fingerprint.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator, Optional

from qatt.intake.fingerprint import OrderedFingerprint, fingerprint_references
from qatt.storage import models as m
from qatt.storage.db import is_sqlite


def _same_cases(fingerprint: str, other_than: int = 0) -> Optional[m.Population]:
    """The first population (not purged) whose cases have exactly this fingerprint."""
    return (m.Population.select()
            .where(m.Population.fingerprint == fingerprint, m.Population.purged == False,  # noqa: E712
                   m.Population.id != other_than)
            .order_by(m.Population.id).first())


# References hashed per query: ~1.5 MB of text, so the fingerprint holds no more whatever the size.
FINGERPRINT_CHUNK = 100_000


def _stored_fingerprint(db: Any, population_id: int, cases: int) -> str:
    """The fingerprint of a population as stored (`cases` rows), streamed from the database in
    reference order through the unique (population, reference) index, a chunk of references
    joined by the database at a time. qatt.intake.fingerprint.OrderedFingerprint checks each chunk and the
    count is checked at the end, so a collation that orders otherwise (or a reference holding a
    newline, which would split in two) falls back to one reference a row in code point order, and
    as a last resort to sorting them all in Python: the bytes hashed are those of the documented
    rule either way."""
    table = f'"{m.Case._meta.table_name}"'
    p = db.param
    join = "group_concat(reference, char(10))" if is_sqlite(db) else "string_agg(reference, E'\\n')"
    sql = (f"SELECT {join} FROM (SELECT reference FROM {table} WHERE population_id = {p} AND reference > {p} "
           f"ORDER BY reference LIMIT {FINGERPRINT_CHUNK}) AS chunk")
    cursor = db.cursor()
    with _index_scans(db):
        return _chunked_fingerprint(db, cursor, sql, population_id, cases)


@contextlib.contextmanager
def _index_scans(db: Any) -> Iterator[None]:
    """PostgreSQL: plan the fingerprint's queries on the unique index. Rows just loaded in this
    transaction have no statistics yet (and a desktop role may not ANALYZE the table), so the
    planner would scan and sort the whole population for every chunk: 10 million cases, 3 s a chunk."""
    if is_sqlite(db):
        yield
        return
    cursor = db.cursor()
    cursor.execute("SELECT current_setting('enable_seqscan'), current_setting('enable_bitmapscan')")
    seqscan, bitmapscan = cursor.fetchone()
    cursor.execute("SELECT set_config('enable_seqscan', 'off', true), set_config('enable_bitmapscan', 'off', true)")
    try:
        yield
    finally:
        cursor.execute("SELECT set_config('enable_seqscan', %s, true), set_config('enable_bitmapscan', %s, true)",
                       (seqscan, bitmapscan))


def _chunked_fingerprint(db: Any, cursor: Any, sql: str, population_id: int, cases: int) -> str:
    """_stored_fingerprint's work, the planner settings made (see _index_scans)."""
    table = f'"{m.Case._meta.table_name}"'
    p = db.param
    digest = OrderedFingerprint()
    last = ""
    while digest.count <= cases:
        cursor.execute(sql, (population_id, last))
        text = cursor.fetchone()[0]
        if text is None:
            if digest.count == cases:
                return digest.hexdigest()
            break
        references = text.split("\n")
        if not digest.add(references):
            break
        last = references[-1]
    # One reference a row, in code point order (PostgreSQL: the "C" collation, sorted by the server
    # once), still streamed: only a database that cannot give that order costs memory.
    # (WITH HOLD: peewee runs psycopg2 in autocommit mode and issues BEGIN itself; closed before commit.)
    order = "reference" if is_sqlite(db) else 'reference COLLATE "C"'
    sql = f"SELECT reference FROM {table} WHERE population_id = {p} ORDER BY {order}"
    cursor = db.cursor() if is_sqlite(db) else db.connection().cursor(name="qatt_fingerprint", withhold=True)
    try:
        cursor.execute(sql, (population_id,))
        digest = OrderedFingerprint()
        while True:
            references = [reference for (reference,) in cursor.fetchmany(FINGERPRINT_CHUNK)]
            if not references:
                if digest.count == cases:
                    return digest.hexdigest()
                break
            if not digest.add(references):
                break
    finally:
        cursor.close()
    cursor = db.cursor()
    cursor.execute(f"SELECT reference FROM {table} WHERE population_id = {p}", (population_id,))
    return fingerprint_references(reference for (reference,) in cursor.fetchall())
