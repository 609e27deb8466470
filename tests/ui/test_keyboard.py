"""Keyboard use: pressing Tab, as a person does (a key press sent to whatever has the focus), goes
through every control of every page and of the dialogs that start the work (import, draw) once
each and comes back to where it started. No table keeps Tab to walk its cells, and no control
keeps the focus: a keyboard user can always move on. The pages are filled with demo data, with a
case's form open on the Review page, so the walk meets real tables and forms."""

from __future__ import annotations

from typing import List, Optional, Tuple

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractSpinBox, QApplication, QComboBox, QPushButton, QTableWidget, QVBoxLayout, QWidget,
)

from qatt import demo
from tests.conftest import demo_copy, mark_training
from ui.context import AppContext
from ui.main_window import PAGES, MainWindow

pytestmark = pytest.mark.xdist_group("demo_template")  # one worker loads the demo template (tests/conftest.py)


def focus_owner(widget: Optional[QWidget]) -> Optional[QWidget]:
    """The control a focused widget belongs to: an editable combo box's or a spin box's own line edit is the box."""
    parent = widget.parentWidget() if widget is not None else None
    return parent if isinstance(parent, (QComboBox, QAbstractSpinBox)) else widget


def tab_walk(start: QWidget, limit: int = 300) -> Tuple[List[QWidget], str]:
    """Press Tab from `start` until the focus is back on it. Returns the controls in the order Tab
    reached them and '' or what went wrong (a control that kept the focus, or a loop without `start`)."""
    start.setFocus(Qt.FocusReason.TabFocusReason)
    QApplication.processEvents()
    first = focus_owner(QApplication.focusWidget())
    reached = [first]
    for _ in range(limit):
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        QApplication.processEvents()
        now = focus_owner(QApplication.focusWidget())
        if now is None:
            return reached, "the focus went nowhere"
        if now is reached[-1]:
            return reached, f"Tab stays in {describe(now)}"
        if now is first:
            return reached, ""
        if now in reached:
            return reached, f"Tab goes round from {describe(reached[-1])} to {describe(now)} and never back to the start"
        reached.append(now)
    return reached, f"more than {limit} presses"


def describe(widget: QWidget) -> str:
    text = widget.text() if isinstance(widget, QPushButton) else ""
    return f"{type(widget).__name__} {widget.accessibleName() or text or widget.objectName()!r}"


def tab_controls(top: QWidget) -> List[QWidget]:
    """The controls on screen in `top` that Tab should reach: shown, enabled, taking Tab focus."""
    found = []
    for widget in top.findChildren(QWidget):
        if focus_owner(widget) is not widget or widget.focusProxy() is not None:
            continue
        if widget.isVisible() and widget.isVisibleTo(top) and widget.isEnabled() \
                and widget.focusPolicy() & Qt.FocusPolicy.TabFocus and widget.window() is top:
            found.append(widget)
    return found


def walk_problems(top: QWidget, start: QWidget) -> List[str]:
    reached, wrong = tab_walk(start)
    problems = [wrong] if wrong else []
    problems += [f"Tab never reaches {describe(widget)}" for widget in tab_controls(top) if widget not in reached]
    return problems


@pytest.fixture
def window(qtbot, demo_template, tmp_path):
    from qatt.storage import db as dbmod

    url = demo_copy(demo_template, tmp_path)
    database = dbmod.open_database(url)
    database.qatt_url = url
    mark_training(database)
    main = MainWindow(AppContext(db=database, db_label="test database", actor=demo.DEMO_QA_LEAD))
    qtbot.addWidget(main)
    main.resize(1200, 750)
    main.show()
    qtbot.waitExposed(main)
    main.activateWindow()
    yield main
    database.close()


def test_tab_reaches_every_control_of_every_page_once_and_comes_back(qtbot, window):
    found = {}
    for index, (name, _module, _class) in enumerate(PAGES):
        window.show_page(index)
        page = window.page(index)
        qtbot.waitUntil(lambda: not getattr(page, "loading", False), timeout=30_000)
        if index == 2:  # the Review page with a case chosen, so its form's controls are walked too
            page.table.selectRow(0)
        QApplication.processEvents()
        problems = walk_problems(window, window.sidebar)
        if problems:
            found[name] = problems
    assert not found, "\n".join(f"{page}: {problem}" for page, problems in found.items() for problem in problems)


