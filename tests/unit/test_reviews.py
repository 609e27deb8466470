"""Review lifecycle on both backends: drafts, conflicts, submission, grading, locking, blind second review."""

import datetime as dt
import json

import pytest

from qatt.reviewing import reviews
from qatt.errors import ConflictError, PermissionDenied, QattError
from qatt.storage import models as m
from tests.factories import (COMPLETE_ANSWERS, form_dict, make_population, make_sample, make_user, sample_items,
                             write_form)


@pytest.fixture
def forms_dir(tmp_path):
    folder = tmp_path / "forms"
    write_form(folder, form_dict())
    return folder


@pytest.fixture
def items(db, forms_dir):
    make_user("sup.a", "reviewer")
    make_user("sup.b", "reviewer")
    make_user("mod", "moderator")
    make_user("lead", "qa_lead")
    sample = make_sample(make_population(4), form_id="test_form")
    return sample_items(sample)


def start(item, actor="sup.a", role="first", forms_dir=None, **kwargs):
    return reviews.start_review(item.id, actor, role=role, forms_dir=forms_dir, **kwargs)


def alterations(review_id):
    return [e.details for e in m.AuditEvent.select().where(
        m.AuditEvent.object_type == "review", m.AuditEvent.object_id == str(review_id),
        m.AuditEvent.action == "alteration").order_by(m.AuditEvent.id)]


def test_draft_answers_are_saved_and_each_save_bumps_the_version(items, forms_dir):
    review = start(items[0], forms_dir=forms_dir)
    assert review.status == "draft" and review.version == 1
    saved = reviews.save_answers(review.id, {"c1": "yes", "c3_days": "3"}, "sup.a", expected_version=1)
    assert saved.version == 2
    saved = reviews.save_answers(review.id, {"c1": "no"}, "sup.a", expected_version=2)
    assert saved.version == 3
    assert reviews.answers_of(reviews.get_review(review.id)) == {"c1": "no", "c3_days": 3}


def test_a_stale_save_is_refused_with_who_saved_and_nothing_is_overwritten(items, forms_dir):
    review = start(items[0], forms_dir=forms_dir)
    reviews.save_answers(review.id, {"c1": "yes"}, "sup.a", expected_version=1)
    with pytest.raises(ConflictError, match=r"sup\.a saved this review at \d\d:\d\d since you opened it; reload"):
        reviews.save_answers(review.id, {"c1": "no"}, "sup.a", expected_version=1)
    assert reviews.answers_of(reviews.get_review(review.id)) == {"c1": "yes"}


def test_invalid_answers_and_unknown_questions_are_refused(items, forms_dir):
    review = start(items[0], forms_dir=forms_dir)
    with pytest.raises(QattError):
        reviews.save_answers(review.id, {"c1": "maybe"}, "sup.a", expected_version=1)
    with pytest.raises(QattError, match="no question 'zz'"):
        reviews.save_answers(review.id, {"zz": "yes"}, "sup.a", expected_version=1)
    assert reviews.get_review(review.id).version == 1


def test_every_draft_save_is_audited_with_old_and_new_values(items, forms_dir):
    review = start(items[0], forms_dir=forms_dir)
    reviews.save_answers(review.id, {"c1": "yes"}, "sup.a", expected_version=1)
    reviews.save_answers(review.id, {"c1": "no"}, "sup.a", expected_version=2)
    reviews.save_details(review.id, "sup.a", 3, strengths="Prompt PPN")
    events = alterations(review.id)
    assert events[0]["answers"] == {"c1": {"old": None, "new": "yes"}}
    assert events[1]["answers"] == {"c1": {"old": "yes", "new": "no"}}
    assert events[2]["fields"] == {"strengths": {"old": "", "new": "Prompt PPN"}}


def test_only_the_reviews_own_reviewer_may_save_it(items, forms_dir):
    review = start(items[0], forms_dir=forms_dir)
    with pytest.raises(PermissionDenied):
        reviews.save_answers(review.id, {"c1": "yes"}, "sup.b", expected_version=1)
    with pytest.raises(PermissionDenied):
        reviews.save_answers(review.id, {"c1": "yes"}, "lead", expected_version=1)


