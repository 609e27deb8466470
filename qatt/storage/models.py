"""The peewee models. Portable: nothing here is SQLite-only, so the same models serve PostgreSQL.

Large row sets (cases) are written in bulk through the connection (see importing.py) and read as
tuples; model instances are for the small tables.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import peewee

from qatt.storage.db import database_proxy


def utcnow() -> dt.datetime:
    """Naive UTC timestamp: stored identically by SQLite and PostgreSQL."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class JSONField(peewee.TextField):
    """JSON kept as text, so it works the same on every backend."""

    def db_value(self, value: Any) -> Any:
        if value is None:
            return None
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)

    def python_value(self, value: Any) -> Any:
        if value is None or value == "":
            return None
        return json.loads(value)


class BaseModel(peewee.Model):
    class Meta:
        database = database_proxy
        legacy_table_names = False


class SchemaVersion(BaseModel):
    """One row: the schema version the database is at."""

    version = peewee.IntegerField()
    migrated_at = peewee.DateTimeField(default=utcnow)


class User(BaseModel):
    ROLES = ("reviewer", "moderator", "qa_lead", "admin")

    username = peewee.CharField(max_length=150, unique=True)
    display_name = peewee.CharField(max_length=200, default="")
    role = peewee.CharField(max_length=20, default="reviewer")
    team = peewee.CharField(max_length=200, default="")
    active = peewee.BooleanField(default=True)
    created_at = peewee.DateTimeField(default=utcnow)


class Setting(BaseModel):
    """Force-wide settings (protective marking, retention period) shared by every desktop."""

    key = peewee.CharField(max_length=100, primary_key=True)
    value = JSONField()


class ColumnMapping(BaseModel):
    """A saved mapping from an extract's headers to Case fields, reused month after month."""

    name = peewee.CharField(max_length=200, unique=True)
    mapping = JSONField()  # {"reference": "Crime Ref", "recorded_date": "Date Recorded", ...}
    date_format = peewee.CharField(max_length=20, default="auto")
    created_by = peewee.CharField(max_length=150, default="")
    created_at = peewee.DateTimeField(default=utcnow)


class Population(BaseModel):
    """One imported case-list extract."""

    name = peewee.CharField(max_length=300)
    source_file = peewee.CharField(max_length=1000, default="")
    imported_at = peewee.DateTimeField(default=utcnow)
    imported_by = peewee.CharField(max_length=150, default="")
    row_count = peewee.IntegerField(default=0)
    # SHA-256 over the sorted, newline-joined case references: the population's identity.
    fingerprint = peewee.CharField(max_length=64, default="")
    mapping = JSONField(null=True)
    extra_columns = JSONField(null=True)  # header names kept in Case.extra, in file order
    purged = peewee.BooleanField(default=False)


class Case(BaseModel):
    # No index of its own: the unique (population, reference) index below serves every lookup by
    # population, and a second index cost the million-row import about a tenth of its time.
    population = peewee.ForeignKeyField(Population, backref="cases", on_delete="CASCADE", index=False)
    reference = peewee.CharField(max_length=200)
    area = peewee.CharField(max_length=200, default="")
    recorded_date = peewee.DateField(null=True)
    division = peewee.CharField(max_length=200, default="")
    team = peewee.CharField(max_length=200, default="")
    officer = peewee.CharField(max_length=200, default="")
    supervisor = peewee.CharField(max_length=200, default="")
    risk = peewee.CharField(max_length=100, default="")
    status = peewee.CharField(max_length=100, default="")
    summary = peewee.TextField(default="")
    extra = JSONField(null=True)

    class Meta:
        indexes = ((("population", "reference"), True),)


class Sample(BaseModel):
    """A recorded draw: everything needed to re-derive it (see sampling.verify_sample)."""

    population = peewee.ForeignKeyField(Population, backref="samples", on_delete="CASCADE")
    name = peewee.CharField(max_length=300, default="")
    period = peewee.CharField(max_length=7, default="")  # YYYY-MM the sample is for
    method = peewee.CharField(max_length=30)  # simple | stratified | systematic
    params = JSONField()  # size / per_stratum / proportional / stratify / reserves / ...
    filters = JSONField(null=True)
    exclude_months = peewee.IntegerField(default=0)
    excluded_references = JSONField(null=True)  # the references the exclusion window removed
    seed = peewee.CharField(max_length=100)  # decimal string: may exceed 64 bits
    population_fingerprint = peewee.CharField(max_length=64)
    eligible_fingerprint = peewee.CharField(max_length=64, default="")
    software_version = peewee.CharField(max_length=50)
    algorithm = peewee.CharField(max_length=50, default="")
    drawn_at = peewee.DateTimeField(default=utcnow)
    drawn_by = peewee.CharField(max_length=150, default="")
    supersedes = peewee.ForeignKeyField("self", null=True, backref="superseded_by", on_delete="SET NULL")
    redraw_reason = peewee.TextField(default="")
    form_id = peewee.CharField(max_length=100, default="")  # the form its reviews use, if fixed


class SampleItem(BaseModel):
    sample = peewee.ForeignKeyField(Sample, backref="items", on_delete="CASCADE")
    case = peewee.ForeignKeyField(Case, backref="sample_items", on_delete="CASCADE")
    position = peewee.IntegerField()  # draw order within the sample (reserves follow the main draw)
    stratum = peewee.CharField(max_length=500, default="")
    is_reserve = peewee.BooleanField(default=False)
    # Filled on a reserve when it is brought in to replace a sampled case.
    replaces = peewee.ForeignKeyField("self", null=True, backref="replaced_by", on_delete="SET NULL")
    replacement_reason = peewee.TextField(default="")
    replaced_at = peewee.DateTimeField(null=True)
    replaced_by_user = peewee.CharField(max_length=150, default="")
    active = peewee.BooleanField(default=True)  # False once replaced (the item stays on record)

    class Meta:
        indexes = ((("sample", "position"), True),)


