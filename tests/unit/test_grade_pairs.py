"""Reading two gradings of the same cases from a file, on whichever grading scale they fit."""

import pytest

from qatt.errors import QattError
from qatt.agreement.grade_pairs import GradeNotOnScale, read_pairs_on_any_scale


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_the_first_scale_that_reads_every_row_is_used(tmp_path):
    scale, pairs = read_pairs_on_any_scale(write(tmp_path / "g.csv", "case_ref,first_grade,second_grade\nA,Good,RI\n"))
    assert scale.id == "g3" and pairs == [("A", "good", "requires_improvement")]
    scale, pairs = read_pairs_on_any_scale(write(tmp_path / "s.csv", "case_ref,first_grade,second_grade\nA,Fair,Excellent\n"))
    assert scale.id == "sgc4" and pairs == [("A", "fair", "excellent")]


def test_grades_on_no_scale_are_reported_as_the_first_scale_sees_them(tmp_path):
    with pytest.raises(GradeNotOnScale, match=r"row 3, column first_grade: 'Superb' is not a grade on the g3 scale"):
        read_pairs_on_any_scale(write(tmp_path / "x.csv", "case_ref,first_grade,second_grade\nA,Good,Good\nB,Superb,Good\n"))


def test_a_problem_with_the_file_itself_is_reported_at_once(tmp_path):
    with pytest.raises(QattError, match="row 3, column case_ref: case 'A' is already on row 2") as caught:
        read_pairs_on_any_scale(write(tmp_path / "d.csv", "case_ref,first_grade,second_grade\nA,Good,Good\nA,Good,RI\n"))
    assert not isinstance(caught.value, GradeNotOnScale)
    with pytest.raises(QattError, match="Cannot open"):
        read_pairs_on_any_scale(tmp_path / "missing.csv")


def test_a_tiny_p_value_is_written_as_below_one_in_a_thousand(tmp_path):
    from qatt import stats
    from qatt.agreement.grade_pairs import agreement_text, load_scale

    scale = load_scale("g3")
    pairs = [("good", "requires_improvement")] * 11 + [("good", "good")] * 8 + [("requires_improvement", "inadequate")] * 7
    text = agreement_text(stats.agreement(pairs, scale.grades), scale.labels, "test")
    assert "p < 0.001: the two sets of reviewers use the grades differently" in text and "p = 0.000" not in text
