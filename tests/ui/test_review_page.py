"""The Review page over the built-in domestic abuse form: live conditions, the suggested grade,
overriding with a rationale, autosave, submission, conflicts and moving between cases."""

from __future__ import annotations

import pytest

from qatt.reviewing import reviews
from qatt.trust import users
from qatt.reviewing.case_studies import CaseStudyText
from qatt.storage import models as m
from tests.factories import make_population, make_sample
from tests.ui.review_helpers import answer, answer_everything_yes
from ui.context import AppContext
from ui.dialogs.case_study_dialog import REMOVE, SAVE, CaseStudyDialog
from ui.pages.review import WORKLIST_COLUMNS, ReviewPage


@pytest.fixture
def context(sqlite_db):
    users.ensure_user("tester", "reviewer")
    return AppContext(db=sqlite_db, db_label="test database", actor="tester")


@pytest.fixture
def sample(context):
    return make_sample(make_population(3, officer="PC Shah"), period="2024-05", name="May dip sample")


@pytest.fixture
def page(qtbot, context, sample, monkeypatch):
    widget = ReviewPage(context)
    widget.confirm_submit = lambda _parent, _reference: True
    qtbot.addWidget(widget)
    widget.show()
    return widget


@pytest.fixture
def problems(monkeypatch):
    """The messages the page would show in dialogs."""
    shown = []
    monkeypatch.setattr("ui.pages.review.show_problem", lambda _parent, title, message: shown.append((title, message)))
    return shown


def start_first_case(qtbot, page):
    page.move(1)  # nothing chosen yet: the first case
    assert page.start_button.isVisible()
    with qtbot.waitSignal(page.review_opened):
        page.start_button.click()
    return page.view.id


def stored(review_id):
    review = m.Review.get_by_id(review_id)
    return review, reviews.answers_of(review)


def test_the_worklist_lists_the_sample_and_a_started_review_renders_the_built_in_form(qtbot, page, sample,
                                                                                     qtmodeltester):
    assert page.sample_choice.currentData() == sample.id
    assert [item.reference for item in page.work] == ["REF0001", "REF0002", "REF0003"]
    start_first_case(qtbot, page)
    assert page.form.id == "cp_domestic_abuse"
    assert "Case REF0001" in page.header.text() and "PC Shah" in page.header.text()
    assert page.worklist.data(page.worklist.index(0, 2)) == "draft"  # the list shows the new draft
    qtmodeltester.check(page.worklist)
    section_titles = [group.title() for group in page.form_view.groups.values()]
    assert "DASH, PPN and DART review" in section_titles
    children_seen = page.form_view.rows["da_children_seen"]
    assert "*" in children_seen.label.text() and "[critical]" in children_seen.label.text()


def test_conditions_show_and_hide_questions_as_answers_change(qtbot, page):
    start_first_case(qtbot, page)
    level = page.form_view.rows["da_dash_level_officer"]
    assert not level.is_visible()
    answer(qtbot, page, "da_dash", "yes")
    assert level.is_visible()
    answer(qtbot, page, "da_dash", "no")
    assert not level.is_visible()


def test_the_suggested_grade_follows_the_answers_and_a_critical_no_caps_it(qtbot, page):
    start_first_case(qtbot, page)
    assert "No suggested grade yet" in page.grade_panel.suggestion.text()
    answer_everything_yes(qtbot, page)
    assert page.grade_panel.suggested == "good"
    assert "Good" in page.grade_panel.suggestion.text()
    answer(qtbot, page, "da_children_seen", "no")
    assert page.grade_panel.suggested == "inadequate"
    assert "Critical item “Every child present or normally resident" in page.grade_panel.suggestion.text()


def test_overriding_needs_a_rationale_and_the_submitted_review_is_locked(qtbot, page, problems):
    review_id = start_first_case(qtbot, page)
    answer_everything_yes(qtbot, page)
    panel = page.grade_panel
    assert not panel.rationale.isVisible()
    panel.grade.setCurrentIndex(panel.grade.findData("requires_improvement"))
    assert panel.rationale.isVisible()

    page.submit()
    assert problems and "rationale" in problems[-1][1]
    assert m.Review.get_by_id(review_id).status == "draft"

    panel.rationale.setPlainText("Strategy discussion held late; the form does not capture the delay")
    with qtbot.waitSignal(page.review_submitted):
        page.submit()
    review, answers = stored(review_id)
    assert (review.status, review.grade, review.suggested_grade) == ("submitted", "requires_improvement", "good")
    assert review.override_rationale.startswith("Strategy discussion")
    assert answers["da_children_seen"] == "yes"
    assert not page.editable and not page.submit_button.isEnabled()
    assert "Submitted" in page.status.text()
    assert page.form_view.rows["da_dash"].input.isEnabled() is False


