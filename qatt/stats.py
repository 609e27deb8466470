"""Statistics for QA reports: proportions with intervals, reviewer agreement (kappa) and trends.

Pure functions over counts: no database, no Qt, standard library only, so reports, exports,
the dashboard and the CLI all compute the same figures. Nothing returned is ever NaN or
infinite: where a statistic is not defined (no cases, every case in one grade) it is None and
the result carries a note saying why. Methods are explained for QA leads in docs/statistics.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

# Below this many cases a proportion or a kappa is flagged as a small sample. 30 is the usual
# rule of thumb for normal approximations; the intervals stay valid below it, they are just
# wide, and the reports say so rather than hiding the figure.
SMALL_SAMPLE = 30

NOT_DEFINED_ONE_CATEGORY = "not defined (all cases in one category)"
KAPPA_CI_NOT_DEFINED = "not defined: too few pairs / no variation"


def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the regularised incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 500):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= c * d
        if abs(c * d - 1.0) < 1e-15:
            break
    return result


def _regularised_beta(x: float, a: float, b: float) -> float:
    """I_x(a, b), the regularised incomplete beta function (Numerical Recipes, 6.4)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1) / (a + b + 2):
        return front * _beta_fraction(a, b, x) / a
    return 1.0 - front * _beta_fraction(b, a, 1 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with df degrees of freedom."""
    tail = 0.5 * _regularised_beta(df / (df + t * t), df / 2, 0.5)
    return 1.0 - tail if t > 0 else tail


def t_quantile(confidence: float, df: float) -> float:
    """The t with P(-t < T < t) = confidence for Student's t with df degrees of freedom: the
    multiplier of a small sample's mean interval (scipy is a test-only dependency; the tests
    compare this with scipy.stats.t.ppf)."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")
    if df <= 0:
        raise ValueError(f"degrees of freedom must be positive, not {df}")
    target = 0.5 + confidence / 2
    low, high = 0.0, max(1.0, _z(confidence))
    while t_cdf(high, df) < target:
        low, high = high, high * 2
    for _ in range(200):
        middle = (low + high) / 2
        if t_cdf(middle, df) < target:
            low = middle
        else:
            high = middle
        if high - low <= 1e-12 * high:
            break
    return (low + high) / 2


