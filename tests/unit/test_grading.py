"""Suggested grades (critical capping, no_share bands, 2007 SGC tiers) and compliance counts."""

from __future__ import annotations

import pytest

from qatt.reviewing import grading
from tests.unit.forms_helpers import BASIC_FORM, load_text

TIERS_FORM = """\
id: tiers
title: SGC tiers
area: Testing
scale: sgc4
grading:
  tiers: {fair_all_significant: fair, good_most: 0.75, good_grade: good, excellent_most: 0.9,
          excellent_grade: excellent, fail_grade: poor}
sections:
  - id: s
    title: S
    questions:
      - {id: f1, type: yes_no, text: F1, tier: fair, significant: true}
      - {id: f2, type: yes_no, text: F2, tier: fair, significant: true}
      - {id: f3, type: yes_no_na, text: F3, tier: fair}
      - {id: g1, type: yes_no, text: G1, tier: good}
      - {id: g2, type: yes_no, text: G2, tier: good}
      - {id: g3, type: yes_no, text: G3, tier: good}
      - {id: g4, type: yes_no, text: G4, tier: good}
      - {id: crit, type: yes_no_na, text: Critical, critical: true}
"""


@pytest.fixture
def basic(tmp_path):
    return load_text(tmp_path, BASIC_FORM)


@pytest.fixture
def tiers(tmp_path):
    return load_text(tmp_path, TIERS_FORM, "tiers")


def _yes(*ids):
    return {qid: "yes" for qid in ids}


@pytest.mark.parametrize("answers, grade", [
    ({"q1": "yes", "q2": "yes", "q4": "yes"}, "compliant"),
    ({"q1": "yes", "q2": "no", "q3": "yes", "q4": "yes"}, "partially_compliant"),  # 1 no of 4 = 25%
    ({"q1": "no", "q2": "no", "q3": "yes", "q4": "yes"}, "non_compliant"),  # 2 of 4 = 50%
    ({"q1": "yes", "q2": "yes", "q4": "na"}, "compliant"),  # N/A is left out
])
def test_no_share_bands_pick_the_grade(basic, answers, grade):
    assert grading.suggest_grade(basic, answers).grade == grade


def test_no_share_band_boundary_is_inclusive(tmp_path):
    # 1 "no" in 10 answered items is exactly the 10% bound of "compliant".
    questions = "".join(f"      - {{id: x{i}, type: yes_no, text: X{i}}}\n" for i in range(6))
    form = load_text(tmp_path, BASIC_FORM + questions)
    answers = dict(_yes("q1", "q2", "q4", *[f"x{i}" for i in range(6)]), q3="yes", q1="no")
    assert grading.compliance(form, answers).as_dict()["no"] == 1
    assert grading.compliance(form, answers).counted == 10
    assert grading.suggest_grade(form, answers).grade == "compliant"


def test_hidden_answers_do_not_count_towards_the_suggestion(basic):
    # q3 is hidden (q1 and q2 are yes), so its stale "no" must not count.
    answers = {"q1": "yes", "q2": "yes", "q3": "no", "q4": "yes"}
    assert grading.suggest_grade(basic, answers).grade == "compliant"
    assert grading.compliance(basic, answers).as_dict() == {"yes": 3, "no": 0, "na": 0, "na_refused": 0, "rate": 1.0}


def test_critical_no_caps_at_the_lowest_grade_with_a_reason(basic):
    suggestion = grading.suggest_grade(basic, {"q1": "yes", "q2": "yes", "q4": "no"})
    assert suggestion.grade == "non_compliant"
    assert any("“Critical check” answered No" in reason for reason in suggestion.reasons)  # words, not ids
    assert not any("q4" in reason for reason in suggestion.reasons)


def test_critical_fail_may_name_a_grade(tmp_path):
    form = load_text(tmp_path, BASIC_FORM.replace("critical_fail: lowest", "critical_fail: partially_compliant"))
    assert grading.suggest_grade(form, {"q1": "yes", "q2": "yes", "q4": "no"}).grade == "partially_compliant"


def test_no_answers_yet_gives_no_suggestion(basic):
    suggestion = grading.suggest_grade(basic, {"q4": "na"})
    assert suggestion.grade is None
    assert suggestion.reasons


def test_form_without_rules_suggests_nothing(tmp_path):
    form = load_text(tmp_path, BASIC_FORM.replace("  no_share:\n    - {up_to: 0.10, grade: compliant}\n"
                                                  "    - {up_to: 0.35, grade: partially_compliant}\n"
                                                  "    - {otherwise: non_compliant}\n", ""))
    assert grading.suggest_grade(form, _yes("q1", "q2", "q4")).grade is None


@pytest.mark.parametrize("answers, grade", [
    (dict(_yes("f1", "f2", "f3", "g1", "g2", "g3", "g4", "crit")), "excellent"),
    (dict(_yes("f1", "f2", "f3", "g1", "g2", "g3", "crit"), g4="no"), "good"),  # 75% of Good
    (dict(_yes("f1", "f2", "f3", "g1", "g2", "crit"), g3="no", g4="no"), "fair"),  # only half of Good
    (dict(_yes("f1", "f2", "g1", "g2", "g3", "g4", "crit"), f3="no"), "fair"),  # a non-significant Fair missed
    (dict(_yes("f1", "f3", "g1", "g2", "g3", "g4", "crit"), f2="no"), "poor"),  # a significant Fair missed
    (dict(_yes("f1", "f2", "f3", "g1", "g2", "g3", "g4"), crit="no"), "poor"),  # critical failure
    (dict(_yes("f1", "f2", "g1", "g2", "g3", "g4", "crit"), f3="na"), "excellent"),  # N/A left out
])
def test_sgc_tiers(tiers, answers, grade):
    assert grading.suggest_grade(tiers, answers).grade == grade


def test_when_no_fair_item_is_flagged_significant_every_fair_item_is(tmp_path):
    form = load_text(tmp_path, TIERS_FORM.replace(", significant: true", ""), "tiers")
    answers = dict(_yes("f1", "f2", "g1", "g2", "g3", "g4", "crit"), f3="no")
    assert grading.suggest_grade(form, answers).grade == "poor"


def test_item_compliance_counts_yes_no_na_and_leaves_hidden_out(basic):
    reviews = [
        (basic, {"q1": "yes", "q2": "no", "q3": "na", "q4": "yes"}),
        (basic, {"q1": "no", "q2": "no", "q3": "yes", "q3_reason": "x", "q4": "yes"}),
        (basic, {"q1": "yes", "q2": "yes", "q3": "no", "q4": "na"}),  # q3 hidden here
    ]
    items = {i.question_id: i for i in grading.item_compliance(reviews)}
    assert list(items) == ["q1", "q2", "q3", "q4"]
    assert (items["q1"].yes, items["q1"].no, items["q1"].na) == (2, 1, 0)
    assert (items["q3"].yes, items["q3"].no, items["q3"].na) == (1, 0, 1)
    assert items["q3"].rate == 1.0
    assert items["q4"].as_dict()["rate"] == 1.0
    assert items["q4"].na == 1


def test_item_with_only_na_answers_has_no_rate(basic):
    items = grading.item_compliance([(basic, {"q1": "yes", "q2": "yes", "q4": "na"})])
    q4 = next(i for i in items if i.question_id == "q4")
    assert q4.rate is None