def test_missing_required_answers_are_pointed_out_and_nothing_is_submitted(qtbot, page, problems):
    review_id = start_first_case(qtbot, page)
    answer(qtbot, page, "da_dash", "yes")
    page.submit()
    assert problems[-1][0] == "Some required questions are unanswered"
    assert "Required" in page.form_view.rows["da_children_seen"].problem.text()
    assert m.Review.get_by_id(review_id).status == "draft"


def test_submit_checks_completeness_before_asking_to_confirm_the_lock(qtbot, page, problems):
    asked = []
    page.confirm_submit = lambda _parent, reference: asked.append(reference) or True
    review_id = start_first_case(qtbot, page)
    answer(qtbot, page, "da_dash", "yes")
    page.submit()
    assert asked == []  # an incomplete form is never offered for locking
    title, message = problems[-1]
    assert title == "Some required questions are unanswered"
    text = page.form.question("da_children_seen").text
    assert text in message and "da_children_seen" not in message  # the question's words, not its id
    assert m.Review.get_by_id(review_id).status == "draft"

    answer_everything_yes(qtbot, page)
    with qtbot.waitSignal(page.review_submitted):
        page.submit()
    assert asked == ["REF0001"]  # complete: now, and only now, the lock is confirmed
    assert m.Review.get_by_id(review_id).status == "submitted"


def test_changes_save_themselves_and_are_there_when_the_case_is_opened_again(qtbot, page):
    review_id = start_first_case(qtbot, page)
    with qtbot.waitSignal(page.review_saved, timeout=5000):
        answer(qtbot, page, "da_dash", "yes")  # the autosave timer fires shortly after
    assert stored(review_id)[1] == {"da_dash": "yes"}
    page.grade_panel.feedback.setPlainText("Good early contact with the family")
    page.move(1)  # moving on saves first
    assert page.selected_item_id() != m.Review.get_by_id(review_id).sample_item_id
    assert m.Review.get_by_id(review_id).feedback == "Good early contact with the family"
    page.move(-1)
    assert page.view.id == review_id
    assert page.form_view.rows["da_dash"].input.value() == "yes"
    assert page.grade_panel.feedback.toPlainText() == "Good early contact with the family"


def test_an_invalid_typed_answer_is_marked_and_not_saved(qtbot, page):
    review_id = start_first_case(qtbot, page)
    answer(qtbot, page, "c3", "yes")
    answer(qtbot, page, "c3_days", "3")
    page.save_now()
    answer(qtbot, page, "c3_days", "three")
    page.save_now()
    assert "c3_days" in page.form_view.rows["c3_days"].problem.text()
    assert stored(review_id)[1] == {"c3": "yes", "c3_days": 3}  # the last valid answer stays


def test_someone_elses_save_meanwhile_is_a_conflict_and_the_review_reloads(qtbot, page, problems):
    review_id = start_first_case(qtbot, page)
    page.save_now()
    reviews.save_answers(review_id, {"da_dash": "no"}, "tester", page.view.version)  # another window
    answer(qtbot, page, "da_dash", "yes")
    assert page.save_now() is False
    assert problems[-1][0] == "Someone else saved this review"
    assert stored(review_id)[1] == {"da_dash": "no"}
    assert page.form_view.rows["da_dash"].input.value() == "no"  # reloaded: their answer is shown


def test_an_action_is_added_to_the_review(qtbot, page, problems):
    review_id = start_first_case(qtbot, page)
    panel = page.grade_panel
    panel.action_due.setText("2024-06-30")
    panel.add_action_button.click()
    assert problems[-1][1] == "Describe the action before adding it."
    panel.action_text.setText("Record the voice of the child")
    panel.action_owner.setText("PC Shah")
    panel.add_action_button.click()
    action = m.Action.get(m.Action.review == review_id)
    assert (action.text, action.owner, action.due_date.isoformat()) == ("Record the voice of the child", "PC Shah",
                                                                        "2024-06-30")
    assert "Record the voice of the child" in panel.actions.item(0).text()


def test_another_reviewers_review_is_refused_with_a_message(qtbot, page, problems, sample):
    users.ensure_user("other", "reviewer")
    item = m.SampleItem.get(m.SampleItem.sample == sample, m.SampleItem.position == 2)
    theirs = reviews.start_review(item.id, "other")
    page.refresh()
    page.move(1)
    page.move(1)
    # Refused without naming whose review it is (the reviewer may not see it, so may not learn that either).
    assert problems and "may see other people's reviews" in problems[-1][1] and "not yours" in problems[-1][1]
    assert "other's" not in problems[-1][1]
    assert page.view is None or page.view.id != theirs.id


