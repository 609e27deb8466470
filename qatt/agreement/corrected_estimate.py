"""The corrected estimate: the grade distribution independent reviewers would most likely have given
to all of a period's first reviews, from the period's self-grades and the cases that were also
independently second-reviewed.

Method (double sampling, Tenenbein 1970): of the cases first graded i, the paired ones say how often
an independent reviewer gave each grade j (q_ij = n_ij / n_i). The estimate for grade j is
sum_i (N_i / N) q_ij, a weighted average of shares, so it always lies within 0-100%. Interval:
bootstrap over the first reviews and, within each first grade, over the pairs (percentile method,
seeded so a figure can be reproduced). Assumptions and a worked example: docs/statistics.md.
"""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from qatt import stats

# Fewer pairs than this, or a first grade used in the period with fewer than MIN_PAIRS_PER_GRADE
# pairs, and the estimate is withheld: the misclassification would rest on a handful of cases.
MIN_PAIRS = 20
MIN_PAIRS_PER_GRADE = 3
REPLICATES = 2000
DEFAULT_SEED = 17

ASSUMPTIONS = (
    "Independent second reviews are taken as the reference grade.",
    "The paired cases are representative of the period's cases with the same first grade (for example "
    "chosen at random), so the pattern of agreement seen in them holds for the rest.",
    "The way first reviewers grade did not change between the paired window and the period.",
)


@dataclass(frozen=True)
class CorrectedShare:
    grade: str
    label: str
    self_graded: stats.Proportion  # share of first reviews with this grade, Wilson interval
    estimate: Optional[float]  # share independent reviewers would most likely have given
    low: Optional[float]
    high: Optional[float]

    def estimate_text(self) -> str:
        if self.estimate is None:
            return "withheld"
        return f"{self.estimate * 100:.1f}% (95% CI {self.low * 100:.1f}–{self.high * 100:.1f}%)"

    def as_dict(self) -> dict:
        return {"grade": self.grade, "label": self.label, "self_graded": self.self_graded.as_dict(),
                "estimate": self.estimate, "low": self.low, "high": self.high, "text": self.estimate_text()}


@dataclass(frozen=True)
class CorrectedEstimate:
    categories: Tuple[str, ...]
    labels: Tuple[str, ...]
    first_reviews: int
    pairs: int
    matrix: List[List[int]]  # rows: first grade, columns: independent grade (pairs)
    shares: List[CorrectedShare]
    withheld: str  # '' when the estimate is given, otherwise why not
    seed: int
    replicates: int
    confidence: float = 0.95
    assumptions: Tuple[str, ...] = ASSUMPTIONS
    notes: Tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict:
        return {"categories": list(self.categories), "labels": list(self.labels),
                "first_reviews": self.first_reviews, "pairs": self.pairs, "matrix": [list(r) for r in self.matrix],
                "shares": [s.as_dict() for s in self.shares], "withheld": self.withheld or None,
                "seed": self.seed, "replicates": self.replicates, "confidence": self.confidence,
                "method": "double sampling (Tenenbein 1970), percentile bootstrap", "label": "estimate",
                "assumptions": list(self.assumptions), "notes": list(self.notes)}

    def text(self, title: str = "") -> str:
        lines = [title or "Self-grades and the estimate of what independent reviewers would have given", ""]
        cases = f"{self.pairs} case{'s' if self.pairs != 1 else ''}"
        lines.append(f"{self.first_reviews} first reviews; {cases} with an independent second review show how "
                     "first grades compare with independent ones.")
        width = max(len(label) for label in self.labels + ("Grade",)) + 2
        lines.append("Grade".ljust(width) + "Self-graded".ljust(34) + "Estimate (independent)")
        for share in self.shares:
            lines.append(share.label.ljust(width) + share.self_graded.percent_text().ljust(34) + share.estimate_text())
        if self.withheld:
            lines.append("")
            lines.append(f"The estimate is withheld: {self.withheld}")
        else:
            lines.append("")
            lines.append(f"This is an estimate ({self.replicates} bootstrap replicates, seed {self.seed}). It assumes:")
            lines.extend(f"- {a}" for a in self.assumptions)
        lines.extend(f"Note: {n}" for n in self.notes)
        return "\n".join(lines)


