"""The officer's acknowledgement of the feedback on a reviewed case: the date they saw it and, if
they gave one, their comment. One per review; recording or changing it is audited. Reports give the
share of feedback acknowledged (with its count and interval) and the oldest still unacknowledged."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import peewee

from qatt import stats
from qatt.trust import audit, users, visibility
from qatt.dates import iso_date
from qatt.errors import QattError
from qatt.storage import models as m
from qatt.storage.db import database_proxy, write_transaction


def acknowledge(review_id: int, actor: str, on: Any = None, comment: str = "") -> m.FeedbackAcknowledgement:
    """Record that the officer has seen the feedback (on `on`, default today). The reviewer who gave
    the feedback, or a supervisor (moderator) or above, records it; recording again corrects it."""
    when = iso_date(on, "The acknowledgement date") or dt.date.today()
    if when > dt.date.today():
        raise QattError(f"The acknowledgement date {when.isoformat()} is in the future; give the day the officer "
                        "saw the feedback.")
    comment = (comment or "").strip()
    with write_transaction(database_proxy.obj):
        review = m.Review.get_or_none(m.Review.id == review_id)
        if review is None:
            raise QattError(f"There is no review {review_id}; check the review number.")
        # Refused without naming the reviewer (who may not see the review must not learn whose it is).
        if actor != review.reviewer:
            users.require_role(actor, "moderator", f"record an acknowledgement (review {review_id} is not yours)")
        visibility.check(review, actor)
        if review.status != "submitted":
            raise QattError(f"Review {review_id} is still a draft; feedback is acknowledged once it is submitted.")
        if not (review.feedback or "").strip() and review.feedback_date is None:
            raise QattError(f"Review {review_id} records no feedback to the officer; record the feedback first.")
        if review.feedback_date is not None and when < review.feedback_date:
            raise QattError(f"The acknowledgement date {when.isoformat()} is before the feedback was given "
                            f"({review.feedback_date.isoformat()}).")
        existing = m.FeedbackAcknowledgement.get_or_none(m.FeedbackAcknowledgement.review == review)
        old = ({"acknowledged_on": existing.acknowledged_on, "comment": existing.comment} if existing else None)
        if existing is None:
            existing = m.FeedbackAcknowledgement.create(review=review, acknowledged_on=when, comment=comment,
                                                        recorded_by=actor)
        else:
            existing.acknowledged_on, existing.comment, existing.recorded_by = when, comment, actor
            existing.recorded_at = m.utcnow()
            existing.save()
        audit.record(actor, audit.ALTERATION, "feedback_acknowledgement", review.id,
                     {"review": review.id, "old": old, "new": {"acknowledged_on": when, "comment": comment}})
    return existing


@dataclass
class FeedbackRow:
    """A submitted review with feedback to the officer, and whether the officer acknowledged it."""

    review_id: int
    case_reference: str
    officer: str
    reviewer: str
    feedback_date: Optional[dt.date]
    acknowledged_on: Optional[dt.date]
    comment: str

    def as_dict(self) -> Dict[str, Any]:
        return dict(self.__dict__)


def feedback_rows(viewer: str, unacknowledged_only: bool = False) -> List[FeedbackRow]:
    """Submitted reviews that record feedback, unacknowledged first (oldest feedback first). A
    reviewer sees their own reviews; a supervisor (moderator) or above sees everyone's."""
    ack = m.FeedbackAcknowledgement
    query = (m.Review.select(m.Review.id, m.Case.reference, m.Case.officer, m.Review.reviewer, m.Review.feedback_date,
                             ack.acknowledged_on, ack.comment)
             .join(m.SampleItem).join(m.Case)
             .switch(m.Review).join(ack, peewee.JOIN.LEFT_OUTER, on=(ack.review == m.Review.id))
             .where((m.Review.status == "submitted") & ((m.Review.feedback != "") | m.Review.feedback_date.is_null(False))))
    query = query.where(visibility.review_filter(viewer))
    if unacknowledged_only:
        query = query.where(ack.id.is_null())
    rows = [FeedbackRow(r[0], r[1], r[2] or "", r[3], r[4], r[5], r[6] or "") for r in query.tuples()]
    return sorted(rows, key=lambda r: (r.acknowledged_on is not None, r.feedback_date or dt.date.max, r.review_id))


def acknowledgement_of(review_id: int) -> Optional[m.FeedbackAcknowledgement]:
    return m.FeedbackAcknowledgement.get_or_none(m.FeedbackAcknowledgement.review == review_id)


@dataclass
class AcknowledgementFigures:
    """Of the submitted reviews in a report that record feedback, how many the officer acknowledged."""

    given: int
    acknowledged: stats.Proportion
    oldest_unacknowledged: Optional[dt.date]  # the earliest feedback date still unacknowledged
    oldest_review_id: Optional[int]

    def days_waiting(self, today: dt.date) -> int:
        return (today - self.oldest_unacknowledged).days if self.oldest_unacknowledged else 0

    @property
    def statement(self) -> str:
        if not self.given:
            return "No feedback to officers is recorded for this period."
        text = (f"Officers acknowledged {self.acknowledged.count} of {self.given} feedback records "
                f"({self.acknowledged.percent_text()}).")
        if self.oldest_unacknowledged:
            text += (f" The oldest unacknowledged feedback was given on "
                     f"{self.oldest_unacknowledged.strftime('%d %b %Y')} (review {self.oldest_review_id}).")
        elif self.acknowledged.count < self.given:
            text += " Unacknowledged feedback has no feedback date recorded."
        return text

    def as_dict(self) -> Dict[str, Any]:
        return {"given": self.given, "acknowledged": self.acknowledged.as_dict(),
                "oldest_unacknowledged": self.oldest_unacknowledged, "oldest_review_id": self.oldest_review_id,
                "statement": self.statement}
