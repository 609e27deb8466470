"""The monthly report's executive summary: a few sentences on what changed and what needs attention,
each with its count and interval, built from the figures the report already holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List

from qatt import stats

LOW_COMPLIANCE = 0.8  # a checklist item is flagged when its whole interval is below this
MAX_ITEMS = 3  # checklist items named in the summary


@dataclass
class ExecutiveSummary:
    headline: List[str] = field(default_factory=list)
    changed: List[str] = field(default_factory=list)
    attention: List[str] = field(default_factory=list)

    def as_dict(self) -> Dict[str, Any]:
        return {"headline": self.headline, "changed": self.changed, "attention": self.attention}


def _actions(count: int, what: str = "") -> str:
    return f"{count} {what + ' ' if what else ''}action{' is' if count == 1 else 's are'}"


def executive_summary(report: Any) -> ExecutiveSummary:
    """`report` is a MonthlyReport (typed loosely: monthly.py imports this module)."""
    summary = ExecutiveSummary()
    overall = report.overall
    if not overall.total and not report.second_reviews:
        summary.headline.append("No reviews were submitted for this period.")
    else:
        summary.headline.append(f"{overall.total} first reviews and {report.second_reviews} independent second "
                                "reviews were submitted.")
        graded = [s for s in overall.shares if s.proportion.count]
        if graded:
            summary.headline.append("First-review grades (the force's self-assessment): "
                                    + "; ".join(f"{s.label} {s.proportion.percent_text()}" for s in graded) + "."
                                    + (" " + stats.small_sample_warning(overall.total) if overall.small_sample else ""))
    drawn = sum(s.items for s in report.samples)
    reviewed = sum(min(s.first_reviews, s.items) for s in report.samples)
    if report.samples:
        samples = f"{len(report.samples)} sample{'s' if len(report.samples) != 1 else ''}"
        summary.headline.append(f"{samples} listed, {drawn} cases drawn; {reviewed} have a "
                                f"submitted first review ({stats.wilson(reviewed, drawn).percent_text()}).")
    else:
        summary.headline.append("No sample was drawn for this period.")

    for trend in report.change.scales:
        moved = [c.statement for c in trend.comparisons if c.significant]
        summary.changed += [f"Against the {trend.baseline}: {s}." for s in moved]
    if report.change.scales and not summary.changed:
        summary.changed.append(f"No grade's share changed by more than the uncertainty since the {report.change.previous} "
                               "period.")

    low = [item for item in report.compliance if item.overall.total and item.overall.high < LOW_COMPLIANCE]
    for item in sorted(low, key=lambda i: i.overall.p)[:MAX_ITEMS]:
        summary.attention.append(f"Low compliance: {item.question.header} ({item.form_title}), "
                                 f"{item.overall.percent_text()}.")
    counts = report.action_counts
    if counts is not None and counts.overdue:
        summary.attention.append(f"{_actions(counts.overdue)} overdue (the oldest by {counts.oldest_overdue_days} "
                                 "days).")
    waiting = counts.by_status.get("done", 0) if counts is not None else 0
    if waiting:  # done is not overdue, but nobody has checked it yet
        summary.attention.append(f"{_actions(waiting, 'done')} awaiting verification by a supervisor.")
    ack = report.acknowledgement
    if ack is not None and ack.given and ack.acknowledged.count < ack.given:
        summary.attention.append(ack.statement)
    for result in report.calibration:
        a = result.agreement
        if a.n and a.higher > a.lower:
            summary.attention.append(f"{result.title}: the first reviews were kinder than the independent grades "
                                     f"(better in {a.higher} of {a.n} cases graded twice, worse in {a.lower}).")
    if report.mosovo is not None:
        for figure in report.mosovo.figures:
            if figure.target is not None and figure.proportion.total and figure.proportion.high < figure.target:
                summary.attention.append(f"MOSOVO: {figure.statement}")
    return summary
