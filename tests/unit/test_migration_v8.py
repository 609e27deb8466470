"""Migration 8: answers record where a prefilled answer came from (Answer.origin)."""

from playhouse.migrate import SchemaMigrator, migrate

from qatt.storage import migrations
from qatt.storage import models as m
from tests.factories import make_form_version, make_population, make_sample, sample_items


def test_v8_adds_the_answer_origin_column_to_an_older_database_and_keeps_the_answers(db, tmp_path):
    review = m.Review.create(sample_item=sample_items(make_sample(make_population(1)))[0],
                             form_version=make_form_version(tmp_path), reviewer="sup.a")
    m.Answer.create(review=review, question_id="c1", value="yes")
    # A database from before v8 (as a v4 one is): no origin column.
    migrate(SchemaMigrator.from_database(db).drop_column("answer", "origin"))
    m.SchemaVersion.update(version=4).execute()
    assert "origin" not in {c.name for c in db.get_columns("answer")}
    assert 8 in migrations.migrate(db)
    assert "origin" in {c.name for c in db.get_columns("answer")}
    assert [(a.question_id, a.value, a.origin) for a in m.Answer.select()] == [("c1", "yes", "")]
    assert migrations.migrate(db) == []  # and again: nothing to do


def test_v8_changes_nothing_on_a_new_database(db):
    m.SchemaVersion.update(version=7).execute()
    assert migrations.migrate(db) == list(range(8, migrations.LATEST + 1))
    assert "origin" in {c.name for c in db.get_columns("answer")}