# --------------------------------------------------------------------------- sampling without numpy


@lru_cache(maxsize=4096)
def _binomial_cdf_table(n: int, p: float) -> Tuple[float, ...]:
    log_p, log_q = math.log(p), math.log1p(-p)
    base = math.lgamma(n + 1)
    pmf = [math.exp(base - math.lgamma(x + 1) - math.lgamma(n - x + 1) + x * log_p + (n - x) * log_q)
           for x in range(n + 1)]
    total, cdf = 0.0, []
    for value in pmf:
        total += value
        cdf.append(total)
    return tuple(cdf)


def _binomial(rng: random.Random, n: int, p: float) -> int:
    """One Binomial(n, p) draw by inversion of a cached table (the bootstrap draws the same n, p often)."""
    p = round(p, 12)  # so near-equal probabilities share one cached table
    if n <= 0 or p <= 0:
        return 0
    if p >= 1:
        return n
    cdf = _binomial_cdf_table(n, p)
    return min(n, bisect.bisect_left(cdf, rng.random() * cdf[-1]))


def _multinomial(rng: random.Random, n: int, probabilities: Sequence[float]) -> List[int]:
    """Multinomial counts as successive conditional binomials."""
    counts: List[int] = []
    left, mass = n, 1.0
    last = len(probabilities) - 1
    for i, p in enumerate(probabilities):
        if i == last:
            counts.append(left)
            break
        draw = _binomial(rng, left, p / mass) if left and mass > 1e-12 else 0
        counts.append(draw)
        left -= draw
        mass -= p
    return counts


