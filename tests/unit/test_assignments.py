"""Assignments, standing monthly plans and completion, on both backends."""

import datetime as dt

import pytest

from qatt.selection import assignments
from qatt.errors import PermissionDenied, QattError
from qatt.storage import models as m
from tests.factories import make_form_version, make_population, make_sample, make_user, sample_items


@pytest.fixture
def people(db):
    make_user("lead", "qa_lead")
    make_user("mod", "moderator", team="PPU North")
    make_user("sup.a", "reviewer", team="PPU North", display_name="DS A Smith")
    make_user("sup.b", "reviewer", team="PPU South")
    make_user("di.smith", "moderator")


def test_a_qa_lead_assigns_cases_with_a_due_date(people):
    items = sample_items(make_sample(make_population(3)))
    made = assignments.assign([i.id for i in items], "sup.b", "lead", due_date=dt.date(2024, 5, 31))
    assert [(a.reviewer, a.role, a.due_date) for a in made] == [("sup.b", "first", dt.date(2024, 5, 31))] * 3
    event = m.AuditEvent.select().where(m.AuditEvent.object_type == "assignment").get()
    assert event.details["sample_items"] == [i.id for i in items] and event.details["reviewer"] == "sup.b"


def test_a_moderator_assigns_only_their_own_team_and_a_reviewer_not_at_all(people):
    item = sample_items(make_sample(make_population(1)))[0]
    assert assignments.assign([item.id], "sup.a", "mod")[0].reviewer == "sup.a"
    with pytest.raises(PermissionDenied, match="not in your team"):
        assignments.assign([item.id], "sup.b", "mod")
    with pytest.raises(PermissionDenied):
        assignments.assign([item.id], "sup.a", "sup.b")
    assert m.Assignment.get().reviewer == "sup.a"


def test_second_reviews_are_assigned_only_to_moderators(people):
    item = sample_items(make_sample(make_population(1)))[0]
    with pytest.raises(PermissionDenied, match="second reviews need a moderator"):
        assignments.assign([item.id], "sup.a", "lead", role="second")
    assert assignments.assign([item.id], "di.smith", "lead", role="second")[0].role == "second"


def test_a_started_review_cannot_be_reassigned_and_nothing_is_half_assigned(people, tmp_path):
    first, second = sample_items(make_sample(make_population(2)))
    version = make_form_version(tmp_path / "forms")
    m.Review.create(sample_item=second, form_version=version, reviewer="sup.a")
    with pytest.raises(QattError, match="sup.a has already started"):
        assignments.assign([first.id, second.id], "sup.b", "lead")
    assert not m.Assignment.select().exists()


def test_plan_settings_are_checked_and_only_a_qa_lead_creates_plans(people):
    with pytest.raises(QattError, match="per_reviewer"):
        assignments.create_plan("p", {"kind": "per_supervisor", "per_reviewer": 0}, "lead")
    with pytest.raises(QattError, match="reviewer"):
        assignments.create_plan("p", {"kind": "fixed", "size": 10}, "lead")
    with pytest.raises(QattError, match="Unknown plan setting 'sise'"):
        assignments.create_plan("p", {"kind": "fixed", "sise": 10, "size": 1, "reviewer": "x"}, "lead")
    with pytest.raises(PermissionDenied):
        assignments.create_plan("p", {"kind": "fixed", "size": 10, "reviewer": "di.smith"}, "mod")
    assignments.create_plan("p", {"kind": "fixed", "size": 10, "reviewer": "di.smith"}, "lead")
    with pytest.raises(QattError, match="already exists"):
        assignments.create_plan("p", {"kind": "fixed", "size": 10, "reviewer": "di.smith"}, "lead")
    assert [p.params["population"] for p in assignments.list_plans()] == ["latest"]


def supervised_population():
    # Supervisors "DS A Smith" (a user's display name), sup.b and sup.c; every third case still open.
    return make_population(
        30, supervisor=lambda i: ["DS A Smith", "sup.b", "sup.c"][i % 3],
        status=lambda i: "open" if i % 5 == 0 else "finalised",
        area=lambda i: "Sex offender management" if i <= 12 else "Domestic abuse referrals")


