"""Print settings for every sheet of a workbook, applied in one place when the workbook is saved, so a
sheet added later gets them too: landscape where the columns are wider than a portrait page, fitted to
one page wide (as many pages tall as needed), the heading row repeated on every page, the print area
set to the data (and the chart below it), and the protective marking in the header and footer. A
writer may print less of a sheet that cannot be read on paper (PRINT_COLUMNS, PRINT_ROWS), and then
says so in the sheet's page header.

openpyxl's write-only sheets write their sheet properties (where "fit to page" lives) with the first
row, so `printable(workbook)` marks each sheet as it is created and counts its rows; `apply(workbook)`
sets the rest just before saving.
"""

from __future__ import annotations

from typing import Any, Dict

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties

PORTRAIT_WIDTH = 90  # column width units (characters) that fit across a portrait A4 page
CHART_ROWS = 24  # rows a chart anchored below the data covers (openpyxl charts are sized in cm)
PRINT_COLUMNS, PRINT_ROWS = "_qatt_print_columns", "_qatt_print_rows"  # set on a sheet to print less of it
CHART_WIDTH_CM, CHART_HEIGHT_CM = 24, 11  # 11 cm is about 21 rows of 15 points: within CHART_ROWS
CHART_WIDTH_CHARACTERS = 120  # column width units the chart spans (about 0.2 cm each)


def printable(workbook: Workbook) -> Workbook:
    """Make every sheet created from now on fit to page width, and count the rows appended to it."""
    create = workbook.create_sheet

    def create_sheet(*args: Any, **kwargs: Any):
        sheet = create(*args, **kwargs)
        sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        sheet._qatt_rows = 0  # type: ignore[attr-defined]
        append = sheet.append

        def counted(row: Any) -> None:
            append(row)
            sheet._qatt_rows += 1  # type: ignore[attr-defined]
        sheet.append = counted
        return sheet
    workbook.create_sheet = create_sheet  # type: ignore[method-assign]
    return workbook


def _column_count(sheet: Any) -> int:
    return max([1] + [i for i in range(1, 200) if get_column_letter(i) in sheet.column_dimensions])


def apply(workbook: Workbook, marking: str) -> Dict[str, Dict[str, Any]]:
    """Set the print settings of every sheet; returns them per sheet title (for the tests and the log)."""
    from exports.xlsx import _header_footer_text  # the one rule for '&' in headers and footers
    text = _header_footer_text(marking)
    applied: Dict[str, Dict[str, Any]] = {}
    for sheet in workbook.worksheets:
        # A sheet too wide or too long to read on paper prints its readable part, and says so in its
        # header (set by the writer): PRINT_COLUMNS / PRINT_ROWS.
        columns = getattr(sheet, PRINT_COLUMNS, None) or _column_count(sheet)
        width = sum((sheet.column_dimensions[get_column_letter(i)].width or 13) for i in range(1, columns + 1))
        rows = max(1, getattr(sheet, "_qatt_rows", 0) or getattr(sheet, "max_row", 1) or 1)
        if getattr(sheet, "_charts", None) and not getattr(sheet, "_qatt_rows_cover_charts", False):
            rows += CHART_ROWS
        rows = getattr(sheet, PRINT_ROWS, None) or rows
        landscape = width > PORTRAIT_WIDTH or bool(getattr(sheet, "_charts", None))
        setup = sheet.page_setup
        setup.orientation = "landscape" if landscape else "portrait"
        setup.paperSize = "9"  # A4
        setup.fitToWidth = 1
        setup.fitToHeight = 0  # as many pages tall as the rows need
        if sheet.sheet_properties.pageSetUpPr is None:
            sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        sheet.print_title_rows = "1:1"
        sheet.print_area = f"A1:{get_column_letter(columns)}{rows}"
        sheet.print_options.gridLines = getattr(sheet, "_qatt_grid", True)
        if not sheet.oddHeader.center.text:
            sheet.oddHeader.center.text = text
        if not sheet.oddFooter.center.text:
            sheet.oddFooter.center.text = text
        if not sheet.oddFooter.right.text:
            sheet.oddFooter.right.text = "Page &P of &N"
        applied[sheet.title] = {"orientation": setup.orientation, "rows": rows, "columns": columns}
    return applied
