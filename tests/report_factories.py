"""Fixture builders for report and export tests: cases, samples, form versions, reviews, answers,
themes and actions written straight through the models, so the expected figures are known exactly."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Sequence

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


HOSTILE_TEXT = '=HYPERLINK("http://evil.example","click") <b>bold</b> & <font'


@dataclass
class StandardData:
    """A known set of reviews whose figures the tests check by hand (see standard_data)."""

    scenario: Scenario
    cp: m.FormVersion
    mosovo: m.FormVersion
    reviews: Dict[str, m.Review]


def standard_data() -> StandardData:
    """April: 2 first reviews (good, inadequate). May: DA 3 first reviews (good, RI, RI) of which two have
    second reviews (RI, RI); Missing children 1 (good, Team B); one draft (ignored); 3 MOSOVO checks.

    c1 (yes/no): April yes, no; May yes, yes, no, yes -> May 3/4, April 1/2.
    c2 (yes/no/na): May na, yes, no, (missing) -> 1/2 with 1 N/A.
    Themes (May DA): voice_of_child strength x1; supervision weakness x2.
    """
    s = make_scenario()
    cp = make_form_version(child_protection_form())
    mosovo = make_form_version(mosovo_form())
    r: Dict[str, m.Review] = {}
    r["apr1"] = make_review(s.case("2024-04"), cp, "good", {"c1": "yes"})
    r["apr2"] = make_review(s.case("2024-04"), cp, "inadequate", {"c1": "no"})
    may1, may2 = s.case("2024-05", reference="=CMD|' /C calc'!A0"), s.case("2024-05")
    r["may1"] = make_review(may1, cp, "good", {
        "c1": "yes", "c2": "na", "c3_days": 3, "c9": "effective", "contact": "visit", "visit_date": "2024-05-02",
        "notes": HOSTILE_TEXT, "themes": {"voice_of_child": "strength", "supervision": "weakness"}},
        strengths=HOSTILE_TEXT, improvements="Record the plan", feedback="+44 call back",
        actions=[{"text": "-Chase the PPN", "owner": "DS Jones", "due_date": dt.date(2024, 5, 1), "status": "open"},
                 {"text": "Closed off", "owner": "DS Jones", "status": "done"}])
    r["may2"] = make_review(may2, cp, "requires_improvement", {
        "c1": "yes", "c2": "yes", "themes": {"supervision": "weakness"}}, improvements="Supervise sooner",
        actions=[{"text": "Brief the team", "owner": "@sergeant", "due_date": dt.date(2024, 7, 1), "status": "in progress"}])
    r["may3"] = make_review(s.case("2024-05"), cp, "requires_improvement", {"c1": "no", "c2": "no"})
    r["may4"] = make_review(s.case("2024-05", area="Missing children", team="Team B"), cp, "good", {"c1": "yes"})
    r["draft"] = make_review(s.case("2024-05"), cp, "inadequate", {"c1": "no"}, status="draft")
    r["may1_second"] = make_review(may1, cp, "requires_improvement", role="second", reviewer="checker")
    r["may2_second"] = make_review(may2, cp, "requires_improvement", role="second", reviewer="checker")
    mosovo_answers = [
        {"m1": "yes", "m2": "yes", "m3": "yes", "m7": "yes", "m10_oldest_task_days": 30},
        {"m1": "no", "m1_days_overdue": 5, "m2": "yes", "m3": "no", "m4": "yes", "m7": "yes"},
        {"m1": "no", "m1_days_overdue": 12, "m2": "no", "m3": "no", "m4": "no", "m7": "yes"},
    ]
    for i, answers in enumerate(mosovo_answers, start=1):
        r[f"mosovo{i}"] = make_review(s.case("2024-05", area=MOSOVO_AREA, team="MOSOVO"), mosovo,
                                      "compliant" if i == 1 else "partially_compliant", answers, reviewer="di")
    return StandardData(s, cp, mosovo, r)
