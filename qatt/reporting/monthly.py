"""The monthly QA report for the governance boards (DOMAIN §3 and §5 "Monthly reports")."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from qatt.selection import monitoring
from qatt.reporting.filters import FormCatalogue, ReportFilter, SECOND, Vocabulary, submitted_reviews
from qatt.reporting.figures import (
    ActionRow, Calibration, ComplianceItem, GradeDistribution, PeriodChange, ReportHeader, ReviewerCompletion,
    SampleRecord, ThemeFrequency, Trend, _header, calibration, completion, compliance, grade_distributions,
    grade_pairs, outstanding_actions, overall_distribution, period_change, samples_used, theme_frequencies)
from qatt.reporting.comparison import independent_trends
from qatt.loop.acknowledgement import AcknowledgementFigures
from qatt.loop.actions import ActionSummary
from qatt.reporting.loop import acknowledgement_figures, action_status_counts
from qatt.reporting.summary import ExecutiveSummary, executive_summary
from qatt.reporting.mosovo import MosovoCompliance, mosovo_compliance
from qatt.storage import models as m


@dataclass
class MonthlyReport:
    """The monthly QA report for the governance boards (DOMAIN §3 and §5 'Monthly reports')."""

    header: ReportHeader
    overall: GradeDistribution
    second_reviews: int
    by_area: List[GradeDistribution]
    by_team: List[GradeDistribution]
    by_month: List[GradeDistribution]
    themes: Dict[str, List[ThemeFrequency]]
    compliance: List[ComplianceItem]
    actions: List[ActionRow]
    completion: List[ReviewerCompletion]
    calibration: List[Calibration]
    mosovo: Optional[MosovoCompliance]
    trends: List[Trend]
    samples: List[SampleRecord]
    change: PeriodChange = field(default_factory=lambda: PeriodChange("", 0, []))
    # The improvement loop (issue 12): feedback acknowledged, where the actions stand, the summary.
    acknowledgement: Optional[AcknowledgementFigures] = None
    action_counts: Optional[ActionSummary] = None
    summary: ExecutiveSummary = field(default_factory=ExecutiveSummary)
    plans: List[Any] = field(default_factory=list)  # qatt.selection.monitoring.PlanMonth: each plan's round, with shortfalls

    def as_dict(self) -> Dict[str, Any]:
        return {
            "acknowledgement": self.acknowledgement.as_dict() if self.acknowledgement else None,
            "action_counts": self.action_counts.as_dict() if self.action_counts else None,
            "summary": self.summary.as_dict(),
            "header": self.header.as_dict(), "overall": self.overall.as_dict(), "second_reviews": self.second_reviews,
            "change": self.change.as_dict(),
            "by_area": [d.as_dict() for d in self.by_area], "by_team": [d.as_dict() for d in self.by_team],
            "by_month": [d.as_dict() for d in self.by_month],
            "themes": {g: [t.as_dict() for t in ts] for g, ts in self.themes.items()},
            "compliance": [c.as_dict() for c in self.compliance], "actions": [a.as_dict() for a in self.actions],
            "completion": [c.as_dict() for c in self.completion], "calibration": [c.as_dict() for c in self.calibration],
            "mosovo": self.mosovo.as_dict() if self.mosovo else None, "trends": [t.as_dict() for t in self.trends],
            "samples": [s.as_dict() for s in self.samples], "plans": [p.as_dict() for p in self.plans],
        }


def monthly_report(flt: ReportFilter, *, actor: str = "", marking: Optional[str] = None,
                   today: Optional[dt.date] = None, vocab: Optional[Vocabulary] = None) -> MonthlyReport:
    vocab = vocab or Vocabulary.load()
    today = today or dt.date.today()
    catalogue = FormCatalogue.for_filter(flt)
    overall = overall_distribution(flt, vocab)
    by_area = grade_distributions(flt, "area", vocab)
    report = MonthlyReport(
        header=_header("Monthly quality assurance report", flt, marking, actor),
        overall=overall,
        second_reviews=submitted_reviews(flt, m.Review.id, role=SECOND).count(),
        by_area=by_area,
        by_team=grade_distributions(flt, "team", vocab),
        by_month=grade_distributions(flt, "month", vocab),
        themes=theme_frequencies(flt, vocab, catalogue),
        compliance=compliance(flt, catalogue),
        actions=outstanding_actions(flt, today),
        completion=completion(flt, today),
        calibration=calibration(grade_pairs(flt), catalogue, vocab),
        mosovo=mosovo_compliance(flt),
        # Like for like: the inspectorate's gradings are set against the force's independent grades only.
        trends=independent_trends(overall_distribution(flt, vocab, role=SECOND),
                                  grade_distributions(flt, "area", vocab, role=SECOND), vocab),
        samples=samples_used(flt),
        change=period_change(flt, overall, vocab),
        acknowledgement=acknowledgement_figures(flt),
        action_counts=action_status_counts(flt, today),
        plans=monitoring.plan_completion(monitoring.months_of(flt.period_from, flt.period_to), today),
    )
    report.summary = executive_summary(report)
    return report
