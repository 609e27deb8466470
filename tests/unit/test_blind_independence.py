"""A second review is blind only if its reviewer has not already seen the first: whoever the audit log
shows has seen one role's review of a case (opened it, compared it, exported it, exported its audit
events, or wrote it) cannot start or be assigned the other (qatt.trust.visibility.how_seen)."""

from __future__ import annotations

import datetime as dt

import pytest

from exports.run import ExportRequest, run_export
from qatt import reports
from qatt.errors import PermissionDenied
from qatt.reviewing import reviews
from qatt.selection import assignments
from qatt.storage import models as m
from qatt.trust import audit, visibility
from tests.factories import COMPLETE_ANSWERS, form_dict, make_population, make_sample, make_user, sample_items, write_form


@pytest.fixture
def world(db, tmp_path):
    """sup.a's first review of the first case, submitted; two moderators and two QA leads who have seen nothing."""
    folder = tmp_path / "forms"
    write_form(folder, form_dict())
    make_user("sup.a", "reviewer")
    make_user("mod", "moderator")
    make_user("mod2", "moderator")
    make_user("lead", "qa_lead")
    make_user("lead2", "qa_lead")
    sample = make_sample(make_population(3), form_id="test_form")
    items = sample_items(sample)
    first = reviews.start_review(items[0].id, "sup.a", forms_dir=folder)
    first = reviews.save_answers(first.id, COMPLETE_ANSWERS, "sup.a", first.version)
    first = reviews.save_details(first.id, "sup.a", first.version, feedback="Well done", feedback_date=dt.date(2024, 6, 1))
    first = reviews.submit_review(first.id, "sup.a", first.version)
    return {"forms": folder, "items": items, "first": first, "sample": sample, "tmp": tmp_path}


def second(world, actor):
    return reviews.start_review(world["items"][0].id, actor, role="second", forms_dir=world["forms"])


def second_reviews():
    return m.Review.select().where(m.Review.role == "second").count()


def test_a_moderator_who_has_not_seen_the_first_review_may_do_the_second(world):
    assert visibility.how_seen(world["first"], "mod") == ""
    assert second(world, "mod").role == "second"


def test_opening_the_first_review_rules_out_doing_the_second(world):
    """The tester's case: `review show` (and the desktop's Review page: both get_review_view) as a
    moderator, then starting the second review, was allowed and counted as a blind pair."""
    reviews.get_review_view(world["first"].id, "mod")
    with pytest.raises(PermissionDenied) as refused:
        second(world, "mod")
    message = str(refused.value)
    assert "already seen its first review" in message and "opened it on" in message
    assert "would not be blind" in message and "another moderator" in message
    assert second_reviews() == 0
    assert second(world, "mod2").reviewer == "mod2"  # another moderator may


def test_comparing_in_the_moderation_view_rules_out_doing_the_second(world):
    reviews.moderation_view(world["items"][0].id, "mod")
    with pytest.raises(PermissionDenied, match="opened it on"):
        second(world, "mod")


def test_the_first_reviewer_cannot_do_the_second_review_of_their_own_case(world):
    m.User.update(role="moderator").where(m.User.username == "sup.a").execute()
    with pytest.raises(PermissionDenied, match=r"you wrote it"):
        second(world, "sup.a")


def test_a_workbook_that_held_the_first_review_rules_out_doing_the_second(world):
    result = run_export(ExportRequest("workbook", world["tmp"] / "qa.xlsx", purpose="test"), "lead")
    disclosure = m.AuditEvent.select().where(m.AuditEvent.action == audit.DISCLOSURE).order_by(m.AuditEvent.id.desc()).first()
    assert world["first"].id in disclosure.details["reviews"]
    assert result.path.exists()
    with pytest.raises(PermissionDenied, match=r"exported it in qa\.xlsx"):
        second(world, "lead")
    assert second(world, "lead2").reviewer == "lead2"