def test_the_draw_dialog_is_walked_in_order_through_the_forms_of_each_area(qtbot, window):
    from ui.dialogs.draw_dialog import DrawDialog

    dialog = DrawDialog(window.context, None, window)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.area_boxes, "the demo population has areas, each with its form box"
    assert not walk_problems(dialog, dialog.population)
    reached, _ = tab_walk(dialog.population)
    table_at = reached.index(dialog.area_table)
    boxes = list(dialog.area_boxes.values())
    # Straight after the table, its boxes from the top row down, and then the eligibility filters.
    assert reached[table_at + 1:table_at + 1 + len(boxes)] == boxes
    assert reached[table_at + 1 + len(boxes)] is next(iter(dialog.filters.values()))


def test_the_import_wizard_and_the_about_box_let_tab_through(qtbot, window):
    from ui.dialogs.about import AboutDialog
    from ui.dialogs.import_wizard import ImportWizard

    wizard = ImportWizard(window.context, window)
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.waitExposed(wizard)
    assert not walk_problems(wizard, wizard.focusWidget() or wizard)
    about = AboutDialog(window.context, window)
    qtbot.addWidget(about)
    about.show()
    qtbot.waitExposed(about)
    assert not walk_problems(about, about.forms)


def table_then_button(qtbot, with_box: bool) -> Tuple[QWidget, QTableWidget]:
    top = QWidget()
    qtbot.addWidget(top)
    layout = QVBoxLayout(top)
    table = QTableWidget(2, 2)  # Tab walks its cells: a table view's default
    if with_box:
        table.setCellWidget(0, 1, QComboBox())
    layout.addWidget(table)
    layout.addWidget(QPushButton("After the table"))
    top.show()
    qtbot.waitExposed(top)
    top.activateWindow()
    return top, table


def test_the_walk_reports_a_table_that_keeps_tab(qtbot):
    """The check itself can fail: a table left to walk its cells with Tab keeps the focus, and one
    holding a box of its own (as the draw dialog's forms table did) never lets Tab out."""
    top, table = table_then_button(qtbot, with_box=False)
    assert walk_problems(top, table)[0] == "Tab stays in QTableWidget ''"
    top, table = table_then_button(qtbot, with_box=True)
    assert walk_problems(top, table) == ["Tab never reaches QPushButton 'After the table'"]


def button_tab_order(box) -> List[QWidget]:
    """The box's buttons in the order Tab reaches them, starting from its first button on screen."""
    from ui.widgets.buttons import screen_order

    shown = screen_order(box)
    shown[0].setFocus(Qt.FocusReason.TabFocusReason)
    QApplication.processEvents()
    reached = [QApplication.focusWidget()]
    for _ in shown[1:]:
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        QApplication.processEvents()
        reached.append(QApplication.focusWidget())
    return reached


def test_a_dialogs_buttons_are_tabbed_in_the_order_they_stand_on_screen(qtbot, window):
    """The draw dialog showed Draw, Cancel and tabbed Cancel, Draw (Cancel was made first); the
    About box's Copy came after Close. Left to right on screen is the order Tab takes."""
    from PySide6.QtWidgets import QDialogButtonBox

    from ui.dialogs.about import AboutDialog
    from ui.dialogs.draw_dialog import DrawDialog

    for dialog in (DrawDialog(window.context, None, window), AboutDialog(window.context, window)):
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        (box,) = dialog.findChildren(QDialogButtonBox)
        QApplication.processEvents()  # the buttons are chained once the shown box is laid out
        shown = sorted((b for b in box.buttons() if b.isVisible()), key=lambda b: b.mapTo(dialog, b.rect().topLeft()).x())
        assert len(shown) == 2
        assert button_tab_order(box) == shown, [describe(b) for b in button_tab_order(box)]
        dialog.close()


def test_every_dialog_button_box_follows_the_screen_order():
    """Each QDialogButtonBox the desktop makes goes through ui.widgets.buttons.tab_in_screen_order."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "ui"
    bare = []
    for path in root.rglob("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if re.search(r"(?<!\()QDialogButtonBox\(", line) and "tab_in_screen_order(QDialogButtonBox(" not in line:
                bare.append(f"{path.relative_to(root.parent)}:{number}")
    assert not bare, "button boxes whose Tab order is the order they were made in: " + ", ".join(bare)
