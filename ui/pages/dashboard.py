"""The Dashboard page: grades, themes, checklist compliance, MOSOVO figures and monthly trends for a
period and an area, read at a glance by a QA lead.

It leads with a compact summary, one row per area (cases, each grade's share with its 95% interval,
a small-sample flag); charts and the long tables (compliance per checklist item, MOSOVO) are on
tabs of their own, each table sortable and as tall as the window allows.

Every figure comes from qatt.reports (the same numbers as the monthly report and the exports); the
page only draws them. The figures are gathered in a background worker so the window never freezes,
and QtCharts is imported here only, so the window still opens quickly (pages are built lazily).
"""

from __future__ import annotations

from datetime import datetime
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from PySide6.QtCharts import (
    QBarCategoryAxis, QBarSet, QChart, QHorizontalBarSeries, QHorizontalStackedBarSeries, QLineSeries, QStackedBarSeries,
    QValueAxis,
)
from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QHBoxLayout, QLabel, QScrollArea, QStackedWidget, QTableView, QTabWidget, QVBoxLayout,
    QWidget,
)

from qatt import reports, stats
from qatt.selection import monitoring
from ui import theme
from qatt.reporting.filters import seen_by
from ui.context import AppContext
from ui.messages import show_problem
from ui.qtmodels.tuple_model import TupleTableModel
from ui.widgets.charts import add_axes, chart_view, new_chart, replace_chart, show_tips
from ui.widgets.tables import leave_on_tab
from ui.workers import Worker

ALL_AREAS = "All areas"
DEFAULT_MONTHS = 12  # the period shown first: the last twelve months that have submitted reviews
EMPTY_TEXT = ("There are no submitted reviews yet, so there is nothing to chart. Reviews count here once they "
              "are submitted on the Review page (Ctrl+3).")
# A horizontal bar chart's height per category, in lines of the application font (ui.widgets.charts.chart_height).
AREA_LINES = 2.2          # one area's stacked bar, with the gap to the next
THEME_LINES = 2.2         # one theme's pair of bars (strength, weakness), with the gap to the next
SORT_ROLE = Qt.ItemDataRole.UserRole  # what the dashboard's tables sort by: numbers as numbers


def _counted(p: stats.Proportion) -> str:
    return f"{p.count}/{p.total}"


def _share(p: Optional[stats.Proportion]) -> str:
    """A grade's share with its interval, "41.4% (30.6–53.1%)"; "–" for a grade not on the group's scale."""
    return "–" if p is None else f"{p.point_text()} ({p.interval_text()})" if p.total else "–"


def _text(value: Any) -> str:
    return "" if value is None else str(value)


COMPLIANCE_COLUMNS = [("Form", 0, None), ("Checklist item", 1, None), ("Yes / counted", 2, _counted),
                      ("Compliance", 2, lambda p: p.point_text()), ("95% CI", 2, lambda p: p.interval_text()),
                      ("N/A", 3, _text), ("Note", 4, None)]
MOSOVO_COLUMNS = [("Item", 0, None), ("Yes / counted", 1, None), ("Compliance", 2, None), ("95% CI", 3, None),
                  ("Force target", 4, None), ("Reported rate (source)", 5, None), ("Statement", 6, None)]
SMALL_SAMPLE_FLAG = f"Small sample (under {stats.SMALL_SAMPLE})"
ALL_AREAS_ROW = "All areas"
# The dashboard's tabs, in order (tests and the screenshots tool pick them by these indexes).
SUMMARY_TAB, CHARTS_TAB, COMPLIANCE_TAB, MOSOVO_TAB, ROUNDS_TAB = range(5)


class SortableTableModel(TupleTableModel):
    """A TupleTableModel that also answers SORT_ROLE: a proportion sorts by its share, a number as a number."""

    def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != SORT_ROLE:
            return super().data(index, role)
        if not index.isValid():
            return None
        value = self.rows[index.row()][self.columns[index.column()][1]]
        if isinstance(value, stats.Proportion):
            return value.p if value.total else -1.0
        if isinstance(value, (int, float)):
            return float(value)
        return "" if value is None else str(value).lower()


# --------------------------------------------------------------------------- the figures (no Qt needed)

