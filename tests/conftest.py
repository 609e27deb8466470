"""Shared fixtures: a fresh database per test, on SQLite and (where a server answers) PostgreSQL."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Optional

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
# in which case it is dropped and the next test gets a newly migrated one. Relations a test only added
# (a sort order's table or index, qatt.case_order) are dropped instead, if that gives back the definition.

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


# Every catalog row that defines the schema and its group roles, by its row version (xmin): DDL, a
# grant or a role membership writes a new row version, so a test that changed any of them changes this.
_PG_DEFINITION_SQL = """
WITH ns AS (SELECT oid, xmin, nspacl FROM pg_namespace WHERE nspname = %(s)s),
     rel AS (SELECT c.oid, c.xmin FROM pg_class c JOIN ns ON c.relnamespace = ns.oid),
     roles AS (SELECT oid, xmin FROM pg_authid WHERE starts_with(rolname, %(p)s))
SELECT md5(coalesce(string_agg(x, ',' ORDER BY x), '')) FROM (
  SELECT 'n' || xmin::text || coalesce(nspacl::text, '') FROM ns
  UNION ALL SELECT 'c' || oid || ':' || xmin::text FROM rel
  UNION ALL SELECT 'a' || a.attrelid || ':' || a.attnum || ':' || a.xmin::text FROM pg_attribute a JOIN rel ON a.attrelid = rel.oid
  UNION ALL SELECT 'd' || d.oid || ':' || d.xmin::text FROM pg_attrdef d JOIN rel ON d.adrelid = rel.oid
  UNION ALL SELECT 'k' || k.oid || ':' || k.xmin::text FROM pg_constraint k JOIN ns ON k.connamespace = ns.oid
  UNION ALL SELECT 't' || t.oid || ':' || t.xmin::text FROM pg_trigger t JOIN rel ON t.tgrelid = rel.oid
  UNION ALL SELECT 'p' || p.oid || ':' || p.xmin::text FROM pg_policy p JOIN rel ON p.polrelid = rel.oid
  UNION ALL SELECT 'f' || f.oid || ':' || f.xmin::text FROM pg_proc f JOIN ns ON f.pronamespace = ns.oid
  UNION ALL SELECT 'g' || g.oid || ':' || g.xmin::text FROM pg_default_acl g JOIN ns ON g.defaclnamespace = ns.oid
  UNION ALL SELECT 'r' || oid || ':' || xmin::text FROM roles
  UNION ALL SELECT 'm' || am.roleid || ':' || am.member || ':' || am.xmin::text FROM pg_auth_members am
    WHERE am.roleid IN (SELECT oid FROM roles) OR am.member IN (SELECT oid FROM roles)
) parts(x)
"""


_PG_RELATIONS_SQL = "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s"


class _PgSchemas:
    """This process's migrated PostgreSQL schemas: take() one for a test, give_back() it afterwards."""

    def __init__(self) -> None:
        self.free: list = []
        self.known: dict = {}  # schema -> (definition, delete order or None, seeded tables, sequences, tables)
        self.relations: dict = {}  # schema -> the oids of the relations the migration made

    @staticmethod
    def url(schema: str) -> str:
        sep = "&" if "?" in PG_URL else "?"
        return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"

    @staticmethod
    def _admin():
        admin = dbmod.make_database(PG_URL)
        admin.connect()
        # The catalogs' row estimates (many schemas come and go) would make the server JIT-compile the
        # definition query: a second of compiling for a few milliseconds of work.
        admin.execute_sql("SET jit = off")
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
            tables = all_tables = [r[0] for r in admin.execute_sql(
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
            tables = self._delete_order(admin, schema, tables)
            self.relations[schema] = {oid for (oid,) in admin.execute_sql(_PG_RELATIONS_SQL, [schema]).fetchall()}
            self.known[schema] = (self._definition(admin, schema), tables, seeded, sequences, all_tables)
        finally:
            admin.close()
        return schema

    @staticmethod
    def _delete_order(admin, schema: str, tables: list) -> Optional[list]:
        """The tables with every referencing table before the tables it references and the row-change
        log last (emptying a table writes to it), or None when foreign keys form a cycle."""
        from graphlib import CycleError, TopologicalSorter

        from qatt.storage import pg_security

        order = TopologicalSorter({t: set() for t in tables})
        for child, parent in admin.execute_sql(
                "SELECT ch.relname, pa.relname FROM pg_constraint k JOIN pg_class ch ON ch.oid = k.conrelid "
                "JOIN pg_class pa ON pa.oid = k.confrelid JOIN pg_namespace n ON n.oid = k.connamespace "
                "WHERE n.nspname = %s AND k.contype = 'f'", [schema]).fetchall():
            if child != parent:
                order.add(parent, child)  # the parent is emptied after the child
        try:
            ordered = list(order.static_order())
        except CycleError:
            return None
        return [t for t in ordered if t != pg_security.ROW_CHANGE] + [t for t in ordered if t == pg_security.ROW_CHANGE]

    def _drop_added(self, admin, schema: str, definition: str) -> bool:
        """Drop the relations the test added; True when that gives back the migrated definition."""
        kinds = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE", "i": "INDEX"}
        added = [(oid, kind) for oid, kind in admin.execute_sql(
            _PG_RELATIONS_SQL.replace("c.oid", "c.oid, c.relkind", 1), [schema]).fetchall()
            if oid not in self.relations[schema]]
        if not added or any(kind not in kinds for _, kind in added):
            return False
        with admin.atomic():
            for kind in ("TABLE", "MATERIALIZED VIEW", "VIEW", "SEQUENCE", "INDEX"):  # a table takes its indexes along
                for oid in [oid for oid, k in added if kinds[k] == kind]:
                    name = admin.execute_sql("SELECT %s::oid::regclass::text", [oid]).fetchone()[0]
                    if not name.isdigit():  # not dropped already with its table
                        admin.execute_sql(f"DROP {kind} IF EXISTS {name} CASCADE")
        return self._definition(admin, schema) == definition

    def give_back(self, schema: str) -> None:
        """Reset the schema for the next test, or drop it when the test changed its definition."""
        definition, tables, seeded, sequences, all_tables = self.known[schema]
        admin = self._admin()
        try:
            if self._definition(admin, schema) != definition and not self._drop_added(admin, schema, definition):
                raise LookupError("changed")
            with admin.atomic():
                admin.execute_sql("SET LOCAL lock_timeout = '10s'")
                if tables is not None:  # DELETE: cheaper than TRUNCATE for a test's few rows
                    for table in tables:
                        admin.execute_sql(f'DELETE FROM "{schema}"."{table}"')
                else:
                    listed = ", ".join(f'"{schema}"."{t}"' for t in all_tables)
                    admin.execute_sql(f"TRUNCATE {listed} CASCADE")
                for table in seeded:
                    admin.execute_sql(f'INSERT INTO "{schema}"."{table}" SELECT * FROM "{schema}_seed"."{table}"')
                # Putting the rows back fired the row-change triggers: the migration's own rows stand instead.
                from qatt.storage import pg_security

                if pg_security.ROW_CHANGE in all_tables:
                    admin.execute_sql(f'DELETE FROM "{schema}"."{pg_security.ROW_CHANGE}"')
                    if pg_security.ROW_CHANGE in seeded:
                        admin.execute_sql(f'INSERT INTO "{schema}"."{pg_security.ROW_CHANGE}" '
                                          f'SELECT * FROM "{schema}_seed"."{pg_security.ROW_CHANGE}"')
                for name, value in sequences:
                    if value is None:
                        admin.execute_sql("SELECT setval(%s, 1, false)", [f'"{schema}"."{name}"'])
                    else:
                        admin.execute_sql("SELECT setval(%s, %s, true)", [f'"{schema}"."{name}"', value])
            if tables is None:  # TRUNCATE gave the tables new catalog row versions
                self.known[schema] = (self._definition(admin, schema), tables, seeded, sequences, all_tables)
        except (LookupError, peewee.DatabaseError):
            admin.close()
            self.drop(schema)
            return
        admin.close()
        self.free.append(schema)

    def drop(self, schema: str) -> None:
        self.known.pop(schema, None)
        self.relations.pop(schema, None)
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
    if "path" in _sqlite_template:
        shutil.rmtree(_sqlite_template.pop("path").parent, ignore_errors=True)


def mark_training(database) -> None:
    """Make the bound database a training database, as the demo data would (qatt.trust.identity): tests act as
    many people (--user, QATT_USER) while the process runs as one operating-system account. Tests of the
    identity rule itself use a database without the mark (see tests/unit/test_identity.py)."""
    from qatt.trust import identity
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


DEMO_ACTOR = "desk.user"
DEMO_CASES = 600  # a fifth of the real demo: every month still has cases of most areas


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory):
    """(path, what load_demo_reviews made) of a closed SQLite database holding DEMO_CASES demo cases and
    a year of demo reviews, DEMO_ACTOR its first user: loaded once per test process (loading takes
    seconds). Copy it with demo_copy; the modules that use it share an xdist_group, so one worker loads it."""
    from qatt import demo
    from qatt.trust import users

    path = tmp_path_factory.mktemp("demo-template") / "qatt.sqlite3"
    database = dbmod.open_database(str(path))
    users.register_login(DEMO_ACTOR)
    population = demo.load_demo(DEMO_ACTOR, cases=DEMO_CASES)
    made = demo.load_demo_reviews(DEMO_ACTOR, population_id=population.population_id)
    database.close()
    return path, made


def demo_copy(demo_template, folder: Path) -> str:
    """A copy of the demo template in `folder`; returns its path."""
    target = folder / "qatt.sqlite3"
    shutil.copyfile(demo_template[0], target)
    os.chmod(target, 0o600)
    return str(target)


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
