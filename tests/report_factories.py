"""Fixture builders for report and export tests: cases, samples, form versions, reviews, answers,
themes and actions written straight through the models, so the expected figures are known exactly."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from qatt.storage import models as m

CP_AREA = "Domestic abuse referrals"
MOSOVO_AREA = "Sex offender management (MOSOVO)"


def child_protection_form(form_id: str = "cp_check", extra_questions: Sequence[Dict[str, Any]] = ()) -> Dict[str, Any]:
    """A small child-protection form in the agreed format (forms_spec.md)."""
    return {
        "id": form_id, "title": "Child protection case check", "area": CP_AREA, "version": "1.0", "scale": "g3",
        "sections": [{"id": "checks", "title": "Checks", "questions": [
            {"id": "c1", "type": "yes_no", "text": "Ethnicity recorded"},
            {"id": "c2", "type": "yes_no_na", "text": "Voice of the child recorded"},
            {"id": "c3_days", "type": "number", "text": "Days until the PPN reached CSC", "unit": "days"},
            {"id": "c9", "type": "grade", "scale": "supervision", "text": "Supervisory oversight"},
            {"id": "contact", "type": "choice", "text": "First contact",
             "options": [{"id": "phone", "label": "Phone"}, {"id": "visit", "label": "Visit"}]},
            {"id": "visit_date", "type": "date", "text": "Date of visit"},
            {"id": "notes", "type": "text", "text": "Notes", "required": False},
            {"id": "themes", "type": "themes", "text": "Themes"},
            *extra_questions,
        ]}],
    }


def mosovo_form() -> Dict[str, Any]:
    """The MOSOVO questions the reports read (a subset of forms/mosovo_di_check.yaml)."""
    questions = [
        {"id": "m1", "type": "yes_no", "text": "Visit made within the SOP timescale"},
        {"id": "m1_days_overdue", "type": "number", "text": "Days overdue", "show_if": {"question": "m1", "equals": "no"}},
        {"id": "m2", "type": "yes_no", "text": "Unannounced"},
        {"id": "m3", "type": "yes_no", "text": "Double-crewed"},
        {"id": "m4", "type": "yes_no_na", "text": "A supervisor ratified the exception with a recorded rationale"},
        {"id": "m7", "type": "yes_no", "text": "ARMS recorded on ViSOR"},
        {"id": "m10_oldest_task_days", "type": "number", "text": "Age of the oldest outstanding task"},
    ]
    return {"id": "mosovo_di_check", "title": "MOSOVO Detective Inspector SOP check", "area": MOSOVO_AREA,
            "version": "1.0", "scale": "compliance", "sections": [{"id": "visit", "title": "Visit", "questions": questions}]}


def make_form_version(content: Dict[str, Any]) -> m.FormVersion:
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
    return m.FormVersion.create(form_id=content["id"], version=content["version"], content_hash=digest,
                                title=content["title"], area=content["area"], content=content)


@dataclass
class Scenario:
    """A population, one sample per month and the means to add reviewed cases to it."""

    population: m.Population
    samples: Dict[str, m.Sample] = field(default_factory=dict)
    _next: int = 0

    def sample_for(self, period: str) -> m.Sample:
        if period not in self.samples:
            self.samples[period] = m.Sample.create(
                population=self.population, name=f"Round {period}", period=period, method="simple",
                params={"size": 10}, seed=str(1000 + len(self.samples)), population_fingerprint="ab" * 32,
                software_version="0.1.0", algorithm="sha256-rank", drawn_by="lead")
        return self.samples[period]

    def case(self, period: str, area: str = CP_AREA, team: str = "Team A", officer: str = "PC Smith",
             reference: Optional[str] = None) -> m.SampleItem:
        self._next += 1
        case = m.Case.create(population=self.population, reference=reference or f"CASE{self._next:05d}", area=area,
                             team=team, officer=officer)
        return m.SampleItem.create(sample=self.sample_for(period), case=case, position=self._next)


def make_scenario() -> Scenario:
    return Scenario(m.Population.create(name="Extract", row_count=100, fingerprint="ab" * 32))


def make_review(item: m.SampleItem, version: m.FormVersion, grade: str, answers: Optional[Dict[str, Any]] = None, *,
                role: str = "first", reviewer: str = "rev1", status: str = "submitted", strengths: str = "",
                improvements: str = "", feedback: str = "", actions: Sequence[Dict[str, Any]] = ()) -> m.Review:
    submitted = dt.datetime(2024, 5, 20, 10, 30) if status == "submitted" else None
    review = m.Review.create(sample_item=item, form_version=version, reviewer=reviewer, role=role, status=status,
                             grade=grade, suggested_grade=grade, strengths=strengths, improvements=improvements,
                             feedback=feedback, submitted_at=submitted)
    if answers:
        m.Answer.insert_many([{"review": review.id, "question_id": q, "value": v}
                              for q, v in answers.items()]).execute()
    for action in actions:
        m.Action.create(review=review, **action)
    return review
