"""Storage: connection, migrations (versioned, backed up, all-or-nothing), private file, audit chain."""

import os
import stat

import peewee
import pytest

from qatt.trust import audit
from qatt.errors import QattError
from qatt.storage import db as dbmod
from qatt.storage import migrations
from qatt.storage import models as m


def test_fresh_database_is_at_latest_version_with_reference_figures(db):
    assert migrations.current_version(db) == migrations.LATEST
    # The 12 recommendations of 2021 (v2), and since v7 the rest of the shipped register.
    assert m.Recommendation.select().where(m.Recommendation.code.startswith("2021-R")).count() == 12
    from qatt.loop.register import SHIPPED_CODES
    assert m.Recommendation.select().count() == len(SHIPPED_CODES)
    total_2022 = m.Baseline.get(m.Baseline.name == "2022 inspection", m.Baseline.area == "")
    assert total_2022.total == 70 and total_2022.counts["requires_improvement"] == 24


def test_migrating_twice_applies_nothing(db):
    assert migrations.migrate(db) == []


def test_sqlite_file_is_private(tmp_path):
    path = tmp_path / "private.sqlite3"
    database = dbmod.open_database(str(path))
    database.close()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_existing_database_is_backed_up_before_migrating(tmp_path):
    path = tmp_path / "old.sqlite3"
    database = dbmod.open_database(str(path), migrate=False)
    migrations.migrate(database, target=1)
    assert migrations.current_version(database) == 1
    applied = migrations.migrate(database)
    database.close()
    assert applied == list(range(2, migrations.LATEST + 1))
    backups = list(tmp_path.glob("old.sqlite3.v1.*.bak"))
    assert len(backups) == 1
    copy = peewee.SqliteDatabase(str(backups[0]))
    assert copy.execute_sql("SELECT version FROM schema_version").fetchone()[0] == 1


def test_failed_migration_step_leaves_nothing_half_applied(tmp_path, monkeypatch):
    path = tmp_path / "broken.sqlite3"
    database = dbmod.open_database(str(path), migrate=False)
    migrations.migrate(database, target=1)

    def bad_step(db):
        m.Recommendation.create(code="X", text="half")
        raise RuntimeError("disk full")

    monkeypatch.setattr(migrations, "MIGRATIONS", [migrations.MIGRATIONS[0], (2, "bad", bad_step)])
    with pytest.raises(RuntimeError):
        migrations.migrate(database, target=2)
    assert migrations.current_version(database) == 1
    assert m.Recommendation.select().count() == 0
    database.close()


def test_newer_schema_is_refused(sqlite_db):
    m.SchemaVersion.update(version=migrations.LATEST + 5).execute()
    with pytest.raises(QattError, match="newer than this QATT"):
        migrations.migrate(sqlite_db)


def test_audit_chain_detects_alteration_and_removal(db):
    for i in range(4):
        audit.record("alice", audit.ALTERATION, "review", i, {"field": "grade", "old": "good", "new": "inadequate"})
    assert audit.verify_chain().ok
    events = list(m.AuditEvent.select().order_by(m.AuditEvent.id))
    m.AuditEvent.update(details={"field": "grade", "old": "good", "new": "good"}).where(
        m.AuditEvent.id == events[1].id).execute()
    report = audit.verify_chain()
    assert not report.ok and report.first_broken_id == events[1].id and "altered" in report.problem


def test_audit_chain_detects_removed_middle_and_last_events(db):
    for i in range(3):
        audit.record("alice", audit.COLLECTION, "population", i)
    ids = [e.id for e in m.AuditEvent.select().order_by(m.AuditEvent.id)]
    m.AuditEvent.delete().where(m.AuditEvent.id == ids[-1]).execute()
    report = audit.verify_chain()
    assert not report.ok and "newest events were removed" in report.problem
    m.AuditEvent.delete().where(m.AuditEvent.id == ids[0]).execute()
    report = audit.verify_chain()
    assert not report.ok and report.first_broken_id == ids[1]


def test_audit_event_rolls_back_with_its_change(db):
    with pytest.raises(RuntimeError):
        with db.atomic():
            audit.record("alice", audit.COLLECTION, "population", 1)
            raise RuntimeError("import failed")
    assert m.AuditEvent.select().count() == 0
    assert audit.verify_chain().ok


def test_postgres_url_without_database_is_a_clear_error():
    with pytest.raises(QattError, match="names no database"):
        dbmod.make_database("postgresql://user@localhost:5432/")


def test_v3_drops_the_redundant_case_population_index_and_keeps_the_unique_one(db):
    # A database migrated before v3 existed has the index v1 then created: put it back and step down.
    db.execute_sql('CREATE INDEX "case_population_id" ON "case" ("population_id")')
    m.SchemaVersion.update(version=2).execute()
    assert migrations.migrate(db, target=3) == [3]
    indexes = {index.name: index.columns for index in db.get_indexes("case")}
    assert "case_population_id" not in indexes
    assert indexes["case_population_id_reference"] == ["population_id", "reference"]


def test_v4_adds_the_case_study_table_to_a_v3_database(db):
    db.drop_tables([m.CaseStudy])
    m.SchemaVersion.update(version=3).execute()
    users_before = m.User.select().count()
    assert migrations.migrate(db) == list(range(4, migrations.LATEST + 1))
    assert db.table_exists(m.CaseStudy._meta.table_name) and migrations.current_version(db) == migrations.LATEST
    assert m.CaseStudy.select().count() == 0 and m.User.select().count() == users_before


def test_new_database_never_has_the_case_population_index(db):
    assert "case_population_id" not in {index.name for index in db.get_indexes("case")}
