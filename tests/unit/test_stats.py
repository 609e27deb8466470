"""Proportions, comparisons and trends: checked against statsmodels and the DOMAIN 4.1 figures."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chi2
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from qatt import stats

G3 = ["good", "requires_improvement", "inadequate"]
G3_LABELS = {"good": "Good", "requires_improvement": "Requires improvement", "inadequate": "Inadequate"}
INSPECTION_2022 = {"good": 29, "requires_improvement": 24, "inadequate": 17}
INSPECTION_2021 = {"good": 20, "requires_improvement": 31, "inadequate": 28}


@settings(max_examples=200, deadline=None)
@given(total=st.integers(1, 500), data=st.data(), confidence=st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_wilson_interval_matches_statsmodels(total, data, confidence):
    count = data.draw(st.integers(0, total))
    low, high = proportion_confint(count, total, alpha=1 - confidence, method="wilson")
    result = stats.wilson(count, total, confidence)
    assert result.p == count / total
    assert result.low == pytest.approx(max(0.0, low), abs=1e-12)
    assert result.high == pytest.approx(min(1.0, high), abs=1e-12)
    assert 0.0 <= result.low <= result.p <= result.high <= 1.0


def test_percent_text_shows_share_count_and_interval():
    assert stats.wilson(29, 70).percent_text() == "41.4% (29/70; 95% CI 30.6–53.1%)"


def test_no_cases_gives_zero_with_the_whole_range_and_no_nan():
    result = stats.wilson(0, 0)
    assert (result.p, result.low, result.high) == (0.0, 0.0, 1.0)
    assert result.percent_text() == "no cases (0/0)"


def test_all_or_nothing_intervals_reach_the_boundary_exactly():
    assert stats.wilson(0, 10).low == 0.0
    assert stats.wilson(10, 10).high == 1.0
    assert stats.wilson(10, 10).low < 1.0  # ten out of ten does not prove 100%


def test_samples_under_thirty_are_flagged_small():
    assert stats.wilson(3, 10).small_sample
    assert stats.wilson(3, 29).small_sample
    assert not stats.wilson(3, 30).small_sample
    assert "only 10 cases" in stats.small_sample_warning(10)
    assert stats.small_sample_warning(30) == ""


@pytest.mark.parametrize("count,total", [(-1, 5), (6, 5), (0, -1)])
def test_impossible_counts_are_refused(count, total):
    with pytest.raises(ValueError):
        stats.wilson(count, total)


def test_distribution_of_2022_grades_matches_domain_percentages():
    shares = stats.distribution(INSPECTION_2022, G3)
    assert list(shares) == G3
    assert [round(p.p * 100, 1) for p in shares.values()] == [41.4, 34.3, 24.3]
    assert all(p.total == 70 for p in shares.values())


def test_distribution_uses_a_published_total_that_differs_from_the_rows():
    # DOMAIN 4.2: the areas add up to 69 cases but the published total is 70.
    shares = stats.distribution({"good": 29, "requires_improvement": 23, "inadequate": 17}, G3, total=70)
    assert shares["requires_improvement"].total == 70
    with pytest.raises(ValueError):
        stats.distribution(INSPECTION_2022, G3, total=60)


def test_distribution_refuses_a_category_outside_the_scale():
    with pytest.raises(ValueError, match="outstanding"):
        stats.distribution({"good": 1, "outstanding": 2}, G3)


def test_distribution_gives_missing_categories_a_zero():
    shares = stats.distribution({"good": 4}, G3)
    assert shares["inadequate"].count == 0 and shares["inadequate"].total == 4


@settings(max_examples=150, deadline=None)
@given(n1=st.integers(1, 200), n2=st.integers(1, 200), data=st.data())
def test_difference_interval_matches_statsmodels_newcombe(n1, n2, data):
    before_count = data.draw(st.integers(0, n1))
    after_count = data.draw(st.integers(0, n2))
    low, high = confint_proportions_2indep(after_count, n2, before_count, n1, method="newcomb", compare="diff")
    result = stats.compare_proportions(stats.wilson(before_count, n1), stats.wilson(after_count, n2))
    assert result.difference == pytest.approx(after_count / n2 - before_count / n1, abs=1e-12)
    assert result.low == pytest.approx(max(-1.0, low), abs=1e-9)
    assert result.high == pytest.approx(min(1.0, high), abs=1e-9)
    assert result.significant == (result.low > 0 or result.high < 0)


def test_trend_from_2021_to_2022_says_good_rose_beyond_the_uncertainty():
    good, ri, inadequate = stats.trend(INSPECTION_2022, INSPECTION_2021, G3, G3_LABELS)
    assert good.statement == ("Good rose from 25.3% to 41.4% (+16.1 points; 95% CI +1.0 to +30.4): "
                              "larger than the uncertainty")
    assert good.significant
    assert not inadequate.significant
    assert inadequate.statement.startswith("Inadequate fell from 35.4% to 24.3% (-11.2 points")
    assert inadequate.statement.endswith("within the uncertainty — could be chance")
    assert ri.label == "Requires improvement"


def test_trend_accepts_labels_as_a_list_parallel_to_the_order():
    comparisons = stats.trend(INSPECTION_2022, INSPECTION_2021, G3, ["Good", "RI", "Inadequate"])
    assert [c.label for c in comparisons] == ["Good", "RI", "Inadequate"]


def test_comparison_of_small_samples_says_so():
    result = stats.compare_proportions(stats.wilson(2, 10), stats.wilson(6, 10), "Good")
    assert "small sample" in result.statement


def test_comparison_with_an_empty_side_is_defined_and_not_significant():
    result = stats.compare_proportions(stats.wilson(0, 0), stats.wilson(5, 10), "Good")
    assert not result.significant
    assert "no cases before" in result.statement
    assert all(math.isfinite(v) for v in (result.difference, result.low, result.high))


def test_unchanged_proportion_is_described_as_unchanged():
    result = stats.compare_proportions(stats.wilson(5, 10), stats.wilson(50, 100), "Good")
    assert "was unchanged" in result.statement and not result.significant


@pytest.mark.parametrize("df", range(1, 9))
@pytest.mark.parametrize("x", [0.0, 0.01, 0.5, 2.0, 7.35, 25.0, 80.0])
def test_chi2_tail_probability_matches_scipy(df, x):
    assert stats.chi2_survival(x, df) == pytest.approx(chi2.sf(x, df), rel=1e-9, abs=1e-15)


def test_a_zero_standard_error_without_full_agreement_does_not_claim_the_reviewers_agreed():
    # One case, first "good", second "requires improvement": kappa 0 with a zero large-sample SE.
    result = stats.agreement_from_matrix([[0, 1, 0], [0, 0, 0], [0, 0, 0]], ["good", "ri", "inadequate"])
    assert not any("agreed on every case" in note for note in result.notes)
    assert any("standard error of kappa is then 0" in note for note in result.notes)
    assert result.kappa == 0.0 and result.kappa_ci is None  # not "0.00 (95% CI 0.00 to 0.00)"


def test_a_comparison_over_one_case_says_one_case_not_one_cases():
    one = stats.compare_proportions(stats.wilson(1, 1), stats.wilson(20, 70), "Good")
    assert one.statement.endswith("(small sample: 1 case)")
    two = stats.compare_proportions(stats.wilson(1, 2), stats.wilson(20, 70), "Good")
    assert two.statement.endswith("(small sample: 2 cases)")


def test_a_count_takes_its_noun_in_the_singular_only_for_one():
    assert [stats.counted(n, "case") for n in (0, 1, 2)] == ["0 cases", "1 case", "2 cases"]
    assert "only 1 case." in stats.small_sample_warning(1)
