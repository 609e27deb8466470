"""A like-for-like comparison with the inspections (issue 12).

The 2022 re-inspection's point was that the force's self-grading of 34 cases (19 good, 12 requires
improvement, 3 inadequate) was far kinder than the inspectors' grading of the same cases (8 / 16 /
10). So a force's first reviews (its self-assessment) are never set against the inspectorate's
grades. Two comparisons are made instead, each naming the grades it uses:

1. the force's first reviews against its own independent grades of the same cases (second
   reviews): a cross-table, kappa and the direction of any bias, stated only when its interval
   leaves out no difference (the rule of the reviewer profiles);
2. the force's independent grades against the inspectorate's published grades: grade by grade,
   the two distributions side by side with their marginals, and the change in each grade's share
   (both are independent gradings, so a rise or a fall may be stated, with its interval).

The 2022 headline table is printed as the baseline it is: only its totals are published, so the
case-by-case agreement is bounded from the totals (stats.marginal_bounds), not computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from qatt import stats
from qatt.agreement.calibration import HARSHER, LENIENT, NetDifference, net_difference
from qatt.reporting.figures import (
    Calibration, GradeDistribution, Trend, calibration, grade_distributions, grade_pairs, overall_distribution,
    trends)
from qatt.reporting.filters import SECOND, FormCatalogue, ReportFilter, Vocabulary
from qatt.storage import models as m

BASELINE_SELF = "2022 force self-assessment"
BASELINE_INSPECTORATE = "2022 HMICFRS grading of the same 34"
# The inspectorate's own gradings a force's independent grades may be set against.
INSPECTORATE_BASELINES = ("2021 inspection", "2022 inspection")
G3 = ("good", "requires_improvement", "inadequate")

FIRST_GRADES = "the force's first reviews (self-assessment by the case's supervisor)"
INDEPENDENT_GRADES = "the force's independent second reviews"


@dataclass
class HeadlineTable:
    """The 2022 re-inspection's headline: two gradings of the same cases, as published (totals only)."""

    rows: List[List[Any]]  # [label, good, RI, inadequate, total], then the column totals
    labels: List[str]  # grade labels, best first
    force_good_share: stats.Proportion
    inspectorate_good_share: stats.Proportion
    bounds: stats.MarginalBounds
    source: str

    @property
    def statements(self) -> List[str]:
        b = self.bounds
        return [
            f"On the same {b.n} cases the force graded {self.force_good_share.count} good and the inspectorate "
            f"{self.inspectorate_good_share.count}: the force's self-assessment was kinder.",
            f"At least {b.min_higher} of the {b.n} cases must have been graded better by the force than by the "
            f"inspectorate (from the totals alone).",
            f"The two gradings can have matched in at most {b.max_agreement.count} of {b.n} cases "
            f"({b.max_agreement.point_text()}); the case-by-case table is not published, so kappa cannot be "
            "computed" + (f" (it is at most {b.max_kappa:.2f})." if b.max_kappa is not None else "."),
        ]

    def as_dict(self) -> Dict[str, Any]:
        return {"rows": self.rows, "labels": self.labels, "source": self.source, "statements": self.statements,
                "max_agreement": self.bounds.max_agreement.as_dict(), "max_kappa": self.bounds.max_kappa,
                "min_force_higher": self.bounds.min_higher}


@dataclass
class SideBySide:
    """Two independent gradings' distributions with their marginals, and each grade's change."""

    trend: Trend
    labels: List[str]
    rows: List[List[Any]]  # [source, counts..., total] then the column totals

    def as_dict(self) -> Dict[str, Any]:
        return {"trend": self.trend.as_dict(), "labels": self.labels, "rows": self.rows}


@dataclass
class InspectionComparison:
    headline: Optional[HeadlineTable]
    self_against_independent: List[Calibration]  # per form: first vs second grades of the same cases
    independent: GradeDistribution  # the force's independent grades in the filter
    against_inspectorate: List[SideBySide]
    sources: List[str] = field(default_factory=list)  # which grades each figure comes from

    @property
    def bias_statements(self) -> List[str]:
        return [bias_statement(result) for result in self.self_against_independent if result.agreement.n]

    def as_dict(self) -> Dict[str, Any]:
        return {"headline": self.headline.as_dict() if self.headline else None,
                "self_against_independent": [c.as_dict() for c in self.self_against_independent],
                "bias": self.bias_statements, "independent": self.independent.as_dict(),
                "against_inspectorate": [s.as_dict() for s in self.against_inspectorate], "sources": self.sources}


def first_review_bias(result: Calibration) -> NetDifference:
    """Share of the cases graded twice where the first review was better, minus the share where it was
    worse, with the cautious interval of the reviewer profiles (qatt.agreement.calibration)."""
    a = result.agreement
    return net_difference(a.higher, a.lower, a.n)


