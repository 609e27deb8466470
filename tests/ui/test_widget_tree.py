"""A walk over the widget tree of every page: a label with a mnemonic ('&') has a buddy, so the '&'
renders as a shortcut rather than as text, and every input has an accessible name or a buddy label."""

from __future__ import annotations

from PySide6.QtWidgets import (QAbstractSpinBox, QComboBox, QLabel, QLineEdit, QPlainTextEdit, QTextEdit, QWidget)

from qatt.trust import users
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


def mnemonic(text: str):
    """The letter Alt+ presses for `text` ('&&' is a literal '&'), lower case, or None."""
    cleaned = text.replace("&&", "")
    position = cleaned.find("&")
    return cleaned[position + 1].lower() if 0 <= position < len(cleaned) - 1 else None


def shown_mnemonics(window) -> dict:
    """{letter: [texts]} of the mnemonics on screen: menus, visible buttons, buddied labels, tabs."""
    from PySide6.QtWidgets import QAbstractButton, QGroupBox, QTabBar

    found: dict = {}
    texts = [action.text() for action in window.menuBar().actions()]
    for widget in window.findChildren(QWidget):
        if not widget.isVisible():
            continue
        if isinstance(widget, QLabel) and widget.buddy() is not None:
            texts.append(widget.text())
        elif isinstance(widget, QAbstractButton) and widget.isEnabled() or isinstance(widget, QGroupBox) and widget.isCheckable():
            texts.append(widget.text() if isinstance(widget, QAbstractButton) else widget.title())
        elif isinstance(widget, QTabBar):
            texts += [widget.tabText(tab) for tab in range(widget.count())]
    for text in texts:
        letter = mnemonic(text)
        if letter:
            found.setdefault(letter, []).append(text)
    return found


def test_no_two_shortcuts_on_screen_share_a_letter(qtbot, sqlite_db):
    """Alt+letter must reach one thing: two widgets (or a widget and a menu) on the same letter make
    Qt cycle between them or do nothing, so the keyboard user cannot rely on the underlined letter."""
    from PySide6.QtWidgets import QApplication, QTabWidget

    window = visited_window(qtbot, sqlite_db)
    clashes = {}
    for index, (name, _module, _class) in enumerate(PAGES):
        window.show_page(index)
        tab_widgets = [t for t in window.page(index).findChildren(QTabWidget) if t.isVisible()] or [None]
        for tabs in tab_widgets:
            for tab in range(tabs.count() if tabs else 1):
                if tabs:
                    tabs.setCurrentIndex(tab)
                QApplication.processEvents()
                for letter, texts in shown_mnemonics(window).items():
                    if len(texts) > 1:
                        clashes[f"{name}{' / ' + tabs.tabText(tab) if tabs else ''}: Alt+{letter.upper()}"] = texts
    assert not clashes, "\n".join(f"{where}: {texts}" for where, texts in clashes.items())
