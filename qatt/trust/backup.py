"""Back-up and restore of an SQLite database file, checked before either is called done.

A back-up is taken with SQLite's online backup API from a connection of its own, so it is a
consistent snapshot of the last committed state even while the app is saving (an open write
transaction is simply not in the copy). The copy is created readable by its owner only before its
first byte is written, turned into a single self-contained file (no -wal beside it), and then
checked: `PRAGMA integrity_check` and the audit chain (`audit.verify_chain`).

The audit check binds the models to the file, and the model binding is global to a process, so it
runs in a child process (`python -m qatt check-backup FILE`): a desktop saving a review while a
back-up is being checked keeps writing to its own database.

PostgreSQL is backed up with pg_dump (docs/backup.md); these functions refuse it with that advice.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

from qatt.errors import QattError
from qatt.progress import ProgressFn, no_progress
from qatt.storage.db import is_postgres_url, resolve_url

SQLITE_HEADER = b"SQLite format 3\x00"
PG_ADVICE = ("QATT backs up SQLite files only; back up a PostgreSQL database with pg_dump "
             "(see docs/backup.md for the commands and the role that runs them).")


@dataclass
class FileCheck:
    """What checking a database file found. `ok` only if every check passed."""

    path: str
    ok: bool
    schema_version: int = 0
    audit_events: int = 0
    problems: List[str] = field(default_factory=list)

    def as_dict(self) -> Dict[str, Any]:
        return {"path": self.path, "ok": self.ok, "schema_version": self.schema_version,
                "audit_events": self.audit_events, "problems": list(self.problems)}


@dataclass
class BackupResult:
    source: str
    target: str
    bytes: int
    check: FileCheck

    def as_dict(self) -> Dict[str, Any]:
        return {"source": self.source, "target": self.target, "bytes": self.bytes, "check": self.check.as_dict()}


@dataclass
class RestoreResult:
    database: str
    restored_from: str
    previous_kept_at: str
    check: FileCheck

    def as_dict(self) -> Dict[str, Any]:
        return {"database": self.database, "restored_from": self.restored_from,
                "previous_kept_at": self.previous_kept_at, "check": self.check.as_dict()}


def sqlite_file(url: Optional[str]) -> Path:
    """The SQLite file that `url` (or $QATT_DB, or the per-user default) names; PostgreSQL is refused."""
    resolved = resolve_url(url)
    if is_postgres_url(resolved):
        raise QattError(PG_ADVICE)
    if resolved.startswith("sqlite:///"):
        resolved = resolved[len("sqlite:///"):]
    if resolved == ":memory:":
        raise QattError("An in-memory database cannot be backed up or restored; name a database file.")
    return Path(resolved).expanduser()


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)


def _integrity_problems(path: Path) -> List[str]:
    """[] if `path` is an SQLite database that passes PRAGMA integrity_check, else what is wrong."""
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        return [f"it cannot be read ({exc.strerror or exc})"]
    if header != SQLITE_HEADER:
        return ["it is not an SQLite database file"]
    try:
        conn = _read_only(path)
        try:
            rows = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return [f"SQLite cannot read it ({exc})"]
    if rows != ["ok"]:
        return [f"the integrity check failed: {'; '.join(rows[:5])}"]
    from qatt.storage import models as m

    if not {m.SchemaVersion._meta.table_name, m.AuditEvent._meta.table_name} <= tables:
        return ["it is an SQLite file but not a QATT database (no schema version or audit log)"]
    return []


def check_file_here(path: Path) -> FileCheck:
    """Check a database file in this process: integrity, schema version, audit chain.

    Binds the models to the file (read-only), so call it only in a process that has nothing
    else bound: the `check-backup` command, or a test."""
    path = Path(path)
    problems = _integrity_problems(path)
    if problems:
        return FileCheck(str(path), False, problems=problems)
    import peewee

    from qatt.trust import audit
    from qatt.storage import migrations
    from qatt.storage.db import bind

    database = peewee.SqliteDatabase(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        database.connect()
        bind(database)
        version = migrations.current_version(database)
        chain = audit.verify_chain()
    except peewee.DatabaseError as exc:
        return FileCheck(str(path), False, problems=[f"SQLite cannot read it ({exc})"])
    finally:
        database.close()
    result = FileCheck(str(path), True, schema_version=version, audit_events=chain.events)
    if version > migrations.LATEST:
        result.problems.append(f"it is at schema version {version}, newer than this QATT ({migrations.LATEST})")
    if not chain.ok:
        result.problems.append(f"its audit log is broken at event {chain.first_broken_id}: {chain.problem}")
    result.ok = not result.problems
    return result


def cli_command() -> List[str]:
    """How to run the QATT command line from this process: the frozen build's second executable
    beside this one, or this Python with `-m qatt`."""
    if getattr(sys, "frozen", False):
        here = Path(sys.executable).resolve().parent
        return [str(here / ("qatt-cli.exe" if os.name == "nt" else "qatt-cli"))]
    return [sys.executable, "-m", "qatt"]


def check_file(path: Path) -> FileCheck:
    """Check a database file in a child process (see the module docstring for why)."""
    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = package_root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    try:
        # A windowed desktop on Windows would otherwise flash a console window for the child.
        flags = getattr(subprocess, "CREATE_NO_WINDOW", 0)
        done = subprocess.run([*cli_command(), "check-backup", str(path), "--json"], capture_output=True,
                              text=True, env=env, stdin=subprocess.DEVNULL, timeout=3600, creationflags=flags)
    except OSError as exc:
        raise QattError(f"The check of {path} could not be started ({exc}); "
                        f"run `python -m qatt check-backup {path}` yourself.") from exc
    try:
        data = json.loads(done.stdout)
    except ValueError:
        raise QattError(f"The check of {path} did not finish: {done.stderr.strip()[-500:] or 'no output'}") from None
    return FileCheck(data["path"], bool(data["ok"]), int(data["schema_version"]), int(data["audit_events"]),
                     list(data["problems"]))


def _private_new_file(path: Path) -> None:
    """Create `path` empty and owner-only before anything is written to it; refuse to overwrite."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        raise QattError(f"{path} already exists; choose a new file name for the back-up.") from None
    except OSError as exc:
        raise QattError(f"Cannot create {path}: {exc.strerror or exc}. Choose a folder you can write to.") from None
    os.close(fd)


