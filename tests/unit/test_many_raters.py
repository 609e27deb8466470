"""Many-rater agreement equals the established implementations on the same data."""

import math
import random

import krippendorff
import numpy as np
import pytest
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from qatt.agreement.many_raters import (
    fleiss_kappa, fleiss_table, krippendorff_alpha_ordinal, question_disagreement,
)

G3 = ("good", "requires_improvement", "inadequate")


def random_exercise(seed, cases=8, raters=5, missing=0.0):
    rng = random.Random(seed)
    units = []
    for _ in range(cases):
        centre = rng.randrange(3)
        grades = []
        for _ in range(raters):
            if rng.random() < missing:
                grades.append(None)
            else:
                grades.append(G3[min(2, max(0, centre + rng.choice((-1, 0, 0, 0, 1))))])
        units.append(grades)
    return units


@pytest.mark.parametrize("seed", range(12))
def test_fleiss_kappa_equals_statsmodels(seed):
    units = random_exercise(seed)
    table = fleiss_table(units, G3)
    ours = fleiss_kappa(table).statistic
    theirs = sm_fleiss_kappa(np.array(table), method="fleiss")
    assert ours == pytest.approx(theirs, abs=1e-12)


@pytest.mark.parametrize("seed", range(12))
def test_krippendorff_alpha_ordinal_equals_the_krippendorff_package(seed):
    units = random_exercise(seed, cases=10, raters=4, missing=0.2 if seed % 2 else 0.0)
    ours = krippendorff_alpha_ordinal([[g for g in unit if g] for unit in units], G3).statistic
    data = np.array([[G3.index(unit[r]) if unit[r] else np.nan for unit in units] for r in range(4)], dtype=float)
    theirs = krippendorff.alpha(reliability_data=data, level_of_measurement="ordinal", value_domain=[0, 1, 2])
    assert ours == pytest.approx(theirs, abs=1e-10)


def test_perfect_agreement_and_the_undefined_case():
    assert fleiss_kappa([[3, 0, 0], [0, 3, 0]]).statistic == pytest.approx(1.0)
    assert krippendorff_alpha_ordinal([["good", "good"], ["inadequate", "inadequate"]], G3).statistic == 1.0
    one_grade = fleiss_kappa([[4, 0, 0], [4, 0, 0]])
    assert one_grade.statistic is None and "not defined" in one_grade.note
    assert krippendorff_alpha_ordinal([["good", "good"]], G3).statistic is None


def test_fleiss_refuses_rows_with_different_numbers_of_reviewers():
    with pytest.raises(ValueError):
        fleiss_kappa([[2, 1, 0], [1, 1, 0]])


def test_questions_with_most_disagreement_come_first():
    case1 = [{"c1": "yes", "c2": "no"}, {"c1": "yes", "c2": "yes"}, {"c1": "yes", "c2": "no"}]
    case2 = [{"c1": "yes", "c2": "yes"}, {"c1": "no", "c2": "no"}, {"c1": "yes"}]
    result = question_disagreement([case1, case2])
    assert [r.question_id for r in result] == ["c2", "c1"]
    c2 = result[0]
    assert c2.cases == 2 and c2.disagreement == pytest.approx((2 / 3 + 1) / 2)
    assert math.isclose(result[1].disagreement, (0 + 2 / 3) / 2)
