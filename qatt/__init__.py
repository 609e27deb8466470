"""QATT core: storage, import, sampling, forms, reviews, statistics. Never imports Qt."""

import sys

__version__ = "0.1.0"

try:  # written by tools/build.py from `git describe` for a frozen build; absent in a source checkout
    from qatt._build_version import BUILD as __build__
except ImportError:
    __build__ = ""


class _PeeweeWithoutPsycopg2:
    """peewee imports the PostgreSQL driver as it loads, about a third of its import time, even for
    a SQLite file. While peewee itself is loading (it has no __version__ yet), this finder answers
    that psycopg2 is not installed; qatt.storage.db gives peewee the driver when a PostgreSQL
    database is opened. A process that imported peewee or psycopg2 before qatt is left as it was."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name == "psycopg2":
            peewee = sys.modules.get("peewee")
            if peewee is not None and not hasattr(peewee, "__version__"):
                raise ModuleNotFoundError("psycopg2 is loaded when a PostgreSQL database is opened", name=name)
        return None


if "peewee" not in sys.modules:
    sys.meta_path.insert(0, _PeeweeWithoutPsycopg2)
