"""Demo reviews: a year of monthly samples of the demo population, graded through the real engines,
so a first run shows a living system (review worklist, moderation figures, dashboard trends)."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from qatt import browse, demo, reports
from qatt.reviewing import forms, reviews
from qatt.selection import assignments, sampling
from qatt.trust import audit, users
from qatt.cli import main
from qatt.errors import Cancelled
from qatt.progress import CancelToken
from qatt.storage import db as dbmod
from qatt.storage import models as m
from qatt.storage.db import database_proxy
from tests.conftest import DEMO_ACTOR, demo_copy

ACTOR = DEMO_ACTOR

# One worker loads the demo database once for this module and test_comparison (pytest-xdist runs the
# group on one worker; see demo_template).
pytestmark = pytest.mark.xdist_group("demo_template")


def _fresh_database(path):
    database = dbmod.open_database(str(path))
    users.register_login(ACTOR)
    return database


@pytest.fixture(scope="module")
def demo_url(demo_template, tmp_path_factory):
    """One demo database for the read-only tests of this module."""
    return demo_copy(demo_template, tmp_path_factory.mktemp("demo")), demo_template[1]


@pytest.fixture
def demo_db(demo_url):
    url, made = demo_url
    database = dbmod.open_database(url)
    yield made
    database.close()


def _submitted(role=None):
    query = m.Review.select().where(m.Review.status == "submitted")
    return list(query.where(m.Review.role == role) if role else query)


def test_one_verifiable_sample_a_month_for_twelve_months(demo_db):
    samples = list(m.Sample.select().order_by(m.Sample.period))
    assert [s.id for s in samples] == demo_db.samples
    assert [s.period for s in samples] == reports.months_between("2023-04", "2024-03")
    assert all(s.method == "stratified" and s.drawn_by == demo.DEMO_QA_LEAD for s in samples)
    assert all(sampling.verify_sample(s.id).verified for s in samples)
    # Each sample holds cases recorded in its own month, up to PER_AREA of each area.
    for sample in samples:
        cases = [item.case for item in sample.items]
        assert {str(c.recorded_date)[:7] for c in cases} == {sample.period}
        assert max(Counter(c.area for c in cases).values()) <= demo.PER_AREA


def test_the_counts_of_reviews_match_what_was_made(demo_db):
    items = m.SampleItem.select().count()
    first, second = _submitted("first"), _submitted("second")
    assert (len(first), len(second)) == (demo_db.first_reviews, demo_db.second_reviews)
    assert demo_db.first_reviews == items - demo.OPEN_FOR_ACTOR - demo.DRAFTS
    assert 150 <= demo_db.first_reviews + demo_db.second_reviews <= 300
    assert 0.15 <= len(second) / len(first) <= 0.45
    assert m.Review.select().where(m.Review.status == "draft").count() == demo.DRAFTS == demo_db.drafts
    assert {r.reviewer for r in first} <= set(demo.DEMO_SUPERVISORS.values())
    assert {r.reviewer for r in second} <= set(demo.DEMO_MODERATORS)
    assert m.Action.select().count() == demo_db.actions > 0


def test_every_submitted_review_is_complete_with_a_realistic_mix(demo_db):
    answers = Counter()
    themes = Counter()
    critical_failures = 0
    for review in _submitted():
        form = reviews.form_of(review)
        given = reviews.answers_of(review)
        assert forms.missing_required(form, given) == []
        assert review.grade and review.suggested_grade and review.feedback and review.feedback_date
        if review.grade != review.suggested_grade:
            assert review.override_rationale.strip()
        answers.update(v for v in given.values() if v in ("yes", "no", "na"))
        themes.update(p for q in form.questions() if q.type == "themes" for p in (given.get(q.id) or {}).values())
        critical_failures += any(q.critical and given.get(q.id) == "no" for q in form.questions())
    assert answers["yes"] > 5 * answers["no"] > 0 and answers["na"] > 0
    assert themes["strength"] > 0 and themes["weakness"] > 0
    assert 0 < critical_failures < len(_submitted()) / 4
    overridden = [r for r in _submitted() if r.grade != r.suggested_grade]
    assert len(overridden) == demo_db.overrides > 0


def test_reviews_are_made_through_the_review_engine_and_audited(demo_db):
    assert audit.verify_chain().ok
    review = _submitted("second")[0]
    trail = [e.details for e in m.AuditEvent.select().where(m.AuditEvent.object_type == "review",
                                                             m.AuditEvent.object_id == str(review.id))]
    assert trail[0]["role"] == "second"
    assert trail[-1]["fields"]["status"] == {"old": "draft", "new": "submitted"}


def test_a_demo_month_gives_a_monthly_report_with_figures(demo_db):
    report = reports.monthly_report(reports.ReportFilter.for_month("2023-09"))
    assert report.overall.total > 0
    assert report.by_area and report.by_team
    assert any(item.months for item in report.compliance)
    assert report.themes and report.samples
    whole_year = reports.monthly_report(reports.ReportFilter("2023-04", "2024-03"))
    assert [d.group for d in whole_year.by_month] == reports.months_between("2023-04", "2024-03")
    assert whole_year.second_reviews == demo_db.second_reviews
    assert whole_year.mosovo is not None


def test_second_reviewers_disagree_sometimes_and_are_stricter_on_balance(demo_db):
    year = reports.ReportFilter("2023-04", "2024-03")
    pairs = reports.grade_pairs(year)
    assert len(pairs) == demo_db.second_reviews
    agreements = [c.agreement for c in reports.calibration(pairs, reports.FormCatalogue.for_filter(year),
                                                          reports.Vocabulary.load())]
    assert sum(a.higher for a in agreements) > sum(a.lower for a in agreements)
    agreed = sum(first == second for _form, _area, first, second in pairs)
    assert 0 < agreed < len(pairs)


def test_the_desktop_user_has_the_latest_months_open_cases(demo_db):
    latest = m.Sample.get_by_id(demo_db.samples[-1])
    rows = assignments.completion(period=latest.period, reviewer=ACTOR)
    assert [(r.assigned, r.not_started, r.overdue) for r in rows] == [(demo.OPEN_FOR_ACTOR, demo.OPEN_FOR_ACTOR, 0)]
    states = Counter(w.status for w in browse.review_worklist(latest.id))
    assert (states["not started"], states["draft"]) == (demo.OPEN_FOR_ACTOR, demo.DRAFTS)
    earlier = [r for r in assignments.completion(period="2023-10") if r.reviewer != ACTOR]
    assert earlier and all(r.submitted == r.assigned for r in earlier)


def _grades(path, seed):
    """Every review's grades and answers after loading a small demo with `seed` into a new database."""
    _fresh_database(path)
    population = demo.load_demo(ACTOR, cases=200, seed=seed)
    demo.load_demo_reviews(ACTOR, seed=seed, population_id=population.population_id, per_area=1)
    query = (m.Review.select(m.Case.reference, m.Review.role, m.Review.reviewer, m.Review.grade,
                             m.Review.override_rationale)
             .join(m.SampleItem).join(m.Case).order_by(m.Case.reference, m.Review.role))
    answers = sorted((r.sample_item.case.reference, r.role, json.dumps(reviews.answers_of(r), sort_keys=True))
                     for r in m.Review.select())
    return list(query.tuples()), answers


