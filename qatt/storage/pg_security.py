"""PostgreSQL security: per-person login roles, group roles with least privilege, row-level
security, an append-only audit log and triggers that record every change to the review data.

On PostgreSQL each person connects as their own login role and QATT's identity is `session_user`.
`install` (run by `migrate`, as the schema owner) creates four group roles, named after the
database and schema so two QATT databases on one server never share them, nested so that each
holds what the one below it holds:

    <prefix>_reviewer < <prefix>_moderator < <prefix>_qa_lead < <prefix>_admin

and grants each the least it needs. Row-level security lets a reviewer change only their own
reviews and answers and lets only an administrator change the user table; SECURITY DEFINER
triggers refuse any update, delete or truncate of the audit log by a desktop role, refuse an
audit event written under another person's name, keep every case with its population
(qatt.storage.pg_integrity), and write one `row_change` row (login,
transaction, time, changed column names) for every insert, update and delete on the review,
answer, action, sample, sample_item, user and population tables, so `audit verify` can name a change
made by direct SQL. Free text and case content never go into `row_change`: only the values of the short,
categorical columns listed in TRACKED (grades, status, ids) are kept, the rest by name only.

The schema owner and superusers are not limited by any of this (PostgreSQL never limits an
owner); docs/force-wide.md says so plainly.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Optional, Sequence

import peewee

from qatt.errors import PermissionDenied, QattError
from qatt.storage import pg_integrity
from qatt.storage.sql_names import quote_ident

# The QATT roles in rank order (the same order as qatt.trust.users.RANK).
GROUPS = ("reviewer", "moderator", "qa_lead", "admin")

# Tables whose every insert, update and delete is written to row_change, with the columns whose
# old and new values are kept (all short and categorical; never free text or case content).
TRACKED: Dict[str, Sequence[str]] = {
    "review": ("reviewer", "role", "status", "grade", "suggested_grade", "version", "sample_item_id",
               "form_version_id"),
    "answer": ("review_id", "question_id"),
    "action": ("review_id", "status", "due_date"),
    "sample": ("population_id", "method", "seed", "period", "form_id", "supersedes_id"),
    "sample_item": ("sample_id", "case_id", "position", "is_reserve", "active", "replaces_id"),
    "user": ("username", "role", "active"),
    # A population renamed, recounted, re-fingerprinted or marked purged with psql (an import is open to
    # every role, so every role may write the table). Its cases are not triggered (an import of a million
    # rows would pay a row each); cases added by SQL are found by verify-sample's population fingerprint.
    "population": ("row_count", "fingerprint", "purged"),
}

ROW_CHANGE = "row_change"
_MAX_ROLE = 63  # PostgreSQL's identifier limit (NAMEDATALEN - 1)


# --------------------------------------------------------------------------- names

def is_postgres(db: Any) -> bool:
    return isinstance(db, peewee.PostgresqlDatabase)


def _scalar(db: peewee.Database, sql: str, params: Sequence[Any] = ()) -> Any:
    row = db.execute_sql(sql, list(params)).fetchone()
    return row[0] if row else None


def role_prefix(database: str, schema: str) -> str:
    """'qatt' for database qatt, schema public; 'test_qatt_t_1a2b' for another schema of test."""
    raw = database if schema == "public" else f"{database}_{schema}"
    clean = re.sub(r"[^a-z0-9_]", "_", raw.lower())
    return clean[: _MAX_ROLE - len("_moderator")]


def group_names(database: str, schema: str) -> Dict[str, str]:
    prefix = role_prefix(database, schema)
    return {role: f"{prefix}_{role}" for role in GROUPS}


def _where(db: peewee.Database) -> tuple:
    return tuple(db.execute_sql("SELECT current_database(), current_schema()").fetchone())


ROLES_SETTING = "database_roles"


def groups_of(db: peewee.Database) -> Dict[str, str]:
    """The group roles of the connected database: as recorded when migrate first made them (a
    restored copy under another name keeps using them), else named after database and schema."""
    if _scalar(db, "SELECT to_regclass('setting') IS NOT NULL"):
        recorded = _scalar(db, "SELECT value FROM setting WHERE key = %s", [ROLES_SETTING])
        if recorded:
            prefix = json.loads(recorded).get("prefix")
            if prefix:
                return {role: f"{prefix}_{role}" for role in GROUPS}
    return group_names(*_where(db))


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# --------------------------------------------------------------------------- who is connected

def session_login(db: peewee.Database) -> str:
    return _scalar(db, "SELECT session_user")


def is_privileged(db: peewee.Database) -> bool:
    """Superuser, or member of the role that owns the schema: PostgreSQL limits neither."""
    return bool(_scalar(db, """
        SELECT r.rolsuper OR pg_has_role(session_user, n.nspowner, 'MEMBER')
        FROM pg_roles r, pg_namespace n
        WHERE r.rolname = session_user AND n.nspname = current_schema()"""))


def installed(db: peewee.Database) -> bool:
    return bool(_scalar(db, "SELECT to_regclass(quote_ident(current_schema()) || '.' || %s) IS NOT NULL",
                        [ROW_CHANGE]))


def membership_role(db: peewee.Database) -> Optional[str]:
    """The highest QATT role the connected login holds through its group membership, or None."""
    groups = groups_of(db)
    for role in reversed(GROUPS):
        if _scalar(db, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %s) "
                       "AND pg_has_role(session_user, %s, 'MEMBER')", [groups[role], groups[role]]):
            return role
    return None


def session_identity(db: peewee.Database, claimed: Optional[str]) -> str:
    """Who is acting on PostgreSQL: the login (`session_user`), proven by the server.

    A claimed name (--user / QATT_USER) other than the login is refused, except in a training
    database and for the schema owner or a superuser: they can change any row directly anyway,
    and every row they change is still recorded in row_change under their real login."""
    login = session_login(db)
    claimed = (claimed or "").strip()
    if not claimed or claimed == login:
        return login
    if is_privileged(db) or _training(db):
        return claimed
    raise PermissionDenied(
        f"You are connected to the database as {login}, so QATT records you as {login}; "
        f"--user or QATT_USER names {claimed}. Remove it, or connect with {claimed}'s own login.")


def _training(db: peewee.Database) -> bool:
    """A database marked as a demonstration or training database (qatt.trust.identity's mark; on
    PostgreSQL only an administrator may write it)."""
    value = _scalar(db, "SELECT value FROM setting WHERE key = 'training_database'")
    try:
        return bool(value) and bool(json.loads(value).get("training"))
    except (ValueError, AttributeError):
        return False


def desktop_role(db: peewee.Database, username: str) -> Optional[str]:
    """The QATT role a desktop login must have in the user table (from its membership), or None
    when the session is the owner's or a superuser's, or the database has no login roles yet."""
    if not is_postgres(db) or not installed(db) or is_privileged(db):
        return None
    role = membership_role(db)
    if role is None:
        raise PermissionDenied(
            f"The database login {username} is not a QATT user of this database; ask a QATT "
            f"administrator to run: python -m qatt users add {username} --role reviewer")
    return role


def denied_message(exc: BaseException) -> Optional[str]:
    """The message for a permission the database refused (SQLSTATE 42501), or None for other errors."""
    orig = getattr(exc, "orig", None) or exc.__cause__ or exc
    if getattr(orig, "pgcode", None) != "42501":
        return None
    text = str(getattr(getattr(orig, "diag", None), "message_primary", "") or orig).strip()
    return (f"The database refused this for your login ({text}). Your QATT role does not allow it; "
            "ask a QATT administrator if you need it.")


# --------------------------------------------------------------------------- install (migrate)

def install(db: peewee.Database) -> None:
    """Create or refresh the group roles, grants, policies and triggers. Idempotent; run by the
    schema owner inside migrate's transaction."""
    if not is_privileged(db):
        raise QattError("Only the database owner may set up QATT's database roles; run migrate as the owner.")
    database, schema = _where(db)
    groups = groups_of(db)
    cursor = db.cursor()
    cursor.execute("INSERT INTO setting (key, value) VALUES (%s, %s) ON CONFLICT (key) DO NOTHING",
                   [ROLES_SETTING, json.dumps({"prefix": role_prefix(database, schema)})])
    for statement in _install_sql(schema, groups, _tables(db, schema)):
        cursor.execute(statement)  # no parameters: the '%' in the function bodies stay as written


