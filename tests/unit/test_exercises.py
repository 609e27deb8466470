"""Standardisation exercises: set-up, blind grading, results reproducible from the stored grades, the
change since last time, who may see what, and the v9 migration."""

import json

import krippendorff
import numpy as np
import pytest
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from qatt.agreement import exercises
from qatt.cli import main
from qatt.errors import PermissionDenied, QattError
from qatt.agreement.many_raters import fleiss_table
from qatt.storage import migrations
from qatt.storage.pg_security import is_postgres
from qatt.storage import models as m
from qatt.storage.exercise_models import EXERCISE_MODELS, Exercise, ExerciseGrade
from tests.factories import make_population, make_user

FORM = "cp_domestic_abuse"
G3 = ["good", "requires_improvement", "inadequate"]
# case -> grades by ann, bob, cat, dan; the reference grade of each case
GRADES = {
    "REF0001": ("good", "good", "good", "requires_improvement"),
    "REF0002": ("requires_improvement", "requires_improvement", "good", "requires_improvement"),
    "REF0003": ("inadequate", "inadequate", "requires_improvement", "inadequate"),
    "REF0004": ("requires_improvement", "inadequate", "good", "requires_improvement"),
}
REFERENCE = {"REF0001": "good", "REF0002": "requires_improvement", "REF0003": "inadequate",
             "REF0004": "inadequate"}
REVIEWERS = ("ann", "bob", "cat", "dan")


@pytest.fixture
def exercise(db):
    make_user("lead", "qa_lead")
    make_population(6)
    ex = exercises.create_exercise("lead", "DA spring", FORM, list(GRADES), reference_grades=REFERENCE,
                                   reference_source="Panel, 3 May")
    exercises.invite("lead", ex.id, REVIEWERS)
    for reference, grades in GRADES.items():
        for reviewer, grade in zip(REVIEWERS, grades):
            answers = {"da_dash": "yes" if reviewer in ("ann", "bob") else "no", "da_children_seen": "yes"}
            exercises.submit_grade(reviewer, ex.id, reference, answers, grade)
    return ex


def test_results_agree_with_the_established_implementations_on_the_stored_grades(exercise):
    result = exercises.exercise_results("lead", exercise.id)
    units = [list(g) for g in GRADES.values()]
    assert result.fleiss.statistic == pytest.approx(sm_fleiss_kappa(np.array(fleiss_table(units, G3))))
    data = np.array([[G3.index(u[r]) for u in units] for r in range(4)], dtype=float)
    assert result.alpha.statistic == pytest.approx(
        krippendorff.alpha(reliability_data=data, level_of_measurement="ordinal"))
    # Recomputed from what is stored, the figures are the same.
    stored = {}
    for g in ExerciseGrade.select():
        stored.setdefault(g.exercise_case_id, []).append(g.grade)
    assert sorted(map(sorted, stored.values())) == sorted(map(sorted, units))
    assert exercises.exercise_results("lead", exercise.id).as_dict() == result.as_dict()


def test_each_reviewer_against_the_reference_and_the_group(exercise):
    result = exercises.exercise_results("lead", exercise.id)
    by_name = {r.reviewer: r for r in result.reviewers}
    cat = by_name["cat"]
    assert cat.against_reference.count == 1 and cat.against_reference.total == 4
    assert (cat.reference_higher, cat.reference_lower) == (3, 0)
    assert cat.steps_above_group > 0.5
    assert by_name["bob"].against_reference.count == 4
    assert result.reference_agreement.count == 3 + 4 + 1 + 2  # ann, bob, cat, dan
    # da_dash splits the group 2-2 on every case; da_children_seen never.
    assert result.questions[0].question_id == "da_dash"
    assert result.questions[-1].disagreement == 0
    assert "Voice" not in result.text() and "DASH" in result.text()


