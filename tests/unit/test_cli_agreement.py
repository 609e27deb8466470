"""`python -m qatt agreement`: pairs from a CSV or from a sample's reviews, readable and --json."""

import json

import pytest

from qatt.cli import main
from qatt.agreement.grade_pairs import load_scale
from qatt.reports import pairs_for_sample
from qatt.storage import db as dbmod
from qatt.storage import models as m
from tests.factories import make_population, make_sample, make_user, sample_items

# DOMAIN 4.1 shape: force (first) against HMICFRS (second) on 34 cases, rows 19/12/3, columns 8/16/10.
FORCE_VS_HMICFRS = [[7, 9, 3], [1, 6, 5], [0, 1, 2]]
SPELLINGS = {0: ["Good", "good", "G"], 1: ["Requires improvement", "RI", "requires_improvement"],
             2: ["Inadequate", "I", "INADEQUATE"]}


def write_pairs(tmp_path, table=FORCE_VS_HMICFRS, name="pairs.csv"):
    """A CSV of the table's cases, spelling grades every accepted way."""
    lines = ["case_ref,first_grade,second_grade"]
    for i, row in enumerate(table):
        for j, count in enumerate(row):
            for k in range(count):
                first, second = SPELLINGS[i][k % 3], SPELLINGS[j][(k + 1) % 3]
                lines.append(f"C{len(lines):03d},{first},{second}")
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_json(capsys, *argv):
    assert main(list(argv) + ["--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_pairs_file_gives_matrix_kappa_and_direction_as_json(tmp_path, capsys):
    data = run_json(capsys, "agreement", "--pairs", str(write_pairs(tmp_path)))
    assert data["n"] == 34
    assert data["matrix"] == FORCE_VS_HMICFRS
    assert (data["higher"], data["lower"]) == (17, 2)
    assert data["observed_agreement"]["count"] == 15
    assert data["kappa"] == pytest.approx(0.1739, abs=1e-4)
    assert data["weighted_kappa_linear"] > data["kappa"]
    assert data["weighted_kappa_quadratic"] > data["weighted_kappa_linear"]
    assert data["categories"] == ["good", "requires_improvement", "inadequate"]


def test_readable_output_has_the_table_and_the_sentence_about_who_graded_higher(tmp_path, capsys):
    assert main(["agreement", "--pairs", str(write_pairs(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert "The first reviewers graded 17 of 34 cases higher than the second reviewers and 2 lower." in out
    assert "Requires improvement        1                     6           5     12" in out
    assert "Kappa: 0.17 (95% CI" in out
    assert "Small sample" not in out


def test_small_sample_is_warned_about(tmp_path, capsys):
    path = write_pairs(tmp_path, [[3, 1, 0], [0, 4, 1], [0, 0, 1]])
    assert main(["agreement", "--pairs", str(path)]) == 0
    assert "Small sample: only 10 cases" in capsys.readouterr().out


def test_all_cases_in_one_grade_prints_kappa_not_defined(tmp_path, capsys):
    path = write_pairs(tmp_path, [[5, 0, 0], [0, 0, 0], [0, 0, 0]])
    assert main(["agreement", "--pairs", str(path)]) == 0
    assert "Kappa: not defined (all cases in one category)" in capsys.readouterr().out
    assert run_json(capsys, "agreement", "--pairs", str(path))["kappa"] is None


@pytest.mark.parametrize("content,message", [
    ("case_ref,first_grade\nA,good\n", "pairs.csv, row 1: no column second_grade"),
    ("case_ref,first_grade,second_grade\nA,good,good\nB,good,outstanding\n",
     "pairs.csv, row 3, column second_grade: 'outstanding' is not a grade on the g3 scale"),
    ("case_ref,first_grade,second_grade\nA,,good\n", "pairs.csv, row 2, column first_grade: empty is not a grade"),
    ("case_ref,first_grade,second_grade\n,good,good\n", "pairs.csv, row 2, column case_ref: the case reference is empty"),
    ("case_ref,first_grade,second_grade\nA,good,good\n\nA,RI,I\n",
     "pairs.csv, row 4, column case_ref: case 'A' is already on row 2"),
])
def test_bad_pairs_file_names_file_row_and_column(tmp_path, capsys, content, message):
    path = tmp_path / "pairs.csv"
    path.write_text(content, encoding="utf-8")
    assert main(["agreement", "--pairs", str(path)]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""


def test_missing_pairs_file_is_a_user_error(tmp_path, capsys):
    assert main(["agreement", "--pairs", str(tmp_path / "absent.csv")]) == 2
    assert "Cannot open" in capsys.readouterr().err


def test_other_scales_are_read_from_the_scales_file(tmp_path, capsys):
    path = tmp_path / "sgc.csv"
    path.write_text("case_ref,first_grade,second_grade\nA,Excellent,Good\nB,fair,poor\nC,F,F\n", encoding="utf-8")
    data = run_json(capsys, "agreement", "--pairs", str(path), "--scale", "sgc4")
    assert data["categories"] == ["excellent", "good", "fair", "poor"]
    assert (data["higher"], data["lower"], data["same"]) == (2, 0, 1)


def test_unknown_scale_is_refused(tmp_path, capsys):
    assert main(["agreement", "--pairs", str(write_pairs(tmp_path)), "--scale", "g5"]) == 2
    assert "no grading scale 'g5'" in capsys.readouterr().err


def test_shared_initials_are_not_accepted_as_a_guess(tmp_path):
    scales = tmp_path / "_scales.yaml"
    scales.write_text("scales:\n  - id: s\n    values:\n      - {id: poor, label: Poor}\n"
                      "      - {id: passable, label: Passable}\n", encoding="utf-8")
    scale = load_scale("s", scales)
    assert scale.grade_for("p") == ""
    assert scale.grade_for("Passable") == "passable"


def _grade_sample(grades):
    """A sample whose items carry (first grade, second grade, first status, second status)."""
    make_population(len(grades))
    sample = make_sample(m.Population.select().get())
    version = m.FormVersion.create(form_id="t", content_hash="0" * 64, content={})
    for item, (first, second, first_status, second_status) in zip(sample_items(sample), grades):
        for role, grade, status in (("first", first, first_status), ("second", second, second_status)):
            if grade is not None:
                m.Review.create(sample_item=item, form_version=version, reviewer=f"{role}_reviewer", role=role,
                                status=status, grade=grade)
    return sample


def test_pairs_for_sample_takes_only_cases_with_both_reviews_submitted(db):
    sample = _grade_sample([
        ("good", "inadequate", "submitted", "submitted"),
        ("good", "good", "submitted", "draft"),       # second review not finished
        ("requires_improvement", None, "submitted", None),  # no second review
        ("inadequate", "requires_improvement", "submitted", "submitted"),
    ])
    assert pairs_for_sample(sample.id) == [("REF0001", "good", "inadequate"),
                                           ("REF0004", "inadequate", "requires_improvement")]


def test_sample_agreement_for_a_moderator_is_computed_and_audited(db, capsys):
    sample = _grade_sample([("good", "inadequate", "submitted", "submitted"),
                            ("good", "good", "submitted", "submitted"),
                            ("ungraded", "good", "submitted", "submitted")])
    make_user("mod", "moderator")
    data = run_json(capsys, "--db", db.qatt_url, "--user", "mod", "agreement", "--sample", str(sample.id))
    assert (data["n"], data["higher"], data["same"], data["skipped_cases"]) == (2, 1, 1, 1)
    dbmod.bind(db)  # the command bound the models to its own, now closed, connection
    event = m.AuditEvent.select().where(m.AuditEvent.object_type == "sample").get()
    assert (event.action, event.actor, event.object_id) == ("consultation", "mod", str(sample.id))
    assert event.details == {"purpose": "agreement", "pairs": 2, "skipped": 1}


def test_sample_agreement_is_refused_to_a_reviewer(db, capsys):
    sample = _grade_sample([("good", "good", "submitted", "submitted")])
    make_user("rev", "reviewer")
    assert main(["--db", db.qatt_url, "--user", "rev", "agreement", "--sample", str(sample.id)]) == 2
    assert "only a moderator or above may compare first and second reviews" in capsys.readouterr().err


def test_unknown_sample_is_a_user_error(db, capsys):
    make_user("mod", "moderator")
    assert main(["--db", db.qatt_url, "--user", "mod", "agreement", "--sample", "999"]) == 2
    assert "There is no sample 999" in capsys.readouterr().err
