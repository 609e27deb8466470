"""Spreadsheet authoring: export -> import round trips, the condition syntax, cell-level errors."""

from __future__ import annotations

import openpyxl
import pytest

from qatt.reviewing import forms
from qatt.trust import users
from qatt.reviewing import form_sheets as fs
from qatt.errors import PermissionDenied, QattError
from qatt.storage import models as m
from tests.unit.forms_helpers import BASIC_FORM, forms_dir, load_text

FORMULA_FORM = BASIC_FORM.replace("text: First check,", "text: '=HYPERLINK(\"http://x\")',").replace(
    "text: Rationale", "text: 'Rationale; with: punctuation'")


@pytest.fixture
def folder(tmp_path):
    return forms_dir(tmp_path)


def _export(form, tmp_path, folder):
    return fs.export_form_sheet(form, tmp_path / "form.xlsx", folder)


def _edit(path, sheet, cell, value):
    workbook = openpyxl.load_workbook(path)
    workbook[sheet][cell] = value
    workbook.save(path)


@pytest.mark.parametrize("path", forms.form_files(forms.default_forms_dir()), ids=lambda p: p.stem)
def test_every_builtin_form_round_trips_with_the_same_hash(tmp_path, path):
    form = forms.load_form(path)
    exported = fs.export_form_sheet(form, tmp_path / "form.xlsx")
    assert fs.read_form_sheet(exported).content_hash == form.content_hash


def test_formula_looking_text_is_written_as_text_and_round_trips(tmp_path, folder):
    form = load_text(tmp_path, FORMULA_FORM)
    exported = _export(form, tmp_path, folder)
    cell = openpyxl.load_workbook(exported)["Questions"]["D2"]
    assert cell.value == '=HYPERLINK("http://x")'
    assert cell.data_type == "s"
    assert fs.read_form_sheet(exported, folder).content_hash == form.content_hash


def test_import_reads_blank_cells_as_defaults_and_blank_section_as_the_one_above(tmp_path, folder):
    path = tmp_path / "new.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Form"
    for row in (("field", "value"), ("id", "typed"), ("title", "Typed in Excel"), ("area", "Testing"),
                ("scale", "g3"), ("grading", "no_share: [{up_to: 0.2, grade: good}, {otherwise: inadequate}]")):
        sheet.append(row)
    questions = workbook.create_sheet("Questions")
    questions.append(["Section", "Question id", "Type", "Text", "Condition", "Options", "Min"])
    questions.append(["visit", "a", "Yes/No", "Visited", None, None, None])
    questions.append([None, "b", "choice", "How", "a = no", "Phone; In person", None])
    questions.append([None, "c", "number", "Days", "b IN (phone)", None, 0])
    workbook.save(path)
    form = fs.read_form_sheet(path, folder)
    assert [s.id for s in form.sections] == ["visit"]
    assert form.sections[0].title == "Visit"
    assert form.question("a").type == "yes_no"
    assert form.question("b").show_if == forms.Equals("a", "no")
    assert [o.id for o in form.question("b").options] == ["phone", "in_person"]
    assert form.question("c").min == 0
    assert form.grading.no_share[0] == forms.NoShareBand(0.2, "good")


BAD_CELLS = [
    ("Questions", "G4", "q1 = ", "row 4, column G (condition)", "expected a value"),
    ("Questions", "G4", "q1 = no AND (q2 = no", "row 4, column G (condition)", "expected ')'"),
    ("Questions", "G4", "q9 = no", "row 4, column G (condition)", "'q9'"),
    ("Questions", "G4", "q1 = sometimes", "row 4, column G (condition)", "never be an answer"),
    ("Questions", "F3", "perhaps", "row 3, column F (required)", "write yes or no"),
    ("Questions", "C5", "checkbox", "row 5, column C (type)", "is not one of"),
    ("Questions", "B3", "q1", "row 3, column B (question id)", "already used"),
    ("Questions", "K2", "bogus_theme", "row 2, column K (themes)", "no theme 'bogus_theme'"),
    ("Questions", "O7", "many", "row 7, column O (min)", "write a number"),
    ("Form", "B6", "marks", "row 6, column B (scale)", "no scale 'marks'"),
    ("Form", "B9", "no_share: [{up_to: 0.5, grade: good}, {otherwise: poor}]", "row 9, column B (grading)",
     "grading.no_share[0].grade"),
]


@pytest.mark.parametrize("sheet, cell, value, where, what", BAD_CELLS)
def test_bad_cell_error_names_sheet_row_and_column(tmp_path, folder, basic_form, sheet, cell, value, where, what):
    exported = _export(basic_form, tmp_path, folder)
    _edit(exported, sheet, cell, value)
    with pytest.raises(QattError) as err:
        fs.read_form_sheet(exported, folder)
    message = str(err.value)
    assert f"form.xlsx, sheet {sheet}, {where}" in message
    assert what in message


