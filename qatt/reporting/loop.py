"""Figures of the improvement loop for the reports: how many of the officers' feedback records were
acknowledged (with the interval) and the oldest still waiting; where the actions raised from the
period's reviews stand."""

from __future__ import annotations

import datetime as dt
from typing import Dict

import peewee

from qatt import stats
from qatt.loop import actions
from qatt.loop.acknowledgement import AcknowledgementFigures
from qatt.reporting.filters import SECOND, FIRST, SUBMITTED, ReportFilter, _filtered
from qatt.storage import models as m


def acknowledgement_figures(flt: ReportFilter) -> AcknowledgementFigures:
    """Of the submitted reviews (either role) in the filter that record feedback to the officer."""
    ack = m.FeedbackAcknowledgement
    query = (m.Review.select(m.Review.id, m.Review.feedback_date, ack.id)
             .join(m.SampleItem).join(m.Case).switch(m.SampleItem).join(m.Sample)
             .switch(m.Review).join(m.FormVersion)
             .switch(m.Review).join(ack, peewee.JOIN.LEFT_OUTER, on=(ack.review == m.Review.id))
             .where((m.Review.status == SUBMITTED) & m.Review.role.in_([FIRST, SECOND])
                    & ((m.Review.feedback != "") | m.Review.feedback_date.is_null(False))))
    rows = list(_filtered(query, flt).tuples())
    acknowledged = sum(1 for _id, _date, ack_id in rows if ack_id is not None)
    waiting = sorted((date, review_id) for review_id, date, ack_id in rows if ack_id is None and date is not None)
    oldest = waiting[0] if waiting else (None, None)
    return AcknowledgementFigures(len(rows), stats.wilson(acknowledged, len(rows)), oldest[0], oldest[1])


def action_status_counts(flt: ReportFilter, today: dt.date) -> actions.ActionSummary:
    """Where the actions raised from the filter's submitted reviews stand, by status, with overdue."""
    query = (m.Action.select(m.Action.status, m.Action.due_date)
             .join(m.Review).join(m.SampleItem).join(m.Case).switch(m.SampleItem).join(m.Sample)
             .switch(m.Review).join(m.FormVersion).where(m.Review.status == SUBMITTED))
    counts: Dict[str, int] = {status: 0 for status in m.Action.STATUSES}
    overdue = []
    for status, due in _filtered(query, flt).tuples():
        counts[status] = counts.get(status, 0) + 1
        if actions.is_overdue(status, due, today):
            overdue.append(actions.days_overdue(status, due, today))
    return actions.ActionSummary(counts, len(overdue), max(overdue, default=0))
