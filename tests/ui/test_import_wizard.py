"""The import wizard driven through its own widgets, with the real importer running in workers."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QTimer

from qatt.intake import importing, mapping as mappings
from qatt.storage import models as m
from ui.context import AppContext, app_settings
from ui.dialogs import import_wizard
from ui.dialogs.import_wizard import ImportWizard
from ui.pages.populations import PopulationsPage

HEADER = "Crime Ref,Date Recorded,Area,Division,OIC,Risk\n"


def write_csv(path, rows: int, bad_row: int | None = None):
    lines = [HEADER]
    for i in range(1, rows + 1):
        date = "31/02/2024" if i == bad_row else f"{1 + i % 28:02d}/03/2024"
        lines.append(f"CR{i:06d},{date},Missing children,North,PC {i % 9},{('standard', 'high')[i % 2]}\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def context(sqlite_db):
    return AppContext(db=sqlite_db, db_label="test database", actor="tester")


def open_wizard(qtbot, context, csv_path) -> ImportWizard:
    wizard = ImportWizard(context)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.file_page.path_box.setText(str(csv_path))
    return wizard


def go_to_check_page(qtbot, wizard: ImportWizard) -> None:
    wizard.next()  # preview
    wizard.next()  # mapping
    wizard.next()  # check: starts the worker
    assert wizard.currentPage() is wizard.check_page
    qtbot.waitUntil(lambda: wizard.check_page.worker is None, timeout=20000)


def test_a_good_file_is_mapped_automatically_checked_and_imported(qtbot, context, tmp_path):
    csv_path = write_csv(tmp_path / "march.csv", 40)
    page = PopulationsPage(context)
    qtbot.addWidget(page)
    wizard = open_wizard(qtbot, context, csv_path)
    wizard.imported.connect(page._imported)
    assert wizard.file_page.name_box.text() == "march"
    wizard.next()
    assert wizard.currentPage() is wizard.preview_page
    assert wizard.preview_page.table.rowCount() == 20
    assert wizard.preview_page.table.horizontalHeaderItem(0).text() == "Crime Ref"
    wizard.next()
    boxes = wizard.mapping_page.field_boxes
    assert boxes["reference"].currentText() == "Crime Ref"
    assert boxes["recorded_date"].currentText() == "Date Recorded"
    assert boxes["officer"].currentText() == "OIC"
    assert wizard.mapping_page.isComplete()
    wizard.next()
    qtbot.waitUntil(lambda: wizard.check_page.worker is None, timeout=20000)
    assert wizard.check_page.problems.rowCount() == 0
    assert "No problems" in wizard.check_page.summary.text()
    with qtbot.waitSignal(wizard.imported, timeout=20000) as imported:
        wizard.next()
    population = m.Population.get_by_id(imported.args[0])
    assert population.row_count == 40 and population.name == "march"
    assert "Imported 40 cases" in wizard.import_page.result_label.text()
    assert page.populations.rows[0][1] == "march"
    assert page.cases.total == 40
    assert app_settings().value(import_wizard.LAST_FOLDER_KEY) == str(tmp_path)


def test_a_bad_row_is_listed_with_its_row_and_column_and_can_be_skipped(qtbot, context, tmp_path):
    csv_path = write_csv(tmp_path / "bad.csv", 10, bad_row=4)
    wizard = open_wizard(qtbot, context, csv_path)
    go_to_check_page(qtbot, wizard)
    table = wizard.check_page.problems
    assert table.rowCount() == 1
    assert table.item(0, 0).text() == "bad.csv"
    assert table.item(0, 1).text() == "5"  # the header is row 1
    assert table.item(0, 2).text() == "Date Recorded"
    assert not wizard.check_page.isComplete()
    wizard.check_page.skip_invalid.setChecked(True)
    assert wizard.check_page.isComplete()
    with qtbot.waitSignal(wizard.imported, timeout=20000) as imported:
        wizard.next()
    assert m.Population.get_by_id(imported.args[0]).row_count == 9


def test_the_reference_must_be_mapped_before_going_on(qtbot, context, tmp_path):
    wizard = open_wizard(qtbot, context, write_csv(tmp_path / "a.csv", 3))
    wizard.next()
    wizard.next()
    wizard.mapping_page.field_boxes["reference"].setCurrentIndex(0)
    assert not wizard.mapping_page.isComplete()


def test_a_saved_mapping_is_offered_and_loaded_by_name(qtbot, context, tmp_path):
    wizard = open_wizard(qtbot, context, write_csv(tmp_path / "a.csv", 3))
    wizard.next()
    wizard.next()
    boxes = wizard.mapping_page.field_boxes
    boxes["team"].setCurrentText("Division")
    boxes["division"].setCurrentIndex(0)
    wizard.mapping_page.save_as("Niche monthly")
    assert mappings.load_mapping("Niche monthly")["team"] == "Division"
    boxes["team"].setCurrentIndex(0)
    wizard.mapping_page.saved_box.setCurrentText("Niche monthly")
    wizard.mapping_page.load_saved()
    assert boxes["team"].currentText() == "Division"
    assert "division" not in wizard.mapping_page.current_mapping()


def hold_import_until(event: threading.Event, monkeypatch):
    """Make the wizard's import wait (in its worker) until `event` is set or it is cancelled."""
    real_import = importing.import_population

    def held_import(*args, progress, cancel, **kwargs):
        progress(0, 0, "Waiting to start…")
        while not (event.wait(0.01) or cancel.cancelled):
            pass
        return real_import(*args, progress=progress, cancel=cancel, **kwargs)

    monkeypatch.setattr(importing, "import_population", held_import)


