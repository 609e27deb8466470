"""Database housekeeping commands: `init`, `migrate`, `users`."""

from __future__ import annotations

import argparse

from qatt.cli import Context
from qatt.errors import QattError


def _migrate(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.storage import migrations
    from qatt.storage.db import open_database

    db = open_database(ctx.db_url, migrate=False)
    ctx._db = db
    applied = migrations.migrate(db)
    ctx.emit({"applied": applied, "version": migrations.current_version(db)},
             f"schema at version {migrations.current_version(db)} (applied: {applied or 'none'})")
    return 0


def _users(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.trust import users
    from qatt.storage import models as m

    ctx.db()
    if args.action == "add":
        if not args.name or not args.role:
            raise QattError("users add needs a name and --role reviewer|moderator|qa_lead|admin.")
        users.add_user(ctx.actor, args.name, args.role)
    elif args.action or args.name:
        raise QattError("Use `users` to list, `users add NAME --role ROLE` or `users --set-role NAME ROLE`.")
    if args.set_role:
        username, role = args.set_role
        users.set_role(ctx.actor, username, role)
    rows = [{"username": u.username, "role": u.role, "team": u.team, "active": u.active}
            for u in m.User.select().order_by(m.User.username)]
    ctx.emit(rows, "\n".join(f"{r['username']:<24} {r['role']:<10} {r['team']}" for r in rows))
    return 0


def register(add_command) -> None:
    add_command("migrate", "create or upgrade the database schema", _migrate)
    p = add_command("users", "list users; an administrator can add people and set roles "
                             "(on PostgreSQL: each person's own login role)", _users)
    p.add_argument("action", nargs="?", choices=["add"], help="add: a new person (with --role)")
    p.add_argument("name", nargs="?", help="the person's user name (their database login on PostgreSQL)")
    p.add_argument("--role", choices=["reviewer", "moderator", "qa_lead", "admin"], help="the new person's role")
    p.add_argument("--set-role", nargs=2, metavar=("USERNAME", "ROLE"),
                   help="give USERNAME the role reviewer|moderator|qa_lead|admin")
