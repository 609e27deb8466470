"""`python -m qatt sample | samples | sample-items | verify-sample | replace | sample-size` round trips."""

from __future__ import annotations

import json
import random

import pytest

from qatt.trust import users
from qatt.cli import main
from qatt.storage import db as dbmod
from qatt.storage import models as m
from tests.unit.test_sampling import make_population, officers_population, population_refs

LEAD = "lead"


def run(capsys, db, *args, user=LEAD):
    """Run the CLI as `user` against the test database; return (exit code, parsed JSON or None, stderr)."""
    code = main(["--db", db.qatt_url, "--user", user, "--json", *args])
    dbmod.bind(db)  # the CLI bound the models to its own connection; give them back to the fixture's
    captured = capsys.readouterr()
    return code, (json.loads(captured.out) if captured.out.strip() else None), captured.err


@pytest.fixture
def lead_db(db):
    users.ensure_user(LEAD, "qa_lead")
    return db


def test_sample_json_lists_seed_cases_reserves_and_strata(lead_db, capsys):
    population = officers_population(officers=3, per_officer=10)
    code, data, _ = run(capsys, lead_db, "sample", str(population.id), "--per-stratum", "2", "--stratify", "officer",
                        "--reserves", "1", "--seed", "42", "--period", "2024-03")
    assert code == 0
    assert data["seed"] == "42" and data["method"] == "stratified"
    assert len(data["cases"]) == 6 and len(data["reserves"]) == 3
    assert [(s["key"], s["drawn"], s["reserves"]) for s in data["strata"]] == [(f'["PC {o}"]', 2, 1) for o in range(3)]
    assert m.Sample.get_by_id(data["sample_id"]).period == "2024-03"


def test_simple_sample_with_seed_matches_the_documented_formula(lead_db, capsys):
    population = officers_population()
    _, data, _ = run(capsys, lead_db, "sample", str(population.id), "--size", "5", "--seed", "8",
                     "--filter", "area=North")
    north = sorted(r for (r,) in m.Case.select(m.Case.reference).where(m.Case.area == "North").tuples())
    assert data["cases"] == random.Random(8).sample(north, 5)


def test_sample_text_output_names_short_strata(lead_db, capsys):
    cases = [{"reference": f"A{i}", "team": "Alpha"} for i in range(6)] + [{"reference": "B0", "team": "Beta"}]
    population = make_population(cases)
    code = main(["--db", lead_db.qatt_url, "--user", LEAD, "sample", str(population.id), "--per-stratum", "3",
                 "--stratify", "team"])
    dbmod.bind(lead_db)
    out = capsys.readouterr().out
    assert code == 0
    assert "Beta: 1 of 1 (all it has)" in out and "Alpha: 3 of 6\n" in out


def test_bad_filter_and_missing_redraw_reason_exit_2_with_a_message(lead_db, capsys):
    population = officers_population()
    code, _, err = run(capsys, lead_db, "sample", str(population.id), "--size", "3", "--filter", "area")
    assert code == 2 and "COLUMN=VALUE" in err
    run(capsys, lead_db, "sample", str(population.id), "--size", "3", "--period", "2024-03")
    code, _, err = run(capsys, lead_db, "sample", str(population.id), "--size", "3", "--period", "2024-03")
    assert code == 2 and "--redraw-reason" in err
    code, data, _ = run(capsys, lead_db, "sample", str(population.id), "--size", "3", "--period", "2024-03",
                        "--redraw-reason", "filter was wrong")
    assert code == 0 and data["supersedes"] is not None


def test_samples_lists_counts_and_sample_items_shows_replacements(lead_db, capsys):
    population = officers_population()
    _, drawn, _ = run(capsys, lead_db, "sample", str(population.id), "--size", "4", "--reserves", "2")
    code, replaced, _ = run(capsys, lead_db, "replace", str(drawn["sample_id"]), drawn["cases"][1],
                            "--reason", "not a domestic abuse case")
    assert code == 0
    assert (replaced["replaced"], replaced["reserve"], replaced["same_stratum"]) == (drawn["cases"][1], drawn["reserves"][0], True)
    _, listed, _ = run(capsys, lead_db, "samples")
    assert [(s["sample_id"], s["cases"], s["reserves_unused"], s["replaced"]) for s in listed] == [
        (drawn["sample_id"], 4, 1, 1)]
    _, items, _ = run(capsys, lead_db, "sample-items", str(drawn["sample_id"]))
    brought_in = next(i for i in items if i["replaces_ref"])
    assert (brought_in["reference"], brought_in["replaces_ref"], brought_in["reason"]) == (
        drawn["reserves"][0], drawn["cases"][1], "not a domestic abuse case")


def test_verify_sample_exits_0_when_identical_and_1_with_differences(lead_db, capsys):
    population = officers_population()
    _, drawn, _ = run(capsys, lead_db, "sample", str(population.id), "--size", "4")
    code, report, _ = run(capsys, lead_db, "verify-sample", str(drawn["sample_id"]))
    assert code == 0 and report["verified"] is True and report["differences"] == []
    unsampled = next(ref for ref in population_refs(population) if ref not in drawn["cases"])
    m.Case.delete().where(m.Case.reference == unsampled).execute()
    code, report, _ = run(capsys, lead_db, "verify-sample", str(drawn["sample_id"]))
    assert code == 1 and report["verified"] is False and report["population_fingerprint_ok"] is False


def test_replace_without_reason_is_refused_by_the_parser(lead_db, capsys):
    with pytest.raises(SystemExit):
        main(["--db", lead_db.qatt_url, "replace", "1", "X"])
    assert "--reason" in capsys.readouterr().err


def test_a_reviewer_cannot_draw(lead_db, capsys):
    population = officers_population()
    code, _, err = run(capsys, lead_db, "sample", str(population.id), "--size", "3", user="rev")
    assert code == 2 and "moderator" in err


@pytest.mark.parametrize("args, size", [
    (["--confidence", "95", "--tolerable", "5"], 59),
    (["--confidence", "0.95", "--tolerable", "0.05", "--expected", "1"], 93),
    (["--confidence", "90", "--tolerable", "5%"], 45),
])
def test_sample_size_accepts_fractions_or_percentages(capsys, args, size):
    assert main(["--json", "sample-size", *args]) == 0
    assert json.loads(capsys.readouterr().out)["sample_size"] == size


def test_sample_size_with_population_uses_the_hypergeometric_and_explains_in_text(capsys):
    assert main(["sample-size", "--confidence", "95", "--tolerable", "5", "--population", "100"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("examine 45 cases (hypergeometric)")
