"""Reviewer profiles on the Moderation page: the table and chart follow the core's profiles and its
rule on who sees whose."""

from __future__ import annotations

import pytest
from PySide6.QtCharts import QScatterSeries

from qatt.agreement.calibration import LENIENT
from qatt.storage.db import database_proxy
from tests.factories import make_user
from tests.report_factories import child_protection_form, make_form_version, make_review, make_scenario
from ui.context import AppContext
from ui.widgets.calibration_view import CalibrationView

ONE_UP = {"requires_improvement": "good", "inadequate": "requires_improvement"}


@pytest.fixture
def pairs(sqlite_db):
    make_user("lead", "qa_lead")
    make_user("checker", "moderator")
    make_user("kind")
    make_user("fair")
    s = make_scenario()
    cp = make_form_version(child_protection_form())
    for name in ("kind", "fair"):
        for i in range(30):
            truth = ("requires_improvement", "inadequate")[i % 2]
            item = s.case("2024-05" if i < 20 else "2024-06")
            make_review(item, cp, ONE_UP[truth] if name == "kind" else truth, reviewer=name)
            make_review(item, cp, truth, role="second", reviewer="checker")


def make_view(qtbot, actor):
    view = CalibrationView(AppContext(db=database_proxy.obj, db_label="test", actor=actor))
    qtbot.addWidget(view)
    return view


def test_a_qa_lead_sees_every_reviewer_with_the_lenient_one_flagged(qtbot, pairs):
    view = make_view(qtbot, "lead")
    rows = {row[0]: row for row in view.profiles.rows}
    assert set(rows) == {"kind", "fair"}
    assert rows["kind"][7] == LENIENT and rows["kind"][1] == "30"
    points = [s for s in view.chart.chart().series() if isinstance(s, QScatterSeries)][0]
    assert sorted(p.x() for p in points.points()) == [0.0, 100.0]
    assert "kind: graded 30 of 30 cases higher" in view.summary.text()


def test_codes_replace_names_and_the_period_narrows_the_pairs(qtbot, pairs):
    view = make_view(qtbot, "lead")
    view.coded.setChecked(True)
    assert {row[0] for row in view.profiles.rows} == {"Reviewer A", "Reviewer B"}
    assert "kind" not in view.summary.text()
    view.period_from.setCurrentText("2024-06")
    assert {row[1] for row in view.profiles.rows} == {"10"}


def test_a_reviewer_sees_only_their_own_profile(qtbot, pairs):
    view = make_view(qtbot, "fair")
    assert [row[0] for row in view.profiles.rows] == ["fair"]


def test_moderators_see_the_self_grades_beside_the_estimate(qtbot, pairs):
    view = make_view(qtbot, "checker")
    text = view.estimate.text()
    assert "an estimate" in text and "Self-graded (60 first reviews)" in text and "Estimate (60 pairs)" in text
    assert "Assumes:" in text
    assert make_view(qtbot, "fair").estimate.text() == ""
