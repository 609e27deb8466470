"""A "good/poor practice" answer to the case-study candidate question puts the review on the QA
lead's list of suggested case studies; choosing one still needs an account written without names."""

import json

import pytest

from qatt.reviewing import case_studies, reviews
from qatt.cli import main
from qatt.errors import QattError
from qatt.storage import db as dbmod
from qatt.storage import models as m
from tests.factories import make_population, make_sample, make_user, sample_items
from tests.unit.test_mosovo_rules import complete


@pytest.fixture
def checks(db):
    make_user("lead", "qa_lead")
    make_user("di.jones", "reviewer")
    make_user("di.brown", "reviewer")
    items = sample_items(make_sample(make_population(4, area="Sex offender management"),
                                     form_id="mosovo_di_check", period="2024-04"))
    made = {}
    for item, (who, candidate, submit) in zip(items, [("di.jones", "good_practice", True),
                                                       ("di.brown", "poor_practice", True),
                                                       ("di.jones", "none", True),
                                                       ("di.jones", "good_practice", False)]):
        review = reviews.start_review(item.id, who)
        form = reviews.form_of(review)
        review = reviews.save_answers(review.id, complete(form, **reviews.answers_of(review), case_study=candidate),
                                      who, review.version)
        if submit:
            review = reviews.submit_review(review.id, who, review.version)
        made[item.case.reference] = review
    return made


def test_submitted_candidates_are_suggested_until_chosen(checks):
    suggested = case_studies.suggested_case_studies("lead")
    assert {(s.case_reference, s.kind, s.reviewer) for s in suggested} == {
        ("REF0001", "good", "di.jones"), ("REF0002", "poor", "di.brown")}  # not "none", not the draft
    # A reviewer sees only their own suggestions.
    assert [s.case_reference for s in case_studies.suggested_case_studies("di.jones")] == ["REF0001"]
    good = checks["REF0001"]
    assert case_studies.suggested_kind(good.id) == "good"
    with pytest.raises(QattError, match="without names"):
        case_studies.record_case_study(good.id, "lead", "good", "", "")
    case_studies.record_case_study(good.id, "lead", "good", "Breach investigated at once",
                                   "The offender manager investigated a licence breach the same day.")
    assert [s.case_reference for s in case_studies.suggested_case_studies("lead")] == ["REF0002"]


def test_case_studies_suggested_on_the_command_line(checks, capsys, db):
    code = main(["--db", db.qatt_url, "--user", "lead", "--json", "case-studies", "--suggested"])
    dbmod.bind(db)
    out, _err = capsys.readouterr()
    rows = json.loads(out)
    assert code == 0 and sorted((r["case_reference"], r["kind_label"]) for r in rows) == [
        ("REF0001", "Good practice"), ("REF0002", "Poor practice")]
    main(["--db", db.qatt_url, "--user", "lead", "case-studies", "--suggested"])
    dbmod.bind(db)
    text = capsys.readouterr()[0]
    assert "Poor practice" in text and "an account without names" in text
    assert m.CaseStudy.select().count() == 0  # suggesting chooses nothing by itself
