"""Reviewer agreement: kappa, weighted kappa, standard errors and Stuart-Maxwell.

Cross-checked against scikit-learn and statsmodels on random tables, against worked examples
from the literature, and against the DOMAIN 4.1 force/HMICFRS figures."""

import json
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chi2
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.contingency_tables import SquareTable
from statsmodels.stats.inter_rater import cohens_kappa

from qatt import stats

G3 = ["good", "requires_improvement", "inadequate"]

# A table consistent with DOMAIN 4.1: force self-assessment (rows) 19/12/3, HMICFRS (columns)
# 8/16/10 on the same 34 cases. Only the totals are published; this is one possible table.
FORCE_VS_HMICFRS = [[7, 9, 3],
                    [1, 6, 5],
                    [0, 1, 2]]


def tables(min_k=2, max_k=5, max_cell=12):
    return st.integers(min_k, max_k).flatmap(
        lambda k: st.lists(st.lists(st.integers(0, max_cell), min_size=k, max_size=k), min_size=k, max_size=k))


def pairs_of(table):
    first, second = [], []
    for i, row in enumerate(table):
        for j, count in enumerate(row):
            first += [i] * count
            second += [j] * count
    return first, second


def categories_for(table):
    return [f"c{i}" for i in range(len(table))]


def one_grade_only(table):
    """True when both reviewers used a single, shared grade for every case (kappa 0/0)."""
    rows_used = {i for i, row in enumerate(table) if sum(row)}
    cols_used = {j for j, col in enumerate(zip(*table)) if sum(col)}
    return len(rows_used | cols_used) <= 1


