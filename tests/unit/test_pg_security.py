"""PostgreSQL enforcement with real per-person login roles: what a desktop login cannot do even
with the connection string and psql, and what it does that is recorded.

The fixture makes a throw-away schema, migrates it as the superuser (standing in for the schema
owner), creates login roles with unique names through `users add`, and drops them afterwards (the
server is shared)."""

from __future__ import annotations

import contextlib
import json
import uuid
from dataclasses import dataclass
from typing import Dict, Iterator

import psycopg2
import psycopg2.errors
import pytest

from qatt import cli
from qatt.reviewing import reviews
from qatt.trust import users
from qatt.errors import PermissionDenied
from qatt.storage import db as dbmod
from qatt.storage import models as m
from qatt.storage import pg_security
from tests.conftest import PG_URL, drop_pg_schema, make_pg_schema_url, postgres_unavailable_reason
from tests.factories import COMPLETE_ANSWERS, form_dict, make_population, make_sample, sample_items, write_form

pytestmark = pytest.mark.postgres


def _login_url(base_url: str, login: str) -> str:
    # base_url is postgresql://postgres@host:port/db?options=...: swap the user name.
    return base_url.replace("postgresql://postgres@", f"postgresql://{login}@", 1)


@dataclass
class Server:
    url: str  # the owner's (superuser's) URL of the schema
    schema: str
    people: Dict[str, str]  # QATT role -> login name
    owner_db: object

    def url_for(self, login: str) -> str:
        return _login_url(self.url, login)

    @contextlib.contextmanager
    def raw(self, login: str):
        """A plain psycopg2 connection as `login`, each statement its own transaction: what
        someone with psql would have."""
        conn = psycopg2.connect(host="127.0.0.1", port=5432, dbname="test", user=login,
                                options=f"-csearch_path={self.schema}")
        conn.autocommit = True
        try:
            yield conn
        finally:
            conn.close()

    @contextlib.contextmanager
    def desktop(self, login: str) -> Iterator[object]:
        """Bind QATT's models to a connection made as `login` (as that person's desktop does)."""
        database = dbmod.open_database(self.url_for(login))
        try:
            yield database
        finally:
            database.close()
            dbmod.bind(self.owner_db)


def _skip_without_logins(monkeypatch) -> None:
    """Skip unless a server answers at a postgres@ URL (the tests log in as new roles by swapping its
    user name); desktops then act as their login, so QATT_USER is cleared."""
    reason = postgres_unavailable_reason()
    if reason:
        pytest.skip(reason)
    if not PG_URL.startswith("postgresql://postgres@"):
        pytest.skip("these tests log in as new roles by swapping the user name in a postgres@ URL")
    monkeypatch.delenv("QATT_USER", raising=False)


@pytest.fixture
def server(tmp_path, monkeypatch):
    _skip_without_logins(monkeypatch)
    url, schema = make_pg_schema_url()
    owner_db = dbmod.open_database(url)
    suffix = uuid.uuid4().hex[:8]
    people = {role: f"qt_{suffix}_{role}" for role in ("reviewer", "moderator", "qa_lead", "admin")}
    people["reviewer2"] = f"qt_{suffix}_reviewer2"
    users.register_login("owner.setup")
    try:
        for key, login in people.items():
            users.add_user("owner.setup", login, key.rstrip("2"))
        yield Server(url, schema, people, owner_db)
    finally:
        dbmod.bind(owner_db)
        owner_db.close()
        drop_pg_schema(schema)
        cleanup = dbmod.make_database(PG_URL)
        cleanup.connect()
        for login in people.values():
            cleanup.execute_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", [login])
            cleanup.execute_sql(f'DROP ROLE IF EXISTS "{login}"')
        cleanup.close()


@pytest.fixture
def forms_dir(tmp_path):
    folder = tmp_path / "forms"
    write_form(folder, form_dict())
    return folder


@pytest.fixture
def item_ids(server):
    sample = make_sample(make_population(4), form_id="test_form")
    # The factories write straight through the models, with no audit event: that is a change
    # outside QATT too. Start the tests from a clean record (the owner may; see docs/force-wide.md).
    server.owner_db.execute_sql("DELETE FROM row_change")
    return [item.id for item in sample_items(sample)]


