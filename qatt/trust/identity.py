"""Who is at the keyboard, as far as QATT can prove it.

On SQLite the person is the operating-system account running the process (whoever can open the
file); on PostgreSQL it is the login role of the connection, `session_user`, which the server
authenticated (password file, Kerberos, ...). `--user` or `QATT_USER` naming anyone else is refused,
except in a demonstration or training database, where trying the program as several people is the
point. The audit log records the proven identity beside the name acted as (qatt.trust.audit).
"""

from __future__ import annotations

import getpass
import os
from typing import Optional

import peewee

from qatt.errors import QattError
from qatt.storage import models as m
from qatt.storage.db import is_sqlite

TRAINING_KEY = "training_database"
TRAINING_LABEL = "TRAINING DATABASE: demonstration data, not real cases"


def os_account() -> str:
    return (getpass.getuser() or "").strip() or "unknown"


def proven_identity(db: peewee.Database) -> str:
    """The operating-system account (SQLite) or the connection's login role (PostgreSQL)."""
    if is_sqlite(db):
        return os_account()
    return str(db.execute_sql("SELECT session_user").fetchone()[0])


def is_training() -> bool:
    """True for a database marked as a demonstration or training database (qatt.demo marks it)."""
    setting = m.Setting.get_or_none(m.Setting.key == TRAINING_KEY)
    return bool(setting is not None and isinstance(setting.value, dict) and setting.value.get("training"))


def mark_training(actor: str, why: str) -> None:
    """Mark the bound database as a training database (audited). Only qatt.demo, on a database that
    holds no case data yet, does this: it lets anyone act as anyone, which real data must never allow."""
    from qatt.trust import audit

    if is_training():
        return
    setting = m.Setting.get_or_none(m.Setting.key == TRAINING_KEY)
    if setting is None:
        m.Setting.create(key=TRAINING_KEY, value={"training": True, "why": why})
    else:
        setting.value = {"training": True, "why": why}
        setting.save()
    audit.record(actor, audit.ALTERATION, "setting", TRAINING_KEY, {"training": True, "why": why})


def acting_user(db: peewee.Database, requested: Optional[str] = None) -> str:
    """The name to act under: the proven identity, or (in a training database only) `requested`,
    which defaults to $QATT_USER. The proven identity is kept on the connection for the audit log."""
    proven = proven_identity(db)
    db.qatt_signed_in_as = proven
    wanted = (requested or os.environ.get("QATT_USER") or "").strip()
    if not wanted or wanted == proven:
        return proven
    if is_training():
        return wanted
    source = "--user" if requested else "QATT_USER"
    where = ("the operating-system account running QATT" if is_sqlite(db)
             else "the database login this connection uses")
    raise QattError(
        f"You are signed in as {proven} ({where}); QATT cannot act as {wanted!r}. Remove {source}, or sign in "
        f"as {wanted} yourself. Only a demonstration or training database lets you act as someone else.")
