"""The desktop loads peewee without the PostgreSQL driver (qatt.storage.driver, from ui/app.py) and
gives it the driver when a PostgreSQL database is opened (qatt.storage.db); elsewhere peewee loads as usual. Checked in fresh interpreters: this test process imported
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
from qatt.storage import driver
driver.defer_psycopg2()
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
from qatt.storage import driver
driver.defer_psycopg2()
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


_DRIVER_STATE = """
import uuid
import psycopg2.extensions
adapter = peewee.Psycopg2Adapter
out = {"psycopg2": getattr(peewee.psycopg2, "__name__", None),
       "pg_extensions": getattr(getattr(peewee, "pg_extensions", None), "__name__", None),
       "Json_pg2": getattr(peewee.Json_pg2, "__qualname__", None),
       "txn": [adapter.txn_idle, adapter.txn_inerror, adapter.txn_unknown],
       "uuid_adapted": (uuid.UUID, psycopg2.extensions.ISQLQuote) in psycopg2.extensions.adapters}
"""


def test_the_driver_handed_to_peewee_is_set_up_as_peewees_own_import_sets_it():
    # Against a peewee release that sets up more (or other) names on import: the hand-over must match.
    own = _run("import peewee" + _DRIVER_STATE)
    handed = _run("import sys\nfrom qatt.storage import driver\ndriver.defer_psycopg2()\nimport peewee\n"
                  "assert 'psycopg2' not in sys.modules\n"
                  "from qatt.storage import db\ndb.make_database('postgresql://nobody@127.0.0.1:1/none')"
                  + _DRIVER_STATE)
    assert own["psycopg2"] == "psycopg2" and own["txn"] == [0, 3, 4] and own["uuid_adapted"]
    assert handed == own


def test_only_the_desktop_defers_the_driver():
    # The CLI, tests and scripts that build peewee databases themselves get peewee as it always loads.
    plain = _run("import sys\nimport qatt\nfrom qatt.storage import db\nout = 'psycopg2' in sys.modules")
    desktop = _run("import sys\nimport ui.app\nout = 'psycopg2' in sys.modules")
    assert plain is True and desktop is False