def _tables(db: peewee.Database, schema: str) -> List[str]:
    rows = db.execute_sql("SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY tablename",
                          [schema]).fetchall()
    return [r[0] for r in rows]


def _create_group(name: str) -> str:
    # Another session may create the same role at the same moment: both outcomes are fine.
    return f"""DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {_literal(name)}) THEN
            CREATE ROLE {quote_ident(name)} NOLOGIN;
        END IF;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END $$"""


# What each group may do, on top of what the group below it may do (every group reads every table).
# Every table is named here or in _NO_WRITES (tests/unit/test_pg_grants.py checks it): a table a new
# feature adds gets no writes at all until its writers are decided, never a default.
_GRANTS = {
    "reviewer": {
        "review": "INSERT, UPDATE", "answer": "INSERT, UPDATE, DELETE", "action": "INSERT, UPDATE",
        "case_study": "INSERT, UPDATE, DELETE", "form_version": "INSERT", "audit_event": "INSERT",
        "setting": "UPDATE", "user": "INSERT",
        # Importing extracts is open to every role in the core (qatt.intake.importing).
        "population": "INSERT, UPDATE", "case": "INSERT", "column_mapping": "INSERT, UPDATE",
        # The reviewer of a review records the officer's acknowledgement (row-level security below);
        # an invited reviewer grades an exercise case once, in their own name.
        "feedback_acknowledgement": "INSERT, UPDATE", "exercise_grade": "INSERT",
    },
    "moderator": {"sample": "INSERT, UPDATE", "sample_item": "INSERT, UPDATE",
                  "assignment": "INSERT, UPDATE"},
    "qa_lead": {"plan": "INSERT, UPDATE", "recommendation": "INSERT, UPDATE", "baseline": "INSERT, UPDATE",
                ROW_CHANGE: "SELECT",
                # Only the QA lead's own settings (force targets, names in exports): row-level security.
                "setting": "INSERT",
                # The register's notes and evidence links and the pack's narratives are kept, never
                # edited (a new note or version each time); standardisation exercises are the QA lead's.
                "register_note": "INSERT", "register_evidence": "INSERT", "area_narrative": "INSERT",
                "exercise": "INSERT, UPDATE", "exercise_case": "INSERT", "exercise_invite": "INSERT"},
    "admin": {"review": "DELETE", "action": "DELETE", "assignment": "DELETE", "sample_item": "DELETE",
              "sample": "DELETE", "case": "DELETE", "population": "DELETE", "aggregate_figure": "INSERT, UPDATE",
              "user": "UPDATE, DELETE", "setting": "INSERT, DELETE", "plan": "DELETE",
              "column_mapping": "DELETE", "form_version": "UPDATE",
              # Erasure (qatt.trust.retention) deletes acknowledgements with their reviews.
              "feedback_acknowledgement": "DELETE"},
}
_NO_WRITES = {"schema_version", "audit_event", ROW_CHANGE}
_PROTECTED = ("audit_event", ROW_CHANGE)


