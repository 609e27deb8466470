"""A refusal tells someone who may not see a review only that they may not: never who wrote it."""

from __future__ import annotations

import datetime as dt

import pytest

from qatt.cli import main
from qatt.errors import PermissionDenied
from qatt.loop import acknowledgement
from qatt.reviewing import case_studies, reviews
from qatt.selection import assignments
from tests.factories import COMPLETE_ANSWERS, form_dict, make_population, make_sample, make_user, sample_items, write_form

WRITER = "wr1ter.secret"


@pytest.fixture
def world(db, tmp_path):
    folder = tmp_path / "forms"
    write_form(folder, form_dict())
    make_user(WRITER, "reviewer")
    make_user("sup.a", "reviewer")
    make_user("mod", "moderator")
    make_user("lead", "qa_lead")
    items = sample_items(make_sample(make_population(2), form_id="test_form"))
    review = reviews.start_review(items[0].id, WRITER, forms_dir=folder)
    review = reviews.save_answers(review.id, COMPLETE_ANSWERS, WRITER, review.version)
    review = reviews.save_details(review.id, WRITER, review.version, feedback="Shared", feedback_date=dt.date(2024, 6, 1))
    review = reviews.submit_review(review.id, WRITER, review.version)
    action = reviews.add_action(review.id, WRITER, "Brief the team", owner=WRITER)
    return {"review": review, "action": action, "items": items, "forms": folder, "url": db.qatt_url}


def refusals(world, actor):
    """Every way `actor` may ask to see or touch the review, and what each refusal said."""
    review = world["review"]
    attempts = {
        "view": lambda: reviews.get_review_view(review.id, actor),
        "acknowledge": lambda: acknowledgement.acknowledge(review.id, actor, on=dt.date(2024, 6, 2)),
        "add action": lambda: reviews.add_action(review.id, actor, "More"),
        "update action": lambda: reviews.update_action(world["action"].id, actor, text="Other"),
        "amend": lambda: reviews.amend_review(review.id, actor, {"grade": "good"}, "why", review.version),
        "save": lambda: reviews.save_answers(review.id, {"c1": "no"}, actor, review.version),
        "start the same review": lambda: reviews.start_review(world["items"][0].id, actor, forms_dir=world["forms"]),
        "case study": lambda: case_studies.record_case_study(review.id, actor, "good", "T", "S"),
    }
    said = {}
    for name, attempt in attempts.items():
        with pytest.raises(PermissionDenied) as refused:
            attempt()
        said[name] = str(refused.value)
    return said


def test_a_reviewer_is_not_told_who_wrote_a_review_they_may_not_see(world):
    """The tester's case: `review show 279` as demo.supervisor1 named demo.supervisor2."""
    said = refusals(world, "sup.a")
    assert "only a moderator or above may see other people's reviews" in said["view"]
    assert "review 1 is not yours" in said["acknowledge"]
    for name, message in said.items():
        assert WRITER not in message, f"{name}: {message}"


def test_a_blinded_moderator_is_not_told_who_wrote_the_first_review(world):
    assignments.assign([world["items"][0].id], "mod", "lead", role="second")
    said = refusals(world, "mod")
    assert "blind second review" in said["view"]
    for name, message in said.items():
        assert WRITER not in message, f"{name}: {message}"


def test_the_cli_does_not_name_the_reviewer_either(world, capsys):
    for command in (["review", "show"], ["feedback", "acknowledge"]):
        code = main(["--db", world["url"], "--user", "sup.a", *command, str(world["review"].id)])
        err = capsys.readouterr().err
        assert code == 2 and "is not yours" in err and WRITER not in err


def test_someone_who_may_see_the_review_is_still_told_whose_it_is(world):
    with pytest.raises(PermissionDenied, match=f"belongs to {WRITER}"):
        reviews.save_answers(world["review"].id, {"c1": "no"}, "mod", world["review"].version)
