"""Review templates as xlsx: export, fill, import all-or-nothing with problems named by case and cell."""

import pytest
from openpyxl import load_workbook

from qatt.reviewing import review_sheets, reviews
from qatt.errors import QattError
from qatt.storage import models as m
from tests.factories import form_dict, make_population, make_sample, make_user, write_form


@pytest.fixture
def template(db, tmp_path):
    folder = tmp_path / "forms"
    write_form(folder, form_dict())
    make_user("sup.a")
    make_user("sup.b")
    population = make_population(3, reference=lambda i: f"=HYPERLINK({i})" if i == 3 else f"REF{i:04d}")
    sample = make_sample(population, form_id="test_form")
    path = tmp_path / "template.xlsx"
    rows = review_sheets.export_template(sample.id, path, actor="sup.a", forms_dir=folder)
    assert rows == 3
    return path


def columns(sheet):
    return {cell.value: cell.column_letter for cell in sheet[review_sheets.KEY_ROW] if cell.value}


def fill(path, rows):
    """rows: {data row index (0-based): {column key: value}}."""
    wb = load_workbook(path)
    sheet = wb[review_sheets.SHEET]
    letters = columns(sheet)
    for index, values in rows.items():
        for key, value in values.items():
            sheet[f"{letters[key]}{review_sheets.FIRST_DATA_ROW + index}"] = value
    wb.save(path)
    return letters


COMPLETE = {"c1": "yes", "c2": "Yes", "c3": "yes", "c3_days": 3, "c9": "Effective"}


def test_the_template_has_readable_headers_drop_downs_a_hidden_key_and_the_marking(template):
    wb = load_workbook(template)
    assert wb.sheetnames[0] == "Instructions"
    sheet = wb[review_sheets.SHEET]
    headers = [c.value for c in sheet[review_sheets.HEADER_ROW]]
    assert "Ethnicity recorded [c1]" in headers and "Days until the PPN reached CSC [c3_days]" in headers
    assert sheet.row_dimensions[review_sheets.KEY_ROW].hidden
    assert sheet.protection.sheet
    key = {r[0]: r[1] for r in wb[review_sheets.KEY_SHEET].iter_rows(values_only=True)}
    version = m.FormVersion.get(m.FormVersion.form_id == "test_form")
    assert wb[review_sheets.KEY_SHEET].sheet_state == "veryHidden" and key["form_hash"] == version.content_hash
    letters = columns(sheet)
    validated = {str(rng).split(":")[0].rstrip("0123456789") for dv in sheet.data_validations.dataValidation
                 for rng in dv.sqref.ranges}
    assert {letters["c1"], letters["c2"], letters["c9"], letters["grade"]} <= validated
    assert letters["notes"] not in validated
    assert sheet.oddHeader.center.text == "OFFICIAL-SENSITIVE" == sheet.oddFooter.center.text


def test_formula_looking_references_are_written_as_text(template):
    sheet = load_workbook(template)[review_sheets.SHEET]
    cell = sheet.cell(review_sheets.FIRST_DATA_ROW + 2, 1)
    assert cell.value == "=HYPERLINK(3)" and cell.data_type == "s"


def test_the_marking_follows_the_force_setting(db, tmp_path):
    m.Setting.update(value="OFFICIAL").where(m.Setting.key == "protective_marking").execute()
    folder = tmp_path / "forms"
    write_form(folder, form_dict())
    sample = make_sample(make_population(1), form_id="test_form")
    review_sheets.export_template(sample.id, tmp_path / "t.xlsx", actor="lead", forms_dir=folder)
    assert load_workbook(tmp_path / "t.xlsx")[review_sheets.SHEET].oddHeader.center.text == "OFFICIAL"


def test_a_filled_template_imports_graded_rows_as_submitted_and_others_as_drafts(template):
    fill(template, {0: {**COMPLETE, "grade": "Good", "strengths": "Prompt PPN"},
                    1: {"c1": "no", "notes": "=1+1"}})
    result = review_sheets.import_filled(template, "sup.a")
    assert (len(result.submitted), len(result.drafts), result.blank_rows) == (1, 1, 1)
    submitted = reviews.get_review(result.submitted[0])
    assert (submitted.status, submitted.grade, submitted.suggested_grade) == ("submitted", "good", "good")
    assert submitted.strengths == "Prompt PPN" and submitted.sample_item.case.reference == "REF0001"
    assert reviews.answers_of(submitted) == {"c1": "yes", "c2": "yes", "c3": "yes", "c3_days": 3, "c9": "effective"}
    draft = reviews.get_review(result.drafts[0])
    assert draft.status == "draft" and reviews.answers_of(draft) == {"c1": "no", "notes": "=1+1"}


def test_bad_cells_are_reported_by_case_question_and_cell_and_nothing_is_imported(template):
    letters = fill(template, {
        0: {**COMPLETE, "grade": "Good"},
        1: {"c1": "maybe", "c3": "no", "c3_days": 5},
        2: {**COMPLETE, "c1": "no", "grade": "Good"},
    })
    with pytest.raises(review_sheets.TemplateProblems) as caught:
        review_sheets.import_filled(template, "sup.a")
    problems = caught.value.problems
    assert any(p.startswith(f"case REF0002, cell {letters['c1']}4: Question c1 (Ethnicity recorded)") for p in problems)
    assert any(p.startswith(f"case REF0002, cell {letters['c3_days']}4: question c3_days") and "does not apply" in p
               for p in problems)
    assert any(p.startswith(f"case =HYPERLINK(3), cell {letters['override_rationale']}5") for p in problems)
    assert len(problems) == 3
    assert not m.Review.select().exists() and not m.Answer.select().exists()


def test_rows_that_cannot_be_stored_roll_back_the_whole_import(template):
    item = m.SampleItem.select().order_by(m.SampleItem.position.desc()).first()
    reviews.start_review(item.id, "sup.b", form_version=m.FormVersion.get())
    fill(template, {0: {**COMPLETE, "grade": "Good"}, 2: {"c1": "yes"}})
    with pytest.raises(review_sheets.TemplateProblems, match="Someone else already holds the first review"):
        review_sheets.import_filled(template, "sup.a")
    assert list(m.Review.select(m.Review.reviewer).tuples()) == [("sup.b",)]


def test_a_grade_needs_every_required_visible_answer(template):
    letters = fill(template, {0: {"c1": "maybe", "grade": "Good"}})
    with pytest.raises(review_sheets.TemplateProblems) as caught:
        review_sheets.import_filled(template, "sup.a")
    problems = caught.value.problems
    assert any(p.startswith(f"case REF0001, cell {letters['c2']}3: question c2 (Voice of the child recorded) must be "
                            "answered") for p in problems)
    assert len([p for p in problems if f"cell {letters['c1']}3" in p]) == 1  # invalid, not also "missing"


def test_a_workbook_that_is_not_a_template_is_refused(db, tmp_path):
    from openpyxl import Workbook

    Workbook().save(tmp_path / "other.xlsx")
    with pytest.raises(QattError, match="not a QATT review template"):
        review_sheets.import_filled(tmp_path / "other.xlsx", "sup.a")
