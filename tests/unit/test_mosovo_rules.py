"""The MOSOVO DI check's rules that cannot be dodged, and header answers filled from the extract.

M4 (exception ratified) cannot be N/A when M2 or M3 is "no"; a "no" on M4 or M13 makes the check
non-compliant; M19 is recorded but not counted; compliance counts an item only where it applied.
"""

import pytest

from qatt.reviewing import forms, grading, prefill, reviews
from qatt.errors import QattError
from qatt.storage import models as m
from tests.factories import make_population, make_sample, make_user, sample_items
from tests.unit.forms_helpers import load_text

FORM_ID = "mosovo_di_check"


@pytest.fixture(scope="module")
def form():
    return forms.load_forms()[FORM_ID]


def complete(form, **given):
    """Every visible question answered: yes, the first option, a number or a note; `given` wins."""
    defaults = {"yes_no": "yes", "yes_no_na": "yes", "number": 0, "date": "2024-04-10", "grade": "compliant",
                "themes": {"supervision": "strength"}, "text": "note"}
    answers = dict(given)
    while True:
        todo = [q for q in forms.visible_questions(form, answers) if q.id not in answers]
        if not todo:
            return answers
        for q in todo:
            answers[q.id] = defaults[q.type] if q.type in defaults else q.options[0].id


def test_every_item_yes_is_compliant_and_a_no_on_m13_makes_it_non_compliant(form):
    assert grading.suggest_grade(form, complete(form)).grade == "compliant"
    breach_not_investigated = complete(form, m13_breach="yes", m13="no")
    suggestion = grading.suggest_grade(form, breach_not_investigated)
    assert suggestion.grade == "non_compliant"
    assert any("“Breach of an SHPO, SRO, licence or notification investigated” answered No" in r
               for r in suggestion.reasons)


def test_an_unratified_exception_makes_the_check_non_compliant(form):
    assert grading.suggest_grade(form, complete(form, m2="no", m4="no")).grade == "non_compliant"
    assert grading.suggest_grade(form, complete(form, m2="no", m4="yes")).grade == "compliant"


def test_m4_na_after_an_announced_visit_is_refused_in_the_reviewers_words(form):
    refused = grading.refused_na(form, complete(form, m2="no", m4="na"))
    assert [(q.id, reasons) for q, reasons in refused] == [("m4", ["“Unannounced” is No"])]
    both = grading.refused_na(form, complete(form, m2="no", m3="no", m4="na"))
    assert both[0][1] == ["“Unannounced” is No", "“Double-crewed” is No"]
    assert grading.refused_na(form, complete(form, m13_breach="no", m13="na")) == []
    assert [q.id for q, _ in grading.refused_na(form, complete(form, m13_breach="yes", m13="na"))] == ["m13"]


def test_m19_is_recorded_but_not_counted_toward_compliance(form):
    with_recording = grading.compliance(form, complete(form, m19="yes"))
    without = grading.compliance(form, complete(form, m19="no"))
    assert with_recording.as_dict() == without.as_dict()
    assert without.no == 0 and grading.suggest_grade(form, complete(form, m19="no")).grade == "compliant"
    # The breach question is a fact about the case, not a compliance item either.
    assert grading.compliance(form, complete(form, m13_breach="no", m13="na")).no == 0


def test_ratification_is_counted_over_the_exceptions_with_refused_na_shown(form):
    # Reviews as they were stored before the rule: three exceptions ratified, one left N/A, and one
    # visit with no exception (M4 not asked, so it does not count at all).
    stored = [complete(form, m2="no", m4="yes"), complete(form, m3="no", m4="yes"),
              complete(form, m2="no", m4="yes"), complete(form, m2="no", m4="na"), complete(form)]
    by_id = {item.question_id: item for item in grading.item_compliance((form, a) for a in stored)}
    ratified = by_id["m4"]
    assert (ratified.yes, ratified.no, ratified.na, ratified.na_refused) == (3, 0, 0, 1)
    assert ratified.counted == 4 and ratified.rate == 0.75  # 3 of the 4 exceptions, not 3 of 3
    # An N/A that is allowed stays out of the count.
    m13 = grading.item_compliance([(form, complete(form, m13_breach="no", m13="na"))])
    assert {i.question_id: (i.na, i.counted) for i in m13}["m13"] == (1, 0)