@settings(max_examples=200, deadline=None)
@given(table=tables())
def test_kappas_match_scikit_learn(table):
    result = stats.agreement_from_matrix(table, categories_for(table))
    if result.n == 0 or one_grade_only(table):
        assert result.kappa is None and result.weighted_kappa_linear is None
        return
    first, second = pairs_of(table)
    labels = list(range(len(table)))
    for weights, ours in ((None, result.kappa), ("linear", result.weighted_kappa_linear),
                          ("quadratic", result.weighted_kappa_quadratic)):
        assert ours == pytest.approx(cohen_kappa_score(first, second, labels=labels, weights=weights), abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(table=tables())
def test_kappa_standard_errors_match_statsmodels_large_sample_variance(table):
    result = stats.agreement_from_matrix(table, categories_for(table))
    if result.n == 0 or one_grade_only(table):
        return
    for wt, se in ((None, result.kappa_se), ("linear", result.weighted_kappa_linear_se),
                   ("quadratic", result.weighted_kappa_quadratic_se)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # sqrt of a rounding-negative variance
            expected = cohens_kappa(np.array(table), wt=wt).std_kappa
        assert se == pytest.approx(np.nan_to_num(expected), abs=1e-7)


@settings(max_examples=200, deadline=None)
@given(table=tables())
def test_stuart_maxwell_matches_statsmodels_when_the_grades_are_linked(table):
    result = stats.agreement_from_matrix(table, categories_for(table))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = SquareTable(np.array(table), shift_zeros=False).homogeneity()
    if result.n == 0 or not np.isfinite(expected.statistic) or result.stuart_maxwell.df != len(table) - 1:
        return  # singular covariance: statsmodels gives up; covered by the grouped tests below
    assert result.stuart_maxwell.chi2 == pytest.approx(expected.statistic, rel=1e-7, abs=1e-9)
    assert result.stuart_maxwell.p_value == pytest.approx(expected.pvalue, rel=1e-7, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(table=tables(min_k=1))
def test_every_result_is_free_of_nan_and_infinity(table):
    result = stats.agreement_from_matrix(table, categories_for(table))
    json.dumps(result.as_dict(), allow_nan=False)
    assert result.higher + result.lower + result.same == result.n


def test_fleiss_textbook_example_gives_kappa_068_with_se_0088():
    # Fleiss (1981), Statistical Methods for Rates and Proportions, 2nd ed., ch. 13: two
    # psychiatrists, 100 patients, three diagnoses; kappa .68, large-sample SE .088.
    result = stats.agreement_from_matrix([[75, 1, 4], [5, 4, 1], [0, 0, 10]], ["psychological", "neurological", "organic"])
    assert result.observed_agreement.count == 89
    assert result.expected_agreement == pytest.approx(0.66)
    assert round(result.kappa, 2) == 0.68
    assert round(result.kappa_se, 3) == 0.088
    assert result.kappa_ci == pytest.approx((result.kappa - 1.959964 * result.kappa_se,
                                             result.kappa + 1.959964 * result.kappa_se), abs=1e-6)


def test_two_by_two_worked_example_gives_kappa_04():
    # 50 cases: both yes 20, first yes / second no 5, first no / second yes 10, both no 15.
    # Observed 0.70, chance 0.50, kappa 0.40 (the standard textbook illustration).
    result = stats.agreement_from_matrix([[20, 5], [10, 15]], ["yes", "no"])
    assert result.observed_agreement.p == pytest.approx(0.7)
    assert result.expected_agreement == pytest.approx(0.5)
    assert result.kappa == pytest.approx(0.4)
    # For two categories Stuart-Maxwell is McNemar's test: (5 - 10)^2 / (5 + 10).
    assert result.stuart_maxwell.chi2 == pytest.approx(25 / 15)
    assert result.stuart_maxwell.df == 1


def test_force_graded_itself_more_generously_than_the_inspectorate():
    result = stats.agreement_from_matrix(FORCE_VS_HMICFRS, G3)
    assert [sum(row) for row in result.matrix] == [19, 12, 3]
    assert [sum(col) for col in zip(*result.matrix)] == [8, 16, 10]
    assert result.higher == 17 and result.lower == 2 and result.same == 15
    assert result.higher > result.lower
    # The totals differ this much (19 Good against 8) only by chance with very low probability.
    assert result.stuart_maxwell.p_value < 0.01


def test_published_totals_alone_cap_agreement_at_23_of_34():
    bounds = stats.marginal_bounds({"good": 19, "requires_improvement": 12, "inadequate": 3},
                                   {"good": 8, "requires_improvement": 16, "inadequate": 10}, G3)
    assert bounds.max_agreement.count == 23 and bounds.max_agreement.total == 34
    assert round(bounds.max_kappa, 2) == 0.52
    # At least 11 of the force's 19 Goods were graded lower by HMICFRS; none need go the other way.
    assert (bounds.min_higher, bounds.min_lower) == (11, 0)
    table = stats.agreement_from_matrix(FORCE_VS_HMICFRS, G3)
    assert table.same <= bounds.max_agreement.count and table.higher >= bounds.min_higher


def test_higher_means_the_first_reviewer_gave_the_better_grade():
    result = stats.agreement([("good", "inadequate"), ("good", "requires_improvement"),
                              ("inadequate", "good"), ("good", "good")], G3)
    assert (result.higher, result.lower, result.same) == (2, 1, 1)
    assert result.matrix[0][2] == 1 and result.matrix[2][0] == 1


def test_no_cases_gives_no_kappa_and_says_why():
    result = stats.agreement([], G3)
    assert result.n == 0 and result.kappa is None and result.stuart_maxwell is None
    assert result.observed_agreement.total == 0
    assert "No cases" in result.notes[0]


def test_every_case_in_one_grade_leaves_kappa_undefined_not_one():
    result = stats.agreement([("good", "good")] * 12, G3)
    assert result.observed_agreement.p == 1.0
    assert result.kappa is None and result.weighted_kappa_quadratic is None and result.kappa_ci is None
    assert any("not defined" in note for note in result.notes)
    assert stats.kappa_text(result.kappa) == "not defined (all cases in one category)"
    assert (result.stuart_maxwell.chi2, result.stuart_maxwell.df, result.stuart_maxwell.p_value) == (0.0, 0, 1.0)


def test_a_one_grade_scale_gives_defined_values():
    result = stats.agreement([("pass", "pass")] * 3, ["pass"])
    assert result.kappa is None and result.same == 3
    json.dumps(result.as_dict(), allow_nan=False)


def test_perfect_agreement_on_several_grades_is_kappa_one_with_a_warning_about_its_interval():
    result = stats.agreement([("good", "good")] * 5 + [("inadequate", "inadequate")] * 5, G3)
    assert result.kappa == pytest.approx(1.0) and result.kappa_se == 0.0
    # Not (1.0, 1.0): an interval of zero width from ten cases would claim certainty.
    assert result.kappa_ci is None and result.weighted_kappa_linear_ci is None
    assert result.as_dict()["kappa_ci"] is None and result.as_dict()["kappa"] == pytest.approx(1.0)
    assert any("standard error of kappa is then 0" in note and "not defined: too few pairs / no variation" in note
               for note in result.notes)
    assert any("Not used by either reviewer: requires_improvement" in note for note in result.notes)


def test_notes_name_grades_by_their_labels_when_given():
    labels = {"good": "Good", "requires_improvement": "Requires improvement", "inadequate": "Inadequate"}
    result = stats.agreement([("good", "good")] * 5 + [("good", "inadequate")] * 2, G3, labels=labels)
    note = next(n for n in result.notes if n.startswith("Not used by either reviewer"))
    assert note == "Not used by either reviewer: Requires improvement."


def test_small_samples_carry_the_warning_in_notes():
    assert not any("Small sample" in note for note in stats.agreement_from_matrix(FORCE_VS_HMICFRS, G3).notes)
    small = stats.agreement([("good", "requires_improvement")] * 6 + [("good", "good")] * 4, G3)
    assert small.small_sample
    assert any("only 10 cases" in note for note in small.notes)


def test_kappa_interval_is_clipped_to_minus_one_to_one():
    result = stats.agreement([("good", "inadequate"), ("inadequate", "good"), ("good", "good")], ["good", "inadequate"])
    low, high = result.kappa_ci
    assert -1.0 <= low <= high <= 1.0


def test_stuart_maxwell_with_unlinked_grades_adds_the_groups_like_a_pseudo_inverse():
    # Grades 0-1 disagree with each other, 2-3 with each other, never across: the usual
    # (k-1)x(k-1) covariance is singular. The grouped test equals the pseudo-inverse form.
    table = [[5, 4, 0, 0], [1, 3, 0, 0], [0, 0, 6, 6], [0, 0, 1, 2]]
    result = stats.agreement_from_matrix(table, categories_for(table)).stuart_maxwell
    t = np.array(table, float)
    diff = t.sum(1) - t.sum(0)
    cov = -(t + t.T)
    np.fill_diagonal(cov, t.sum(1) + t.sum(0) - 2 * np.diag(t))
    expected = diff @ np.linalg.pinv(cov) @ diff
    assert result.df == 2 == np.linalg.matrix_rank(cov)
    assert result.chi2 == pytest.approx(expected)
    assert result.p_value == pytest.approx(chi2.sf(expected, 2))


def test_unknown_grade_is_refused():
    with pytest.raises(ValueError, match="outstanding"):
        stats.agreement([("good", "outstanding")], G3)


def test_as_dict_has_the_keys_reports_rely_on():
    keys = stats.agreement_from_matrix(FORCE_VS_HMICFRS, G3).as_dict().keys()
    assert {"n", "observed_agreement", "kappa", "weighted_kappa_linear", "weighted_kappa_quadratic", "higher",
            "lower", "matrix", "categories", "kappa_ci", "stuart_maxwell", "notes"} <= set(keys)


@pytest.mark.parametrize("value,words", [(None, "not defined (all cases in one category)"), (-0.1, "poor (worse than chance)"),
                                         (0.2, "slight"), (0.35, "fair"), (0.52, "moderate"), (0.7, "substantial"),
                                         (0.9, "almost perfect")])
def test_kappa_is_described_in_landis_and_koch_words(value, words):
    assert stats.kappa_strength(value) == words


def test_no_zero_width_kappa_interval_from_a_few_pairs():
    """The tester's cases: 3 pairs all agreeing (kappa 1), and 4 pairs where the independent reviewer
    gave one grade throughout (kappa 0): the large-sample standard error is 0 in both."""
    from qatt.agreement.grade_pairs import kappa_line

    scale = ("compliant", "partially_compliant", "non_compliant")
    agreeing = stats.agreement([("compliant", "compliant"), ("partially_compliant", "partially_compliant"),
                                ("compliant", "compliant")], scale)
    one_grade = stats.agreement([("compliant", "partially_compliant")] * 2 + [("partially_compliant",
                                                                              "partially_compliant")] * 2, scale)
    for result, value in ((agreeing, 1.0), (one_grade, 0.0)):
        assert result.weighted_kappa_linear == pytest.approx(value) and result.weighted_kappa_linear_ci is None
        line = kappa_line("Weighted kappa (linear)", result.weighted_kappa_linear, result.weighted_kappa_linear_ci)
        assert line == f"Weighted kappa (linear): {value:.2f} (95% CI not defined: too few pairs / no variation)"
    assert kappa_line("Kappa", None, None) == "Kappa: not defined (all cases in one category)"
    varied = stats.agreement([("compliant", "compliant"), ("compliant", "partially_compliant"),
                              ("partially_compliant", "partially_compliant"), ("non_compliant", "non_compliant")],
                             scale)
    low, high = varied.kappa_ci
    assert high - low > 0.1  # a real interval is still given


@pytest.mark.parametrize("confidence", [0.5, 0.8, 0.9, 0.95, 0.99, 0.999])
def test_t_quantile_matches_scipy(confidence):
    from scipy.stats import t

    for df in [1, 2, 3, 4, 5, 7, 10, 15, 29, 30, 50, 100, 1000, 100000]:
        assert stats.t_quantile(confidence, df) == pytest.approx(t.ppf(0.5 + confidence / 2, df), rel=1e-9)
    assert stats.t_quantile(0.95, 3) == pytest.approx(3.182446, abs=1e-6)
    with pytest.raises(ValueError):
        stats.t_quantile(1.0, 3)
    with pytest.raises(ValueError):
        stats.t_quantile(0.95, 0)
