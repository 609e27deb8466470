"""Reviewer profiles: how each reviewer's first grades compare with independent second reviews of the
same cases over a period (agreement, weighted kappa, and whether they grade higher or lower).

Who may see a profile is decided here, in `may_see_profile`: QA leads and administrators see every
reviewer's aggregate figures, a reviewer only their own. Only pairs where both reviews are submitted
count, so no figure reveals a grade the blind second-review rule still hides. Methods and formulas:
docs/statistics.md, "Reviewer profiles".
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from qatt import stats
from qatt.errors import PermissionDenied
from qatt.letters import letters

LENIENT = "more lenient than independent review"
HARSHER = "harsher than independent review"
NO_CLEAR_DIFFERENCE = "no clear difference from independent review"


# --------------------------------------------------------------------------- exact binomial interval


def _binomial_tail_ge(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p), summed in log space."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    if p <= 0:
        return 0.0
    if p >= 1:
        return 1.0
    log_p, log_q = math.log(p), math.log1p(-p)
    terms = (math.lgamma(n + 1) - math.lgamma(x + 1) - math.lgamma(n - x + 1) + x * log_p + (n - x) * log_q
             for x in range(k, n + 1))
    return min(1.0, math.fsum(math.exp(t) for t in terms))


def clopper_pearson(count: int, total: int, confidence: float = 0.95) -> Tuple[float, float]:
    """Exact (Clopper-Pearson) interval for count/total, found by bisection on the binomial tails.

    Used where the interval decides a verdict about a person and must not be optimistic in the
    smallest samples; it never claims more certainty than the binomial distribution allows."""
    if total < 0 or not 0 <= count <= total:
        raise ValueError(f"need 0 <= count <= total, got {count}/{total}")
    if total == 0:
        return 0.0, 1.0
    alpha = (1 - confidence) / 2

    def solve(condition) -> float:
        low, high = 0.0, 1.0
        for _ in range(60):
            middle = (low + high) / 2
            if condition(middle):
                high = middle
            else:
                low = middle
        return (low + high) / 2

    # lower: the p at which P(X >= count) = alpha; upper: the p at which P(X <= count) = alpha.
    lower = 0.0 if count == 0 else solve(lambda p: _binomial_tail_ge(count, total, p) >= alpha)
    upper = 1.0 if count == total else solve(lambda p: 1 - _binomial_tail_ge(count + 1, total, p) <= alpha)
    return lower, upper


# --------------------------------------------------------------------------- the signed difference


@dataclass(frozen=True)
class NetDifference:
    """Share of cases graded higher minus share graded lower than the independent reviewer (-1..1).

    The interval combines an exact interval for the direction when the two differ (of the cases where
    the grades differ, the share graded higher) with a Wilson interval for how often they differ, each
    at the square root of the confidence level, so that together they hold at the stated level. The
    interval leaves out 0 exactly when an exact sign test of 'higher as often as lower' rejects."""

    n: int
    higher: int
    lower: int
    value: float
    low: float
    high: float
    confidence: float = 0.95

    @property
    def verdict(self) -> str:
        if self.low > 0:
            return LENIENT
        if self.high < 0:
            return HARSHER
        return NO_CLEAR_DIFFERENCE

    def text(self) -> str:
        """E.g. '+40.0 points (95% CI +12.1 to +63.0)'."""
        level = f"{self.confidence * 100:g}%"
        return f"{self.value * 100:+.1f} points ({level} CI {self.low * 100:+.1f} to {self.high * 100:+.1f})"

    def as_dict(self) -> dict:
        return {"n": self.n, "higher": self.higher, "lower": self.lower, "value": self.value, "low": self.low,
                "high": self.high, "confidence": self.confidence, "verdict": self.verdict, "text": self.text()}


def net_difference(higher: int, lower: int, n: int, confidence: float = 0.95) -> NetDifference:
    """(higher - lower) / n with the interval described on NetDifference."""
    if n < 0 or higher < 0 or lower < 0 or higher + lower > n:
        raise ValueError(f"need higher + lower <= n, got {higher} + {lower} > {n}")
    if n == 0:
        return NetDifference(0, 0, 0, 0.0, -1.0, 1.0, confidence)
    part = math.sqrt(confidence)
    differ = stats.wilson(higher + lower, n, part)
    direction_low, direction_high = clopper_pearson(higher, higher + lower, part)
    low_sign, high_sign = 2 * direction_low - 1, 2 * direction_high - 1
    low = (differ.low if low_sign > 0 else differ.high) * low_sign
    high = (differ.high if high_sign > 0 else differ.low) * high_sign
    value = (higher - lower) / n
    return NetDifference(n, higher, lower, value, max(-1.0, min(low, value)), min(1.0, max(high, value)), confidence)


NO_INTERVAL_ONE_PAIR = "95% CI not defined: one pair"
NO_INTERVAL_NO_VARIATION = "95% CI not defined: too few pairs / no variation"


@dataclass(frozen=True)
class MeanSteps:
    """The mean of (steps the reviewer graded above the independent reviewer), with a t interval.

    Descriptive: the verdict rests on NetDifference, whose interval stays honest in small samples.
    No interval is given from one pair, nor when every pair differs by the same number of steps:
    the sample shows no variation, and an interval of zero width would claim a certainty that a
    handful of pairs cannot give."""

    value: Optional[float]
    low: Optional[float]
    high: Optional[float]
    no_interval: str = ""  # why there is no interval, when there is a value but none
    confidence: float = 0.95

    def text(self) -> str:
        if self.value is None:
            return "no pairs"
        if self.low is None or self.high is None:
            return f"{self.value:+.2f} steps" + (f" ({self.no_interval})" if self.no_interval else "")
        return f"{self.value:+.2f} steps ({self.confidence * 100:g}% CI {self.low:+.2f} to {self.high:+.2f})"

    def as_dict(self) -> dict:
        return {"value": self.value, "low": self.low, "high": self.high, "no_interval": self.no_interval or None,
                "text": self.text()}


def mean_steps(differences: Sequence[int], confidence: float = 0.95) -> MeanSteps:
    """The mean with Student's t interval, mean ± t(n - 1) × s / √n (not the normal ±1.96: with 4
    pairs t is 3.18)."""
    n = len(differences)
    if n == 0:
        return MeanSteps(None, None, None, confidence=confidence)
    mean = sum(differences) / n
    if n < 2:
        return MeanSteps(mean, None, None, NO_INTERVAL_ONE_PAIR.replace("95%", f"{confidence * 100:g}%"), confidence)
    variance = sum((d - mean) ** 2 for d in differences) / (n - 1)
    if variance <= 1e-12:
        return MeanSteps(mean, None, None, NO_INTERVAL_NO_VARIATION.replace("95%", f"{confidence * 100:g}%"),
                         confidence)
    half = stats.t_quantile(confidence, n - 1) * math.sqrt(variance / n)
    return MeanSteps(mean, mean - half, mean + half, confidence=confidence)


# --------------------------------------------------------------------------- profiles


@dataclass(frozen=True)
class ReviewerProfile:
    """One reviewer's first grades against independent second grades on one grading scale."""

    reviewer: str
    categories: Tuple[str, ...]  # grade ids, best first
    labels: Tuple[str, ...]
    pairs: int
    inspectorate_pairs: int
    agreement: stats.Agreement
    difference: NetDifference
    steps: MeanSteps
    by_steps: Dict[int, int]  # steps above the independent grade (negative: below) -> cases
    higher: stats.Proportion
    lower: stats.Proportion
    code: str = ""

    @property
    def small_sample(self) -> bool:
        return self.pairs < stats.SMALL_SAMPLE

    @property
    def verdict(self) -> str:
        return self.difference.verdict

    def name(self, coded: bool) -> str:
        return self.code if coded and self.code else self.reviewer

    def statement(self, coded: bool = False) -> str:
        """The sentence a QA lead reads: who, how many pairs, which way, and whether it is clear."""
        who = self.name(coded)
        if self.pairs == 0:
            return f"{who}: no case with an independent second review."
        text = (f"{who}: graded {self.higher.count} of {self.pairs} cases higher and {self.lower.count} lower than "
                f"the independent reviewer; net {self.difference.text()}: {self.verdict}.")
        if self.small_sample:
            text += (f" Small sample ({self.pairs} pair{'s' if self.pairs != 1 else ''}): read the interval, "
                     "not the point figure.")
        return text

    def as_dict(self, coded: bool = False) -> dict:
        agreement = self.agreement
        return {
            "reviewer": self.name(coded), "code": self.code, "categories": list(self.categories),
            "labels": list(self.labels), "pairs": self.pairs, "inspectorate_pairs": self.inspectorate_pairs,
            "observed_agreement": agreement.observed_agreement.as_dict(),
            "weighted_kappa_linear": agreement.weighted_kappa_linear,
            "weighted_kappa_linear_ci": (list(agreement.weighted_kappa_linear_ci)
                                         if agreement.weighted_kappa_linear_ci else None),
            "kappa": agreement.kappa, "matrix": [list(row) for row in agreement.matrix],
            "higher": self.higher.as_dict(), "lower": self.lower.as_dict(),
            "by_steps": {str(k): v for k, v in sorted(self.by_steps.items())},
            "mean_steps": self.steps.as_dict(), "difference": self.difference.as_dict(),
            "verdict": self.verdict, "small_sample": self.small_sample, "statement": self.statement(coded),
            "notes": list(agreement.notes),
        }