def _copy(source: sqlite3.Connection, target: Path) -> None:
    """The online backup into a new owner-only file, as one step (one consistent snapshot), then
    made self-contained: rollback journal mode, so the copy is a single file."""
    dest = sqlite3.connect(str(target))
    try:
        source.backup(dest)  # pages=-1: the whole database in one step, under one read snapshot
        dest.execute("PRAGMA journal_mode=DELETE")
    finally:
        dest.close()


def _remove_quietly(path: Path) -> None:
    for leftover in (path, Path(f"{path}-journal"), Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            leftover.unlink()
        except FileNotFoundError:
            pass


def backup(url: Optional[str], target: Path, progress: ProgressFn = no_progress) -> BackupResult:
    """Write a checked copy of the SQLite database at `url` to `target` (a new file).

    A copy that fails its checks is removed and the failure raised; the source is never changed."""
    source = sqlite_file(url)
    target = Path(target).expanduser()
    if not source.exists():
        raise QattError(f"There is no database at {source} to back up.")
    if target.resolve() == source.resolve():
        raise QattError("The back-up must be a different file from the database itself.")
    if not target.parent.is_dir():
        raise QattError(f"The folder {target.parent} does not exist; choose an existing folder for the back-up.")
    progress(0, 3, "Copying the database")
    _private_new_file(target)
    try:
        conn = _read_only(source)
        try:
            _copy(conn, target)
        except sqlite3.Error as exc:
            raise QattError(f"{source} could not be copied ({exc}). If another program holds it locked, "
                            "try again in a moment; nothing was changed.") from exc
        finally:
            conn.close()
        progress(1, 3, "Checking the copy (integrity and audit log)")
        check = check_file(target)
    except BaseException:
        _remove_quietly(target)
        raise
    if not check.ok:
        _remove_quietly(target)
        raise QattError(f"The back-up of {source} failed its check, so it was removed: {'; '.join(check.problems)}. "
                        "Run `python -m qatt check-backup` on the database itself to see whether it is damaged.")
    progress(3, 3, "Back-up written and checked")
    return BackupResult(str(source), str(target), target.stat().st_size, check)


def record_backup(actor: str, result: BackupResult) -> None:
    """The back-up is a copy of everything: recorded as a disclosure in the database that was copied.
    (The copy itself was taken just before, so it does not hold this event.)"""
    from qatt.trust import audit

    audit.record(actor, audit.DISCLOSURE, "database", "",
                 {"backup": Path(result.target).name, "bytes": result.bytes, "audit_events": result.check.audit_events})


def restore(url: Optional[str], backup_file: Path, progress: ProgressFn = no_progress) -> RestoreResult:
    """Replace the SQLite database at `url` with the contents of `backup_file`.

    The back-up is checked first; a damaged one is refused and nothing is changed. The current
    database is then copied aside (owner-only, next to it) and the back-up written into it with
    the backup API, in one step; the result is checked again. Close the desktop app on this
    computer first: it would otherwise keep showing what it had read before."""
    database = sqlite_file(url)
    backup_file = Path(backup_file).expanduser()
    if not backup_file.exists():
        raise QattError(f"There is no back-up file at {backup_file}.")
    if database.exists() and backup_file.resolve() == database.resolve():
        raise QattError("The back-up to restore is the database itself; choose the back-up file.")
    progress(0, 4, "Checking the back-up")
    check = check_file(backup_file)
    if not check.ok:
        raise QattError(f"{backup_file} cannot be restored: {'; '.join(check.problems)}. "
                        f"The current database ({database}) was not changed.")
    kept = ""
    if database.exists():
        progress(1, 4, "Keeping the current database aside")
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        aside = database.with_name(f"{database.name}.before-restore.{stamp}.bak")
        _private_new_file(aside)
        try:
            conn = _read_only(database)
            try:
                _copy(conn, aside)
            finally:
                conn.close()
        except BaseException:
            _remove_quietly(aside)
            raise
        kept = str(aside)
    else:
        from qatt.storage.db import make_database

        make_database(str(database))  # creates the file owner-only
    progress(2, 4, "Restoring")
    source = _read_only(backup_file)
    try:
        dest = sqlite3.connect(str(database), timeout=30)
        try:
            source.backup(dest)  # one step: the destination is replaced in one transaction
        finally:
            dest.close()
    except sqlite3.Error as exc:
        raise QattError(f"{backup_file} could not be written into {database} ({exc}); the database was not "
                        f"changed. Close QATT on this computer and try again.") from exc
    finally:
        source.close()
    progress(3, 4, "Checking the restored database")
    after = check_file(database)
    if not after.ok:
        raise QattError(f"The restored database failed its check: {'; '.join(after.problems)}. "
                        f"The database as it was before is kept at {kept or '(there was none)'}; "
                        f"restore that file with `python -m qatt restore`.")
    progress(4, 4, "Restored and checked")
    return RestoreResult(str(database), str(backup_file), kept, after)


def record_restore(actor: str, result: RestoreResult) -> None:
    """Recorded in the restored database, so its own log says it was put back from a back-up."""
    from qatt.trust import audit

    audit.record(actor, audit.ALTERATION, "database", "",
                 {"restored_from": Path(result.restored_from).name,
                  "previous_kept_at": Path(result.previous_kept_at).name if result.previous_kept_at else ""})
