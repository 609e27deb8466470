"""Sample-size calculator for attribute (compliance) testing, as in audit sampling of controls.

The question it answers: how many cases must be examined so that, if no more than the expected
number of deviations is found, we can say with the given confidence that the deviation rate in the
population is below the tolerable rate. Exact binomial (large or unknown population) or exact
hypergeometric (population size given). Method and published cross-checks: docs/sampling.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Optional

from qatt.errors import QattError

# The binomial search stops here: beyond it the inputs are not a sampling plan anyone can review.
MAX_SAMPLE = 100_000


@dataclass
class SampleSizeResult:
    sample_size: int
    allowed_deviations: int  # deviations that may be found while still concluding the rate is below tolerable
    method: str  # "binomial" | "hypergeometric"
    confidence: float
    tolerable: float
    expected: float
    population: Optional[int]
    risk: float  # the achieved risk: P(at most allowed_deviations | deviation rate = tolerable)


def as_rate(value: float, name: str) -> float:
    """Accept a rate as a fraction (0.95), a percentage (95) or a percentage with its sign ("0.5%").

    Without a sign, values of 1 or more are percentages and values below 1 are fractions."""
    text = str(value).strip()
    percent = text.endswith("%")
    try:
        rate = float(text.rstrip("%"))
    except ValueError:
        raise QattError(f"The {name} {value!r} is not a number; give it as 0.95, 95 or 95%.") from None
    if percent or rate >= 1:
        rate /= 100
    if not 0 <= rate < 1 or math.isnan(rate):
        raise QattError(f"The {name} {value!r} must lie between 0 and 100%.")
    return rate


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p), summed in log space (no overflow for large n)."""
    if k >= n:
        return 1.0
    log_p, log_q = math.log(p), math.log1p(-p)
    return min(1.0, math.fsum(math.exp(_log_comb(n, x) + x * log_p + (n - x) * log_q) for x in range(k + 1)))


def hypergeometric_cdf(k: int, population: int, defective: int, n: int) -> float:
    """P(X <= k) when drawing n of `population` items without replacement, `defective` of them deviations."""
    low = max(0, n - (population - defective))
    high = min(k, n, defective)
    if high < low:
        return 0.0
    total = _log_comb(population, n)
    return min(1.0, math.fsum(math.exp(_log_comb(defective, x) + _log_comb(population - defective, n - x) - total)
                              for x in range(low, high + 1)))


def _allowed(n: int, expected: Fraction) -> int:
    # The expected number of deviations in a sample of n, rounded up (as the AICPA tables do).
    return math.ceil(n * expected)


def _smallest_n(cdf: Callable[[int, int], float], alpha: float, expected: Fraction, n_max: int) -> Optional[int]:
    """The smallest n <= n_max with cdf(ceil(n * expected), n) <= alpha, or None.

    For a fixed allowed count k the risk falls as n grows, so each run of n sharing the same k is
    binary-searched, starting from the smallest k."""
    k = 0 if expected == 0 else 1
    while True:
        low = 1 if expected == 0 else math.floor((k - 1) / expected) + 1
        high = n_max if expected == 0 else min(n_max, math.floor(k / expected))
        if low > n_max:
            return None
        if low <= high and cdf(k, high) <= alpha:
            while low < high:
                middle = (low + high) // 2
                if cdf(k, middle) <= alpha:
                    high = middle
                else:
                    low = middle + 1
            return low
        k += 1


def sample_size(confidence: float, tolerable: float, expected: float = 0.0,
                population: Optional[int] = None) -> SampleSizeResult:
    """The smallest sample that gives `confidence` that the deviation rate is below `tolerable`
    while allowing ceil(n x expected) deviations; hypergeometric when `population` is given."""
    confidence = as_rate(confidence, "confidence level")
    tolerable = as_rate(tolerable, "tolerable deviation rate")
    expected = as_rate(expected or 0.0, "expected deviation rate")
    if confidence <= 0 or tolerable <= 0:
        raise QattError("The confidence level and the tolerable deviation rate must be above 0.")
    if expected >= tolerable:
        raise QattError(f"The expected deviation rate ({expected:.2%}) must be below the tolerable rate "
                        f"({tolerable:.2%}); otherwise no sample can show the rate is tolerable.")
    alpha = 1 - confidence
    expected_exact = Fraction(str(expected))  # exact, so 0.07 x 100 is 7 and not 7.000000000000001
    if population is None:
        def cdf(k: int, n: int) -> float:
            return binomial_cdf(k, n, tolerable)
        n = _smallest_n(cdf, alpha, expected_exact, MAX_SAMPLE)
        if n is None:
            raise QattError(f"More than {MAX_SAMPLE:,} cases would be needed; raise the tolerable rate, "
                            "lower the expected rate or the confidence.")
        method = "binomial"
    else:
        if isinstance(population, bool) or int(population) != population or population < 1:
            raise QattError(f"The population size {population!r} must be a whole number of at least 1.")
        population = int(population)
        # The smallest number of deviations at which the population rate reaches the tolerable rate.
        defective = math.ceil(Fraction(str(tolerable)) * population)

        def cdf(k: int, n: int) -> float:
            return hypergeometric_cdf(k, population, defective, n)
        n = _smallest_n(cdf, alpha, expected_exact, population)
        if n is None:
            raise QattError(f"Even examining all {population:,} cases cannot give {confidence:.0%} confidence with "
                            f"these rates; raise the tolerable rate or lower the expected rate.")
        method = "hypergeometric"
    allowed = _allowed(n, expected_exact)
    return SampleSizeResult(sample_size=n, allowed_deviations=allowed, method=method, confidence=confidence,
                            tolerable=tolerable, expected=expected, population=population, risk=cdf(allowed, n))