def counted(n: int, noun: str) -> str:
    """'1 case', '2 cases', '0 cases': a count with its noun, singular only for one."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def small_sample_warning(n: int) -> str:
    """The sentence reports print under a figure based on fewer than SMALL_SAMPLE cases ('' otherwise)."""
    if n >= SMALL_SAMPLE:
        return ""
    return (f"Small sample: only {counted(n, 'case')}. Percentages from fewer than "
            f"{SMALL_SAMPLE} cases move a lot from one sample to the next; read the interval, not the point figure.")


# --------------------------------------------------------------------------- proportions


@dataclass(frozen=True)
class Proportion:
    """count out of total, with its confidence interval (low, high as fractions 0-1)."""

    count: int
    total: int
    p: float
    low: float
    high: float
    method: str = "wilson"
    confidence: float = 0.95

    @property
    def small_sample(self) -> bool:
        return self.total < SMALL_SAMPLE

    def point_text(self, decimals: int = 1) -> str:
        """E.g. '41.4%'; '–' with no cases."""
        return f"{self.p * 100:.{decimals}f}%" if self.total else "–"

    def interval_text(self, decimals: int = 1) -> str:
        """E.g. '30.6–53.1%'; 'no cases' with none."""
        return f"{self.low * 100:.{decimals}f}–{self.high * 100:.{decimals}f}%" if self.total else "no cases"

    def percent_text(self, decimals: int = 1) -> str:
        """E.g. '41.4% (29/70; 95% CI 30.6–53.1%)'; with no cases: 'no cases (0/0)'."""
        if self.total == 0:
            return "no cases (0/0)"
        level = f"{self.confidence * 100:g}%"
        return (f"{self.point_text(decimals)} ({self.count}/{self.total}; {level} CI "
                f"{self.interval_text(decimals)})")

    def as_dict(self) -> dict:
        return {"count": self.count, "total": self.total, "p": self.p, "low": self.low, "high": self.high,
                "method": self.method, "confidence": self.confidence, "text": self.percent_text()}


def wilson(count: int, total: int, confidence: float = 0.95) -> Proportion:
    """Wilson score interval for count/total.

    Chosen over the textbook 'p ± 1.96·SE' because that interval collapses to zero width at 0%
    and 100% and runs outside 0-100% in small samples, which is exactly where QA samples live.
    total 0 gives p = 0 and the interval 0-1 ('we know nothing'), never NaN.
    """
    if total < 0 or count < 0 or count > total:
        raise ValueError(f"need 0 <= count <= total, got {count}/{total}")
    if total == 0:
        return Proportion(0, 0, 0.0, 0.0, 1.0, "wilson", confidence)
    z = _z(confidence)
    p = count / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half_width = z / denominator * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total))
    # At 0 and total the exact bounds are 0 and 1; pin them so rounding cannot show "-0.0%".
    low = 0.0 if count == 0 else max(0.0, centre - half_width)
    high = 1.0 if count == total else min(1.0, centre + half_width)
    return Proportion(count, total, p, low, high, "wilson", confidence)


def distribution(counts: Mapping[str, int], order: Sequence[str], total: Optional[int] = None,
                 confidence: float = 0.95) -> Dict[str, Proportion]:
    """Each category's share, in `order`, every one with its interval.

    total defaults to the sum of the counts; pass a published total where it differs from the
    sum of its rows (DOMAIN 4.2: 69 cases by area against 70 published). A key of `counts` that
    is not in `order` is a programming error and raises ValueError rather than vanishing.
    """
    unknown = [key for key in counts if key not in order]
    if unknown:
        raise ValueError(f"counts for categories not in the order: {unknown}")
    summed = sum(counts.get(key, 0) for key in order)
    if total is None:
        total = summed
    elif total < summed:
        raise ValueError(f"total {total} is less than the sum of the counts {summed}")
    return {key: wilson(counts.get(key, 0), total, confidence) for key in order}


# --------------------------------------------------------------------------- comparisons and trends


@dataclass(frozen=True)
class Comparison:
    """after minus before, in proportion points (0-1), with Newcombe's interval for the difference."""

    difference: float
    low: float
    high: float
    significant: bool
    statement: str
    label: str = ""
    before: Optional[Proportion] = None
    after: Optional[Proportion] = None

    def as_dict(self) -> dict:
        return {"label": self.label, "difference": self.difference, "low": self.low, "high": self.high,
                "significant": self.significant, "statement": self.statement,
                "before": self.before.as_dict() if self.before else None,
                "after": self.after.as_dict() if self.after else None}


def _points(value: float) -> str:
    return f"{value * 100:+.1f}"


def compare_proportions(a: Proportion, b: Proportion, label: str = "The proportion") -> Comparison:
    """Change from a (before, e.g. the 2021 baseline) to b (after, e.g. this year).

    Interval: Newcombe's hybrid score method (method 10, Newcombe 1998) built from the two
    Wilson intervals; it behaves at 0% and 100% and in small samples, unlike p1 - p2 ± 1.96·SE.
    'significant' means the interval leaves out zero, i.e. the change is larger than the
    uncertainty. a and b must use the same confidence level.
    """
    if not math.isclose(a.confidence, b.confidence):
        raise ValueError("compare proportions computed at the same confidence level")
    if a.total == 0 or b.total == 0:
        which = "before" if a.total == 0 else "after"
        return Comparison(0.0, -1.0, 1.0, False,
                          f"{label}: cannot compare, there are no cases {which}.", label, a, b)
    difference = b.p - a.p
    low = difference - math.sqrt((b.p - b.low) ** 2 + (a.high - a.p) ** 2)
    high = difference + math.sqrt((b.high - b.p) ** 2 + (a.p - a.low) ** 2)
    low, high = max(-1.0, low), min(1.0, high)
    significant = low > 0 or high < 0
    if difference > 0:
        movement = "rose"
    elif difference < 0:
        movement = "fell"
    else:
        movement = "was unchanged"
    verdict = "larger than the uncertainty" if significant else "within the uncertainty — could be chance"
    level = f"{a.confidence * 100:g}%"
    statement = (f"{label} {movement} from {a.p * 100:.1f}% to {b.p * 100:.1f}% "
                 f"({_points(difference)} points; {level} CI {_points(low)} to {_points(high)}): {verdict}")
    if a.small_sample or b.small_sample:
        statement += f" (small sample: {counted(min(a.total, b.total), 'case')})"
    return Comparison(difference, low, high, significant, statement, label, a, b)


