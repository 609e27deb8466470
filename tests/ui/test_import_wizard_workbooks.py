"""The import wizard's file page with workbooks: every workbook kind gets a sheet chooser, hidden
sheets are marked and not chosen by default, and a damaged file or an unexpected error is shown
as a message instead of a Next button that silently does nothing."""

from __future__ import annotations

import zipfile

import openpyxl
import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from qatt.intake import importing
from ui.context import AppContext
from ui.dialogs.import_wizard import ImportWizard

ODS_NAMESPACES = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
                  'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
                  'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
                  'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"')


def write_ods(path, sheets, hidden=()):
    """A minimal OpenDocument spreadsheet: {title: rows of text}; sheets in `hidden` are hidden."""
    tables = []
    for title, rows in sheets.items():
        body = "".join("<table:table-row>" + "".join(
            f'<table:table-cell office:value-type="string"><text:p>{value}</text:p></table:table-cell>'
            for value in row) + "</table:table-row>" for row in rows)
        style = "hidden" if title in hidden else "shown"
        tables.append(f'<table:table table:name="{title}" table:style-name="{style}">{body}</table:table>')
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ODS_NAMESPACES} office:version="1.2">'
               '<office:automatic-styles>'
               '<style:style style:name="hidden" style:family="table"><style:table-properties table:display="false"/>'
               '</style:style><style:style style:name="shown" style:family="table">'
               '<style:table-properties table:display="true"/></style:style></office:automatic-styles>'
               f'<office:body><office:spreadsheet>{"".join(tables)}</office:spreadsheet></office:body>'
               '</office:document-content>')
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry '
                'manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                '</manifest:manifest>')
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        archive.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return path


def hidden_first_sheet(path):
    book = openpyxl.Workbook()
    hidden = book.active
    hidden.title = "Extract"
    hidden.sheet_state = "hidden"
    hidden.append(["Crime Ref"])
    hidden.append(["H1"])
    shown = book.create_sheet("Visible")
    for row in (["Crime Ref"], ["V1"], ["V2"]):
        shown.append(row)
    book.save(path)
    return path


@pytest.fixture
def context(sqlite_db):
    return AppContext(db=sqlite_db, db_label="test database", actor="tester")


@pytest.fixture
def wizard(qtbot, context):
    wizard = ImportWizard(context)
    qtbot.addWidget(wizard)
    wizard.show()
    return wizard


def messages(wizard):
    return [(box.windowTitle(), box.text()) for box in wizard.findChildren(QMessageBox)]


def test_an_ods_workbook_gets_a_sheet_chooser_with_its_hidden_sheet_marked(wizard, tmp_path):
    path = write_ods(tmp_path / "cases.ods", {"Notes": [["x"]], "Cases": [["Crime Ref"], ["C1"]]}, hidden={"Notes"})
    wizard.file_page.path_box.setText(str(path))
    box = wizard.file_page.sheet_box
    assert [box.itemText(i) for i in range(box.count())] == ["Notes (hidden)", "Cases"]
    assert box.isEnabled() and box.currentText() == "Cases"
    wizard.next()
    assert wizard.currentPage() is wizard.preview_page and wizard.sheet == "Cases"
    assert wizard.preview.rows == [["C1"]]


def test_an_xls_workbook_gets_a_sheet_chooser(wizard, tmp_path, monkeypatch):
    # No .xls writer is installed; what matters here is that the page asks the core for the sheets.
    path = tmp_path / "old.xls"
    path.write_bytes(b"stands in for an .xls")
    asked = []

    def preview(path, sheet=None, rows=20):
        asked.append(path.name)
        return importing.Preview(path, ["Crime Ref"], [], {}, None, None, ["One", "Two"], "One", [], [])

    monkeypatch.setattr(importing, "preview", preview)
    wizard.file_page.path_box.setText(str(path))
    assert asked == ["old.xls"] and wizard.file_page.sheet_box.count() == 2


def test_the_file_dialog_offers_every_kind_of_file_the_importer_reads(wizard, monkeypatch):
    offered = []

    def get_open_file_name(_parent, _caption, _folder, filters):
        offered.append(filters)
        return "", ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", get_open_file_name)
    wizard.file_page.choose_file()
    patterns = offered[0].split(";;")[0]
    for pattern in ("*.csv", "*.txt", "*.xlsx", "*.xlsm", "*.xls", "*.ods"):
        assert pattern in patterns.split("(")[1].rstrip(")").split()


def test_the_hidden_first_sheet_is_offered_but_the_visible_one_is_read_unless_chosen(wizard, tmp_path):
    wizard.file_page.path_box.setText(str(hidden_first_sheet(tmp_path / "hidden.xlsx")))
    box = wizard.file_page.sheet_box
    assert [box.itemText(i) for i in range(box.count())] == ["Extract (hidden)", "Visible"]
    assert box.currentText() == "Visible"
    wizard.next()
    assert wizard.sheet == "Visible" and wizard.preview.rows == [["V1"], ["V2"]]
    assert "sheet 'Visible'" in wizard.preview_page.details.text()
    assert "hidden sheet" in wizard.preview_page.details.text()
    wizard.back()
    box.setCurrentIndex(0)
    wizard.next()
    assert wizard.sheet == "Extract" and wizard.preview.rows == [["H1"]]


def test_a_damaged_workbook_is_shown_as_a_message(wizard, tmp_path, qtbot):
    good = tmp_path / "good.xlsx"
    book = openpyxl.Workbook()
    for i in range(40):
        book.active.append([f"CR{i}", "Theft"])
    book.save(good)
    bad = tmp_path / "badxml.xlsx"
    with zipfile.ZipFile(good) as old, zipfile.ZipFile(bad, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info.filename)
            new.writestr(info.filename, data[: len(data) // 2] if info.filename == "xl/worksheets/sheet1.xml" else data)
    wizard.file_page.path_box.setText(str(bad))
    shown = messages(wizard)
    assert len(shown) == 1 and shown[0][0] == "Cannot read the file"
    assert shown[0][1].startswith("badxml.xlsx is damaged: it cannot be read as a workbook")
    wizard.next()
    assert wizard.currentPage() is wizard.file_page and len(messages(wizard)) == 2


@pytest.mark.parametrize("where", ["listing the sheets", "pressing Next"])
def test_an_unexpected_error_reading_the_file_is_shown_not_swallowed(wizard, tmp_path, monkeypatch, where):
    path = tmp_path / "cases.csv" if where == "pressing Next" else tmp_path / "cases.xlsx"
    path.write_text("Crime Ref\nA\n", encoding="utf-8")

    def broken_preview(*_args, **_kwargs):
        raise RuntimeError("a bug in the reader")

    monkeypatch.setattr(importing, "preview", broken_preview)
    wizard.file_page.path_box.setText(str(path))
    if where == "pressing Next":
        assert messages(wizard) == []
        wizard.next()
    assert wizard.currentPage() is wizard.file_page
    (title, text), = messages(wizard)
    assert title == "Cannot read the file"
    assert "cases." in text and "RuntimeError: a bug in the reader" in text and "report" in text
