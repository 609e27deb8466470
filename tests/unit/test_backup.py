"""Back-up and restore of SQLite files (qatt/trust/backup.py, `backup`, `restore`, `check-backup`).

The back-up must be consistent while another process is part-way through a save, owner-only from
its first byte, and checked; a damaged back-up must never replace a working database."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.conftest import mark_training

from qatt import demo
from qatt.intake import importing
from qatt.reviewing import reviews
from qatt.trust import audit, backup
from qatt.cli import main as cli_main
from qatt.errors import QattError
from qatt.storage import db as dbmod
from qatt.storage import models as m
from tests.factories import form_dict, make_population, make_sample, make_user, sample_items, write_form
from tests.fault_child import MARKER

CHILD = Path(__file__).resolve().parents[1] / "fault_child.py"
WATCHDOG_SECONDS = 300
ANSWERS_A = {"c1": "yes", "c3": "no", "notes": "saved draft"}
ANSWERS_B = {"c1": "no", "c3": None, "c2": "na", "notes": "in the middle of being saved"}


@pytest.fixture
def database_file(tmp_path) -> Path:
    """A QATT SQLite file with a population, a sample and a saved review draft (closed again)."""
    path = tmp_path / "live" / "qatt.sqlite3"
    database = dbmod.open_database(str(path))
    mark_training(database)  # the tests act as "lead" (qatt.trust.identity)
    make_user("lead", "admin")
    importing.import_population(demo.write_csv(tmp_path / "demo.csv", n=60), name="Kept", actor="lead")
    database.close()
    return path


def _counts(path: Path) -> dict:
    conn = sqlite3.connect(str(path))
    try:
        return {table: conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
                for table in ("population", "case", "audit_event", "review")}
    finally:
        conn.close()


def _cli(capsys, *args: str) -> tuple:
    code = cli_main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


# ---------------------------------------------------------------------------------------------- back-up


def test_a_backup_taken_while_another_process_is_saving_is_consistent_and_passes_its_checks(tmp_path):
    url = str(tmp_path / "qatt.sqlite3")
    database = dbmod.open_database(url)
    make_user("sup.a", "reviewer")
    make_user("lead", "qa_lead")
    forms_dir = tmp_path / "forms"
    write_form(forms_dir, form_dict())
    item = sample_items(make_sample(make_population(3), form_id="test_form"))[0]
    review = reviews.start_review(item.id, "sup.a", forms_dir=forms_dir)
    saved = reviews.save_answers(review.id, ANSWERS_A, "sup.a", expected_version=review.version)
    committed_events = audit.verify_chain().events
    database.close()

    # The child writes every row of a save (answers, version, audit event, chain head) and stops
    # before its commit, holding SQLite's write lock, until it is killed.
    child = subprocess.Popen([sys.executable, str(CHILD), "save", url, str(review.id), "sup.a", str(saved.version),
                              json.dumps(ANSWERS_B)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(WATCHDOG_SECONDS, child.kill)
    watchdog.start()
    try:
        for line in child.stdout:
            if line.startswith(MARKER):
                assert "audit-written" in line, line
                break
        else:
            pytest.fail(f"the child ended before its save was under way: {child.stderr.read()[-2000:]}")
        assert child.poll() is None  # still inside its transaction

        result = backup.backup(url, tmp_path / "copy.sqlite3")
        assert child.poll() is None, "the save must still be open while the back-up was taken"
    finally:
        watchdog.cancel()
        child.kill()
        child.wait()
        child.stdout.close()
        child.stderr.close()

    assert result.check.ok and result.check.problems == []
    assert result.check.audit_events == committed_events
    copy = tmp_path / "copy.sqlite3"
    assert not Path(f"{copy}-wal").exists(), "the back-up is one self-contained file"
    # The copy holds the last committed draft, not the save that was still open.
    conn = sqlite3.connect(str(copy))
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT version FROM review WHERE id = ?", (review.id,)).fetchone() == (saved.version,)
    finally:
        conn.close()
    again = backup.check_file_here(copy)
    assert again.ok and again.audit_events == committed_events
    assert reviews.answers_of(_review_in(copy, review.id)) == ANSWERS_A


def _review_in(path: Path, review_id: int):
    dbmod.open_database(str(path), migrate=False)
    return reviews.get_review(review_id)


def test_the_backup_command_checks_the_copy_and_records_the_backup(database_file, tmp_path, capsys):
    copy = tmp_path / "copy.sqlite3"
    events = _counts(database_file)["audit_event"]
    code, out, err = _cli(capsys, "--db", str(database_file), "--user", "lead", "--json", "backup", "--out", str(copy))
    assert code == 0, err
    report = json.loads(out)
    assert report["check"]["ok"] is True and report["check"]["audit_events"] == events
    assert report["target"] == str(copy) and report["bytes"] == copy.stat().st_size
    # The back-up itself is recorded, in the database that was copied (so not in the copy).
    dbmod.open_database(str(database_file))
    last = m.AuditEvent.select().order_by(m.AuditEvent.id.desc()).get()
    assert (last.action, last.object_type, last.details["backup"]) == (audit.DISCLOSURE, "database", "copy.sqlite3")
    assert audit.verify_chain().ok
    m.database_proxy.obj.close()
    assert _counts(copy)["audit_event"] == events


def test_the_backup_file_is_owner_only_before_its_first_byte_is_written(database_file, tmp_path, monkeypatch):
    target = tmp_path / "copy.sqlite3"
    seen = {}
    real_copy = backup._copy

    def watching_copy(source, path):
        seen["mode"] = stat.S_IMODE(os.stat(path).st_mode)
        seen["size"] = os.stat(path).st_size
        real_copy(source, path)

    monkeypatch.setattr(backup, "_copy", watching_copy)
    os.umask(0o022)
    result = backup.backup(str(database_file), target)

    assert seen == {"mode": 0o600, "size": 0}
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert result.check.ok and result.bytes == target.stat().st_size > 0
    assert _counts(target) == _counts(database_file)


def test_a_backup_never_overwrites_a_file(database_file, tmp_path):
    target = tmp_path / "copy.sqlite3"
    target.write_text("someone's notes")
    with pytest.raises(QattError, match="already exists; choose a new file name"):
        backup.backup(str(database_file), target)
    assert target.read_text() == "someone's notes"


def test_a_copy_that_fails_its_check_is_removed_and_the_failure_named(database_file, tmp_path):
    # A database whose own audit log was tampered with gives a copy that fails, and says why.
    conn = sqlite3.connect(str(database_file))
    conn.execute("UPDATE audit_event SET actor = 'someone.else' WHERE id = 1")
    conn.commit()
    conn.close()
    target = tmp_path / "copy.sqlite3"
    with pytest.raises(QattError, match="failed its check, so it was removed: its audit log is broken at event 1"):
        backup.backup(str(database_file), target)
    assert not target.exists()


def test_postgresql_is_pointed_at_pg_dump(capsys):
    code, _out, err = _cli(capsys, "--db", "postgresql://qatt@dbhost/qatt", "backup", "--out", "x.sqlite3")
    assert code == 2 and "pg_dump" in err and "docs/backup.md" in err


def test_a_reviewer_may_not_take_a_backup(database_file, tmp_path, capsys):
    dbmod.open_database(str(database_file))
    make_user("sup.b", "reviewer")
    m.database_proxy.obj.close()
    code, _out, err = _cli(capsys, "--db", str(database_file), "--user", "sup.b", "backup", "--out", str(tmp_path / "c.sqlite3"))
    assert code == 2 and "back up the database" in err
    assert not (tmp_path / "c.sqlite3").exists()


# ---------------------------------------------------------------------------------------------- restore


def _good_backup(database_file: Path, tmp_path: Path) -> Path:
    target = tmp_path / "good.sqlite3"
    backup.backup(str(database_file), target)
    return target


def _truncated(good: Path, bad: Path) -> None:
    bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])


def _page_overwritten(good: Path, bad: Path) -> None:
    data = bytearray(good.read_bytes())
    data[4096 * 2: 4096 * 4] = bytes((i * 37) % 256 for i in range(4096 * 2))
    bad.write_bytes(bytes(data))


def _audit_altered(good: Path, bad: Path) -> None:
    shutil.copyfile(good, bad)
    conn = sqlite3.connect(str(bad))
    conn.execute("UPDATE audit_event SET object_id = 'changed' WHERE id = (SELECT MAX(id) FROM audit_event)")
    conn.commit()
    conn.close()


def _not_a_database(good: Path, bad: Path) -> None:
    bad.write_text("case_ref,officer\n1,PC Smith\n")


@pytest.mark.parametrize("damage, message", [
    (_truncated, "cannot be restored: "),
    (_page_overwritten, "cannot be restored: "),
    (_audit_altered, "cannot be restored: its audit log is broken at event"),
    (_not_a_database, "cannot be restored: it is not an SQLite database file"),
], ids=["truncated", "page-overwritten", "audit-altered", "not-a-database"])
def test_restoring_a_damaged_file_is_refused_and_the_current_database_untouched(database_file, tmp_path, capsys,
                                                                                damage, message):
    bad = tmp_path / "bad.sqlite3"
    damage(_good_backup(database_file, tmp_path), bad)
    before = _counts(database_file)
    raw_before = database_file.read_bytes()

    with pytest.raises(QattError, match=message) as refused:
        backup.restore(str(database_file), bad)
    assert "The current database" in str(refused.value) and "was not changed" in str(refused.value)
    assert database_file.read_bytes() == raw_before

    code, _out, err = _cli(capsys, "--db", str(database_file), "--user", "lead", "restore", str(bad), "--yes")
    assert code == 2 and message in err and "was not changed" in err
    assert _counts(database_file) == before
    assert not list(database_file.parent.glob("*.before-restore.*")), "nothing is set aside when nothing is restored"


def test_restore_puts_the_backup_back_and_keeps_the_current_database_aside(database_file, tmp_path, capsys):
    good = _good_backup(database_file, tmp_path)
    in_backup = _counts(good)
    dbmod.open_database(str(database_file))
    importing.import_population(demo.write_csv(tmp_path / "later.csv", n=25, seed=3), name="Later", actor="lead")
    m.database_proxy.obj.close()
    current = _counts(database_file)
    assert current["population"] == in_backup["population"] + 1

    code, out, err = _cli(capsys, "--db", str(database_file), "--user", "lead", "--json", "restore", str(good), "--yes")

    assert code == 0, err
    result = json.loads(out)
    kept = Path(result["previous_kept_at"])
    assert kept.parent == database_file.parent and ".before-restore." in kept.name
    assert stat.S_IMODE(os.stat(kept).st_mode) == 0o600
    assert _counts(kept)["population"] == current["population"], "the replaced database is kept whole"
    dbmod.open_database(str(database_file))
    assert [p.name for p in m.Population.select()] == ["Kept"]
    chain = audit.verify_chain()
    assert chain.ok and chain.events == in_backup["audit_event"] + 1
    last = m.AuditEvent.select().order_by(m.AuditEvent.id.desc()).get()
    assert (last.action, last.object_type, last.details["restored_from"]) == (audit.ALTERATION, "database", "good.sqlite3")
    m.database_proxy.obj.close()


def test_restore_without_yes_and_without_a_terminal_asks_and_changes_nothing(database_file, tmp_path, capsys, monkeypatch):
    good = _good_backup(database_file, tmp_path)
    monkeypatch.setattr(sys, "stdin", open(os.devnull))
    before = _counts(database_file)
    code, _out, err = _cli(capsys, "--db", str(database_file), "--user", "lead", "restore", str(good))
    sys.stdin.close()
    assert code == 2 and "Run again with --yes to confirm" in err
    assert _counts(database_file) == before
    assert not list(database_file.parent.glob("*.before-restore.*"))


def test_check_backup_reports_a_good_file_and_fails_a_damaged_one(database_file, tmp_path, capsys):
    good = _good_backup(database_file, tmp_path)
    bad = tmp_path / "bad.sqlite3"
    _audit_altered(good, bad)
    code, out, _err = _cli(capsys, "--json", "check-backup", str(good))
    assert code == 0 and json.loads(out)["ok"] is True
    code, out, _err = _cli(capsys, "check-backup", str(bad))
    assert code == 1 and "FAILED its check" in out and "audit log is broken" in out


def test_a_backup_can_be_restored_where_there_is_no_database_yet(database_file, tmp_path, capsys):
    good = _good_backup(database_file, tmp_path)
    fresh = tmp_path / "new-machine" / "qatt.sqlite3"
    fresh.parent.mkdir()
    code, out, err = _cli(capsys, "--db", str(fresh), "--user", "lead", "--json", "restore", str(good), "--yes")
    assert code == 0, err
    assert json.loads(out)["previous_kept_at"] == ""
    assert stat.S_IMODE(os.stat(fresh).st_mode) == 0o600
    assert _counts(fresh)["population"] == _counts(good)["population"] == 1
    assert backup.check_file_here(fresh).ok


def test_only_an_administrator_may_restore_over_a_database(database_file, tmp_path, capsys):
    good = _good_backup(database_file, tmp_path)
    dbmod.open_database(str(database_file))
    make_user("lead.b", "qa_lead")
    m.database_proxy.obj.close()
    before = _counts(database_file)
    code, _out, err = _cli(capsys, "--db", str(database_file), "--user", "lead.b", "restore", str(good), "--yes")
    assert code == 2 and "restore the database from a back-up" in err
    assert _counts(database_file) == before