def _own_review(server, forms_dir, item_id, key="reviewer"):
    """A draft started and saved by the reviewer's own desktop; returns its id."""
    login = server.people[key]
    with server.desktop(login):
        review = reviews.start_review(item_id, login, forms_dir=forms_dir)
        reviews.save_answers(review.id, {"c1": "yes"}, login, expected_version=1)
        return review.id


def _cli(capsys, url, *args):
    code = cli.main(["--db", url, "--json", *args])
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------- set-up

def test_migrate_makes_nested_group_roles_and_users_add_makes_member_logins(server):
    db = server.owner_db
    groups = pg_security.groups_of(db)
    assert set(groups) == {"reviewer", "moderator", "qa_lead", "admin"}
    for role, login in server.people.items():
        members = {r for r in groups.values()
                   if db.execute_sql("SELECT pg_has_role(%s, %s, 'MEMBER')", [login, r]).fetchone()[0]}
        rank = users.RANK[role.rstrip("2")]
        assert members == {groups[r] for r in users.RANK if users.RANK[r] <= rank}
        assert m.User.get(m.User.username == login).role == role.rstrip("2")
    can_login = db.execute_sql("SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", [groups["admin"]]).fetchone()[0]
    assert can_login is False


def test_a_desktop_works_as_its_own_login_and_leaves_no_outside_changes(server, forms_dir, item_ids, capsys):
    reviewer = server.people["reviewer"]
    with server.desktop(reviewer):
        review = reviews.start_review(item_ids[0], reviewer, forms_dir=forms_dir)
        saved = reviews.save_answers(review.id, dict(COMPLETE_ANSWERS), reviewer, expected_version=1)
        submitted = reviews.submit_review(review.id, reviewer, expected_version=saved.version)
        assert submitted.status == "submitted"
    code, out, _ = _cli(capsys, server.url_for(server.people["qa_lead"]), "audit", "verify")
    report = json.loads(out)
    assert code == 0, report
    assert report["ok"] and report["outside_changes"] == [] and report["role_mismatches"] == []
    events = m.AuditEvent.select().where(m.AuditEvent.object_type == "review", m.AuditEvent.object_id == str(review.id))
    assert {e.actor for e in events} == {reviewer}


# --------------------------------------------------------------------------- what a desktop login cannot do

def test_a_reviewer_cannot_update_another_reviewers_review_or_answers(server, forms_dir, item_ids):
    review_id = _own_review(server, forms_dir, item_ids[0])
    with server.raw(server.people["reviewer2"]) as conn, conn.cursor() as cur:
        cur.execute("UPDATE review SET grade = 'good' WHERE id = %s", [review_id])
        assert cur.rowcount == 0
        cur.execute("UPDATE answer SET value = '\"no\"' WHERE review_id = %s", [review_id])
        assert cur.rowcount == 0
        cur.execute("DELETE FROM answer WHERE review_id = %s", [review_id])
        assert cur.rowcount == 0
        with pytest.raises(psycopg2.errors.InsufficientPrivilege, match="row-level security"):
            cur.execute("INSERT INTO review (sample_item_id, form_version_id, reviewer, role, status, suggested_grade,"
                        " grade, override_rationale, strengths, improvements, feedback, version, created_at, updated_at)"
                        " SELECT %s, form_version_id, %s, 'second', 'draft', '', 'good', '', '', '', '', 1, now(), now()"
                        " FROM review WHERE id = %s", [item_ids[0], server.people["reviewer"], review_id])
    row = m.Review.get_by_id(review_id)
    assert row.grade == "" and reviews.answers_of(row) == {"c1": "yes"}


def test_no_desktop_role_can_update_delete_or_truncate_the_audit_log(server, forms_dir, item_ids):
    _own_review(server, forms_dir, item_ids[0])
    count = m.AuditEvent.select().count()
    for key in ("reviewer", "admin"):
        with server.raw(server.people[key]) as conn, conn.cursor() as cur:
            for sql in ("UPDATE audit_event SET actor = 'someone.else'", "DELETE FROM audit_event",
                        "TRUNCATE audit_event", "DELETE FROM row_change", "UPDATE row_change SET login = 'x'",
                        "TRUNCATE row_change"):
                with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                    cur.execute(sql)
    # Erasure may blank the details of an event (the administrator's purge), and nothing else.
    with server.raw(server.people["admin"]) as conn, conn.cursor() as cur:
        cur.execute("UPDATE audit_event SET details = NULL WHERE id = (SELECT min(id) FROM audit_event)")
        assert cur.rowcount == 1
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("UPDATE audit_event SET details = NULL, hash = 'x' WHERE id = (SELECT min(id) FROM audit_event)")
    with server.raw(server.people["qa_lead"]) as conn, conn.cursor() as cur:
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("UPDATE audit_event SET details = NULL WHERE id = (SELECT min(id) FROM audit_event)")
    assert m.AuditEvent.select().count() == count