def bias_sentence(title: str, higher: int, lower: int, same: int, n: int) -> str:
    """First reviews against the independent grades of the same n cases, with the counts. "Kinder" or
    "harsher" only when the net difference's interval leaves out no difference, the rule of the reviewer
    profiles (docs/statistics.md); otherwise the numbers are too few to tell."""
    difference = net_difference(higher, lower, n)
    counts = f"better in {higher}, worse in {lower}, the same in {same}; net {difference.text()}"
    cases = f"{n} case{'s' if n != 1 else ''} graded twice"
    if difference.verdict == LENIENT:
        return f"{title}: on {cases}, the first reviews were kinder than the independent grades ({counts})."
    if difference.verdict == HARSHER:
        return f"{title}: on {cases}, the first reviews were harsher than the independent grades ({counts})."
    return (f"{title}: on {cases}, the numbers are too few to tell whether the first reviews were kinder or "
            f"harsher than the independent grades ({counts}: the interval includes no difference).")


def bias_statement(result: Calibration) -> str:
    a = result.agreement
    return bias_sentence(result.title, a.higher, a.lower, a.same, a.n)


def _counts(baseline: m.Baseline) -> List[int]:
    return [int(baseline.counts.get(g, 0)) for g in G3]


def headline_table(vocab: Vocabulary) -> Optional[HeadlineTable]:
    """None when the two 2022 baselines are not in the database."""
    found = {b.name: b for b in m.Baseline.select().where(m.Baseline.name.in_([BASELINE_SELF, BASELINE_INSPECTORATE])
                                                          & (m.Baseline.area == ""))}
    if len(found) < 2:
        return None
    force, inspectorate = _counts(found[BASELINE_SELF]), _counts(found[BASELINE_INSPECTORATE])
    rows = [["Force self-assessment", *force, sum(force)], ["Inspectorate, same cases", *inspectorate, sum(inspectorate)],
            ["Both gradings", *[a + b for a, b in zip(force, inspectorate)], sum(force) + sum(inspectorate)]]
    bounds = stats.marginal_bounds(dict(zip(G3, force)), dict(zip(G3, inspectorate)), G3)
    return HeadlineTable(rows, [vocab.grade_label(g) for g in G3], stats.wilson(force[0], sum(force)),
                         stats.wilson(inspectorate[0], sum(inspectorate)), bounds, found[BASELINE_SELF].source)


def _side_by_side(trend: Trend, independent: GradeDistribution, baseline: m.Baseline, vocab: Vocabulary) -> SideBySide:
    order = list(baseline.counts)
    now = [independent.count(g) for g in order]
    then = [int(baseline.counts[g]) for g in order]
    rows = [[f"{baseline.name} ({baseline.total} cases as published)", *then, sum(then)],
            [f"Force independent grades ({trend.current_total})", *now, sum(now)],
            ["Both", *[a + b for a, b in zip(then, now)], sum(then) + sum(now)]]
    return SideBySide(trend, [vocab.grade_label(g) for g in order], rows)


def inspection_comparison(flt: ReportFilter, vocab: Vocabulary, catalogue: Optional[FormCatalogue] = None,
                          pairs: Optional[Sequence] = None) -> InspectionComparison:
    catalogue = catalogue or FormCatalogue.for_filter(flt)
    pairs = grade_pairs(flt) if pairs is None else pairs
    independent = overall_distribution(flt, vocab, role=SECOND)
    by_area = grade_distributions(flt, "area", vocab, role=SECOND)
    found = independent_trends(independent, by_area, vocab)
    baselines = {(b.name, b.area): b for b in m.Baseline.select()}
    against = [_side_by_side(t, independent if not t.area else next(d for d in by_area if d.group == t.area),
                             baselines[(t.baseline, t.area)], vocab) for t in found if t.current_total]
    sources = [
        f"Self against independent: {FIRST_GRADES} against {INDEPENDENT_GRADES} of the same cases.",
        f"Against the inspectorate: {INDEPENDENT_GRADES} against the inspectorate's published grades. The force's "
        "first reviews are never compared with the inspectorate's grades: in 2022 they were far kinder on the "
        "same cases.",
    ]
    return InspectionComparison(headline_table(vocab), calibration(pairs, catalogue, vocab), independent, against, sources)


def independent_trends(independent: GradeDistribution, by_area: Sequence[GradeDistribution],
                       vocab: Vocabulary) -> List[Trend]:
    """The force's independent grades against the inspectorate's gradings, marked with their source."""
    found = [t for t in trends(independent, by_area, vocab, INSPECTORATE_BASELINES) if t.current_total]
    for trend in found:
        trend.grades = INDEPENDENT_GRADES
    return found
