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
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from exports import calibration_export, xlsx_print
from exports.common import ExportResult, clean_text, has_illegal_characters, write_and_disclose
from qatt import palette, reports, stats
from qatt.fileio import FORMULA_PREFIXES
from qatt.progress import CancelToken, ProgressFn, checkpoint, no_progress

PROGRESS_EVERY = 1000  # rows between progress reports and cancel checks
WIDTHS = {"number": 10, "short": 16, "text": 24, "long": 48, "date": 12, "datetime": 18, "percent": 9}
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
        self.sheet.append([self.styled(title, font=self.bold) for title, _ in self.columns])

    def append(self, values: Iterable[Any]) -> None:
        self.sheet.append(self.safe(values))
        self.rows += 1

    def safe(self, values: Iterable[Any]) -> List[Any]:
        # The fast path leaves ordinary values alone; only risky strings get a text cell.
        return [self.text(v) if _risky(v) else v for v in values]

    def finish(self) -> None:
        if self.filter_table and self.columns:
            last = get_column_letter(len(self.columns))
            self.sheet.auto_filter.ref = f"A1:{last}{1 + max(self.rows, 1)}"


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


def _percent_cells(sheet: _SheetWriter, p: stats.Proportion) -> List[Any]:
    return [sheet.styled(value, number_format=PERCENT) for value in (p.p, p.low, p.high)] if p.total else [None, None, None]


def _grade_columns(distributions: Sequence[reports.GradeDistribution]) -> List[tuple]:
    order: Dict[str, str] = {}
    for dist in distributions:
        for share in dist.shares:
            order.setdefault(share.grade, share.label)
    return list(order.items())


def _write_about(wb: Workbook, data: reports.WorkbookData, purpose: str, recipient: str) -> int:
    header = data.header
    sheet = _SheetWriter(wb, "About", [("Item", "text"), ("Value", "long")], header.marking, filter_table=False)
    sheet.heading()
    for label, value in (
        ("Database", header.training), ("Report", header.title), ("Period", header.filter.label()),
        ("Protective marking", header.marking),
        ("Generated (UTC)", header.generated_at), ("Generated by", header.generated_by), ("Purpose", purpose),
        ("Recipient", recipient), ("Software version", header.software_version), ("Audit log", header.audit_head),
        ("Reviews", data.review_count),
        ("Note", "Reviews counts every submitted review in the period, first and second. The Summary counts each "
                 "case's first review only (second, independent reviews are compared on the Calibration sheet); "
                 "purged reviews count in the Summary and not on the Reviews sheets."),
        ("Note", "Percentages carry Wilson 95% intervals; groups of fewer than 30 reviews are indicative only."),
        ("Note", "Only submitted reviews count. The Samples sheet records how every case was chosen."),
        ("Retention", data.header.purged_note()),
    ):
        if value not in ("", None):
            sheet.append([label, value])
    sheet.finish()
    return sheet.rows


def _write_summary(wb: Workbook, data: reports.WorkbookData) -> int:
    groups = list(data.by_area) + [data.overall]
    grades = _grade_columns(groups)
    columns = [("Area", "text"), ("Reviews", "number"), ("Small sample (<30)", "text")]
    for _, label in grades:
        columns += [(f"{label} n", "number"), (f"{label} %", "percent"), (f"{label} 95% CI low", "percent"),
                    (f"{label} 95% CI high", "percent")]
    sheet = _SheetWriter(wb, "Summary", columns, data.header.marking)
    sheet.heading()
    for dist in groups:
        row: List[Any] = [dist.group, dist.total, "yes" if dist.small_sample else "no"]
        shares = {s.grade: s.proportion for s in dist.shares}
        for grade, _ in grades:
            p = shares.get(grade, stats.wilson(0, dist.total))
            row += [p.count] + _percent_cells(sheet, p)
        sheet.append(row)
    if data.by_area and grades:
        chart = BarChart()
        chart.type = "col"
        chart.title = "Grades per area"
        chart.y_axis.title = "Reviews"
        last_row = 1 + len(data.by_area)  # the areas, without the "All" row
        for i, (grade, _) in enumerate(grades):
            column = 4 + 4 * i  # the "n" column of each grade
            chart.add_data(Reference(sheet.sheet, min_col=column, min_row=1, max_row=last_row),
                           titles_from_data=True)
            colour = palette.grade_colour(grade, i).lstrip("#")
            chart.series[-1].graphicalProperties.solidFill = colour
            chart.series[-1].graphicalProperties.line.solidFill = colour
        chart.set_categories(Reference(sheet.sheet, min_col=1, min_row=2, max_row=last_row))
        chart.width, chart.height = 24, 10
        sheet.sheet.add_chart(chart, f"A{last_row + 3}")
    sheet.finish()
    return sheet.rows


