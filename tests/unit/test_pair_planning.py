"""Planning second reviews: the pairs the calculator asks for deliver the margin."""

import json
import random

import pytest

from qatt.agreement.calibration import net_difference
from qatt.cli import main
from qatt.agreement.corrected_estimate import corrected_estimate
from qatt.errors import QattError
from qatt.selection.pair_planning import pairs_for_corrected_share, pairs_for_reviewer_difference
from tests.factories import make_user
from tests.report_factories import child_protection_form, make_form_version, make_review, make_scenario

G3 = ("good", "requires_improvement", "inadequate")


def half_width(n, higher, lower):
    result = net_difference(round(n * higher), round(n * lower), n)
    return max(result.value - result.low, result.high - result.value)


@pytest.mark.parametrize("margin,higher,lower", [(0.15, 0.25, 0.05), (0.2, 0.1, 0.1), (0.1, 0.3, 0.0)])
def test_the_reviewer_plan_meets_the_margin_and_fewer_pairs_do_not(margin, higher, lower):
    n = pairs_for_reviewer_difference(margin, higher, lower).pairs
    assert half_width(n, higher, lower) <= margin
    assert half_width(int(n * 0.9), higher, lower) > margin


def test_the_share_plan_gives_about_the_margin_in_simulation():
    first_shares = [0.41, 0.38, 0.21]
    rows = [[0.6, 0.4, 0.0], [0.0, 0.63, 0.37], [0.0, 0.0, 1.0]]  # P(independent | first)
    plan = pairs_for_corrected_share(0.08, first_shares, rows, 0, 400, "Good")
    rng = random.Random(3)
    widths = []
    for run in range(40):
        firsts = rng.choices(range(3), weights=first_shares, k=400)
        counts = {g: 0 for g in G3}
        for f in firsts:
            counts[G3[f]] += 1
        paired = rng.sample(range(400), plan.pairs)
        pairs = [(G3[firsts[i]], G3[rng.choices(range(3), weights=rows[firsts[i]])[0]]) for i in paired]
        good = corrected_estimate(counts, pairs, G3, replicates=200, seed=run).shares[0]
        widths.append((good.high - good.low) / 2)
    mean = sum(widths) / len(widths)
    assert 0.06 <= mean <= 0.10, (plan.pairs, mean)


def test_impossible_margins_say_what_to_do():
    with pytest.raises(QattError, match="choose a wider margin or a longer period"):
        pairs_for_corrected_share(0.001, [0.5, 0.5], [[0.5, 0.5], [0.0, 1.0]], 0, 50)
    with pytest.raises(QattError, match="between 0 and 1"):
        pairs_for_reviewer_difference(1.5)


def test_cli_pairs_needed_for_a_reviewer(capsys):
    assert main(["pairs-needed", "--margin", "0.15", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["pairs"] == pairs_for_reviewer_difference(0.15).pairs


def test_cli_pairs_needed_for_the_share_of_good_from_history(db, capsys):
    make_user("lead", "qa_lead")
    s = make_scenario()
    cp = make_form_version(child_protection_form())
    for period in ("2024-04", "2024-05"):
        for i in range(40):
            truth = G3[i % 3]
            first = "good" if truth == "requires_improvement" and i % 2 else truth
            item = s.case(period)
            make_review(item, cp, first, reviewer="rev")
            if i % 2 == 0:
                make_review(item, cp, truth, role="second", reviewer="lead")
    assert main(["--db", db.qatt_url, "--user", "lead", "--json", "pairs-needed", "--margin", "0.2",
                 "--share", "Good"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["first_reviews"] == 40 and 1 <= data["pairs"] <= 40


def test_per_reviewer_shortfall_counts_pairs_and_free_cases(db, capsys):
    from qatt import reports
    from qatt.errors import PermissionDenied
    from qatt.selection.pair_planning import pairs_shortfall

    make_user("lead", "qa_lead")
    make_user("rev.a")
    s = make_scenario()
    cp = make_form_version(child_protection_form())
    for i in range(6):  # rev.a: 6 first reviews, 2 paired
        item = s.case("2024-04")
        make_review(item, cp, "good", reviewer="rev.a")
        if i < 2:
            make_review(item, cp, "good", role="second", reviewer="lead")
    item = s.case("2024-04")  # rev.b: 1 first review, its second review only a draft
    make_review(item, cp, "good", reviewer="rev.b")
    make_review(item, cp, "good", role="second", reviewer="lead", status="draft")
    window = reports.ReportFilter("2024-04", "2024-06")
    rows = {r.reviewer: r for r in pairs_shortfall(window, "lead", 5)}
    assert (rows["rev.a"].pairs, rows["rev.a"].needed, rows["rev.a"].unpaired) == (2, 3, 4)
    assert (rows["rev.b"].pairs, rows["rev.b"].needed, rows["rev.b"].unpaired) == (0, 5, 0)
    with pytest.raises(PermissionDenied):
        pairs_shortfall(window, "rev.a", 5)
    assert main(["--db", db.qatt_url, "--user", "lead", "pairs-needed", "--per-reviewer", "5",
                 "--history-from", "2024-04", "--history-to", "2024-06"]) == 0
    out = capsys.readouterr().out
    assert "rev.a: 2 pairs; second-review 3 more of their 6 cases." in out
    assert "rev.b: 0 pairs; second-review 5 more of their 1 cases (only 0 of their cases are free" in out
