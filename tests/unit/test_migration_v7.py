"""Migration 7 (issue 12) brings a v4-shaped database up to date: the action and register columns,
the acknowledgement, register note, evidence and narrative tables, and the corrected register."""

from playhouse.migrate import SchemaMigrator, migrate

from qatt.storage import migrations
from qatt.storage import models as m

NEW_TABLES = [m.FeedbackAcknowledgement, m.RegisterNote, m.RegisterEvidence, m.AreaNarrative]


def test_v7_upgrades_a_v4_database_and_keeps_its_actions(db):
    # Shape the database as version 4 left it: none of the new tables or columns.
    db.drop_tables(NEW_TABLES)
    migrator = SchemaMigrator.from_database(db)
    migrate(*[migrator.drop_column("action", c) for c in ("note", "done_at", "verified_by", "verified_at")],
            *[migrator.drop_column("recommendation", c) for c in ("source", "kind", "due_date", "updated_at")])
    m.SchemaVersion.update(version=4).execute()
    db.execute_sql("UPDATE recommendation SET status = 'not started'")
    assert "note" not in {c.name for c in db.get_columns("action")}

    assert migrations.migrate(db) == list(range(5, migrations.LATEST + 1))
    assert {"note", "done_at", "verified_by", "verified_at"} <= {c.name for c in db.get_columns("action")}
    assert {"source", "kind", "due_date", "updated_at"} <= {c.name for c in db.get_columns("recommendation")}
    assert all(db.table_exists(t._meta.table_name) for t in NEW_TABLES)
    assert migrations.current_version(db) == migrations.LATEST