def test_grading_is_blind_and_once_only(exercise):
    with pytest.raises(PermissionDenied, match="still open"):
        exercises.exercise_results("ann", exercise.id)
    with pytest.raises(QattError, match="already graded case REF0001"):
        exercises.submit_grade("ann", exercise.id, "REF0001", {}, "good")
    with pytest.raises(PermissionDenied, match="not invited"):
        exercises.submit_grade("eve", exercise.id, "REF0001", {}, "good")
    exercises.close_exercise("lead", exercise.id)
    own = exercises.exercise_results("ann", exercise.id)
    assert [r.reviewer for r in own.reviewers] == ["ann"] and own.questions == []
    with pytest.raises(PermissionDenied):
        exercises.exercise_results("eve", exercise.id)


def test_bad_input_is_refused_with_what_to_do(db):
    make_user("lead", "qa_lead")
    make_user("rev")
    make_population(3)
    with pytest.raises(PermissionDenied):
        exercises.create_exercise("rev", "X", FORM, ["REF0001"])
    with pytest.raises(QattError, match="no case 'NOPE'"):
        exercises.create_exercise("lead", "X", FORM, ["NOPE"])
    with pytest.raises(QattError, match="not on the HMICFRS case grade scale"):
        exercises.create_exercise("lead", "X", FORM, ["REF0001"], reference_grades={"REF0001": "great"})
    assert Exercise.select().count() == 0


def test_a_repeat_shows_the_change_since_last_time(exercise):
    exercises.close_exercise("lead", exercise.id)
    repeat = exercises.create_exercise("lead", "DA autumn", FORM, list(GRADES), reference_grades=REFERENCE,
                                       previous_id=exercise.id)
    exercises.invite("lead", repeat.id, REVIEWERS)
    for reference in GRADES:
        for reviewer in REVIEWERS:
            exercises.submit_grade(reviewer, repeat.id, reference, {}, REFERENCE[reference])
    result = exercises.exercise_results("lead", repeat.id)
    assert result.fleiss.statistic == pytest.approx(1.0)
    before = exercises.exercise_results("lead", exercise.id)
    assert result.change()["fleiss_kappa"] == pytest.approx(1.0 - before.fleiss.statistic)
    assert f"Since exercise {exercise.id}: Fleiss' kappa +" in result.text()


def test_every_step_is_audited(exercise):
    kinds = {(e.object_type, e.action) for e in m.AuditEvent.select()}
    assert ("exercise", "collection") in kinds and ("exercise_grade", "collection") in kinds
    assert ("exercise", "alteration") in kinds  # the invitations


def test_cli_exercise_flow(db, capsys):
    make_user("lead", "qa_lead")
    make_population(4)
    url = db.qatt_url

    def run(*argv, user="lead"):
        assert main(["--db", url, "--user", user, "--json", "exercise", *argv]) == 0, capsys.readouterr().err
        return json.loads(capsys.readouterr().out)

    exercise_id = run("create", "--name", "Trial", "--form", FORM, "--cases", "REF0001,REF0002",
                      "--reference", "REF0001=good")["exercise"]
    run("invite", str(exercise_id), "ann", "bob")
    run("grade", str(exercise_id), "--case", "REF0001", "--grade", "good", "--answers", '{"da_dash": "yes"}',
        user="ann")
    run("grade", str(exercise_id), "--case", "REF0001", "--grade", "requires_improvement", user="bob")
    data = run("results", str(exercise_id))
    assert data["cases"] == 2 and {r["reviewer"] for r in data["reviewers"]} == {"ann", "bob"}
    assert data["reference_agreement"]["count"] == 1
    assert main(["--db", url, "--user", "ann", "exercise", "results", str(exercise_id)]) == 2
    assert "still open" in capsys.readouterr().err


def test_v9_adds_the_exercise_tables_to_a_v4_database(db):
    db.drop_tables(list(reversed(EXERCISE_MODELS)), cascade=is_postgres(db))  # policies refer to them
    m.SchemaVersion.update(version=4).execute()
    assert 9 in migrations.migrate(db)
    assert all(db.table_exists(model._meta.table_name) for model in EXERCISE_MODELS)
    assert migrations.current_version(db) == migrations.LATEST
