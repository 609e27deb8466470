"""Workbooks as they arrive: damaged parts, hidden sheets, filters and merged cells. Each is either
read as documented and said so in the summary, or refused in one line naming the file."""

from __future__ import annotations

import struct
import zipfile

import openpyxl
import pytest

from qatt.cli import main
from qatt.errors import QattError
from qatt.intake import importing
from qatt.storage import models as m

SHEET_PART = "xl/worksheets/sheet1.xml"


def workbook(path, rows=None, title="Cases"):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows or [["Crime Ref", "Area"], *[[f"CR{i}", "Theft"] for i in range(40)]]:
        sheet.append(row)
    book.save(path)
    return path


def rewritten(source, target, change):
    """A copy of the workbook `source` with each part passed through change(name, bytes) (None drops it)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = change(info.filename, old.read(info.filename))
            if data is not None:
                new.writestr(info.filename, data)
    return target


def under_declared(source, target, part):
    """A copy whose central directory declares a quarter of `part`'s real unpacked size."""
    data = bytearray(source.read_bytes())
    at = 0
    while (at := data.find(b"PK\x01\x02", at)) >= 0:
        name_length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46: at + 46 + name_length] == part.encode():
            size = struct.unpack_from("<I", data, at + 24)[0]
            struct.pack_into("<I", data, at + 24, size // 4)
        at += 4
    target.write_bytes(bytes(data))
    return target


def imported(path, **options):
    return importing.import_population(path, name="Cases", actor="lead", allow_duplicate=True, **options)


def cli(db, capsys, *args):
    code = main(["--db", db.qatt_url, *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- damaged workbooks -------------------------------------------------------------------------


def test_a_sheet_whose_xml_is_cut_short_is_one_line_naming_the_file_and_exit_2(db, tmp_path, capsys):
    good = workbook(tmp_path / "good.xlsx")
    bad = rewritten(good, tmp_path / "badxml.xlsx", lambda name, data: data[: len(data) // 2] if name == SHEET_PART else data)
    with pytest.raises(QattError, match=r"^badxml.xlsx is damaged: it cannot be read as a workbook \(.+\)\. "
                                        r"Check it opens in Excel and save it again\.$"):
        importing.preview(bad)
    code, _out, err = cli(db, capsys, "import", str(bad))
    assert code == 2 and err.strip().count("\n") == 0 and "badxml.xlsx is damaged" in err and "Traceback" not in err
    assert m.Population.select().count() == 0


def test_a_part_larger_than_its_archive_declares_is_one_line(db, tmp_path):
    bad = under_declared(workbook(tmp_path / "good.xlsx"), tmp_path / "undersized.xlsx", SHEET_PART)
    with pytest.raises(QattError, match=r"^undersized.xlsx is damaged: it cannot be read as a workbook") as caught:
        imported(bad)
    assert "\n" not in str(caught.value)
    assert m.Population.select().count() == 0


def test_a_missing_sheet_part_says_the_file_is_damaged_not_that_no_sheet_is_called_none(tmp_path):
    bad = rewritten(workbook(tmp_path / "good.xlsx"), tmp_path / "nosheet.xlsx",
                    lambda name, data: None if name == SHEET_PART else data)
    message = (r"^nosheet.xlsx is damaged: it lists a sheet 'Cases' but the sheet itself is missing\. "
               r"Check it opens in Excel and save it again\.$")
    with pytest.raises(QattError, match=message):
        importing.preview(bad)
    with pytest.raises(QattError, match=message):
        importing.preview(bad, sheet="Cases")


def test_an_error_while_the_rows_are_read_is_one_line(db, tmp_path, monkeypatch):
    import python_calamine

    path = workbook(tmp_path / "cases.xlsx")
    real = python_calamine.CalamineWorkbook

    class FailingSheet:
        def __init__(self, sheet):
            self.sheet = sheet

        def __getattr__(self, name):
            return getattr(self.sheet, name)

        def iter_rows(self):
            rows = self.sheet.iter_rows()
            yield next(rows)
            yield next(rows)
            raise python_calamine.XmlError("unexpected end of input")

    class FailingBook:
        def __init__(self, book):
            self.book = book

        @classmethod
        def from_path(cls, path):
            return cls(real.from_path(path))

        def __getattr__(self, name):
            return getattr(self.book, name)

        def get_sheet_by_name(self, name):
            return FailingSheet(self.book.get_sheet_by_name(name))

        def get_sheet_by_index(self, index):
            return FailingSheet(self.book.get_sheet_by_index(index))

    monkeypatch.setattr(python_calamine, "CalamineWorkbook", FailingBook)
    with pytest.raises(QattError, match=r"^cases.xlsx is damaged: it cannot be read as a workbook "
                                        r"\(unexpected end of input\)"):
        imported(path)
    assert m.Population.select().count() == 0


# --- which sheet is read -------------------------------------------------------------------------


def hidden_first_sheet(path):
    book = openpyxl.Workbook()
    hidden = book.active
    hidden.title = "Extract"
    hidden.sheet_state = "hidden"
    for row in (["Crime Ref"], ["H1"]):
        hidden.append(row)
    shown = book.create_sheet("Visible")
    for row in (["Crime Ref"], ["V1"], ["V2"]):
        shown.append(row)
    book.save(path)
    return path


def test_the_first_visible_sheet_is_read_by_default_and_the_summary_says_so(db, tmp_path):
    path = hidden_first_sheet(tmp_path / "hidden.xlsx")
    preview = importing.preview(path)
    assert preview.sheet == "Visible" and preview.sheets == ["Extract", "Visible"]
    assert preview.hidden_sheets == ["Extract"]
    result = imported(path)
    assert sorted(c.reference for c in m.Case.select()) == ["V1", "V2"]
    assert result.summary_lines() == [
        "read sheet 'Visible', the first visible one; the workbook also has 1 hidden sheet, not read: 'Extract'"]
    assert m.Population.get_by_id(result.population_id).import_options["sheet"] == "Visible"
    checked = importing.check_extract(path, None)
    assert ("Read sheet 'Visible', the first visible one; the workbook also has 1 hidden sheet, not read: "
            "'Extract'.") in checked.option_lines()


def test_a_hidden_sheet_named_on_purpose_is_read_and_said_to_be_hidden(db, tmp_path):
    result = imported(hidden_first_sheet(tmp_path / "hidden.xlsx"), sheet="Extract")
    assert [c.reference for c in m.Case.select()] == ["H1"]
    assert result.summary_lines() == ["read sheet 'Extract', which is hidden in the workbook"]


def test_the_cli_always_says_which_sheet_it_read(db, tmp_path, capsys):
    code, out, _err = cli(db, capsys, "import", str(workbook(tmp_path / "cases.xlsx")))
    assert code == 0 and "read sheet 'Cases'" in out


def test_a_sheet_with_a_filter_says_that_the_rows_it_hides_are_imported_too(db, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (["Crime Ref", "Area"], ["F1", "Theft"], ["F2", "Fraud"]):
        sheet.append(row)
    sheet.auto_filter.ref = "A1:B3"
    sheet.row_dimensions[3].hidden = True
    book.save(tmp_path / "filtered.xlsx")
    result = imported(tmp_path / "filtered.xlsx")
    assert result.rows == 2
    assert result.summary_lines() == ["read sheet 'Sheet'", "sheet 'Sheet' has a filter: every row is imported, "
                                      "including any the filter hides"]


# --- merged cells ------------------------------------------------------------------------------


def test_merged_reference_cells_are_named_and_no_generated_references_are_offered(db, tmp_path, capsys):
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (["Crime Ref", "Area"], ["M1", "Theft"], [None, "Burglary"], [None, "Fraud"], ["M2", "Theft"]):
        sheet.append(row)
    sheet.merge_cells("A2:A4")
    book.save(tmp_path / "merged.xlsx")
    message = (r"^merged.xlsx, sheet 'Sheet': cells A2:A4 are merged, so rows 3-4 have no value of their own in "
               r"column 'Crime Ref' \(a merged cell keeps its value in its first row only\)\. Unmerge the cells and "
               r"fill in each row's value, then import again\.$")
    with pytest.raises(QattError, match=message):
        imported(tmp_path / "merged.xlsx", blank_references="generate")
    code, _out, err = cli(db, capsys, "import", str(tmp_path / "merged.xlsx"))
    assert code == 2 and "A2:A4 are merged" in err and "generate" not in err
    assert m.Population.select().count() == 0


def test_cells_merged_across_columns_within_one_row_are_read(db, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (["Crime Ref", "Summary", None], ["A1", "long text", None], ["A2", "short", "note"]):
        sheet.append(row)
    sheet.merge_cells("B1:C1")  # a header across two columns
    sheet.merge_cells("B2:C2")  # a value across two columns
    book.save(tmp_path / "wide.xlsx")
    result = imported(tmp_path / "wide.xlsx")
    assert result.rows == 2
    assert m.Population.get_by_id(result.population_id).extra_columns == ["Column 3"]


def test_every_range_merged_across_rows_is_named_up_to_six(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Crime Ref", "Division", "Team"])
    for i in range(2, 12):
        sheet.append([f"R{i}", "North", "A"])
    sheet.merge_cells("B2:B3")
    sheet.merge_cells("B4:C5")
    for top in (6, 8, 10):
        sheet.merge_cells(f"C{top}:C{top + 1}")
    book.save(tmp_path / "report.xlsx")
    with pytest.raises(QattError, match=r"cells B2:B3 are merged, so row 3 has no value of its own in column "
                                        r"'Division' .*\. Cells B4:C5, C6:C7, C8:C9, C10:C11 are merged across rows "
                                        r"too\. Unmerge"):
        importing.preview(tmp_path / "report.xlsx")