def _percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile of sorted values (q in 0-1)."""
    position = q * (len(sorted_values) - 1)
    below = math.floor(position)
    above = min(below + 1, len(sorted_values) - 1)
    return sorted_values[below] + (sorted_values[above] - sorted_values[below]) * (position - below)


# --------------------------------------------------------------------------- the estimate


def _point(first_shares: Sequence[float], rows: Sequence[Sequence[float]], k: int) -> List[float]:
    return [sum(first_shares[i] * rows[i][j] for i in range(k)) for j in range(k)]


def corrected_estimate(first_counts: Mapping[str, int], pairs: Sequence[Tuple[str, str]], categories: Sequence[str],
                       labels: Optional[Sequence[str]] = None, *, replicates: int = REPLICATES,
                       seed: int = DEFAULT_SEED, confidence: float = 0.95, min_pairs: int = MIN_PAIRS,
                       min_pairs_per_grade: int = MIN_PAIRS_PER_GRADE) -> CorrectedEstimate:
    """first_counts: the period's first reviews by grade; pairs: (first grade, independent grade).

    Grades are ids in `categories` (best first); an unknown grade raises ValueError."""
    categories = tuple(categories)
    labels = tuple(labels or categories)
    k = len(categories)
    index = {g: i for i, g in enumerate(categories)}
    used = set(first_counts) | {g for pair in pairs for g in pair}
    unknown = sorted(g for g in used if g not in index)
    if unknown:
        raise ValueError(f"grades not in the categories: {unknown}")
    counts = [int(first_counts.get(g, 0)) for g in categories]
    total = sum(counts)
    matrix = [[0] * k for _ in range(k)]
    for first, second in pairs:
        matrix[index[first]][index[second]] += 1
    row_totals = [sum(row) for row in matrix]
    n_pairs = sum(row_totals)
    self_graded = [stats.wilson(c, total, confidence) for c in counts]
    withheld = _withheld_reason(counts, row_totals, n_pairs, labels, min_pairs, min_pairs_per_grade)
    if withheld:
        shares = [CorrectedShare(g, l, s, None, None, None) for g, l, s in zip(categories, labels, self_graded)]
        return CorrectedEstimate(categories, labels, total, n_pairs, matrix, shares, withheld, seed, replicates,
                                 confidence)
    first_shares = [c / total for c in counts]
    rows = [[cell / row_totals[i] if row_totals[i] else 0.0 for cell in matrix[i]] for i in range(k)]
    point = _point(first_shares, rows, k)
    rng = random.Random(seed)
    draws: List[List[float]] = [[] for _ in range(k)]
    for _ in range(replicates):
        first_star = [c / total for c in _multinomial(rng, total, first_shares)]
        rows_star = [[c / row_totals[i] for c in _multinomial(rng, row_totals[i], rows[i])] if row_totals[i]
                     else [0.0] * k for i in range(k)]
        for j, value in enumerate(_point(first_star, rows_star, k)):
            draws[j].append(value)
    alpha = (1 - confidence) / 2
    shares = []
    for j in range(k):
        ordered = sorted(draws[j])
        low, high = _percentile(ordered, alpha), _percentile(ordered, 1 - alpha)
        shares.append(CorrectedShare(categories[j], labels[j], self_graded[j], point[j],
                                     max(0.0, min(low, point[j])), min(1.0, max(high, point[j]))))
    notes = ()
    if n_pairs < stats.SMALL_SAMPLE:
        notes = (f"Only {n_pairs} pairs: the interval is wide and itself approximate.",)
    return CorrectedEstimate(categories, labels, total, n_pairs, matrix, shares, "", seed, replicates, confidence,
                             notes=notes)


def _withheld_reason(counts: Sequence[int], row_totals: Sequence[int], n_pairs: int, labels: Sequence[str],
                     min_pairs: int, min_pairs_per_grade: int) -> str:
    if sum(counts) == 0:
        return "there are no first reviews to correct."
    if n_pairs < min_pairs:
        return (f"only {n_pairs} case{'s' if n_pairs != 1 else ''} with an independent second review; at least "
                f"{min_pairs} are needed to estimate how first grades differ from independent ones.")
    thin = [label for label, c, r in zip(labels, counts, row_totals) if c and r < min_pairs_per_grade]
    if thin:
        return (f"fewer than {min_pairs_per_grade} independent second reviews of cases first graded "
                f"{' or '.join(thin)}, so what independent reviewers make of those grades is not known. "
                "Second-review more of them.")
    return ""


# --------------------------------------------------------------------------- from the database and from files


@dataclass
class PeriodEstimate:
    """The corrected estimate for each grading scale used by the period's first reviews."""

    period_label: str
    pairs_label: str
    estimates: List[Tuple[str, CorrectedEstimate]]  # (scale title, estimate)

    def as_dict(self) -> dict:
        return {"period": self.period_label, "pairs_window": self.pairs_label,
                "estimates": [dict(e.as_dict(), scale=title) for title, e in self.estimates]}

    def text(self) -> str:
        if not self.estimates:
            return f"No submitted first reviews with a grade in {self.period_label}."
        blocks = []
        for title, estimate in self.estimates:
            blocks.append(estimate.text(f"{title}: self-grades in {self.period_label} and the estimate of what "
                                        f"independent reviewers would have given (pairs from {self.pairs_label})"))
        return "\n\n".join(blocks)


def _scale_titles() -> Dict[Tuple[str, ...], str]:
    from qatt.agreement.grade_pairs import load_scales

    return {scale.grades: _title_of(scale) for scale in load_scales().values()}


def _title_of(scale) -> str:
    return " / ".join(scale.labels[g] for g in scale.grades)