@dataclass
class DashboardFigures:
    """Everything the page draws, gathered off the GUI thread from qatt.reports."""

    choices: reports.FilterChoices
    filter: reports.ReportFilter
    overall: Optional[reports.GradeDistribution] = None
    by_area: List[reports.GradeDistribution] = field(default_factory=list)
    by_month: List[reports.GradeDistribution] = field(default_factory=list)
    themes: List[reports.ThemeFrequency] = field(default_factory=list)
    compliance: List[reports.ComplianceItem] = field(default_factory=list)
    mosovo: Optional[reports.MosovoCompliance] = None
    trends: List[reports.Trend] = field(default_factory=list)
    scales: List[List[str]] = field(default_factory=list)  # grade scales in use: case grades, MOSOVO compliance
    purged: int = 0  # reviews deleted under retention that the grade figures still count
    change: Optional[reports.PeriodChange] = None  # against the months just before
    plans: List[Any] = field(default_factory=list)  # qatt.selection.monitoring.PlanMonth per plan and month shown
    estimate: str = ""  # the corrected estimate as one labelled line (moderators and above), or why not shown

    @property
    def mixed_scales(self) -> bool:
        return len(self.scales) > 1

    @property
    def empty(self) -> bool:
        """True when the database holds no submitted review at all."""
        return not self.choices.periods


def default_period(periods: Sequence[str]) -> Tuple[str, str]:
    """The first and last of the last DEFAULT_MONTHS months that have data."""
    recent = list(periods)[-DEFAULT_MONTHS:]
    return recent[0], recent[-1]


def gather(period_from: str = "", period_to: str = "", area: str = "", viewer: str = "") -> DashboardFigures:
    """The figures for the chosen months and area, of the reviews `viewer` may see (qatt.trust.visibility:
    a moderator holding a blind second review sees no figure that counts the other review). Months
    that no longer have reviews fall back to the default period, and an area that no longer has
    reviews to all areas, so a stale choice never shows an empty dashboard for no visible reason."""
    choices = reports.filter_choices()
    if not choices.periods:
        return DashboardFigures(choices, reports.ReportFilter())
    if period_from not in choices.periods or period_to not in choices.periods:
        period_from, period_to = default_period(choices.periods)
    flt = seen_by(reports.ReportFilter(period_from, period_to, [area] if area in choices.areas else []), viewer)
    vocab = reports.Vocabulary.load()
    catalogue = reports.FormCatalogue.for_filter(flt)
    overall = reports.overall_distribution(flt, vocab)
    by_area = reports.grade_distributions(flt, "area", vocab)
    return DashboardFigures(
        choices=choices, filter=flt, overall=overall, by_area=by_area,
        by_month=reports.grade_distributions(flt, "month", vocab),
        themes=reports.theme_frequencies(flt, vocab, catalogue)["All"],
        compliance=reports.compliance(flt, catalogue),
        mosovo=reports.mosovo_compliance(flt),
        # Like for like: the inspections' grades are set against the force's independent grades only.
        trends=reports.independent_trends(reports.overall_distribution(flt, vocab, role="second"),
                                          reports.grade_distributions(flt, "area", vocab, role="second"), vocab),
        scales=scales_in_use(vocab, [s.grade for s in overall.shares if s.proportion.count]),
        purged=reports.purged_review_count(flt),
        change=reports.period_change(flt, overall, vocab),
        plans=monitoring.plan_completion(monitoring.months_of(period_from, period_to)),
        estimate=estimate_line(flt, viewer))


ESTIMATE_REPLICATES = 1000  # as on the Moderation page: about 0.1 s for a year of demo reviews


def estimate_line(flt: reports.ReportFilter, viewer: str) -> str:
    """The corrected estimate of the period's main scale as one clearly labelled line, for a moderator or
    above, when there are enough independent second reviews ('' otherwise, or the reason it is withheld)."""
    from qatt.agreement import corrected_estimate
    from qatt.trust import users
    from qatt.errors import QattError

    if not viewer or not users.has_role(viewer, "moderator"):
        return ""
    try:
        result = corrected_estimate.estimate_for_period(flt, viewer, replicates=ESTIMATE_REPLICATES)
    except QattError as exc:
        return f"Corrected estimate not shown: {exc}"
    if not result.estimates:
        return ""
    title, estimate = result.estimates[0]
    if estimate.withheld:
        return f"Corrected estimate ({title}) withheld: {estimate.withheld}"
    shares = "; ".join(f"{s.label} {s.estimate_text()}" for s in estimate.shares if s.estimate is not None)
    return (f"Estimate, not a count ({title}): from {estimate.pairs} cases with an independent second review, "
            f"independent reviewers would most likely have given {shares}. Assumptions: Moderation > Reviewer profiles.")