def test_submit_lists_the_missing_required_visible_questions(items, forms_dir):
    review = start(items[0], forms_dir=forms_dir)
    reviews.save_answers(review.id, {"c2": "yes", "c3": "yes"}, "sup.a", expected_version=1)
    with pytest.raises(reviews.MissingAnswers) as caught:
        reviews.submit_review(review.id, "sup.a", expected_version=2)
    assert [q.id for q in caught.value.missing] == ["c1", "c3_days", "c9"]
    message = str(caught.value)
    assert "• Ethnicity recorded" in message
    assert "c1" not in message and "c3_days" not in message  # the question's words, not its id
    assert reviews.get_review(review.id).status == "draft"
    with pytest.raises(reviews.MissingAnswers):
        reviews.check_submittable(review.id, "sup.a")
    assert reviews.get_review(review.id).version == 2  # checking writes nothing


def test_a_hidden_question_is_not_required_and_its_draft_answer_is_dropped_on_submit(items, forms_dir):
    review = start(items[0], forms_dir=forms_dir)
    answers = {**COMPLETE_ANSWERS, "c3": "yes", "c3_days": 4}
    reviews.save_answers(review.id, answers, "sup.a", expected_version=1)
    reviews.save_answers(review.id, {"c3": "na"}, "sup.a", expected_version=2)
    assert reviews.answers_of(reviews.get_review(review.id))["c3_days"] == 4  # kept while a draft
    submitted = reviews.submit_review(review.id, "sup.a", expected_version=3)
    assert submitted.status == "submitted"
    assert "c3_days" not in reviews.answers_of(submitted)
    assert alterations(review.id)[-1]["answers"] == {"c3_days": {"old": 4, "new": None}}


@pytest.mark.parametrize("changes, suggested", [
    ({}, "good"),
    ({"c1": "no"}, "requires_improvement"),  # 1 "no" of 3 answered yes/no items
    ({"c2": "no"}, "inadequate"),  # critical item: capped at the lowest grade
])
def test_suggested_grade_follows_the_forms_rules_and_a_critical_no_caps_it(items, forms_dir, changes, suggested):
    review = start(items[0], forms_dir=forms_dir)
    reviews.save_answers(review.id, {**COMPLETE_ANSWERS, **changes}, "sup.a", expected_version=1)
    submitted = reviews.submit_review(review.id, "sup.a", expected_version=2)
    assert submitted.suggested_grade == suggested
    assert submitted.grade == suggested  # a blank grade adopts the suggestion


def test_a_grade_other_than_the_suggestion_needs_a_written_rationale(items, forms_dir):
    review = start(items[0], forms_dir=forms_dir)
    reviews.save_answers(review.id, COMPLETE_ANSWERS, "sup.a", expected_version=1)
    reviews.save_details(review.id, "sup.a", 2, grade="requires_improvement")
    with pytest.raises(QattError, match="write a rationale"):
        reviews.submit_review(review.id, "sup.a", expected_version=3)
    reviews.save_details(review.id, "sup.a", 3, override_rationale="Risk was not reassessed after new intelligence")
    submitted = reviews.submit_review(review.id, "sup.a", expected_version=4)
    assert (submitted.suggested_grade, submitted.grade) == ("good", "requires_improvement")
    assert submitted.override_rationale.startswith("Risk was not")


def test_a_grade_off_the_forms_scale_is_refused(items, forms_dir):
    review = start(items[0], forms_dir=forms_dir)
    with pytest.raises(QattError, match="not a grade"):
        reviews.save_details(review.id, "sup.a", 1, grade="excellent")


def submitted_review(item, forms_dir, actor="sup.a", role="first", answers=None):
    review = start(item, actor=actor, role=role, forms_dir=forms_dir)
    reviews.save_answers(review.id, answers or COMPLETE_ANSWERS, actor, expected_version=1)
    return reviews.submit_review(review.id, actor, expected_version=2)


def test_a_submitted_review_is_locked(items, forms_dir):
    review = submitted_review(items[0], forms_dir)
    with pytest.raises(QattError, match="locked; amend it with a reason"):
        reviews.save_answers(review.id, {"c1": "no"}, "sup.a", expected_version=review.version)
    with pytest.raises(QattError, match="locked"):
        reviews.save_details(review.id, "sup.a", review.version, strengths="x")


