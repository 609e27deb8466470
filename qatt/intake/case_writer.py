"""Writing checked Case rows in bulk through the DB-API connection (executemany on SQLite, one
streamed COPY on PostgreSQL), and the database refusing a write, said in one line.
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Dict, Iterator, List

from qatt.errors import QattError
from qatt.intake.row_checks import CASE_COLUMNS
from qatt.storage import models as m
from qatt.storage.copy import CopyStream, copy_text
from qatt.storage.db import is_sqlite

# Where the rows may hold None (NULL): the date, when it is not mapped, and extra.
NULLABLE_COLUMNS = tuple(CASE_COLUMNS.index(name) for name in ("recorded_date", "extra"))


@contextlib.contextmanager
def _case_writer(db: Any) -> Iterator[Callable[[List[tuple]], None]]:
    """A function that writes batches of rows in CASE_COLUMNS order (population id first),
    through the DB-API connection: peewee's insert_many is ~8x slower here.

    SQLite: executemany. (Writing from a second thread was measured and gave nothing: sqlite3
    hands the GIL back and forth on every row.) PostgreSQL: one streamed COPY (qatt.storage.copy),
    so the server indexes rows while the next ones are read, and checks the population of all
    of them once at the end of the statement (qatt.storage.pg_integrity)."""
    columns = ", ".join(f'"{c}"' for c in CASE_COLUMNS)
    table = f'"{m.Case._meta.table_name}"'
    if is_sqlite(db):
        cursor = db.cursor()
        sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' * len(CASE_COLUMNS))})"

        def insert(batch: List[tuple]) -> None:
            if batch:
                cursor.executemany(sql, batch)

        yield insert
        return
    text_columns = len(CASE_COLUMNS) - 1
    with CopyStream(db, f"COPY {table} ({columns}) FROM STDIN") as stream:
        yield lambda batch: stream.write(copy_text(batch, text_columns, NULLABLE_COLUMNS))


def _replacing(write: Callable[[List[tuple]], None], replacements: Dict[str, tuple]) -> Callable[[List[tuple]], None]:
    """keep-last: write each repeated reference's last row where its first row would go. The cases
    are written once, never updated, so an import needs no UPDATE on cases (a desktop login on
    PostgreSQL has none)."""
    def write_replaced(batch: List[tuple]) -> None:
        write([replacements.get(row[1], row) for row in batch])

    return write_replaced


def _write_errors(file_name: str):
    """The database refusing a write (disk full, read-only file, no permission) in one line."""
    @contextlib.contextmanager
    def guard() -> Iterator[None]:
        try:
            yield
        except Exception as exc:  # peewee's, sqlite3's or psycopg2's: the writer uses the raw connection
            if isinstance(exc, QattError) or not any(
                    cls.__name__ in ("OperationalError", "DatabaseError") for cls in type(exc).__mro__):
                raise
            text = str(exc).lower()
            if "full" in text or "no space" in text:
                why = "the disk holding the database is full. Free some space"
            elif "readonly" in text or "read-only" in text or "permission" in text:
                why = "the database cannot be written (read-only, or no permission). Ask for write access"
            elif "disk i/o" in text or "unable to open" in text:
                why = "the database file could not be written (disk error). Check the drive"
            else:
                raise
            raise QattError(f"Importing {file_name} failed: {why}, then import again. Nothing was imported.") from None

    return guard()
