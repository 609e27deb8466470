"""Back-up commands: `backup --out FILE`, `restore FILE`, `check-backup FILE` (SQLite files; for
PostgreSQL see docs/backup.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qatt.cli import Context
from qatt.errors import QattError


def _backup(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.trust import backup, users

    backup.sqlite_file(ctx.db_url)  # PostgreSQL is refused before anything is opened
    ctx.db()
    users.require_role(ctx.actor, "qa_lead", "back up the database")
    result = backup.backup(ctx.db_url, Path(args.out), progress=ctx.progress)
    backup.record_backup(ctx.actor, result)
    ctx.emit(result.as_dict(),
             f"backed up {result.source} to {result.target} ({result.bytes:,} bytes); "
             f"checked: integrity ok, audit log intact ({result.check.audit_events} events), "
             f"schema version {result.check.schema_version}")
    return 0


def _restore(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.trust import backup, users

    database = backup.sqlite_file(ctx.db_url)
    if database.exists():
        db = ctx.db()
        users.require_role(ctx.actor, "admin", "restore the database from a back-up")
        db.close()
        ctx._db = None
    source = Path(args.file)
    if not args.yes:
        check = backup.check_file(source)  # a damaged file is refused before anyone is asked
        if not check.ok:
            raise QattError(f"{source} cannot be restored: {'; '.join(check.problems)}. "
                            f"The current database ({database}) was not changed.")
        question = (f"Replace the database {database} with the back-up {source}? "
                    "The current database is kept aside first. Close QATT on this computer before going on.")
        if not sys.stdin.isatty():
            raise QattError(f"{question} Run again with --yes to confirm.")
        if input(f"{question} Type 'restore' to confirm: ").strip().lower() != "restore":
            ctx.emit({"restored": False}, "nothing restored")
            return 1
    result = backup.restore(ctx.db_url, source, progress=ctx.progress)
    ctx.db()  # the restored database, brought up to this QATT's schema
    backup.record_restore(ctx.actor, result)
    ctx.emit({"restored": True, **result.as_dict()},
             f"restored {result.database} from {result.restored_from}; checked: integrity ok, audit log intact "
             f"({result.check.audit_events} events). The database as it was is kept at "
             f"{result.previous_kept_at or '(there was none)'}.")
    return 0


def _check(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.trust import backup

    result = backup.check_file_here(Path(args.file))
    text = (f"{args.file}: integrity ok, audit log intact ({result.audit_events} events), schema version "
            f"{result.schema_version}" if result.ok else f"{args.file} FAILED its check: {'; '.join(result.problems)}")
    ctx.emit(result.as_dict(), text)
    return 0 if result.ok else 1


def register(add_command) -> None:
    p = add_command("backup", "write a checked copy of the SQLite database (safe while the app runs)", _backup)
    p.add_argument("--out", required=True, metavar="FILE", help="the new back-up file (must not exist yet)")
    p = add_command("restore", "replace the SQLite database with a checked back-up (administrators)", _restore)
    p.add_argument("file", metavar="FILE", help="the back-up file")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p = add_command("check-backup", "check a database or back-up file without changing it: "
                    "integrity, schema version, audit log (exit 1 if it fails)", _check)
    p.add_argument("file", metavar="FILE")
