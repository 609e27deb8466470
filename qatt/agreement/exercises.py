"""Standardisation exercises: a QA lead picks reference cases (optionally with a reference grade agreed
by a panel or taken from an inspection), invites reviewers, and each grades every case blind on the
usual form. Results: each reviewer against the reference and against the group, the group's
agreement (Fleiss' kappa, Krippendorff's alpha), the questions answered least alike and, for a
repeated exercise, the change since last time.

Blind: a reviewer never sees anyone else's grades; results are for QA leads (and administrators),
and once the exercise is closed each invited reviewer may see their own grades against the reference.
Every change is audited; results are computed from the stored grades only, so they can be recomputed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from qatt import stats
from qatt.trust import audit, users
from qatt.errors import PermissionDenied, QattError
from qatt.agreement.many_raters import (
    ManyRaterAgreement, QuestionDisagreement, fleiss_kappa, fleiss_table, krippendorff_alpha_ordinal,
    question_disagreement,
)
from qatt.storage import models as m
from qatt.storage.db import database_proxy, write_transaction
from qatt.storage.exercise_models import Exercise, ExerciseCase, ExerciseGrade, ExerciseInvite

OPEN, CLOSED = Exercise.STATUSES


def get_exercise(exercise_id: int) -> Exercise:
    exercise = Exercise.get_or_none(Exercise.id == exercise_id)
    if exercise is None:
        raise QattError(f"There is no standardisation exercise {exercise_id}; run 'exercise list' to see them.")
    return exercise


def _form(exercise: Exercise):
    from qatt.reviewing import forms

    return forms.form_from_version(exercise.form_version)


def _find_case(reference: str, population_id: Optional[int]) -> m.Case:
    query = m.Case.select().where(m.Case.reference == reference)
    if population_id is not None:
        query = query.where(m.Case.population == population_id)
    found = list(query.order_by(m.Case.id.desc()).limit(2))
    if not found:
        where = f" in population {population_id}" if population_id is not None else ""
        raise QattError(f"There is no case {reference!r}{where}; check the reference or import the extract first.")
    if len(found) > 1 and population_id is None:
        raise QattError(f"Case {reference!r} is in more than one population; say which with --population.")
    return found[0]


def create_exercise(actor: str, name: str, form_id: str, references: Sequence[str], *,
                    reference_grades: Optional[Dict[str, str]] = None, reference_source: str = "",
                    population_id: Optional[int] = None, previous_id: Optional[int] = None) -> Exercise:
    """A new open exercise on the current version of the form, with its reference cases in order."""
    from qatt.reviewing import reviews

    users.require_role(actor, "qa_lead", "set up a standardisation exercise")
    if not name.strip():
        raise QattError("Give the exercise a name (e.g. 'DA referrals, spring 2025').")
    references = [r.strip() for r in references if r.strip()]
    if not references:
        raise QattError("Choose at least one reference case.")
    if len(set(references)) != len(references):
        raise QattError("A reference case is listed twice; list each case once.")
    reference_grades = dict(reference_grades or {})
    unknown = sorted(set(reference_grades) - set(references))
    if unknown:
        raise QattError(f"A reference grade is given for {unknown[0]!r}, which is not one of the exercise's cases.")
    with write_transaction(database_proxy.obj):
        version = reviews.resolve_form_version(form_id, actor)
        from qatt.reviewing import forms

        scale = forms.form_from_version(version).scale
        for reference, grade in reference_grades.items():
            if grade not in [v.id for v in scale.values]:
                raise QattError(f"The reference grade {grade!r} for case {reference} is not on the {scale.title} "
                                f"scale; use one of {', '.join(v.id for v in scale.values)}.")
        previous = get_exercise(previous_id) if previous_id is not None else None
        exercise = Exercise.create(name=name.strip(), form_version=version, reference_source=reference_source.strip(),
                                   previous=previous, created_by=actor)
        for position, reference in enumerate(references, start=1):
            ExerciseCase.create(exercise=exercise, case=_find_case(reference, population_id), position=position,
                                reference_grade=reference_grades.get(reference, ""))
        audit.record(actor, audit.COLLECTION, "exercise", exercise.id,
                     {"form_id": version.form_id, "form_hash": version.content_hash, "cases": len(references),
                      "reference_grades": len(reference_grades), "previous": previous_id})
    return exercise


def invite(actor: str, exercise_id: int, reviewers: Sequence[str]) -> List[str]:
    """Invite reviewers (each once); returns those newly invited."""
    users.require_role(actor, "qa_lead", "invite reviewers to a standardisation exercise")
    added = []
    with write_transaction(database_proxy.obj):
        exercise = get_exercise(exercise_id)
        if exercise.status != OPEN:
            raise QattError(f"Exercise {exercise.id} is closed; set up a repeat to invite more reviewers.")
        for reviewer in reviewers:
            reviewer = reviewer.strip()
            if reviewer and not ExerciseInvite.select().where(ExerciseInvite.exercise == exercise,
                                                              ExerciseInvite.reviewer == reviewer).exists():
                users.ensure_user(reviewer)
                ExerciseInvite.create(exercise=exercise, reviewer=reviewer, invited_by=actor)
                added.append(reviewer)
        if added:
            audit.record(actor, audit.ALTERATION, "exercise", exercise.id, {"invited": added})
    return added


def _exercise_case(exercise: Exercise, reference: str) -> ExerciseCase:
    item = (ExerciseCase.select().join(m.Case)
            .where(ExerciseCase.exercise == exercise, m.Case.reference == reference).first())
    if item is None:
        raise QattError(f"Case {reference!r} is not one of exercise {exercise.id}'s reference cases.")
    return item


def submit_grade(actor: str, exercise_id: int, reference: str, answers: Optional[Dict[str, Any]] = None,
                 grade: str = "") -> ExerciseGrade:
    """The actor's blind grading of one reference case, on the exercise's form. Answers are checked as
    on a review; a blank grade takes the form's suggested grade. Once submitted it cannot change."""
    from qatt.reviewing import forms, grading

    with write_transaction(database_proxy.obj):
        exercise = get_exercise(exercise_id)
        if exercise.status != OPEN:
            raise QattError(f"Exercise {exercise.id} is closed; no more grades can be added.")
        if not ExerciseInvite.select().where(ExerciseInvite.exercise == exercise,
                                             ExerciseInvite.reviewer == actor).exists():
            raise PermissionDenied(f"{actor} is not invited to exercise {exercise.id}; ask the QA lead to invite you.")
        item = _exercise_case(exercise, reference)
        if ExerciseGrade.select().where(ExerciseGrade.exercise_case == item, ExerciseGrade.reviewer == actor).exists():
            raise QattError(f"You have already graded case {reference} in this exercise; grades cannot be changed.")
        form = _form(exercise)
        clean = {}
        for question_id, value in (answers or {}).items():
            if not form.has_question(question_id):
                raise QattError(f"The form {form.id} has no question {question_id!r}.")
            stored = forms.validate_answer(form.question(question_id), value)
            if stored is not None:
                clean[question_id] = stored
        visible = {q.id for q in forms.visible_questions(form, clean)}
        clean = {q: v for q, v in clean.items() if q in visible}
        grade = (grade or "").strip() or (grading.suggest_grade(form, clean).grade or "")
        if not grade:
            raise QattError(f"The form {form.id} suggests no grade for these answers; give the grade.")
        if grade not in [v.id for v in form.scale.values]:
            raise QattError(f"{grade!r} is not a grade on the {form.scale.title} scale; use one of "
                            f"{', '.join(v.id for v in form.scale.values)}.")
        result = ExerciseGrade.create(exercise_case=item, reviewer=actor, grade=grade, answers=clean)
        audit.record(actor, audit.COLLECTION, "exercise_grade", result.id,
                     {"exercise": exercise.id, "exercise_case": item.id, "answers": len(clean)})
    return result


