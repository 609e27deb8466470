"""Loading, validating and versioning grading forms; answers and visibility."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import yaml

from qatt.reviewing import form_loading, forms
from qatt.trust import audit
from qatt.errors import QattError
from qatt.storage import models as m
from tests.unit.forms_helpers import BASIC_FORM, forms_dir, load_text, write_form

ALL_TYPES_FORM = """\
id: all_types
title: Every question type
area: Testing
scale: g3
sections:
  - id: s
    title: S
    questions:
      - {id: yn, type: yes_no, text: Yes or no}
      - {id: ynna, type: yes_no_na, text: Yes no or na}
      - {id: grade, type: grade, scale: peel, text: Grade}
      - id: choice
        type: choice
        text: Choice
        options: [{id: phone, label: Phone}, {id: in_person, label: In person}]
      - {id: multi, type: multi, text: Multi, options: [Red, Green, Blue]}
      - {id: tags, type: themes, text: Themes, options: [supervision, victim_care]}
      - {id: days, type: number, text: Days, unit: days, min: 0, max: 28}
      - {id: when, type: date, text: When}
      - {id: notes, type: text, text: Notes, multiline: true}
"""


@pytest.fixture
def all_types(tmp_path):
    return load_text(tmp_path, ALL_TYPES_FORM, "all_types")


@pytest.fixture
def basic(tmp_path):
    return load_text(tmp_path, BASIC_FORM)


# ------------------------------------------------------------------------------------ loading

def test_loaded_form_exposes_sections_questions_and_defaults(basic):
    assert [q.id for q in basic.questions()] == ["q1", "q2", "q3", "q3_reason", "q4", "days"]
    assert basic.scale.ids() == ["compliant", "partially_compliant", "non_compliant"]
    assert basic.question("q1").required is True
    assert basic.question("q3_reason").required is True
    assert basic.question("q4").critical is True
    assert basic.question("days").unit == "days"
    assert basic.question("q3").show_if == forms.Any_((forms.Equals("q1", "no"), forms.Equals("q2", "no")))
    assert len(basic.content_hash) == 64


def test_text_questions_are_optional_unless_marked_required(tmp_path):
    form = load_text(tmp_path, ALL_TYPES_FORM, "all_types")
    assert form.question("notes").required is False
    assert form.question("yn").required is True


def test_plain_option_labels_get_slug_ids(all_types):
    assert [(o.id, o.label) for o in all_types.question("multi").options] == [("red", "Red"), ("green", "Green"), ("blue", "Blue")]


def test_themes_question_offers_theme_labels_from_the_theme_list(all_types):
    assert [(o.id, o.label) for o in all_types.question("tags").options] == [
        ("supervision", "Supervision and supervisory oversight"), ("victim_care", "Victim care")]


def test_unquoted_yes_and_no_stay_answer_words_not_booleans(basic):
    # YAML 1.1 would read `equals: no` as false; the form loader keeps the word.
    assert basic.question("q3").show_if.conditions[0].value == "no"


def test_scale_rank_label_and_lowest(all_types):
    peel = all_types.question("grade").scale
    assert peel.rank("outstanding") == 0
    assert peel.rank("inadequate") == 3
    assert peel.rank("ungraded") is None
    assert peel.lowest() == "inadequate"
    assert peel.label("carried_over") == "Carried over"
    assert "ungraded" in peel.ids()


def test_include_inserts_fragment_sections(tmp_path):
    folder = forms_dir(tmp_path)
    (folder / "_fragments").mkdir()
    (folder / "_fragments" / "common.yaml").write_text(
        "sections:\n  - id: common\n    title: Common\n    questions:\n      - {id: c1, type: yes_no, text: Ethnicity recorded}\n")
    path = write_form(folder, BASIC_FORM + "  - include: common\n")
    form = forms.load_form(path, folder)
    assert [s.id for s in form.sections] == ["main", "common"]
    assert form.question("c1").text == "Ethnicity recorded"


def test_editing_a_fragment_changes_the_hash_of_forms_using_it(tmp_path):
    folder = forms_dir(tmp_path)
    (folder / "_fragments").mkdir()
    fragment = folder / "_fragments" / "common.yaml"
    fragment.write_text("- id: common\n  title: Common\n  questions:\n    - {id: c1, type: yes_no, text: Old}\n")
    path = write_form(folder, BASIC_FORM + "  - include: common\n")
    before = forms.load_form(path, folder).content_hash
    fragment.write_text("- id: common\n  title: Common\n  questions:\n    - {id: c1, type: yes_no, text: New}\n")
    assert forms.load_form(path, folder).content_hash != before


def test_an_unchanged_forms_folder_is_not_parsed_again_but_any_edit_is_seen(tmp_path, monkeypatch):
    folder = forms_dir(tmp_path)
    (folder / "_fragments").mkdir()
    fragment = folder / "_fragments" / "common.yaml"
    fragment.write_text("- id: common\n  title: Common\n  questions:\n    - {id: c1, type: yes_no, text: Old}\n")
    write_form(folder, BASIC_FORM + "  - include: common\n")
    parsed = []
    real_load_form = forms.load_form
    monkeypatch.setattr(form_loading, "load_form", lambda path, **kw: parsed.append(path.name) or real_load_form(path, **kw))

    first = forms.load_forms(folder)
    again = forms.load_forms(folder)
    assert parsed == ["basic.yaml"] and again == first
    again.clear()  # each caller gets its own dict
    assert list(forms.load_forms(folder)) == ["basic"]

    fragment.write_text("- id: common\n  title: Common\n  questions:\n    - {id: c1, type: yes_no, text: New}\n")
    assert forms.load_forms(folder)["basic"].question("c1").text == "New"  # same length, same second: still seen
    write_form(folder, BASIC_FORM.replace("Basic test form", "Renamed form"))
    assert forms.load_forms(folder)["basic"].title == "Renamed form"
    assert parsed == ["basic.yaml"] * 3


def test_error_inside_a_fragment_names_the_fragment_file(tmp_path):
    folder = forms_dir(tmp_path)
    (folder / "_fragments").mkdir()
    (folder / "_fragments" / "common.yaml").write_text(
        "sections:\n  - id: common\n    title: Common\n    questions:\n"
        "      - {id: c1, type: yes_no, text: X, themes: [nonsense]}\n")
    path = write_form(folder, BASIC_FORM + "  - include: common\n")
    with pytest.raises(QattError) as err:
        forms.load_form(path, folder)
    assert "common.yaml: sections[0].questions[0].themes[0]" in str(err.value)


BROKEN = [
    ("yaml_syntax", ("title: Basic test form", "title: [unclosed"), "line 3", "YAML syntax error"),
    ("duplicate_yaml_key", ("area: Testing", "area: Testing\narea: Again"), "line", "appears twice"),
    ("unknown_key", ("text: First check,", "text: First check, colour: red,"), "sections[0].questions[0]", "colour"),
    ("bad_id", ("{id: q2,", "{id: Q2,"), "sections[0].questions[1].id", "not a valid id"),
    ("unknown_condition_question", ("{question: q2, equals: no}", "{question: q9, equals: no}"),
     "sections[0].questions[2].show_if.any[1].question", "'q9'"),
    ("impossible_condition_value", ("{question: q1, equals: no}", "{question: q1, equals: maybe}"),
     "sections[0].questions[2].show_if.any[0].equals", "never be an answer"),
    ("duplicate_question_id", ("{id: q2,", "{id: q1,"), "sections[0].questions[1].id", "already used"),
    ("unknown_scale", ("scale: compliance", "scale: marks"), ": scale", "no scale 'marks'"),
    ("unknown_theme", ("[supervision]", "[bogus]"), "sections[0].questions[0].themes[0]", "no theme 'bogus'"),
    ("unknown_include", (None, "  - include: nothing\n"), "sections[1].include", "no fragment 'nothing'"),
    ("show_if_cycle", ("text: First check,", "text: First check, show_if: {question: q3, equals: yes},"),
     "show_if", "cycle"),
    ("choice_without_options", (None, "      - {id: mode, type: choice, text: Mode}\n"),
     "sections[0].questions[6]", "needs 'options:'"),
    ("grade_without_scale", (None, "      - {id: g, type: grade, text: Grade}\n"), "sections[0].questions[6]", "needs 'scale:'"),
    ("key_for_wrong_type", ("{id: q2, type: yes_no, text: Second check}", "{id: q2, type: yes_no, text: Second check, unit: days}"),
     "sections[0].questions[1].unit", "only applies to number"),
    ("grading_grade_not_on_scale", ("grade: compliant}", "grade: good}"), "grading.no_share[0].grade", "'good' is not a grade"),
    ("missing_text", ("{id: q2, type: yes_no, text: Second check}", "{id: q2, type: yes_no}"),
     "sections[0].questions[1]", "'text' is a required property"),
    ("min_above_max", ("min: 0, max: 365", "min: 10, max: 5"), "sections[0].questions[5].min", "greater than max"),
]


@pytest.mark.parametrize("change, where, what", [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_broken_form_error_names_file_path_and_problem(tmp_path, change, where, what):
    old, new = change
    text = BASIC_FORM.replace(old, new, 1) if old else BASIC_FORM + new
    assert text != BASIC_FORM
    folder = forms_dir(tmp_path)
    path = write_form(folder, text)
    with pytest.raises(QattError) as err:
        forms.load_form(path, folder)
    message = str(err.value)
    assert str(path) in message
    assert where in message
    assert what in message


def test_two_files_with_the_same_id_and_version_are_refused(tmp_path):
    folder = forms_dir(tmp_path)
    write_form(folder, BASIC_FORM, "basic")
    write_form(folder, BASIC_FORM, "basic_copy")
    with pytest.raises(QattError, match="both define the form basic version 1.0"):
        forms.load_forms(folder)


def test_load_forms_keeps_the_highest_version_per_id(tmp_path):
    folder = forms_dir(tmp_path)
    write_form(folder, BASIC_FORM, "basic")
    write_form(folder, BASIC_FORM.replace('version: "1.0"', 'version: "1.10"'), "basic_new")
    write_form(folder, BASIC_FORM.replace('version: "1.0"', 'version: "1.9"'), "basic_mid")
    assert forms.load_forms(folder)["basic"].version == "1.10"


# ------------------------------------------------------------------------------------ hashing

def test_hash_ignores_key_order_whitespace_and_spelled_out_defaults(tmp_path, basic):
    raw = yaml.safe_load(BASIC_FORM.replace("equals: no", "equals: 'no'"))
    raw["sections"][0]["questions"][0]["required"] = True  # the default, spelled out
    rewritten = yaml.safe_dump(raw, sort_keys=True, default_flow_style=False, indent=4)
    assert rewritten != BASIC_FORM
    other = load_text(tmp_path / "other", rewritten)
    assert other.content_hash == basic.content_hash


def test_hash_changes_when_question_text_changes(tmp_path, basic):
    changed = load_text(tmp_path / "other", BASIC_FORM.replace("First check", "First check (edited)"))
    assert changed.content_hash != basic.content_hash


def test_content_rebuilds_the_same_form(basic):
    rebuilt = forms.form_from_content(basic.content)
    assert rebuilt.content_hash == basic.content_hash
    assert rebuilt.sections == basic.sections
    assert rebuilt.grading == basic.grading


# ------------------------------------------------------------------------------------ versions

def test_register_is_get_or_create_by_hash_with_one_audit_event(db, basic):
    first = forms.register_form_version(basic, "lead")
    again = forms.register_form_version(basic, "lead")
    assert first.id == again.id
    assert m.FormVersion.select().count() == 1
    events = [e for e in audit.events() if e.object_type == "form_version"]
    assert len(events) == 1
    assert events[0].details["form_id"] == "basic"


def test_old_version_still_renders_after_the_file_changes(db, tmp_path):
    folder = forms_dir(tmp_path)
    path = write_form(folder, BASIC_FORM)
    old = forms.register_form_version(forms.load_form(path, folder), "lead")
    write_form(folder, BASIC_FORM.replace("First check", "First check reworded"))
    new = forms.register_form_version(forms.load_form(path, folder), "lead")
    assert new.id != old.id
    stored = forms.form_from_version(m.FormVersion.get_by_id(old.id))
    assert stored.question("q1").text == "First check"
    assert stored.content_hash == old.content_hash


def test_tampered_stored_version_is_refused(sqlite_db, basic):
    version = forms.register_form_version(basic, "lead")
    content = dict(version.content, title="Tampered")
    m.FormVersion.update(content=content).where(m.FormVersion.id == version.id).execute()
    with pytest.raises(QattError, match="does not match its hash"):
        forms.form_from_version(m.FormVersion.get_by_id(version.id))


def test_sync_builtin_forms_registers_every_file(sqlite_db, tmp_path):
    folder = forms_dir(tmp_path)
    write_form(folder, BASIC_FORM, "basic")
    write_form(folder, BASIC_FORM.replace("id: basic", "id: second"), "second")
    versions = forms.sync_builtin_forms("lead", folder)
    assert sorted(v.form_id for v in versions) == ["basic", "second"]


# ------------------------------------------------------------------------------------ answers

VALID_ANSWERS = [
    ("yn", "yes", "yes"), ("yn", " No ", "no"), ("yn", True, "yes"), ("yn", False, "no"),
    ("ynna", "na", "na"), ("ynna", "N/A", "na"),
    ("grade", "good", "good"), ("grade", "Requires improvement", "requires_improvement"), ("grade", "ungraded", "ungraded"),
    ("choice", "phone", "phone"), ("choice", "In person", "in_person"),
    ("multi", ["blue", "red"], ["red", "blue"]), ("multi", "green, Red", ["red", "green"]),
    ("tags", {"victim_care": "strength", "supervision": "weakness"}, {"supervision": "weakness", "victim_care": "strength"}),
    ("days", 3, 3), ("days", "4", 4), ("days", 2.0, 2), ("days", "2.5", 2.5),
    ("when", "2024-03-01", "2024-03-01"), ("when", dt.date(2024, 3, 1), "2024-03-01"),
    ("notes", "Anything at all", "Anything at all"),
    ("yn", None, None), ("notes", "   ", None), ("multi", [], None), ("tags", {}, None),
]


@pytest.mark.parametrize("qid, value, expected", VALID_ANSWERS)
def test_valid_answers_are_normalised(all_types, qid, value, expected):
    assert forms.validate_answer(all_types.question(qid), value) == expected


INVALID_ANSWERS = [
    ("yn", "na", "answer yes / no"), ("yn", "maybe", "answer yes / no"), ("ynna", 7, "answer yes / no / na"),
    ("grade", "excellent", "is not one of"), ("choice", "email", "is not one of"), ("multi", ["red", "pink"], "is not one of"),
    ("multi", 5, "expected a list"), ("tags", {"golden_hour": "strength"}, "not a theme offered here"),
    ("tags", {"victim_care": "good"}, "strength or weakness"), ("tags", ["victim_care"], "expected {theme"),
    ("days", -1, "below the minimum of 0 days"), ("days", 29, "above the maximum of 28 days"),
    ("days", "soon", "expected a number"), ("days", True, "not yes/no"), ("days", float("nan"), "expected a number"),
    ("when", "01/03/2024", "YYYY-MM-DD"), ("notes", 12, "expected text"),
]


@pytest.mark.parametrize("qid, value, problem", INVALID_ANSWERS)
def test_invalid_answers_raise_an_error_naming_the_question(all_types, qid, value, problem):
    with pytest.raises(QattError) as err:
        forms.validate_answer(all_types.question(qid), value)
    assert f"Question {qid} (" in str(err.value)
    assert problem in str(err.value)


# ------------------------------------------------------------------------------------ visibility

CONDITIONS_FORM = """\
id: conditions
title: Conditions
area: Testing
scale: g3
sections:
  - id: s
    title: S
    questions:
      - {id: a, type: yes_no_na, text: A}
      - {id: b, type: choice, text: B, options: [One, Two, Three]}
      - {id: picks, type: multi, text: Picks, options: [Red, Green]}
      - {id: if_equals, type: yes_no, text: E, show_if: {question: a, equals: yes}}
      - {id: if_in, type: yes_no, text: I, show_if: {question: b, in: [one, three]}}
      - {id: if_answered, type: yes_no, text: D, show_if: {question: b, answered: true}}
      - {id: if_all, type: yes_no, text: L, show_if: {all: [{question: a, equals: yes}, {question: b, equals: two}]}}
      - {id: if_any, type: yes_no, text: Y, show_if: {any: [{question: a, equals: "no"}, {question: b, equals: two}]}}
      - {id: if_not, type: yes_no, text: N, show_if: {not: {question: a, equals: na}}}
      - {id: if_multi, type: yes_no, text: M, show_if: {question: picks, equals: green}}