@pytest.fixture
def basic_form(tmp_path):
    return load_text(tmp_path, BASIC_FORM)


def test_not_a_workbook_is_a_clear_error(tmp_path):
    path = tmp_path / "form.xlsx"
    path.write_text("not a workbook")
    with pytest.raises(QattError, match="not a readable .xlsx workbook"):
        fs.read_form_sheet(path)


@pytest.mark.parametrize("text, expected", [
    ("c3 = yes", {"question": "c3", "equals": "yes"}),
    ("m2 = no OR m3 = no", {"any": [{"question": "m2", "equals": "no"}, {"question": "m3", "equals": "no"}]}),
    ("x IN (a, b)", {"question": "x", "in": ["a", "b"]}),
    ("x in (a,b)", {"question": "x", "in": ["a", "b"]}),
    ("x ANSWERED", {"question": "x", "answered": True}),
    ("x NOT ANSWERED", {"not": {"question": "x", "answered": True}}),
    ("x != yes", {"not": {"question": "x", "equals": "yes"}}),
    ("x == 'two words'", {"question": "x", "equals": "two words"}),
    ("NOT (a = yes AND b = no)", {"not": {"all": [{"question": "a", "equals": "yes"}, {"question": "b", "equals": "no"}]}}),
    ("a = yes OR b = no AND c = na", {"any": [{"question": "a", "equals": "yes"},
                                              {"all": [{"question": "b", "equals": "no"}, {"question": "c", "equals": "na"}]}]}),
])
def test_condition_syntax_parses(text, expected):
    assert fs.parse_condition(text) == expected


@pytest.mark.parametrize("text, problem", [
    ("", "expected a question id"), ("x =", "expected a value"), ("x IN (a, b", "expected ')'"),
    ("x maybe", "expected =, !=, IN"), ("(x = yes", "expected ')'"), ("x = yes y = no", "join conditions with AND or OR"),
    ('x = "unclosed', "unclosed quote"),
])
def test_condition_syntax_errors_say_where(text, problem):
    with pytest.raises(fs.ConditionSyntaxError, match="at character"):
        fs.parse_condition(text)
    with pytest.raises(fs.ConditionSyntaxError) as err:
        fs.parse_condition(text)
    assert problem in str(err.value)


def test_formatted_conditions_parse_back_to_the_same_logic(tmp_path):
    text = BASIC_FORM + """\
      - id: nested
        type: yes_no
        text: Nested
        show_if:
          not:
            all:
              - {any: [{question: q1, equals: "no"}, {question: q2, in: ["no", "yes"]}]}
              - {not: {question: days, answered: true}}
              - {question: days, equals: 5}
"""
    form = load_text(tmp_path, text)
    formatted = fs.format_condition(form.question("nested").show_if)
    assert formatted == "NOT ((q1 = no OR q2 IN (no, yes)) AND NOT days ANSWERED AND days = 5)"
    definition = fs.form_definition(form)
    definition["sections"][0]["questions"][-1]["show_if"] = fs.parse_condition(formatted)
    rebuilt = forms.build_form(definition, forms.load_catalogue(tmp_path / "forms"), "test", forms.dotted)
    assert rebuilt.content_hash == form.content_hash


def test_import_needs_a_qa_lead(sqlite_db, tmp_path, folder, basic_form):
    exported = _export(basic_form, tmp_path, folder)
    _edit(exported, "Questions", "D3", "Changed by a reviewer")
    before = (folder / "basic.yaml").read_text()
    users.ensure_user("reviewer1", "reviewer")
    with pytest.raises(PermissionDenied, match="change a form"):
        fs.import_form_sheet(exported, "reviewer1", forms_dir=folder)
    assert (folder / "basic.yaml").read_text() == before
    assert m.FormVersion.select().count() == 0


def test_import_writes_yaml_and_registers_a_new_version(sqlite_db, tmp_path, folder, basic_form):
    exported = _export(basic_form, tmp_path, folder)
    _edit(exported, "Questions", "D3", "Second check, reworded")
    users.ensure_user("lead", "qa_lead")
    form, version, target = fs.import_form_sheet(exported, "lead", out=folder / "basic_v2.yaml", forms_dir=folder)
    assert target == folder / "basic_v2.yaml"
    assert forms.load_form(target, folder).content_hash == form.content_hash == version.content_hash
    assert form.question("q2").text == "Second check, reworded"
    assert form.content_hash != basic_form.content_hash
    assert m.FormVersion.select().count() == 1
