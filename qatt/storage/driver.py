"""The desktop's start-up without the PostgreSQL driver: peewee imports psycopg2 as it loads, about
a third of its import time, even for a SQLite file. `defer_psycopg2()`, called by the desktop
(ui/app.py) before anything imports peewee, makes psycopg2 look absent while peewee itself is
loading; qatt.storage.db hands peewee the driver when a PostgreSQL database is opened. Only the
desktop process does this: elsewhere (the CLI, tests, scripts that build peewee databases
themselves) peewee loads as it always does."""

from __future__ import annotations

import sys


class _PeeweeWithoutPsycopg2:
    """A meta-path finder answering that psycopg2 is not installed while peewee is being imported
    (it has no __version__ until its import has finished); every other import is left alone."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name == "psycopg2":
            peewee = sys.modules.get("peewee")
            if peewee is not None and not hasattr(peewee, "__version__"):
                raise ModuleNotFoundError("psycopg2 is loaded when a PostgreSQL database is opened", name=name)
        return None


def defer_psycopg2() -> None:
    """Install the finder, unless peewee is already loaded (then there is nothing to save)."""
    if "peewee" not in sys.modules and _PeeweeWithoutPsycopg2 not in sys.meta_path:
        sys.meta_path.insert(0, _PeeweeWithoutPsycopg2)