def scales_in_use(vocab: reports.Vocabulary, grades: Sequence[str]) -> List[List[str]]:
    """The scales the grades come from, each grade counted on the first scale that has it (as
    Vocabulary.scale_for orders them): "good" is on several scales but means one here."""
    scales: List[List[str]] = []
    for values, special in vocab.scales:
        if any(g in values + special and not any(g in scale for scale in scales) for g in grades):
            scales.append(values + special)
    return scales


def short_month(period: str) -> str:
    """"2024-04" as "Apr 24": short enough for a month axis never to cut its labels to "20..."."""
    try:
        return datetime.strptime(period, "%Y-%m").strftime("%b %y")
    except ValueError:
        return period


def share_of(distribution: reports.GradeDistribution, grade: str) -> stats.Proportion:
    """A grade's share of a group; a grade of another scale than the group's has none of it."""
    share = next((s for s in distribution.shares if s.grade == grade), None)
    return share.proportion if share is not None else stats.wilson(0, distribution.total)


def compliance_rows(items: Sequence[reports.ComplianceItem]) -> List[Tuple[Any, ...]]:
    """(form, item, proportion, N/A count, note): the columns format the proportion, the table sorts by it."""
    return [(item.form_title, item.question.header, item.overall, item.not_applicable,
             stats.small_sample_warning(item.overall.total)) for item in items]


def area_columns(grades: Sequence[reports.GradeShare]) -> List[Tuple[str, int, Any]]:
    """Area, cases, one column per grade of the scales in use (share and 95% interval), the flag."""
    return ([("Area", 0, None), ("Cases", 1, _text)]
            + [(g.label, 2 + i, _share) for i, g in enumerate(grades)]
            + [("Note", 2 + len(grades), None)])


def area_rows(figures: "DashboardFigures") -> List[Tuple[Any, ...]]:
    """All areas first, then one row per area: cases, each grade's proportion (None off the area's
    scale) and the small-sample flag."""
    grades = [g.grade for g in figures.overall.shares] if figures.overall else []
    groups = ([figures.overall] if figures.overall is not None and len(figures.by_area) != 1 else []) + list(figures.by_area)
    rows = []
    for position, group in enumerate(groups):
        shares = {s.grade: s.proportion for s in group.shares}
        name = ALL_AREAS_ROW if position == 0 and group is figures.overall else group.group
        rows.append((name, group.total, *[shares.get(g) for g in grades],
                     SMALL_SAMPLE_FLAG if group.total < stats.SMALL_SAMPLE else ""))
    return rows


def mosovo_rows(mosovo: Optional[reports.MosovoCompliance]) -> List[Tuple[str, ...]]:
    if mosovo is None:
        return []
    return [(f.label, f"{f.proportion.count}/{f.proportion.total}", f.proportion.point_text(),
             f.proportion.interval_text(), f"{f.target * 100:.0f}%" if f.target is not None else "none set",
             f"{f.reported.rate * 100:.0f}% ({f.reported.source})" if f.reported is not None else "", f.statement)
            for f in mosovo.figures]


def rounds_text(plans: Sequence[Any]) -> str:
    """Each standing plan's round for the months shown (qatt.selection.monitoring), one line each."""
    return "\n".join(p.statement for p in plans) or "No standing plan has a round in these months."


def mosovo_summary(mosovo: Optional[reports.MosovoCompliance]) -> str:
    if mosovo is None:
        return "No MOSOVO checks were submitted for this period and area."
    oldest = "none recorded" if mosovo.oldest_task_days is None else f"{mosovo.oldest_task_days:g} days"
    text = (f"{mosovo.checks} MOSOVO check{'s' if mosovo.checks != 1 else ''}. Visits overdue: {mosovo.overdue_visits} "
            f"({mosovo.days_overdue_total:g} days in all, longest {mosovo.days_overdue_max:g}). "
            f"Oldest outstanding supervisory task: {oldest}.")
    warning = stats.small_sample_warning(mosovo.checks)
    return f"{text} {warning}" if warning else text