def test_a_submitted_review_is_amended_only_with_a_reason_which_is_audited(qtbot, page, problems):
    review_id = start_first_case(qtbot, page)
    answer_everything_yes(qtbot, page)
    with qtbot.waitSignal(page.review_submitted):
        page.submit()
    assert page.amend_button.isVisible() and not page.form_view.rows["da_dash"].input.isEnabled()
    page.amend_button.click()  # unlocks
    assert page.form_view.rows["da_dash"].input.isEnabled()
    answer(qtbot, page, "da_children_seen", "no")
    page.grade_panel.grade.setCurrentIndex(0)  # as suggested
    page.ask_reason = lambda _parent, _reference: ""
    page.amend_button.click()
    assert "reason" in problems[-1][1]
    assert m.Review.get_by_id(review_id).grade == "good"

    page.ask_reason = lambda _parent, _reference: "Re-read the file: one child was not seen"
    page.amend_button.click()
    review, answers = stored(review_id)
    assert answers["da_children_seen"] == "no"
    assert (review.status, review.suggested_grade, review.grade) == ("submitted", "inadequate", "inadequate")
    event = (m.AuditEvent.select().where(m.AuditEvent.object_type == "review", m.AuditEvent.object_id == str(review_id))
             .order_by(m.AuditEvent.id.desc()).first())
    assert event.details["reason"] == "Re-read the file: one child was not seen"
    assert not page.form_view.rows["da_dash"].input.isEnabled()  # locked again


def test_a_submitted_review_is_chosen_as_a_case_study_and_removed_again(qtbot, page, problems):
    review_id = start_first_case(qtbot, page)
    assert not page.case_study_button.isVisible()  # a draft cannot be an example yet
    answer_everything_yes(qtbot, page)
    with qtbot.waitSignal(page.review_submitted):
        page.submit()
    assert page.case_study_button.isVisible()
    offered = []

    def choose(_parent, reference, current):
        offered.append((reference, current))
        return SAVE, CaseStudyText("good", "Every child seen", "All three children were seen and spoken to alone.")

    page.ask_case_study = choose
    page.case_study_button.click()
    assert offered == [("REF0001", None)]
    study = m.CaseStudy.get(m.CaseStudy.review == review_id)
    assert (study.kind, study.title, study.recorded_by) == ("good", "Every child seen", "tester")
    assert "Good practice case study: Every child seen." in page.status.text()

    page.ask_case_study = lambda _parent, _reference, current: offered.append(current) or (REMOVE, None)
    page.case_study_button.click()
    assert offered[-1] == CaseStudyText("good", "Every child seen", "All three children were seen and spoken to alone.")
    assert not m.CaseStudy.select().exists() and "case study" not in page.status.text()
    page.ask_case_study = lambda _parent, _reference, _current: None  # cancelled: nothing happens
    page.case_study_button.click()
    assert not m.CaseStudy.select().exists() and problems == []


def test_the_case_study_dialog_saves_only_a_titled_account_and_offers_removal_only_for_an_existing_one(qtbot):
    dialog = CaseStudyDialog("REF0001", None)
    qtbot.addWidget(dialog)
    assert not dialog.save_button.isEnabled() and dialog.remove_button.isHidden()
    dialog.kind.setCurrentIndex(dialog.kind.findData("poor"))
    qtbot.keyClicks(dialog.title_edit, "Referral lost")
    assert not dialog.save_button.isEnabled()
    qtbot.keyClicks(dialog.summary, "Nobody owned the referral for nine days.")
    assert dialog.save_button.isEnabled()
    dialog.save_button.click()
    assert dialog.choice == (SAVE, CaseStudyText("poor", "Referral lost", "Nobody owned the referral for nine days."))

    existing = CaseStudyDialog("REF0001", CaseStudyText("good", "Seen", "Seen alone."))
    qtbot.addWidget(existing)
    assert existing.title_edit.text() == "Seen" and existing.kind.currentData() == "good"
    assert not existing.remove_button.isHidden()
    existing.remove_button.click()
    assert existing.choice == (REMOVE, None)


def test_the_worklist_shows_grades_by_their_labels(qtbot, page):
    review_id = start_first_case(qtbot, page)
    answer_everything_yes(qtbot, page)
    with qtbot.waitSignal(page.review_submitted):
        page.submit()
    grade = m.Review.get_by_id(review_id).grade
    label = page.vocab.grade_label(grade)
    assert grade == "good" and label == "Good"
    grade_column = [title for title, _position, _format in WORKLIST_COLUMNS].index("Grade")
    assert page.worklist.data(page.worklist.index(0, grade_column)) == "Good"
    assert page.worklist.data(page.worklist.index(1, grade_column)) == ""  # not started
