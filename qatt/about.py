"""What the About dialog and `python -m qatt about` show: this QATT's version, the database in use
and its schema version, and the versions of the grading forms (the built-in files, and how many
versions the database holds)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List

import peewee

from qatt.version import version_text


@dataclass
class FormInfo:
    form_id: str
    title: str
    version: str
    content_hash: str  # SHA-256 of the form's content: what a review records
    stored_versions: int  # versions of this form the database holds (old reviews keep theirs)

    def as_dict(self) -> Dict[str, Any]:
        return {"form_id": self.form_id, "title": self.title, "version": self.version,
                "content_hash": self.content_hash, "stored_versions": self.stored_versions}


@dataclass
class About:
    version: str
    database: str  # a file path, or PostgreSQL server and database (never a password)
    backend: str
    schema_version: int
    schema_latest: int
    forms: List[FormInfo] = field(default_factory=list)
    forms_problem: str = ""  # why the form files could not be read, if they could not

    def as_dict(self) -> Dict[str, Any]:
        return {"version": self.version, "database": self.database, "backend": self.backend,
                "schema_version": self.schema_version, "schema_latest": self.schema_latest,
                "forms": [f.as_dict() for f in self.forms], "forms_problem": self.forms_problem}


def database_label(url: str) -> str:
    """Where the data lives: a file path, or server and database without the password."""
    from urllib.parse import urlparse

    if url.startswith(("postgresql://", "postgres://")):
        parsed = urlparse(url)
        return f"PostgreSQL {parsed.hostname or 'localhost'}:{parsed.port or 5432}/{parsed.path.lstrip('/')}"
    return url


def about(db: peewee.Database, database_label: str) -> About:
    """Gathered from the bound database `db`; `database_label` is how to name it to the user."""
    from qatt.reviewing import forms
    from qatt.errors import QattError
    from qatt.storage import migrations
    from qatt.storage import models as m
    from qatt.storage.db import is_sqlite

    stored: Dict[str, int] = dict(
        m.FormVersion.select(m.FormVersion.form_id, peewee.fn.COUNT(m.FormVersion.id))
        .group_by(m.FormVersion.form_id).tuples())
    info = About(version_text(), database_label, "SQLite" if is_sqlite(db) else "PostgreSQL",
                 migrations.current_version(db), migrations.LATEST)
    try:
        loaded = forms.load_forms()
    except QattError as exc:
        info.forms_problem = str(exc)
        loaded = {}
    info.forms = [FormInfo(form.id, form.title, form.version, form.content_hash, stored.get(form.id, 0))
                  for form in sorted(loaded.values(), key=lambda f: f.id)]
    return info