def profile_from_pairs(reviewer: str, pairs: Iterable[Tuple[str, str]], categories: Sequence[str],
                       labels: Optional[Sequence[str]] = None, inspectorate_pairs: int = 0,
                       confidence: float = 0.95) -> ReviewerProfile:
    """A profile from (reviewer's grade, independent grade) pairs on one scale (ids best first)."""
    pairs = list(pairs)
    categories = tuple(categories)
    rank = {grade: i for i, grade in enumerate(categories)}
    agreement = stats.agreement(pairs, categories, confidence,
                                labels=dict(zip(categories, labels)) if labels else None)
    # Positive: the reviewer's grade is that many steps better than the independent grade.
    differences = [rank[second] - rank[first] for first, second in pairs]
    by_steps: Dict[int, int] = defaultdict(int)
    for d in differences:
        by_steps[d] += 1
    n = len(pairs)
    return ReviewerProfile(
        reviewer, categories, tuple(labels or categories), n, inspectorate_pairs, agreement,
        net_difference(agreement.higher, agreement.lower, n, confidence), mean_steps(differences, confidence),
        dict(by_steps), stats.wilson(agreement.higher, n, confidence), stats.wilson(agreement.lower, n, confidence))


def assign_codes(profiles: Sequence[ReviewerProfile]) -> List[ReviewerProfile]:
    """Give each reviewer a code ('Reviewer A', ...) for outputs that must not name them.

    Codes follow the reviewers' names in alphabetical order within one report, so the same report
    always codes the same way; they say nothing about the figures."""
    import dataclasses

    names = sorted({p.reviewer for p in profiles})
    codes = {name: f"Reviewer {letters(i)}" for i, name in enumerate(names)}
    return [dataclasses.replace(p, code=codes[p.reviewer]) for p in profiles]


