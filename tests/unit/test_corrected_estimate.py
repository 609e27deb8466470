"""The corrected estimate against known truth: simulated periods where first reviewers are lenient by one
step with a known probability and a random subset of cases is independently re-graded."""

import random

import pytest

from qatt import stats
from qatt.agreement.corrected_estimate import MIN_PAIRS, corrected_estimate

G3 = ("good", "requires_improvement", "inadequate")
TRUTH = (0.25, 0.40, 0.35)
LENIENCY = 0.4  # chance a first reviewer grades one step above the true grade


def simulate(rng, n_cases, n_pairs):
    """(first-grade counts, pairs) for one simulated period."""
    truths = rng.choices(range(3), weights=TRUTH, k=n_cases)
    firsts = [max(0, t - 1) if rng.random() < LENIENCY else t for t in truths]
    counts = {g: 0 for g in G3}
    for f in firsts:
        counts[G3[f]] += 1
    paired = rng.sample(range(n_cases), n_pairs)
    return counts, [(G3[firsts[i]], G3[truths[i]]) for i in paired]


def test_the_95_percent_interval_covers_the_truth_about_95_percent_of_the_time_and_self_grades_do_not():
    rng = random.Random(2022)
    runs = 300
    covered = [0, 0, 0]
    self_covered = 0
    for run in range(runs):
        counts, pairs = simulate(rng, 300, 80)
        result = corrected_estimate(counts, pairs, G3, replicates=200, seed=run)
        assert not result.withheld
        for j, share in enumerate(result.shares):
            covered[j] += share.low <= TRUTH[j] <= share.high
            assert 0 <= share.low <= share.estimate <= share.high <= 1
        good = result.shares[0].self_graded
        self_covered += good.low <= TRUTH[0] <= good.high
    for j in range(3):
        assert 0.90 <= covered[j] / runs <= 0.99, (G3[j], covered[j] / runs)
    assert self_covered / runs < 0.05


def test_the_interval_narrows_as_pairs_grow():
    def mean_width(n_pairs):
        rng = random.Random(n_pairs)
        widths = []
        for run in range(40):
            counts, pairs = simulate(rng, 400, n_pairs)
            good = corrected_estimate(counts, pairs, G3, replicates=200, seed=run).shares[0]
            widths.append(good.high - good.low)
        return sum(widths) / len(widths)

    few, many, most = mean_width(60), mean_width(120), mean_width(360)
    assert few > many > most


def test_the_point_estimate_is_the_double_sampling_formula():
    # 100 first reviews 60 good / 30 RI / 10 inadequate; of 20 pairs first graded good, 10 were RI.
    pairs = ([("good", "good")] * 10 + [("good", "requires_improvement")] * 10
             + [("requires_improvement", "requires_improvement")] * 8 + [("requires_improvement", "inadequate")] * 2
             + [("inadequate", "inadequate")] * 5)
    result = corrected_estimate({"good": 60, "requires_improvement": 30, "inadequate": 10}, pairs, G3)
    assert [s.estimate for s in result.shares] == pytest.approx([0.30, 0.30 + 0.24, 0.06 + 0.10])
    assert result.matrix == [[10, 10, 0], [0, 8, 2], [0, 0, 5]]


def test_the_same_seed_gives_the_same_interval():
    counts, pairs = simulate(random.Random(5), 200, 60)
    a = corrected_estimate(counts, pairs, G3, seed=3, replicates=300)
    b = corrected_estimate(counts, pairs, G3, seed=3, replicates=300)
    assert a.as_dict() == b.as_dict()


def test_too_few_pairs_withhold_the_estimate_with_the_reason():
    counts, pairs = simulate(random.Random(1), 200, MIN_PAIRS - 1)
    result = corrected_estimate(counts, pairs, G3)
    assert result.withheld.startswith(f"only {MIN_PAIRS - 1} cases with an independent second review")
    assert all(s.estimate is None for s in result.shares)
    assert "withheld" in result.text()


def test_a_first_grade_never_second_reviewed_withholds_the_estimate():
    pairs = [("good", "good")] * 15 + [("requires_improvement", "inadequate")] * 15
    result = corrected_estimate({"good": 50, "requires_improvement": 40, "inadequate": 10}, pairs, G3,
                                labels=("Good", "Requires improvement", "Inadequate"))
    assert "cases first graded Inadequate" in result.withheld


def test_text_labels_it_an_estimate_and_states_the_assumptions():
    counts, pairs = simulate(random.Random(9), 200, 60)
    text = corrected_estimate(counts, pairs, G3).text()
    assert "This is an estimate" in text
    assert "representative" in text
    assert "Self-graded" in text


# --------------------------------------------------------------------------- from the database and files

import json  # noqa: E402