def test_an_amendment_needs_a_reason_and_is_audited_with_old_and_new_values(items, forms_dir):
    review = submitted_review(items[0], forms_dir)
    with pytest.raises(QattError, match="reason"):
        reviews.amend_review(review.id, "sup.a", {"answers": {"c1": "no"}}, "  ", review.version)
    with pytest.raises(QattError, match="write a rationale"):  # the grade kept must still be justified
        reviews.amend_review(review.id, "sup.a", {"answers": {"c1": "no"}}, "Ethnicity missing", review.version)
    assert reviews.answers_of(reviews.get_review(review.id))["c1"] == "yes"  # refused amendment left nothing
    amended = reviews.amend_review(review.id, "sup.a", {"answers": {"c1": "no"}, "improvements": "Record ethnicity",
                                                        "grade": "requires_improvement"},
                                   "Ethnicity was missing on the crime record", review.version)
    assert amended.status == "submitted" and amended.version == review.version + 1
    assert amended.suggested_grade == "requires_improvement"
    event = alterations(review.id)[-1]
    assert event["amendment"] is True and event["reason"] == "Ethnicity was missing on the crime record"
    assert event["answers"] == {"c1": {"old": "yes", "new": "no"}}
    assert event["fields"]["improvements"] == {"old": "", "new": "Record ethnicity"}
    assert event["fields"]["suggested_grade"] == {"old": "good", "new": "requires_improvement"}
    assert event["fields"]["grade"] == {"old": "good", "new": "requires_improvement"}
    assert reviews.answers_of(amended)["c1"] == "no"


def test_a_qa_lead_may_amend_anothers_review_but_another_reviewer_may_not(items, forms_dir):
    review = submitted_review(items[0], forms_dir)
    with pytest.raises(PermissionDenied):
        reviews.amend_review(review.id, "sup.b", {"strengths": "x"}, "typo", review.version)
    amended = reviews.amend_review(review.id, "lead", {"strengths": "Good PPN"}, "typo", review.version)
    assert amended.strengths == "Good PPN" and amended.reviewer == "sup.a"


def test_second_reviews_need_a_moderator(items, forms_dir):
    with pytest.raises(PermissionDenied, match="moderator"):
        start(items[0], actor="sup.b", role="second", forms_dir=forms_dir)
    assert start(items[0], actor="mod", role="second", forms_dir=forms_dir).role == "second"


def test_blind_second_review_until_both_are_submitted(items, forms_dir):
    first = submitted_review(items[0], forms_dir, answers={**COMPLETE_ANSWERS, "c1": "no"})
    second = start(items[0], actor="mod", role="second", forms_dir=forms_dir)
    with pytest.raises(PermissionDenied, match="blind"):
        reviews.get_review_view(first.id, "mod")
    with pytest.raises(PermissionDenied, match="blind"):
        reviews.moderation_view(items[0].id, "mod")
    reviews.save_answers(second.id, COMPLETE_ANSWERS, "mod", expected_version=1)
    reviews.submit_review(second.id, "mod", expected_version=2)

    view = reviews.get_review_view(first.id, "mod")
    assert view.grade == "requires_improvement" and view.answers["c1"] == "no"
    both = reviews.moderation_view(items[0].id, "mod")
    assert (both.first.grade, both.second.grade, both.grades_agree) == ("requires_improvement", "good", False)
    assert both.differing_answers == ["c1"]
    consulted = m.AuditEvent.select().where(m.AuditEvent.action == "consultation", m.AuditEvent.actor == "mod",
                                            m.AuditEvent.object_id == str(first.id))
    assert consulted.count() == 2


def test_a_moderator_assigned_the_second_review_is_blind_before_starting_it(items, forms_dir):
    from qatt.selection import assignments

    submitted_review(items[0], forms_dir)
    assignments.assign([items[0].id], "mod", "lead", role="second")
    with pytest.raises(PermissionDenied, match="blind"):
        reviews.moderation_view(items[0].id, "mod")
    assert not m.AuditEvent.select().where(m.AuditEvent.action == "consultation").exists()


def test_a_plain_reviewer_cannot_open_someone_elses_review(items, forms_dir):
    review = submitted_review(items[0], forms_dir)
    with pytest.raises(PermissionDenied):
        reviews.get_review_view(review.id, "sup.b")
    assert reviews.get_review_view(review.id, "sup.a").grade == "good"
    assert not m.AuditEvent.select().where(m.AuditEvent.action == "consultation").exists()


def test_an_assigned_case_can_only_be_started_by_its_assignee(items, forms_dir):
    m.Assignment.create(sample_item=items[0], reviewer="sup.b", role="first")
    with pytest.raises(PermissionDenied, match="assigned to sup.b"):
        start(items[0], actor="sup.a", forms_dir=forms_dir)
    assert start(items[0], actor="sup.b", forms_dir=forms_dir).reviewer == "sup.b"