"""


@pytest.mark.parametrize("qid, shown_for, hidden_for", [
    ("if_equals", {"a": "yes"}, {"a": "no"}),
    ("if_in", {"b": "three"}, {"b": "two"}),
    ("if_answered", {"b": "two"}, {}),
    ("if_all", {"a": "yes", "b": "two"}, {"a": "yes", "b": "one"}),
    ("if_any", {"b": "two"}, {"a": "yes", "b": "one"}),
    ("if_not", {}, {"a": "na"}),
    ("if_multi", {"picks": ["red", "green"]}, {"picks": ["red"]}),
])
def test_each_condition_kind_shows_and_hides(tmp_path, qid, shown_for, hidden_for):
    form = load_text(tmp_path, CONDITIONS_FORM, "conditions")
    question = form.question(qid)
    assert forms.is_visible(question, shown_for)
    assert not forms.is_visible(question, hidden_for)


def test_hidden_questions_are_not_required(basic):
    missing = {q.id for q in forms.missing_required(basic, {"q1": "yes", "q2": "yes"})}
    assert missing == {"q4"}


def test_shown_question_becomes_required(basic):
    missing = [q.id for q in forms.missing_required(basic, {"q1": "no", "q2": "yes", "q4": "yes"})]
    assert missing == ["q3"]
    missing = [q.id for q in forms.missing_required(basic, {"q1": "no", "q2": "yes", "q3": "yes", "q4": "yes"})]
    assert missing == ["q3_reason"]


def test_hiding_cascades_to_questions_that_depend_on_a_hidden_one(basic):
    # q3 keeps a stale "yes" after q1 and q2 changed to yes: q3 is hidden, so q3_reason is too.
    answers = {"q1": "yes", "q2": "yes", "q3": "yes", "q4": "yes"}
    visible = [q.id for q in forms.visible_questions(basic, answers)]
    assert visible == ["q1", "q2", "q4", "days"]
    assert "q3" not in forms.effective_answers(basic, answers)


def test_condition_on_a_later_question_is_allowed(tmp_path):
    text = BASIC_FORM.replace("{id: q1, type: yes_no, text: First check,",
                              "{id: q1, type: yes_no, text: First check, show_if: {question: q4, answered: true},")
    form = load_text(tmp_path, text)
    assert [q.id for q in forms.visible_questions(form, {})] == ["q2", "q4", "days"]


# ------------------------------------------------------------------------------------ CLI

def _cli(capsys, *argv):
    from qatt import cli

    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_list_shows_every_form_with_hash_and_question_count(tmp_path, capsys):
    folder = forms_dir(tmp_path)
    form = forms.load_form(write_form(folder, BASIC_FORM), folder)
    code, out, _ = _cli(capsys, "forms", "list", "--json", "--forms-dir", str(folder))
    assert code == 0
    assert json.loads(out) == [{"id": "basic", "title": "Basic test form", "area": "Testing", "version": "1.0",
                                "hash": form.content_hash, "questions": 6, "file": str(folder / "basic.yaml")}]


def test_cli_check_exits_2_and_names_the_problem_for_a_broken_form(tmp_path, capsys):
    folder = forms_dir(tmp_path)
    write_form(folder, BASIC_FORM, "basic")
    write_form(folder, BASIC_FORM.replace("id: basic", "id: broken").replace("[supervision]", "[bogus]"), "broken")
    code, out, err = _cli(capsys, "forms", "check", str(folder), "--json")
    assert code == 2
    report = json.loads(out)
    assert [r["ok"] for r in report["forms"]] == [True, False]
    assert "broken.yaml: sections[0].questions[0].themes[0]" in report["forms"][1]["error"]
    assert "1 of 2 form files are broken" in err
    code, _, _ = _cli(capsys, "forms", "check", str(folder / "basic.yaml"))
    assert code == 0


def test_cli_export_then_import_registers_the_form(tmp_path, capsys, training_db_path):
    from qatt.trust import users
    from qatt.storage.db import open_database

    folder = forms_dir(tmp_path)
    original = forms.load_form(write_form(folder, BASIC_FORM), folder)
    db_url = str(training_db_path)
    database = open_database(db_url)
    users.ensure_user("lead", "qa_lead")
    database.close()
    sheet = tmp_path / "basic.xlsx"
    code, _, _ = _cli(capsys, "forms", "export", "basic", str(sheet), "--forms-dir", str(folder))
    assert code == 0 and sheet.exists()
    out_file = tmp_path / "imported.yaml"
    code, out, _ = _cli(capsys, "forms", "import", str(sheet), "--out", str(out_file), "--forms-dir", str(folder),
                        "--db", db_url, "--user", "lead", "--json")
    assert code == 0
    assert json.loads(out)["hash"] == original.content_hash
    assert forms.load_form(out_file, folder).content_hash == original.content_hash
    code, _, err = _cli(capsys, "forms", "export", "nothing", str(sheet), "--forms-dir", str(folder))
    assert code == 2 and "no form 'nothing'" in err
