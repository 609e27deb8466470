"""The officer's feedback sheet for one reviewed case."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from qatt.loop.actions import days_overdue
from qatt.errors import QattError
from qatt.reporting.filters import ReportFilter, SUBMITTED, Vocabulary, answer_text, form_questions, humanise
from qatt.reporting.figures import ActionRow, ReportHeader, _header
from qatt.storage import models as m


@dataclass
class FeedbackAnswer:
    question: str
    answer: str


@dataclass
class FeedbackSheet:
    """What the officer is told about one reviewed case."""

    header: ReportHeader
    review_id: int
    case_reference: str
    area: str
    team: str
    officer: str
    reviewer: str
    role: str
    form_title: str
    period: str
    submitted_at: Optional[dt.datetime]
    suggested_grade: str
    grade: str
    override_rationale: str
    answers: List[FeedbackAnswer]
    strengths: str
    improvements: str
    feedback: str
    feedback_date: Optional[dt.date]
    actions: List[ActionRow]

    def as_dict(self) -> Dict[str, Any]:
        data = dict(self.__dict__)
        data["header"] = self.header.as_dict()
        data["answers"] = [a.__dict__ for a in self.answers]
        data["actions"] = [a.as_dict() for a in self.actions]
        return data


def feedback_sheet(review_id: int, *, actor: str = "", marking: Optional[str] = None,
                   today: Optional[dt.date] = None, vocab: Optional[Vocabulary] = None) -> FeedbackSheet:
    vocab = vocab or Vocabulary.load()
    today = today or dt.date.today()
    review = (m.Review.select(m.Review, m.SampleItem, m.Case, m.Sample, m.FormVersion)
              .join(m.SampleItem).join(m.Case).switch(m.SampleItem).join(m.Sample)
              .switch(m.Review).join(m.FormVersion).where(m.Review.id == review_id).first())
    if review is None:
        raise QattError(f"There is no review {review_id}; check the review number.")
    if actor:
        from qatt.trust import visibility

        visibility.check(review, actor)
    if review.status != SUBMITTED:
        raise QattError(f"Review {review_id} is still a draft; submit it before printing the officer's feedback.")
    case, version = review.sample_item.case, review.form_version
    stored = {a.question_id: a.value for a in m.Answer.select().where(m.Answer.review == review)}
    answers = [FeedbackAnswer(q.header, answer_text(q, stored[q.id], vocab))
               for q in form_questions(version.content) if stored.get(q.id) not in (None, "")]
    actions = []
    for action in m.Action.select().where(m.Action.review == review).order_by(m.Action.id):
        overdue = days_overdue(action.status, action.due_date, today)
        actions.append(ActionRow(action.id, review.id, case.reference, case.area, action.text, action.owner,
                                 action.due_date, action.status, overdue))
    return FeedbackSheet(
        header=_header("Case review feedback", ReportFilter(), marking, actor, grades=False),
        review_id=review.id, case_reference=case.reference, area=case.area, team=case.team, officer=case.officer,
        reviewer=review.reviewer, role=review.role, form_title=version.title or humanise(version.form_id),
        period=review.sample_item.sample.period, submitted_at=review.submitted_at,
        suggested_grade=vocab.grade_label(review.suggested_grade) if review.suggested_grade else "",
        grade=vocab.grade_label(review.grade), override_rationale=review.override_rationale, answers=answers,
        strengths=review.strengths, improvements=review.improvements, feedback=review.feedback,
        feedback_date=review.feedback_date, actions=actions)
