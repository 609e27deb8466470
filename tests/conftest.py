"""Shared fixtures: a fresh database per test, on SQLite and (where a server answers) PostgreSQL."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

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


# -- databases migrated once per test process ------------------------------------------------------
# Migrating a new database through every step (on PostgreSQL with group roles, grants, policies and
# triggers) is most of what a database test's set-up costs. Each test process (each pytest-xdist
# worker) migrates one SQLite file and copies it for each test, and keeps its PostgreSQL schemas: a
# schema a test used is emptied and given back the rows the migration wrote, unless the test changed
# its definition (tables, columns, indexes, triggers, policies, functions, grants, role memberships),
# in which case it is dropped and the next test gets a newly migrated one.

_sqlite_template: dict = {}


def fresh_sqlite_file(target: Path) -> str:
    """Make `target` a fresh, migrated SQLite database (a copy of this process's template, which is
    migrated by open_database the first time) and return its path as a URL for open_database."""
    if "path" not in _sqlite_template:
        path = Path(tempfile.mkdtemp(prefix="qatt-test-template-")) / "template.sqlite3"
        dbmod.open_database(str(path)).close()  # the last connection's close checkpoints the WAL
        _sqlite_template["path"] = path
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_sqlite_template["path"], target)
    os.chmod(target, 0o600)
    return str(target)


# Everything in a schema (and its group roles) that a test could change and a reset would not undo.
_PG_DEFINITION_SQL = """
SELECT md5(coalesce(string_agg(x, E'\n' ORDER BY x), '')) FROM (
  SELECT 'schema ' || coalesce(nspacl::text, '') FROM pg_namespace WHERE nspname = %(s)s
  UNION ALL SELECT 'rel ' || c.relname || ' ' || c.relkind::text || ' ' || coalesce(c.relacl::text, '') || ' '
         || c.relrowsecurity || c.relforcerowsecurity || ' ' || pg_get_userbyid(c.relowner)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %(s)s
  UNION ALL SELECT 'col ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' '
         || a.attnotnull || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '') || ' ' || a.attnum
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE n.nspname = %(s)s AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL SELECT 'con ' || c.relname || ' ' || k.conname || ' ' || pg_get_constraintdef(k.oid)
    FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = k.connamespace
    WHERE n.nspname = %(s)s
  UNION ALL SELECT 'idx ' || pg_get_indexdef(i.indexrelid)
    FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = %(s)s
  UNION ALL SELECT 'trg ' || t.tgname || ' ' || t.tgenabled::text || ' ' || pg_get_triggerdef(t.oid)
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = %(s)s AND NOT t.tgisinternal
  UNION ALL SELECT 'pol ' || c.relname || ' ' || p.polname || ' ' || p.polcmd::text || ' ' || p.polroles::text || ' '
         || coalesce(pg_get_expr(p.polqual, p.polrelid), '') || ' ' || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '')
    FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = %(s)s
  UNION ALL SELECT 'fn ' || p.oid::regprocedure::text || ' ' || md5(p.prosrc) || ' ' || coalesce(p.proacl::text, '')
         || ' ' || p.prosecdef || ' ' || coalesce(array_to_string(p.proconfig, ','), '')
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = %(s)s
  UNION ALL SELECT 'dacl ' || d.defaclobjtype::text || ' ' || d.defaclacl::text
    FROM pg_default_acl d JOIN pg_namespace n ON n.oid = d.defaclnamespace WHERE n.nspname = %(s)s
  UNION ALL SELECT 'role ' || r.rolname || ' ' || r.rolcanlogin || r.rolsuper || r.rolinherit
    FROM pg_roles r WHERE starts_with(r.rolname, %(p)s)
  UNION ALL SELECT 'member ' || g.rolname || ' ' || u.rolname
    FROM pg_auth_members am JOIN pg_roles g ON g.oid = am.roleid JOIN pg_roles u ON u.oid = am.member
    WHERE starts_with(g.rolname, %(p)s) OR starts_with(u.rolname, %(p)s)
) parts(x)
"""


class _PgSchemas:
    """This process's migrated PostgreSQL schemas: take() one for a test, give_back() it afterwards."""

    def __init__(self) -> None:
        self.free: list = []
        self.known: dict = {}  # schema -> (definition fingerprint, tables, sequences' values)

    @staticmethod
    def url(schema: str) -> str:
        sep = "&" if "?" in PG_URL else "?"
        return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"

    @staticmethod
    def _admin():
        admin = dbmod.make_database(PG_URL)
        admin.connect()
        return admin

    def _definition(self, admin, schema: str) -> str:
        from qatt.storage import pg_security

        prefix = pg_security.role_prefix(admin.database, schema)
        return admin.execute_sql(_PG_DEFINITION_SQL, {"s": schema, "p": prefix}).fetchone()[0]

    def take(self) -> str:
        if self.free:
            return self.free.pop()
        url, schema = make_pg_schema_url()
        dbmod.open_database(url).close()  # migrated as a test's database always was
        admin = self._admin()
        try:
            tables = [r[0] for r in admin.execute_sql(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY tablename", [schema]).fetchall()]
            sequences = admin.execute_sql(
                "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = %s", [schema]).fetchall()
            seed = schema + "_seed"  # the rows the migration wrote, to put back after each test
            with admin.atomic():
                admin.execute_sql(f'CREATE SCHEMA "{seed}"')
                for table in tables:
                    admin.execute_sql(f'CREATE TABLE "{seed}"."{table}" AS SELECT * FROM "{schema}"."{table}"')
            seeded = [t for t in tables
                      if admin.execute_sql(f'SELECT EXISTS (SELECT 1 FROM "{seed}"."{t}")').fetchone()[0]]
            self.known[schema] = (self._definition(admin, schema), tables, seeded, sequences)
        finally:
            admin.close()
        return schema

    def give_back(self, schema: str) -> None:
        """Reset the schema for the next test, or drop it when the test changed its definition."""
        definition, tables, seeded, sequences = self.known[schema]
        admin = self._admin()
        try:
            if self._definition(admin, schema) != definition:
                raise LookupError("changed")
            with admin.atomic():
                admin.execute_sql("SET LOCAL lock_timeout = '10s'")
                listed = ", ".join(f'"{schema}"."{t}"' for t in tables)
                admin.execute_sql(f"TRUNCATE {listed} RESTART IDENTITY CASCADE")
                for table in seeded:
                    admin.execute_sql(f'INSERT INTO "{schema}"."{table}" SELECT * FROM "{schema}_seed"."{table}"')
                # Putting the rows back fired the row-change triggers: the migration's own rows stand instead.
                from qatt.storage import pg_security

                if pg_security.ROW_CHANGE in tables:
                    admin.execute_sql(f'TRUNCATE "{schema}"."{pg_security.ROW_CHANGE}"')
                    if pg_security.ROW_CHANGE in seeded:
                        admin.execute_sql(f'INSERT INTO "{schema}"."{pg_security.ROW_CHANGE}" '
                                          f'SELECT * FROM "{schema}_seed"."{pg_security.ROW_CHANGE}"')
                for name, value in sequences:
                    if value is None:
                        admin.execute_sql("SELECT setval(%s, 1, false)", [f'"{schema}"."{name}"'])
                    else:
                        admin.execute_sql("SELECT setval(%s, %s, true)", [f'"{schema}"."{name}"', value])
        except (LookupError, peewee.DatabaseError):
            admin.close()
            self.drop(schema)
            return
        admin.close()
        self.free.append(schema)

    def drop(self, schema: str) -> None:
        self.known.pop(schema, None)
        admin = self._admin()
        try:
            admin.execute_sql(f'DROP SCHEMA IF EXISTS "{schema}_seed" CASCADE')
        finally:
            admin.close()
        drop_pg_schema(schema)

    def drop_all(self) -> None:
        for schema in list(self.known):
            self.drop(schema)
        self.free.clear()


_pg_schemas = _PgSchemas()


def pytest_sessionfinish(session, exitstatus):
    if _pg_schemas.known:
        _pg_schemas.drop_all()


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
    """A fresh, migrated database bound to the models: once on SQLite, once on PostgreSQL. Either is
    a copy of (SQLite) or reset to (PostgreSQL) a database migrated once per test process; see
    fresh_sqlite_file and _PgSchemas. Tests of migrations themselves make their own databases."""
    if request.param == "sqlite":
        url = fresh_sqlite_file(tmp_path / "qatt.sqlite3")
        schema = None
    else:
        reason = postgres_unavailable_reason()
        if reason:
            pytest.skip(reason)
        schema = _pg_schemas.take()
        url = _pg_schemas.url(schema)
    database = dbmod.open_database(url)
    database.qatt_url = url  # so tests can open a second connection to the same database
    mark_training(database)
    try:
        yield database
    finally:
        if not database.is_closed():
            database.close()
        if schema:
            _pg_schemas.give_back(schema)


@pytest.fixture
def sqlite_db(tmp_path):
    """A fresh, migrated SQLite database, for tests where the backend does not matter."""
    url = fresh_sqlite_file(tmp_path / "qatt.sqlite3")
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
    path = Path(fresh_sqlite_file(tmp_path / "q.sqlite3"))
    database = dbmod.open_database(str(path))
    mark_training(database)
    database.close()
    return path
