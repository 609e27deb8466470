"""A form's identity: its canonical content and the SHA-256 of it.

Every validated form has a canonical, self-contained content dict (the scales and themes it uses
are embedded) whose SHA-256 is its identity; `register_form_version` (qatt.reviewing.form_versions)
stores it, so a review keeps rendering against the exact version it was started with after the
file changes.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Dict, Mapping

from qatt.reviewing.form_model import Form


def _clean_number(value: Any) -> Any:
    # 3.0 and 3 must hash the same, so integral floats become ints.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def canonical_content(form: Form) -> Dict[str, Any]:
    """The form as a self-contained dict: the definition plus the scales and themes it uses."""
    scales = {form.scale.id: form.scale}
    theme_ids: Dict[str, str] = {}
    for question in form.questions():
        if question.scale is not None:
            scales[question.scale.id] = question.scale
        if question.type == "themes":
            theme_ids.update({o.id: o.label for o in question.options + question.more_options})
    themes = {"themes": list(form.themes)} if form.themes else {}  # only when declared: old hashes stay valid
    return {
        "id": form.id, "title": form.title, "area": form.area, "version": form.version, "scale": form.scale.id,
        "description": form.description, "sources": list(form.sources), **themes, "grading": form.grading.to_dict(),
        "sections": [s.to_dict() for s in form.sections],
        "scales": [scales[k].to_dict() for k in sorted(scales)],
        "theme_labels": [{"id": k, "label": v} for k, v in theme_ids.items()],
    }


def canonical_json(content: Mapping[str, Any]) -> str:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(content: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()