def _install_sql(schema: str, groups: Dict[str, str], tables: Sequence[str]) -> List[str]:
    s = quote_ident(schema)
    g = {role: quote_ident(name) for role, name in groups.items()}
    out: List[str] = [_create_group(name) for name in groups.values()]
    for lower, higher in zip(GROUPS, GROUPS[1:]):
        out.append(f"GRANT {g[lower]} TO {g[higher]}")
    out.append(f"GRANT USAGE ON SCHEMA {s} TO {g['reviewer']}")
    out.append(f"""CREATE TABLE IF NOT EXISTS {s}.{ROW_CHANGE} (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        txid bigint NOT NULL DEFAULT txid_current(),
        login text NOT NULL DEFAULT session_user,
        table_name text NOT NULL,
        op text NOT NULL,
        row_id bigint,
        changes jsonb)""")
    out.append(f"CREATE INDEX IF NOT EXISTS row_change_txid ON {s}.{ROW_CHANGE} (txid)")
    tables = sorted(set(tables) | {ROW_CHANGE})

    # Grants: start from nothing, then add, so re-running migrate converges on the same set.
    every = ", ".join(g.values())
    for table in tables:
        t = f"{s}.{quote_ident(table)}"
        out.append(f"REVOKE ALL ON {t} FROM PUBLIC, {every}")
        if table != ROW_CHANGE:
            out.append(f"GRANT SELECT ON {t} TO {g['reviewer']}")
    for role, grants in _GRANTS.items():
        for table, privileges in grants.items():
            if table in tables:
                out.append(f"GRANT {privileges} ON {s}.{quote_ident(table)} TO {g[role]}")
    # Erasure (purge) may blank the details of audit events; the trigger below allows no other change.
    out.append(f"GRANT UPDATE (details) ON {s}.audit_event TO {g['admin']}")
    out.append(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {g['reviewer']}")

    out += _functions_sql(schema, groups)
    out += _policies_sql(schema, tables)
    out += _triggers_sql(schema, tables)
    if {"case", "population"} <= set(tables):
        out += pg_integrity.install_sql(schema)
    return out


def _functions_sql(schema: str, groups: Dict[str, str]) -> List[str]:
    s = quote_ident(schema)
    lit = {role: _literal(name) for role, name in groups.items()}
    array = "ARRAY[" + ", ".join(lit[r] for r in GROUPS) + "]"
    path = f"SET search_path = {s}, pg_catalog, pg_temp"
    return [
        # Rank of the login: 3 admin ... 0 reviewer, -1 none (the owner and superusers: qatt_privileged).
        # Plain (not SECURITY DEFINER) and without a SET clause, so the policies can inline them;
        # every name is qualified, and pg_catalog is always searched first for functions.
        f"""CREATE OR REPLACE FUNCTION {s}.qatt_rank() RETURNS int LANGUAGE sql STABLE AS $$
            SELECT CASE WHEN pg_catalog.pg_has_role(session_user, {lit['admin']}, 'MEMBER') THEN 3
                        WHEN pg_catalog.pg_has_role(session_user, {lit['qa_lead']}, 'MEMBER') THEN 2
                        WHEN pg_catalog.pg_has_role(session_user, {lit['moderator']}, 'MEMBER') THEN 1
                        WHEN pg_catalog.pg_has_role(session_user, {lit['reviewer']}, 'MEMBER') THEN 0
                        ELSE -1 END $$""",
        f"""CREATE OR REPLACE FUNCTION {s}.qatt_role_name() RETURNS text LANGUAGE sql STABLE AS $$
            SELECT ({_literal('{' + ','.join(GROUPS) + '}')}::text[])[{s}.qatt_rank() + 1] $$""",
        f"""CREATE OR REPLACE FUNCTION {s}.qatt_privileged() RETURNS boolean LANGUAGE sql STABLE AS $$
            SELECT r.rolsuper OR pg_catalog.pg_has_role(session_user, n.nspowner, 'MEMBER')
            FROM pg_catalog.pg_roles r, pg_catalog.pg_namespace n
            WHERE r.rolname = session_user AND n.nspname = {_literal(schema)} $$""",
        # Refuses every update, delete and truncate of the logs by a desktop role, except an
        # administrator blanking the details of an audit event (erasure); and an audit event
        # written under any name but the writer's own login.
        f"""CREATE OR REPLACE FUNCTION {s}.qatt_protect_log() RETURNS trigger LANGUAGE plpgsql
            SECURITY DEFINER {path} AS $$
        DECLARE
            signed_in text;
        BEGIN
            -- The common case first and without a catalog look-up: this runs under the chain head's lock.
            IF TG_OP = 'INSERT' THEN
                signed_in := coalesce(to_jsonb(NEW) ->> 'signed_in_as', '');
                IF NEW.actor = session_user::text AND signed_in IN ('', session_user::text) THEN
                    RETURN NEW;
                END IF;
                -- A training database (qatt.trust.identity; only an administrator may mark one) lets a
                -- person act under another name, still signed in as themselves.
                IF signed_in = session_user::text AND EXISTS (SELECT 1 FROM {s}.setting
                        WHERE key = 'training_database' AND (value::jsonb ->> 'training') = 'true') THEN
                    RETURN NEW;
                END IF;
            END IF;
            IF {s}.qatt_privileged() THEN
                RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
            END IF;
            IF TG_OP = 'INSERT' THEN
                IF NEW.actor IS DISTINCT FROM session_user::text OR signed_in NOT IN ('', session_user::text) THEN
                    RAISE EXCEPTION 'the audit log records events under the login that writes them: % may not write an event as %',
                        session_user, NEW.actor USING ERRCODE = 'insufficient_privilege';
                END IF;
                RETURN NEW;
            END IF;
            IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'audit_event' AND {s}.qatt_rank() >= 3
               AND (to_jsonb(NEW) - 'details') = (to_jsonb(OLD) - 'details') THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION '% is append-only: % refused for login %', TG_TABLE_NAME, TG_OP, session_user
                USING ERRCODE = 'insufficient_privilege';
        END $$""",
        # One row per changed row. Values only for the columns named in TG_ARGV.
        f"""CREATE OR REPLACE FUNCTION {s}.qatt_row_change() RETURNS trigger LANGUAGE plpgsql
            SECURITY DEFINER {path} AS $$
        DECLARE
            o jsonb; n jsonb; k text; changes jsonb := NULL;
        BEGIN
            IF TG_OP = 'UPDATE' THEN
                o := to_jsonb(OLD); n := to_jsonb(NEW); changes := '{{}}'::jsonb;
                FOR k IN SELECT jsonb_object_keys(n) LOOP
                    IF (n -> k) IS DISTINCT FROM (o -> k) THEN
                        IF k = ANY (TG_ARGV) THEN
                            changes := changes || jsonb_build_object(k, jsonb_build_object('old', o -> k, 'new', n -> k));
                        ELSE
                            changes := changes || jsonb_build_object(k, 'changed');
                        END IF;
                    END IF;
                END LOOP;
                INSERT INTO {s}.{ROW_CHANGE} (table_name, op, row_id, changes) VALUES (TG_TABLE_NAME, 'update', NEW.id, changes);
            ELSIF TG_OP = 'INSERT' THEN
                INSERT INTO {s}.{ROW_CHANGE} (table_name, op, row_id) VALUES (TG_TABLE_NAME, 'insert', NEW.id);
            ELSE
                INSERT INTO {s}.{ROW_CHANGE} (table_name, op, row_id) VALUES (TG_TABLE_NAME, 'delete', OLD.id);
            END IF;
            RETURN NULL;
        END $$""",
        # `users add` / `users --set-role` from an administrator's desktop: creates the person's
        # login role if asked to, and makes it a member of exactly one QATT group.
        f"""CREATE OR REPLACE FUNCTION {s}.qatt_grant_login(person text, new_role text, may_create boolean)
            RETURNS text LANGUAGE plpgsql SECURITY DEFINER {path} AS $$
        DECLARE
            groups text[] := {array};
            target text; grp text; created boolean := false; who record;
        BEGIN
            -- The schema's owner too: it gives the first administrator their role (docs/force-wide.md).
            IF {s}.qatt_rank() < 3 AND NOT {s}.qatt_privileged() THEN
                RAISE EXCEPTION 'only a QATT administrator may give people roles' USING ERRCODE = 'insufficient_privilege';
            END IF;
            target := groups[array_position({_literal('{' + ','.join(GROUPS) + '}')}::text[], new_role)];
            IF target IS NULL THEN
                RAISE EXCEPTION 'unknown QATT role %', new_role USING ERRCODE = 'invalid_parameter_value';
            END IF;
            IF person IS NULL OR person = '' OR length(person) > 63 OR person LIKE 'pg\\_%' OR person = ANY (groups) THEN
                RAISE EXCEPTION '% cannot be a person''s database login', person USING ERRCODE = 'invalid_parameter_value';
            END IF;
            SELECT r.rolsuper, r.rolcanlogin, pg_has_role(r.oid, n.nspowner, 'MEMBER') AS owner INTO who
                FROM pg_roles r, pg_namespace n WHERE r.rolname = person AND n.nspname = {_literal(schema)};
            IF NOT FOUND THEN
                IF NOT may_create THEN
                    RAISE EXCEPTION 'there is no database login %', person USING ERRCODE = 'undefined_object';
                END IF;
                EXECUTE format('CREATE ROLE %I LOGIN', person);
                created := true;
            ELSIF who.rolsuper OR who.owner OR NOT who.rolcanlogin THEN
                RAISE EXCEPTION '% is not a person''s login (a superuser, the owner or a group)', person
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            FOREACH grp IN ARRAY groups LOOP
                IF grp <> target AND EXISTS (SELECT 1 FROM pg_auth_members m
                        JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
                        WHERE g.rolname = grp AND u.rolname = person) THEN
                    EXECUTE format('REVOKE %I FROM %I', grp, person);
                END IF;
            END LOOP;
            EXECUTE format('GRANT %I TO %I', target, person);
            RETURN CASE WHEN created THEN 'created' ELSE 'granted' END;
        END $$""",
        f"REVOKE ALL ON FUNCTION {s}.qatt_grant_login(text, text, boolean) FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION {s}.qatt_grant_login(text, text, boolean) TO {quote_ident(groups['admin'])}",
        f"REVOKE ALL ON FUNCTION {s}.qatt_protect_log(), {s}.qatt_row_change() FROM PUBLIC",
    ]


def _policy(schema: str, table: str, name: str, command: str, using: Optional[str] = None,
            check: Optional[str] = None) -> List[str]:
    t = f"{quote_ident(schema)}.{quote_ident(table)}"
    sql = f"CREATE POLICY {name} ON {t} FOR {command}"
    if using:
        sql += f" USING ({using})"
    if check:
        sql += f" WITH CHECK ({check})"
    return [f"DROP POLICY IF EXISTS {name} ON {t}", sql]


def _policies_sql(schema: str, tables: Sequence[str]) -> List[str]:
    s = quote_ident(schema)
    rank = f"{s}.qatt_rank()"
    me = "session_user::text"
    own_review = f"EXISTS (SELECT 1 FROM {s}.review r WHERE r.id = review_id AND (r.reviewer = {me} OR {rank} >= 2))"
    ack_rule = (f"EXISTS (SELECT 1 FROM {s}.review r WHERE r.id = review_id AND (r.reviewer = {me} OR {rank} >= 1))"
                f" AND recorded_by = {me}")
    qa_keys = f"(key IN ('mosovo_targets', 'calibration_names_in_exports') AND {rank} >= 2)"
    rules = {
        # A reviewer writes only their own reviews; a QA lead may amend anyone's; an admin purges.
        "review": [("qatt_read", "SELECT", "true", None),
                   ("qatt_start", "INSERT", None, f"reviewer = {me}"),
                   ("qatt_change", "UPDATE", f"reviewer = {me} OR {rank} >= 2", f"reviewer = {me} OR {rank} >= 2"),
                   ("qatt_purge", "DELETE", f"{rank} >= 3", None)],
        "answer": [("qatt_read", "SELECT", "true", None),
                   ("qatt_add", "INSERT", None, own_review),
                   ("qatt_change", "UPDATE", own_review, own_review),
                   ("qatt_clear", "DELETE", own_review, None)],
        "case_study": [("qatt_read", "SELECT", "true", None),
                       ("qatt_add", "INSERT", None, own_review),
                       ("qatt_change", "UPDATE", own_review, own_review),
                       ("qatt_remove", "DELETE", own_review, None)],
        # Actions: the review's reviewer, a moderator or above, or the action's owner.
        "action": [("qatt_read", "SELECT", "true", None),
                   ("qatt_add", "INSERT", None, f"{rank} >= 1 OR {own_review}"),
                   ("qatt_change", "UPDATE", f"{rank} >= 1 OR owner = {me} OR {own_review}",
                    f"{rank} >= 1 OR owner = {me} OR {own_review}"),
                   ("qatt_purge", "DELETE", f"{rank} >= 3", None)],
        # The officer's acknowledgement of feedback: the review's own reviewer or a moderator and above
        # (qatt.loop.acknowledgement); an exercise grade only in the grader's own name (qatt.agreement.exercises).
        "feedback_acknowledgement": [("qatt_read", "SELECT", "true", None),
                                     ("qatt_add", "INSERT", None, ack_rule),
                                     ("qatt_change", "UPDATE", ack_rule, ack_rule),
                                     ("qatt_purge", "DELETE", f"{rank} >= 3", None)],
        "exercise_grade": [("qatt_read", "SELECT", "true", None),
                           ("qatt_add", "INSERT", None,
                            f"reviewer = {me} AND EXISTS (SELECT 1 FROM {s}.exercise_case c JOIN {s}.exercise_invite i "
                            f"ON i.exercise_id = c.exercise_id WHERE c.id = exercise_case_id AND i.reviewer = {me})")],
        # Only an administrator changes the user table; a person may register themselves with the
        # role their group membership gives them, and no other.
        "user": [("qatt_read", "SELECT", "true", None),
                 ("qatt_register", "INSERT", None,
                  f"{rank} >= 3 OR (username = {me} AND role = {s}.qatt_role_name())"),
                 ("qatt_admin", "UPDATE", f"{rank} >= 3", f"{rank} >= 3"),
                 ("qatt_admin_delete", "DELETE", f"{rank} >= 3", None)],
        # Every writer moves the audit head; every other setting is the administrator's.
        # A QA lead sets the force's own MOSOVO targets and whether exports name reviewers
        # (qatt.targets, qatt.agreement.calibration_report), as QATT itself allows.
        "setting": [("qatt_read", "SELECT", "true", None),
                    ("qatt_head", "UPDATE", f"key = 'audit_head' OR {qa_keys} OR {rank} >= 3",
                     f"key = 'audit_head' OR {qa_keys} OR {rank} >= 3"),
                    ("qatt_admin", "INSERT", None, f"{qa_keys} OR {rank} >= 3"),
                    ("qatt_admin_delete", "DELETE", f"{rank} >= 3", None)],
    }
    out: List[str] = []
    for table, policies in rules.items():
        if table not in tables:
            continue
        out.append(f"ALTER TABLE {s}.{quote_ident(table)} ENABLE ROW LEVEL SECURITY")
        for name, command, using, check in policies:
            out += _policy(schema, table, name, command, using, check)
    return out


def _triggers_sql(schema: str, tables: Sequence[str]) -> List[str]:
    s = quote_ident(schema)
    out: List[str] = []

    def trigger(table: str, name: str, timing: str, events: str, level: str, call: str) -> None:
        t = f"{s}.{quote_ident(table)}"
        out.append(f"DROP TRIGGER IF EXISTS {name} ON {t}")
        out.append(f"CREATE TRIGGER {name} {timing} {events} ON {t} FOR EACH {level} EXECUTE FUNCTION {call}")
        # ALWAYS: also in a session that set session_replication_role = replica.
        out.append(f"ALTER TABLE {t} ENABLE ALWAYS TRIGGER {name}")

    for table in _PROTECTED:
        if table in tables:
            events = "INSERT OR UPDATE OR DELETE" if table == "audit_event" else "UPDATE OR DELETE"
            trigger(table, "qatt_append_only", "BEFORE", events, "ROW", f"{s}.qatt_protect_log()")
            trigger(table, "qatt_no_truncate", "BEFORE", "TRUNCATE", "STATEMENT", f"{s}.qatt_protect_log()")
    for table, kept in TRACKED.items():
        if table in tables:
            args = ", ".join(_literal(c) for c in kept)
            trigger(table, "qatt_row_change", "AFTER", "INSERT OR UPDATE OR DELETE", "ROW",
                    f"{s}.qatt_row_change({args})")
    if "audit_event" in tables:
        # Marks the transactions that wrote an audit event, so verify can tell QATT's changes from others.
        trigger("audit_event", "qatt_row_change", "AFTER", "INSERT", "ROW", f"{s}.qatt_row_change()")
    return out


# --------------------------------------------------------------------------- people

def grant_login(db: peewee.Database, username: str, role: str, create: bool) -> str:
    """Make `username`'s login a member of the group for `role` (creating the login if `create`).
    Returns 'created' or 'granted'. Only an administrator (or the owner) may."""
    if role not in GROUPS:
        raise QattError(f"Unknown role {role!r}; choose one of {', '.join(GROUPS)}.")
    try:
        with db.atomic():
            return _scalar(db, "SELECT qatt_grant_login(%s, %s, %s)", [username, role, create])
    except (peewee.ProgrammingError, peewee.InternalError, peewee.DataError) as exc:
        orig = getattr(exc, "orig", None) or exc.__cause__ or exc
        message = str(getattr(getattr(orig, "diag", None), "message_primary", "") or orig).strip()
        if getattr(orig, "pgcode", None) in ("42501", "22023", "42704"):
            raise QattError(f"The database refused to give {username} the role {role}: {message}.") from exc
        raise


def role_mismatches(db: peewee.Database) -> List[Dict[str, str]]:
    """Users whose QATT role differs from the group membership of their login."""
    groups = groups_of(db)
    problems = []
    rows = db.execute_sql('SELECT u.username, u.role FROM "user" u JOIN pg_roles r ON r.rolname = u.username '
                          'WHERE u.active AND NOT r.rolsuper').fetchall()
    for username, role in rows:
        held = None
        for candidate in reversed(GROUPS):
            if _scalar(db, "SELECT pg_has_role(%s, %s, 'MEMBER')", [username, groups[candidate]]):
                held = candidate
                break
        if held is not None and held != role:
            problems.append({"username": username, "role": role, "login_role": held})
    return problems


# --------------------------------------------------------------------------- audit verify

def outside_changes(db: peewee.Database, limit: int = 1000) -> List[Dict[str, Any]]:
    """Row changes whose transaction wrote no QATT audit event: made by direct SQL, not by QATT.
    Each names the login that made it."""
    rows = db.execute_sql(f"""
        SELECT c.id, c.at, c.login, c.table_name, c.op, c.row_id, c.changes
        FROM {ROW_CHANGE} c
        WHERE c.table_name <> 'audit_event'
          AND NOT EXISTS (SELECT 1 FROM {ROW_CHANGE} e WHERE e.txid = c.txid AND e.table_name = 'audit_event')
        ORDER BY c.id LIMIT %s""", [limit]).fetchall()
    return [{"id": i, "at": at.isoformat(timespec="seconds"), "login": login, "table": table, "op": op,
             "row_id": row_id, "changes": changes} for i, at, login, table, op, row_id, changes in rows]


def describe_change(change: Dict[str, Any]) -> str:
    what = f"{change['table']} {change['row_id']}"
    detail = ""
    if change["changes"]:
        parts = []
        for column, value in sorted(change["changes"].items()):
            parts.append(f"{column} {value['old']!r} -> {value['new']!r}" if isinstance(value, dict) else column)
        detail = " (" + ", ".join(parts) + ")"
    done = {"insert": "inserted", "update": "updated", "delete": "deleted"}.get(change["op"], change["op"])
    return f"{change['at']} {change['login']} {done} {what}{detail} outside QATT"


def verify_report(db: peewee.Database) -> Optional[Dict[str, Any]]:
    """What `audit verify` adds on PostgreSQL: row changes made outside QATT, and users whose
    QATT role differs from their login's membership. None on SQLite or before migrate."""
    if not is_postgres(db) or not installed(db):
        return None
    if not _scalar(db, "SELECT has_table_privilege(%s, 'SELECT')", [ROW_CHANGE]):
        return {"ok": True, "data": {"outside_changes": None, "role_mismatches": None},
                "lines": ["changes made outside QATT are checked when a QA lead or administrator runs audit verify"]}
    changes = outside_changes(db)
    mismatches = role_mismatches(db)
    lines = [f"{len(changes)} row change(s) made outside QATT (by direct SQL):" if changes
             else "no row changes made outside QATT"]
    lines += ["  " + describe_change(c) for c in changes]
    lines += [f"user {p['username']} has the QATT role {p['role']} but their login holds {p['login_role']}"
              for p in mismatches]
    return {"ok": not changes and not mismatches, "lines": lines,
            "data": {"outside_changes": changes, "role_mismatches": mismatches}}


def drop_group_roles(db: peewee.Database, database: str, schema: str) -> None:
    """Remove the group roles of a schema that has been dropped (tests' throw-away schemas)."""
    for name in reversed(list(group_names(database, schema).values())):
        db.execute_sql(f"DROP ROLE IF EXISTS {quote_ident(name)}")
