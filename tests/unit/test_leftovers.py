"""No leftovers: the migration backup is owner-only from its first byte, and a killed export leaves its
half-written files (openpyxl's included) only in a private folder, which the next start removes."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from qatt import fileio
from qatt.reviewing import reviews
from qatt.cli import main
from qatt.storage import db as dbmod
from qatt.storage import migrations
from qatt.storage import models as m
from tests.factories import COMPLETE_ANSWERS, form_dict, make_population, make_sample, make_user, sample_items, write_form

ROOT = Path(__file__).resolve().parents[2]


def test_the_migration_backup_is_owner_only_while_it_is_copied(tmp_path):
    path = tmp_path / "big.sqlite3"
    db = dbmod.open_database(str(path))
    rows = [{"population": m.Population.create(name="p").id, "reference": f"R{i:06d}", "summary": "x" * 400}
            for i in range(6000)]
    with db.atomic():
        for start in range(0, len(rows), 500):
            m.Case.insert_many(rows[start:start + 500]).execute()
    old_umask = os.umask(0o022)  # what most accounts have: new files readable by everyone
    seen = []

    def watch(status: int, remaining: int, total: int) -> None:
        backups = list(tmp_path.glob("big.sqlite3.test.*"))
        seen.append((remaining, sorted(p.name.rsplit(".bak", 1)[-1] for p in backups),
                     {stat.S_IMODE(p.stat().st_mode) for p in backups}))

    try:
        target = migrations.backup_sqlite(db, "test", progress=watch)
    finally:
        os.umask(old_umask)
        db.close()
    assert len(seen) >= 3 and any(remaining > 0 for remaining, _, _ in seen)  # watched mid-copy
    assert all(modes == {0o600} for _, _, modes in seen)
    assert all(suffixes == [""] for _, suffixes, _ in seen)  # no journal or other file beside it
    assert stat.S_IMODE(target.stat().st_mode) == 0o600 and target.stat().st_size > 2_000_000


CHILD = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {root!r})
    from exports import xlsx
    from qatt import reports
    from qatt.storage.db import open_database

    open_database({db!r})

    def progress(done, total, message):
        if message == "Saving the workbook":  # every sheet is written to openpyxl's spill files
            print("QATT-PAUSED", flush=True)
            time.sleep(600)

    xlsx.export_workbook(reports.workbook_data(reports.ReportFilter()), {target!r}, actor="lead", progress=progress)
    print("QATT-FINISHED", flush=True)
""")


@pytest.fixture
def reviewed_file(sqlite_db, tmp_path):
    folder = tmp_path / "forms"
    write_form(folder, form_dict())
    make_user("sup.a")
    for item in sample_items(make_sample(make_population(3), form_id="test_form")):
        review = reviews.start_review(item.id, "sup.a", forms_dir=folder)
        review = reviews.save_answers(review.id, {**COMPLETE_ANSWERS, "notes": "CASEDATA typed"}, "sup.a",
                                      review.version)
        reviews.submit_review(review.id, "sup.a", review.version)
    sqlite_db.close()
    return sqlite_db.qatt_url


def test_a_killed_export_leaves_nothing_after_the_next_start(reviewed_file, tmp_path):
    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    out = tmp_path / "exports"
    out.mkdir()
    target = out / "qa.xlsx"
    env = {**os.environ, "TMPDIR": str(system_tmp)}
    child = subprocess.Popen([sys.executable, "-c", CHILD.format(root=str(ROOT), db=reviewed_file, target=str(target))],
                             stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout.readline().strip() == "QATT-PAUSED"
        partial = list((out / fileio.PRIVATE_FOLDER).rglob("*"))
        spill = [p for p in partial if p.name.startswith("openpyxl.")]
        assert spill, "openpyxl's spill files should be in the export's private folder"
        assert stat.S_IMODE((out / fileio.PRIVATE_FOLDER).stat().st_mode) == 0o700
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
    assert not target.exists()
    assert list(system_tmp.iterdir()) == []  # nothing of the case data in the system temp folder
    assert (out / fileio.PRIVATE_FOLDER).exists()  # what the killed process left...
    assert main(["sample-size", "--confidence", "95", "--tolerable", "5"]) == 0  # ...until the next start
    assert list(out.iterdir()) == []


def test_a_failed_export_removes_its_private_folder_at_once(tmp_path):
    target = tmp_path / "x.csv"
    with pytest.raises(RuntimeError):
        with fileio.atomic_path(target, ".csv") as tmp:
            tmp.write_text("CASEDATA")
            raise RuntimeError("disk full")
    assert list(tmp_path.iterdir()) == []
    with fileio.atomic_path(target, ".csv") as tmp:
        tmp.write_text("ok")
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"] and stat.S_IMODE(target.stat().st_mode) == 0o600


def test_the_next_start_leaves_a_running_exports_folder_alone(tmp_path):
    ledger = tmp_path / "data"
    with fileio.atomic_path(tmp_path / "out" / "a.csv", ".csv") as tmp:
        fileio._ledger_update(tmp.parent.parent.parent, add=True, ledger_dir=ledger)
        assert fileio.clean_leftovers(ledger) == 0  # this process is alive: its folder stays
        assert tmp.exists()
