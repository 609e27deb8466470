"""PostgreSQL: every case belongs to its population, enforced by the server against desktop logins
(qatt.storage.pg_integrity, schema v13) for every way of writing a case or deleting a population,
and out of a desktop login's reach to switch off."""

from __future__ import annotations

import io

import peewee
import psycopg2
import psycopg2.errors
import pytest

from qatt.intake import importing
from qatt.storage import db as dbmod
from qatt.storage import models as m
from qatt.storage import pg_security
from tests.factories import make_population
from tests.unit.test_pg_security import server  # noqa: F401 - the fixture: a migrated schema with login roles

pytestmark = pytest.mark.postgres

TEXT_COLUMNS = ("area", "division", "team", "officer", "supervisor", "risk", "status", "summary")
INSERT_CASE = (f'INSERT INTO "case" (population_id, reference, {", ".join(TEXT_COLUMNS)}) '
               f'VALUES (%s, %s{", %s" * len(TEXT_COLUMNS)})')
COPY_CASES = f'COPY "case" (population_id, reference, {", ".join(TEXT_COLUMNS)}) FROM STDIN'


def copy_rows(population_ids, prefix="C"):
    return "".join(f"{pid}\t{prefix}{i}" + "\t" * len(TEXT_COLUMNS) + "\n" for i, pid in enumerate(population_ids))


def cases_of(population_id):
    return m.Case.select().where(m.Case.population == population_id).count()


def missing_population():
    return (m.Population.select(m.Population.id).order_by(m.Population.id.desc()).scalar() or 0) + 1000


def test_a_desktop_insert_or_copy_of_a_case_without_its_population_is_refused_and_nothing_written(server):
    population = make_population(3)
    missing = missing_population()
    with server.raw(server.people["reviewer"]) as conn, conn.cursor() as cur:
        with pytest.raises(psycopg2.errors.ForeignKeyViolation, match="violates its population check") as refused:
            cur.execute(INSERT_CASE, [missing, "X1"] + [""] * len(TEXT_COLUMNS))
        assert refused.value.diag.message_detail == f'Key (population_id)=({missing}) is not present in table "population".'
        # One COPY with good rows and one bad: refused as a whole.
        rows = copy_rows([population.id] * 500 + [missing] + [population.id] * 500)
        with pytest.raises(psycopg2.errors.ForeignKeyViolation, match="violates its population check"):
            cur.copy_expert(COPY_CASES, io.StringIO(rows))
        cur.copy_expert(COPY_CASES, io.StringIO(copy_rows([population.id] * 10)))  # the population exists
    assert cases_of(population.id) == 3 + 10
    assert m.Case.select().count() == 3 + 10


def test_changing_a_cases_population_to_one_that_does_not_exist_is_refused(server):
    """No QATT group may update cases; were one given UPDATE, the check would still hold."""
    first, second = make_population(2, name="first"), make_population(2, name="second")
    groups = pg_security.groups_of(server.owner_db)
    update = 'UPDATE "case" SET population_id = %s WHERE population_id = %s'
    with server.raw(server.people["admin"]) as conn, conn.cursor() as cur:
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute(update, [missing_population(), first.id])
    server.owner_db.execute_sql(f'GRANT UPDATE ON "case" TO "{groups["reviewer"]}"')
    with server.raw(server.people["reviewer"]) as conn, conn.cursor() as cur:
        with pytest.raises(psycopg2.errors.ForeignKeyViolation, match="violates its population check"):
            cur.execute(update, [missing_population(), first.id])
        cur.execute('UPDATE "case" SET population_id = %s, reference = reference || %s WHERE population_id = %s',
                    [second.id, "-moved", first.id])
    assert (cases_of(first.id), cases_of(second.id)) == (0, 4)
    with pytest.raises(peewee.IntegrityError):
        with server.owner_db.atomic():  # the check binds the owner too, while the owner keeps it
            server.owner_db.execute_sql(update, [missing_population(), second.id])
    assert cases_of(second.id) == 4


def test_deleting_a_population_deletes_its_cases_and_no_other(server):
    kept, deleted = make_population(3, name="kept"), make_population(4, name="deleted")
    with server.raw(server.people["admin"]) as conn, conn.cursor() as cur:
        cur.execute("DELETE FROM population WHERE id = %s", [deleted.id])
    assert cases_of(deleted.id) == 0
    assert cases_of(kept.id) == 3
    with server.raw(server.people["admin"]) as conn, conn.cursor() as cur:
        with pytest.raises(psycopg2.errors.ForeignKeyViolation, match="id never changes"):
            cur.execute("UPDATE population SET id = %s WHERE id = %s", [missing_population(), kept.id])
    with pytest.raises(peewee.IntegrityError, match="truncate both"):
        with server.owner_db.atomic():
            server.owner_db.execute_sql("TRUNCATE population CASCADE")
    assert cases_of(kept.id) == 3