from qatt import reports  # noqa: E402
from qatt.cli import main  # noqa: E402
from qatt.agreement.corrected_estimate import estimate_for_period  # noqa: E402
from qatt.errors import PermissionDenied  # noqa: E402
from tests.factories import make_user  # noqa: E402
from tests.report_factories import child_protection_form, make_form_version, make_review, make_scenario  # noqa: E402


@pytest.fixture
def period(db):
    """May 2024: 60 first reviews; every other one second-reviewed. Inadequate cases are graded RI by the
    first reviewer; RI and Good agree."""
    make_user("lead", "qa_lead")
    make_user("rev")
    s = make_scenario()
    cp = make_form_version(child_protection_form())
    truth = ["good"] * 15 + ["requires_improvement"] * 25 + ["inadequate"] * 20
    for i, grade in enumerate(truth):
        item = s.case("2024-05")
        first = "requires_improvement" if grade == "inadequate" else grade
        make_review(item, cp, first, reviewer="rev")
        if i % 2 == 0:
            make_review(item, cp, grade, role="second", reviewer="lead")
    return db


def test_period_estimate_moves_the_self_grades_towards_the_independent_grades(period):
    result = estimate_for_period(reports.ReportFilter.for_month("2024-05"), "lead", replicates=300)
    [(title, estimate)] = result.estimates
    assert title == "Good / Requires improvement / Inadequate"
    assert estimate.first_reviews == 60 and estimate.pairs == 30
    shares = {s.grade: s for s in estimate.shares}
    assert shares["inadequate"].self_graded.count == 0
    # RI first grades: 45 cases, of whose 22 pairs 10 were inadequate -> 45/60 * 10/22 = 0.341
    assert shares["inadequate"].estimate == pytest.approx(45 / 60 * 10 / 22)
    assert shares["inadequate"].low > 0


def test_period_estimate_needs_a_moderator(period):
    with pytest.raises(PermissionDenied):
        estimate_for_period(reports.ReportFilter.for_month("2024-05"), "rev")


def test_cli_estimate_for_a_period_as_json(period, capsys):
    assert main(["estimate", "--db", period.qatt_url, "--user", "lead", "--period", "2024-05", "--json",
                 "--replicates", "200"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["estimates"][0]["pairs"] == 30 and data["estimates"][0]["label"] == "estimate"


def test_cli_estimate_from_files(tmp_path, capsys):
    rng = random.Random(4)
    counts, pairs = simulate(rng, 120, 40)
    firsts = [g for g, c in counts.items() for _ in range(c)]
    (tmp_path / "first.csv").write_text("case_ref,first_grade\n" + "".join(
        f"C{i},{g}\n" for i, g in enumerate(firsts)))
    # pair the first 40 cases whose first grades match the simulated pairs' first grades
    by_grade = {}
    for i, g in enumerate(firsts):
        by_grade.setdefault(g, []).append(i)
    lines = ["case_ref,first_grade,second_grade"]
    for first, second in pairs:
        lines.append(f"C{by_grade[first].pop()},{first},{second}")
    (tmp_path / "pairs.csv").write_text("\n".join(lines) + "\n")
    assert main(["estimate", "--pairs", str(tmp_path / "pairs.csv"), "--first", str(tmp_path / "first.csv")]) == 0
    out = capsys.readouterr().out
    assert "Estimate (independent)" in out and "It assumes:" in out


def test_cli_estimate_from_files_reports_a_bad_row(tmp_path, capsys):
    (tmp_path / "first.csv").write_text("case_ref,first_grade\nA,good\nB,great\n")
    (tmp_path / "pairs.csv").write_text("case_ref,first_grade,second_grade\nA,good,RI\n")
    assert main(["estimate", "--pairs", str(tmp_path / "pairs.csv"), "--first", str(tmp_path / "first.csv")]) == 2
    assert "first.csv, row 3, column first_grade: 'great' is not a grade" in capsys.readouterr().err


def test_the_estimate_waits_while_the_actor_holds_an_unsubmitted_second_review(period):
    from qatt.storage import models as m

    item = m.SampleItem.select().order_by(m.SampleItem.id.desc()).first()
    m.Review.update(status="draft").where(m.Review.sample_item == item, m.Review.role == "second").execute()
    if not m.Review.select().where(m.Review.sample_item == item, m.Review.role == "second").exists():
        cp = m.FormVersion.select().first()
        make_review(item, cp, "good", role="second", reviewer="lead", status="draft")
    with pytest.raises(PermissionDenied, match="blind second review"):
        estimate_for_period(reports.ReportFilter.for_month("2024-05"), "lead", replicates=100)
    # Another month's figures are not affected.
    estimate_for_period(reports.ReportFilter.for_month("2024-06"), "lead", replicates=100)