def test_an_audit_event_in_someone_elses_name_is_refused(server):
    with server.raw(server.people["reviewer"]) as conn, conn.cursor() as cur:
        with pytest.raises(psycopg2.errors.InsufficientPrivilege, match="may not write an event as"):
            cur.execute("INSERT INTO audit_event (at, actor, action, object_type, object_id, prev_hash, hash)"
                        " VALUES (now(), %s, 'alteration', 'review', '1', 'x', 'y')", [server.people["admin"]])


def test_a_reviewer_cannot_make_themselves_admin(server, capsys):
    me = server.people["reviewer"]
    groups = pg_security.groups_of(server.owner_db)
    with server.raw(me) as conn, conn.cursor() as cur:
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("""UPDATE "user" SET role = 'admin' WHERE username = %s""", [me])
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute(f'GRANT "{groups["admin"]}" TO "{me}"')
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("SELECT qatt_grant_login(%s, 'admin', false)", [me])
        with pytest.raises(psycopg2.errors.InsufficientPrivilege, match="row-level security"):
            cur.execute("""INSERT INTO "user" (username, display_name, role, team, active, created_at)
                           VALUES ('new.admin', '', 'admin', '', true, now())""")
        cur.execute("UPDATE setting SET value = '\"NOT MARKED\"' WHERE key = 'protective_marking'")
        assert cur.rowcount == 0
    code, _, err = _cli(capsys, server.url_for(me), "users", "--set-role", me, "admin")
    assert code == 2 and "only a admin" in err
    assert m.User.get(m.User.username == me).role == "reviewer"
    assert pg_security.role_mismatches(server.owner_db) == []
    held = server.owner_db.execute_sql("SELECT pg_has_role(%s, %s, 'MEMBER')", [me, groups["admin"]]).fetchone()[0]
    assert held is False


def test_an_administrator_changes_a_persons_role_in_the_database_and_in_qatt(server, capsys):
    person = server.people["reviewer2"]
    groups = pg_security.groups_of(server.owner_db)
    code, out, err = _cli(capsys, server.url_for(server.people["admin"]), "users", "--set-role", person, "moderator")
    assert code == 0, err
    assert {"username": person, "role": "moderator"}.items() <= next(
        u for u in json.loads(out) if u["username"] == person).items()
    has = lambda group: server.owner_db.execute_sql(  # noqa: E731
        "SELECT pg_has_role(%s, %s, 'MEMBER')", [person, group]).fetchone()[0]
    assert has(groups["moderator"]) and not has(groups["qa_lead"])
    with server.desktop(person) as database:
        assert pg_security.membership_role(database) == "moderator"
    code, out, err = _cli(capsys, server.url_for(server.people["admin"]), "users", "add",
                          f"{person}_x", "--role", "qa_lead")
    assert code == 0, err
    server.people["added"] = f"{person}_x"  # dropped by the fixture
    assert has(groups["qa_lead"]) is False  # person's own membership unchanged
    added = server.owner_db.execute_sql("SELECT pg_has_role(%s, %s, 'MEMBER')",
                                        [f"{person}_x", groups["qa_lead"]]).fetchone()[0]
    assert added and m.User.get(m.User.username == f"{person}_x").role == "qa_lead"


# --------------------------------------------------------------------------- recorded and refused

def test_a_direct_sql_grade_change_is_recorded_naming_the_login(server, forms_dir, item_ids, capsys):
    me = server.people["reviewer"]
    review_id = _own_review(server, forms_dir, item_ids[0])
    with server.raw(me) as conn, conn.cursor() as cur:
        cur.execute("UPDATE review SET grade = 'good' WHERE id = %s", [review_id])
        assert cur.rowcount == 1
    code, out, _ = _cli(capsys, server.url_for(server.people["qa_lead"]), "audit", "verify")
    report = json.loads(out)
    assert code == 1
    [change] = report["outside_changes"]
    assert change["login"] == me and change["table"] == "review" and change["row_id"] == review_id
    assert change["op"] == "update" and change["changes"]["grade"] == {"old": "", "new": "good"}
    cli.main(["--db", server.url_for(server.people["qa_lead"]), "audit", "verify"])
    text = capsys.readouterr().out
    assert f"{me} updated review {review_id} (grade '' -> 'good') outside QATT" in text


