"""Planning second reviews: how many independent pairs a period needs, beside the sample-size calculator.

Two questions: (1) how many pairs a reviewer needs so the interval of their net difference from
independent review (qatt.agreement.calibration.net_difference) is no wider than ± a chosen margin, given the
shares of cases they are expected to grade higher and lower; (2) how many pairs a period needs so the
corrected share of a grade (qatt.agreement.corrected_estimate) is within ± a margin, given what earlier pairs
showed. Formulas: docs/statistics.md, "Planning second reviews".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Optional, Sequence

from qatt import stats
from qatt.agreement.calibration import net_difference
from qatt.errors import QattError

MAX_PAIRS = 5000


@dataclass(frozen=True)
class PairsNeeded:
    pairs: int
    margin: float
    what: str
    note: str = ""

    def as_dict(self) -> dict:
        return {"pairs": self.pairs, "margin": self.margin, "what": self.what, "note": self.note or None}

    def text(self) -> str:
        return (f"{self.pairs} paired reviews to estimate {self.what} within ±{self.margin * 100:.1f} points "
                "(95% interval)." + (f" {self.note}" if self.note else ""))


def _check_margin(margin: float) -> float:
    if not 0 < margin < 1:
        raise QattError(f"The margin {margin!r} must be between 0 and 1 (e.g. 0.1 for ±10 points).")
    return margin


def _half_width(n: int, higher: float, lower: float) -> float:
    h = round(n * higher)
    l_count = min(n - h, round(n * lower))
    result = net_difference(h, l_count, n)
    return max(result.value - result.low, result.high - result.value)


def pairs_for_reviewer_difference(margin: float, higher: float = 0.25, lower: float = 0.05) -> PairsNeeded:
    """The smallest number of pairs (found by bisection) at which a reviewer expected to grade `higher`
    of cases above and `lower` below independent review gets a net-difference interval within ±margin."""
    margin = _check_margin(margin)
    if higher < 0 or lower < 0 or higher + lower > 1:
        raise QattError("The expected shares graded higher and lower must be at least 0 and add up to at most 1.")
    if _half_width(MAX_PAIRS, higher, lower) > margin:
        raise QattError(f"Even {MAX_PAIRS:,} pairs would not give ±{margin * 100:.1f} points; choose a wider margin.")
    low, high = 1, MAX_PAIRS
    while low < high:
        middle = (low + high) // 2
        if _half_width(middle, higher, lower) <= margin:
            high = middle
        else:
            low = middle + 1
    return PairsNeeded(low, margin, f"a reviewer's net difference (expected {higher:.0%} higher, {lower:.0%} lower)")


def pairs_for_corrected_share(margin: float, first_shares: Sequence[float], rows: Sequence[Sequence[float]],
                              grade: int, first_reviews: int, label: str = "",
                              confidence: float = 0.95) -> PairsNeeded:
    """Pairs needed so the corrected share of `grade` is within ±margin, pairs spread over the first
    grades in proportion to how often each is given.

    Var = A / n + B / N with A = sum_i pi_i q_ij (1 - q_ij), B = sum_i pi_i q_ij^2 - p_j^2 (pi: first-grade
    shares, q: share of each first grade given grade j by independent reviewers, N: first reviews in the
    period). n = A / ((margin / z)^2 - B / N)."""
    margin = _check_margin(margin)
    if first_reviews < 1:
        raise QattError("Give the number of first reviews the period will have (at least 1).")
    k = len(first_shares)
    q = [rows[i][grade] for i in range(k)]
    p = sum(first_shares[i] * q[i] for i in range(k))
    a = sum(first_shares[i] * q[i] * (1 - q[i]) for i in range(k))
    b = sum(first_shares[i] * q[i] ** 2 for i in range(k)) - p * p
    room = (margin / stats._z(confidence)) ** 2 - b / first_reviews
    what = f"the corrected share of {label or 'the grade'}"
    if room <= 0:
        raise QattError(f"With {first_reviews} first reviews the share cannot be estimated within "
                        f"±{margin * 100:.1f} points however many are paired; choose a wider margin or a "
                        "longer period.")
    n = max(1, math.ceil(a / room))
    note = ""
    if n >= first_reviews:
        n = first_reviews
        note = "That is every first review of the period: second-review them all."
    return PairsNeeded(n, margin, what, note)


def plan_from_history(margin: float, first_counts: Sequence[int], matrix: Sequence[Sequence[int]], grade: int,
                      first_reviews: Optional[int] = None, label: str = "") -> PairsNeeded:
    """pairs_for_corrected_share with the shares read from an earlier window's first reviews and pairs."""
    total = sum(first_counts)
    if total == 0:
        raise QattError("The history has no first reviews to plan from; give a longer window.")
    row_totals = [sum(row) for row in matrix]
    missing = [i for i, (c, r) in enumerate(zip(first_counts, row_totals)) if c and not r]
    if missing:
        raise QattError("The history has no pairs for some first grades, so how independent reviewers see them is "
                        "unknown; plan from a longer window.")
    rows = [[cell / r if r else 0.0 for cell in row] for row, r in zip(matrix, row_totals)]
    return pairs_for_corrected_share(margin, [c / total for c in first_counts], rows, grade,
                                     first_reviews or total, label)