def trend(current: Mapping[str, int], baseline: Mapping[str, int], order: Sequence[str],
          labels: Union[Mapping[str, str], Sequence[str]], confidence: float = 0.95) -> List[Comparison]:
    """For each category in `order`, how its share moved from `baseline` to `current`.

    labels: the category names to print, as {id: label} or a list parallel to `order`.
    """
    names = dict(labels) if isinstance(labels, Mapping) else dict(zip(order, labels))
    before = distribution(baseline, order, confidence=confidence)
    after = distribution(current, order, confidence=confidence)
    return [compare_proportions(before[key], after[key], names.get(key, key)) for key in order]


# --------------------------------------------------------------------------- agreement


@dataclass(frozen=True)
class StuartMaxwell:
    """Test that the two reviewers use the grades equally often (marginal homogeneity)."""

    chi2: float
    df: int
    p_value: float

    def as_dict(self) -> dict:
        return {"chi2": self.chi2, "df": self.df, "p_value": self.p_value}


@dataclass(frozen=True)
class Agreement:
    """How far two reviewers agree on the same cases.

    categories are ordered best to worst; matrix[i][j] counts cases the first reviewer graded
    categories[i] and the second categories[j]. higher counts cases the first reviewer graded
    better than the second (a self-assessment more generous than the check), lower the reverse.
    Statistics that are not defined are None, with the reason in notes.
    """

    n: int
    categories: Tuple[str, ...]
    matrix: List[List[int]]
    observed_agreement: Proportion
    expected_agreement: Optional[float]
    kappa: Optional[float]
    kappa_se: Optional[float]
    kappa_ci: Optional[Tuple[float, float]]
    weighted_kappa_linear: Optional[float]
    weighted_kappa_linear_se: Optional[float]
    weighted_kappa_linear_ci: Optional[Tuple[float, float]]
    weighted_kappa_quadratic: Optional[float]
    weighted_kappa_quadratic_se: Optional[float]
    weighted_kappa_quadratic_ci: Optional[Tuple[float, float]]
    higher: int
    lower: int
    same: int
    stuart_maxwell: Optional[StuartMaxwell]
    notes: Tuple[str, ...] = field(default_factory=tuple)

    @property
    def small_sample(self) -> bool:
        return self.n < SMALL_SAMPLE

    def as_dict(self) -> dict:
        return {
            "n": self.n,
            "categories": list(self.categories),
            "matrix": [list(row) for row in self.matrix],
            "observed_agreement": self.observed_agreement.as_dict(),
            "expected_agreement": self.expected_agreement,
            "kappa": self.kappa,
            "kappa_se": self.kappa_se,
            "kappa_ci": list(self.kappa_ci) if self.kappa_ci else None,
            "weighted_kappa_linear": self.weighted_kappa_linear,
            "weighted_kappa_linear_se": self.weighted_kappa_linear_se,
            "weighted_kappa_linear_ci": list(self.weighted_kappa_linear_ci) if self.weighted_kappa_linear_ci else None,
            "weighted_kappa_quadratic": self.weighted_kappa_quadratic,
            "weighted_kappa_quadratic_se": self.weighted_kappa_quadratic_se,
            "weighted_kappa_quadratic_ci": (list(self.weighted_kappa_quadratic_ci)
                                            if self.weighted_kappa_quadratic_ci else None),
            "higher": self.higher,
            "lower": self.lower,
            "same": self.same,
            "stuart_maxwell": self.stuart_maxwell.as_dict() if self.stuart_maxwell else None,
            "small_sample": self.small_sample,
            "notes": list(self.notes),
        }


