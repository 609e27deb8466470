"""What the audit log last recorded of each review, compared with the review as it is now.

Every audited change to a review carries `state`: a digest of its status, overall grade and answers
after the change. `audit verify` recomputes the digest of every review and names those that differ
from the last one recorded, so a grade or answer changed behind QATT's back (with the sqlite3 module,
or by SQL on PostgreSQL) is found even though it left no event.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Tuple

from qatt.storage import models as m

PAGE = 2000


def digest(status: str, grade: str, answers: Dict[str, Any]) -> str:
    payload = json.dumps({"status": status or "", "grade": grade or "", "answers": answers},
                         sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def state_of(review_id: int) -> str:
    """The digest of the review as stored now (read inside the caller's transaction)."""
    status, grade = m.Review.select(m.Review.status, m.Review.grade).where(m.Review.id == review_id).tuples().get()
    answers = {q: v for q, v in m.Answer.select(m.Answer.question_id, m.Answer.value)
               .where(m.Answer.review == review_id).tuples()}
    return digest(status, grade, answers)


@dataclass(frozen=True)
class StateDifference:
    review_id: int
    case_reference: str
    role: str
    reviewer: str
    problem: str

    def as_dict(self) -> Dict[str, Any]:
        return {"review_id": self.review_id, "case_reference": self.case_reference, "role": self.role,
                "reviewer": self.reviewer, "problem": self.problem}

    def text(self) -> str:
        return (f"review {self.review_id} (case {self.case_reference}, {self.role} review by {self.reviewer}): "
                f"{self.problem}")


def _recorded() -> Dict[str, Optional[str]]:
    """review id (text) -> the newest recorded state ('' when its events record none: older events)."""
    states: Dict[str, Optional[str]] = {}
    query = (m.AuditEvent.select(m.AuditEvent.object_id, m.AuditEvent.details)
             .where(m.AuditEvent.object_type == "review").order_by(m.AuditEvent.id))
    for object_id, details in query.tuples().iterator():
        if isinstance(details, str):
            details = json.loads(details) if details else None
        if isinstance(details, dict) and isinstance(details.get("state"), str):
            states[object_id] = details["state"]
        else:
            states.setdefault(object_id, "")
    return states


def _reviews() -> Iterator[Tuple[int, str, str, str, str, str, Dict[str, Any]]]:
    last = 0
    while True:
        page = list(m.Review.select(m.Review.id, m.Case.reference, m.Review.role, m.Review.reviewer, m.Review.status,
                                    m.Review.grade)
                    .join(m.SampleItem).join(m.Case).where(m.Review.id > last)
                    .order_by(m.Review.id).limit(PAGE).tuples())
        if not page:
            return
        answers: Dict[int, Dict[str, Any]] = {row[0]: {} for row in page}
        for review_id, question_id, value in (m.Answer.select(m.Answer.review, m.Answer.question_id, m.Answer.value)
                                              .where(m.Answer.review.between(page[0][0], page[-1][0])).tuples()):
            if review_id in answers:
                answers[review_id][question_id] = value
        for row in page:
            yield (*row, answers[row[0]])
        last = page[-1][0]


def differing_reviews() -> List[StateDifference]:
    """Reviews whose grade or answers are not what the log last recorded for them, and reviews the log
    never recorded. Reviews whose events all predate state recording are not judged."""
    recorded = _recorded()
    found = []
    for review_id, reference, role, reviewer, status, grade, answers in _reviews():
        state = recorded.get(str(review_id))
        if state is None:
            found.append(StateDifference(review_id, reference, role, reviewer,
                                         "the audit log has no record of this review (made outside QATT?)"))
        elif state and state != digest(status, grade, answers):
            found.append(StateDifference(review_id, reference, role, reviewer,
                                         "its grade, answers or status differ from what the audit log last "
                                         "recorded (changed outside QATT?)"))
    return found