# --------------------------------------------------------------------------- through the review engine

@pytest.fixture
def mosovo_item(db):
    make_user("di.jones", "reviewer", display_name="DI Jones")
    population = make_population(3, area="Sex offender management", officer="PC Smith",
                                 extra=lambda i: {"MAPPA level": "Level 2", "MAPPA category": "1",
                                                  "Date of visit": "03/04/2024"})
    m.Population.update(mapping={"reference": "ViSOR ref", "officer": "Offender manager"},
                        extra_columns=["MAPPA level", "MAPPA category", "Date of visit"]).execute()
    return sample_items(make_sample(population, form_id=FORM_ID, period="2024-04"))[0]


def test_submitting_m2_no_with_m4_na_is_refused_naming_the_questions(mosovo_item, form):
    review = reviews.start_review(mosovo_item.id, "di.jones")
    answers = complete(form, **reviews.answers_of(review), m2="no", m4="na")
    review = reviews.save_answers(review.id, answers, "di.jones", review.version)
    with pytest.raises(reviews.RefusedNotApplicable) as refused:
        reviews.submit_review(review.id, "di.jones", review.version)
    message = str(refused.value)
    assert "“A supervisor ratified the exception with a recorded rationale” cannot be N/A when “Unannounced” is No" \
        in message
    assert "m4" not in message and "m2" not in message
    assert reviews.get_review(review.id).status == "draft"
    review = reviews.save_answers(review.id, {"m4": "no"}, "di.jones", review.version)
    submitted = reviews.submit_review(review.id, "di.jones", review.version)
    assert submitted.status == "submitted" and submitted.grade == submitted.suggested_grade == "non_compliant"


def test_a_review_starts_with_its_header_filled_from_the_extract_and_marked(mosovo_item):
    review = reviews.start_review(mosovo_item.id, "di.jones")
    answers = reviews.answers_of(review)
    assert answers["visor_ref"] == mosovo_item.case.reference
    assert answers["mappa_level"] == "level2" and answers["mappa_category"] == "cat1"
    assert answers["offender_manager"] == "PC Smith" and answers["visit_date"] == "2024-04-03"
    assert answers["checked_by"] == "DI Jones" and answers["selection_method"] == "random"
    view = reviews.get_review_view(review.id, "di.jones")
    assert view.origins["visor_ref"] == "From the extract (ViSOR ref)"
    assert view.origins["mappa_level"] == "From the extract (MAPPA level)"
    assert view.origins["selection_method"] == "Filled in by QATT from the sample"
    # Filling in is audited, naming where each answer came from.
    event = (m.AuditEvent.select().where(m.AuditEvent.object_type == "review", m.AuditEvent.action == "alteration")
             .order_by(m.AuditEvent.id).first())
    assert event.details["prefilled_from"]["visor_ref"] == "extract:ViSOR ref"
    assert event.details["answers"]["mappa_level"] == {"old": None, "new": "level2"}


def test_a_prefilled_answer_stays_editable_and_loses_its_mark_when_changed(mosovo_item):
    review = reviews.start_review(mosovo_item.id, "di.jones")
    review = reviews.save_answers(review.id, {"mappa_level": "level3", "visor_ref": mosovo_item.case.reference},
                                  "di.jones", review.version)
    view = reviews.get_review_view(review.id, "di.jones")
    assert view.answers["mappa_level"] == "level3"
    assert "mappa_level" not in view.origins and "visor_ref" in view.origins  # an unchanged answer keeps it
    last = (m.AuditEvent.select().where(m.AuditEvent.object_type == "review").order_by(m.AuditEvent.id.desc()).first())
    assert last.details["answers"] == {"mappa_level": {"old": "level2", "new": "level3"}}


