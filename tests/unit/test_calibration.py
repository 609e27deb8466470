"""Reviewer profiles: the signed difference and its verdict, on constructed data and from the database."""

import json
import random

import pytest

from qatt import reports
from qatt.agreement import calibration
from qatt.agreement.calibration import HARSHER, LENIENT, NO_CLEAR_DIFFERENCE, clopper_pearson, net_difference
from qatt.cli import main
from qatt.errors import PermissionDenied
from qatt.storage import models as m
from tests.factories import make_user
from tests.report_factories import child_protection_form, make_form_version, make_review, make_scenario

G3 = ("good", "requires_improvement", "inadequate")
ONE_UP = {"requires_improvement": "good", "inadequate": "requires_improvement", "good": "good"}


def cycle(n):
    """n independent grades cycling RI, inadequate, RI, ... (never Good, so one step up is always possible)."""
    return [("requires_improvement", "inadequate")[i % 2] for i in range(n)]


# --------------------------------------------------------------------------- pure statistics


def test_clopper_pearson_matches_statsmodels():
    from statsmodels.stats.proportion import proportion_confint

    for count, total in [(0, 5), (3, 3), (7, 20), (1, 1), (12, 40)]:
        low, high = clopper_pearson(count, total)
        ref_low, ref_high = proportion_confint(count, total, method="beta")
        assert low == pytest.approx(ref_low, abs=1e-9)
        assert high == pytest.approx(ref_high, abs=1e-9)


def test_a_reviewer_always_one_step_higher_is_flagged_lenient():
    truth = cycle(30)
    profile = calibration.profile_from_pairs("kind", [(ONE_UP[t], t) for t in truth], G3)
    assert profile.verdict == LENIENT
    assert profile.difference.value == 1.0
    assert profile.difference.low > 0
    assert profile.by_steps == {1: 30}
    assert profile.steps.value == 1.0
    assert not profile.small_sample
    assert "more lenient than independent review" in profile.statement()


def test_the_mean_difference_interval_uses_the_t_distribution():
    from scipy import stats as scipy_stats

    differences = [1, 1, 0, 0]  # the tester's 4 pairs: normal gives +-0.57, t with 3 df +-0.92
    steps = calibration.mean_steps(differences)
    low, high = scipy_stats.t.interval(0.95, 3, loc=0.5, scale=scipy_stats.sem(differences))
    assert (steps.low, steps.high) == (pytest.approx(low, abs=1e-9), pytest.approx(high, abs=1e-9))
    assert steps.high - 0.5 == pytest.approx(0.9187, abs=1e-4)
    assert steps.text() == "+0.50 steps (95% CI -0.42 to +1.42)"
    rng = random.Random(4)
    many = [rng.choice((-1, 0, 0, 1, 2)) for _ in range(200)]
    wide = calibration.mean_steps(many, 0.9)
    low, high = scipy_stats.t.interval(0.9, 199, loc=sum(many) / 200, scale=scipy_stats.sem(many))
    assert (wide.low, wide.high) == (pytest.approx(low, abs=1e-9), pytest.approx(high, abs=1e-9))
    assert wide.text().startswith(f"{sum(many) / 200:+.2f} steps (90% CI")


def test_no_zero_width_mean_difference_interval():
    same = calibration.mean_steps([0, 0, 0])  # the tester's supervisor3: 3 pairs, all the same grade
    assert (same.low, same.high) == (None, None)
    assert same.text() == "+0.00 steps (95% CI not defined: too few pairs / no variation)"
    assert same.as_dict()["no_interval"] == "95% CI not defined: too few pairs / no variation"
    assert calibration.mean_steps([1]).text() == "+1.00 steps (95% CI not defined: one pair)"
    assert calibration.mean_steps([]).text() == "no pairs"
    profile = calibration.profile_from_pairs("three", [("good", "good")] * 2 + [("inadequate", "inadequate")], G3)
    report = calibration.CalibrationReport("2023-04 to 2024-03", [profile], 0)
    text = report.text()
    assert "Weighted kappa (linear): 1.00 (95% CI not defined: too few pairs / no variation)" in text
    assert "Mean difference: +0.00 steps (95% CI not defined: too few pairs / no variation)." in text
    assert "1.00 to 1.00" not in text and "+0.00 to +0.00" not in text
    json.dumps(profile.as_dict(), allow_nan=False)


