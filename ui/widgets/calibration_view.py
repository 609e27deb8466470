"""Reviewer profiles on the Moderation page: a table and a chart of each reviewer's net difference from
independent second reviews, with its interval.

What the viewer may see is the core's decision (qatt.agreement.calibration.reviewer_profiles): a QA lead or
administrator gets everyone, anyone else only their own profile. Synchronous on purpose: a profile is
one query over the period's pairs and a few small sums per reviewer.
"""

from __future__ import annotations

import html
from typing import List, Optional, Sequence, Tuple

from PySide6.QtCharts import QCategoryAxis, QLineSeries, QScatterSeries, QValueAxis
from PySide6.QtCore import Qt
from PySide6.QtGui import QPen
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from qatt import reports
from qatt.agreement import calibration, corrected_estimate
from qatt.selection import sampling
from qatt.trust import users
from qatt.errors import QattError
from ui.context import AppContext
from ui.widgets.charts import chart_view, new_chart, replace_chart
from ui.qtmodels.tuple_model import TupleTableModel
from ui.widgets.tables import list_table

ALL_PERIODS = "All periods"
# Row: (reviewer, pairs, same grade, weighted kappa, higher, lower, net difference, verdict)
PROFILE_COLUMNS = [("Reviewer", 0, None), ("Pairs", 1, None), ("Same grade", 2, None),
                   ("Weighted kappa (linear)", 3, None), ("Graded higher", 4, None), ("Graded lower", 5, None),
                   ("Net difference (points)", 6, None), ("Finding", 7, None)]


def profile_rows(report: calibration.CalibrationReport) -> List[Tuple[str, ...]]:
    rows = []
    for p in report.profiles:
        a = p.agreement
        kappa = "not defined" if a.weighted_kappa_linear is None else f"{a.weighted_kappa_linear:.2f}"
        finding = p.verdict + (" (small sample)" if p.small_sample else "")
        scale = " / ".join(p.labels)
        rows.append((p.name(report.coded) + (f" ({scale})" if len({q.categories for q in report.profiles}) > 1
                                             else ""),
                     str(p.pairs), a.observed_agreement.percent_text(), kappa, p.higher.percent_text(),
                     p.lower.percent_text(), p.difference.text(), finding))
    return rows


def difference_chart(report: calibration.CalibrationReport):
    """Each reviewer's net difference (dot) and its 95% interval (line), against zero (dashed)."""
    chart = new_chart("Graded higher (+) or lower (−) than independent review, net % of cases")
    profiles = list(reversed(report.profiles))  # the first reviewer at the top
    x_axis = QValueAxis()
    x_axis.setRange(-100, 100)
    x_axis.setLabelFormat("%+d")
    x_axis.setTitleText("Net difference, points (95% interval)")
    y_axis = QCategoryAxis()
    y_axis.setStartValue(-0.5)
    for index, label in enumerate(_row_labels(report, profiles)):
        y_axis.append(label, index + 0.5)
    y_axis.setRange(-0.5, max(0.5, len(profiles) - 0.5))
    chart.addAxis(x_axis, Qt.AlignmentFlag.AlignBottom)
    chart.addAxis(y_axis, Qt.AlignmentFlag.AlignLeft)

    def attach(series) -> None:
        chart.addSeries(series)
        series.attachAxis(x_axis)
        series.attachAxis(y_axis)

    zero = QLineSeries()
    zero.setName("No difference")
    pen = QPen(zero.pen())
    pen.setStyle(Qt.PenStyle.DashLine)
    zero.setPen(pen)
    zero.append(0, -0.5)
    zero.append(0, max(0.5, len(profiles) - 0.5))
    attach(zero)
    points = QScatterSeries()
    points.setName("Net difference")
    intervals = []
    for index, profile in enumerate(profiles):
        interval = QLineSeries()
        interval.setName("95% interval")
        interval.append(profile.difference.low * 100, index)
        interval.append(profile.difference.high * 100, index)
        attach(interval)
        if index:  # one legend entry for all the intervals
            chart.legend().markers(interval)[0].setVisible(False)
        intervals.append(interval)
        points.append(profile.difference.value * 100, index)
    attach(points)
    for interval in intervals:  # one colour for every interval, the dots' own (the theme would vary it)
        line = QPen(points.color())
        line.setWidth(2)
        interval.setPen(line)
    return chart


def _row_labels(report: calibration.CalibrationReport, profiles: Sequence[calibration.ReviewerProfile]) -> List[str]:
    """One label per chart row; a reviewer on two scales is told apart by the scale's best grade
    (QCategoryAxis drops a repeated label)."""
    several = len({p.categories for p in profiles}) > 1
    labels: List[str] = []
    for profile in profiles:
        label = profile.name(report.coded) + (f" ({profile.labels[0]}…)" if several else "")
        while label in labels:
            label += "′"
        labels.append(label)
    return labels


