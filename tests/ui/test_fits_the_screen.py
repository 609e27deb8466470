"""Every page fits a 1200x750 window, and the same window at 150% display scaling (a font 1.5 times
as large in a window 1.5 times as large): the window never has to grow, and no label, button, check
box, group-box title or table column shows its text cut. The pages are filled with the demo data,
so the lists hold real references, grades and areas."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QTextDocument
from PySide6.QtGui import Qt as GuiQt
from PySide6.QtWidgets import (
    QAbstractButton, QApplication, QGroupBox, QHeaderView, QLabel, QScrollArea, QTableView, QTabWidget, QWidget,
)

from qatt import demo
from ui.context import AppContext
from tests.ui.test_widget_tree import shown_mnemonics
from ui.main_window import PAGES, MainWindow

SIZE = (1200, 750)
ACTOR = demo.DEMO_QA_LEAD  # sees every figure, so every table is filled
# One worker loads the module's demo database once for both walks (pytest-xdist runs the group on one worker).
pytestmark = pytest.mark.xdist_group("test_fits_the_screen")


def plain(text: str) -> str:
    """The text as drawn: a mnemonic's '&' is not drawn ('&&' is one '&')."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def shown_text(label: QLabel) -> str:
    if label.textFormat() == Qt.TextFormat.RichText or (label.textFormat() == Qt.TextFormat.AutoText
                                                       and GuiQt.mightBeRichText(label.text())):
        document = QTextDocument()
        document.setHtml(label.text())
        return document.toPlainText()
    return plain(label.text()) if label.buddy() is not None else label.text()


def really_visible(widget: QWidget, window: QWidget) -> bool:
    return widget.isVisibleTo(window) and widget.isVisible() and widget.width() > 0


def cut_texts(window: QWidget) -> list:
    """What the window shows cut: one line per widget whose text is wider than its room."""
    cut = []
    for label in window.findChildren(QLabel):
        if not really_visible(label, window) or label.wordWrap() or not label.text():
            continue
        text = shown_text(label)
        metrics = label.fontMetrics()
        widest = max((metrics.horizontalAdvance(line) for line in text.splitlines()), default=0)
        if widest > label.contentsRect().width() + 1:
            cut.append(f"label {text[:60]!r}: {widest} px in {label.contentsRect().width()} px")
    for button in window.findChildren(QAbstractButton):
        if not really_visible(button, window) or not button.text() or button.parent().__class__.__name__ == "QTabBar":
            continue
        if button.sizeHint().width() > button.width() + 1:
            cut.append(f"{type(button).__name__} {plain(button.text())!r}: needs {button.sizeHint().width()} px, "
                       f"has {button.width()} px")
    for box in window.findChildren(QGroupBox):
        if really_visible(box, window) and box.title():
            needed = box.fontMetrics().horizontalAdvance(plain(box.title())) + 2 * box.fontMetrics().averageCharWidth()
            if needed > box.width():
                cut.append(f"group box {box.title()!r}: {needed} px in {box.width()} px")
    for table in window.findChildren(QTableView):
        if not really_visible(table, window) or table.model() is None or table.model().rowCount() == 0:
            continue
        header = table.horizontalHeader()
        last = header.count() - 1
        for column in range(header.count()):
            if header.isSectionHidden(column) or column == last or \
                    header.sectionResizeMode(column) == QHeaderView.ResizeMode.Stretch:
                continue  # the long column takes what is left; its cells elide or wrap, whole in the tooltip
            needed = max(table.sizeHintForColumn(column), header.sectionSizeHint(column))
            if header.sectionSize(column) + 1 < needed:
                heading = table.model().headerData(column, Qt.Orientation.Horizontal)
                cut.append(f"column {heading!r} of {table.accessibleName()!r}: {header.sectionSize(column)} px, "
                           f"needs {needed} px")
    for scroll in window.findChildren(QScrollArea):
        content = scroll.widget()
        if really_visible(scroll, window) and content is not None and content.width() > scroll.viewport().width() + 1:
            cut.append(f"{scroll.accessibleName() or type(content).__name__} scrolls sideways: {content.width()} px "
                       f"in {scroll.viewport().width()} px")
    return cut


def open_a_submitted_review(window: MainWindow) -> None:
    """The Review page with a submitted review's form shown (read only), so the form is measured too."""
    page = window.page(2)
    row = next(row for row, item in enumerate(page.work) if item.review_id is not None)
    page.table.selectRow(row)
    assert page.form_view is not None


def tabs_of(window: QWidget) -> list:
    return [tabs for tabs in window.findChildren(QTabWidget) if really_visible(tabs, window)]


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory):
    from qatt.storage import db as dbmod
    from tests.conftest import mark_training

    url = str(tmp_path_factory.mktemp("fit") / "qatt.sqlite3")
    database = dbmod.open_database(url)
    database.qatt_url = url
    mark_training(database)
    demo.load_demo_with_reviews("tester", cases=600)
    yield database
    database.close()


def clashes(window: QWidget) -> list:
    """Alt+letter shortcuts on screen that two things share (the walk sees the pages with data and a form)."""
    return [f"Alt+{letter.upper()} on {texts}" for letter, texts in shown_mnemonics(window).items() if len(texts) > 1]


def walk_every_page(qtbot, database, size) -> dict:
    window = MainWindow(AppContext(db=database, db_label="test database", actor=ACTOR))
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    found = {}
    for index, (name, _module, _class) in enumerate(PAGES):
        window.show_page(index)
        page = window.page(index)
        if index == 2:
            open_a_submitted_review(window)
        qtbot.waitUntil(lambda: not getattr(page, "loading", False), timeout=30_000)
        seen = [tabs.currentIndex() for tabs in tabs_of(window)]
        for tabs in tabs_of(window):
            for tab in range(tabs.count()):
                tabs.setCurrentIndex(tab)
                QApplication.processEvents()
                problems = cut_texts(window) + clashes(window)
                if (window.width(), window.height()) != size:
                    problems.append(f"the window grew to {window.width()}x{window.height()}")
                if problems:
                    found[f"{name} / {plain(tabs.tabText(tab))}"] = problems
        if not seen:
            QApplication.processEvents()
            problems = cut_texts(window) + clashes(window)
            if (window.width(), window.height()) != size:
                problems.append(f"the window grew to {window.width()}x{window.height()}")
            if problems:
                found[name] = problems
        window.resize(*size)
    return found


def report(found: dict) -> str:
    return "\n".join(f"{page}: {problem}" for page, problems in found.items() for problem in problems)


def test_every_page_fits_1200_by_750_with_no_text_cut(qtbot, demo_database):
    found = walk_every_page(qtbot, demo_database, SIZE)
    assert not found, report(found)


def test_every_page_fits_at_150_percent_scaling(qtbot, demo_database):
    application = QApplication.instance()
    normal = QFont(application.font())
    large = QFont(normal)
    large.setPointSizeF(normal.pointSizeF() * 1.5)
    application.setFont(large)
    try:
        found = walk_every_page(qtbot, demo_database, (SIZE[0] * 3 // 2, SIZE[1] * 3 // 2))
    finally:
        application.setFont(normal)
    assert not found, report(found)


def test_the_check_reports_a_cut_label(qtbot):
    """The walk itself can fail: a label narrower than its text is reported."""
    window = QWidget()
    qtbot.addWidget(window)
    label = QLabel("Requires improvement", window)
    label.resize(30, 20)
    window.show()
    assert any("Requires improvement" in problem for problem in cut_texts(window))
