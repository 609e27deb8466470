"""A smoke test of the whole window: pages by shortcut, status bar, first-run demo and its hint."""

from __future__ import annotations

from PySide6.QtCore import Qt

from qatt import browse
from qatt.storage import models as m
from ui import app
from ui.context import AppContext, app_settings
from ui.main_window import PAGES, START_HINT, START_HINT_KEY, MainWindow


def test_the_main_window_reaches_every_page_and_loads_the_demo_on_first_run(qtbot, sqlite_db):
    app.ensure_desktop_user("tester")
    window = MainWindow(AppContext(db=sqlite_db, db_label="/tmp/qatt.sqlite3", actor="tester"))
    qtbot.addWidget(window)
    window.show()
    assert "/tmp/qatt.sqlite3" in window.status_label.text() and "tester (admin)" in window.status_label.text()
    for number, (label, _module, class_name) in enumerate(PAGES, start=1):
        action = window.page_actions[number - 1]
        assert action.shortcut().toString() == f"Ctrl+{number}"
        action.trigger()
        assert type(window.stack.currentWidget()).__name__ == class_name
        assert window.sidebar.currentItem().text().startswith(label)

    worker = app.load_demo_on_first_run(window)
    assert worker is not None
    # The hint is shown by the worker's finished handler, connected before the worker started.
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == START_HINT, timeout=60000)
    assert browse.has_populations()
    assert window.page(0).populations.rowCount() == 1
    assert window.page(2).sample_choice.count() == 12  # pages built before the demo loaded show it too
    assert app_settings().value(START_HINT_KEY, type=bool)
    assert app.load_demo_on_first_run(window) is None  # not twice

    window.statusBar().clearMessage()
    window.show_start_hint_once()
    assert window.statusBar().currentMessage() == ""  # the hint is shown only once


def test_the_first_user_of_a_new_database_becomes_its_administrator(sqlite_db):
    app.ensure_desktop_user("first")
    app.ensure_desktop_user("second")
    assert m.User.get(m.User.username == "first").role == "admin"
    assert m.User.get(m.User.username == "second").role == "reviewer"


def test_the_status_bar_never_shows_a_database_password():
    label = app.database_label("postgresql://qa:secret@db.example:5433/qatt")
    assert label == "PostgreSQL db.example:5433/qatt" and "secret" not in label


def test_window_size_is_remembered(qtbot, sqlite_db):
    context = AppContext(db=sqlite_db, db_label="x", actor="tester")
    first = MainWindow(context)
    qtbot.addWidget(first)
    first.resize(700, 500)
    first.close()
    second = MainWindow(context)
    qtbot.addWidget(second)
    assert (second.width(), second.height()) == (700, 500)
    assert second.windowState() == Qt.WindowState.WindowNoState