def test_a_reviewer_who_agrees_is_not_flagged():
    truth = cycle(30)
    profile = calibration.profile_from_pairs("fair", [(t, t) for t in truth], G3)
    assert profile.verdict == NO_CLEAR_DIFFERENCE
    assert profile.difference.low < 0 < profile.difference.high
    assert profile.agreement.observed_agreement.p == 1.0
    assert profile.agreement.weighted_kappa_linear == pytest.approx(1.0)


def test_three_pairs_all_higher_are_a_small_sample_and_not_called_lenient():
    profile = calibration.profile_from_pairs("new", [(ONE_UP[t], t) for t in cycle(3)], G3)
    assert profile.small_sample
    assert profile.verdict == NO_CLEAR_DIFFERENCE
    assert profile.difference.low < 0
    assert "Small sample (3 pairs)" in profile.statement()


def test_a_reviewer_always_lower_is_harsher():
    pairs = [("inadequate", "requires_improvement")] * 15 + [("requires_improvement", "good")] * 15
    assert calibration.profile_from_pairs("strict", pairs, G3).verdict == HARSHER


def test_the_interval_leaves_out_zero_exactly_when_the_exact_sign_test_rejects():
    from statsmodels.stats.descriptivestats import sign_test

    for higher, lower, n in [(6, 0, 10), (7, 0, 10), (9, 2, 30), (12, 2, 30), (15, 5, 40), (20, 4, 40)]:
        result = net_difference(higher, lower, n)
        diffs = [1] * higher + [-1] * lower + [0] * (n - higher - lower)
        _stat, p = sign_test(diffs, 0)
        # The direction interval is at sqrt(0.95), so the matching test is at 1 - sqrt(0.95).
        assert (result.low > 0) == (p < 1 - 0.95 ** 0.5), (higher, lower, n, p)


def test_the_net_difference_interval_covers_the_truth_at_least_as_often_as_it_says():
    rng = random.Random(17)
    p_higher, p_lower, n = 0.3, 0.1, 25
    truth = p_higher - p_lower
    covered = 0
    for _ in range(400):
        draws = [rng.random() for _ in range(n)]
        higher = sum(d < p_higher for d in draws)
        lower = sum(p_higher <= d < p_higher + p_lower for d in draws)
        result = net_difference(higher, lower, n)
        covered += result.low <= truth <= result.high
    assert covered / 400 >= 0.93


def test_codes_do_not_name_reviewers():
    profiles = calibration.assign_codes([
        calibration.profile_from_pairs(name, [("good", "good")], G3) for name in ("zoe", "adam")])
    assert [p.code for p in profiles] == ["Reviewer B", "Reviewer A"]
    assert "adam" not in json.dumps(profiles[1].as_dict(coded=True))


# --------------------------------------------------------------------------- from the database


@pytest.fixture
def paired(db):
    """kind: 30 pairs all one step higher; fair: 30 agreeing pairs; new: 3 pairs one step higher; plus
    one pair where the first reviewer second-reviewed their own case (not independent)."""
    make_user("lead", "qa_lead")
    make_user("checker", "moderator")
    for name in ("kind", "fair", "new"):
        make_user(name)
    s = make_scenario()
    cp = make_form_version(child_protection_form())
    for name, n, lenient in (("kind", 30, True), ("fair", 30, False), ("new", 3, True)):
        for truth in cycle(n):
            item = s.case("2024-05")
            make_review(item, cp, ONE_UP[truth] if lenient else truth, reviewer=name)
            make_review(item, cp, truth, role="second", reviewer="checker")
    own = s.case("2024-05")
    make_review(own, cp, "good", reviewer="fair")
    make_review(own, cp, "inadequate", role="second", reviewer="fair")
    old = s.case("2023-01")
    make_review(old, cp, "good", reviewer="fair")
    make_review(old, cp, "inadequate", role="second", reviewer="checker")
    return s