@pytest.mark.parametrize("statement", [
    'ALTER TABLE "case" DISABLE TRIGGER qatt_population_check_insert',
    'ALTER TABLE "case" DISABLE TRIGGER ALL',
    'DROP TRIGGER qatt_population_check_insert ON "case"',
    'DROP TRIGGER qatt_cases_cascade ON population',
    "DROP FUNCTION qatt_case_population_check() CASCADE",
    "CREATE OR REPLACE FUNCTION qatt_case_population_check() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$",
    "ALTER FUNCTION qatt_case_population_check() SECURITY INVOKER",
    "SET session_replication_role = replica",
])
def test_no_desktop_login_can_switch_the_check_off(server, statement):
    with server.raw(server.people["admin"]) as conn, conn.cursor() as cur:
        with pytest.raises((psycopg2.errors.InsufficientPrivilege, psycopg2.errors.DependentObjectsStillExist)):
            cur.execute(statement)
    triggers = server.owner_db.execute_sql(
        "SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = '\"case\"'::regclass AND NOT tgisinternal").fetchall()
    assert ("qatt_population_check_insert", "A") in triggers  # A: ENABLE ALWAYS


def test_a_delete_under_repeatable_read_cannot_leave_cases_another_session_added(server):
    """The foreign key's guarantee against a concurrent delete: the check claims the population, so
    a repeatable-read delete that cannot see the new cases fails instead of leaving them behind,
    and a delete waits for a session whose cases are not yet committed."""
    population = make_population(1)
    with server.raw(server.people["admin"]) as admin, server.raw(server.people["reviewer"]) as reviewer:
        admin.autocommit = False
        with admin.cursor() as deleter, reviewer.cursor() as adder:
            deleter.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            deleter.execute("SELECT count(*) FROM \"case\"")  # the snapshot is taken
            adder.execute(INSERT_CASE, [population.id, "LATE"] + [""] * len(TEXT_COLUMNS))
            with pytest.raises(psycopg2.errors.SerializationFailure):
                deleter.execute("DELETE FROM population WHERE id = %s", [population.id])
            admin.rollback()
            reviewer.autocommit = False
            adder.execute(INSERT_CASE, [population.id, "OPEN"] + [""] * len(TEXT_COLUMNS))
            deleter.execute("SET lock_timeout = '200ms'")
            with pytest.raises(psycopg2.errors.LockNotAvailable):
                deleter.execute("DELETE FROM population WHERE id = %s", [population.id])
            admin.rollback()
            reviewer.rollback()
    assert cases_of(population.id) == 2


def test_an_import_by_a_desktop_login_is_checked_and_all_or_nothing(server, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("Ref,Recorded\n" + "".join(f"R{i},01/02/2024\n" for i in range(2500)), encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("Ref,Recorded\n" + "".join(f"S{i},01/02/2024\n" for i in range(2500)) + "S9,31/02/2024\n",
                   encoding="utf-8")
    login = server.people["reviewer"]
    with server.desktop(login):
        result = importing.import_population(good, name="good", actor=login)
        assert cases_of(result.population_id) == 2500
        with pytest.raises(importing.ImportProblems):
            importing.import_population(bad, name="bad", actor=login)
        assert m.Population.select().count() == 1 and m.Case.select().count() == 2500


def test_migration_13_keeps_the_cases_and_replaces_the_foreign_key_with_the_check(pg_url):
    from qatt.storage import migrations

    database = dbmod.open_database(pg_url, migrate=False)
    try:
        migrations.migrate(database, target=12)
        population = make_population(5)
        foreign_keys = "SELECT count(*) FROM pg_constraint WHERE conrelid = '\"case\"'::regclass AND contype = 'f'"
        assert database.execute_sql(foreign_keys).fetchone() == (1,)
        assert migrations.migrate(database) == list(range(13, migrations.LATEST + 1))
        assert database.execute_sql(foreign_keys).fetchone() == (0,)
        assert sorted(c.reference for c in m.Case.select()) == [f"REF{i:04d}" for i in range(1, 6)]
        with pytest.raises(peewee.IntegrityError, match="violates its population check"):
            with database.atomic():
                m.Case.create(population=population.id + 1, reference="ORPHAN")
        population.delete_instance()
        assert m.Case.select().count() == 0
    finally:
        database.close()


def test_keep_last_by_a_desktop_login_stores_each_repeats_last_row_without_updating_cases(server, tmp_path):
    # A desktop login may not UPDATE cases: keep-last writes each repeated reference's last row in place
    # of its first one, so the cases are written once.
    path = tmp_path / "repeats.csv"
    rows = [f"R{i},01/02/2024,Team {i}\n" for i in range(600)]
    rows[450] = "R3,01/02/2024,Team later\n"  # R3 again, in a later batch, with another team
    rows[500] = "R7,01/02/2024,Team 7\n"      # R7 again, the same row
    path.write_text("Ref,Recorded,Team\n" + "".join(rows), encoding="utf-8")
    login = server.people["reviewer"]
    with server.desktop(login):
        result = importing.import_population(path, name="repeats", actor=login, duplicate_references="keep-last")
        teams = dict(m.Case.select(m.Case.reference, m.Case.team)
                     .where(m.Case.population == result.population_id).tuples())
    assert result.rows == 598 and result.exact_repeats == 1 and result.conflicting_repeats == 1
    assert teams["R3"] == "Team later" and teams["R7"] == "Team 7" and teams["R8"] == "Team 8"
    assert "R450" not in teams and "R500" not in teams and len(teams) == 598
