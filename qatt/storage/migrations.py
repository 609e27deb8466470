"""Versioned schema migrations.

The database records its schema version in `schema_version`. Each step runs in its own
transaction together with the version bump, so a step is either fully applied or not at all.
Before an existing SQLite database is migrated, a copy is taken next to it.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from pathlib import Path
from typing import Callable, List, Optional, Tuple

import peewee

from qatt.errors import QattError
from qatt.storage import models as m
from qatt.storage.db import is_sqlite, sqlite_path

Step = Callable[[peewee.Database], None]


def _v1_create_tables(db: peewee.Database) -> None:
    # Version 1 is the first released schema; later steps alter it with playhouse.migrate
    # rather than changing what this step creates. The one exception is an index a later step
    # drops with IF EXISTS (v3): leaving it out of new databases changes nothing they end up with.
    db.create_tables([m.User, m.Setting, m.ColumnMapping, m.Population, m.Case, m.Sample, m.SampleItem,
                      m.FormVersion, m.Assignment, m.Plan, m.Review, m.Answer, m.Action, m.Baseline,
                      m.Recommendation, m.AggregateFigure, m.AuditEvent])


def _v2_reference_figures(db: peewee.Database) -> None:
    """Seed the published baselines (DOMAIN 4.1, 4.2) and the 2021 recommendations (DOMAIN 5)."""
    d4 = "HMICFRS National Child Protection Re-inspection, Oct 2022 (D4)"
    baselines = [
        ("2021 inspection", "", (20, 31, 28), 79, d4),
        ("2022 force self-assessment", "", (19, 12, 3), 34, d4),
        ("2022 HMICFRS grading of the same 34", "", (8, 16, 10), 34, d4),
        ("2022 HMICFRS additional cases", "", (21, 8, 7), 36, d4),
        # Published total is 70 with 24 RI although the area rows add to 69 / 23: both are kept as published.
        ("2022 inspection", "", (29, 24, 17), 70, d4),
        ("2022 inspection", "Section 47 enquiries", (5, 5, 2), 12, d4),
        ("2022 inspection", "Domestic abuse referrals", (4, 2, 4), 10, d4),
        ("2022 inspection", "Other referrals", (6, 1, 3), 10, d4),
        ("2022 inspection", "Child sexual exploitation", (6, 2, 4), 12, d4),
        ("2022 inspection", "Missing children", (2, 4, 1), 7, d4),
        ("2022 inspection", "Section 46 police protection", (2, 2, 2), 6, d4),
        ("2022 inspection", "Sex offender management", (2, 3, 1), 6, d4),
        ("2022 inspection", "Children in custody", (2, 4, 0), 6, d4),
    ]
    for name, area, (g, ri, i), total, source in baselines:
        m.Baseline.create(
            name=name, area=area, total=total, source=source,
            counts={"good": g, "requires_improvement": ri, "inadequate": i},
        )
    recs = [
        ("2021-R1", "Safeguarding leadership", ""),
        ("2021-R2", "Missing-persons response", ""),
        ("2021-R3", "Domestic abuse information, with every child seen", ""),
        ("2021-R4", "Missing children response aligned to APP", ""),
        ("2021-R5", "Information sharing", "3 months"),
        ("2021-R6", "Terms of reference for multi-agency meetings", "6 months"),
        ("2021-R7", "Investigation quality and audit", ""),
        ("2021-R8", "Indecent-images policy", "3 months"),
        ("2021-R9", "Police protection", "6 months"),
        ("2021-R10", "MOSOVO", ""),
        ("2021-R11", "Multi-agency work on registered sex offenders", "3 months"),
        ("2021-R12", "Children in detention", ""),
    ]
    for code, text, timescale in recs:
        m.Recommendation.create(code=code, text=text, timescale=timescale, status="not started")
    # The head of the audit hash chain: lets `audit verify` notice removed trailing events,
    # and its row lock serialises writers on PostgreSQL.
    m.Setting.create(key="audit_head", value={"id": 0, "hash": "0" * 64, "count": 0})
    m.Setting.create(key="protective_marking", value="OFFICIAL-SENSITIVE")
    m.Setting.create(key="retention_months", value=72)


def _v3_drop_case_population_index(db: peewee.Database) -> None:
    """Drop the index v1 created on case.population_id: the unique (population_id, reference) index
    starts with the same column, so it serves the same lookups, and every imported case paid for
    both. Databases created since have never had it (Case.population has index=False)."""
    db.execute_sql('DROP INDEX IF EXISTS "case_population_id"')


def _v4_case_studies(db: peewee.Database) -> None:
    """Good- and poor-practice case studies for the self-assessment pack."""
    db.create_tables([m.CaseStudy])


def _v5_real_extracts(db: peewee.Database) -> None:
    """Populations record their import options (blank and repeated references, date precision)
    and keep an area -> form mapping. New databases already have both columns (v1 creates the
    current Population), so each is added only where missing."""
    from playhouse.migrate import SchemaMigrator, migrate as run_migrations

    table = m.Population._meta.table_name
    present = {column.name for column in db.get_columns(table)}
    migrator = SchemaMigrator.from_database(db)
    operations = [migrator.add_column(table, name, field)
                  for name, field in (("import_options", m.JSONField(null=True)), ("area_forms", m.JSONField(null=True)))
                  if name not in present]
    if operations:
        run_migrations(*operations)


def _v7_improvement_loop(db: peewee.Database) -> None:
    """Actions to closure, feedback acknowledgement, the register of recommendations and
    commitments, and the pack's narratives (issue 12). Columns added to existing tables are added
    only where missing (a new database has them from v1); the shipped register rows are corrected."""
    from playhouse.migrate import SchemaMigrator, migrate as apply_operations

    migrator = SchemaMigrator.from_database(db)
    added = {
        m.Action: [("note", peewee.TextField(default="")), ("done_at", peewee.DateTimeField(null=True)),
                   ("verified_by", peewee.CharField(max_length=150, default="")),
                   ("verified_at", peewee.DateTimeField(null=True))],
        m.Recommendation: [("source", peewee.CharField(max_length=300, default="")),
                           ("kind", peewee.CharField(max_length=40, default="recommendation")),
                           ("due_date", peewee.DateField(null=True)), ("updated_at", peewee.DateTimeField(null=True))],
    }
    operations = []
    for model, columns in added.items():
        table = model._meta.table_name
        present = {column.name for column in db.get_columns(table)}
        operations += [migrator.add_column(table, name, field) for name, field in columns if name not in present]
    if operations:
        apply_operations(*operations)
    db.create_tables([m.FeedbackAcknowledgement, m.RegisterNote, m.RegisterEvidence, m.AreaNarrative], safe=True)
    from qatt.loop import register

    register.correct_shipped_entries()


def _v6_audit_details_digest(db: peewee.Database) -> None:
    """Audit events chain over a digest of their details (so a purge can erase case content from
    them) and record the identity proven at the keyboard. Events already written keep their hash
    scheme: their details_hash stays empty."""
    from playhouse.migrate import SchemaMigrator, migrate as apply

    table = m.AuditEvent._meta.table_name
    columns = {c.name for c in db.get_columns(table)}
    migrator = SchemaMigrator.from_database(db)
    for name in ("details_hash", "signed_in_as"):
        if name not in columns:
            apply(migrator.add_column(table, name, getattr(m.AuditEvent, name)))


def _v8_answer_origin(db: peewee.Database) -> None:
    """Answer.origin: which extract column (or what QATT knew) a prefilled header answer came from.
    Databases created since already have the column (v1 builds tables from the current models)."""
    from playhouse.migrate import SchemaMigrator, migrate

    if "origin" not in {column.name for column in db.get_columns("answer")}:
        migrate(SchemaMigrator.from_database(db).add_column("answer", "origin", m.Answer.origin))


def _v9_standardisation_exercises(db: peewee.Database) -> None:
    """Standardisation exercises: reference cases, invited reviewers and their blind grades (issue 17)."""
    from qatt.storage.exercise_models import EXERCISE_MODELS

    db.create_tables(EXERCISE_MODELS, safe=True)


def _v10_database_roles(db: peewee.Database) -> None:
    """PostgreSQL: group roles, grants, row-level security, the append-only audit log and the
    row_change triggers (qatt.storage.pg_security). Nothing on SQLite."""
    from qatt.storage import pg_security

    if pg_security.is_postgres(db):
        pg_security.install(db)


def _v11_explicit_grants(db: peewee.Database) -> None:
    """PostgreSQL: every table's writers named (acknowledgements, register notes and evidence,
    narratives, exercises no longer fall back to reviewer writes); migrate re-installs the grants
    after any step past 10. Nothing on SQLite."""


def _v12_register_2007(db: peewee.Database) -> None:
    """The register gains the October 2007 inspection's areas for improvement (D3), shipped closed
    for reference; entries a user has edited are left alone (qatt.loop.register.correct_shipped_entries)."""
    from qatt.loop import register

    register.correct_shipped_entries()


def _v13_case_population_check(db: peewee.Database) -> None:
    """PostgreSQL: each case's population checked once per statement by triggers instead of row by
    row by the foreign key (qatt.storage.pg_integrity), so an import by any role is near a bare
    COPY. SQLite keeps its foreign key."""
    from qatt.storage import pg_integrity, pg_security

    if pg_security.is_postgres(db):
        pg_integrity.replace_foreign_key(db)


def _v14_owner_gives_roles(db: peewee.Database) -> None:
    """PostgreSQL: the schema's owner may give people roles (qatt_grant_login), as the first step of
    docs/force-wide.md needs: before, only a member of the admin group could, and the owner is not
    one. The functions are re-made by the grants' re-install after every step past 10, so the step
    itself has nothing more to do. Nothing on SQLite."""


MIGRATIONS: List[Tuple[int, str, Step]] = [
    (1, "create tables", _v1_create_tables),
    (2, "reference figures and recommendations", _v2_reference_figures),
    (3, "drop the redundant case population index", _v3_drop_case_population_index),
    (4, "case studies", _v4_case_studies),
    (5, "import options and area forms on populations", _v5_real_extracts),
    (6, "audit events chain over a digest of their details", _v6_audit_details_digest),
    (7, "improvement loop: actions, acknowledgement, register, narratives", _v7_improvement_loop),
    (8, "where prefilled answers came from", _v8_answer_origin),
    (9, "standardisation exercises", _v9_standardisation_exercises),
    (10, "database roles and change triggers", _v10_database_roles),
    (11, "every table's writers named", _v11_explicit_grants),
    (12, "the 2007 inspection's areas for improvement in the register", _v12_register_2007),
    (13, "cases' population checked per statement on PostgreSQL", _v13_case_population_check),
    (14, "the schema owner gives the first administrator a role on PostgreSQL", _v14_owner_gives_roles),
]

LATEST = MIGRATIONS[-1][0]


def current_version(db: peewee.Database) -> int:
    if not db.table_exists(m.SchemaVersion._meta.table_name):
        return 0
    row = m.SchemaVersion.select(peewee.fn.MAX(m.SchemaVersion.version)).scalar()
    return int(row or 0)


def backup_sqlite(db: peewee.Database, label: str,
                  progress: Optional[Callable[[int, int, int], None]] = None) -> Optional[Path]:
    """Copy the SQLite file (consistently, via the backup API) before a migration.

    The copy is police information: the file is created owner-only before the first byte is copied,
    and the copy keeps its journal in memory, so no other file holding its pages appears beside it.
    `progress(status, remaining, total)` is called as pages are copied (the tests watch the mode)."""
    path = sqlite_path(db)
    if path is None:
        return None
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    for attempt in range(1000):  # never over an earlier copy, even two migrations in one second
        target = path.with_name(f"{path.name}.{label}.{stamp}{f'-{attempt}' if attempt else ''}.bak")
        try:
            fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            break
        except FileExistsError:
            continue
    else:
        raise QattError(f"Could not create a back-up beside {path}: too many back-ups named {target.name}; "
                        "move old back-ups away and try again.")
    os.close(fd)
    os.chmod(target, 0o600)  # whatever the umask
    dest = sqlite3.connect(str(target))
    try:
        dest.execute("PRAGMA journal_mode=MEMORY")
        db.connection().backup(dest, pages=256, progress=progress)
    except BaseException:
        dest.close()
        target.unlink(missing_ok=True)
        raise
    dest.close()
    return target


def _lock_for_migration(db: peewee.Database) -> None:
    if isinstance(db, peewee.PostgresqlDatabase):
        # Two desktops starting at once must not both migrate a shared database.
        db.execute_sql("SELECT pg_advisory_xact_lock(74617474)")


def migrate(db: peewee.Database, target: int = LATEST) -> List[int]:
    """Bring the schema up to `target`; returns the versions applied."""
    from qatt.storage import pg_security

    if not db.table_exists(m.SchemaVersion._meta.table_name):  # a desktop login may not create tables
        with db.atomic():
            _lock_for_migration(db)
            db.create_tables([m.SchemaVersion], safe=True)
    start = current_version(db)
    if start > LATEST:
        raise QattError(
            f"The database is at schema version {start}, newer than this QATT ({LATEST}). Update QATT."
        )
    pending = [(v, name, step) for v, name, step in MIGRATIONS if start < v <= target]
    if not pending:
        return []
    if pg_security.is_postgres(db) and start > 0 and not pg_security.is_privileged(db):
        raise QattError(f"The database is at schema version {start} and this QATT needs {target}; ask the "
                        "database owner to run `python -m qatt migrate` connected as the owner.")
    if start > 0 and is_sqlite(db):
        backup_sqlite(db, f"v{start}")
    applied = []
    for version, _name, step in pending:
        with db.atomic():
            _lock_for_migration(db)
            if current_version(db) >= version:  # another process got there first
                continue
            step(db)
            m.SchemaVersion.delete().execute()
            m.SchemaVersion.create(version=version)
        applied.append(version)
    if pg_security.is_postgres(db) and applied and applied[-1] > 10 and current_version(db) >= 10:
        # Steps after 10 may add tables: give the group roles their grants on them.
        with db.atomic():
            pg_security.install(db)
    return applied