def by_area_title(figures: DashboardFigures) -> str:
    """Says so when areas are graded on different scales, so a compliance bar (MOSOVO checks) is not
    read as a case grade."""
    if not figures.mixed_scales:
        return "Grades by area"
    return "Grades by area (forms grade on different scales: each area's bar shows its own form's grades)"


def overall_summary(figures: DashboardFigures) -> str:
    overall = figures.overall
    if overall is None or overall.total == 0:
        return f"{figures.filter.label()}: no graded reviews."
    shares = "; ".join(f"{s.label} {s.proportion.percent_text()}" for s in overall.shares if s.proportion.count)
    per_scale = ""
    if figures.mixed_scales:  # each share is of its own scale's reviews (qatt.reporting.figures._distribution)
        labels = {s.grade: s.label for s in overall.shares}
        per_scale = " (" + ", ".join(
            f"{sum(overall.count(g) for g in scale)} graded {' / '.join(labels[g] for g in scale if g in labels)}"
            for scale in figures.scales) + ")"
    text = f"{figures.filter.label()}: {overall.total} graded reviews{per_scale}. {shares}."
    notes = [note for note in (stats.small_sample_warning(overall.total), reports.retention_note(figures.purged)) if note]
    return " ".join([text, *notes])


def describe_distributions(distributions: Sequence[reports.GradeDistribution]) -> str:
    """The chart's figures as text, for screen readers."""
    return "; ".join(f"{d.group}: " + ", ".join(f"{s.label} {s.proportion.count}" for s in d.shares if s.proportion.count)
                     for d in distributions) or "No graded reviews."


# --------------------------------------------------------------------------- charts (the building blocks: ui.widgets.charts)

def grade_chart(title: str, distributions: Sequence[reports.GradeDistribution],
                grades: Sequence[reports.GradeShare], horizontal: bool = False,
                category: Callable[[str], str] = str) -> QChart:
    """Stacked counts of each grade per group (area or month), one bar set per grade, each group
    labelled category(group). Horizontal bars leave room for long group names (areas); the first
    group is then drawn at the top."""
    chart = new_chart(title)
    shown = list(reversed(distributions)) if horizontal else list(distributions)
    series = QHorizontalStackedBarSeries() if horizontal else QStackedBarSeries()
    for position, grade in enumerate(grades):
        bar_set = QBarSet(grade.label)
        bar_set.setColor(theme.grade_colour(grade.grade, position))
        bar_set.setBorderColor(theme.grade_colour(grade.grade, position))
        bar_set.append([float(d.count(grade.grade)) for d in shown])
        series.append(bar_set)
    labels = {g.label: g.grade for g in grades}
    show_tips(series, lambda index, label: f"{shown[index].group}: {label} "
                                           f"{share_of(shown[index], labels[label]).percent_text()}")
    chart.addSeries(series)
    add_axes(chart, series, [category(d.group) for d in shown], max((d.total for d in shown), default=0),
             horizontal)
    return chart


def theme_chart(themes: Sequence[reports.ThemeFrequency]) -> QChart:
    """Strength and weakness counts per theme, most-tagged theme at the top."""
    chart = new_chart("Themes: strengths and weaknesses")
    shown = list(reversed(themes))  # a horizontal chart draws its first category at the bottom
    series = QHorizontalBarSeries()
    kinds: Dict[str, Callable[[reports.ThemeFrequency], stats.Proportion]] = {
        "Strength": lambda t: t.strength, "Weakness": lambda t: t.weakness}
    for label, pick in kinds.items():
        bar_set = QBarSet(label)
        bar_set.append([float(pick(t).count) for t in shown])
        series.append(bar_set)
    show_tips(series, lambda index, label: f"{shown[index].label}, {label.lower()}: "
              f"{kinds[label](shown[index]).percent_text()} of the reviews that recorded themes")
    chart.addSeries(series)
    largest = max((max(t.strength.count, t.weakness.count) for t in shown), default=0)
    add_axes(chart, series, [t.label for t in shown], largest, horizontal=True)
    return chart


