"""The monthly report's executive summary: done actions waiting for a check are named whether or not
anything is overdue."""

from __future__ import annotations

import datetime as dt

import pytest

from qatt import reports
from qatt.storage import models as m
from tests import report_factories as f

MAY = reports.ReportFilter.for_month("2024-05")
TODAY = dt.date(2024, 6, 1)


@pytest.fixture
def data(db):
    return f.standard_data()


def test_done_actions_awaiting_verification_are_named_when_nothing_is_overdue(data):
    m.Action.update(status="done").where(m.Action.status == "open").execute()  # the one overdue action is done
    report = reports.monthly_report(MAY, actor="lead", today=TODAY)
    assert report.action_counts.overdue == 0 and report.action_counts.by_status["done"] == 2
    assert "2 done actions are awaiting verification by a supervisor." in report.summary.attention
    assert not any("overdue" in line for line in report.summary.attention)


def test_overdue_and_waiting_actions_are_two_sentences(data):
    report = reports.monthly_report(MAY, actor="lead", today=TODAY)
    assert "1 action is overdue (the oldest by 31 days)." in report.summary.attention
    assert "1 done action is awaiting verification by a supervisor." in report.summary.attention


def test_no_action_sentence_when_none_is_overdue_or_waiting(data):
    m.Action.update(status="verified").where(m.Action.status.in_(["open", "done"])).execute()
    report = reports.monthly_report(MAY, actor="lead", today=TODAY)
    assert not any("action" in line for line in report.summary.attention)