def _write_reviews(wb: Workbook, data: reports.WorkbookData, taken: List[str], progress: ProgressFn,
                   cancel: Optional[CancelToken]) -> Dict[str, int]:
    counts = {}
    done, total = 0, data.review_count
    for review_sheet in data.review_sheets:
        title = sheet_title(f"Reviews {review_sheet.form_id}", taken)
        taken.append(title)
        sheet = _SheetWriter(wb, title, review_sheet.columns, data.header.marking)
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
    for item in items:
        cells = [(c.period, c.month, c.rolling) for c in item.months] + [("All", item.overall, None)]
        for period, month, rolling in cells:
            row = [item.form_title, item.question.header, period, month.count, month.total]
            row += [month.p, month.low, month.high] if month.total else [None, None, None]
            row += [rolling.total, rolling.p, rolling.low, rolling.high] if rolling and rolling.total else [None] * 4
            yield row + [item.not_applicable if period == "All" else None]


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
            ("Kappa 95% CI", f"{a.kappa_ci[0]:.2f} to {a.kappa_ci[1]:.2f}" if a.kappa_ci else "not defined"),
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
    """The register of recommendations and commitments (qatt.register), as the updated action plan."""
    return _write_table(
        wb, "Register", [("Reference", "short"), ("Kind", "short"), ("Source document", "long"), ("Text", "long"),
                         ("Owner", "text"), ("Timescale", "short"), ("Due date", "date"), ("Status", "short"),
                         ("Latest progress", "long"), ("Evidence", "long")],
        ([r.code, r.kind, r.source, r.text, r.owner, r.timescale, r.due_date, r.status, r.progress, r.evidence]
         for r in register), marking)


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
    rows = {"Summary": _write_summary(wb, data), "About": _write_about(wb, data, purpose, recipient)}
    taken = ["Summary", "About"]
    rows.update(_write_reviews(wb, data, taken, progress, cancel))
    checkpoint(cancel)
    rows["Themes"] = _write_table(
        wb, "Themes", [("Theme", "text"), ("Reviews with themes", "number"), ("Strength n", "number"),
                       ("Strength %", "percent"), ("Weakness n", "number"), ("Weakness %", "percent")],
        _theme_rows(data.themes), marking, percent_columns=(3, 5))
    rows["Compliance"] = _write_table(
        wb, "Compliance", [("Form", "text"), ("Item", "long"), ("Month", "short"), ("Yes", "number"),
                           ("Yes + no", "number"), ("Compliance %", "percent"), ("95% CI low", "percent"),
                           ("95% CI high", "percent"), ("Rolling 6 months: yes + no", "number"),
                           ("Rolling 6 months %", "percent"), ("Rolling 95% CI low", "percent"),
                           ("Rolling 95% CI high", "percent"), ("N/A (left out)", "number")],
        _compliance_rows(data.compliance), marking, percent_columns=(5, 6, 7, 9, 10, 11))
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
                    progress: ProgressFn = no_progress, cancel: Optional[CancelToken] = None) -> ExportResult:
    """Write the workbook atomically and record the disclosure. A failed or cancelled export leaves
    no file under the target name."""
    return write_and_disclose(
        Path(target), ".xlsx", lambda tmp: write_workbook(data, tmp, purpose=purpose, recipient=recipient,
                                                           progress=progress, cancel=cancel),
        actor=actor, report="workbook", marking=data.header.marking, purpose=purpose, recipient=recipient,
        details={"period": data.header.filter.label()})
