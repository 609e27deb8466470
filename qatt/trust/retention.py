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
from typing import Dict, List, Tuple

import peewee

from qatt import case_order
from qatt.trust import audit, users
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
        erased = _events_to_erase(reviews)
        _forget_references(before)
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
            for population_id in touched:
                case_order.drop_indexes(population_id)  # its cases' sort orders (qatt.case_order) go with them
        event = audit.record(actor, audit.ERASURE, "retention", before.isoformat(),
                             {**summary.as_dict(), "reason": reason, "erased_events": erased})
        audit.erase_details(erased, event.id)
    return summary


def _events_to_erase(reviews: peewee.Query) -> List[int]:
    """The audit events whose details hold case content of the reviews being purged (their answers,
    texts, actions and case studies). Their rows stay, with who, when, what kind and which record;
    only the details go, and the chain still verifies (audit: scheme 2)."""
    review_ids = [str(i) for (i,) in reviews.tuples()]
    action_ids = [str(i) for (i,) in m.Action.select(m.Action.id).where(m.Action.review.in_(reviews)).tuples()]
    found: List[int] = []
    # Every kind of event whose object is the review (its changes, consultations, the officer's
    # acknowledgement and comment: audit.REVIEW_IS_OBJECT), and the events of its actions.
    kinds = [(kind, review_ids) for kind in sorted(audit.REVIEW_IS_OBJECT)] + [("action", action_ids)]
    for object_type, ids in kinds:
        for start in range(0, len(ids), 500):
            found += [i for (i,) in m.AuditEvent.select(m.AuditEvent.id)
                      .where((m.AuditEvent.object_type == object_type) & m.AuditEvent.object_id.in_(ids[start:start + 500]))
                      .tuples()]
    return sorted(found)


def _forget_references(before: dt.date) -> None:
    """Samples keep the references their exclusion window left out (to re-derive the draw); those of
    purged cases are removed, so no purged reference stays in the database."""
    purged = {ref for (ref,) in m.Case.select(m.Case.reference).where(m.Case.recorded_date < before).tuples()}
    kept = {ref for (ref,) in m.Case.select(m.Case.reference).where(~(m.Case.recorded_date < before)).tuples()}
    gone = purged - kept
    if not gone:
        return
    for sample in m.Sample.select(m.Sample.id, m.Sample.excluded_references).where(
            m.Sample.excluded_references.is_null(False)):
        refs = sample.excluded_references or []
        if any(ref in gone for ref in refs):
            (m.Sample.update(excluded_references=[ref for ref in refs if ref not in gone])
             .where(m.Sample.id == sample.id).execute())
