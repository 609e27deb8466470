"""Retention: purge case details and reviews older than a date, keeping anonymous aggregate figures.

Police information must not be kept longer than needed. A purge deletes the cases recorded before
the cut-off date together with their sample items, reviews, answers, actions, case studies and
assignments.
Before deleting, the grades of the submitted reviews are added to AggregateFigure (period, area,
form, grade, role, count) so trend reports keep working. Sample records (method, seed,
fingerprints) and population records stay, marked as purged. The purge is one transaction and is
recorded in the audit log as an erasure.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Dict, Tuple

import peewee

from qatt import audit, users
from qatt.errors import QattError
from qatt.storage import models as m
from qatt.storage.db import database_proxy, write_transaction


@dataclass(frozen=True)
class PurgePlan:
    before: dt.date
    cases: int
    reviews: int
    populations: int

    def as_dict(self) -> dict:
        return {"before": self.before.isoformat(), "cases": self.cases, "reviews": self.reviews,
                "populations": self.populations}


def _old_cases(before: dt.date) -> peewee.Query:
    return m.Case.select(m.Case.id).where(m.Case.recorded_date < before)


def _old_reviews(before: dt.date) -> peewee.Query:
    return (m.Review.select(m.Review.id)
            .join(m.SampleItem).join(m.Case)
            .where(m.Case.recorded_date < before))


def plan_purge(before: dt.date) -> PurgePlan:
    """What a purge would remove: shown to the user before they confirm."""
    cases = m.Case.select().where(m.Case.recorded_date < before).count()
    reviews = _old_reviews(before).count()
    populations = (m.Population.select(m.Population.id).join(m.Case)
                   .where(m.Case.recorded_date < before).distinct().count())
    return PurgePlan(before, cases, reviews, populations)


def _aggregate_grades(before: dt.date) -> Dict[Tuple[str, str, str, str, str], int]:
    period = peewee.fn.COALESCE(peewee.fn.NULLIF(m.Sample.period, ""), "")
    rows = (m.Review
            .select(period, m.Case.area, m.FormVersion.form_id, m.Review.grade, m.Review.role,
                    peewee.fn.COUNT(m.Review.id))
            .join(m.SampleItem).join(m.Case)
            .switch(m.SampleItem).join(m.Sample)
            .switch(m.Review).join(m.FormVersion)
            .where((m.Case.recorded_date < before) & (m.Review.status == "submitted"))
            .group_by(period, m.Case.area, m.FormVersion.form_id, m.Review.grade, m.Review.role)
            .tuples())
    return {(p or "", area or "", form or "", grade or "", role): n for p, area, form, grade, role, n in rows}


def purge(before: dt.date, actor: str, reason: str = "") -> PurgePlan:
    """Delete case details and reviews recorded before `before`. Administrators only."""
    users.require_role(actor, "admin", "purge case data")
    if before > dt.date.today():
        raise QattError(f"The purge date {before.isoformat()} is in the future; give a date in the past.")
    db = database_proxy.obj
    with write_transaction(db):
        summary = plan_purge(before)
        for (period, area, form_id, grade, role), count in _aggregate_grades(before).items():
            existing = m.AggregateFigure.get_or_none(
                (m.AggregateFigure.period == period) & (m.AggregateFigure.area == area)
                & (m.AggregateFigure.form_id == form_id) & (m.AggregateFigure.grade == grade)
                & (m.AggregateFigure.role == role))
            if existing:
                existing.count += count
                existing.save()
            else:
                m.AggregateFigure.create(period=period, area=area, form_id=form_id, grade=grade,
                                         role=role, count=count)
        touched = [p for (p,) in m.Population.select(m.Population.id).join(m.Case)
                   .where(m.Case.recorded_date < before).distinct().tuples()]
        # Delete leaves first: no reliance on ON DELETE CASCADE being enforced by the backend.
        items = m.SampleItem.select(m.SampleItem.id).where(m.SampleItem.case.in_(_old_cases(before)))
        reviews = m.Review.select(m.Review.id).where(m.Review.sample_item.in_(items))
        m.Answer.delete().where(m.Answer.review.in_(reviews)).execute()
        m.Action.delete().where(m.Action.review.in_(reviews)).execute()
        m.CaseStudy.delete().where(m.CaseStudy.review.in_(reviews)).execute()
        m.FeedbackAcknowledgement.delete().where(m.FeedbackAcknowledgement.review.in_(reviews)).execute()
        m.Review.delete().where(m.Review.id.in_(reviews)).execute()
        m.Assignment.delete().where(m.Assignment.sample_item.in_(items)).execute()
        m.SampleItem.update(replaces=None).where(m.SampleItem.replaces.in_(items)).execute()
        m.SampleItem.delete().where(m.SampleItem.id.in_(items)).execute()
        m.Case.delete().where(m.Case.recorded_date < before).execute()
        if touched:
            m.Population.update(purged=True).where(m.Population.id.in_(touched)).execute()
        audit.record(actor, audit.ERASURE, "retention", before.isoformat(),
                     {**summary.as_dict(), "reason": reason})
    return summary