def trend_chart(by_month: Sequence[reports.GradeDistribution], grades: Sequence[reports.GradeShare],
                main_scale: Sequence[str] = ()) -> QChart:
    """Each grade's share of the month's reviews, month by month. Grades of another scale than the main one
    (MOSOVO compliance beside case grades) are dashed, so they read apart even where the theme's colours repeat."""
    chart = new_chart("Grades by month (each grade as % of the month's reviews on its scale)")
    months = QBarCategoryAxis()
    months.append([short_month(d.group) for d in by_month])
    percent_axis = QValueAxis()
    percent_axis.setRange(0, 100)
    percent_axis.setLabelFormat("%d%%")
    chart.addAxis(months, Qt.AlignmentFlag.AlignBottom)
    chart.addAxis(percent_axis, Qt.AlignmentFlag.AlignLeft)
    for position, grade in enumerate(grades):
        line = QLineSeries()
        line.setName(grade.label)
        line.setPointsVisible(True)
        for index, month in enumerate(by_month):
            line.append(index, share_of(month, grade.grade).p * 100)
        chart.addSeries(line)
        pen = line.pen()
        pen.setColor(theme.grade_colour(grade.grade, position))
        pen.setWidthF(max(pen.widthF(), 2.0))
        if main_scale and grade.grade not in main_scale:
            pen.setStyle(Qt.PenStyle.DashLine)
        line.setPen(pen)
        line.attachAxis(months)
        line.attachAxis(percent_axis)
    return chart


def table_view(name: str, model: TupleTableModel) -> QTableView:
    """A sortable table (click a heading, or Ctrl+Shift+S) over `model`, through a proxy that sorts by SORT_ROLE."""
    view = QTableView()
    view.setAccessibleName(name)
    proxy = QSortFilterProxyModel(view)
    proxy.setSortRole(SORT_ROLE)
    proxy.setSourceModel(model)
    view.setModel(proxy)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    leave_on_tab(view)
    view.setWordWrap(True)
    view.setSortingEnabled(True)
    view.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # the core's order until a heading is clicked
    view.verticalHeader().hide()
    view.horizontalHeader().setStretchLastSection(True)
    # From the keyboard: Ctrl+Shift+S sorts by the current cell's column (again: the other way round).
    sort = QAction("Sort by this column", view)
    sort.setShortcut(QKeySequence("Ctrl+Shift+S"))
    sort.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
    sort.triggered.connect(lambda: sort_by_current_column(view))
    view.addAction(sort)
    view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
    view.setToolTip("Click a heading, or press Ctrl+Shift+S on a cell, to sort by that column.")
    return view


def sort_by_current_column(view: QTableView) -> None:
    column = max(view.currentIndex().column(), 0)
    header = view.horizontalHeader()
    ascending = Qt.SortOrder.AscendingOrder
    if header.sortIndicatorSection() == column and header.sortIndicatorOrder() == ascending:
        order = Qt.SortOrder.DescendingOrder
    else:
        order = ascending
    view.sortByColumn(column, order)


def fit_columns(view: QTableView) -> None:
    """Every column but the last (long text, stretched and wrapped) as wide as its contents and heading."""
    header = view.horizontalHeader()
    for column in range(view.model().columnCount() - 1):
        view.resizeColumnToContents(column)
        header.resizeSection(column, max(header.sectionSize(column), header.sectionSizeHint(column)))
    view.resizeRowsToContents()


def tab_page(*widgets: QWidget, stretch: Optional[QWidget] = None) -> QWidget:
    """A tab's content: the widgets one under the other, `stretch` taking the spare height (else the end does)."""
    page = QWidget()
    layout = QVBoxLayout(page)
    for widget in widgets:
        layout.addWidget(widget, 1 if widget is stretch else 0)
    if stretch is None:
        layout.addStretch(1)
    return page


def heading(text: str) -> QLabel:
    label = QLabel(f"<b>{text}</b>")
    label.setAccessibleName(text)
    return label


# --------------------------------------------------------------------------- the page