def test_a_population_changed_with_psql_is_recorded_naming_the_login(server, item_ids, capsys):
    """Every role may import, so every role may write the population table: a reviewer renaming a
    population, or changing its count or fingerprint, with psql is named by audit verify."""
    me = server.people["reviewer"]
    population_id = m.Population.select(m.Population.id).scalar()
    with server.raw(me) as conn, conn.cursor() as cur:
        cur.execute("UPDATE population SET name = 'renamed', row_count = 300 WHERE id = %s", [population_id])
        assert cur.rowcount == 1
    code, out, _ = _cli(capsys, server.url_for(server.people["qa_lead"]), "audit", "verify")
    [change] = json.loads(out)["outside_changes"]
    assert code == 1 and change["login"] == me and change["table"] == "population"
    assert change["changes"] == {"name": "changed", "row_count": {"old": 4, "new": 300}}  # a name is free text


def test_free_text_never_goes_into_the_row_change_log(server, forms_dir, item_ids):
    me = server.people["reviewer"]
    review_id = _own_review(server, forms_dir, item_ids[0])
    with server.desktop(me):
        review = reviews.get_review(review_id)
        reviews.save_details(review_id, me, review.version, strengths="Secret strength text")
    dump = json.dumps(server.owner_db.execute_sql("SELECT changes FROM row_change").fetchall())
    assert "strengths" in dump and "Secret strength text" not in dump


def test_a_user_option_naming_someone_else_is_refused(server, capsys):
    me, other = server.people["reviewer"], server.people["admin"]
    code, _, err = _cli(capsys, server.url_for(me), "--user", other, "users")
    assert code == 2
    assert me in err and other in err and "Traceback" not in err
    with server.desktop(me) as database:
        with pytest.raises(PermissionDenied):
            pg_security.session_identity(database, other)
        assert pg_security.session_identity(database, None) == me
    code, out, _ = _cli(capsys, server.url_for(me), "--user", me, "users")
    assert code == 0


def test_a_desktop_login_cannot_migrate_and_says_who_can(server):
    with server.desktop(server.people["admin"]) as database:
        with pytest.raises(pg_security.QattError, match="Only the database owner"):
            pg_security.install(database)


def test_migration_from_a_v4_database_installs_the_roles(tmp_path):
    reason = postgres_unavailable_reason()
    if reason:
        pytest.skip(reason)
    from qatt.storage import migrations

    url, schema = make_pg_schema_url()
    try:
        database = dbmod.open_database(url, migrate=False)
        migrations.migrate(database, target=4)
        assert not pg_security.installed(database)
        applied = migrations.migrate(database)
        assert 10 in applied and pg_security.installed(database)
        triggers = {r[0] for r in database.execute_sql(
            "SELECT tgrelid::regclass::text || ':' || tgname FROM pg_trigger WHERE NOT tgisinternal "
            "AND tgrelid::regclass::text IN ('review', 'answer', 'action', 'sample', 'sample_item', '\"user\"')")}
        assert {f"{t}:qatt_row_change" for t in ("review", "answer", "action", "sample", "sample_item", '"user"')} <= triggers
        # The group names are recorded, so a copy restored under another database name keeps using them.
        recorded = pg_security.groups_of(database)
        assert recorded == pg_security.group_names(database.database, schema)
        database.execute_sql("UPDATE setting SET value = %s WHERE key = 'database_roles'", ['{"prefix": "qatt"}'])
        assert pg_security.groups_of(database)["admin"] == "qatt_admin"
        database.close()
    finally:
        drop_pg_schema(schema)


def test_audit_verify_by_a_reviewer_checks_the_chain_and_says_who_checks_the_rest(server, capsys):
    code, out, err = _cli(capsys, server.url_for(server.people["reviewer"]), "audit", "verify")
    assert code == 0, err
    report = json.loads(out)
    assert report["ok"] and report["outside_changes"] is None
    cli.main(["--db", server.url_for(server.people["reviewer"]), "audit", "verify"])
    assert "checked when a QA lead or administrator runs audit verify" in capsys.readouterr().out