# --------------------------------------------------------------------------- who may see a profile


def may_see_profile(actor: str, reviewer: Optional[str]) -> bool:
    """QA leads and administrators see any reviewer's profile (and all of them: reviewer None);
    everyone else only their own."""
    from qatt.trust import users

    if users.has_role(actor, "qa_lead"):
        return True
    return reviewer is not None and reviewer == actor


def require_profile_access(actor: str, reviewer: Optional[str]) -> None:
    if not may_see_profile(actor, reviewer):
        whose = "every reviewer's profile" if reviewer is None else f"{reviewer}'s profile"
        raise PermissionDenied(f"Only a QA lead or administrator may see {whose}; a reviewer sees their own "
                               f"(give your own user name, {actor}).")


# --------------------------------------------------------------------------- from the database


@dataclass(frozen=True)
class CalibrationPair:
    """A case with a submitted first review and a submitted second review by someone else."""

    reference: str
    period: str
    form_id: str
    first_reviewer: str
    second_reviewer: str
    first_grade: str
    second_grade: str


def calibration_pairs(flt) -> List[CalibrationPair]:
    """Every independent pair in the report filter (qatt.reports.ReportFilter), oldest first.

    A second review by the first reviewer themselves is not independent and is left out."""
    from qatt.reports import SECOND, SUBMITTED, submitted_reviews
    from qatt.storage import models as m

    second = m.Review.alias()
    query = (submitted_reviews(flt, m.Case.reference, m.Sample.period, m.FormVersion.form_id, m.Review.reviewer,
                               second.reviewer, m.Review.grade, second.grade)
             .switch(m.Review)
             .join(second, on=((second.sample_item == m.Review.sample_item) & (second.role == SECOND)
                               & (second.status == SUBMITTED)))
             .where((m.Review.grade != "") & (second.grade != "") & (second.reviewer != m.Review.reviewer))
             .order_by(m.Review.id))
    return [CalibrationPair(*row) for row in query.tuples()]