def test_profiles_from_the_database_flag_only_the_lenient_reviewer(paired):
    flt = reports.ReportFilter("2024-01", "2024-12")
    result = calibration.reviewer_profiles(flt, "lead")
    by_name = {p.reviewer: p for p in result.profiles}
    assert set(by_name) == {"kind", "fair", "new"}
    assert by_name["kind"].verdict == LENIENT and by_name["kind"].pairs == 30
    assert by_name["fair"].verdict == NO_CLEAR_DIFFERENCE and by_name["fair"].pairs == 30  # own pair left out
    assert by_name["new"].small_sample and by_name["new"].verdict == NO_CLEAR_DIFFERENCE
    event = m.AuditEvent.select().where(m.AuditEvent.object_type == "calibration").get()
    assert event.actor == "lead" and event.details["pairs"] == 63


def test_a_reviewer_sees_only_their_own_profile(paired):
    flt = reports.ReportFilter()
    own = calibration.reviewer_profiles(flt, "kind")
    assert [p.reviewer for p in own.profiles] == ["kind"]
    with pytest.raises(PermissionDenied, match="Only a QA lead or administrator may see fair's profile"):
        calibration.reviewer_profiles(flt, "kind", "fair")
    with pytest.raises(PermissionDenied):
        calibration.reviewer_profiles(flt, "checker", "kind")  # moderators see pairs, not people's profiles


@pytest.fixture
def cli_db(paired, db):
    return db.qatt_url


def test_cli_prints_profiles_for_a_qa_lead_with_json(cli_db, capsys):
    assert main(["calibration", "--db", cli_db, "--user", "lead", "--from", "2024-05", "--to", "2024-05",
                 "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    verdicts = {p["reviewer"]: p["verdict"] for p in data["profiles"]}
    assert verdicts == {"fair": NO_CLEAR_DIFFERENCE, "kind": LENIENT, "new": NO_CLEAR_DIFFERENCE}
    kind = next(p for p in data["profiles"] if p["reviewer"] == "kind")
    assert kind["higher"]["count"] == 30 and kind["by_steps"] == {"1": 30}


def test_cli_codes_reviewers_and_refuses_another_reviewers_profile(cli_db, capsys):
    assert main(["calibration", "--db", cli_db, "--user", "lead", "--coded"]) == 0
    out = capsys.readouterr().out
    assert "Reviewer B: graded 30 of 30 cases higher" in out and "kind" not in out
    assert main(["calibration", "--db", cli_db, "--user", "new", "--reviewer", "kind"]) == 2
    assert "Only a QA lead or administrator" in capsys.readouterr().err


def test_cli_counts_pairs_that_also_have_an_inspectorate_grade(cli_db, capsys, tmp_path):
    references = [c.reference for c in m.Case.select().order_by(m.Case.id)][:5]
    path = tmp_path / "hmicfrs.csv"
    path.write_text("case_ref,first_grade,second_grade\n" + "".join(f"{r},good,RI\n" for r in references))
    assert main(["calibration", "--db", cli_db, "--user", "lead", "--reviewer", "kind", "--json",
                 "--inspectorate", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["profiles"][0]["inspectorate_pairs"] == 5


def test_seeing_your_own_profile_is_not_audited_but_others_are(paired):
    calibration.reviewer_profiles(reports.ReportFilter(), "kind")
    assert not m.AuditEvent.select().where(m.AuditEvent.object_type == "calibration").exists()
    calibration.reviewer_profiles(reports.ReportFilter(), "lead", "kind")
    assert m.AuditEvent.select().where(m.AuditEvent.object_type == "calibration",
                                       m.AuditEvent.object_id == "kind").exists()