def close_exercise(actor: str, exercise_id: int) -> Exercise:
    users.require_role(actor, "qa_lead", "close a standardisation exercise")
    with write_transaction(database_proxy.obj):
        exercise = get_exercise(exercise_id)
        if exercise.status == CLOSED:
            raise QattError(f"Exercise {exercise.id} is already closed.")
        exercise.status = CLOSED
        exercise.closed_at = m.utcnow()
        exercise.save()
        audit.record(actor, audit.ALTERATION, "exercise", exercise.id, {"status": {"old": OPEN, "new": CLOSED}})
    return exercise


def list_exercises(actor: str) -> List[Dict[str, Any]]:
    """QA leads see every exercise; others those they are invited to (names and counts only)."""
    query = Exercise.select().order_by(Exercise.id)
    if not users.has_role(actor, "qa_lead"):
        query = query.join(ExerciseInvite).where(ExerciseInvite.reviewer == actor)
    rows = []
    for exercise in query:
        graded = (ExerciseGrade.select().join(ExerciseCase).where(ExerciseCase.exercise == exercise)
                  .where(ExerciseGrade.reviewer == actor).count())
        rows.append({"id": exercise.id, "name": exercise.name, "form_id": exercise.form_version.form_id,
                     "status": exercise.status, "cases": exercise.cases.count(),
                     "invited": exercise.invites.count(), "you_graded": graded,
                     "previous": exercise.previous_id})
    return rows


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class ReviewerResult:
    reviewer: str
    graded: int
    against_reference: Optional[stats.Proportion]  # same grade as the reference (cases with one)
    reference_higher: int  # graded better than the reference
    reference_lower: int
    against_group: Optional[stats.Proportion]  # same as the most common grade of the others
    steps_above_group: Optional[float]  # mean steps above the others' average grade

    def as_dict(self) -> dict:
        return {"reviewer": self.reviewer, "graded": self.graded,
                "against_reference": self.against_reference.as_dict() if self.against_reference else None,
                "reference_higher": self.reference_higher, "reference_lower": self.reference_lower,
                "against_group": self.against_group.as_dict() if self.against_group else None,
                "steps_above_group": self.steps_above_group}


