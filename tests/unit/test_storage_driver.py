"""peewee is loaded without the PostgreSQL driver (qatt/__init__.py) and given it when a PostgreSQL
database is opened (qatt.storage.db). Checked in fresh interpreters: this test process imported
peewee, with psycopg2, before qatt."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PG_URL, postgres_unavailable_reason

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code + "\nimport json\nprint(json.dumps(out))"], cwd=ROOT,
                          capture_output=True, text=True, check=True, stdin=subprocess.DEVNULL)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_sqlite_database_opens_without_loading_psycopg2(tmp_path):
    path = str(tmp_path / "q.sqlite3")
    _run(f"from qatt.storage import db\ndb.open_database({path!r})\nout = 0")  # created and migrated
    out = _run(f"""
import sys
from qatt.storage import db
from qatt import browse
database = db.open_database({path!r})
out = {{"loaded": "psycopg2" in sys.modules, "tables": len(database.get_tables())}}
""")
    assert out == {"loaded": False, "tables": out["tables"]} and out["tables"] > 5


@pytest.mark.postgres
def test_a_postgresql_database_gets_the_driver_when_opened():
    if postgres_unavailable_reason():
        pytest.skip(postgres_unavailable_reason())
    out = _run(f"""
import sys, uuid
from qatt.storage import db
import peewee
before = "psycopg2" in sys.modules
database = db.make_database({PG_URL!r})
database.connect()
with database.atomic():
    row = database.execute_sql("SELECT 1, %s::text, %s::uuid", ("é", uuid.UUID(int=7))).fetchone()
try:
    with database.atomic():
        database.execute_sql("SELECT no_such_column")
except peewee.ProgrammingError:
    pass
after_error = database.execute_sql("SELECT 2").fetchone()[0]
out = {{"before": before, "row": [row[0], row[1], str(row[2])], "after_error": after_error,
        "in_transaction": database.in_transaction()}}
""")
    assert out == {"before": False, "row": [1, "é", str(__import__("uuid").UUID(int=7))], "after_error": 2,
                   "in_transaction": False}
