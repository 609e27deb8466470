"""Database connection: one DatabaseProxy that the app, the CLI and every test bind to a real database.

`open_database(url)` accepts a file path, `sqlite:///path`, `:memory:` or `postgresql://user@host:port/db`.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator, Optional
from urllib.parse import parse_qs, unquote, urlparse

import peewee

from qatt.errors import QattError

database_proxy = peewee.DatabaseProxy()

ENV_VAR = "QATT_DB"

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "synchronous": "normal",
    "busy_timeout": 10000,
}


def default_database_path() -> Path:
    """The per-user data location used when neither --db nor QATT_DB is given."""
    import platformdirs

    return Path(platformdirs.user_data_dir("qatt", appauthor=False)) / "qatt.sqlite3"


def resolve_url(explicit: Optional[str] = None) -> str:
    """--db wins, then the QATT_DB environment variable, then the per-user default."""
    return explicit or os.environ.get(ENV_VAR) or str(default_database_path())


def is_postgres_url(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def _create_private_file(path: Path) -> None:
    """Create the SQLite file readable by its owner only (police information)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    try:
        os.chmod(path, 0o600)
    except OSError:  # pragma: no cover - filesystems without POSIX modes
        pass


def _give_peewee_psycopg2() -> None:
    """Set what peewee's own import sets when it finds psycopg2 (the module, its JSON type, UUID
    support, the transaction states), for a peewee loaded without it (qatt.storage.driver)."""
    if peewee.psycopg2 is not None:
        return
    import psycopg2
    from psycopg2 import extensions, extras

    extras.register_uuid()
    peewee.psycopg2, peewee.pg_extensions, peewee.Json_pg2 = psycopg2, extensions, extras.Json
    adapter = peewee.Psycopg2Adapter
    adapter.txn_idle = extensions.TRANSACTION_STATUS_IDLE
    adapter.txn_inerror = extensions.TRANSACTION_STATUS_INERROR
    adapter.txn_unknown = extensions.TRANSACTION_STATUS_UNKNOWN


def make_database(url: str) -> peewee.Database:
    """Build (but do not bind) a peewee database for the URL."""
    if is_postgres_url(url):
        _give_peewee_psycopg2()
        parsed = urlparse(url)
        if not parsed.path.strip("/"):
            raise QattError(f"The PostgreSQL URL {url!r} names no database (e.g. postgresql://user@host:5432/qatt).")
        kwargs = {
            "host": parsed.hostname or "localhost",
            "port": parsed.port or 5432,
            "user": unquote(parsed.username) if parsed.username else None,
            "password": unquote(parsed.password) if parsed.password else None,
        }
        for key, values in parse_qs(parsed.query).items():
            kwargs[key] = values[-1]
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        return peewee.PostgresqlDatabase(unquote(parsed.path.lstrip("/")), **kwargs)
    if url.startswith("sqlite:///"):
        url = url[len("sqlite:///"):]
    if url == ":memory:":
        return peewee.SqliteDatabase(":memory:", pragmas=SQLITE_PRAGMAS)
    path = Path(url).expanduser()
    _create_private_file(path)
    return peewee.SqliteDatabase(str(path), pragmas=SQLITE_PRAGMAS, check_same_thread=False)


def bind(db: peewee.Database) -> peewee.Database:
    database_proxy.initialize(db)
    return db


def open_database(url: Optional[str] = None, *, migrate: bool = True) -> peewee.Database:
    """Connect to the database for `url` (see resolve_url), bind the models and bring the schema up to date."""
    from qatt.storage import migrations

    db = make_database(resolve_url(url))
    try:
        db.connect(reuse_if_open=True)
    except peewee.OperationalError as exc:
        raise QattError(f"Cannot open the database: {exc}".strip()) from exc
    bind(db)
    if migrate:
        migrations.migrate(db)
    return db


def is_sqlite(db: peewee.Database) -> bool:
    return isinstance(db, peewee.SqliteDatabase)


def sqlite_path(db: peewee.Database) -> Optional[Path]:
    if is_sqlite(db) and db.database != ":memory:":
        return Path(db.database)
    return None


@contextlib.contextmanager
def write_transaction(db: peewee.Database) -> Iterator[None]:
    """A transaction that takes the write lock up front.

    SQLite's default deferred transactions let two writers read the same state and then
    collide; IMMEDIATE serialises them from the start. PostgreSQL rows are locked explicitly
    where it matters (see audit.record)."""
    if is_sqlite(db) and not db.in_transaction():
        with db.atomic("IMMEDIATE"):
            yield
    else:
        with db.atomic():
            yield
