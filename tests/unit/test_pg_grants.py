"""Every table QATT creates has its writers named in qatt.storage.pg_security (or is written by no
desktop role): a new feature's table must not fall back to 'any reviewer may write'. Runs without a
server: it reads the models and the grant table."""

import inspect

import peewee

from qatt.storage import exercise_models, models, pg_security


def _tables():
    for module in (models, exercise_models):
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, peewee.Model) and cls.__module__ == module.__name__ and cls is not models.BaseModel:
                yield cls._meta.table_name


def test_every_table_has_its_writers_named():
    named = {table for grants in pg_security._GRANTS.values() for table in grants} | pg_security._NO_WRITES
    tables = set(_tables())
    assert "feedback_acknowledgement" in tables and "exercise_grade" in tables  # the walk finds them
    assert sorted(tables - named) == []


def test_an_unnamed_table_gets_reads_and_no_writes():
    sql = "\n".join(pg_security._install_sql("s", {g: f"s_{g}" for g in pg_security.GROUPS}, ["new_feature"]))
    grants = [line for line in sql.splitlines() if "new_feature" in line and line.startswith("GRANT")]
    assert grants == ['GRANT SELECT ON "s"."new_feature" TO "s_reviewer"']
