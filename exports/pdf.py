"""PDF packs with reportlab platypus: the monthly QA report, the inspection self-assessment pack and
the officer feedback sheet.

Every page carries the protective marking at the top and bottom and "Page X of Y"; headings become
PDF bookmarks; the document metadata names the report and its marking. All text that came from
users (areas, themes, review text, actions) is escaped before it reaches a Paragraph, so "<b>" or
"&" in it prints literally instead of being read as markup.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas as pdfcanvas
from reportlab.platypus import (BaseDocTemplate, Flowable, Frame, KeepTogether, PageBreak, PageTemplate, Paragraph,
                                Spacer, Table, TableStyle)

from exports import calibration_export
from exports.common import ExportResult, clean_text, disclosed_reviews, write_and_disclose
from qatt import palette, reports, stats
from qatt.loop import actions as action_rules
from qatt.progress import CancelToken, ProgressFn, checkpoint, no_progress

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 20 * mm
BODY_WIDTH = PAGE_WIDTH - 2 * MARGIN

_base = getSampleStyleSheet()
STYLES = {
    "title": ParagraphStyle("QattTitle", parent=_base["Title"], fontSize=22, leading=28, spaceAfter=12),
    "h1": ParagraphStyle("QattH1", parent=_base["Heading1"], fontSize=16, leading=20, spaceBefore=6, spaceAfter=6),
    "h2": ParagraphStyle("QattH2", parent=_base["Heading2"], fontSize=12.5, leading=16, spaceBefore=8, spaceAfter=4),
    "body": ParagraphStyle("QattBody", parent=_base["BodyText"], fontSize=9.5, leading=12.5),
    "cell": ParagraphStyle("QattCell", parent=_base["BodyText"], fontSize=8, leading=10),
    "caveat": ParagraphStyle("QattCaveat", parent=_base["BodyText"], fontSize=8.5, leading=11,
                             textColor=colors.HexColor("#8a4b00"), leftIndent=6),
    "bullet": ParagraphStyle("QattBullet", parent=_base["BodyText"], fontSize=9.5, leading=12.5, leftIndent=12,
                             bulletIndent=2),
}
GRID = TableStyle([
    ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa5b1")),
    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dde3ea")),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("FONTSIZE", (0, 0), (-1, -1), 8),
    ("LEFTPADDING", (0, 0), (-1, -1), 3),
    ("RIGHTPADDING", (0, 0), (-1, -1), 3),
])
def grade_fill(grade: str, position: int = 0) -> colors.Color:
    """A grade's bar colour, from the palette the desktop and the workbook use too."""
    return colors.HexColor(palette.grade_colour(grade, position))


# --------------------------------------------------------------------------- text that is always safe

def text(value: Any, style: str = "body") -> Paragraph:
    """A paragraph of plain text: escaped, control characters dropped, line breaks kept."""
    return Paragraph(_markup(value), STYLES[style])


def _markup(value: Any) -> str:
    shown = "" if value is None else _plain(value)
    return escape(clean_text(shown)).replace("\n", "<br/>")