class CalibrationView(QWidget):
    """Period choice, coded-names choice, the profiles table, the chart and the sentences."""

    def __init__(self, context: AppContext, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.context = context
        self.report: Optional[calibration.CalibrationReport] = None
        self.period_from = self._combo("Reviewer profiles from month")
        self.period_to = self._combo("Reviewer profiles to month")
        self.coded = QCheckBox("Show reviewers as co&des")
        self.coded.setToolTip("Reviewer A, B... instead of names, e.g. before sharing the screen")
        self.coded.toggled.connect(lambda _on: self.show_profiles())
        self.profiles = TupleTableModel(PROFILE_COLUMNS, parent=self)
        self.table = list_table("Reviewer profiles against independent second reviews", self.profiles)
        self.chart = chart_view("Chart of each reviewer's net difference from independent review")
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary.setAccessibleName("Reviewer profiles in words")
        self.estimate = QLabel("")
        self.estimate.setWordWrap(True)
        self.estimate.setTextFormat(Qt.TextFormat.RichText)
        self.estimate.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.estimate.setAccessibleName("Self-grades and the corrected estimate")
        choices = QHBoxLayout()
        for text, combo in (("Profiles fr&om:", self.period_from), ("&to:", self.period_to)):
            label = QLabel(text)
            label.setBuddy(combo)
            choices.addWidget(label)
            choices.addWidget(combo)
        choices.addWidget(self.coded)
        choices.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(choices)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.chart, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.estimate)
        self.refresh()

    def _combo(self, name: str) -> QComboBox:
        combo = QComboBox()
        combo.setAccessibleName(name)
        combo.currentIndexChanged.connect(lambda _index: self.show_profiles())
        return combo

    def refresh(self) -> None:
        """Reload the months that have samples, keeping the choice, and the profiles."""
        periods = sorted({s["period"] for s in sampling.list_samples() if s["period"]})
        for combo in (self.period_from, self.period_to):
            current = combo.currentText()
            combo.blockSignals(True)
            combo.clear()
            combo.addItems([ALL_PERIODS] + periods)
            index = combo.findText(current)
            combo.setCurrentIndex(index if index >= 0 else 0)
            combo.blockSignals(False)
        self.show_profiles()

    def _filter(self) -> reports.ReportFilter:
        def month(combo: QComboBox) -> str:
            return "" if combo.currentText() in ("", ALL_PERIODS) else combo.currentText()

        first, last = month(self.period_from), month(self.period_to)
        if first and last and first > last:
            first, last = last, first
        return reports.ReportFilter(period_from=first, period_to=last)

    def show_profiles(self) -> None:
        self.show_estimate()
        try:
            report = calibration.reviewer_profiles(self._filter(), self.context.actor, coded=self.coded.isChecked())
        except QattError as exc:
            self.report = None
            self.profiles.set_rows([])
            self.summary.setText(html.escape(str(exc)))
            return
        self.report = report
        self.profiles.set_rows(profile_rows(report))
        replace_chart(self.chart, difference_chart(report), self._describe(report.profiles, report.coded),
                      len(report.profiles), 1.5)
        lines = [html.escape(p.statement(report.coded)) for p in report.profiles]
        if not lines:
            lines = ["No case in the period has a submitted first review and an independent second review."]
        lines += [f"<i>{html.escape(n)}</i>" for n in report.notes]
        lines.append("<i>“More lenient” is said only when the 95% interval leaves out no difference.</i>")
        self.summary.setText("<br>".join(lines))

    def show_estimate(self) -> None:
        """Self-grades beside the corrected estimate for the chosen months (moderators and above; about
        0.1 s for a month's reviews with 1,000 bootstrap replicates, so it stays on the GUI thread)."""
        if not users.has_role(self.context.actor, "moderator"):
            self.estimate.setText("")
            return
        try:
            result = corrected_estimate.estimate_for_period(self._filter(), self.context.actor, replicates=1000)
        except QattError as exc:
            self.estimate.setText(html.escape(str(exc)))
            return
        self.estimate.setText(estimate_html(result))

    @staticmethod
    def _describe(profiles: Sequence[calibration.ReviewerProfile], coded: bool) -> str:
        return "; ".join(f"{p.name(coded)} {p.difference.text()}" for p in profiles) or "no profiles"


def estimate_html(result: corrected_estimate.PeriodEstimate) -> str:
    """The self-graded distribution beside the estimate, labelled as an estimate, with its assumptions."""
    if not result.estimates:
        return html.escape(f"No graded first reviews in {result.period_label}, so there is nothing to correct.")
    blocks = []
    for title, estimate in result.estimates:
        rows = "".join(f"<tr><td>{html.escape(s.label)}</td><td>{html.escape(s.self_graded.percent_text())}</td>"
                       f"<td>{html.escape(s.estimate_text())}</td></tr>" for s in estimate.shares)
        block = (f"<b>{html.escape(title)}: what independent reviewers would most likely have given "
                 f"(an estimate)</b><table cellspacing='6'><tr><th align='left'>Grade</th>"
                 f"<th align='left'>Self-graded ({estimate.first_reviews} first reviews)</th>"
                 f"<th align='left'>Estimate ({estimate.pairs} pairs)</th></tr>{rows}</table>")
        if estimate.withheld:
            block += f"<i>The estimate is withheld: {html.escape(estimate.withheld)}</i>"
        else:
            block += "<i>Assumes: " + html.escape(" ".join(estimate.assumptions)) + "</i>"
        blocks.append(block)
    return "<br>".join(blocks)
