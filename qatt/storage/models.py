"""The peewee models. Portable: nothing here is SQLite-only, so the same models serve PostgreSQL.

Large row sets (cases) are written in bulk through the connection (see qatt/intake/case_writer.py) and read as
tuples; model instances are for the small tables.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import peewee

from qatt.errors import QattError
from qatt.storage.db import database_proxy


def utcnow() -> dt.datetime:
    """Naive UTC timestamp: stored identically by SQLite and PostgreSQL."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class _CheckedText:
    """Text that every backend can store, checked where the value enters a query, whatever the caller.

    PostgreSQL refuses a NUL character and a VARCHAR over its length with a driver error, after
    which the transaction is lost; SQLite would store both, so a database that worked on one
    backend would fail on the other. A QattError instead tells the user which field to shorten."""

    max_length: Any = None
    model: Any
    name: str

    def db_value(self, value: Any) -> Any:
        if isinstance(value, str):
            if "\x00" in value:
                raise QattError(f"The {self._label()} holds a NUL character (pasted from another program?); "
                                f"remove it and try again.")
            if self.max_length is not None and len(value) > self.max_length:
                raise QattError(f"The {self._label()} is {len(value):,} characters long; "
                                f"shorten it to {self.max_length:,} or fewer.")
        return super().db_value(value)  # type: ignore[misc]

    def _label(self) -> str:
        """'sample name', 'action owner', ...: the model and field in words."""
        model = "".join(f" {c.lower()}" if c.isupper() else c for c in self.model.__name__).strip()
        return f"{model} {self.name.replace('_', ' ')}"


class CharField(_CheckedText, peewee.CharField):
    pass


class TextField(_CheckedText, peewee.TextField):
    pass


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

    username = CharField(max_length=150, unique=True)
    display_name = CharField(max_length=200, default="")
    role = CharField(max_length=20, default="reviewer")
    team = CharField(max_length=200, default="")
    active = peewee.BooleanField(default=True)
    created_at = peewee.DateTimeField(default=utcnow)


class Setting(BaseModel):
    """Force-wide settings (protective marking, retention period) shared by every desktop."""

    key = CharField(max_length=100, primary_key=True)
    value = JSONField()


class ColumnMapping(BaseModel):
    """A saved mapping from an extract's headers to Case fields, reused month after month."""

    name = CharField(max_length=200, unique=True)
    mapping = JSONField()  # {"reference": "Crime Ref", "recorded_date": "Date Recorded", ...}
    date_format = CharField(max_length=20, default="auto")
    created_by = CharField(max_length=150, default="")
    created_at = peewee.DateTimeField(default=utcnow)


class Population(BaseModel):
    """One imported case-list extract."""

    name = CharField(max_length=300)
    source_file = CharField(max_length=1000, default="")
    imported_at = peewee.DateTimeField(default=utcnow)
    imported_by = CharField(max_length=150, default="")
    row_count = peewee.IntegerField(default=0)
    # SHA-256 over the sorted, newline-joined case references: the population's identity.
    fingerprint = CharField(max_length=64, default="")
    mapping = JSONField(null=True)
    extra_columns = JSONField(null=True)  # header names kept in Case.extra, in file order
    purged = peewee.BooleanField(default=False)
    # How the import treated blank and repeated references and what precision its dates have
    # (qatt.intake.importing.ImportOptions); None for populations imported before these options.
    import_options = JSONField(null=True)
    area_forms = JSONField(null=True)  # {area as in the extract: form id} chosen for this population


class Case(BaseModel):
    # No index of its own: the unique (population, reference) index below serves every lookup by
    # population, and a second index cost the million-row import about a tenth of its time.
    population = peewee.ForeignKeyField(Population, backref="cases", on_delete="CASCADE", index=False)
    reference = CharField(max_length=200)
    area = CharField(max_length=200, default="")
    recorded_date = peewee.DateField(null=True)
    division = CharField(max_length=200, default="")
    team = CharField(max_length=200, default="")
    officer = CharField(max_length=200, default="")
    supervisor = CharField(max_length=200, default="")
    risk = CharField(max_length=100, default="")
    status = CharField(max_length=100, default="")
    summary = TextField(default="")
    extra = JSONField(null=True)

    class Meta:
        indexes = ((("population", "reference"), True),)


class Sample(BaseModel):
    """A recorded draw: everything needed to re-derive it (see sampling.verify_sample)."""

    population = peewee.ForeignKeyField(Population, backref="samples", on_delete="CASCADE")
    name = CharField(max_length=300, default="")
    period = CharField(max_length=7, default="")  # YYYY-MM the sample is for
    method = CharField(max_length=30)  # simple | stratified | systematic
    params = JSONField()  # size / per_stratum / proportional / stratify / reserves / ...
    filters = JSONField(null=True)
    exclude_months = peewee.IntegerField(default=0)
    excluded_references = JSONField(null=True)  # the references the exclusion window removed
    seed = CharField(max_length=100)  # decimal string: may exceed 64 bits
    population_fingerprint = CharField(max_length=64)
    eligible_fingerprint = CharField(max_length=64, default="")
    software_version = CharField(max_length=50)
    algorithm = CharField(max_length=50, default="")
    drawn_at = peewee.DateTimeField(default=utcnow)
    drawn_by = CharField(max_length=150, default="")
    supersedes = peewee.ForeignKeyField("self", null=True, backref="superseded_by", on_delete="SET NULL")
    redraw_reason = TextField(default="")
    form_id = CharField(max_length=100, default="")  # the form its reviews use, if fixed


