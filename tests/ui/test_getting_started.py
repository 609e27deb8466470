"""Help > Getting started opens the guide from docs/, which walks through the work with its keys."""

from __future__ import annotations

import pytest

from qatt.trust import users
from qatt.errors import QattError
from ui.context import AppContext
from ui.dialogs.getting_started import GUIDE, GettingStartedDialog, guide_text
from ui.main_window import MainWindow


def test_help_getting_started_opens_the_guide_with_each_step_and_its_keys(qtbot, sqlite_db):
    users.ensure_user("tester", "qa_lead")
    window = MainWindow(AppContext(db=sqlite_db, db_label="test database", actor="tester"))
    qtbot.addWidget(window)
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    action = next(a for a in help_menu.actions() if a.text() == "&Getting started")
    action.trigger()
    dialog = window.findChild(GettingStartedDialog)
    assert dialog is not None and dialog.isVisible()
    text = dialog.browser.toPlainText()
    for step in ("Import the case list", "Draw the sample", "Review the cases", "Moderate", "export"):
        assert step in text
    for keys in ("Ctrl+I", "Ctrl+D", "Ctrl+Enter", "Ctrl+PgDown"):
        assert keys in text
    assert "|---|" not in text  # the Markdown table is rendered, not shown as source
    dialog.reject()


def test_the_guide_is_the_shipped_docs_file_and_a_missing_one_says_what_to_do(tmp_path):
    assert GUIDE.name == "getting-started.md" and GUIDE.parent.name == "docs"
    assert guide_text().startswith("# Getting started")
    with pytest.raises(QattError, match="reinstall QATT"):
        guide_text(tmp_path / "missing.md")


def test_the_navigation_keeps_its_width(qtbot, sqlite_db):
    users.ensure_user("tester", "qa_lead")
    window = MainWindow(AppContext(db=sqlite_db, db_label="test database", actor="tester"))
    qtbot.addWidget(window)
    assert window.sidebar.minimumWidth() == window.sidebar.maximumWidth() > 0