def test_an_extract_value_that_fits_no_option_is_left_for_the_reviewer(form):
    level = form.question("mappa_level")
    assert prefill.fit_answer(level, "2") == "level2" and prefill.fit_answer(level, "MAPPA 3") == "level3"
    assert prefill.fit_answer(level, "Level 4") is None and prefill.fit_answer(level, "unknown") is None
    risk = form.question("risk_level")
    assert prefill.fit_answer(risk, "Very High") == "very_high" and prefill.fit_answer(risk, "HIGH") == "high"
    assert prefill.fit_answer(form.question("visit_date"), "31/13/2024") is None


# --------------------------------------------------------------------------- the authoring format

RULES_FORM = """
id: basic
title: Rules
area: Testing
scale: compliance
grading: {no_share: [{up_to: 0.5, grade: compliant}, {otherwise: non_compliant}]}
sections:
  - id: s
    title: S
    questions:
      - {id: q1, type: yes_no, text: Exception}
      - id: q2
        type: yes_no_na
        text: Ratified
        na_not_allowed_if: {question: q1, equals: "no"}
      - {id: q3, type: choice, text: Supervision, options: [Effective, Weak, None recorded],
         critical_answers: [none_recorded]}
      - {id: q4, type: yes_no, text: Recorded only, counts_toward_compliance: false}
"""


def test_rule_keys_load_and_round_trip_through_the_stored_content(tmp_path):
    form = load_text(tmp_path, RULES_FORM)
    assert form.question("q2").na_refused({"q1": "no"}) and not form.question("q2").na_refused({"q1": "yes"})
    assert form.question("q3").failing_answers == ("none_recorded",)
    assert forms.form_from_content(form.content).content_hash == form.content_hash
    suggestion = grading.suggest_grade(form, {"q1": "yes", "q2": "yes", "q3": "none_recorded", "q4": "no"})
    assert suggestion.grade == "non_compliant" and "“Supervision” answered None recorded" in suggestion.reasons[0]
    assert grading.compliance(form, {"q1": "yes", "q2": "yes", "q3": "effective", "q4": "no"}).no == 0


@pytest.mark.parametrize("change, problem", [
    ("critical_answers: [none_recorded]", "can never be an answer"),
    ("na_not_allowed_if: {question: q1, equals: 'no'}", "only applies to yes_no_na questions"),
    ("prefill: {case_field: shoe_size}", "prefill"),
])
def test_bad_rule_keys_are_refused_with_the_place(tmp_path, change, problem):
    text = RULES_FORM.replace("{id: q4, type: yes_no, text: Recorded only, counts_toward_compliance: false}",
                              "{id: q4, type: yes_no, text: Recorded only, " + change + "}")
    with pytest.raises(QattError, match=problem):
        load_text(tmp_path, text)


def test_a_review_template_comes_with_the_header_filled_and_keeps_the_mark_on_import(mosovo_item, tmp_path):
    from openpyxl import load_workbook

    from qatt.reviewing import review_sheets

    path = tmp_path / "checks.xlsx"
    review_sheets.export_template(mosovo_item.sample_id, path, actor="di.jones")
    sheet = load_workbook(path)["Reviews"]
    keys = {sheet.cell(2, col).value: col for col in range(1, sheet.max_column + 1)}
    assert sheet.cell(3, keys["visor_ref"]).value == mosovo_item.case.reference
    assert sheet.cell(3, keys["mappa_level"]).value == "2: more than one agency"
    assert sheet.cell(3, keys["checked_by"]).value == "DI Jones"
    # Rows holding only what the template came with are blank: importing it untouched makes nothing.
    untouched = review_sheets.import_filled(path, "di.jones")
    assert untouched.drafts == [] and untouched.blank_rows == 3
    workbook = load_workbook(path)
    workbook["Reviews"].cell(3, keys["m1"]).value = "Yes"
    workbook.save(path)
    result = review_sheets.import_filled(path, "di.jones")  # no grade: the row becomes a draft
    assert len(result.drafts) == 1 and result.blank_rows == 2
    review = m.Review.get_by_id(result.drafts[0])
    assert reviews.answers_of(review)["mappa_level"] == "level2"
    assert reviews.origins_of(review)["visor_ref"] == "extract:ViSOR ref"
