"""Every sheet of the workbook is ready to print: orientation, one page wide, heading repeated, print
area, marking top and bottom; and a month's workbook prints in a few pages (LibreOffice, if present)."""

from __future__ import annotations

import shutil
import subprocess

import openpyxl
import pypdf
import pytest

from exports import xlsx
from qatt import reports
from tests import report_factories as f

APR_MAY = reports.ReportFilter("2024-04", "2024-05")
MAY = reports.ReportFilter("2024-05", "2024-05")


@pytest.fixture
def workbook(db, tmp_path):
    f.standard_data()
    target = tmp_path / "qa.xlsx"
    xlsx.export_workbook(reports.workbook_data(APR_MAY), target, actor="lead", purpose="Board", recipient="Board")
    return target, openpyxl.load_workbook(target)


def test_every_sheet_prints_one_page_wide_with_its_heading_repeated(workbook):
    _, wb = workbook
    assert len(wb.worksheets) >= 8
    for sheet in wb.worksheets:
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
        assert sheet.page_setup.fitToWidth == 1, sheet.title
        assert sheet.page_setup.fitToHeight == 0, sheet.title
        assert sheet.print_title_rows == "$1:$1", sheet.title
        assert sheet.print_area, sheet.title
        assert "OFFICIAL" in sheet.oddHeader.center.text and "OFFICIAL" in sheet.oddFooter.center.text
    assert wb["Samples"].page_setup.orientation == "landscape"  # sixteen columns
    assert wb["Summary chart"].page_setup.orientation == "landscape"  # the charts are 24 cm wide
    assert wb["About"].page_setup.orientation == "portrait"  # two columns
    # The chart sheet's print area takes in the charts and their tables, and no more.
    chart = wb["Summary chart"]
    assert chart.print_area == f"'Summary chart'!$A$1:$G${chart.max_row}"
    assert not chart.print_options.gridLines  # no printed grid through the charts


def test_the_summary_is_narrow_enough_to_read_on_one_landscape_page_width(workbook):
    _, wb = workbook
    summary = wb["Summary"]
    width = sum(summary.column_dimensions[c].width for c in "ABCDEFGHI")
    assert summary.max_column == 9 and width <= 170  # about 100% on A4 landscape, not 40%
    assert summary.page_setup.orientation == "landscape"
    assert summary.print_area == f"'Summary'!$A$1:$I${summary.max_row}"


def test_sheets_too_wide_or_long_to_read_on_paper_print_their_readable_part_and_say_so(workbook):
    _, wb = workbook
    reviews = wb["Reviews cp_check"]
    assert reviews.max_column > 11 and reviews.print_area.startswith("'Reviews cp_check'!$A$1:$K$")
    assert "answers are to the right" in reviews.oddHeader.left.text
    compliance = wb["Compliance"]
    rows = list(compliance.iter_rows(values_only=True))
    printed_to = int(compliance.print_area.rsplit("$", 1)[1])
    assert {row[2] for row in rows[1:printed_to]} == {"All"}  # two months: the whole period prints
    assert {row[2] for row in rows[printed_to:]} == {"2024-04", "2024-05"}  # month by month, on screen
    assert "month by month below" in compliance.oddHeader.left.text
    notes = " ".join(row[1] for row in wb["About"].iter_rows(values_only=True) if row[0] == "Note")
    assert "Printed" in notes and "on screen" in notes


def test_grade_columns_are_wide_enough_to_print_every_grade_in_full(workbook):
    """A printed Reviews sheet is not re-sized by the reader: "Requires improvement" must fit its
    column (a column's width counts characters of the default font, less some padding)."""
    _, wb = workbook
    for sheet in (s for s in wb.worksheets if s.title.startswith("Reviews")):
        heading = [cell.value for cell in sheet[1]]
        for title in ("Suggested grade", "Grade"):
            letter = openpyxl.utils.get_column_letter(heading.index(title) + 1)
            values = {row[0] for row in sheet[f"{letter}2:{letter}{sheet.max_row}"]}
            labels = {cell.value for cell in values if cell.value}
            assert labels, (sheet.title, title)  # the fixture grades cases, so there is something to fit
            widest = max(len(label) for label in labels | {"Requires improvement"})
            assert sheet.column_dimensions[letter].width >= widest + 1, (sheet.title, title, widest)


def test_the_about_sheet_says_why_its_review_count_differs_from_the_summary(workbook):
    _, wb = workbook
    notes = [row[1] for row in wb["About"].iter_rows(values_only=True) if row[0] == "Note"]
    assert any("first review only" in n and "second" in n for n in notes)
    assert any("purged" in n for n in notes)
    counts = {row[0]: row[1] for row in wb["About"].iter_rows(values_only=True)}
    assert counts["Reviews"] == 11  # first and second; the Summary's "All areas" rows count 6 + 3 first reviews


@pytest.mark.skipif(shutil.which("libreoffice") is None and shutil.which("soffice") is None,
                    reason="LibreOffice is not installed, so the workbook cannot be printed to PDF here")
def test_a_months_workbook_prints_in_a_few_pages(db, tmp_path):
    f.standard_data()
    target = tmp_path / "may.xlsx"
    xlsx.export_workbook(reports.workbook_data(MAY), target, actor="lead", purpose="Board", recipient="Board")
    sheets = len(openpyxl.load_workbook(target, read_only=True).sheetnames)
    office = shutil.which("libreoffice") or shutil.which("soffice")
    subprocess.run([office, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(target)], check=True, capture_output=True, timeout=180)
    pdf = pypdf.PdfReader(str(tmp_path / "may.pdf"))
    # One page a sheet (a sheet with a chart per scale: one page a chart); 26 before the print settings.
    assert len(pdf.pages) <= sheets + 1, (len(pdf.pages), sheets)
    texts = [page.extract_text() for page in pdf.pages]
    assert all("OFFICIAL-SENSITIVE" in text for text in texts)  # the marking on every printed page
    summary = texts[0]
    assert "Domestic abuse referrals" in summary and "small (under 30): indicative only" in summary
    assert "HMICFRS case grade" in summary and "SOP compliance" in summary