def scale_of(vocab, first: str, second: str) -> Optional[Tuple[str, ...]]:
    """The ordered grades of the first scale holding both grades; None if none does (e.g. 'ungraded')."""
    for values, _special in vocab.scales:
        if first in values and second in values:
            return tuple(values)
    return None


@dataclass
class CalibrationReport:
    """Reviewer profiles for a period, as the CLI, the Moderation page, the workbook and the pack show them."""

    period_label: str
    profiles: List[ReviewerProfile]
    skipped_pairs: int  # pairs whose grades are on no ordered scale (ungraded, carried over)
    coded: bool = False
    notes: List[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"period": self.period_label, "coded": self.coded, "skipped_pairs": self.skipped_pairs,
                "profiles": [p.as_dict(self.coded) for p in self.profiles], "notes": list(self.notes)}

    def text(self) -> str:
        lines = [f"Reviewer profiles against independent second reviews: {self.period_label}.", ""]
        if not self.profiles:
            lines.append("No case in the period has a submitted first review and an independent second review.")
        several_scales = len({p.categories for p in self.profiles}) > 1
        for profile in self.profiles:
            agreement = profile.agreement
            lines.append(profile.statement(self.coded))
            if several_scales:
                lines.append(f"  Grades: {' / '.join(profile.labels)}.")
            lines.append(f"  Same grade: {agreement.observed_agreement.percent_text()}.")
            lines.append("  " + _kappa_line(agreement))
            lines.append(f"  Mean difference: {profile.steps.text()}.")
            steps = ", ".join(f"{k:+d}: {v}" for k, v in sorted(profile.by_steps.items(), reverse=True))
            lines.append(f"  Cases by steps above (+) or below (-) the independent grade: {steps}.")
        lines.extend(f"Note: {note}" for note in self.notes)
        return "\n".join(lines)


def _kappa_line(agreement: stats.Agreement) -> str:
    from qatt.agreement.grade_pairs import kappa_line

    return kappa_line("Weighted kappa (linear)", agreement.weighted_kappa_linear, agreement.weighted_kappa_linear_ci)


def reviewer_profiles(flt, actor: str, reviewer: Optional[str] = None, *, coded: bool = False,
                      vocab=None, inspectorate: Optional[Dict[str, str]] = None,
                      confidence: float = 0.95) -> CalibrationReport:
    """Profiles of every reviewer (QA leads, admins) or of one, over the filter's period.

    Without the right to see everyone, an actor asking for all profiles gets their own. inspectorate
    maps case references to an inspectorate grade where one was recorded (from a file); a profile
    counts how many of its pairs also have one. Seeing others' profiles is audited as a consultation,
    with counts only."""
    from qatt import reports
    from qatt.trust import audit

    if reviewer is None and not may_see_profile(actor, None):
        reviewer = actor
    require_profile_access(actor, reviewer)
    vocab = vocab or reports.Vocabulary.load()
    inspectorate = inspectorate or {}
    grouped: Dict[Tuple[str, Tuple[str, ...]], List[Tuple[str, str]]] = defaultdict(list)
    inspected: Dict[Tuple[str, Tuple[str, ...]], int] = defaultdict(int)
    skipped = 0
    for pair in calibration_pairs(flt):
        if reviewer is not None and pair.first_reviewer != reviewer:
            continue
        scale = scale_of(vocab, pair.first_grade, pair.second_grade)
        if scale is None:
            skipped += 1
            continue
        key = (pair.first_reviewer, scale)
        grouped[key].append((pair.first_grade, pair.second_grade))
        if pair.reference in inspectorate:
            inspected[key] += 1
    profiles = [profile_from_pairs(name, grouped[(name, scale)], scale, [vocab.grade_label(g) for g in scale],
                                   inspected[(name, scale)], confidence)
                for name, scale in sorted(grouped)]
    profiles = assign_codes(profiles)
    notes = []
    if skipped:
        notes.append(f"{skipped} pair{'s' if skipped != 1 else ''} left out: a grade is not on an ordered scale "
                     "(ungraded or carried over).")
    if reviewer != actor:  # as for reviews: seeing other people's figures is audited, your own is not
        audit.record(actor, audit.CONSULTATION, "calibration", reviewer or "all",
                     {"purpose": "reviewer profiles", "period": flt.as_dict(), "profiles": len(profiles),
                      "pairs": sum(p.pairs for p in profiles)})
    return CalibrationReport(flt.label(), profiles, skipped, coded, notes)
