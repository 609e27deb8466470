"""File > Back up… (a checked copy written by a worker) and Help > About QATT (version, database,
schema version, form versions)."""

from __future__ import annotations

import os
import stat

from PySide6.QtWidgets import QApplication, QMessageBox

from qatt.reviewing import forms
from qatt.trust import audit, backup
from qatt.storage import migrations
from qatt.storage import models as m
from ui import app
from ui import backup as ui_backup
from ui.context import AppContext
from ui.main_window import MainWindow


def _window(qtbot, database, label: str) -> MainWindow:
    app.ensure_desktop_user("tester")
    window = MainWindow(AppContext(db=database, db_label=label, actor="tester"))
    qtbot.addWidget(window)
    return window


def _message_boxes(title: str):
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.windowTitle() == title]


def test_file_back_up_writes_a_checked_owner_only_copy_in_a_worker(qtbot, sqlite_db, tmp_path, monkeypatch):
    window = _window(qtbot, sqlite_db, sqlite_db.qatt_url)
    target = tmp_path / "copy.sqlite3"
    monkeypatch.setattr(ui_backup, "choose_target", lambda parent: target)
    assert [a.text() for a in window.menuBar().actions()[0].menu().actions()][1] == "&Back up…"

    assert window.back_up() is not None
    # The outcome handlers were connected before the worker started, so wait for what they show.
    qtbot.waitUntil(lambda: bool(_message_boxes("Back-up written and checked")), timeout=60000)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert backup.check_file(target).ok
    assert str(target) in _message_boxes("Back-up written and checked")[0].text()
    last = m.AuditEvent.select().order_by(m.AuditEvent.id.desc()).get()
    assert (last.action, last.details["backup"]) == (audit.DISCLOSURE, "copy.sqlite3")


def test_a_backup_over_an_existing_file_is_refused_with_a_message(qtbot, sqlite_db, tmp_path, monkeypatch):
    window = _window(qtbot, sqlite_db, sqlite_db.qatt_url)
    target = tmp_path / "taken.sqlite3"
    target.write_text("keep me")
    monkeypatch.setattr(ui_backup, "choose_target", lambda parent: target)
    assert window.back_up() is not None
    qtbot.waitUntil(lambda: bool(_message_boxes("The back-up was not written")), timeout=60000)
    assert "already exists; choose a new file name" in _message_boxes("The back-up was not written")[0].text()
    assert target.read_text() == "keep me"


def test_cancelling_the_file_dialog_backs_up_nothing(qtbot, sqlite_db, monkeypatch):
    window = _window(qtbot, sqlite_db, sqlite_db.qatt_url)
    monkeypatch.setattr(ui_backup, "choose_target", lambda parent: None)
    assert window.back_up() is None


def test_about_shows_version_database_schema_and_form_versions(qtbot, sqlite_db, monkeypatch):
    monkeypatch.setattr("qatt.version.version_text", lambda: "9.9.9 (build abc1234)")
    monkeypatch.setattr("qatt.about.version_text", lambda: "9.9.9 (build abc1234)")
    window = _window(qtbot, sqlite_db, "/data/qatt.sqlite3")
    forms.sync_builtin_forms("tester")
    dialog = window.show_about()
    qtbot.addWidget(dialog)
    text = dialog.summary.text()
    assert "QATT 9.9.9 (build abc1234)" in text and "/data/qatt.sqlite3 (SQLite)" in text
    assert f"Schema version: {migrations.LATEST} (this QATT: {migrations.LATEST})" in text
    loaded = forms.load_forms()
    titles = [dialog.forms.item(row, 0).text() for row in range(dialog.forms.rowCount())]
    assert sorted(titles) == sorted(f.title for f in loaded.values())
    row = titles.index(loaded["mosovo_di_check"].title)
    assert dialog.forms.item(row, 1).text() == loaded["mosovo_di_check"].version
    assert dialog.forms.item(row, 2).text() == loaded["mosovo_di_check"].content_hash[:12]
    assert dialog.forms.item(row, 3).text() == "1"
