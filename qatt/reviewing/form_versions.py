"""Form versions in the database: each form's canonical content stored under its hash, and rebuilt from it.

A review keeps rendering against the exact version it was started with, whatever the file says today.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any, List, Optional

from qatt.errors import QattError
from qatt.reviewing.form_builder import form_from_content
from qatt.reviewing.form_content import canonical_json
from qatt.reviewing.form_loading import load_forms
from qatt.reviewing.form_model import Form


def register_form_version(form: Form, actor: str):
    """The stored FormVersion with this form's content hash, created (and audited) if new.

    Registering what a form file already says is not a change, so any user may do it (a review
    started on a new file registers it); changing a form is guarded where forms are written."""
    from qatt.trust import audit
    from qatt.storage import models as m
    from qatt.storage.db import database_proxy, write_transaction

    with write_transaction(database_proxy.obj):
        existing = m.FormVersion.get_or_none(m.FormVersion.content_hash == form.content_hash)
        if existing is not None:
            return existing
        version = m.FormVersion.create(
            form_id=form.id, version=form.version, content_hash=form.content_hash, title=form.title,
            area=form.area, content=form.content, created_by=actor)
        audit.record(actor, audit.COLLECTION, "form_version", version.id,
                     {"form_id": form.id, "version": form.version, "content_hash": form.content_hash,
                      "questions": len(form.questions())})
    return version


def form_from_version(form_version) -> Form:
    """The Form exactly as it was stored, whatever the file says today."""
    return _form_from_stored(form_version.form_id, form_version.version, form_version.content_hash,
                             canonical_json(form_version.content))


@functools.lru_cache(maxsize=64)
def _form_from_stored(form_id: str, version: str, stored_hash: str, content_json: str) -> Form:
    """Built once per stored content: schema validation takes ~10 ms and every save of a review
    needs the form. Keyed on the content itself, so altered content is rebuilt and fails the check."""
    form = form_from_content(json.loads(content_json), source=f"stored version {stored_hash[:12]}")
    if form.content_hash != stored_hash:
        raise QattError(f"The stored form {form_id} version {version} does not match its "
                        "hash; the database may have been altered. Run 'audit verify' and contact the administrator.")
    return form


def sync_builtin_forms(actor: str, forms_dir: Optional[Path] = None) -> List[Any]:
    """Register the current version of every form file; returns the FormVersions."""
    return [register_form_version(form, actor) for form in load_forms(forms_dir).values()]