@dataclass
class ExerciseResults:
    exercise_id: int
    name: str
    form_id: str
    status: str
    categories: List[str]
    labels: List[str]
    cases: int
    reviewers: List[ReviewerResult]
    fleiss: ManyRaterAgreement
    alpha: ManyRaterAgreement
    questions: List[QuestionDisagreement]
    question_text: Dict[str, str]
    reference_agreement: Optional[stats.Proportion]  # all grades against the reference
    previous: Optional["ExerciseResults"] = None
    notes: List[str] = field(default_factory=list)

    def change(self) -> Dict[str, Optional[float]]:
        """This exercise minus the previous one, for each group figure both have."""
        if self.previous is None:
            return {}

        def minus(a: Optional[float], b: Optional[float]) -> Optional[float]:
            return None if a is None or b is None else a - b

        ref_now = self.reference_agreement.p if self.reference_agreement and self.reference_agreement.total else None
        ref_then = (self.previous.reference_agreement.p
                    if self.previous.reference_agreement and self.previous.reference_agreement.total else None)
        return {"fleiss_kappa": minus(self.fleiss.statistic, self.previous.fleiss.statistic),
                "krippendorff_alpha": minus(self.alpha.statistic, self.previous.alpha.statistic),
                "reference_agreement": minus(ref_now, ref_then)}

    def as_dict(self) -> dict:
        return {"exercise": self.exercise_id, "name": self.name, "form_id": self.form_id, "status": self.status,
                "categories": self.categories, "labels": self.labels, "cases": self.cases,
                "reviewers": [r.as_dict() for r in self.reviewers], "fleiss_kappa": self.fleiss.as_dict(),
                "krippendorff_alpha_ordinal": self.alpha.as_dict(),
                "questions": [dict(q.as_dict(), text=self.question_text.get(q.question_id, q.question_id))
                              for q in self.questions],
                "reference_agreement": self.reference_agreement.as_dict() if self.reference_agreement else None,
                "previous": self.previous.exercise_id if self.previous else None, "change": self.change(),
                "notes": list(self.notes)}

    def text(self) -> str:
        lines = [f"Standardisation exercise {self.exercise_id}: {self.name} ({self.status}); {self.cases} cases, "
                 f"{len(self.reviewers)} reviewers.", ""]
        lines.append(f"Fleiss' kappa (grade): {self.fleiss.text()} over {self.fleiss.cases} cases graded by every "
                     "reviewer.")
        lines.append(f"Krippendorff's alpha (ordinal): {self.alpha.text()} over {self.alpha.cases} cases.")
        if self.reference_agreement and self.reference_agreement.total:
            lines.append(f"Grades the same as the reference grade: {self.reference_agreement.percent_text()}.")
        lines.append("")
        for r in self.reviewers:
            parts = [f"{r.reviewer}: graded {r.graded}"]
            if r.against_reference and r.against_reference.total:
                parts.append(f"same as the reference {r.against_reference.percent_text()}, "
                             f"{r.reference_higher} higher, {r.reference_lower} lower")
            if r.against_group and r.against_group.total:
                parts.append(f"same as the group's most common grade {r.against_group.percent_text()}")
            if r.steps_above_group is not None:
                parts.append(f"{r.steps_above_group:+.2f} steps against the others' average")
            lines.append("; ".join(parts) + ".")
        if self.questions:
            lines.append("")
            lines.append("Questions answered least alike (share of pairs of reviewers who differed):")
            for q in self.questions[:5]:
                lines.append(f"  {self.question_text.get(q.question_id, q.question_id)}: "
                             f"{q.disagreement * 100:.0f}% over {q.cases} cases")
        change = self.change()
        if change:
            lines.append("")
            shown = {"fleiss_kappa": "Fleiss' kappa", "krippendorff_alpha": "Krippendorff's alpha",
                     "reference_agreement": "Agreement with the reference (points)"}
            for key, value in change.items():
                if value is not None:
                    scaled = value * 100 if key == "reference_agreement" else value
                    lines.append(f"Since exercise {self.previous.exercise_id}: {shown[key]} {scaled:+.2f}.")
        lines.extend(f"Note: {n}" for n in self.notes)
        return "\n".join(lines)


