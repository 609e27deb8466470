"""Shared fixtures: a fresh database per test, on SQLite and (where a server answers) PostgreSQL."""

from __future__ import annotations

import os
import uuid

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QATT_USER", "tester")
# The user's data folder (platformdirs: remembered audit heads, the export ledger) is a throw-away one.
os.environ["XDG_DATA_HOME"] = __import__("tempfile").mkdtemp(prefix="qatt-test-data-")

import peewee
import pytest

from qatt.storage import db as dbmod

PG_URL = os.environ.get("QATT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")

_pg_state: dict = {}


def postgres_unavailable_reason() -> str:
    """'' when the test server answers, otherwise why the PostgreSQL variants are skipped."""
    if "reason" not in _pg_state:
        try:
            probe = dbmod.make_database(PG_URL)
            probe.connect()
            probe.execute_sql("SELECT 1")
            probe.close()
            _pg_state["reason"] = ""
        except (peewee.OperationalError, peewee.InterfaceError, OSError) as exc:
            _pg_state["reason"] = f"no PostgreSQL server answers at {PG_URL} ({type(exc).__name__}: {str(exc).strip()[:120]}); set QATT_TEST_PG to run these"
    return _pg_state["reason"]


def make_pg_schema_url() -> tuple[str, str]:
    """Create a throw-away schema; return (url selecting it, schema name)."""
    schema = "qatt_t_" + uuid.uuid4().hex[:12]
    admin = dbmod.make_database(PG_URL)
    admin.connect()
    admin.execute_sql(f'CREATE SCHEMA "{schema}"')
    admin.close()
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}", schema


def drop_pg_schema(schema: str) -> None:
    admin = dbmod.make_database(PG_URL)
    admin.connect()
    admin.execute_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    # migrate made group roles for the schema (qatt.storage.pg_security); roles outlive schemas.
    from qatt.storage import pg_security

    pg_security.drop_group_roles(admin, admin.database, schema)
    admin.close()


def mark_training(database) -> None:
    """Make the bound database a training database, as the demo data would (qatt.identity): tests act as
    many people (--user, QATT_USER) while the process runs as one operating-system account. Tests of the
    identity rule itself use a database without the mark (see tests/unit/test_identity.py)."""
    from qatt import identity
    from qatt.storage import models as m

    if not identity.is_training():
        m.Setting.create(key=identity.TRAINING_KEY, value={"training": True, "why": "test database"})


def accept_setup_changes(database) -> None:
    """Forget the row changes a test's set-up made through the factories (direct inserts with no QATT
    audit event, which `audit verify` on PostgreSQL rightly reports as made outside QATT). The tests
    connect as a superuser, which the append-only trigger lets do this; no desktop role may."""
    from qatt.storage import pg_security

    if pg_security.is_postgres(database) and pg_security.installed(database):
        database.execute_sql(f"DELETE FROM {pg_security.ROW_CHANGE}")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request, tmp_path):
    """A fresh, migrated database bound to the models: once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        url = str(tmp_path / "qatt.sqlite3")
        schema = None
    else:
        reason = postgres_unavailable_reason()
        if reason:
            pytest.skip(reason)
        url, schema = make_pg_schema_url()
    database = dbmod.open_database(url)
    database.qatt_url = url  # so tests can open a second connection to the same database
    mark_training(database)
    try:
        yield database
    finally:
        if not database.is_closed():
            database.close()
        if schema:
            drop_pg_schema(schema)


@pytest.fixture
def sqlite_db(tmp_path):
    """A fresh, migrated SQLite database, for tests where the backend does not matter."""
    url = str(tmp_path / "qatt.sqlite3")
    database = dbmod.open_database(url)
    database.qatt_url = url
    mark_training(database)
    yield database
    database.close()


@pytest.fixture
def pg_url():
    """A URL for an empty throw-away PostgreSQL schema (skipped with a reason without a server)."""
    reason = postgres_unavailable_reason()
    if reason:
        pytest.skip(reason)
    url, schema = make_pg_schema_url()
    yield url
    drop_pg_schema(schema)


@pytest.fixture
def training_db_path(tmp_path):
    """The path of a fresh, migrated SQLite training database (closed), for tests that run the CLI on
    their own file with --user or QATT_USER (see mark_training)."""
    path = tmp_path / "q.sqlite3"
    database = dbmod.open_database(str(path))
    mark_training(database)
    database.close()
    return path