def test_only_an_administrator_can_mark_a_training_database(server):
    """The training mark lets people act under other names; a reviewer must not be able to set it."""
    with server.raw(server.people["reviewer"]) as conn, conn.cursor() as cur:
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("""INSERT INTO setting (key, value) VALUES ('training_database', '{"training": true}')""")
    with server.desktop(server.people["reviewer"]) as database:
        assert not pg_security._training(database)


def test_a_refusal_by_the_database_becomes_a_message_that_says_what_to_do(server):
    import peewee

    with server.desktop(server.people["reviewer"]) as database:
        with pytest.raises(peewee.ProgrammingError) as caught:
            with database.atomic():
                m.Setting.create(key="retention_months_override", value=1)
        message = pg_security.denied_message(caught.value)
    assert message is not None and "permission denied for table setting" in message
    assert "ask a QATT administrator" in message
    assert pg_security.denied_message(ValueError("not a database error")) is None


def test_a_qa_lead_sets_the_force_targets_and_a_reviewer_cannot(server):
    """Row-level security allows the settings QATT lets a QA lead write, and no more."""
    from qatt import targets

    with server.desktop(server.people["qa_lead"]):
        assert targets.set_force_targets({"m2": 0.9}, server.people["qa_lead"])["m2"] == 0.9
        assert targets.force_targets()["m2"] == 0.9
    with server.raw(server.people["reviewer"]) as conn, conn.cursor() as cur:
        cur.execute("UPDATE setting SET value = '{\"m2\": 0.1}' WHERE key = 'mosovo_targets'")
        assert cur.rowcount == 0  # the row is invisible to the policy: nothing changed


# --------------------------------------------------------------------------- every table's writers named

def test_the_loop_and_exercise_tables_take_writes_only_from_their_writers(server, forms_dir, item_ids):
    """Acknowledgements, register notes and evidence, narratives and exercises once fell back to
    'any reviewer may write'. Now QATT's own flows work as real logins, and a reviewer with psql can
    add none of them in someone else's name or above their role."""
    from qatt.agreement import exercises
    from qatt.loop import acknowledgement, register
    from qatt.reporting import narrative

    lead, reviewer, other = server.people["qa_lead"], server.people["reviewer"], server.people["reviewer2"]
    with server.desktop(lead):
        register.add_note(lead, "2021-R1", "Checked at the May board.")
        register.link_evidence(lead, "2021-R1", "document", "Board minutes, May")
        narrative.save(lead, "Domestic abuse referrals", "2024-05", strengths="Timely referrals.")
        ex = exercises.create_exercise(lead, "DA spring", "cp_domestic_abuse", ["REF0001"])
        exercises.invite(lead, ex.id, [reviewer])
    with server.desktop(reviewer):
        exercises.submit_grade(reviewer, ex.id, "REF0001", {"da_dash": "yes"}, "good")
    with server.raw(other) as conn, conn.cursor() as cur:
        for sql in ("INSERT INTO register_note (entry_id, noted_on, text, recorded_by, recorded_at) "
                    "SELECT entry_id, noted_on, 'forged', %(me)s, now() FROM register_note",
                    "INSERT INTO register_evidence (entry_id, kind, ref, note, recorded_by, recorded_at) "
                    "SELECT entry_id, kind, 'forged', '', %(me)s, now() FROM register_evidence",
                    "UPDATE area_narrative SET strengths = 'forged'",
                    "INSERT INTO exercise_invite (exercise_id, reviewer, invited_by, invited_at) "
                    "SELECT id, %(me)s, %(me)s, now() FROM exercise",
                    "UPDATE exercise SET status = 'closed'"):
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute(sql, {"me": other})
        # Not invited: a grade in their own name is refused by row-level security.
        with pytest.raises(psycopg2.errors.InsufficientPrivilege, match="row-level security"):
            cur.execute("INSERT INTO exercise_grade (exercise_case_id, reviewer, grade, submitted_at) "
                        "SELECT exercise_case_id, %s, 'inadequate', now() FROM exercise_grade", [other])
    assert [g.grade for g in exercises.ExerciseGrade.select()] == ["good"]
    assert narrative.kept("Domestic abuse referrals", "2024-05").strengths == "Timely referrals."

    # Feedback acknowledgement: only for one's own review (or as a moderator and above), in one's own name.
    review_id = _own_review(server, forms_dir, item_ids[0])
    ack = ("INSERT INTO feedback_acknowledgement (review_id, acknowledged_on, comment, recorded_by, recorded_at) "
           "VALUES (%s, current_date, '', %s, now())")
    with server.raw(other) as conn, conn.cursor() as cur:
        with pytest.raises(psycopg2.errors.InsufficientPrivilege, match="row-level security"):
            cur.execute(ack, [review_id, other])
    with server.raw(reviewer) as conn, conn.cursor() as cur:
        with pytest.raises(psycopg2.errors.InsufficientPrivilege, match="row-level security"):
            cur.execute(ack, [review_id, other])  # not in someone else's name
        cur.execute(ack, [review_id, reviewer])
    assert [a.recorded_by for a in m.FeedbackAcknowledgement.select()] == [reviewer]


