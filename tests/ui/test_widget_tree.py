"""A walk over the widget tree of every page: a label with a mnemonic ('&') has a buddy, so the '&'
renders as a shortcut rather than as text, and every input has an accessible name or a buddy label."""

from __future__ import annotations

from PySide6.QtWidgets import (QAbstractSpinBox, QComboBox, QLabel, QLineEdit, QPlainTextEdit, QTextEdit, QWidget)

from qatt import users
from ui.context import AppContext
from ui.main_window import PAGES, MainWindow

INPUTS = (QComboBox, QLineEdit, QAbstractSpinBox, QPlainTextEdit, QTextEdit)


def has_mnemonic(text: str) -> bool:
    return "&" in text.replace("&&", "")


def visited_window(qtbot, sqlite_db) -> MainWindow:
    users.ensure_user("tester", "qa_lead")
    window = MainWindow(AppContext(db=sqlite_db, db_label="test database", actor="tester"))
    qtbot.addWidget(window)
    window.resize(1200, 750)
    window.show()
    for index in range(len(PAGES)):
        window.show_page(index)
    return window


def test_every_page_renders_mnemonics_as_shortcuts_and_names_its_inputs(qtbot, sqlite_db):
    window = visited_window(qtbot, sqlite_db)
    inputs = [w for w in window.findChildren(QWidget) if isinstance(w, INPUTS)]
    assert len(inputs) > 10  # the pages were built, not their placeholders
    labelled = {id(label.buddy()) for label in window.findChildren(QLabel) if label.buddy() is not None}
    mnemonics_as_text = [label.text() for label in window.findChildren(QLabel)
                         if has_mnemonic(label.text()) and label.buddy() is None and not label.textFormat() == 1]
    assert mnemonics_as_text == []
    unnamed = []
    for widget in window.findChildren(QWidget):
        if not isinstance(widget, INPUTS) or isinstance(widget.parent(), (QComboBox, QAbstractSpinBox)):
            continue
        if widget.accessibleName() or id(widget) in labelled:
            continue
        if isinstance(widget, QLineEdit) and isinstance(widget.parent(), (QComboBox, QAbstractSpinBox)):
            continue
        unnamed.append(f"{type(widget).__name__} {widget.objectName()} on "
                       f"{next((p for p in _ancestors(widget) if type(p).__name__.endswith('Page')), None).__class__.__name__}")
    assert unnamed == []


def _ancestors(widget):
    while widget is not None:
        yield widget
        widget = widget.parentWidget()
