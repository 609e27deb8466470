"""The monthly report's executive summary: a few sentences on what changed and what needs attention,
each with its count and interval, built from the figures the report already holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Sequence

from qatt import stats
from qatt.agreement.calibration import NO_CLEAR_DIFFERENCE, net_difference
from qatt.reporting.comparison import bias_sentence, bias_statement, first_review_bias

LOW_COMPLIANCE = 0.8  # a checklist item is flagged when its whole interval is below this
MAX_ITEMS = 3  # checklist items named in the summary


@dataclass
class ExecutiveSummary:
    headline: List[str] = field(default_factory=list)
    changed: List[str] = field(default_factory=list)
    attention: List[str] = field(default_factory=list)

    def as_dict(self) -> Dict[str, Any]:
        return {"headline": self.headline, "changed": self.changed, "attention": self.attention}


def _first_review_bias(calibration: Sequence[Any]) -> List[str]:
    """A direction only where the interval supports it (comparison.bias_sentence, the reviewer profiles'
    rule), per form and for all forms together; where the first reviews were better more often than worse
    but no interval supports a direction, one sentence with the counts says the numbers are too few."""
    paired = [c for c in calibration if c.agreement.n]
    found = [bias_statement(c) for c in paired if first_review_bias(c).verdict != NO_CLEAR_DIFFERENCE]
    unclear = [c for c in paired if first_review_bias(c).verdict == NO_CLEAR_DIFFERENCE]
    if len(paired) == 1:
        a = paired[0].agreement
        return found or ([bias_statement(paired[0])] if a.higher > a.lower else [])
    h, l, same, n = (sum(getattr(c.agreement, k) for c in paired) for k in ("higher", "lower", "same", "n"))
    pooled = net_difference(h, l, n).verdict if n else NO_CLEAR_DIFFERENCE
    if h > l or pooled != NO_CLEAR_DIFFERENCE:
        sentence = bias_sentence(f"All {len(paired)} forms together", h, l, same, n)
        if unclear and pooled != NO_CLEAR_DIFFERENCE:
            which = f"each of the {len(paired)} forms" if len(unclear) == len(paired) else f"{len(unclear)} of the forms"
            sentence += f" On {which} alone the numbers are too few to tell (Calibration)."
        found.append(sentence)
    return found


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
    summary.attention += _first_review_bias(report.calibration)
    if report.mosovo is not None:
        for figure in report.mosovo.figures:
            if figure.target is not None and figure.proportion.total and figure.proportion.high < figure.target:
                summary.attention.append(f"MOSOVO: {figure.statement}")
    return summary