class SampleItem(BaseModel):
    sample = peewee.ForeignKeyField(Sample, backref="items", on_delete="CASCADE")
    case = peewee.ForeignKeyField(Case, backref="sample_items", on_delete="CASCADE")
    position = peewee.IntegerField()  # draw order within the sample (reserves follow the main draw)
    stratum = CharField(max_length=500, default="")
    is_reserve = peewee.BooleanField(default=False)
    # Filled on a reserve when it is brought in to replace a sampled case.
    replaces = peewee.ForeignKeyField("self", null=True, backref="replaced_by", on_delete="SET NULL")
    replacement_reason = TextField(default="")
    replaced_at = peewee.DateTimeField(null=True)
    replaced_by_user = CharField(max_length=150, default="")
    active = peewee.BooleanField(default=True)  # False once replaced (the item stays on record)

    class Meta:
        indexes = ((("sample", "position"), True),)


class FormVersion(BaseModel):
    """An exact version of a grading form, identified by the hash of its canonical content."""

    form_id = CharField(max_length=100, index=True)
    version = CharField(max_length=50, default="")
    content_hash = CharField(max_length=64, unique=True)
    title = CharField(max_length=300, default="")
    area = CharField(max_length=200, default="")
    content = JSONField()  # the validated definition, canonical JSON
    created_at = peewee.DateTimeField(default=utcnow)
    created_by = CharField(max_length=150, default="")


class Assignment(BaseModel):
    """A sampled case given to a reviewer to grade by a date."""

    sample_item = peewee.ForeignKeyField(SampleItem, backref="assignments", on_delete="CASCADE")
    reviewer = CharField(max_length=150, index=True)
    role = CharField(max_length=10, default="first")  # first | second
    due_date = peewee.DateField(null=True)
    assigned_by = CharField(max_length=150, default="")
    assigned_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("sample_item", "role"), True),)


class Plan(BaseModel):
    """A standing plan: e.g. 'each supervisor reviews 5 of their team's finalised cases a month'."""

    name = CharField(max_length=300, unique=True)
    params = JSONField()
    created_by = CharField(max_length=150, default="")
    created_at = peewee.DateTimeField(default=utcnow)
    active = peewee.BooleanField(default=True)


class Review(BaseModel):
    ROLES = ("first", "second")
    STATUSES = ("draft", "submitted")

    sample_item = peewee.ForeignKeyField(SampleItem, backref="reviews", on_delete="CASCADE")
    form_version = peewee.ForeignKeyField(FormVersion, backref="reviews")
    reviewer = CharField(max_length=150, index=True)
    role = CharField(max_length=10, default="first")
    status = CharField(max_length=10, default="draft")
    suggested_grade = CharField(max_length=50, default="")
    grade = CharField(max_length=50, default="")
    override_rationale = TextField(default="")
    strengths = TextField(default="")
    improvements = TextField(default="")
    feedback = TextField(default="")
    feedback_date = peewee.DateField(null=True)
    version = peewee.IntegerField(default=1)  # optimistic concurrency: bumped on every save
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)
    submitted_at = peewee.DateTimeField(null=True)

    class Meta:
        indexes = ((("sample_item", "role"), True),)


class CaseStudy(BaseModel):
    """A submitted review chosen as a good- or poor-practice example for the self-assessment pack
    (DOMAIN §5, D4 item 3): a short account written without names, one per review."""

    KINDS = ("good", "poor")

    review = peewee.ForeignKeyField(Review, backref="case_studies", on_delete="CASCADE", unique=True)
    kind = CharField(max_length=10)
    title = CharField(max_length=200)
    summary = TextField()
    recorded_by = CharField(max_length=150)
    recorded_at = peewee.DateTimeField(default=utcnow)


class Answer(BaseModel):
    review = peewee.ForeignKeyField(Review, backref="answers", on_delete="CASCADE")
    question_id = CharField(max_length=100)
    value = JSONField(null=True)
    # Where a prefilled answer came from ("extract:ViSOR ref", "qatt:selection_method"); cleared
    # when the reviewer changes the answer, so the mark means "as the extract had it" (migration 8).
    origin = CharField(max_length=300, default="")

    class Meta:
        indexes = ((("review", "question_id"), True),)


class Action(BaseModel):
    """Something to change, raised from a review and followed to closure (qatt.loop.actions)."""

    STATUSES = ("open", "in progress", "done", "verified", "cancelled")

    review = peewee.ForeignKeyField(Review, backref="actions", on_delete="CASCADE")
    text = TextField()
    owner = CharField(max_length=200, default="")
    due_date = peewee.DateField(null=True)
    status = CharField(max_length=20, default="open")
    created_at = peewee.DateTimeField(default=utcnow)
    # Added by migration 7 (issue 12): what was done, and who checked it.
    note = TextField(default="")
    done_at = peewee.DateTimeField(null=True)
    verified_by = CharField(max_length=150, default="")
    verified_at = peewee.DateTimeField(null=True)


