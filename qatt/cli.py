"""`python -m qatt ...`: the scriptable face of the core.

Each command lives in a module of qatt/commands/ that defines `register(add_command)`; this file
discovers them, so adding a command never means editing a central list. Every command takes
--db, --user and --json. A QattError prints one line to stderr and exits 2.

Building the parser imports every command module, so a command module and its `register` stay
cheap: they import the core (peewee, the importer, reports, statistics) inside the handlers, never
at the top. tests/unit/test_cli_startup.py checks that `--help` imports none of it.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import pkgutil
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, List, Optional

from qatt.errors import QattError
from qatt.version import VersionAction

if TYPE_CHECKING:  # peewee is imported when a command opens the database, not for `--help`
    import peewee

log = logging.getLogger("qatt")


@dataclass
class Context:
    """What a command handler needs: where the database is, who is acting, how to print."""

    db_url: Optional[str]
    actor: str  # until db() opens the database: the name asked for; then the name proven (qatt.trust.identity)
    json: bool
    out: Any = field(default_factory=lambda: sys.stdout)
    requested_user: Optional[str] = None  # --user, checked against the proven identity when the database opens
    _db: Optional[peewee.Database] = None

    def db(self) -> peewee.Database:
        if self._db is None:
            from qatt.storage.db import open_database
            from qatt.trust import users

            from qatt.trust import identity

            self._db = open_database(self.db_url)
            self.actor = identity.acting_user(self._db, self.requested_user)
            users.register_login(self.actor)
        return self._db

    def emit(self, data: Any, text: Optional[str] = None) -> None:
        """Print `data` as JSON with --json, otherwise `text` (or a readable rendering of data)."""
        if self.json:
            json.dump(data, self.out, indent=2, sort_keys=True, ensure_ascii=False, default=str)
            self.out.write("\n")
        else:
            self.out.write((text if text is not None else _plain(data)) + "\n")

    def progress(self, done: int, total: int, message: str) -> None:
        """CLI progress goes to stderr so --json output stays clean."""
        if sys.stderr.isatty() and not self.json:
            pct = f"{100 * done // total}%" if total else f"{done}"
            sys.stderr.write(f"\r{message} {pct}   ")
            if total and done >= total:
                sys.stderr.write("\n")


def _plain(data: Any) -> str:
    if isinstance(data, dict):
        return "\n".join(f"{k}: {v}" for k, v in data.items())
    if isinstance(data, list):
        return "\n".join(_plain(x) if not isinstance(x, dict) else "  ".join(f"{k}={v}" for k, v in x.items()) for x in data)
    return str(data)


Handler = Callable[[argparse.Namespace, Context], int]


def _common_options(top: bool) -> argparse.ArgumentParser:
    # Sub-commands repeat the options so they can be given after the command name; there they
    # default to SUPPRESS so they do not overwrite a value given before the command name.
    default = {} if top else {"default": argparse.SUPPRESS}
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", help="database file or postgresql:// URL (default: $QATT_DB, then the per-user data folder)",
                        **default)
    common.add_argument("--user", help="act as this user: only in a training database, or your own name "
                                       "(default: $QATT_USER, then the operating-system login)",
                        **default)
    common.add_argument("--json", action="store_true", help="machine-readable JSON output", **default)
    return common


# The command list follows the order of the work; a new module not named here comes after them.
WORK_ORDER = ("importing", "forms", "sampling", "reviews", "agreement", "exports", "audit_log", "backup", "db", "about")


def _work_order(info: Any) -> tuple:
    return (WORK_ORDER.index(info.name) if info.name in WORK_ORDER else len(WORK_ORDER), info.name)


def _quiet_broken_pipe() -> int:
    """The reader went away (`| head`): stop without a traceback, and without Python's complaint when it
    flushes stdout at exit."""
    import os
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file behind stdout
        pass
    return 141  # 128 + SIGPIPE, as the shell reports a command ended by a closed pipe


def build_parser() -> argparse.ArgumentParser:
    common = _common_options(top=False)
    parser = argparse.ArgumentParser(prog="python -m qatt", description="QATT: quality assurance of police case files.",
                                     parents=[_common_options(top=True)])
    parser.add_argument("--version", action=VersionAction)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    def add_command(name: str, help: str, handler: Handler, **kwargs: Any) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help, parents=[common], **kwargs)
        p.set_defaults(handler=handler)
        return p

    import qatt.commands as commands_pkg

    for info in sorted(pkgutil.iter_modules(commands_pkg.__path__), key=_work_order):
        module = importlib.import_module(f"qatt.commands.{info.name}")
        module.register(add_command)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    import peewee  # for the except clause below: a command is about to open the database anyway

    from qatt.trust import users
    from qatt.fileio import clean_leftovers

    clean_leftovers()  # half-written exports of a process that was killed
    ctx = Context(db_url=args.db, actor=users.current_username(args.user), json=args.json, requested_user=args.user)
    try:
        return int(args.handler(args, ctx) or 0)
    except QattError as exc:
        sys.stderr.write(f"qatt: {exc}\n")
        if ctx.json:
            try:
                json.dump({"error": str(exc), "exit": 2}, ctx.out, ensure_ascii=False)
                ctx.out.write("\n")
            except BrokenPipeError:
                return _quiet_broken_pipe()
        return 2
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except peewee.ProgrammingError as exc:
        from qatt.storage.pg_security import denied_message

        message = denied_message(exc)
        if message is None:
            raise
        sys.stderr.write(f"qatt: {message}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("qatt: interrupted; nothing was written.\n")
        return 130
    finally:
        if ctx._db is not None and not ctx._db.is_closed():
            ctx._db.close()
