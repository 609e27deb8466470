"""Killing QATT part-way through a write leaves the database as it was before that write.

A real child process (tests/fault_child.py) imports a large extract or saves a review draft and is
SIGKILLed while its transaction is open; the parent then reopens the database, as the app would
after a crash, and checks that nothing of the killed write is visible and everything before it is
intact. The kill is placed by markers the child prints, never by timing.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import Iterator, List

import pytest

from qatt import demo
from qatt.intake import importing
from qatt.reviewing import reviews
from qatt.trust import audit
from qatt.storage import db as dbmod
from qatt.storage import models as m
from tests.conftest import drop_pg_schema, make_pg_schema_url, postgres_unavailable_reason
from tests.factories import form_dict, make_population, make_sample, make_user, sample_items, write_form
from tests.fault_child import MARKER

CHILD = Path(__file__).resolve().parents[1] / "fault_child.py"
# A safety net so a broken child cannot hang the suite; the kill itself never waits on a clock.
WATCHDOG_SECONDS = 300


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> Iterator[str]:
    """A URL for an empty database that both the test and its child process open."""
    if request.param == "sqlite":
        yield str(tmp_path / "qatt.sqlite3")
        return
    reason = postgres_unavailable_reason()
    if reason:
        pytest.skip(reason)
    url, schema = make_pg_schema_url()
    try:
        yield url
    finally:
        drop_pg_schema(schema)


def open_fresh(url: str):
    """Open (and bind) the database as a restarted app would."""
    return dbmod.open_database(url)


def run_child_until(args: List[str], wanted: str) -> List[str]:
    """Start the child, read its markers until one contains `wanted`, SIGKILL it there.

    Returns the markers read. Fails if the child finished or died before reaching `wanted`."""
    child = subprocess.Popen([sys.executable, str(CHILD), *args], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(WATCHDOG_SECONDS, child.kill)
    watchdog.start()
    markers: List[str] = []
    try:
        for line in child.stdout:
            if not line.startswith(MARKER):
                continue
            markers.append(line.strip())
            assert "finished" not in line, "the child completed its write before it could be killed"
            if wanted in line:
                child.send_signal(signal.SIGKILL)
                break
        else:
            pytest.fail(f"the child ended without reaching {wanted!r}: {child.stderr.read()[-2000:]}")
    finally:
        watchdog.cancel()
        child.kill()
        child.wait()
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    return markers


def assert_sqlite_intact(url: str) -> None:
    if not dbmod.is_postgres_url(url):
        assert m.database_proxy.obj.execute_sql("PRAGMA integrity_check").fetchall() == [("ok",)]


# --------------------------------------------------------------------------------------------- imports


def test_an_import_killed_part_way_leaves_no_population_and_the_earlier_one_intact(db_url, tmp_path):
    database = open_fresh(db_url)
    earlier = demo.write_csv(tmp_path / "earlier.csv", n=40)
    kept = importing.import_population(earlier, name="Earlier", actor="tester")
    events_before = audit.verify_chain().events
    database.close()
    # Progress is reported about every 1,000 rows, after they were written: killing at report 10
    # leaves thousands of uncommitted rows in the open transaction.
    big = demo.write_csv(tmp_path / "big.csv", n=30_000, seed=7)

    markers = run_child_until(["import", db_url, str(big), "20"], "report=10")

    assert markers[-1].endswith("report=10")
    database = open_fresh(db_url)
    try:
        assert_sqlite_intact(db_url)
        assert [p.name for p in m.Population.select()] == ["Earlier"]
        assert m.Case.select().count() == kept.rows == 40
        population = m.Population.get_by_id(kept.population_id)
        assert population.row_count == 40 and population.fingerprint == kept.fingerprint
        chain = audit.verify_chain()
        assert chain.ok and chain.events == events_before
        # The database still takes writes: no lock or half-written page was left behind.
        again = importing.import_population(earlier, name="After the crash", actor="tester", allow_duplicate=True)
        assert m.Case.select().where(m.Case.population == again.population_id).count() == 40
    finally:
        database.close()


def test_the_wal_a_killed_import_leaves_behind_is_owner_only_too(tmp_path):
    """The WAL holds case rows as well; SQLite gives it the database file's private mode."""
    url = str(tmp_path / "qatt.sqlite3")
    open_fresh(url).close()
    big = demo.write_csv(tmp_path / "big.csv", n=30_000, seed=7)

    run_child_until(["import", url, str(big), "20"], "report=10")

    for path in (Path(url), Path(url + "-wal"), Path(url + "-shm")):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path.name


# --------------------------------------------------------------------------------------------- review drafts


ANSWERS_A = {"c1": "yes", "c3": "no", "notes": "first draft"}
ANSWERS_B = {"c1": "no", "c3": None, "c2": "na", "notes": "second draft, never committed"}


def test_a_review_save_killed_inside_its_transaction_leaves_the_last_saved_draft(db_url, tmp_path):
    database = open_fresh(db_url)
    make_user("sup.a", "reviewer")
    forms_dir = tmp_path / "forms"
    write_form(forms_dir, form_dict())
    item = sample_items(make_sample(make_population(3), form_id="test_form"))[0]
    review = reviews.start_review(item.id, "sup.a", forms_dir=forms_dir)
    saved = reviews.save_answers(review.id, ANSWERS_A, "sup.a", expected_version=review.version)
    events_before = audit.verify_chain().events
    database.close()

    # The child pauses after writing the answers, the version bump, the audit event and the chain
    # head: the kill lands after every row of the save, before the commit.
    run_child_until(["save", db_url, str(review.id), "sup.a", str(saved.version), json.dumps(ANSWERS_B)],
                    "audit-written")

    database = open_fresh(db_url)
    try:
        assert_sqlite_intact(db_url)
        after = reviews.get_review(review.id)
        assert reviews.answers_of(after) == ANSWERS_A
        assert after.version == saved.version
        chain = audit.verify_chain()
        assert chain.ok and chain.events == events_before
        # The next save works and is checked against the surviving version.
        again = reviews.save_answers(review.id, {"c1": "no"}, "sup.a", expected_version=saved.version)
        assert again.version == saved.version + 1 and audit.verify_chain().ok
    finally:
        database.close()
