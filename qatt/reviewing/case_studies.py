"""Good- and poor-practice case studies: submitted reviews chosen as examples for the self-assessment pack.

The inspectorate's child-protection reports illustrate their findings with short case studies
(DOMAIN §5, D4 item 3). A reviewer, or a QA lead for anyone's review, marks a submitted review as
one and writes a short account without names; the pack prints them per area. Every change is
audited with old and new values, like any other change to a review.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional

import peewee

from qatt.trust import audit, users
from qatt.errors import QattError
from qatt.storage import models as m
from qatt.storage.db import database_proxy, write_transaction

KIND_LABELS = {"good": "Good practice", "poor": "Poor practice"}
CHOOSE_ROLE = "qa_lead"  # may choose anyone's review; a reviewer may choose their own


@dataclass(frozen=True)
class CaseStudyText:
    kind: str
    title: str
    summary: str

    def as_dict(self) -> Dict[str, str]:
        return {"kind": self.kind, "title": self.title, "summary": self.summary}


def _review_for_case_study(review_id: int, actor: str) -> m.Review:
    review = m.Review.get_or_none(m.Review.id == review_id)
    if review is None:
        raise QattError(f"There is no review {review_id}; check the number.")
    if review.reviewer != actor:
        from qatt.trust import visibility

        users.require_role(actor, CHOOSE_ROLE, "choose another reviewer's review as a case study")
        visibility.check(review, actor)  # not a review they are blind to
    if review.status != "submitted":
        raise QattError(f"Review {review.id} is still a draft; submit it before choosing it as a case study.")
    return review


def case_study_of(review_id: int) -> Optional[CaseStudyText]:
    study = m.CaseStudy.get_or_none(m.CaseStudy.review == review_id)
    return CaseStudyText(study.kind, study.title, study.summary) if study else None


def record_case_study(review_id: int, actor: str, kind: str, title: str, summary: str) -> m.CaseStudy:
    """Choose a submitted review as a case study, or rewrite the one it is. Title and summary are
    required; they go into the pack as written, so they must hold no names."""
    if kind not in KIND_LABELS:
        raise QattError(f"A case study shows good or poor practice; {kind!r} is neither (use good or poor).")
    title, summary = (title or "").strip(), (summary or "").strip()
    if not title or not summary:
        raise QattError("Give the case study a title and a short account of what happened (without names).")
    with write_transaction(database_proxy.obj):
        review = _review_for_case_study(review_id, actor)
        study = m.CaseStudy.get_or_none(m.CaseStudy.review == review)
        new = CaseStudyText(kind, title, summary)
        old = CaseStudyText(study.kind, study.title, study.summary) if study else None
        if old == new:
            raise QattError("The case study is unchanged; nothing was saved.")
        if study is None:
            study = m.CaseStudy.create(review=review, kind=kind, title=title, summary=summary, recorded_by=actor)
        else:
            study.kind, study.title, study.summary, study.recorded_by = kind, title, summary, actor
            study.recorded_at = m.utcnow()
            study.save()
        audit.record(actor, audit.ALTERATION, "review", review.id, {"case_study": _change(old, new)})
    return study


def remove_case_study(review_id: int, actor: str) -> None:
    """Stop using a review as a case study."""
    with write_transaction(database_proxy.obj):
        review = _review_for_case_study(review_id, actor)
        study = m.CaseStudy.get_or_none(m.CaseStudy.review == review)
        if study is None:
            raise QattError(f"Review {review.id} is not a case study.")
        old = CaseStudyText(study.kind, study.title, study.summary)
        study.delete_instance()
        audit.record(actor, audit.ALTERATION, "review", review.id, {"case_study": _change(old, None)})


def _change(old: Optional[CaseStudyText], new: Optional[CaseStudyText]) -> Dict[str, Any]:
    return {"old": old.as_dict() if old else None, "new": new.as_dict() if new else None}


# --------------------------------------------------------------------------- suggested by reviewers

# The answers of the forms' "case-study candidate" question (case_study, c15) that suggest one.
CANDIDATE_ANSWERS = {"good_practice": "good", "poor_practice": "poor"}


@dataclass(frozen=True)
class SuggestedCaseStudy:
    """A submitted review whose reviewer answered the candidate question good or poor practice,
    not yet chosen as a case study: the QA lead's list to choose from (an account is still needed)."""

    review_id: int
    case_reference: str
    area: str
    period: str
    reviewer: str
    kind: str  # good | poor

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    def as_dict(self) -> Dict[str, Any]:
        return {"review_id": self.review_id, "case_reference": self.case_reference, "area": self.area,
                "period": self.period, "reviewer": self.reviewer, "kind": self.kind, "kind_label": self.kind_label}


def suggested_kind(review_id: int) -> Optional[str]:
    """'good' or 'poor' when the review's own answers suggest it as a case study, else None."""
    for (value,) in (m.Answer.select(m.Answer.value)
                     .where(m.Answer.review == review_id, m.Answer.value.in_(list(CANDIDATE_ANSWERS))).tuples()):
        return CANDIDATE_ANSWERS.get(value)
    return None


def suggested_case_studies(actor: str, period_from: str = "", period_to: str = "",
                           areas: Optional[list] = None) -> list:
    """Submitted reviews suggested as case studies by their answers and not yet chosen, newest first.
    A QA lead (who chooses case studies) sees everyone's; anyone else only their own reviews."""
    query = (m.Answer.select(m.Review.id, m.Case.reference, m.Case.area, m.Sample.period, m.Review.reviewer,
                             m.Answer.value)
             .join(m.Review).join(m.SampleItem).join(m.Case)
             .switch(m.SampleItem).join(m.Sample)
             .switch(m.Review).join(m.CaseStudy, peewee.JOIN.LEFT_OUTER)
             .where(m.Review.status == "submitted", m.Answer.value.in_(list(CANDIDATE_ANSWERS)),
                    m.CaseStudy.id.is_null(True)))
    if period_from:
        query = query.where(m.Sample.period >= period_from)
    if period_to:
        query = query.where(m.Sample.period <= period_to)
    if areas:
        query = query.where(m.Case.area.in_(list(areas)))
    if not users.has_role(actor, CHOOSE_ROLE):
        query = query.where(m.Review.reviewer == actor)
    from qatt.trust import visibility

    query = query.where(visibility.review_filter(actor))  # the blind rule: a held case's other review stays hidden
    rows = {}
    for review_id, reference, area, period, reviewer, value in query.tuples():
        rows.setdefault(review_id, SuggestedCaseStudy(review_id, reference, area, period, reviewer,
                                                      CANDIDATE_ANSWERS[value]))
    return sorted(rows.values(), key=lambda s: (s.period, s.review_id), reverse=True)
