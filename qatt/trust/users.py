"""Identity and roles. Identity is the operating-system login unless QATT_USER says otherwise.

Roles are enforced here, in the core, not only by hiding buttons in the GUI."""

from __future__ import annotations

import getpass
import os
from typing import Optional

from qatt.errors import PermissionDenied, QattError
from qatt.storage import models as m

# Higher roles can do everything lower ones can.
RANK = {"reviewer": 0, "moderator": 1, "qa_lead": 2, "admin": 3}


def current_username(explicit: Optional[str] = None) -> str:
    name = explicit or os.environ.get("QATT_USER") or getpass.getuser()
    return name.strip() or "unknown"


def ensure_user(username: str, role: str = "reviewer", display_name: str = "", team: str = "") -> m.User:
    """Return the user, creating them with `role` if they are new (existing roles are kept)."""
    if role not in RANK:
        raise QattError(f"Unknown role {role!r}; choose one of {', '.join(RANK)}.")
    user, _ = m.User.get_or_create(
        username=username, defaults={"role": role, "display_name": display_name or username, "team": team}
    )
    return user


def register_login(username: str) -> m.User:
    """Register the person opening the database. Whoever opens a brand-new database (from the app
    or the CLI) becomes its administrator: otherwise nobody could ever be given a role.

    A person new to the database is added with an audit event in the same transaction (on
    PostgreSQL a user row written without one is what `audit verify` reports as a change made
    outside QATT)."""
    from qatt.trust import audit
    from qatt.storage import pg_security
    from qatt.storage.db import database_proxy, write_transaction

    db = database_proxy.obj
    # On PostgreSQL a person's QATT role is their login's group membership (qatt.storage.pg_security).
    login_role = pg_security.desktop_role(db, username)
    known = m.User.get_or_none(m.User.username == username)
    if known is not None:
        return known
    with write_transaction(db):
        if login_role is not None:
            role, why = login_role, "first sign-in: the role of the person's database login"
        elif m.User.select().exists():
            role, why = "reviewer", "first sign-in"
        else:
            role, why = "admin", "first user of a new database"
        known = m.User.get_or_none(m.User.username == username)  # another desktop may have just added them
        if known is not None:
            return known
        user = ensure_user(username, role)
        audit.record(username, audit.ALTERATION, "user", username,
                     {"field": "role", "old": None, "new": role, "why": why})
    return user


def set_role(actor: str, username: str, role: str, *, create_login: bool = False) -> m.User:
    """Give `username` a role. On PostgreSQL their login's group membership changes in the same
    transaction (and with `create_login`, a login role is created for a new person)."""
    from qatt.trust import audit
    from qatt.storage import pg_security
    from qatt.storage.db import database_proxy, write_transaction

    require_role(actor, "admin")
    if role not in RANK:
        raise QattError(f"Unknown role {role!r}; choose one of {', '.join(RANK)}.")
    db = database_proxy.obj
    with write_transaction(db):
        login = None
        if pg_security.is_postgres(db) and pg_security.installed(db):
            login = pg_security.grant_login(db, username, role, create_login)
        existed = m.User.select().where(m.User.username == username).exists()
        user = ensure_user(username, role)
        old = user.role if existed else None
        user.role = role
        user.save()
        details = {"field": "role", "old": old, "new": role}
        if login == "created":
            details["login"] = "created"
        audit.record(actor, audit.ALTERATION, "user", username, details)
    return user


def add_user(actor: str, username: str, role: str) -> m.User:
    """`users add`: a new person with a role (on PostgreSQL, with their own login role)."""
    username = (username or "").strip()
    if not username:
        raise QattError("Give the new user's name (their database login on PostgreSQL).")
    return set_role(actor, username, role, create_login=True)


def role_of(username: str) -> str:
    user = m.User.get_or_none(m.User.username == username)
    return user.role if user is not None and user.active else "reviewer"


def has_role(username: str, minimum: str) -> bool:
    return RANK[role_of(username)] >= RANK[minimum]


def require_role(username: str, minimum: str, doing: str = "do this") -> None:
    if not has_role(username, minimum):
        raise PermissionDenied(
            f"{username} has the role '{role_of(username)}'; only a {minimum.replace('_', ' ')} or above may {doing}."
        )