class FormVersion(BaseModel):
    """An exact version of a grading form, identified by the hash of its canonical content."""

    form_id = peewee.CharField(max_length=100, index=True)
    version = peewee.CharField(max_length=50, default="")
    content_hash = peewee.CharField(max_length=64, unique=True)
    title = peewee.CharField(max_length=300, default="")
    area = peewee.CharField(max_length=200, default="")
    content = JSONField()  # the validated definition, canonical JSON
    created_at = peewee.DateTimeField(default=utcnow)
    created_by = peewee.CharField(max_length=150, default="")


class Assignment(BaseModel):
    """A sampled case given to a reviewer to grade by a date."""

    sample_item = peewee.ForeignKeyField(SampleItem, backref="assignments", on_delete="CASCADE")
    reviewer = peewee.CharField(max_length=150, index=True)
    role = peewee.CharField(max_length=10, default="first")  # first | second
    due_date = peewee.DateField(null=True)
    assigned_by = peewee.CharField(max_length=150, default="")
    assigned_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("sample_item", "role"), True),)


class Plan(BaseModel):
    """A standing plan: e.g. 'each supervisor reviews 5 of their team's finalised cases a month'."""

    name = peewee.CharField(max_length=300, unique=True)
    params = JSONField()
    created_by = peewee.CharField(max_length=150, default="")
    created_at = peewee.DateTimeField(default=utcnow)
    active = peewee.BooleanField(default=True)


class Review(BaseModel):
    ROLES = ("first", "second")
    STATUSES = ("draft", "submitted")

    sample_item = peewee.ForeignKeyField(SampleItem, backref="reviews", on_delete="CASCADE")
    form_version = peewee.ForeignKeyField(FormVersion, backref="reviews")
    reviewer = peewee.CharField(max_length=150, index=True)
    role = peewee.CharField(max_length=10, default="first")
    status = peewee.CharField(max_length=10, default="draft")
    suggested_grade = peewee.CharField(max_length=50, default="")
    grade = peewee.CharField(max_length=50, default="")
    override_rationale = peewee.TextField(default="")
    strengths = peewee.TextField(default="")
    improvements = peewee.TextField(default="")
    feedback = peewee.TextField(default="")
    feedback_date = peewee.DateField(null=True)
    version = peewee.IntegerField(default=1)  # optimistic concurrency: bumped on every save
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)
    submitted_at = peewee.DateTimeField(null=True)

    class Meta:
        indexes = ((("sample_item", "role"), True),)


class Answer(BaseModel):
    review = peewee.ForeignKeyField(Review, backref="answers", on_delete="CASCADE")
    question_id = peewee.CharField(max_length=100)
    value = JSONField(null=True)

    class Meta:
        indexes = ((("review", "question_id"), True),)


class Action(BaseModel):
    STATUSES = ("open", "in progress", "done")

    review = peewee.ForeignKeyField(Review, backref="actions", on_delete="CASCADE")
    text = peewee.TextField()
    owner = peewee.CharField(max_length=200, default="")
    due_date = peewee.DateField(null=True)
    status = peewee.CharField(max_length=20, default="open")
    created_at = peewee.DateTimeField(default=utcnow)


class Baseline(BaseModel):
    """Stored grade distributions to compare against (e.g. the 2021 and 2022 inspections)."""

    name = peewee.CharField(max_length=200)
    area = peewee.CharField(max_length=200, default="")  # "" = all areas
    counts = JSONField()  # {"good": 20, "requires_improvement": 31, "inadequate": 28}
    total = peewee.IntegerField()  # as published; may differ from the sum of counts
    source = peewee.TextField(default="")


class Recommendation(BaseModel):
    """Inspection recommendation tracker."""

    code = peewee.CharField(max_length=50, unique=True)
    text = peewee.TextField()
    timescale = peewee.CharField(max_length=100, default="")
    owner = peewee.CharField(max_length=200, default="")
    status = peewee.CharField(max_length=30, default="not started")
    evidence = peewee.TextField(default="")


class AggregateFigure(BaseModel):
    """Anonymous counts kept when case details are purged, so trends survive retention."""

    period = peewee.CharField(max_length=7)
    area = peewee.CharField(max_length=200)
    form_id = peewee.CharField(max_length=100, default="")
    grade = peewee.CharField(max_length=50)
    role = peewee.CharField(max_length=10, default="first")
    count = peewee.IntegerField()


class AuditEvent(BaseModel):
    """Append-only, hash-chained log (DPA 2018 Part 3 s.62). Never updated or deleted by the app."""

    at = peewee.DateTimeField(default=utcnow)
    actor = peewee.CharField(max_length=150)
    action = peewee.CharField(max_length=50)  # collection | alteration | consultation | disclosure | erasure | ...
    object_type = peewee.CharField(max_length=50)
    object_id = peewee.CharField(max_length=100, default="")
    details = JSONField(null=True)
    prev_hash = peewee.CharField(max_length=64)
    hash = peewee.CharField(max_length=64)


ALL_MODELS = [
    SchemaVersion, User, Setting, ColumnMapping, Population, Case, Sample, SampleItem,
    FormVersion, Assignment, Plan, Review, Answer, Action, Baseline, Recommendation,
    AggregateFigure, AuditEvent,
]