def test_an_export_that_did_not_cover_the_case_does_not_count(world):
    run_export(ExportRequest("monthly", world["tmp"] / "m.pdf", filter=reports.ReportFilter.for_month("2023-01"),
                             purpose="test"), "lead")
    assert visibility.how_seen(world["first"], "lead") == ""
    assert second(world, "lead").reviewer == "lead"


def test_a_feedback_sheet_of_the_first_review_counts(world):
    run_export(ExportRequest("feedback", world["tmp"] / "f.pdf", review_id=world["first"].id, purpose="test"), "mod")
    with pytest.raises(PermissionDenied, match=r"exported it in f\.pdf"):
        second(world, "mod")


def test_an_older_export_that_did_not_list_its_reviews_is_taken_to_have_shown_them(world):
    """Exports recorded before they listed their reviews cannot say what they held: conservatively, a
    workbook, monthly report or pack made after the first review was started counts as having shown it."""
    audit.record("lead", audit.DISCLOSURE, "export", "old.xlsx", {"file": "old.xlsx", "report": "workbook",
                                                                   "rows": {"Reviews": 1}, "period": "all periods"})
    assert visibility.how_seen(world["first"], "lead").startswith("may have seen it in the export old.xlsx")
    with pytest.raises(PermissionDenied, match="may have seen it"):
        second(world, "lead")


def test_an_audit_log_export_that_showed_the_first_reviews_events_counts(world, capsys):
    from qatt.cli import main

    url = m.AuditEvent._meta.database.obj.qatt_url
    out = world["tmp"] / "log.csv"
    assert main(["--db", url, "--user", "lead", "audit", "export", "--out", str(out), "--purpose", "t"]) == 0
    capsys.readouterr()
    assert "may have seen its audit events" in visibility.how_seen(world["first"], "lead")
    with pytest.raises(PermissionDenied, match="audit-log export log.csv"):
        second(world, "lead")


def test_an_audit_log_export_that_withheld_the_first_review_does_not_count(world, capsys):
    from qatt.cli import main

    assignments.assign([world["items"][0].id], "lead", "lead2", role="second")  # lead is now blind to it
    url = m.AuditEvent._meta.database.obj.qatt_url
    assert main(["--db", url, "--user", "lead", "audit", "export", "--out", str(world["tmp"] / "l.csv"),
                 "--purpose", "t"]) == 0
    capsys.readouterr()
    event = m.AuditEvent.select().where(m.AuditEvent.object_type == "audit_log").get()
    assert event.details["withheld_reviews"] == [world["first"].id]
    assert visibility.how_seen(world["first"], "lead") == ""
    assert second(world, "lead").reviewer == "lead"


def test_an_audit_log_export_of_a_range_without_its_events_does_not_count(world):
    audit.record("lead", audit.DISCLOSURE, "audit_log", "", {"file": "old.csv", "events": 0, "from": "2001-01-01",
                                                              "to": "2001-12-31", "purpose": ""})
    assert visibility.how_seen(world["first"], "lead") == ""


def test_someone_who_has_seen_the_first_review_is_not_assigned_the_second(world):
    reviews.get_review_view(world["first"].id, "mod")
    before = m.Assignment.select().count()
    with pytest.raises(PermissionDenied) as refused:
        assignments.assign([world["items"][0].id, world["items"][1].id], "mod", "lead", role="second")
    assert "mod cannot be given the second review" in str(refused.value)
    assert "Assign it to another moderator" in str(refused.value)
    assert m.Assignment.select().count() == before  # the whole call is refused
    assignments.assign([world["items"][0].id], "mod2", "lead", role="second")


def test_seeing_the_second_review_rules_out_doing_the_first(world):
    """The rule is the same both ways: a first review started after the second is not blind to it either."""
    item = world["items"][1]
    done = reviews.start_review(item.id, "mod", role="second", forms_dir=world["forms"])
    reviews.get_review_view(done.id, "lead")
    with pytest.raises(PermissionDenied, match="already seen its second review"):
        reviews.start_review(item.id, "lead", role="first", forms_dir=world["forms"])