def kappa_text(value: Optional[float]) -> str:
    """A kappa for printing: two decimals, or the reason it is missing."""
    return NOT_DEFINED_ONE_CATEGORY if value is None else f"{value:.2f}"


def kappa_strength(value: Optional[float]) -> str:
    """Landis & Koch's (1977) words for a kappa; a convention, not a test."""
    if value is None:
        return NOT_DEFINED_ONE_CATEGORY
    if value < 0:
        return "poor (worse than chance)"
    for ceiling, words in ((0.20, "slight"), (0.40, "fair"), (0.60, "moderate"), (0.80, "substantial")):
        if value <= ceiling:
            return words
    return "almost perfect"


@dataclass(frozen=True)
class _Kappa:
    value: Optional[float]
    se: Optional[float]
    ci: Optional[Tuple[float, float]]
    expected: float


def _kappa(freq: List[List[float]], weights: List[List[float]], n: int, z: float) -> _Kappa:
    """Kappa with agreement weights w (1 on the diagonal) and its large-sample standard error.

    Variance: Fleiss, Cohen & Everitt (1969), the same formula as SAS PROC FREQ and
    statsmodels.stats.inter_rater.cohens_kappa; with identity weights it is Cohen's kappa.
    """
    k = len(freq)
    rows = [sum(freq[i]) for i in range(k)]
    cols = [sum(freq[i][j] for i in range(k)) for j in range(k)]
    observed = sum(weights[i][j] * freq[i][j] for i in range(k) for j in range(k))
    expected = sum(weights[i][j] * rows[i] * cols[j] for i in range(k) for j in range(k))
    if math.isclose(expected, 1.0, rel_tol=0, abs_tol=1e-12):
        # Both reviewers put every case in the same grade: chance alone 'explains' all the
        # agreement, so kappa is 0/0 and not defined.
        return _Kappa(None, None, None, expected)
    value = (observed - expected) / (1 - expected)
    row_weight = [sum(weights[i][j] * cols[j] for j in range(k)) for i in range(k)]
    col_weight = [sum(weights[i][j] * rows[i] for i in range(k)) for j in range(k)]
    spread = sum(freq[i][j] * (weights[i][j] - (row_weight[i] + col_weight[j]) * (1 - value)) ** 2
                 for i in range(k) for j in range(k))
    variance = (spread - (value - expected * (1 - value)) ** 2) / ((1 - expected) ** 2 * n)
    se = math.sqrt(max(0.0, variance))  # rounding can leave a perfect table at -1e-17
    if se < 1e-9:
        # A standard error of 0 (every pair agreeing, or every case in one grade of one reviewer) is
        # the formula's, not the data's: an interval of zero width from a few pairs would claim
        # certainty, so none is given.
        return _Kappa(value, 0.0, None, expected)
    ci = (max(-1.0, value - z * se), min(1.0, value + z * se))
    return _Kappa(value, se, ci, expected)


def _agreement_weights(k: int, power: int) -> List[List[float]]:
    """1 on the diagonal, falling to 0 for the furthest pair; power 0 = unweighted, 1 linear, 2 quadratic."""
    if power == 0 or k == 1:
        return [[1.0 if i == j else 0.0 for j in range(k)] for i in range(k)]
    return [[1 - (abs(i - j) / (k - 1)) ** power for j in range(k)] for i in range(k)]