def period_grades(flt, pairs_flt, vocab):
    """({scale: {grade: first reviews}}, {scale: [(first, independent)]}) for the filters: first reviews in
    `flt`, independent pairs in `pairs_flt`. Grades on no ordered scale (ungraded) are left out."""
    import peewee

    from qatt import reports
    from qatt.agreement import calibration
    from qatt.storage import models as m

    first_counts: Dict[Tuple[str, ...], Dict[str, int]] = {}
    query = (reports.submitted_reviews(flt, m.Review.grade, peewee.fn.COUNT(m.Review.id))
             .where(m.Review.grade != "").group_by(m.Review.grade))
    for grade, count in query.tuples():
        scale = calibration.scale_of(vocab, grade, grade)
        if scale is not None:
            first_counts.setdefault(scale, {})[grade] = count
    pairs: Dict[Tuple[str, ...], List[Tuple[str, str]]] = {}
    for pair in calibration.calibration_pairs(pairs_flt):
        scale = calibration.scale_of(vocab, pair.first_grade, pair.second_grade)
        if scale is not None:
            pairs.setdefault(scale, []).append((pair.first_grade, pair.second_grade))
    return first_counts, pairs


def _require_not_blinded(flt, actor: str) -> None:
    """The estimate shows the period's first grades; with few cases that would reveal the first grade of a
    case the actor must still second-review blind. So it waits until they have submitted those."""
    from qatt import reports
    from qatt.errors import PermissionDenied
    from qatt.storage import models as m

    def in_period(query):
        return reports._where(query.join(m.SampleItem).join(m.Case).switch(m.SampleItem).join(m.Sample),
                              flt, m.Sample.period, m.Case.area, m.Case.team, m.Sample.form_id)

    submitted = (m.Review.select(m.Review.sample_item)
                 .where(m.Review.role == reports.SECOND, m.Review.reviewer == actor,
                        m.Review.status == reports.SUBMITTED))
    drafts = in_period(m.Review.select().where(m.Review.role == reports.SECOND, m.Review.reviewer == actor,
                                               m.Review.status != reports.SUBMITTED))
    assigned = in_period(m.Assignment.select().where(m.Assignment.role == reports.SECOND,
                                                     m.Assignment.reviewer == actor,
                                                     m.Assignment.sample_item.not_in(submitted)))
    if drafts.exists() or assigned.exists():
        raise PermissionDenied("You hold second reviews in this period that are not submitted yet; the estimate "
                               "shows the period's first grades, so it is shown once you have submitted them "
                               "(blind second review).")


def estimate_for_period(flt, actor: str, pairs_flt=None, *, vocab=None, replicates: int = REPLICATES,
                        seed: int = DEFAULT_SEED) -> PeriodEstimate:
    """The estimate for the first reviews in `flt`, from the independent pairs in `pairs_flt` (default
    the same filter). Uses second reviews' grades, so only a moderator or above may ask (as for
    `agreement --sample`); audited as a consultation with counts only."""
    from qatt import reports
    from qatt.trust import audit, users

    users.require_role(actor, "moderator", "estimate grades from independent second reviews")
    _require_not_blinded(flt, actor)
    vocab = vocab or reports.Vocabulary.load()
    pairs_flt = pairs_flt or flt
    first_counts, pairs = period_grades(flt, pairs_flt, vocab)
    titles = _scale_titles()
    estimates = []
    for scale in sorted(first_counts, key=lambda s: [values for values, _ in vocab.scales].index(list(s))):
        labels = [vocab.grade_label(g) for g in scale]
        estimates.append((titles.get(scale, " / ".join(labels)),
                          corrected_estimate(first_counts[scale], pairs.get(scale, []), scale, labels,
                                             replicates=replicates, seed=seed)))
    audit.record(actor, audit.CONSULTATION, "calibration", "estimate",
                 {"purpose": "corrected estimate", "period": flt.as_dict(), "pairs_window": pairs_flt.as_dict(),
                  "first_reviews": sum(e.first_reviews for _, e in estimates),
                  "pairs": sum(e.pairs for _, e in estimates)})
    return PeriodEstimate(flt.label(), pairs_flt.label(), estimates)


