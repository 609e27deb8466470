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
    # The v2 seed as it was: no "immediately", everything "not started"; one row the force has already edited.
    db.execute_sql("UPDATE recommendation SET status = 'not started', timescale = ''")
    m.Recommendation.delete().where(~m.Recommendation.code.startswith("2021-R")).execute()
    assert "note" not in {c.name for c in db.get_columns("action")}

    assert migrations.migrate(db) == list(range(5, migrations.LATEST + 1))
    assert {"note", "done_at", "verified_by", "verified_at"} <= {c.name for c in db.get_columns("action")}
    assert {"source", "kind", "due_date", "updated_at"} <= {c.name for c in db.get_columns("recommendation")}
    assert all(db.table_exists(t._meta.table_name) for t in NEW_TABLES)
    assert migrations.current_version(db) == migrations.LATEST
    rows = {r.code: r for r in m.Recommendation.select()}
    assert rows["2021-R1"].timescale == "immediately" and rows["2021-R1"].status == "in progress"
    assert rows["2021-R5"].timescale == "3 months" and rows["PFD-G"].kind == "coroner's concern"
    assert m.RegisterNote.select().where(m.RegisterNote.entry == rows["2021-R1"]).count() == 1