def test_the_window_keeps_responding_while_an_import_runs(qtbot, context, tmp_path, monkeypatch):
    ticks = []
    enough_ticks = threading.Event()
    hold_import_until(enough_ticks, monkeypatch)
    wizard = open_wizard(qtbot, context, write_csv(tmp_path / "big.csv", 2000))
    go_to_check_page(qtbot, wizard)
    timer = QTimer()
    timer.setInterval(5)

    def tick():
        ticks.append(wizard.import_page.worker is not None)
        if len(ticks) >= 10:
            enough_ticks.set()

    timer.timeout.connect(tick)
    timer.start()
    with qtbot.waitSignal(wizard.imported, timeout=30000):
        wizard.next()
    timer.stop()
    # The import could only finish after the GUI thread's timer had fired ten times during it.
    assert len(ticks) >= 10 and all(ticks[:10])
    assert m.Population.select().count() == 1


def test_cancel_during_an_import_leaves_no_population(qtbot, context, tmp_path, monkeypatch):
    hold_import_until(threading.Event(), monkeypatch)  # never released: only Cancel ends it
    wizard = open_wizard(qtbot, context, write_csv(tmp_path / "big.csv", 500))
    go_to_check_page(qtbot, wizard)
    wizard.next()
    panel = wizard.import_page.progress
    qtbot.waitUntil(lambda: panel.message.text() == "Waiting to start…")
    assert panel.cancel_button.isEnabled()
    panel.cancel_button.click()
    qtbot.waitUntil(lambda: wizard.import_page.worker is None, timeout=20000)
    assert "nothing was saved" in wizard.import_page.result_label.text()
    assert not wizard.import_page.isComplete()
    assert m.Population.select().count() == 0 and m.Case.select().count() == 0


def test_a_published_street_extract_imports_with_generated_references_and_keep_last(qtbot, context, tmp_path):
    from tests.data import make_street_extract as street

    path = street.write(tmp_path / "street.csv")
    wizard = open_wizard(qtbot, context, path)
    go_to_check_page(qtbot, wizard)
    page = wizard.check_page
    assert not page.isComplete() and f"{street.ASB} row(s) have no reference." in page.summary.text()
    page.blank_references.setCurrentIndex(page.blank_references.findData("generate"))
    qtbot.waitUntil(lambda: page.worker is None, timeout=20000)
    page.duplicate_references.setCurrentIndex(page.duplicate_references.findData("keep-last"))
    qtbot.waitUntil(lambda: page.worker is None and page.check_result is not None, timeout=20000)
    assert page.problems.rowCount() == 0 and page.isComplete()
    assert f"{street.ASB} row(s) with no reference will get a generated one." in page.summary.text()
    assert "Dates give the month only" in page.summary.text()
    with qtbot.waitSignal(wizard.imported, timeout=20000) as imported:
        wizard.next()
    population = m.Population.get_by_id(imported.args[0])
    assert population.row_count == street.CASES_KEEPING_ONE_OF_EACH
    assert population.import_options["duplicate_references"] == "keep-last"
    assert population.import_options["generated_references"] == street.ASB
    assert "the last row of each kept" in wizard.import_page.result_label.text()

    again = open_wizard(qtbot, context, path)
    go_to_check_page(qtbot, again)
    again.check_page.blank_references.setCurrentIndex(1)
    qtbot.waitUntil(lambda: again.check_page.worker is None, timeout=20000)
    again.check_page.duplicate_references.setCurrentIndex(2)
    qtbot.waitUntil(lambda: again.check_page.worker is None and again.check_page.check_result is not None,
                    timeout=20000)
    assert f"cases of population {population.id}" in again.check_page.summary.text()
    assert again.check_page.import_again.isVisible() and not again.check_page.isComplete()
    again.check_page.import_again.setChecked(True)
    assert again.check_page.isComplete()
    with qtbot.waitSignal(again.imported, timeout=20000) as second:
        again.next()
    assert second.args[0] != population.id and m.Population.select().count() == 2


def test_a_workbook_month_column_can_be_imported_as_months_from_the_check_page(qtbot, context, tmp_path):
    """A month column kept in a workbook as the 1st of each month (shown as Nov-16) reads as days; the
    check page's "Dates recorded" choice stores it with month precision, as `--date-precision month`."""
    import datetime as dt

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Crime Ref", "Date Recorded", "OIC"])
    for n in range(1, 7):
        sheet.append([f"C{n}", dt.datetime(2016, 11, 1), "PC A"])
        sheet.cell(sheet.max_row, 2).number_format = "mmm-yy"
    path = tmp_path / "months.xlsx"
    book.save(path)
    wizard = open_wizard(qtbot, context, path)
    go_to_check_page(qtbot, wizard)
    page = wizard.check_page
    assert page.date_precision.currentData() == "auto" and "month only" not in page.summary.text()
    page.date_precision.setCurrentIndex(page.date_precision.findData("month"))
    qtbot.waitUntil(lambda: page.worker is None and page.check_result is not None, timeout=20000)
    assert "Dates give the month only" in page.summary.text()
    with qtbot.waitSignal(wizard.imported, timeout=20000) as imported:
        wizard.next()
    population = m.Population.get_by_id(imported.args[0])
    assert population.import_options["date_precision"] == "month"
    assert population.import_options["date_precision_option"] == "month"
