"""`users add` and `users --set-role` on SQLite (PostgreSQL: tests/unit/test_pg_security.py)."""

import json

from qatt import cli
from qatt.storage import models as m


def run(capsys, path, *args):
    code = cli.main(["--db", str(path), "--json", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_an_administrator_adds_a_person_with_a_role_and_it_is_audited(capsys, training_db_path):
    path = training_db_path  # the tests act as QATT_USER=tester, another name than the OS account
    code, out, err = run(capsys, path, "users", "add", "bob.jones", "--role", "moderator")
    assert code == 0, err
    assert {"username": "bob.jones", "role": "moderator"}.items() <= next(
        u for u in json.loads(out) if u["username"] == "bob.jones").items()
    event = m.AuditEvent.select().where(m.AuditEvent.object_type == "user",
                                        m.AuditEvent.object_id == "bob.jones").get()
    assert event.details == {"field": "role", "old": None, "new": "moderator"}


def test_users_add_without_a_role_says_what_is_missing(capsys, training_db_path):
    code, _, err = run(capsys, training_db_path, "users", "add", "bob.jones")
    assert code == 2 and "--role" in err