def test_a_per_supervisor_plan_gives_each_supervisor_their_own_finalised_cases(people):
    supervised_population()
    assignments.create_plan("Supervisors", {"kind": "per_supervisor", "per_reviewer": 2, "status": "finalised",
                                            "form_id": "da_form"}, "lead")
    run = assignments.run_plan("Supervisors", "2024-05", "lead", seed=42)
    assert run.assigned == {"sup.a": 2, "sup.b": 2, "sup.c": 2}
    sample = m.Sample.get_by_id(run.sample_id)
    assert (sample.period, sample.form_id, sample.seed) == ("2024-05", "da_form", "42")
    for a in m.Assignment.select():
        case = a.sample_item.case
        assert case.status == "finalised"
        assert {"DS A Smith": "sup.a"}.get(case.supervisor, case.supervisor) == a.reviewer
        assert a.due_date == dt.date(2024, 5, 31)


def test_a_fixed_plan_draws_its_size_from_its_area_for_one_reviewer(people):
    supervised_population()
    assignments.create_plan("MOSOVO", {"kind": "fixed", "size": 4, "area": "Sex offender management",
                                       "reviewer": "di.smith", "form_id": "mosovo_di_check",
                                       "window_months": 0}, "lead")
    run = assignments.run_plan("MOSOVO", "2024-06", "lead")
    assert run.assigned == {"di.smith": 4}
    areas = {a.sample_item.case.area for a in m.Assignment.select()}
    assert areas == {"Sex offender management"}


def test_a_plan_runs_once_a_month_and_two_plans_share_a_month(people):
    supervised_population()
    assignments.create_plan("MOSOVO", {"kind": "fixed", "size": 2, "reviewer": "di.smith", "window_months": 0}, "lead")
    assignments.create_plan("Supervisors", {"kind": "per_supervisor", "per_reviewer": 1}, "lead")
    assignments.run_plan("MOSOVO", "2024-05", "lead")
    assignments.run_plan("Supervisors", "2024-05", "lead")
    with pytest.raises(QattError, match="already run for 2024-05"):
        assignments.run_plan("MOSOVO", "2024-05", "lead")
    assert m.Sample.select().where(m.Sample.period == "2024-05").count() == 2
    with pytest.raises(QattError, match="YYYY-MM"):
        assignments.run_plan("MOSOVO", "May", "lead")


def test_a_failed_plan_run_leaves_no_sample_behind(people, monkeypatch):
    supervised_population()
    assignments.create_plan("MOSOVO", {"kind": "fixed", "size": 2, "reviewer": "sup.a", "role": "second",
                                       "window_months": 0}, "lead")
    with pytest.raises(PermissionDenied):  # sup.a is no moderator, found only after the draw
        assignments.run_plan("MOSOVO", "2024-05", "lead")
    assert not m.Sample.select().exists() and not m.Assignment.select().exists()


def test_completion_counts_assigned_in_progress_submitted_and_overdue(people, tmp_path):
    version = make_form_version(tmp_path / "forms")
    items = sample_items(make_sample(make_population(5), period="2024-05"))
    assignments.assign([i.id for i in items[:4]], "sup.a", "lead", due_date=dt.date(2024, 5, 31))
    assignments.assign([items[4].id], "sup.b", "lead", due_date=dt.date(2024, 6, 30))
    m.Review.create(sample_item=items[0], form_version=version, reviewer="sup.a", status="submitted")
    m.Review.create(sample_item=items[1], form_version=version, reviewer="sup.a", status="draft")
    items[3].active = False  # replaced: no longer owed
    items[3].save()

    rows = assignments.completion(period="2024-05", today=dt.date(2024, 6, 1))
    assert [r.as_dict() for r in rows] == [
        {"reviewer": "sup.a", "period": "2024-05", "assigned": 3, "in_progress": 1, "submitted": 1, "overdue": 2,
         "not_started": 1},
        {"reviewer": "sup.b", "period": "2024-05", "assigned": 1, "in_progress": 0, "submitted": 0, "overdue": 0,
         "not_started": 1},
    ]
    assert [r.reviewer for r in assignments.completion(reviewer="sup.b")] == ["sup.b"]
    assert assignments.completion(period="2024-04") == []