def chi2_survival(x: float, df: int) -> float:
    """P(X >= x) for a chi-squared variable with integer df (closed forms; no SciPy in the core)."""
    if df < 1:
        raise ValueError("df must be at least 1")
    if x <= 0:
        return 1.0
    half = x / 2
    if df % 2 == 0:
        term, total = 1.0, 1.0
        for i in range(1, df // 2):
            term *= half / i
            total += term
        return min(1.0, math.exp(-half) * total)
    root = math.sqrt(x)
    total = math.erfc(root / math.sqrt(2))
    term = math.sqrt(2 / math.pi) * math.exp(-half) * root
    for r in range(1, (df + 1) // 2):
        total += term
        term *= x / (2 * r + 1)
    return min(1.0, total)


def _solve(matrix: List[List[float]], vector: List[float]) -> List[float]:
    """Gaussian elimination with partial pivoting, for the small positive-definite systems below."""
    size = len(vector)
    a = [list(row) + [vector[i]] for i, row in enumerate(matrix)]
    for col in range(size):
        pivot = max(range(col, size), key=lambda r: abs(a[r][col]))
        a[col], a[pivot] = a[pivot], a[col]
        for r in range(col + 1, size):
            factor = a[r][col] / a[col][col]
            for c in range(col, size + 1):
                a[r][c] -= factor * a[col][c]
    solution = [0.0] * size
    for r in reversed(range(size)):
        solution[r] = (a[r][size] - sum(a[r][c] * solution[c] for c in range(r + 1, size))) / a[r][r]
    return solution


def _stuart_maxwell(matrix: List[List[int]]) -> StuartMaxwell:
    """Stuart-Maxwell chi-squared for marginal homogeneity.

    The usual form drops one category and inverts the (k-1)x(k-1) covariance of the marginal
    differences. That covariance is singular when some grades are never confused with the
    others (a grade nobody used, or one where the reviewers always agree). So categories are
    split into groups linked by disagreements; within each group one category is dropped and
    the reduced system solved, and the group results add up, with df = categories in a group
    minus one, summed. This equals the pseudo-inverse form, and the textbook test when all
    grades are linked. With no disagreements at all there is nothing to test: chi2 0, df 0,
    p-value 1.
    """
    k = len(matrix)
    groups: List[List[int]] = []
    seen: set = set()
    for start in range(k):
        if start in seen:
            continue
        group, stack = [], [start]
        seen.add(start)
        while stack:
            i = stack.pop()
            group.append(i)
            for j in range(k):
                if j not in seen and matrix[i][j] + matrix[j][i] > 0:
                    seen.add(j)
                    stack.append(j)
        groups.append(sorted(group))
    chi2, df = 0.0, 0
    for group in groups:
        kept = group[1:]  # drop the group's first category
        if not kept:
            continue
        diff = [sum(matrix[i][j] - matrix[j][i] for j in range(k)) for i in kept]
        cov = [[(sum(matrix[i][j] + matrix[j][i] for j in range(k) if j != i) if i == j
                 else -(matrix[i][j] + matrix[j][i])) for j in kept] for i in kept]
        chi2 += sum(d * s for d, s in zip(diff, _solve(cov, diff)))
        df += len(kept)
    chi2 = max(0.0, chi2)
    return StuartMaxwell(chi2, df, chi2_survival(chi2, df) if df else 1.0)


def agreement_from_matrix(matrix: Sequence[Sequence[int]], categories: Sequence[str],
                          confidence: float = 0.95, labels: Optional[Mapping[str, str]] = None) -> Agreement:
    """Agreement statistics from a cross-table (rows = first reviewer, columns = second).

    labels: the words users see for each category id ("Requires improvement" for "inadequate");
    notes name grades by these, never by id. A category without a label is shown as given.
    """
    categories = tuple(categories)
    k = len(categories)
    if k == 0:
        raise ValueError("need at least one category")
    table = [[int(cell) for cell in row] for row in matrix]
    if len(table) != k or any(len(row) != k for row in table):
        raise ValueError(f"matrix must be {k}x{k} for categories {categories}")
    n = sum(map(sum, table))
    same = sum(table[i][i] for i in range(k))
    higher = sum(table[i][j] for i in range(k) for j in range(i + 1, k))
    lower = n - same - higher
    observed = wilson(same, n, confidence)
    notes: List[str] = []
    if n == 0:
        notes.append("No cases were graded by both reviewers, so agreement cannot be measured.")
        return Agreement(0, categories, table, observed, None, None, None, None, None, None, None,
                         None, None, None, 0, 0, 0, None, tuple(notes))
    z = _z(confidence)
    freq = [[cell / n for cell in row] for row in table]
    plain, linear, quadratic = (_kappa(freq, _agreement_weights(k, power), n, z) for power in (0, 1, 2))
    if plain.value is None:
        notes.append("Kappa is not defined: both reviewers put every case in the same grade, so agreement "
                     "by chance alone would be 100%. Report the observed agreement instead.")
    if any(k.value is not None and k.ci is None for k in (plain, linear, quadratic)):
        why = ("The reviewers agreed on every case" if same == n
               else "Every case fell in one grade of one reviewer")
        notes.append(f"{why}; the large-sample standard error of kappa is then 0, which would give an "
                     f"interval of zero width, so none is given ({KAPPA_CI_NOT_DEFINED}): a small sample has "
                     "plenty of uncertainty.")
    words = labels or {}
    used_by_neither = [words.get(c, c) for i, c in enumerate(categories)
                       if sum(table[i]) == 0 and sum(row[i] for row in table) == 0]
    if used_by_neither and n:
        notes.append(f"Not used by either reviewer: {', '.join(used_by_neither)}.")
    if n < SMALL_SAMPLE:
        notes.append(small_sample_warning(n))
    return Agreement(
        n, categories, table, observed, plain.expected,
        plain.value, plain.se, plain.ci,
        linear.value, linear.se, linear.ci,
        quadratic.value, quadratic.se, quadratic.ci,
        higher, lower, same, _stuart_maxwell(table), tuple(notes),
    )


def agreement(pairs: Iterable[Tuple[str, str]], categories: Sequence[str], confidence: float = 0.95,
              labels: Optional[Mapping[str, str]] = None) -> Agreement:
    """Agreement between a first and a second grade on the same cases.

    pairs: (first reviewer's grade, second reviewer's grade), one per case, using the ids in
    `categories` (ordered best to worst). An unknown grade raises ValueError: callers that read
    user files translate grades and report bad rows themselves.
    """
    index = {category: i for i, category in enumerate(categories)}
    table = [[0] * len(categories) for _ in categories]
    for first, second in pairs:
        for grade in (first, second):
            if grade not in index:
                raise ValueError(f"grade {grade!r} is not one of {list(categories)}")
        table[index[first]][index[second]] += 1
    return agreement_from_matrix(table, categories, confidence, labels)


# --------------------------------------------------------------------------- when only totals are published


@dataclass(frozen=True)
class MarginalBounds:
    """What two sets of grade totals on the same cases imply without the case-by-case table."""

    n: int
    max_agreement: Proportion  # the most cases the two could possibly have graded the same
    max_kappa: Optional[float]  # kappa if they agreed as often as the totals allow
    min_higher: int  # at least this many cases graded better by the first set
    min_lower: int  # at least this many graded better by the second set


def marginal_bounds(first: Mapping[str, int], second: Mapping[str, int], order: Sequence[str]) -> MarginalBounds:
    """Bounds on agreement from the totals alone (e.g. DOMAIN 4.1: force 19/12/3, HMICFRS 8/16/10).

    Agreement cannot exceed sum(min(first_i, second_i)). For 'higher': at any cut-off grade, if
    the first set put more cases at or above it than the second did, the excess must be cases it
    graded better; the largest excess over all cut-offs is a floor for 'higher'.
    """
    n = sum(first.get(c, 0) for c in order)
    if n != sum(second.get(c, 0) for c in order):
        raise ValueError("the two sets of totals must cover the same number of cases")
    most_same = sum(min(first.get(c, 0), second.get(c, 0)) for c in order)
    max_agreement = wilson(most_same, n)
    expected = sum(first.get(c, 0) * second.get(c, 0) for c in order) / (n * n) if n else 1.0
    max_kappa = None if math.isclose(expected, 1.0) else (max_agreement.p - expected) / (1 - expected)
    min_higher = min_lower = 0
    first_at_or_above = second_at_or_above = 0
    for category in order:
        first_at_or_above += first.get(category, 0)
        second_at_or_above += second.get(category, 0)
        min_higher = max(min_higher, first_at_or_above - second_at_or_above)
        min_lower = max(min_lower, second_at_or_above - first_at_or_above)
    return MarginalBounds(n, max_agreement, max_kappa, min_higher, min_lower)