def test_migration_11_takes_back_the_writes_an_earlier_version_granted_by_default(server):
    """A v10 database gave every reviewer INSERT on the register's notes; after migrate, a reviewer
    with psql is refused."""
    from qatt.storage import migrations

    groups = pg_security.groups_of(server.owner_db)
    server.owner_db.execute_sql(f'GRANT INSERT, UPDATE ON register_note TO "{groups["reviewer"]}"')
    m.SchemaVersion.update(version=10).execute()
    assert 11 in migrations.migrate(server.owner_db)
    with server.raw(server.people["reviewer"]) as conn, conn.cursor() as cur:
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("INSERT INTO register_note (entry_id, noted_on, text, recorded_by, recorded_at) "
                        "SELECT id, current_date, 'x', %s, now() FROM recommendation LIMIT 1",
                        [server.people["reviewer"]])


def test_the_documented_set_up_works_with_an_owner_that_is_not_a_superuser(capsys, monkeypatch):
    """docs/force-wide.md, step by step: a login with CREATEROLE owns the schema, runs `migrate` and
    gives the first administrator a role; the administrator adds a reviewer. Before, the second step
    was refused (the owner is in no QATT group), and `audit verify` on the new database reported the
    owner's own first sign-in as a change made outside QATT. (The other tests migrate as the superuser.)"""
    _skip_without_logins(monkeypatch)
    suffix = uuid.uuid4().hex[:8]
    owner, admin, reviewer = (f"qt_{suffix}_{who}" for who in ("owner", "admin", "reviewer"))
    schema = f"qatt_t_{suffix}"
    superuser = dbmod.make_database(PG_URL)
    superuser.connect()
    superuser.execute_sql(f'CREATE ROLE "{owner}" LOGIN CREATEROLE')
    superuser.execute_sql(f'CREATE SCHEMA "{schema}" AUTHORIZATION "{owner}"')
    url = f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}"
    try:
        assert _cli(capsys, _login_url(url, owner), "migrate")[0] == 0
        code, out, err = _cli(capsys, _login_url(url, owner), "users", "add", admin, "--role", "admin")
        assert code == 0, err
        code, out, err = _cli(capsys, _login_url(url, admin), "users", "add", reviewer, "--role", "reviewer")
        assert code == 0, err
        code, out, err = _cli(capsys, _login_url(url, admin), "audit", "verify")
        assert code == 0, out + err
        assert json.loads(out)["outside_changes"] == [] and json.loads(out)["role_mismatches"] == []
        code, out, err = _cli(capsys, _login_url(url, reviewer), "users", "add", f"qt_{suffix}_x", "--role", "admin")
        assert code != 0  # and a reviewer still may not
    finally:
        dbmod.bind(superuser)
        superuser.execute_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename IN (%s, %s, %s)",
                              [owner, admin, reviewer])
        superuser.close()
        drop_pg_schema(schema)
        cleanup = dbmod.make_database(PG_URL)
        cleanup.connect()
        for login in (reviewer, admin, f"qt_{suffix}_x"):
            cleanup.execute_sql(f'DROP ROLE IF EXISTS "{login}"')
        cleanup.execute_sql(f'DROP OWNED BY "{owner}"')
        cleanup.execute_sql(f'DROP ROLE "{owner}"')
        cleanup.close()