class FeedbackAcknowledgement(BaseModel):
    """The officer has seen the feedback on a review: when, and what they said (migration 7)."""

    review = peewee.ForeignKeyField(Review, backref="acknowledgements", on_delete="CASCADE", unique=True)
    acknowledged_on = peewee.DateField()
    comment = TextField(default="")
    recorded_by = CharField(max_length=150)
    recorded_at = peewee.DateTimeField(default=utcnow)


class Baseline(BaseModel):
    """Stored grade distributions to compare against (e.g. the 2021 and 2022 inspections)."""

    name = CharField(max_length=200)
    area = CharField(max_length=200, default="")  # "" = all areas
    counts = JSONField()  # {"good": 20, "requires_improvement": 31, "inadequate": 28}
    total = peewee.IntegerField()  # as published; may differ from the sum of counts
    source = TextField(default="")


class Recommendation(BaseModel):
    """The register of recommendations and commitments (qatt.loop.register): inspection recommendations,
    areas for improvement, causes of concern, coroner's concerns and review recommendations."""

    STATUSES = ("not started", "in progress", "fully achieved", "closed")

    code = CharField(max_length=50, unique=True)
    text = TextField()
    timescale = CharField(max_length=100, default="")
    owner = CharField(max_length=200, default="")
    status = CharField(max_length=30, default="not started")
    evidence = TextField(default="")
    # Added by migration 7 (issue 12).
    source = CharField(max_length=300, default="")  # the document that made it
    kind = CharField(max_length=40, default="recommendation")
    due_date = peewee.DateField(null=True)
    updated_at = peewee.DateTimeField(null=True)


class RegisterNote(BaseModel):
    """A dated progress note on a register entry (migration 7)."""

    entry = peewee.ForeignKeyField(Recommendation, backref="notes", on_delete="CASCADE")
    noted_on = peewee.DateField()
    text = TextField()
    recorded_by = CharField(max_length=150)
    recorded_at = peewee.DateTimeField(default=utcnow)


class RegisterEvidence(BaseModel):
    """A link from a register entry to what shows progress on it: a form, a question, a sample, a
    review, an action or a document (migration 7)."""

    KINDS = ("form", "question", "sample", "review", "action", "document")

    entry = peewee.ForeignKeyField(Recommendation, backref="evidence_links", on_delete="CASCADE")
    kind = CharField(max_length=20)
    ref = CharField(max_length=300)  # form id, "form_id:question_id", sample/review/action number, or a title
    note = TextField(default="")
    recorded_by = CharField(max_length=150, default="")
    recorded_at = peewee.DateTimeField(default=utcnow)


class AreaNarrative(BaseModel):
    """One kept version of the pack's narrative for an area of practice (migration 7): drafted from
    the figures, then edited by the QA lead. Every save is a new version; none is overwritten."""

    area = CharField(max_length=200)
    scope = CharField(max_length=200)  # the period the pack covers, e.g. "2024-01 to 2024-06"
    version = peewee.IntegerField()
    judgement = CharField(max_length=100, default="")
    strengths = TextField(default="")
    improvements = TextField(default="")
    developing = TextField(default="")
    work_in_progress = TextField(default="")
    edited_by = CharField(max_length=150)
    edited_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("area", "scope", "version"), True),)


class AggregateFigure(BaseModel):
    """Anonymous counts kept when case details are purged, so trends survive retention."""

    period = CharField(max_length=7)
    area = CharField(max_length=200)
    form_id = CharField(max_length=100, default="")
    grade = CharField(max_length=50)
    role = CharField(max_length=10, default="first")
    count = peewee.IntegerField()


class AuditEvent(BaseModel):
    """Append-only, hash-chained log (DPA 2018 Part 3 s.62). Never updated or deleted by the app."""

    at = peewee.DateTimeField(default=utcnow)
    actor = CharField(max_length=150)
    action = CharField(max_length=50)  # collection | alteration | consultation | disclosure | erasure | ...
    object_type = CharField(max_length=50)
    object_id = CharField(max_length=100, default="")
    details = JSONField(null=True)
    prev_hash = CharField(max_length=64)
    hash = CharField(max_length=64)
    # SHA-256 of the details as written; "" on events from before schema version 6, whose hash
    # covers the details themselves (qatt.trust.audit: the two hash schemes).
    details_hash = CharField(max_length=64, default="")
    # The identity proven at the keyboard (qatt.trust.identity: OS account or PostgreSQL session_user), beside
    # `actor`, the name acted as; they differ only in a training database. "" before schema version 6.
    signed_in_as = CharField(max_length=150, default="")


ALL_MODELS = [
    SchemaVersion, User, Setting, ColumnMapping, Population, Case, Sample, SampleItem,
    FormVersion, Assignment, Plan, Review, Answer, Action, Baseline, Recommendation,
    AggregateFigure, AuditEvent, CaseStudy,
]
