"""Tables of standardisation exercises (schema version 9): a QA lead's set of reference cases, the
reviewers invited, and each reviewer's blind grading of each case on the usual form.

Kept apart from models.py so the exercises' schema reads in one place; same base model and proxy."""

from __future__ import annotations

import peewee

from qatt.storage.models import BaseModel, Case, CharField, FormVersion, JSONField, TextField, utcnow


class Exercise(BaseModel):
    STATUSES = ("open", "closed")

    name = CharField(max_length=300)
    form_version = peewee.ForeignKeyField(FormVersion, backref="exercises")
    reference_source = TextField(default="")  # e.g. "Agreed by the panel on 3 May" or "HMICFRS 2022"
    previous = peewee.ForeignKeyField("self", null=True, backref="repeats", on_delete="SET NULL")
    status = CharField(max_length=10, default="open")
    created_by = CharField(max_length=150)
    created_at = peewee.DateTimeField(default=utcnow)
    closed_at = peewee.DateTimeField(null=True)


class ExerciseCase(BaseModel):
    exercise = peewee.ForeignKeyField(Exercise, backref="cases", on_delete="CASCADE")
    case = peewee.ForeignKeyField(Case, backref="exercise_cases", on_delete="CASCADE")
    position = peewee.IntegerField()
    reference_grade = CharField(max_length=50, default="")  # '' when no reference grade was agreed

    class Meta:
        indexes = ((("exercise", "case"), True),)


class ExerciseInvite(BaseModel):
    exercise = peewee.ForeignKeyField(Exercise, backref="invites", on_delete="CASCADE")
    reviewer = CharField(max_length=150)
    invited_by = CharField(max_length=150)
    invited_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("exercise", "reviewer"), True),)


class ExerciseGrade(BaseModel):
    exercise_case = peewee.ForeignKeyField(ExerciseCase, backref="grades", on_delete="CASCADE")
    reviewer = CharField(max_length=150)
    grade = CharField(max_length=50)
    answers = JSONField(null=True)
    submitted_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("exercise_case", "reviewer"), True),)


EXERCISE_MODELS = [Exercise, ExerciseCase, ExerciseInvite, ExerciseGrade]
