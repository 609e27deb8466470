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
    assert wb["Summary"].page_setup.orientation == "landscape"  # the chart is 24 cm wide
    assert wb["About"].page_setup.orientation == "portrait"  # two columns
    # The Summary's print area takes in the chart below the areas.
    assert wb["Summary"].print_area.endswith(str(1 + 4 + xlsx.xlsx_print.CHART_ROWS))


def test_the_about_sheet_says_why_its_review_count_differs_from_the_summary(workbook):
    _, wb = workbook
    notes = [row[1] for row in wb["About"].iter_rows(values_only=True) if row[0] == "Note"]
    assert any("first review only" in n and "second" in n for n in notes)


@pytest.mark.skipif(shutil.which("libreoffice") is None and shutil.which("soffice") is None,
                    reason="LibreOffice is not installed, so the workbook cannot be printed to PDF here")
def test_a_months_workbook_prints_in_a_few_pages(db, tmp_path):
    f.standard_data()
    target = tmp_path / "may.xlsx"
    xlsx.export_workbook(reports.workbook_data(MAY), target, actor="lead", purpose="Board", recipient="Board")
    office = shutil.which("libreoffice") or shutil.which("soffice")
    subprocess.run([office, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(target)], check=True, capture_output=True, timeout=180)
    pages = len(pypdf.PdfReader(str(tmp_path / "may.pdf")).pages)
    assert pages <= 14, pages  # one or two pages a sheet; it was 26 before the print settings
