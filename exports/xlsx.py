"""The Excel workbook for boards and analysts: summary with chart, every review, themes, compliance,
calibration, actions and the samples the reviews came from.

Written with openpyxl in write-only mode so 100,000 reviews stream through in little memory. Any
text that Excel could take for a formula (starting =, +, -, @, tab or CR) is stored as a text cell,
never a formula. The protective marking is in the header and footer of every sheet.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import BarChart, Reference, Series
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.pagebreak import Break
from openpyxl.utils import get_column_letter

from exports import calibration_export, xlsx_print
from exports.common import ExportResult, clean_text, disclosed_reviews, has_illegal_characters, write_and_disclose
from qatt import palette, reports, stats
from qatt.fileio import FORMULA_PREFIXES
from qatt.progress import CancelToken, ProgressFn, checkpoint, no_progress

PROGRESS_EVERY = 1000  # rows between progress reports and cancel checks
# "label": a grade's label in full ("Requires improvement", 20 characters, printed without being cut).
WIDTHS = {"number": 10, "short": 16, "label": 22, "text": 24, "long": 48, "date": 12, "datetime": 18, "percent": 9,
          "count": 8, "scale": 30, "area": 28, "grade": 24, "flag": 34, "interval": 10, "about": 64}
PERCENT = "0.0%"
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def _header_footer_text(marking: str) -> str:
    # '&' starts a control code in Excel headers and footers; '&&' prints one ampersand.
    return clean_text(marking).replace("&", "&&")


class _SheetWriter:
    """One write-only sheet: widths, frozen header and marking are set before the first row, as
    write-only mode requires; the auto-filter is set from the real row count at the end."""

    def __init__(self, workbook: Workbook, title: str, columns: Sequence[tuple], marking: str,
                 filter_table: bool = True) -> None:
        self.sheet = workbook.create_sheet(title)
        self.columns = columns
        self.bold = Font(bold=True)
        for index, (_, kind) in enumerate(columns, start=1):
            self.sheet.column_dimensions[get_column_letter(index)].width = WIDTHS.get(kind, 16)
        marking_text = _header_footer_text(marking)
        self.sheet.oddHeader.center.text = marking_text
        self.sheet.oddFooter.center.text = marking_text
        self.sheet.oddFooter.right.text = "Page &P of &N"
        self.sheet.freeze_panes = "A2"  # the heading row stays in view
        self.filter_table = filter_table
        self.rows = 0
        # Each distinct string's verdict, kept while streaming: None for ordinary text, else its
        # text cell. Most cells repeat (areas, teams, answers), so the prefix and control-character
        # checks run once per distinct text, not once per cell; a cached text cell is reused, as
        # openpyxl writes each appended row before the next one comes.
        self._verdicts: Dict[str, Optional[WriteOnlyCell]] = {}

    def styled(self, value: Any, **style: Any) -> WriteOnlyCell:
        cell = self.text(value) if _risky(value) else WriteOnlyCell(self.sheet, value=value)
        for name, setting in style.items():
            setattr(cell, name, setting)
        return cell

    def text(self, value: str) -> WriteOnlyCell:
        """A cell that is text whatever it starts with."""
        cell = WriteOnlyCell(self.sheet, value=clean_text(value))
        cell.data_type = "s"
        cell.quotePrefix = True  # Excel keeps it as text even after the user edits the cell
        return cell

    def heading(self) -> None:
        # Wrapped headings need the row's height set: a spreadsheet does not grow a streamed row.
        lines = max([-(-len(title) // max(1, int(WIDTHS.get(kind, 16) * 0.9))) for title, kind in self.columns] + [1])
        if lines > 1:
            self.sheet.row_dimensions[1].height = 15 * min(lines, 4)
        wrap = Alignment(wrap_text=True, vertical="top")
        self.sheet.append([self.styled(title, font=self.bold, alignment=wrap) for title, _ in self.columns])

    def append(self, values: Iterable[Any]) -> None:
        self.sheet.append(self.safe(values))
        self.rows += 1

    def safe(self, values: Iterable[Any]) -> List[Any]:
        """The row as given when nothing in it is risky; otherwise a copy with a text cell for each
        risky string (the caller's list is never changed)."""
        row = values if values.__class__ is list else list(values)
        verdicts, out = self._verdicts, None
        for index, value in enumerate(row):
            if value and isinstance(value, str):
                cell = verdicts.get(value, verdicts)
                if cell is verdicts:
                    if len(verdicts) >= _VERDICTS:
                        verdicts.clear()  # many distinct free texts: keep memory bounded
                    cell = verdicts[value] = self.text(value) if _risky(value) else None
                if cell is not None:
                    if out is None:
                        out = list(row)
                    out[index] = cell
        return row if out is None else out

    def finish(self) -> None:
        if self.filter_table and self.columns:
            last = get_column_letter(len(self.columns))
            self.sheet.auto_filter.ref = f"A1:{last}{1 + max(self.rows, 1)}"


_VERDICTS = 50_000  # distinct strings whose verdict a sheet keeps while streaming


def _risky(value: Any) -> bool:
    """Text Excel could run as a formula, or with characters the file format cannot hold."""
    return isinstance(value, str) and (value.startswith(FORMULA_PREFIXES) or has_illegal_characters(value))


def sheet_title(text: str, taken: Sequence[str]) -> str:
    """A legal, unique sheet name (31 characters, none of []:*?/\\)."""
    base = _SHEET_NAME_FORBIDDEN.sub(" ", text).strip()[:31] or "Sheet"
    title, n = base, 2
    while title.lower() in (t.lower() for t in taken):
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    return title


def _percent_cells(sheet: _SheetWriter, p: stats.Proportion, **style: Any) -> List[Any]:
    """The share and its 95% interval as percentage cells; blank when there is nothing to share."""
    if not p.total:
        return [None, None, None]
    return [sheet.styled(value, number_format=PERCENT, **style) for value in (p.p, p.low, p.high)]


def _write_about(wb: Workbook, data: reports.WorkbookData, purpose: str, recipient: str) -> int:
    header = data.header
    sheet = _SheetWriter(wb, "About", [("Item", "text"), ("Value", "about")], header.marking, filter_table=False)
    sheet.heading()
    wrap = Alignment(wrap_text=True, vertical="top")
    for label, value in (
        ("Database", header.training), ("Report", header.title), ("Period", header.filter.label()),
        ("Protective marking", header.marking),
        ("Generated (UTC)", header.generated_at), ("Generated by", header.generated_by), ("Purpose", purpose),
        ("Recipient", recipient), ("Software version", header.software_version), ("Audit log", header.audit_head),
        ("Reviews", data.review_count),
        ("Note", "Why the counts differ between sheets: Reviews counts every submitted review in the period, first "
                 "and second. The Summary and its chart count each case's first review only (second, independent "
                 "reviews are compared on the Calibration sheet, which counts the cases with both) and include "
                 "purged reviews through the anonymous counts kept for them, so they can be higher than the "
                 "Reviews sheets, which hold only the reviews still stored."),
        ("Note", "The Summary gives one row per grading scale, area and grade: each share is taken over the reviews "
                 "graded on that scale in that area (case grades and MOSOVO compliance grades are never mixed), "
                 "and the 'All areas' rows total each scale."),
        ("Note", f"Percentages carry Wilson 95% intervals; groups of fewer than {stats.SMALL_SAMPLE} reviews are marked "
                 "small and are indicative only."),
        ("Note", "Themes and Compliance count only the reviews still stored that answered the question (N/A is "
                 "left out of compliance). Samples counts cases drawn, reviewed or not."),
        ("Note", "Printed, the Reviews sheets show the review and its grade (the answers are to the right, on "
                 "screen) and Compliance shows the whole period per item (month by month below it, on screen); "
                 "each says so in its page header."),
        ("Note", "Only submitted reviews count. The Samples sheet records how every case was chosen."),
        ("Retention", data.header.purged_note()),
    ):
        if value in ("", None):
            continue
        if isinstance(value, str) and len(value) > WIDTHS["about"]:
            # long notes wrap within the page, on rows tall enough (a streamed row does not grow)
            lines = -(-len(value) // int(WIDTHS["about"] * 0.95))
            sheet.sheet.row_dimensions[sheet.rows + 2].height = 15 * lines
            value = sheet.styled(value, alignment=wrap)
        sheet.append([sheet.styled(label, alignment=wrap), value])
    sheet.finish()
    return sheet.rows


SUMMARY_COLUMNS = [("Grading scale", "scale"), ("Area", "area"), ("Reviews", "count"),
                   ("Grade", "grade"), ("n", "count"), ("%", "interval"), ("95% low", "interval"),
                   ("95% high", "interval"), ("Sample size", "flag")]
SMALL_FLAG = f"small (under {stats.SMALL_SAMPLE}): indicative only"


def _write_summary(wb: Workbook, data: reports.WorkbookData) -> int:
    """One row per scale, area and grade (a long table: it prints one page wide however many
    scales and grades there are, and filters and pivots as it stands). Every share has its count,
    the reviews it is taken over and its Wilson 95% interval; small groups say so on each row."""
    sheet = _SheetWriter(wb, "Summary", SUMMARY_COLUMNS, data.header.marking)
    sheet.sheet.oddHeader.left.text = "Summary: first reviews per area and grading scale"
    sheet.heading()
    for scale in data.scales:
        for area, reviews, shares in scale.groups:
            style = {"font": sheet.bold} if area == "All areas" else {}
            flag = SMALL_FLAG if scale.small(reviews) else ("no reviews" if not reviews else "")
            for (grade, label), p in zip(scale.grades, shares):
                row = [sheet.styled(v, **style) if style else v for v in (scale.title, area, reviews, label, p.count)]
                sheet.append(row + _percent_cells(sheet, p, **style) + [flag])
    sheet.finish()
    return sheet.rows


CHART_SHEET = "Summary chart"


def _write_chart(wb: Workbook, data: reports.WorkbookData) -> int:
    """A native bar chart of grades per area for each grading scale, each above its own small table
    of counts and starting a new printed page, so every chart prints whole on one page."""
    scales = [s for s in data.scales if len(s.groups) > 1 and s.groups[-1][1]]
    # enough columns for the widest table and for the chart, so the print area takes in all of it
    across = -(-(xlsx_print.CHART_WIDTH_CHARACTERS - WIDTHS["area"]) // WIDTHS["short"])
    columns = [("Area", "area")] + [("", "short")] * max([len(s.grades) for s in scales] + [across])
    sheet = _SheetWriter(wb, CHART_SHEET, columns, data.header.marking, filter_table=False)
    sheet.append([sheet.styled("Grades per area (first reviews, counts). Shares with their 95% intervals are on "
                               "the Summary sheet.", font=sheet.bold)])
    if not scales:
        sheet.append(["No area has graded first reviews in this period."])
    for number, scale in enumerate(scales):
        if number:
            sheet.append([])
            sheet.sheet.row_breaks.append(Break(id=sheet.rows))  # each scale's chart starts a printed page
        sheet.append([sheet.styled(f"{scale.title}: first reviews per area", font=sheet.bold)])
        chart_row = sheet.rows + 1
        for _ in range(xlsx_print.CHART_ROWS):
            sheet.append([])
        heading_row = sheet.rows + 1
        # Grade labels wrap in their column ("Requires improvement" is wider than a short column).
        heading = Alignment(wrap_text=True, vertical="bottom", horizontal="right")
        sheet.append([sheet.styled("Area", font=sheet.bold)]
                     + [sheet.styled(label, font=sheet.bold, alignment=heading) for _, label in scale.grades])
        areas = scale.groups[:-1]
        for area, _, shares in areas:
            sheet.append([area] + [p.count for p in shares])
        last_row = heading_row + len(areas)
        chart = BarChart()
        chart.type = "col"
        chart.title = scale.title
        chart.y_axis.title = "Reviews"
        chart.x_axis.title = "Area"
        for i, (grade, label) in enumerate(scale.grades):
            series = Series(Reference(sheet.sheet, min_col=2 + i, min_row=heading_row + 1, max_row=last_row),
                            title=label)
            colour = palette.grade_colour(grade, i).lstrip("#")
            series.graphicalProperties.solidFill = colour
            series.graphicalProperties.line.solidFill = colour
            chart.series.append(series)
        chart.set_categories(Reference(sheet.sheet, min_col=1, min_row=heading_row + 1, max_row=last_row))
        chart.width, chart.height = xlsx_print.CHART_WIDTH_CM, xlsx_print.CHART_HEIGHT_CM
        sheet.sheet.add_chart(chart, f"A{chart_row}")
    sheet.sheet._qatt_rows_cover_charts = True  # type: ignore[attr-defined]  # the rows above reserve them
    sheet.sheet._qatt_grid = False  # type: ignore[attr-defined]  # no printed grid through the charts
    sheet.finish()
    return len(scales)


REVIEW_PRINT_COLUMNS = 11  # Review ID ... Grade (reports.REVIEW_FIXED_COLUMNS)


def _write_reviews(wb: Workbook, data: reports.WorkbookData, taken: List[str], progress: ProgressFn,
                   cancel: Optional[CancelToken]) -> Dict[str, int]:
    counts = {}
    done, total = 0, data.review_count
    for review_sheet in data.review_sheets:
        title = sheet_title(f"Reviews {review_sheet.form_id}", taken)
        taken.append(title)
        sheet = _SheetWriter(wb, title, review_sheet.columns, data.header.marking)
        # Printed, the review and its grade (columns A to the grade); one row per review with every
        # answer cannot be read on paper one page wide, so the answers stay for use on screen.
        setattr(sheet.sheet, xlsx_print.PRINT_COLUMNS, REVIEW_PRINT_COLUMNS)
        sheet.sheet.oddHeader.left.text = (f"Printed: columns A-{get_column_letter(REVIEW_PRINT_COLUMNS)} "
                                           "(the answers are to the right, on screen)")
        sheet.heading()
        for row in review_sheet.rows():
            sheet.append(row)
            done += 1
            if done % PROGRESS_EVERY == 0:
                checkpoint(cancel)
                progress(done, total, "Writing reviews")
        sheet.finish()
        counts[title] = sheet.rows
    return counts


def _write_table(wb: Workbook, title: str, columns: Sequence[tuple], rows: Iterable[Sequence[Any]], marking: str,
                 percent_columns: Sequence[int] = ()) -> int:
    sheet = _SheetWriter(wb, title, columns, marking)
    sheet.heading()
    for row in rows:
        row = list(row)
        for index in percent_columns:
            if row[index] is not None:
                row[index] = sheet.styled(row[index], number_format=PERCENT)
        sheet.append(row)
    sheet.finish()
    return sheet.rows


def _theme_rows(themes: Sequence[reports.ThemeFrequency]) -> Iterable[List[Any]]:
    for t in themes:
        yield [t.label, t.strength.total, t.strength.count, t.strength.p, t.weakness.count, t.weakness.p]


def _compliance_rows(items: Sequence[reports.ComplianceItem]) -> Iterable[List[Any]]:
    """Over several months the whole period per item first (the printed part), then each item month
    by month; for one month, the month's rows (with the rolling figures) first, then the same
    figures as "All"."""
    def cells(item: reports.ComplianceItem, monthly: bool) -> List[tuple]:
        return [(c.period, c.month, c.rolling) for c in item.months] if monthly else [("All", item.overall, None)]

    one_month = max([len(item.months) for item in items] + [0]) <= 1
    for item, monthly in [(i, one_month) for i in items] + [(i, not one_month) for i in items]:
        for period, month, rolling in cells(item, monthly):
            row = [item.form_title, item.question.header, period, month.count, month.total]
            row += [month.p, month.low, month.high] if month.total else [None, None, None]
            row += [rolling.total, rolling.p, rolling.low, rolling.high] if rolling and rolling.total else [None] * 4
            yield row + [item.not_applicable if period == "All" else None]


COMPLIANCE_COLUMNS = [("Form", "text"), ("Item", "long"), ("Month", "short"), ("Yes", "number"),
                      ("Yes + no", "number"), ("Compliance %", "percent"), ("95% CI low", "percent"),
                      ("95% CI high", "percent"), ("Rolling 6 months: yes + no", "number"),
                      ("Rolling 6 months %", "percent"), ("Rolling 95% CI low", "percent"),
                      ("Rolling 95% CI high", "percent"), ("N/A (left out)", "number")]


def _write_compliance(wb: Workbook, data: reports.WorkbookData, marking: str) -> int:
    """Per item for the whole period, then per item per month. Over several months only the
    whole-period rows print (the month-by-month rows, a dozen per item, are for use on screen and
    the monthly report's trends); the sheet's header says so."""
    sheet = _SheetWriter(wb, "Compliance", COMPLIANCE_COLUMNS, marking)
    months = max([len(item.months) for item in data.compliance] + [0])
    if data.compliance:
        # the first block prints; the second (a dozen rows an item over a year) is for the screen
        setattr(sheet.sheet, xlsx_print.PRINT_ROWS, 1 + sum(len(item.months) if months <= 1 else 1
                                                            for item in data.compliance))
        sheet.sheet.oddHeader.left.text = (
            "Printed: the whole period per item (month by month below, on screen)" if months > 1 else
            "Printed: the month per item (the same figures as All below, on screen)")
    sheet.heading()
    for row in _compliance_rows(data.compliance):
        for index in (5, 6, 7, 9, 10, 11):
            if row[index] is not None:
                row[index] = sheet.styled(row[index], number_format=PERCENT)
        sheet.append(row)
    sheet.finish()
    return sheet.rows


def _write_calibration(wb: Workbook, data: reports.WorkbookData) -> int:
    width = max([len(c.labels) for c in data.calibration] + [3])
    columns = [("First (self) grade \\ second (independent) grade", "text")] + [("", "short")] * (width + 1)
    sheet = _SheetWriter(wb, "Calibration", columns, data.header.marking, filter_table=False)
    if not data.calibration:
        sheet.append(["No case has both a first and a second submitted review in this period."])
    for result in data.calibration:
        a = result.agreement
        sheet.append([sheet.styled(f"{result.title}: {a.n} cases graded by both", font=sheet.bold)])
        sheet.append([sheet.styled("First \\ second", font=sheet.bold)]
                     + [sheet.styled(label, font=sheet.bold) for label in result.labels] + ["Total"])
        for label, counts in zip(result.labels, a.matrix):
            sheet.append([label] + list(counts) + [sum(counts)])
        figures = [
            ("Observed agreement", a.observed_agreement.percent_text()),
            ("Cohen's kappa", stats.kappa_text(a.kappa)),
            ("Kappa 95% CI", f"{a.kappa_ci[0]:.2f} to {a.kappa_ci[1]:.2f}" if a.kappa_ci else
             stats.KAPPA_CI_NOT_DEFINED if a.kappa is not None else "not defined"),
            ("Weighted kappa (linear)", stats.kappa_text(a.weighted_kappa_linear)),
            ("Weighted kappa (quadratic)", stats.kappa_text(a.weighted_kappa_quadratic)),
            ("First grade better than second", a.higher),
            ("First grade worse than second", a.lower),
            ("Same grade", a.same),
            ("Stuart-Maxwell p (same use of grades)", a.stuart_maxwell.p_value if a.stuart_maxwell else "not defined"),
        ]
        for label, value in figures:
            sheet.append([label, value])
        for note in a.notes:
            sheet.append(["Note", note])
        sheet.append([])
    sheet.finish()
    return len(data.calibration)


def _action_rows(actions: Sequence[reports.ActionRow]) -> Iterable[List[Any]]:
    for a in actions:
        yield [a.id, a.review_id, a.case_reference, a.area, a.text, a.owner, a.due_date, a.status, a.days_overdue]


def _sample_rows(samples: Sequence[reports.SampleRecord]) -> Iterable[List[Any]]:
    for s in samples:
        yield [s.id, s.name, s.period, s.method, json.dumps(s.params, sort_keys=True), s.seed, s.algorithm,
               s.population, s.population_size, s.population_fingerprint, s.eligible_fingerprint, s.items,
               s.drawn_by, s.drawn_at, s.software_version, s.redraw_reason, s.first_reviews, s.second_reviews,
               s.completion.percent_text() if s.items else "no cases"]


def _write_register(wb: Workbook, register: Sequence[reports.RecommendationRow], marking: str) -> int:
    """The register of recommendations and commitments (qatt.loop.register), as the updated action plan."""
    return _write_table(
        wb, "Register", [("Reference", "short"), ("Kind", "short"), ("Source document", "long"), ("Text", "long"),
                         ("Owner", "text"), ("Timescale", "short"), ("Due date", "date"), ("Status", "short"),
                         ("Latest progress", "long"), ("Evidence", "long")],
        ([r.code, r.kind, r.source, r.text, r.owner, r.timescale, r.due_date, r.status, r.progress,
          r.evidence_and_warning] for r in register), marking)


def write_workbook(data: reports.WorkbookData, path: Path, *, purpose: str = "", recipient: str = "",
                   progress: ProgressFn = no_progress, cancel: Optional[CancelToken] = None) -> Dict[str, int]:
    """Write the workbook to `path` (not atomically: see export_workbook). Returns rows per sheet."""
    marking = data.header.marking
    wb = xlsx_print.printable(Workbook(write_only=True))
    wb.properties.title = data.header.title
    wb.properties.subject = f"{data.header.filter.label()} [{marking}]"
    wb.properties.creator = f"QATT {data.header.software_version}"
    wb.properties.keywords = marking
    try:
        return _write_sheets(wb, data, path, purpose, recipient, progress, cancel)
    except BaseException:
        _discard(wb)
        raise


def _discard(wb: Workbook) -> None:
    """Finish and delete the half-written sheets' temporary files, so an abandoned export leaves
    nothing behind (openpyxl would otherwise only remove them when Python exits)."""
    for sheet in wb.worksheets:
        writer = getattr(sheet, "_writer", None)
        if writer is None:
            continue
        if not sheet.closed:
            sheet.close()
        writer.cleanup()


def _write_sheets(wb: Workbook, data: reports.WorkbookData, path: Path, purpose: str, recipient: str,
                  progress: ProgressFn, cancel: Optional[CancelToken]) -> Dict[str, int]:
    marking = data.header.marking
    rows = {"Summary": _write_summary(wb, data), CHART_SHEET: _write_chart(wb, data),
            "About": _write_about(wb, data, purpose, recipient)}
    taken = ["Summary", CHART_SHEET, "About"]
    rows.update(_write_reviews(wb, data, taken, progress, cancel))
    checkpoint(cancel)
    rows["Themes"] = _write_table(
        wb, "Themes", [("Theme", "text"), ("Reviews with themes", "number"), ("Strength n", "number"),
                       ("Strength %", "percent"), ("Weakness n", "number"), ("Weakness %", "percent")],
        _theme_rows(data.themes), marking, percent_columns=(3, 5))
    rows["Compliance"] = _write_compliance(wb, data, marking)
    rows["Calibration"] = _write_calibration(wb, data)
    rows.update(calibration_export.write_calibration_sheet(wb, data))
    rows["Actions"] = _write_table(
        wb, "Actions", [("Action ID", "number"), ("Review ID", "number"), ("Case reference", "short"), ("Area", "text"),
                        ("Action", "long"), ("Owner", "text"), ("Due", "date"), ("Status", "short"),
                        ("Days overdue", "number")], _action_rows(data.actions), marking)
    rows["Case studies"] = _write_table(
        wb, "Case studies", [("Review ID", "number"), ("Shows", "short"), ("Title", "text"), ("Account", "long"),
                             ("Area", "text"), ("Month", "short"), ("Review", "short"), ("Grade", "short")],
        ([c.review_id, c.kind_label, c.title, c.summary, c.area, c.period, c.role, c.grade]
         for c in data.case_studies), marking)
    rows["Samples"] = _write_table(
        wb, "Samples", [("Sample ID", "number"), ("Name", "text"), ("Month", "short"), ("Method", "short"),
                        ("Parameters", "long"), ("Seed", "text"), ("Algorithm", "short"), ("Population", "text"),
                        ("Population size", "number"), ("Population fingerprint (SHA-256)", "long"),
                        ("Eligible cases fingerprint", "long"), ("Cases drawn", "number"), ("Drawn by", "text"),
                        ("Drawn at", "datetime"), ("Software version", "short"), ("Redraw reason", "long"),
                        ("First reviews submitted", "number"), ("Second reviews submitted", "number"),
                        ("Completion (first reviews of cases drawn)", "text")],
        _sample_rows(data.samples), marking)
    rows["Register"] = _write_register(wb, data.register, marking)
    checkpoint(cancel)
    progress(data.review_count, data.review_count, "Saving the workbook")
    xlsx_print.apply(wb, marking)
    wb.save(path)
    return rows


def export_workbook(data: reports.WorkbookData, target: Path, *, actor: str, purpose: str = "", recipient: str = "",
                    progress: ProgressFn = no_progress, cancel: Optional[CancelToken] = None,
                    reviews: Optional[Sequence[int]] = None) -> ExportResult:
    """Write the workbook atomically and record the disclosure. A failed or cancelled export leaves
    no file under the target name."""
    return write_and_disclose(
        Path(target), ".xlsx", lambda tmp: write_workbook(data, tmp, purpose=purpose, recipient=recipient,
                                                           progress=progress, cancel=cancel),
        actor=actor, report="workbook", marking=data.header.marking, purpose=purpose, recipient=recipient,
        details={"period": data.header.filter.label(), **disclosed_reviews(reviews)})
