"""What the audit log last recorded of each review, compared with the review as it is now.

Every audited change to a review carries `state`: a digest of the review after the change. `audit
verify` recomputes the digest of every review and names those that differ from the last one recorded,
so a grade or answer changed behind QATT's back (with the sqlite3 module, or by SQL on PostgreSQL) is
found even though it left no event.

Two forms of the digest. Events written by this version on (state "v2:<hex>") cover who reviewed, in
which role and which sampled case, besides the status, grade and answers: a first review turned into
a second (independent) one, or moved to another reviewer or case, is a change too. Events written
before record the plain "<hex>" of the status, grade and answers only, and are checked against that,
so databases audited before still verify.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Tuple

from qatt.storage import models as m

PAGE = 2000


V2 = "v2:"


def digest(status: str, grade: str, answers: Dict[str, Any]) -> str:
    """The first form: status, grade and answers only (what events before "v2:" record)."""
    payload = json.dumps({"status": status or "", "grade": grade or "", "answers": answers},
                         sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def digest_v2(role: str, reviewer: str, sample_item_id: int, status: str, grade: str, answers: Dict[str, Any]) -> str:
    """The recorded state now: who, in which role, of which sampled case, besides status, grade and answers."""
    payload = json.dumps({"role": role or "", "reviewer": reviewer or "", "sample_item": sample_item_id,
                          "status": status or "", "grade": grade or "", "answers": answers},
                         sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return V2 + hashlib.sha256(payload.encode("utf-8")).hexdigest()


def matches(state: str, role: str, reviewer: str, sample_item_id: int, status: str, grade: str,
            answers: Dict[str, Any]) -> bool:
    """Whether a recorded state (either form) is that of the review as given."""
    if state.startswith(V2):
        return state == digest_v2(role, reviewer, sample_item_id, status, grade, answers)
    return state == digest(status, grade, answers)


def state_of(review_id: int) -> str:
    """The digest of the review as stored now (read inside the caller's transaction)."""
    role, reviewer, item, status, grade = (
        m.Review.select(m.Review.role, m.Review.reviewer, m.Review.sample_item, m.Review.status, m.Review.grade)
        .where(m.Review.id == review_id).tuples().get())
    answers = {q: v for q, v in m.Answer.select(m.Answer.question_id, m.Answer.value)
               .where(m.Answer.review == review_id).tuples()}
    return digest_v2(role, reviewer, item, status, grade, answers)


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


def _reviews() -> Iterator[Tuple[int, str, str, str, int, str, str, Dict[str, Any]]]:
    last = 0
    while True:
        page = list(m.Review.select(m.Review.id, m.Case.reference, m.Review.role, m.Review.reviewer,
                                    m.Review.sample_item, m.Review.status, m.Review.grade)
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
    """Reviews whose reviewer, role, case, status, grade or answers are not what the log last recorded
    for them (as far as the recorded state's form covers), and reviews the log never recorded.
    Reviews whose events all predate state recording are not judged."""
    recorded = _recorded()
    found = []
    for review_id, reference, role, reviewer, item, status, grade, answers in _reviews():
        state = recorded.get(str(review_id))
        if state is None:
            found.append(StateDifference(review_id, reference, role, reviewer,
                                         "the audit log has no record of this review (made outside QATT?)"))
        elif state and not matches(state, role, reviewer, item, status, grade, answers):
            found.append(StateDifference(review_id, reference, role, reviewer,
                                         "its reviewer, role, case, grade, answers or status differ from what the "
                                         "audit log last recorded (changed outside QATT?)"))
    return found