def _results(exercise: Exercise, with_previous: bool = True) -> ExerciseResults:
    from qatt import reports

    form = _form(exercise)
    categories = [v.id for v in form.scale.values]
    rank = {g: i for i, g in enumerate(categories)}
    cases = list(ExerciseCase.select().where(ExerciseCase.exercise == exercise).order_by(ExerciseCase.position))
    invited = sorted(i.reviewer for i in exercise.invites)
    grades: Dict[int, Dict[str, ExerciseGrade]] = {c.id: {} for c in cases}
    for g in (ExerciseGrade.select().join(ExerciseCase).where(ExerciseCase.exercise == exercise)
              .order_by(ExerciseGrade.id)):
        grades[g.exercise_case_id][g.reviewer] = g
    graders = sorted({r for per_case in grades.values() for r in per_case} | set(invited))
    units = [[g.grade for g in grades[c.id].values()] for c in cases]
    complete = [unit for unit, c in zip(units, cases) if graders and set(grades[c.id]) >= set(graders)]
    fleiss = fleiss_kappa(fleiss_table(complete, categories))
    alpha = krippendorff_alpha_ordinal(units, categories)
    reviewers = []
    for reviewer in graders:
        same_ref = with_ref = higher = lower = same_group = with_group = 0
        steps: List[float] = []
        graded = 0
        for c in cases:
            own = grades[c.id].get(reviewer)
            if own is None:
                continue
            graded += 1
            if c.reference_grade:
                with_ref += 1
                same_ref += own.grade == c.reference_grade
                higher += rank[own.grade] < rank[c.reference_grade]
                lower += rank[own.grade] > rank[c.reference_grade]
            others = [g.grade for r, g in grades[c.id].items() if r != reviewer]
            if others:
                counts = {g: others.count(g) for g in set(others)}
                top = max(counts.values())
                with_group += 1
                same_group += counts.get(own.grade, 0) == top
                steps.append(sum(rank[g] for g in others) / len(others) - rank[own.grade])
        reviewers.append(ReviewerResult(
            reviewer, graded, stats.wilson(same_ref, with_ref) if with_ref else None, higher, lower,
            stats.wilson(same_group, with_group) if with_group else None,
            sum(steps) / len(steps) if steps else None))
    all_with_ref = [(g.grade, c.reference_grade) for c in cases if c.reference_grade for g in grades[c.id].values()]
    reference = stats.wilson(sum(a == b for a, b in all_with_ref), len(all_with_ref)) if any(
        c.reference_grade for c in cases) else None
    questions = question_disagreement([[g.answers or {} for g in grades[c.id].values()] for c in cases])
    question_text = {q.id: reports.QuestionInfo(q.id, q.type, q.text).header for q in form.questions()}
    notes = []
    missing = [r for r in invited if not any(r in grades[c.id] for c in cases)]
    if missing:
        notes.append(f"{len(missing)} invited reviewer{'s have' if len(missing) != 1 else ' has'} graded nothing yet.")
    if len(complete) < len(cases):
        notes.append(f"Fleiss' kappa uses the {len(complete)} of {len(cases)} cases graded by every reviewer; "
                     "Krippendorff's alpha uses every case graded by at least two.")
    if len(cases) < 10:
        notes.append(f"Only {len(cases)} reference cases: the group figures move a lot from one exercise to the next.")
    previous = _results(exercise.previous, False) if with_previous and exercise.previous_id else None
    return ExerciseResults(exercise.id, exercise.name, exercise.form_version.form_id, exercise.status, categories,
                           [form.scale.label(c) for c in categories], len(cases), reviewers, fleiss, alpha,
                           questions, question_text, reference, previous, notes)


def exercise_results(actor: str, exercise_id: int) -> ExerciseResults:
    """The full results: QA leads and administrators. An invited reviewer, once the exercise is closed,
    gets only their own line (their grades against the reference and the group, no one else's)."""
    exercise = get_exercise(exercise_id)
    if users.has_role(actor, "qa_lead"):
        result = _results(exercise)
    else:
        invited = ExerciseInvite.select().where(ExerciseInvite.exercise == exercise,
                                                ExerciseInvite.reviewer == actor).exists()
        if not invited:
            raise PermissionDenied(f"Only a QA lead or an invited reviewer may see exercise {exercise.id}'s results.")
        if exercise.status != CLOSED:
            raise PermissionDenied(f"Exercise {exercise.id} is still open; results are shown once the QA lead "
                                   "closes it (the grading is blind).")
        result = _results(exercise)
        result.reviewers = [r for r in result.reviewers if r.reviewer == actor]
        result.questions = []
    audit.record(actor, audit.CONSULTATION, "exercise", exercise.id,
                 {"purpose": "results", "reviewers": len(result.reviewers)})
    return result