class DashboardPage(QWidget):
    """Emits loaded(DashboardFigures) once the charts show new figures, so callers and tests can follow."""

    loaded = Signal(object)

    def __init__(self, context: AppContext, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.context = context
        self.worker: Optional[Worker] = None
        self.reload_pending = False
        self.figures: Optional[DashboardFigures] = None

        self.period_from = self._combo("First month of the period")
        self.period_to = self._combo("Last month of the period")
        self.area = self._combo("Area of practice")
        filters = QHBoxLayout()
        for text, combo in (("Fro&m", self.period_from), ("&To", self.period_to), ("&Area", self.area)):
            label = QLabel(text)
            label.setBuddy(combo)
            # Room for the whole word: a short mnemonic label was clipped ("Tc" for "To").
            label.setMinimumWidth(label.fontMetrics().horizontalAdvance(text.replace("&", "")) + 6)
            filters.addWidget(label)
            filters.addWidget(combo)
        filters.addStretch(1)
        self.status = QLabel("")
        self.status.setAccessibleName("Dashboard status")
        filters.addWidget(self.status)

        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary.setAccessibleName("Summary of the grades")
        self.estimate = QLabel("")
        self.estimate.setWordWrap(True)
        self.estimate.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.estimate.setAccessibleName("Corrected estimate of the grades independent reviewers would have given")
        self.areas = SortableTableModel(area_columns([]), parent=self)
        self.area_table = table_view("Grades by area with 95% confidence intervals", self.areas)
        self.area_table.setToolTip("Each grade's share of the area's graded reviews, with its 95% confidence interval")
        self.area_heading = heading("Grades by area: each grade's share with its 95% confidence interval")

        self.by_area_view = chart_view("Grades by area chart")
        self.by_month_view = chart_view("Grades by month chart")
        self.themes_view = chart_view("Theme strengths and weaknesses chart")
        self.trend_view = chart_view("Grade trend by month chart")
        self.baselines = QLabel("")
        self.baselines.setWordWrap(True)
        self.baselines.setAccessibleName("Change against the previous period and the inspection baselines")
        self.compliance = SortableTableModel(COMPLIANCE_COLUMNS, parent=self)
        self.compliance_table = table_view("Compliance by checklist item", self.compliance)
        self.mosovo = SortableTableModel(MOSOVO_COLUMNS, parent=self)
        self.mosovo_table = table_view("MOSOVO compliance, force targets and reported rates", self.mosovo)
        self.rounds = QLabel("")
        self.rounds.setWordWrap(True)
        self.rounds.setAccessibleName("Monthly rounds: checks planned, submitted and outstanding")
        self.mosovo_summary = QLabel("")
        self.mosovo_summary.setWordWrap(True)
        self.mosovo_summary.setAccessibleName("MOSOVO checks, overdue visits and backlog")

        self.empty_label = QLabel(EMPTY_TEXT)
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setAccessibleName("No reviews to chart")
        self.tabs = self._figures_tabs()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.tabs)
        self.stack.addWidget(self.empty_label)

        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.stack, 1)
        self.refresh()

    def _combo(self, name: str) -> QComboBox:
        combo = QComboBox()
        combo.setAccessibleName(name)
        combo.activated.connect(lambda _index: self._filter_chosen(combo))
        return combo

    def _figures_tabs(self) -> QTabWidget:
        """The summary first; charts and each long table on a tab of its own, with the window's height."""
        charts = QWidget()
        column = QVBoxLayout(charts)
        # One chart per row at the full width, so no chart has to cut its labels or legend short.
        for widget in (self.by_area_view, self.by_month_view, self.trend_view, self.baselines, self.themes_view):
            column.addWidget(widget)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(charts)
        scroll.setAccessibleName("Dashboard charts")
        tabs = QTabWidget()
        tabs.setAccessibleName("Dashboard figures")
        tabs.addTab(tab_page(self.summary, self.estimate, self.area_heading, self.area_table,
                             stretch=self.area_table), "Summar&y by area")
        tabs.addTab(scroll, "&Charts")
        tabs.addTab(tab_page(heading("Compliance by checklist item (yes ÷ yes + no, 95% confidence interval)"),
                             self.compliance_table, stretch=self.compliance_table), "Comp&liance by item")
        tabs.addTab(tab_page(heading("MOSOVO compliance: force targets and the rates the sources reported"),
                             self.mosovo_summary, self.mosovo_table, stretch=self.mosovo_table), "M&OSOVO")
        tabs.addTab(tab_page(heading("Monthly rounds (planned, submitted, outstanding)"), self.rounds), "Monthly &rounds")
        return tabs

    # -- loading ------------------------------------------------------------------------------------

    @property
    def loading(self) -> bool:
        return self.worker is not None

    def refresh(self) -> None:
        """Gather the figures for the chosen filters again (another page may have changed the data)."""
        if self.loading:
            self.reload_pending = True
            return
        area = self.area.currentText()
        self.worker = Worker(gather, self.period_from.currentText(), self.period_to.currentText(),
                             "" if area == ALL_AREAS else area, self.context.actor, pass_progress=False)
        self.worker.signals.finished.connect(self._gathered)
        self.worker.signals.failed.connect(self._failed)
        self.status.setText("Loading the figures…")
        self.worker.start()

    def _filter_chosen(self, combo: QComboBox) -> None:
        """Keep the period in order (a month chosen past the other end moves that end too), then reload."""
        first, last = self.period_from.currentText(), self.period_to.currentText()
        if first > last:
            other = self.period_to if combo is self.period_from else self.period_from
            other.setCurrentText(combo.currentText())
        self.refresh()

    def _ended(self) -> bool:
        """The worker is done; True when a newer request is waiting (then it has been started)."""
        self.worker = None
        self.status.setText("")
        if self.reload_pending:
            self.reload_pending = False
            self.refresh()
            return True
        return False

    def _failed(self, message: str) -> None:
        if not self._ended():
            show_problem(self, "The dashboard could not be loaded", message)

    def _gathered(self, figures: DashboardFigures) -> None:
        if self._ended():
            return
        self.figures = figures
        self._show_choices(figures)
        self.stack.setCurrentWidget(self.empty_label if figures.empty else self.stack.widget(0))
        if not figures.empty:
            self._show_figures(figures)
        self.loaded.emit(figures)

    # -- showing ------------------------------------------------------------------------------------

    def _show_choices(self, figures: DashboardFigures) -> None:
        flt = figures.filter
        for combo, items, current in ((self.period_from, figures.choices.periods, flt.period_from),
                                      (self.period_to, figures.choices.periods, flt.period_to),
                                      (self.area, [ALL_AREAS] + figures.choices.areas,
                                       flt.areas[0] if flt.areas else ALL_AREAS)):
            combo.clear()
            combo.addItems(items)
            combo.setCurrentText(current)
            combo.setEnabled(not figures.empty)

    def _show_figures(self, figures: DashboardFigures) -> None:
        grades = figures.overall.shares if figures.overall else []
        self.summary.setText(overall_summary(figures))
        self.estimate.setText(figures.estimate)
        self.estimate.setVisible(bool(figures.estimate))
        self.areas.columns = area_columns(grades)
        self.areas.set_rows(area_rows(figures))
        fit_columns(self.area_table)
        replace_chart(self.by_area_view, grade_chart(by_area_title(figures), figures.by_area, grades, horizontal=True),
                      describe_distributions(figures.by_area), len(figures.by_area), AREA_LINES)
        by_month = grade_chart("Grades by month", figures.by_month, grades, category=short_month)
        replace_chart(self.by_month_view, by_month, describe_distributions(figures.by_month))
        replace_chart(self.themes_view, theme_chart(figures.themes),
                      "; ".join(f"{t.label}: strength {t.strength.count}, weakness {t.weakness.count}"
                                for t in figures.themes) or "No themes recorded.", len(figures.themes), THEME_LINES)
        main_scale = figures.scales[0] if figures.scales else ()
        replace_chart(self.trend_view, trend_chart(figures.by_month, grades, main_scale),
                      "; ".join(f"{d.group}: " + ", ".join(f"{s.label} {s.proportion.point_text()}" for s in d.shares)
                                for d in figures.by_month) or "No graded reviews.")
        changes = figures.change.scales if figures.change else []
        self.baselines.setText("\n".join(f"Against the {t.baseline}{f' ({t.area})' if t.area else ''}"
                                         f"{f', {t.grades}' if t.grades else ''}: {c.statement}."
                                         for t in [*changes, *figures.trends] for c in t.comparisons))
        self.compliance.set_rows(compliance_rows(figures.compliance))
        fit_columns(self.compliance_table)
        self.tabs.setTabText(COMPLIANCE_TAB, f"Comp&liance by item ({len(figures.compliance)})")
        self.rounds.setText(rounds_text(figures.plans))
        self.mosovo_summary.setText(mosovo_summary(figures.mosovo))
        self.mosovo.set_rows(mosovo_rows(figures.mosovo))
        fit_columns(self.mosovo_table)
