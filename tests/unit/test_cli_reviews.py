"""CLI: review show / export-template / import, assign, plan, completion; --json on each."""

import json

import pytest
from openpyxl import load_workbook

from qatt.reviewing import reviews
from qatt.cli import main
from qatt.storage import db as dbmod
from qatt.storage import models as m
from tests.factories import COMPLETE_ANSWERS, form_dict, make_population, make_sample, make_user, write_form


def run(capsys, db, *args, user="lead", json_out=True):
    code = main(["--db", db.qatt_url, "--user", user, *(["--json"] if json_out else []), *args])
    dbmod.bind(db)  # the CLI bound the models to its own, now closed, connection
    out, err = capsys.readouterr()
    return code, (json.loads(out) if json_out and code == 0 else out), err


@pytest.fixture
def setup(db, tmp_path):
    folder = tmp_path / "forms"
    write_form(folder, form_dict())
    make_user("lead", "qa_lead")
    make_user("sup.a")
    make_user("mod", "moderator")
    sample = make_sample(make_population(3, supervisor="sup.a"), form_id="test_form", period="2024-05")
    return sample, folder


def test_assign_then_completion_reports_the_reviewers_cases(capsys, db, setup):
    sample, _ = setup
    code, data, _ = run(capsys, db, "assign", str(sample.id), "--reviewer", "sup.a", "--due", "2024-05-31")
    assert code == 0 and data["assigned"] == 3
    code, data, _ = run(capsys, db, "completion", "--period", "2024-05")
    assert data == [{"reviewer": "sup.a", "period": "2024-05", "assigned": 3, "in_progress": 0, "submitted": 0,
                     "overdue": 3, "not_started": 3}]
    code, text, _ = run(capsys, db, "completion", json_out=False)
    assert "sup.a" in text and "2024-05" in text


def test_a_reviewer_cannot_assign_and_the_cli_says_why(capsys, db, setup):
    sample, _ = setup
    code, _, err = run(capsys, db, "assign", str(sample.id), "--reviewer", "sup.a", user="sup.a")
    assert code == 2 and "moderator or above may assign reviews" in err


def test_plan_create_list_and_run(capsys, db, setup):
    code, data, _ = run(capsys, db, "plan", "create", "Supervisors", "--kind", "per_supervisor",
                        "--per-reviewer", "2", "--status", "finalised", "--form", "test_form")
    assert code == 0 and data["params"]["per_reviewer"] == 2
    code, data, _ = run(capsys, db, "plan", "list")
    assert [p["name"] for p in data] == ["Supervisors"]
    code, data, _ = run(capsys, db, "plan", "run", "Supervisors", "--period", "2024-07", "--seed", "7")
    assert code == 0 and data["assigned"] == {"sup.a": 2} and data["seed"] == "7"
    code, _, err = run(capsys, db, "plan", "run", "Supervisors", "--period", "2024-07")
    assert code == 2 and "already run for 2024-07" in err


def test_review_template_round_trip_and_show(capsys, db, setup, tmp_path):
    sample, folder = setup
    path = tmp_path / "reviews.xlsx"
    code, data, _ = run(capsys, db, "review", "export-template", str(sample.id), str(path), "--forms-dir", str(folder))
    assert code == 0 and data["cases"] == 3
    wb = load_workbook(path)
    sheet = wb["Reviews"]
    letters = {c.value: c.column_letter for c in sheet[2] if c.value}
    for key, value in {**COMPLETE_ANSWERS, "grade": "Good"}.items():
        sheet[f"{letters[key]}3"] = value
    wb.save(path)
    code, data, _ = run(capsys, db, "review", "import", str(path), user="sup.a")
    assert code == 0 and len(data["submitted"]) == 1
    review_id = data["submitted"][0]

    code, data, _ = run(capsys, db, "review", "show", str(review_id), user="sup.a")
    assert data["grade"] == "good" and data["answers"]["c9"] == "effective" and data["case_reference"] == "REF0001"
    code, text, _ = run(capsys, db, "review", "show", str(review_id), user="sup.a", json_out=False)
    assert "Supervisory oversight: effective" in text and "Grade: good (suggested: good)" in text


def test_review_show_keeps_the_second_reviewer_blind(capsys, db, setup):
    sample, folder = setup
    item = m.SampleItem.get(m.SampleItem.sample == sample, m.SampleItem.position == 1)
    first = reviews.start_review(item.id, "sup.a", forms_dir=folder)
    reviews.save_answers(first.id, COMPLETE_ANSWERS, "sup.a", 1)
    reviews.submit_review(first.id, "sup.a", 2)
    reviews.start_review(item.id, "mod", role="second", forms_dir=folder)
    code, _, err = run(capsys, db, "review", "show", str(first.id), user="mod")
    assert code == 2 and "blind second review" in err
