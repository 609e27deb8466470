"""Sample-size calculator: published AICPA table values and independent scipy computations."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from qatt.errors import QattError
from qatt.selection.sample_size import as_rate, sample_size


@pytest.mark.parametrize("confidence, tolerable, expected, published", [
    (0.95, 0.05, 0.0, 59), (0.95, 0.05, 0.01, 93), (0.90, 0.05, 0.0, 45), (0.95, 0.10, 0.0, 29),
    (0.95, 0.05, 0.0125, 124), (0.95, 0.05, 0.02, 181), (0.95, 0.04, 0.015, 192), (0.95, 0.03, 0.0075, 208),
])
def test_matches_the_published_aicpa_table(confidence, tolerable, expected, published):
    assert sample_size(confidence, tolerable, expected).sample_size == published


def _scipy_binomial(confidence, tolerable, expected):
    """Brute force with scipy: the first n whose allowed deviations still give the confidence."""
    n = 1
    while stats.binom.cdf(math.ceil(round(n * expected, 9)), n, tolerable) > 1 - confidence:
        n += 1
    return n


def _scipy_hypergeometric(confidence, tolerable, expected, population):
    defective = math.ceil(round(tolerable * population, 9))
    for n in range(1, population + 1):
        if stats.hypergeom.cdf(math.ceil(round(n * expected, 9)), population, defective, n) <= 1 - confidence:
            return n
    raise AssertionError("no sample size")


@pytest.mark.parametrize("confidence, tolerable, expected", [
    (0.95, 0.05, 0.0), (0.99, 0.02, 0.005), (0.90, 0.08, 0.03), (0.80, 0.15, 0.05), (0.95, 0.07, 0.02),
])
def test_binomial_size_agrees_with_scipy(confidence, tolerable, expected):
    result = sample_size(confidence, tolerable, expected)
    assert result.method == "binomial"
    assert result.sample_size == _scipy_binomial(confidence, tolerable, expected)
    assert result.risk == pytest.approx(stats.binom.cdf(result.allowed_deviations, result.sample_size, tolerable))


@pytest.mark.parametrize("confidence, tolerable, expected, population", [
    (0.95, 0.05, 0.0, 100), (0.95, 0.05, 0.0, 1000), (0.90, 0.10, 0.02, 250), (0.99, 0.05, 0.01, 5000),
])
def test_hypergeometric_size_agrees_with_scipy(confidence, tolerable, expected, population):
    result = sample_size(confidence, tolerable, expected, population=population)
    assert result.method == "hypergeometric" and result.population == population
    assert result.sample_size == _scipy_hypergeometric(confidence, tolerable, expected, population)


def test_a_small_population_needs_fewer_cases_than_the_binomial_answer():
    assert sample_size(0.95, 0.05, population=100).sample_size < sample_size(0.95, 0.05).sample_size


def test_allowed_deviations_are_the_expected_number_rounded_up():
    result = sample_size(0.95, 0.05, 0.01)
    assert result.allowed_deviations == 1 == math.ceil(result.sample_size * 0.01)


@pytest.mark.parametrize("given, rate", [(0.95, 0.95), (95, 0.95), ("95", 0.95), ("0.5%", 0.005), (5, 0.05), (0, 0.0)])
def test_rates_are_accepted_as_fractions_or_percentages(given, rate):
    assert as_rate(given, "rate") == pytest.approx(rate)


@pytest.mark.parametrize("confidence, tolerable, expected, message", [
    (0.95, 0.05, 0.05, "below the tolerable"), (0.95, 0.05, 0.06, "below the tolerable"),
    ("high", 0.05, 0.0, "not a number"), (0.95, 150, 0.0, "between 0 and 100"), (0, 0.05, 0.0, "above 0"),
])
def test_impossible_inputs_are_refused_with_a_reason(confidence, tolerable, expected, message):
    with pytest.raises(QattError, match=message):
        sample_size(confidence, tolerable, expected)


def test_a_sample_larger_than_any_plan_is_refused():
    with pytest.raises(QattError, match="would be needed"):
        sample_size(0.99, 0.0101, 0.01)
