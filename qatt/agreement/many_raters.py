"""Agreement among many reviewers grading the same cases (standardisation exercises): Fleiss' kappa
and Krippendorff's alpha with the ordinal metric, plus which questions they answered least alike.

Pure functions over grades; standard library only. Cross-checked in the tests against statsmodels'
fleiss_kappa and the `krippendorff` package. Formulas: docs/statistics.md.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence

NOT_DEFINED = "not defined: every grade given was the same, so agreement by chance alone would be complete"


@dataclass(frozen=True)
class ManyRaterAgreement:
    statistic: Optional[float]
    cases: int  # cases that count (Fleiss: graded by every reviewer; alpha: by at least two)
    ratings: int
    note: str = ""

    def text(self) -> str:
        return self.note if self.statistic is None else f"{self.statistic:.2f}"

    def as_dict(self) -> dict:
        return {"value": self.statistic, "cases": self.cases, "ratings": self.ratings, "note": self.note or None}


def fleiss_kappa(table: Sequence[Sequence[int]]) -> ManyRaterAgreement:
    """Fleiss' kappa from a cases x categories table of counts, every case graded by the same number
    of reviewers (rows with another total are a programming error and raise ValueError).

    P_i = (sum_j n_ij^2 - n) / (n (n - 1)), P = mean P_i, p_j = sum_i n_ij / (N n), Pe = sum_j p_j^2,
    kappa = (P - Pe) / (1 - Pe)."""
    rows = [list(map(int, row)) for row in table if sum(row)]
    if not rows:
        return ManyRaterAgreement(None, 0, 0, "no cases graded by every reviewer")
    raters = sum(rows[0])
    if any(sum(row) != raters for row in rows):
        raise ValueError("every case must be graded by the same number of reviewers")
    if raters < 2:
        return ManyRaterAgreement(None, len(rows), raters * len(rows), "needs at least two reviewers")
    n_cases = len(rows)
    k = len(rows[0])
    per_case = [(sum(c * c for c in row) - raters) / (raters * (raters - 1)) for row in rows]
    observed = sum(per_case) / n_cases
    shares = [sum(row[j] for row in rows) / (n_cases * raters) for j in range(k)]
    expected = sum(p * p for p in shares)
    if abs(1 - expected) < 1e-12:
        return ManyRaterAgreement(None, n_cases, n_cases * raters, NOT_DEFINED)
    return ManyRaterAgreement((observed - expected) / (1 - expected), n_cases, n_cases * raters)


def krippendorff_alpha_ordinal(units: Sequence[Sequence[str]], categories: Sequence[str]) -> ManyRaterAgreement:
    """Krippendorff's alpha, ordinal metric. units: for each case, the grades it was given (any number;
    a case with fewer than two is not pairable and left out). categories: ordered, best first.

    Coincidences o_ck = sum over cases of (pairs of grades c, k within the case) / (m_u - 1);
    n_c = sum_k o_ck; ordinal distance d_ck = (sum_{g between c and k} n_g - (n_c + n_k) / 2)^2;
    alpha = 1 - (n - 1) sum o_ck d_ck / sum_c sum_k n_c n_k d_ck."""
    index = {c: i for i, c in enumerate(categories)}
    k = len(categories)
    coincidence = [[0.0] * k for _ in range(k)]
    pairable = 0
    for grades in units:
        values = [index[g] for g in grades]
        m = len(values)
        if m < 2:
            continue
        pairable += 1
        counts = Counter(values)
        for c, n_c in counts.items():
            for d, n_d in counts.items():
                coincidence[c][d] += (n_c * (n_c - 1) if c == d else n_c * n_d) / (m - 1)
    totals = [sum(row) for row in coincidence]
    n = sum(totals)
    if pairable == 0:
        return ManyRaterAgreement(None, 0, 0, "no case graded by at least two reviewers")

    def distance(c: int, d: int) -> float:
        low, high = min(c, d), max(c, d)
        return (sum(totals[low:high + 1]) - (totals[c] + totals[d]) / 2) ** 2

    observed = sum(coincidence[c][d] * distance(c, d) for c in range(k) for d in range(k))
    expected = sum(totals[c] * totals[d] * distance(c, d) for c in range(k) for d in range(k))
    if expected == 0:
        return ManyRaterAgreement(None, pairable, int(round(n)), NOT_DEFINED)
    return ManyRaterAgreement(1 - (n - 1) * observed / expected, pairable, int(round(n)))


def fleiss_table(units: Sequence[Sequence[str]], categories: Sequence[str]) -> List[List[int]]:
    """The cases x categories counts Fleiss' kappa reads, from each case's grades."""
    index = {c: i for i, c in enumerate(categories)}
    table = []
    for grades in units:
        row = [0] * len(categories)
        for grade in grades:
            row[index[grade]] += 1
        table.append(row)
    return table


@dataclass(frozen=True)
class QuestionDisagreement:
    question_id: str
    cases: int  # cases where at least two reviewers answered it
    disagreement: float  # share of pairs of reviewers, averaged over those cases, who answered differently

    def as_dict(self) -> dict:
        return {"question_id": self.question_id, "cases": self.cases, "disagreement": self.disagreement}


def question_disagreement(answers_by_case: Sequence[Sequence[Mapping[str, Any]]]) -> List[QuestionDisagreement]:
    """For each question: over the cases where two or more reviewers answered it, the average share of
    pairs of reviewers whose answers differ. Most disagreement first, then by question id."""
    per_question: Dict[str, List[float]] = {}
    for case_answers in answers_by_case:
        questions = {q for answers in case_answers for q in answers}
        for question in questions:
            values = [repr(a[question]) for a in case_answers if a.get(question) is not None]
            m = len(values)
            if m < 2:
                continue
            same_pairs = sum(c * (c - 1) for c in Counter(values).values())
            per_question.setdefault(question, []).append(1 - same_pairs / (m * (m - 1)))
    result = [QuestionDisagreement(q, len(v), sum(v) / len(v)) for q, v in per_question.items()]
    return sorted(result, key=lambda r: (-r.disagreement, r.question_id))
