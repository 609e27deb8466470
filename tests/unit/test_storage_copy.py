"""PostgreSQL bulk load (qatt.storage.copy): the COPY text it builds, the streamed COPY and its errors."""

from __future__ import annotations

import uuid

import psycopg2
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from qatt.intake import importing
from qatt.storage import db as dbmod
from qatt.storage import models as m
from qatt.storage.copy import CopyStream, copy_text
from tests.conftest import drop_pg_schema, make_pg_schema_url, postgres_unavailable_reason



def test_plain_rows_are_joined_with_tabs_and_null_markers():
    rows = [(7, "R1", "2024-01-02", "a b", None), (7, "R2", None, "", '{"k":"v"}')]
    assert copy_text(rows, 4, nullable=(2, 4)) == (
        "7\tR1\t2024-01-02\ta b\t\\N\n"
        '7\tR2\t\\N\t\t{"k":"v"}\n')


@pytest.mark.parametrize("value, written", [
    ("tab\there", "tab\\there"),
    ("two\nlines", "two\\nlines"),
    ("lone\rreturn", "lone\\rreturn"),
    ("back\\slash", "back\\\\slash"),
    ("\\N", "\\\\N"),  # a cell that looks like the NULL marker stays text
])
def test_structural_characters_are_escaped(value, written):
    rows = [(1, "plain", None), (1, value, None)]
    assert copy_text(rows, 2, nullable=(2,)) == f"1\tplain\t\\N\n1\t{written}\t\\N\n"


def test_no_rows_is_no_text():
    assert copy_text([], 3) == ""


# --- against a real server ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def pg():
    reason = postgres_unavailable_reason()
    if reason:
        pytest.skip(reason)
    url, schema = make_pg_schema_url()
    database = dbmod.make_database(url)
    database.connect()
    database.execute_sql("CREATE TABLE parent (id integer PRIMARY KEY)")
    database.execute_sql("CREATE TABLE child (parent_id integer NOT NULL REFERENCES parent (id), "
                         "a text NOT NULL CHECK (a <> 'refused'), b text, "
                         # COPY takes the default per row in input order, so seq keeps the file's order;
                         # ctid gives no such promise (it once made this test flaky).
                         "seq bigserial)")
    try:
        yield database
    finally:
        database.close()
        drop_pg_schema(schema)


COPY_CHILD = "COPY child (parent_id, a, b) FROM STDIN"


def load(db, rows):
    with CopyStream(db, COPY_CHILD) as stream:
        for start in range(0, len(rows), 3):  # several chunks, as the importer sends them
            stream.write(copy_text(rows[start:start + 3], 2, nullable=(2,)))


def child_rows(db):
    return [tuple(r) for r in db.execute_sql("SELECT parent_id, a, b FROM child ORDER BY seq").fetchall()]


# No NUL (refused before any COPY) and no lone surrogates (no decoded file or workbook holds one).
cells = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)


@pytest.mark.postgres
@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(cells, st.none() | cells), min_size=1, max_size=12))
@example([("a\tb\\c\nd\re", None), ("\\N", "\\"), ("", "")])
def test_any_text_round_trips_through_the_copy_unchanged(pg, values):
    rows = [(1,) + pair for pair in values]
    if any(a == "refused" for a, _ in values):
        return
    with pg.atomic() as transaction:
        pg.execute_sql("INSERT INTO parent VALUES (1)")
        load(pg, rows)
        assert child_rows(pg) == rows
        transaction.rollback()


@pytest.mark.postgres
def test_an_error_on_the_server_reaches_the_caller_and_the_transaction_rolls_back(pg):
    rows = [(1, "fine", None)] * 5 + [(1, "refused", None)] + [(1, "fine", None)] * 5
    with pytest.raises(psycopg2.errors.CheckViolation):
        with pg.atomic():
            pg.execute_sql("INSERT INTO parent VALUES (1)")
            load(pg, rows)
    assert child_rows(pg) == []
    assert pg.execute_sql("SELECT 1").fetchone() == (1,)  # the connection is still usable


@pytest.mark.postgres
def test_an_error_in_the_caller_stops_the_copy_and_nothing_is_kept(pg):
    with pytest.raises(ValueError, match="stop here"):
        with pg.atomic():
            pg.execute_sql("INSERT INTO parent VALUES (1)")
            with CopyStream(pg, COPY_CHILD) as stream:
                stream.write(copy_text([(1, "x", None)] * 3, 2, nullable=(2,)))
                raise ValueError("stop here")
    assert child_rows(pg) == []
    assert pg.execute_sql("SELECT count(*) FROM parent").fetchone() == (0,)


@pytest.mark.postgres
def test_a_foreign_key_violation_reaches_the_caller(pg):
    with pytest.raises(psycopg2.errors.ForeignKeyViolation):
        with pg.atomic():
            load(pg, [(99, "no parent", None)])
    assert child_rows(pg) == []


@pytest.fixture
def plain_role(pg):
    """A role that is not a superuser and may use the test schema, for SET ROLE."""
    name = "qatt_plain_" + uuid.uuid4().hex[:8]
    schema = pg.execute_sql("SELECT current_schema()").fetchone()[0]
    pg.execute_sql(f'CREATE ROLE "{name}" NOLOGIN')
    pg.execute_sql(f'GRANT ALL ON SCHEMA "{schema}" TO "{name}"')
    try:
        yield name, schema
    finally:
        pg.execute_sql("RESET ROLE")
        pg.execute_sql(f'DROP OWNED BY "{name}"')
        pg.execute_sql(f'DROP ROLE "{name}"')


@pytest.mark.postgres
def test_an_import_by_a_plain_role_succeeds(pg_url, tmp_path, plain_role):
    name, _ = plain_role
    database = dbmod.open_database(pg_url)
    try:
        schema = database.execute_sql("SELECT current_schema()").fetchone()[0]
        for grant in (f'GRANT ALL ON SCHEMA "{schema}"', f'GRANT ALL ON ALL TABLES IN SCHEMA "{schema}"',
                      f'GRANT ALL ON ALL SEQUENCES IN SCHEMA "{schema}"'):
            database.execute_sql(f'{grant} TO "{name}"')  # what the README's shared set-up grants
        database.execute_sql(f'SET ROLE "{name}"')
        path = tmp_path / "cases.csv"
        path.write_text("Ref,Recorded\n" + "".join(f"R{i},01/02/2024\n" for i in range(2500)), encoding="utf-8")
        result = importing.import_population(path, name="plain", actor="lead")
        assert result.rows == 2500
        assert m.Case.select().where(m.Case.population == result.population_id).count() == 2500
        database.execute_sql("RESET ROLE")
    finally:
        database.close()