def read_first_grades_csv(path, scale) -> Dict[str, str]:
    """case_ref,first_grade rows -> {case reference: grade id}; a bad row stops the file with its row and column."""
    import csv
    from pathlib import Path

    from qatt.errors import QattError

    path = Path(path)
    try:
        handle = open(path, newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise QattError(f"Cannot open {path}: {exc.strerror}. Check the file name.") from exc
    grades: Dict[str, str] = {}
    rows: Dict[str, int] = {}
    with handle:
        reader = csv.reader(handle)
        header = [name.strip().lower() for name in next(reader, [])]
        missing = [name for name in ("case_ref", "first_grade") if name not in header]
        if missing:
            raise QattError(f"{path}, row 1: no column {', '.join(missing)}. The first row must name the columns "
                            "case_ref, first_grade.")
        ref_at, grade_at = header.index("case_ref"), header.index("first_grade")
        for row_number, row in enumerate(reader, start=2):
            if not any(cell.strip() for cell in row):
                continue
            reference = row[ref_at].strip() if ref_at < len(row) else ""
            text = row[grade_at].strip() if grade_at < len(row) else ""
            if not reference:
                raise QattError(f"{path}, row {row_number}, column case_ref: the case reference is empty.")
            if reference in rows:
                raise QattError(f"{path}, row {row_number}, column case_ref: case {reference!r} is already on row "
                                f"{rows[reference]}. Give each case one row.")
            grade = scale.grade_for(text)
            if not grade:
                shown = repr(text) if text else "empty"
                raise QattError(f"{path}, row {row_number}, column first_grade: {shown} is not a grade on the "
                                f"{scale.id} scale. Use one of: {scale.accepted()}.")
            rows[reference] = row_number
            grades[reference] = grade
    return grades


def estimate_from_files(pairs_path, first_path, scale_id: str = "", *, replicates: int = REPLICATES,
                        seed: int = DEFAULT_SEED) -> Tuple[str, CorrectedEstimate]:
    """The estimate from a PAIRS file (as for `agreement --pairs`) and a FIRST file of every first grade.

    A paired case missing from FIRST is counted as a first review too; a paired case whose first grade
    differs between the two files is an error (which one is right is for the user to say)."""
    from pathlib import Path

    from qatt.errors import QattError
    from qatt.agreement.grade_pairs import load_scale, read_pairs_csv, read_pairs_on_any_scale

    if scale_id:
        scale = load_scale(scale_id)
        pair_rows = read_pairs_csv(Path(pairs_path), scale)
    else:
        scale, pair_rows = read_pairs_on_any_scale(Path(pairs_path))
    firsts = read_first_grades_csv(first_path, scale)
    notes = []
    for reference, first, _second in pair_rows:
        if reference not in firsts:
            firsts[reference] = first
            notes.append(reference)
        elif firsts[reference] != first:
            raise QattError(f"Case {reference!r} has the first grade {scale.labels[firsts[reference]]} in "
                            f"{Path(first_path).name} but {scale.labels[first]} in {Path(pairs_path).name}; "
                            "correct one of the files.")
    counts: Dict[str, int] = {}
    for grade in firsts.values():
        counts[grade] = counts.get(grade, 0) + 1
    estimate = corrected_estimate(counts, [(f, s) for _, f, s in pair_rows], scale.grades,
                                  [scale.labels[g] for g in scale.grades], replicates=replicates, seed=seed)
    if notes:
        import dataclasses

        estimate = dataclasses.replace(estimate, notes=estimate.notes + (
            f"{len(notes)} paired case{'s' if len(notes) != 1 else ''} not in {Path(first_path).name} counted "
            "as first reviews too.",))
    return _title_of(scale), estimate