@dataclass(frozen=True)
class ReviewerShortfall:
    reviewer: str
    first_reviews: int  # submitted first reviews in the window
    pairs: int  # of them, with an independent second review submitted
    unpaired: int  # submitted first reviews with no second review started or assigned: candidates
    needed: int  # more pairs needed to reach k

    def as_dict(self) -> dict:
        return {"reviewer": self.reviewer, "first_reviews": self.first_reviews, "pairs": self.pairs,
                "unpaired": self.unpaired, "needed": self.needed}


def pairs_shortfall(flt, actor: str, k: int) -> List[ReviewerShortfall]:
    """For each first reviewer in the window (e.g. a quarter): pairs so far and how many more second
    reviews would give them at least k, with how many of their cases are still free to second-review.
    About people, so QA leads and administrators only."""
    from qatt import reports
    from qatt.agreement import calibration
    from qatt.trust import users
    from qatt.storage import models as m

    users.require_role(actor, "qa_lead", "plan second reviews per reviewer")
    if k < 1:
        raise QattError("Give at least 1 pair per reviewer.")
    firsts: dict = {}
    for reviewer, item in reports.submitted_reviews(flt, m.Review.reviewer, m.Review.sample_item).tuples():
        firsts.setdefault(reviewer, set()).add(item)
    paired: dict = {}
    for pair in calibration.calibration_pairs(flt):
        paired[pair.first_reviewer] = paired.get(pair.first_reviewer, 0) + 1
    taken = {item for (item,) in m.Review.select(m.Review.sample_item).where(m.Review.role == reports.SECOND).tuples()}
    taken |= {item for (item,) in m.Assignment.select(m.Assignment.sample_item)
              .where(m.Assignment.role == reports.SECOND).tuples()}
    rows = []
    for reviewer in sorted(firsts):
        pairs = paired.get(reviewer, 0)
        rows.append(ReviewerShortfall(reviewer, len(firsts[reviewer]), pairs, len(firsts[reviewer] - taken),
                                      max(0, k - pairs)))
    return rows


def shortfall_text(rows: Sequence[ReviewerShortfall], k: int, label: str) -> str:
    if not rows:
        return f"No submitted first reviews in {label}."
    lines = [f"Second reviews needed so every reviewer has at least {k} independent pairs in {label}:"]
    for r in rows:
        if r.needed == 0:
            lines.append(f"  {r.reviewer}: {r.pairs} pairs; enough.")
        else:
            short = "" if r.unpaired >= r.needed else f" (only {r.unpaired} of their cases are free: review more)"
            lines.append(f"  {r.reviewer}: {r.pairs} pairs; second-review {r.needed} more of their "
                         f"{r.first_reviews} cases{short}.")
    return "\n".join(lines)