def test_an_old_review_keeps_its_form_version_after_the_form_file_changes(items, forms_dir):
    old = start(items[0], forms_dir=forms_dir)
    changed = form_dict(version="2.0")
    changed["sections"][0]["questions"] = [q for q in changed["sections"][0]["questions"] if q["id"] != "c1"]
    changed["sections"][0]["questions"].append({"id": "c12", "type": "yes_no_na", "text": "BWV used"})
    write_form(forms_dir, changed)
    (forms_dir / "test_form.yaml").write_text(json.dumps(changed), encoding="utf-8")

    new = start(items[1], forms_dir=forms_dir)
    assert new.form_version_id != old.form_version_id
    with pytest.raises(QattError):
        reviews.save_answers(new.id, {"c1": "yes"}, "sup.a", expected_version=1)
    # The old review still validates, grades and renders against version 1.0.
    reviews.save_answers(old.id, COMPLETE_ANSWERS, "sup.a", expected_version=1)
    submitted = reviews.submit_review(old.id, "sup.a", expected_version=2)
    view = reviews.get_review_view(submitted.id, "sup.a")
    assert view.form_version == "1.0" and view.answers["c1"] == "yes" and view.grade == "good"


def test_without_a_sample_form_the_form_is_chosen_by_the_cases_area(db, tmp_path):
    folder = tmp_path / "forms"
    write_form(folder, form_dict("da_form", area="Domestic abuse referrals"))
    write_form(folder, form_dict("mosovo", area="Sex offender management (MOSOVO)"))
    make_user("sup.a")
    population = make_population(2, area=lambda i: "Sex offender management" if i == 1 else "Section 47 enquiries")
    first, second = sample_items(make_sample(population))
    assert reviews.start_review(first.id, "sup.a", forms_dir=folder).form_version.form_id == "mosovo"
    with pytest.raises(QattError, match="No form covers the area 'Section 47 enquiries'"):
        reviews.start_review(second.id, "sup.a", forms_dir=folder)
    assert reviews.start_review(second.id, "sup.a", form_id="da_form", forms_dir=folder).form_version.form_id == "da_form"


def test_actions_are_recorded_updated_by_their_owner_and_audited(items, forms_dir):
    review = submitted_review(items[0], forms_dir)
    action = reviews.add_action(review.id, "sup.a", "Refresher on PPN timeliness", owner="sup.b",
                                due_date=dt.date(2024, 6, 30))
    assert action.status == "open"
    reviews.update_action(action.id, "sup.b", status="in progress")
    with pytest.raises(QattError, match="Unknown action status"):
        reviews.update_action(action.id, "sup.b", status="finished")
    with pytest.raises(PermissionDenied):
        reviews.update_action(action.id, "mod2-nobody", status="open")
    with pytest.raises(QattError, match="needs a note"):
        reviews.update_action(action.id, "sup.b", status="done")
    assert m.Action.get_by_id(action.id).status == "in progress"
    view = reviews.get_review_view(review.id, "sup.a")
    assert view.actions[0]["status"] == "in progress" and view.actions[0]["due_date"] == "2024-06-30"
    changes = [e.details for e in m.AuditEvent.select().where(m.AuditEvent.object_type == "action")
               .order_by(m.AuditEvent.id)]
    assert changes[-1]["fields"] == {"status": {"old": "open", "new": "in progress"}}


def test_compliance_counts_yes_over_yes_and_no_leaving_out_na(items, forms_dir):
    review = start(items[0], forms_dir=forms_dir)
    reviews.save_answers(review.id, {"c1": "no", "c2": "yes", "c3": "na"}, "sup.a", expected_version=1)
    compliance = reviews.get_review_view(review.id, "sup.a").compliance
    assert compliance["yes"] == 1 and compliance["no"] == 1


def test_an_action_due_date_is_taken_as_iso_text_and_anything_else_is_refused(items, forms_dir):
    review = start(items[0], forms_dir=forms_dir)
    action = reviews.add_action(review.id, "sup.a", "Record the voice of the child", due_date="2024-06-30")
    assert m.Action.get_by_id(action.id).due_date == dt.date(2024, 6, 30)
    with pytest.raises(QattError, match=r"The due date '30/06/2024' is not a date; write it as YYYY-MM-DD"):
        reviews.add_action(review.id, "sup.a", "Another", due_date="30/06/2024")
    assert m.Action.select().count() == 1