def _plain(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%d %b %Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d %b %Y")
    return str(value)


def labelled(label: str, value: Any) -> Paragraph:
    """'Label: value' with the (constant) label in bold and the value escaped."""
    return Paragraph(f"<b>{escape(label)}:</b> {_markup(value)}", STYLES["body"])


def bullets(items: Sequence[Any]) -> List[Paragraph]:
    return [Paragraph(_markup(item), STYLES["bullet"], bulletText="•") for item in items]


def caveat(n: int) -> List[Paragraph]:
    warning = stats.small_sample_warning(n)
    return [text(warning, "caveat")] if warning else []


class Heading(Paragraph):
    """A heading that becomes a PDF bookmark at its outline level."""

    def __init__(self, title: str, level: int = 0) -> None:
        super().__init__(_markup(title), STYLES["h1" if level == 0 else "h2"])
        self.outline_title = clean_text(title)
        self.outline_level = level


def table(rows: Sequence[Sequence[Any]], widths: Optional[Sequence[float]] = None) -> Table:
    """A grid with a heading row that repeats on every page; every cell is escaped text."""
    cells = [[c if isinstance(c, Flowable) else Paragraph(_markup(c), STYLES["cell"]) for c in row] for row in rows]
    if widths is None and rows:
        widths = [1.0] * len(rows[0])
    if widths is not None:
        total = sum(widths)
        widths = header_safe_widths(rows[0] if rows else [], [BODY_WIDTH * w / total for w in widths])
    result = Table(cells, colWidths=widths, repeatRows=1, hAlign="LEFT")
    result.setStyle(GRID)
    return result


CELL_PADDING = 12  # points: the grid's left and right padding, with a little to spare


def header_safe_widths(header: Sequence[Any], widths: Sequence[float]) -> List[float]:
    """Column widths (summing to the same total) in which no heading word is wider than its column, so a
    heading wraps between words and never inside one ("Revi/ews"); the other columns give up the room."""
    style = STYLES["cell"]
    need = [max([stringWidth(word, style.fontName, style.fontSize) for word in str(h).split()] + [0]) + CELL_PADDING
            if not isinstance(h, Flowable) else 0 for h in header]
    need += [0] * (len(widths) - len(need))
    result = [max(w, n) for w, n in zip(widths, need)]
    excess = sum(result) - sum(widths)
    spare = [max(0.0, w - n) for w, n in zip(result, need)]
    if excess > 0 and sum(spare) > 0:
        result = [w - excess * sp / sum(spare) for w, sp in zip(result, spare)]
    return result


def readable_parameters(params: Any) -> str:
    """A sample's parameters as words ("size 30; strata: area, team"), not JSON."""
    if not isinstance(params, dict):
        return str(params)
    from qatt.intake.mapping import FIELD_LABELS

    def label(name: Any) -> str:  # a case field's label; an extract's own column is its header already
        return FIELD_LABELS.get(str(name), str(name))

    parts = []
    for key in sorted(params):
        value = params[key]
        if value is None:  # a parameter the method does not use
            continue
        if isinstance(value, (list, tuple)):
            value = ", ".join(label(v) if key == "stratify" else str(v) for v in value) or "none"
        elif isinstance(value, dict):
            value = ", ".join(f"{label(k)} {v}" for k, v in value.items()) or "none"
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        words = "stratified by" if key == "stratify" else str(key).replace('_', ' ')
        parts.append(f"{words} {value}" if not isinstance(params[key], (list, tuple, dict)) else f"{words}: {value}")
    return "; ".join(parts) or "none"


def percent(p: stats.Proportion) -> str:
    return p.percent_text() if p.total else "–"


# --------------------------------------------------------------------------- the document

class _NumberedCanvas(pdfcanvas.Canvas):
    """Holds pages back until the end so each can say "Page X of Y"."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: List[Dict[str, Any]] = []

    def showPage(self) -> None:  # noqa: N802 - reportlab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self.setFont("Helvetica", 8)
            self.drawRightString(PAGE_WIDTH - MARGIN, 8 * mm, f"Page {number} of {total}")
            super().showPage()
        super().save()


class _Document(BaseDocTemplate):
    """Marking on every page, bookmarks from headings, cancel checks and progress between flowables."""

    def __init__(self, path: str, header: reports.ReportHeader, subject: str, total: int,
                 progress: ProgressFn, cancel: Optional[CancelToken]) -> None:
        super().__init__(path, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                         bottomMargin=MARGIN, title=f"{header.title} [{header.marking}]",
                         author=header.generated_by or "QATT", subject=subject,
                         creator=f"QATT {header.software_version}", keywords=header.marking)
        self.marking = clean_text(header.marking)
        self.total, self.done = total, 0
        self.progress, self.cancel = progress, cancel
        frame = Frame(MARGIN, MARGIN, BODY_WIDTH, PAGE_HEIGHT - 2 * MARGIN, id="body")
        self.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=self._mark_page)])

    def _mark_page(self, canvas: pdfcanvas.Canvas, doc: BaseDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica-Bold", 10)
        canvas.drawCentredString(PAGE_WIDTH / 2, PAGE_HEIGHT - 12 * mm, self.marking)
        canvas.drawCentredString(PAGE_WIDTH / 2, 8 * mm, self.marking)
        canvas.restoreState()

    def afterFlowable(self, flowable: Flowable) -> None:  # noqa: N802 - reportlab's name
        checkpoint(self.cancel)
        self.done += 1
        self.progress(self.done, self.total, "Laying out the PDF")
        if isinstance(flowable, Heading):
            key = f"h{self.done}"
            self.canv.bookmarkPage(key)
            self.canv.addOutlineEntry(flowable.outline_title, key, level=flowable.outline_level, closed=False)


def write_pdf(story: List[Flowable], path: Path, header: reports.ReportHeader, subject: str,
              progress: ProgressFn = no_progress, cancel: Optional[CancelToken] = None) -> int:
    """Lay out the story into `path`; returns the number of pages."""
    document = _Document(str(path), header, subject, len(story), progress, cancel)
    document.build(story, canvasmaker=_NumberedCanvas)
    return document.page


def _export(story_builder: Callable[[], List[Flowable]], target: Path, header: reports.ReportHeader, report: str,
            subject: str, *, actor: str, purpose: str, recipient: str, progress: ProgressFn,
            cancel: Optional[CancelToken], rows: Dict[str, int],
            reviews: Optional[Sequence[int]] = None) -> ExportResult:
    def write(tmp: Path) -> Dict[str, int]:
        pages = write_pdf(story_builder(), tmp, header, subject, progress, cancel)
        return {**rows, "pages": pages}

    return write_and_disclose(Path(target), ".pdf", write, actor=actor, report=report, marking=header.marking,
                              purpose=purpose, recipient=recipient,
                              details={"period": header.filter.label(), **disclosed_reviews(reviews)})


# --------------------------------------------------------------------------- building blocks

def cover(header: reports.ReportHeader, purpose: str, recipient: str, extra: Sequence[tuple] = ()) -> List[Flowable]:
    story: List[Flowable] = [Spacer(1, 40 * mm), text(header.marking, "title"), text(header.title, "title"),
                             Spacer(1, 10 * mm)]
    for label, value in [("Database", header.training), ("Period", header.filter.label()), *extra,
                         ("Retention", header.purged_note()),
                         ("Purpose", purpose), ("Recipient", recipient),
                         ("Generated (UTC)", header.generated_at), ("Generated by", header.generated_by),
                         ("Software", f"QATT {header.software_version}"), ("Audit log", header.audit_head)]:
        if value not in ("", None):
            story.append(labelled(label, value))
    story.append(PageBreak())
    return story


def distribution_table(distributions: Sequence[reports.GradeDistribution], group_label: str) -> Table:
    rows: List[List[Any]] = [[group_label, "Reviews"] + [s.label for s in distributions[0].shares]] if distributions else [[group_label]]
    grades = [s.grade for s in distributions[0].shares] if distributions else []
    for dist in distributions:
        shares = {s.grade: s.proportion for s in dist.shares}
        row = [dist.group + (" *" if dist.small_sample else ""), dist.total]
        row += [percent(shares[g]) if g in shares else "–" for g in grades]
        rows.append(row)
    return table(rows, [2.2, 0.8] + [2] * len(grades))


def grade_sections(distributions: Sequence[reports.GradeDistribution], group_label: str) -> List[Flowable]:
    """Tables of grade distributions, one per scale (grades of different scales never share columns)."""
    by_scale: Dict[tuple, List[reports.GradeDistribution]] = {}
    for dist in distributions:
        by_scale.setdefault(tuple(s.grade for s in dist.shares), []).append(dist)
    story: List[Flowable] = []
    for group in by_scale.values():
        story += [distribution_table(group, group_label), Spacer(1, 3 * mm)]
    if any(d.small_sample for d in distributions):
        story.append(text(f"* fewer than {stats.SMALL_SAMPLE} reviews: indicative only; read the interval, "
                          "not the point figure.", "caveat"))
    return story


def grade_chart(dist: reports.GradeDistribution) -> Drawing:
    """A bar chart of one group's grade counts."""
    drawing = Drawing(BODY_WIDTH, 48 * mm)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 12 * mm, 8 * mm, BODY_WIDTH - 20 * mm, 36 * mm
    chart.data = [[s.proportion.count for s in dist.shares]]
    chart.categoryAxis.categoryNames = [clean_text(s.label) for s in dist.shares]
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = max([s.proportion.count for s in dist.shares] + [1])
    chart.valueAxis.valueStep = max(1, chart.valueAxis.valueMax // 5)
    chart.valueAxis.labels.fontSize = 7
    for i, share in enumerate(dist.shares):
        chart.bars[(0, i)].fillColor = grade_fill(share.grade, i)
    drawing.add(chart)
    return drawing


def area_charts(distributions: Sequence[reports.GradeDistribution]) -> List[Flowable]:
    """A chart only for groups of at least SMALL_SAMPLE reviews; the table before it gives the rest."""
    story: List[Flowable] = []
    for dist in distributions:
        if not dist.small_sample:
            story.append(KeepTogether([text(f"{dist.group}: {dist.total} reviews", "body"), grade_chart(dist)]))
    if any(d.small_sample for d in distributions):
        story.append(text(f"Charts are drawn only for groups of at least {stats.SMALL_SAMPLE} reviews; the table "
                          "gives the others.", "caveat"))
    return story


def theme_table(themes: Sequence[reports.ThemeFrequency]) -> List[Flowable]:
    if not themes:
        return [text("No themes were recorded in this period.")]
    rows = [["Theme", "Strength", "Weakness"]]
    rows += [[t.label, percent(t.strength), percent(t.weakness)] for t in themes]
    return [table(rows, [2, 2, 2]), *caveat(themes[0].strength.total)]


def compliance_table(items: Sequence[reports.ComplianceItem]) -> List[Flowable]:
    if not items:
        return [text("No checklist items were answered in this period.")]
    rows = [["Form", "Item", "This period", "Rolling 6 months", "N/A"]]
    for item in items:
        rows.append([item.form_title, item.question.header, percent(item.overall),
                     percent(item.rolling) if item.rolling else "–", item.not_applicable])
    story: List[Flowable] = [table(rows, [1.6, 2.6, 2.2, 2.2, 0.5])]
    if any(item.overall.small_sample for item in items):
        story.append(text(f"Items answered in fewer than {stats.SMALL_SAMPLE} cases are indicative only: "
                          "read the interval, not the point figure.", "caveat"))
    return story


def action_table(actions: Sequence[reports.ActionRow]) -> List[Flowable]:
    if not actions:
        return [text("No actions are outstanding.")]
    rows = [["Case", "Area", "Action", "Owner", "Due", "Status", "Days overdue"]]
    rows += [[a.case_reference, a.area, a.text, a.owner, a.due_date or "", a.status, a.days_overdue or ""]
             for a in actions]
    return [table(rows, [1.2, 1.4, 3, 1.2, 1, 0.9, 0.8])]


def calibration_block(results: Sequence[reports.Calibration], what: str = "first (self-assessment)") -> List[Flowable]:
    if not results:
        return [text("No case had both a first and a second submitted review, so agreement cannot be measured.")]
    story: List[Flowable] = []
    for result in results:
        a = result.agreement
        rows = [[f"{what} \\ second (independent)"] + result.labels + ["Total"]]
        rows += [[label] + list(counts) + [sum(counts)] for label, counts in zip(result.labels, a.matrix)]
        story += [text(f"{result.title}: {stats.counted(a.n, 'case')} graded twice", "body"), table(rows), Spacer(1, 2 * mm)]
        kappa_ci = (f" (95% CI {a.kappa_ci[0]:.2f} to {a.kappa_ci[1]:.2f})" if a.kappa_ci else
                    f" (95% CI {stats.KAPPA_CI_NOT_DEFINED})" if a.kappa is not None else "")
        story += bullets([
            f"The two grades matched in {percent(a.observed_agreement)} of cases.",
            f"Cohen's kappa {stats.kappa_text(a.kappa)}{kappa_ci}; weighted (linear) "
            f"{stats.kappa_text(a.weighted_kappa_linear)}.",
            f"The first grade was better than the independent grade in {stats.counted(a.higher, 'case')} and worse in {a.lower}.",
            *a.notes,
        ])
    return story


def mosovo_block(mosovo: Optional[reports.MosovoCompliance]) -> List[Flowable]:
    if mosovo is None:
        return [text("No MOSOVO DI checks were submitted in this period.")]
    story: List[Flowable] = [text(f"{mosovo.checks} DI checks of home visits against the SOPs.")]
    story += bullets([f.statement for f in mosovo.figures])
    story += bullets([f"Visits overdue: {mosovo.overdue_visits} (total {mosovo.days_overdue_total:g} days; "
                      f"longest {mosovo.days_overdue_max:g} days)."])
    if mosovo.oldest_task_days is not None:
        story += bullets([f"Supervisory backlog: the oldest outstanding task seen was {mosovo.oldest_task_days:g} days old."])
    return story + caveat(mosovo.checks)


def trend_block(trends: Sequence[reports.Trend]) -> List[Flowable]:
    if not trends:
        return [text("No independent (second-review) grades in this period to set against the inspections' grades. "
                     "The force's first reviews are a self-assessment and are not compared with the inspectorate's "
                     "grades.")]
    story: List[Flowable] = []
    for trend in trends:
        scope = trend.area or "all areas"
        story.append(text(f"Against the {trend.baseline} ({scope}; {trend.baseline_total} cases as published), "
                          f"this period's {stats.counted(trend.current_total, 'grade')} "
                          f"from {trend.grades or 'QATT reviews'}:"))
        story += bullets([c.statement for c in trend.comparisons])
    return story


def change_block(change: reports.PeriodChange) -> List[Flowable]:
    if not change.previous:
        return [text("Choose a period with a first and a last month to compare it with the months before.")]
    if not change.scales:
        return [text(f"No reviews were graded on the same scale in the previous period ({change.previous}), "
                     "so there is nothing to compare with.")]
    story: List[Flowable] = []
    for trend in change.scales:
        story.append(text(f"Against the {trend.baseline}, {trend.baseline_total} graded reviews, this period's "
                          f"{trend.current_total}:"))
        story += bullets([c.statement for c in trend.comparisons])
    return story


def case_study_block(studies: Sequence[reports.CaseStudyRow]) -> List[Flowable]:
    if not studies:
        return [text("No reviews in this period were chosen as case studies. A reviewer can choose one of their "
                     "submitted reviews (a QA lead any review) on the Review page, or with python -m qatt case-study.")]
    story: List[Flowable] = []
    for study in studies:
        graded = f"; graded {study.grade}" if study.grade else ""
        story += [Heading(f"{study.kind_label}: {study.title}", 1),
                  labelled("Area", f"{study.area} (sample month {study.period or 'not set'}; {study.role} review"
                                   f"{graded}; review {study.review_id})"),
                  text(study.summary)]
    return story


def methodology_block(samples: Sequence[reports.SampleRecord]) -> List[Flowable]:
    story: List[Flowable] = [text(
        "Cases were chosen by recorded random draws: each sample below can be re-derived from its method, "
        "parameters, seed and the fingerprint (SHA-256 of the sorted case references) of the case list it was "
        "drawn from. Only submitted reviews count. Percentages carry Wilson 95% intervals; comparisons with "
        f"baselines use Newcombe's interval for a difference. Groups of fewer than {stats.SMALL_SAMPLE} "
        "cases are flagged as indicative only.")]
    if not samples:
        return story + [text("No sample was drawn for this period and no review in it came from one.")]
    rows = [["Sample", "Month", "Method and parameters", "Seed", "Population and fingerprint", "Drawn", "Reviewed"]]
    for s in samples:
        rows.append([f"{s.id}: {s.name}", s.period,
                     f"{s.method.replace('_', ' ')}: {readable_parameters(s.params)} (algorithm {s.algorithm or 'default'}); "
                     f"{stats.counted(s.items, 'case')}",
                     s.seed, f"{s.population} ({stats.counted(s.population_size, 'case')}) {s.population_fingerprint}",
                     f"{_plain(s.drawn_at)} by {s.drawn_by or '–'}; QATT {s.software_version}",
                     f"{s.first_reviews} of {s.items} first reviews ({s.completion.point_text()}); "
                     f"{s.second_reviews} second" if s.items else "no cases"])
    return story + [text("Every sample drawn for the period is listed, reviewed or not."),
                    table(rows, [1.1, 0.85, 1.8, 1.2, 1.85, 1.4, 1.4])]  # a month and a seed unbroken


def comparison_block(comparison: Optional[reports.InspectionComparison]) -> List[Flowable]:
    """Like for like (qatt.reporting.comparison): the 2022 headline table as the baseline, the force's
    self-assessment against its own independent grades, and its independent grades against the
    inspectorate's. No change is stated between the force's first reviews and the inspectorate's grades."""
    if comparison is None:
        return []
    story: List[Flowable] = bullets(comparison.sources)
    headline = comparison.headline
    if headline is not None:
        story += [Heading("Baseline: the 2022 re-inspection of the force's own sample", 1),
                  table([["Grading of the same cases", *headline.labels, "Total"], *headline.rows]),
                  *bullets(headline.statements), text(f"Source: {headline.source}.", "caveat")]
    story += [Heading("The force's self-assessment against its own independent grades", 1)]
    story += calibration_block(comparison.self_against_independent, "first (self-assessment)")
    story += bullets(comparison.bias_statements)
    story += [Heading("The force's independent grades against the inspectorate's", 1)]
    if not comparison.against_inspectorate:
        story += [text("No independent (second-review) grades in this period, so there is nothing to set against "
                       "the inspectorate's grades.")]
    for side in comparison.against_inspectorate:
        trend = side.trend
        story += [table([["Grades", *side.labels, "Total"], *side.rows]),
                  text(f"Against the {trend.baseline} ({trend.area or 'all areas'}), grades from {trend.grades}:"),
                  *bullets([c.statement for c in trend.comparisons]), *caveat(trend.current_total), Spacer(1, 2 * mm)]
    return story


def register_block(entries: Sequence[reports.RecommendationRow]) -> List[Flowable]:
    """The register of recommendations and commitments, grouped by source document."""
    if not entries:
        return [text("The register holds no recommendations or commitments.")]
    story: List[Flowable] = []
    by_source: Dict[str, List[reports.RecommendationRow]] = {}
    for entry in entries:
        by_source.setdefault(entry.source or "Other", []).append(entry)
    for source, every in by_source.items():
        # Closed entries (the 2007 inspection's, shipped for reference, or ones the force closed) are
        # counted, not printed: the pack shows what is still being worked on.
        rows = [r for r in every if r.status != "closed"]
        closed = len(every) - len(rows)
        story.append(text(source, "body"))
        if rows:
            story.append(table(
                [["Ref", "Recommendation or commitment", "Timescale", "Owner", "Status", "Progress and evidence"]]
                + [[r.code, r.text, r.timescale + (f" (due {r.due_date:%d %b %Y})" if r.due_date else ""), r.owner,
                    r.status, "; ".join(filter(None, [r.progress, r.evidence_and_warning]))] for r in rows],
                [0.9, 2.6, 0.9, 0.9, 0.8, 2.3]))
        if closed:
            what = (f"All {closed} entries from this source are closed" if not rows else
                    f"{closed} closed entr{'y' if closed == 1 else 'ies'} from this source")
            story.append(text(f"{what}: not listed here. The register (register list --status closed) and the "
                              "workbook's register sheet list them.", "caveat"))
        story.append(Spacer(1, 3 * mm))
    return story


# --------------------------------------------------------------------------- the three documents

def monthly_story(report: reports.MonthlyReport, purpose: str = "", recipient: str = "") -> List[Flowable]:
    """Opens with the executive summary; a section with nothing to say for the period is left out
    (and named at the end), never printed as a heading with nothing under it."""
    story = cover(report.header, purpose, recipient)
    summary = report.summary
    story += [Heading("Executive summary"), *bullets(summary.headline)]
    if summary.changed:
        story += [Heading("What changed", 1), *bullets(summary.changed)]
    if summary.attention:
        story += [Heading("What needs attention", 1), *bullets(summary.attention)]
    left_out: List[str] = []

    def section(title: str, has_content: Any, body: Callable[[], List[Flowable]]) -> None:
        if has_content:
            story.extend([Heading(title), *body()])
        else:
            left_out.append(title)

    overall = report.overall
    section("Headline figures", overall.total or report.second_reviews, lambda: [
        text(f"{overall.total} first reviews and {report.second_reviews} independent second reviews were "
             "submitted in the period."),
        *grade_sections([overall], "All reviews"), *caveat(overall.total)])
    section("Completion of the round", report.completion or report.plans, lambda: [
        *([table([["Reviewer", "Assigned", "Not started", "In progress", "Submitted", "Overdue", "Completion"]]
                 + [[c.reviewer, c.assigned, c.not_started, c.in_progress, c.submitted, c.overdue,
                     percent(c.completion)] for c in report.completion], [1.6, 0.8, 0.8, 0.8, 0.8, 0.8, 2.6])]
          if report.completion else []),
        *bullets([plan.statement for plan in report.plans])])  # each standing plan's round, with any shortfall
    section("Grades by area", report.by_area, lambda: [
        *grade_sections(report.by_area, "Area"), *area_charts(report.by_area),
        *([Heading("Grades by team", 1), *grade_sections(report.by_team, "Team")] if report.by_team else []),
        *([Heading("Grades by month", 1), *grade_sections(report.by_month, "Month")] if report.by_month else [])])
    section("Themes", report.themes.get("All"), lambda: theme_table(report.themes.get("All", [])))
    section("Compliance with the checklist", report.compliance, lambda: compliance_table(report.compliance))
    ack = report.acknowledgement
    section("Feedback to officers", ack is not None and ack.given, lambda: [text(ack.statement)])
    counts = report.action_counts
    section("Actions", report.actions or (counts is not None and counts.total), lambda: [
        *([text("Actions raised from the period's reviews: " + ", ".join(
            f"{n} {action_rules.STATUS_LABELS.get(s, s).lower()}" for s, n in counts.by_status.items() if n) + ".")]
          if counts is not None and counts.total else []),
        Heading("Still to do", 1), *action_table(report.actions)])
    section("Calibration: self-assessment against independent grades", report.calibration,
            lambda: calibration_block(report.calibration))
    profiles = calibration_export.pdf_section(report.header)  # reviewer profiles and the corrected estimate
    section("Reviewer calibration and the corrected estimate", profiles, lambda: profiles[1:])
    section("MOSOVO compliance and reported rates", report.mosovo, lambda: mosovo_block(report.mosovo))
    section("Change from the previous period", report.change.scales, lambda: change_block(report.change))
    section("Against the 2021 and 2022 inspections (independent grades)", report.trends,
            lambda: trend_block(report.trends))
    story += [Heading("Methodology"), *methodology_block(report.samples)]
    if left_out:
        story.append(text("Left out, with nothing to report for this period: " + "; ".join(left_out) + ".", "caveat"))
    return story


def _lines(value: str) -> List[str]:
    return [line.strip().lstrip("-•").strip() for line in (value or "").splitlines() if line.strip()]


def area_block(block: reports.AreaBlock) -> List[Flowable]:
    """One area in the inspectorate's form (DOMAIN §5, D3 area block): judgement, grades, strengths,
    work in progress, areas for improvement, developing practice, case-file analysis. A part with
    nothing to say is left out."""
    story: List[Flowable] = [PageBreak(), Heading(block.area)]
    narrative = block.narrative
    if narrative is not None and narrative.judgement:
        story += [labelled("Judgement", narrative.judgement)]
    if narrative is not None:
        story.append(text(narrative.provenance, "caveat"))
    story += [Heading("Grade distribution", 1), *grade_sections([block.grades], "Self-assessment"),
              *([grade_chart(block.grades)] if not block.grades.small_sample else []), *caveat(block.grades.total)]
    strengths = _lines(narrative.strengths) if narrative else []
    if strengths or block.strength_notes:
        story += [Heading("Strengths", 1), *bullets(strengths)]
        if block.strength_notes:
            story += [text("What reviewers wrote:", "body"), *bullets(block.strength_notes)]
    progress = _lines(narrative.work_in_progress) if narrative else []
    if progress or block.work_in_progress:
        story += [Heading("Work in progress", 1), *bullets(progress)]
        if block.work_in_progress:
            story += [text("Actions still open from the reviews:", "body"), *action_table(block.work_in_progress)]
    improvements = _lines(narrative.improvements) if narrative else []
    if improvements or block.improvement_notes:
        story += [Heading("Areas for improvement", 1), *bullets(improvements)]
        if block.improvement_notes:
            story += [text("What reviewers wrote:", "body"), *bullets(block.improvement_notes)]
    developing = _lines(narrative.developing) if narrative else []
    if developing:
        story += [Heading("Developing practice", 1), *bullets(developing)]
    if block.theme_figures:
        rows = [["Theme", "Strength or weakness", "Reviews", "Source"]]
        rows += [[f.label, f.kind, percent(f.proportion), f.source] for f in block.theme_figures]
        story += [KeepTogether([Heading("Theme figures", 1), table(rows[:6], [1.8, 1.2, 2.2, 2.2])])]
        if len(rows) > 6:
            story.append(table([rows[0]] + rows[6:], [1.8, 1.2, 2.2, 2.2]))
    story += [Heading("Case-file analysis", 1)]
    if block.independent is not None:
        story += grade_sections([block.independent], "Independent grades")
    story += calibration_block([block.case_file] if block.case_file else [], "self-assessment")
    return story


def pack_story(pack: reports.InspectionPack, purpose: str = "", recipient: str = "") -> List[Flowable]:
    story = cover(pack.header, purpose, recipient)
    rows = [["Area of practice", "Judgement", "Independent grades", "Self-assessment grades", "Narrative"]]
    for block in pack.areas:
        n = block.narrative
        rows.append([block.area, (n.judgement if n and n.judgement else "not yet judged"),
                     block.independent.total if block.independent else 0, block.grades.total,
                     ("draft" if n is None or n.is_draft else f"version {n.version}")])
    story += [Heading("Summary of judgements"),
              text("The judgement for each area is the QA lead's, drafted from the force's independent grades "
                   "(never from the self-assessment alone) and kept in QATT."), table(rows, [2.2, 1.4, 1, 1, 1]),
              Heading("Self-assessment grades by area", 1),
              text("Grades given by the force's own reviewers (self-assessment) in each area of practice."),
              *grade_sections([b.grades for b in pack.areas] + [pack.overall], "Area")]
    for block in pack.areas:
        story += area_block(block)
    story += [PageBreak(), Heading("Good-practice and poor-practice case studies"), *case_study_block(pack.case_studies)]
    story += [PageBreak(), Heading("Calibration across all areas"), *calibration_block(pack.calibration),
              *calibration_export.pdf_section(pack.header),
              Heading("MOSOVO compliance and reported rates"), *mosovo_block(pack.mosovo),
              Heading("Comparison with previous inspections"), *comparison_block(pack.comparison),
              Heading("Recommendations tracker")]
    story += register_block(pack.recommendations)
    story += [PageBreak(), Heading("Methodology annex"),
              text("Self-assessment serves two purposes: raising awareness of strengths and weaknesses, and "
                   "setting a baseline against which progress is measured."),
              *methodology_block(pack.samples)]
    return story


def feedback_story(sheet: reports.FeedbackSheet) -> List[Flowable]:
    story: List[Flowable] = [text(sheet.header.marking, "title"), Heading(f"Case review feedback: {sheet.case_reference}")]
    for label, value in [("Database", sheet.header.training), ("Area", sheet.area), ("Team", sheet.team),
                         ("Officer", sheet.officer),
                         ("Form", sheet.form_title), ("Sample month", sheet.period), ("Reviewer", sheet.reviewer),
                         ("Submitted", sheet.submitted_at or ""), ("Grade", sheet.grade),
                         ("Suggested grade", sheet.suggested_grade), ("Reason for a different grade", sheet.override_rationale),
                         ("Feedback given", sheet.feedback_date or ""), ("Audit log", sheet.header.audit_head)]:
        if value not in ("", None):
            story.append(labelled(label, value))
    story += [Heading("Checklist"), table([["Question", "Answer"]] + [[a.question, a.answer] for a in sheet.answers], [3, 2])]
    for title, body in [("Strengths", sheet.strengths), ("Areas for improvement", sheet.improvements),
                        ("Feedback", sheet.feedback)]:
        story += [Heading(title), text(body or "None recorded.")]
    story += [Heading("Actions"), *action_table(sheet.actions)]
    return story


def export_monthly(report: reports.MonthlyReport, target: Path, *, actor: str, purpose: str = "", recipient: str = "",
                   progress: ProgressFn = no_progress, cancel: Optional[CancelToken] = None,
                   reviews: Optional[Sequence[int]] = None) -> ExportResult:
    return _export(lambda: monthly_story(report, purpose, recipient), target, report.header, "monthly",
                   f"Monthly QA report, {report.header.filter.label()}", actor=actor, purpose=purpose,
                   recipient=recipient, progress=progress, cancel=cancel,
                   rows={"reviews": report.overall.total, "areas": len(report.by_area), "actions": len(report.actions)},
                   reviews=reviews)


def export_pack(pack: reports.InspectionPack, target: Path, *, actor: str, purpose: str = "", recipient: str = "",
                progress: ProgressFn = no_progress, cancel: Optional[CancelToken] = None,
                reviews: Optional[Sequence[int]] = None) -> ExportResult:
    return _export(lambda: pack_story(pack, purpose, recipient), target, pack.header, "pack",
                   f"Inspection self-assessment pack, {pack.header.filter.label()}", actor=actor, purpose=purpose,
                   recipient=recipient, progress=progress, cancel=cancel,
                   rows={"reviews": pack.overall.total, "areas": len(pack.areas),
                         "recommendations": len(pack.recommendations)}, reviews=reviews)


def export_feedback(sheet: reports.FeedbackSheet, target: Path, *, actor: str, purpose: str = "", recipient: str = "",
                    progress: ProgressFn = no_progress, cancel: Optional[CancelToken] = None) -> ExportResult:
    return _export(lambda: feedback_story(sheet), target, sheet.header, "feedback",
                   f"Feedback on review {sheet.review_id}", actor=actor, purpose=purpose, recipient=recipient,
                   progress=progress, cancel=cancel, rows={"reviews": 1, "review_id": sheet.review_id},
                   reviews=[sheet.review_id])