def test_the_same_seed_gives_the_same_reviews(tmp_path):
    first = _grades(tmp_path / "a.sqlite3", seed=5)
    second = _grades(tmp_path / "b.sqlite3", seed=5)
    assert first == second and len(first[0]) > 50
    assert _grades(tmp_path / "c.sqlite3", seed=6)[0] != first[0]


def test_the_desktop_user_may_start_an_assigned_case(demo_db):
    waiting = m.Assignment.select().where(m.Assignment.reviewer == ACTOR).first()
    with database_proxy.obj.atomic() as transaction:  # rolled back: the module's demo stays as loaded
        review = reviews.start_review(waiting.sample_item_id, ACTOR)
        assert review.status == "draft" and review.reviewer == ACTOR
        transaction.rollback()


def test_cancelling_keeps_nothing_of_the_demo_reviews(tmp_path):
    _fresh_database(tmp_path / "a.sqlite3")
    population = demo.load_demo(ACTOR, cases=200)
    token = CancelToken()

    def progress(done, _total, message):
        if message.startswith("Grading") and done == 10:
            token.cancel()

    with pytest.raises(Cancelled):
        demo.load_demo_reviews(ACTOR, population_id=population.population_id, progress=progress, cancel=token)
    assert (m.Sample.select().count(), m.Review.select().count(), m.Assignment.select().count()) == (0, 0, 0)
    assert audit.verify_chain().ok


def test_the_cli_demo_command_loads_reviews_on_request(tmp_path, capsys, training_db_path):
    url = str(training_db_path)
    assert main(["--db", url, "--user", ACTOR, "--json", "demo", "--cases", "150", "--reviews"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["rows"] == 150 and out["reviews"]["assigned_to_actor"] == demo.OPEN_FOR_ACTOR
    assert len(out["reviews"]["samples"]) == 12
    assert main(["--db", url, "--user", ACTOR, "--json", "demo", "--cases", "10"]) == 0
    assert "reviews" not in json.loads(capsys.readouterr().out)
