"""Identity is proven: the OS account on SQLite, session_user on PostgreSQL; naming anyone else is
refused except in a training database (which the demo data makes)."""

from __future__ import annotations

import getpass
import json

import pytest

from qatt import demo
from qatt.trust import identity
from qatt.cli import main
from qatt.storage import db as dbmod
from qatt.storage import models as m

ME = getpass.getuser()


def _plain_sqlite(tmp_path):
    """A migrated SQLite database without the training mark the shared fixtures add."""
    path = tmp_path / "live.sqlite3"
    dbmod.open_database(str(path)).close()
    return str(path)


def test_on_sqlite_the_os_account_acts_and_is_recorded(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("QATT_USER", raising=False)
    url = _plain_sqlite(tmp_path)
    assert main(["--db", url, "--json", "users"]) == 0
    assert [u["username"] for u in json.loads(capsys.readouterr().out)] == [ME]
    assert main(["--db", url, "--user", ME, "audit", "verify"]) == 0  # one's own name is fine
    db = dbmod.open_database(url)
    try:
        event = m.AuditEvent.select().order_by(m.AuditEvent.id).first()
        assert (event.actor, event.signed_in_as) == (ME, ME)
    finally:
        db.close()


@pytest.mark.parametrize("how", ["--user", "QATT_USER"])
def test_naming_someone_else_is_refused_outside_a_training_database(tmp_path, capsys, monkeypatch, how):
    url = _plain_sqlite(tmp_path)
    monkeypatch.delenv("QATT_USER", raising=False)
    args = ["--db", url, "users", "--set-role", "mallory", "admin"]
    if how == "--user":
        args[2:2] = ["--user", "admin.pg"]
    else:
        monkeypatch.setenv("QATT_USER", "admin.pg")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"You are signed in as {ME}" in err and "cannot act as 'admin.pg'" in err and f"Remove {how}" in err
    db = dbmod.open_database(url)
    try:
        assert not m.User.select().where(m.User.username.in_(["admin.pg", "mallory"])).exists()
        assert m.AuditEvent.select().count() == 0  # nothing was done under the borrowed name
    finally:
        db.close()


def test_the_demo_makes_a_training_database_where_people_may_act_as_others(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("QATT_USER", raising=False)
    url = _plain_sqlite(tmp_path)
    assert main(["--db", url, "demo", "--cases", "20"]) == 0
    capsys.readouterr()
    assert main(["--db", url, "--user", "demo.lead", "--json", "users"]) == 0
    db = dbmod.open_database(url)
    try:
        assert identity.is_training()
        marked = m.AuditEvent.get(m.AuditEvent.object_id == identity.TRAINING_KEY)
        assert marked.actor == ME
        latest = m.AuditEvent.select().where(m.AuditEvent.actor == "demo.lead").first()
        assert latest is None or latest.signed_in_as == ME
        from qatt.trust import audit

        db.qatt_signed_in_as = ME
        event = audit.record("demo.lead", audit.CONSULTATION, "sample", 1, {})
        assert (event.actor, event.signed_in_as) == ("demo.lead", ME)  # who really was there
        assert audit.verify_chain().ok
    finally:
        db.close()


def test_demo_data_loaded_into_a_database_with_cases_does_not_make_it_a_training_one(tmp_path, monkeypatch):
    monkeypatch.delenv("QATT_USER", raising=False)
    url = _plain_sqlite(tmp_path)
    db = dbmod.open_database(url)
    try:
        m.Population.create(name="Real extract", row_count=0)
        demo.load_demo(ME, cases=10)
        assert not identity.is_training()
    finally:
        db.close()
    assert main(["--db", url, "--user", "someone.else", "users"]) == 2


def test_a_training_database_says_so_on_its_exports(tmp_path, monkeypatch):
    from qatt import reports

    url = _plain_sqlite(tmp_path)
    db = dbmod.open_database(url)
    try:
        assert reports.monthly_report(reports.ReportFilter()).header.training == ""
        demo.load_demo(ME, cases=10)
        assert reports.monthly_report(reports.ReportFilter()).header.training == identity.TRAINING_LABEL
    finally:
        db.close()


@pytest.mark.postgres
def test_on_postgresql_the_identity_is_the_session_user(pg_url, capsys, monkeypatch):
    monkeypatch.delenv("QATT_USER", raising=False)
    db = dbmod.open_database(pg_url)
    login = db.execute_sql("SELECT session_user").fetchone()[0]
    assert identity.proven_identity(db) == login
    db.close()
    assert main(["--db", pg_url, "--json", "users"]) == 0
    assert [u["username"] for u in json.loads(capsys.readouterr().out)] == [login]
    assert main(["--db", pg_url, "--user", "admin.pg", "users"]) == 2
    err = capsys.readouterr().err
    assert f"You are signed in as {login} (the database login this connection uses)" in err
