"""The monthly report's executive summary and the pack's self-against-independent statements: done
actions waiting for a check are named whether or not anything is overdue, and the first reviews are
called kinder or harsher than the independent grades only when the interval supports it, the rule of
the reviewer profiles (qatt.agreement.calibration), always with the counts."""

from __future__ import annotations

import datetime as dt

import pytest

from qatt import reports, stats
from qatt.agreement import calibration as profiles
from qatt.reporting.comparison import InspectionComparison, bias_sentence
from qatt.reporting.figures import Calibration
from qatt.reporting.summary import _first_review_bias
from qatt.storage import models as m
from tests import report_factories as f

MAY = reports.ReportFilter.for_month("2024-05")
TODAY = dt.date(2024, 6, 1)
G3 = ("good", "requires_improvement", "inadequate")
# Before: "Child protection case check: the first reviews were kinder than the independent grades (better in 1
# of 2 cases graded twice, worse in 0)."
BIAS_MAY = ("Child protection case check: on 2 cases graded twice, the numbers are too few to tell whether the first "
            "reviews were kinder or harsher than the independent grades (better in 1, worse in 0, the same in 1; net "
            "+50.0 points (95% CI -89.9 to +92.3): the interval includes no difference).")


@pytest.fixture
def data(db):
    return f.standard_data()


def test_done_actions_awaiting_verification_are_named_when_nothing_is_overdue(data):
    m.Action.update(status="done").where(m.Action.status == "open").execute()  # the one overdue action is done
    report = reports.monthly_report(MAY, actor="lead", today=TODAY)
    assert report.action_counts.overdue == 0 and report.action_counts.by_status["done"] == 2
    assert "2 done actions are awaiting verification by a supervisor." in report.summary.attention
    assert not any("overdue" in line for line in report.summary.attention)


def test_overdue_and_waiting_actions_are_two_sentences(data):
    report = reports.monthly_report(MAY, actor="lead", today=TODAY)
    assert "1 action is overdue (the oldest by 31 days)." in report.summary.attention
    assert "1 done action is awaiting verification by a supervisor." in report.summary.attention


def test_no_action_sentence_when_none_is_overdue_or_waiting(data):
    m.Action.update(status="verified").where(m.Action.status.in_(["open", "done"])).execute()
    report = reports.monthly_report(MAY, actor="lead", today=TODAY)
    assert not any("action" in line for line in report.summary.attention)


def test_one_case_graded_better_is_too_few_to_call_the_first_reviews_kinder(data):
    """May: of the two child-protection cases graded twice, one first review was better, one the same."""
    report = reports.monthly_report(MAY, actor="lead", today=TODAY)
    bias = [line for line in report.summary.attention if "graded twice" in line]
    assert bias == [BIAS_MAY]
    assert not any("were kinder than" in line for line in report.summary.attention)
    pack = reports.inspection_pack(MAY, actor="lead")
    assert pack.comparison.bias_statements == bias
    assert not any("were kinder than" in s for s in pack.comparison.bias_statements)


def calibration_of(title, higher, lower, same):
    pairs = [("good", "requires_improvement")] * higher + [("inadequate", "requires_improvement")] * lower
    pairs += [("good", "good")] * same + [("requires_improvement", "requires_improvement")]  # both grades used
    return Calibration(title, title, ["Good", "RI", "Inadequate"], stats.agreement(pairs, G3))


@pytest.mark.parametrize("higher, lower, same, words", [
    (1, 0, 0, "too few to tell"), (6, 0, 1, "too few to tell"), (9, 0, 1, "were kinder than"),
    (0, 9, 1, "were harsher than"), (3, 3, 20, "too few to tell")])
def test_a_direction_is_stated_only_when_the_reviewer_profiles_would_state_it(higher, lower, same, words):
    result = calibration_of("Form", higher, lower, same)
    a = result.agreement
    statement = InspectionComparison(None, [result], None, []).bias_statements[0]
    assert words in statement
    assert f"better in {higher}, worse in {lower}, the same in {a.same}" in statement
    verdict = profiles.net_difference(a.higher, a.lower, a.n).verdict
    assert (verdict == profiles.LENIENT) == ("were kinder than" in statement)
    assert (verdict == profiles.HARSHER) == ("were harsher than" in statement)
    assert profiles.net_difference(a.higher, a.lower, a.n).text() in statement


def test_the_summary_names_forms_with_a_direction_and_all_forms_together():
    small = [calibration_of(f"Form {i}", 3, 0, 2) for i in range(4)]  # each alone: too few
    lines = _first_review_bias(small)
    assert len(lines) == 1 and lines[0].startswith("All 4 forms together: on 24 cases graded twice, the first "
                                                   "reviews were kinder than the independent grades (better in 12")
    assert lines[0].endswith("On each of the 4 forms alone the numbers are too few to tell (Calibration).")
    clear = calibration_of("Clear", 12, 0, 2)
    lines = _first_review_bias([clear, calibration_of("Even", 1, 1, 5)])
    assert lines[0].startswith("Clear: on 15 cases graded twice, the first reviews were kinder")
    assert lines[1].startswith("All 2 forms together") and "1 of the forms alone" in lines[1]
    assert _first_review_bias([calibration_of("Even", 1, 1, 5), calibration_of("Same", 0, 0, 5)]) == []
    assert _first_review_bias([calibration_of("One", 1, 0, 0)]) == [
        bias_sentence("One", 1, 0, 1, 2)]
