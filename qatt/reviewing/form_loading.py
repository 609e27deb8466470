"""Loading form files: one file with its `include:` fragments resolved, or every form in a folder.

A form file is YAML (format: docs/forms.md). Loading resolves `include:` fragments, checks the
result against the JSON Schema and then against the form's own logic; an error in an included
section names the fragment file it came from.
"""

from __future__ import annotations

import functools
import hashlib
import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from qatt.errors import QattError
from qatt.reviewing.form_builder import build_form
from qatt.reviewing.form_catalogue import Catalogue, default_forms_dir, load_catalogue
from qatt.reviewing.form_model import Form
from qatt.reviewing.form_schema import _FRAGMENT_SCHEMA, FORM_SCHEMA, FormProblem, _check_schema, dotted
from qatt.reviewing.form_yaml import read_yaml


def _read_fragment(name: str, catalogue: Catalogue) -> Tuple[Path, List[Dict[str, Any]]]:
    fragments_dir = catalogue.fragments_dir
    path = fragments_dir / f"{name}.yaml" if fragments_dir is not None else None
    if path is None or not path.is_file():
        available = sorted(p.stem for p in fragments_dir.glob("*.yaml")) if fragments_dir and fragments_dir.is_dir() else []
        raise FormProblem((), f"there is no fragment {name!r} in {fragments_dir} "
                              f"(available: {', '.join(available) or 'none'})")
    raw = read_yaml(path)
    # A fragment is {sections: [...]}; a bare list of sections or one section is accepted too.
    if isinstance(raw, list):
        raw = {"sections": raw}
    elif isinstance(raw, dict) and "questions" in raw:
        raw = {"sections": [raw]}
    if isinstance(raw, dict):
        for k, item in enumerate(raw.get("sections") or ()):
            if isinstance(item, dict) and "include" in item:
                raise QattError(f"{path}: {dotted(['sections', k, 'include'])}: a fragment cannot include another "
                                "fragment; include both from the form instead.")
    _check_schema(raw, _FRAGMENT_SCHEMA, lambda p: f"{path}: {dotted(p)}")
    return path, raw["sections"]


def load_form(path: Path, forms_dir: Optional[Path] = None, catalogue: Optional[Catalogue] = None) -> Form:
    """Load and validate one form file. Scales, themes and fragments come from `forms_dir`
    (default: the file's own folder when it has _scales.yaml, else the repository's forms/)."""
    path = Path(path)
    if catalogue is None:
        if forms_dir is None:
            forms_dir = path.parent if (path.parent / "_scales.yaml").is_file() else default_forms_dir()
        catalogue = load_catalogue(forms_dir)
    raw = read_yaml(path)
    main_where = lambda p: f"{path}: {dotted(p)}"  # noqa: E731
    if not isinstance(raw, dict):
        raise QattError(f"{path}: a form file must be a mapping with id, title, area, scale and sections.")
    _check_schema(raw, FORM_SCHEMA, main_where)
    sections: List[Dict[str, Any]] = []
    origins: List[Tuple[Path, Tuple[Any, ...]]] = []
    for i, item in enumerate(raw["sections"]):
        if "include" in item:
            try:
                fragment_path, fragment_sections = _read_fragment(item["include"], catalogue)
            except FormProblem as problem:
                raise QattError(f"{main_where(('sections', i, 'include'))}: {problem.message}.") from None
            sections.extend(fragment_sections)
            origins.extend((fragment_path, ("sections", k)) for k in range(len(fragment_sections)))
        else:
            sections.append(item)
            origins.append((path, ("sections", i)))

    def where(p: Sequence[Any]) -> str:
        # Paths into included sections are reported against the fragment file they came from.
        if len(p) >= 2 and p[0] == "sections" and isinstance(p[1], int) and p[1] < len(origins):
            origin_file, prefix = origins[p[1]]
            return f"{origin_file}: {dotted(prefix + tuple(p[2:]))}"
        return main_where(p)

    resolved = dict(raw, sections=sections)
    if isinstance(resolved.get("version"), (int, float)):
        resolved["version"] = str(resolved["version"])
    return build_form(resolved, catalogue, str(path), where)


def form_files(forms_dir: Path) -> List[Path]:
    """The form files in a folder: *.yaml not starting with '_' (those are scales, themes, fragments)."""
    return sorted(p for p in Path(forms_dir).glob("*.yaml") if not p.name.startswith("_"))


def _version_key(version: str) -> Tuple[Any, ...]:
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"[.\-_ ]", version))


def folder_fingerprint(folder: Path) -> str:
    """SHA-256 over the names and contents of every file under `folder`: changes whenever any
    form, fragment, scale or theme file does (a timestamp can miss an edit on a coarse file system)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        content = path.read_bytes()
        digest.update(f"{path.relative_to(folder).as_posix()}\0{len(content)}\0".encode("utf-8"))
        digest.update(content)
    return digest.hexdigest()


def load_forms(forms_dir: Optional[Path] = None) -> Dict[str, Form]:
    """Every form in the folder, by id; where two files share an id the higher version label wins.

    Parsing and schema-checking the built-in forms takes ~0.25 s, and starting each review needs
    them, so a folder whose files are byte for byte unchanged is not parsed again."""
    forms_dir = Path(forms_dir) if forms_dir is not None else default_forms_dir()
    # A folder that cannot be loaded raises each time: lru_cache keeps no exceptions.
    return dict(_load_forms_unchanged(forms_dir.resolve(), folder_fingerprint(forms_dir)))


@functools.lru_cache(maxsize=8)
def _load_forms_unchanged(forms_dir: Path, _fingerprint: str) -> Dict[str, Form]:
    return _load_forms(forms_dir)  # Forms are frozen dataclasses; callers get a copy of the dict


def _load_forms(forms_dir: Path) -> Dict[str, Form]:
    catalogue = load_catalogue(forms_dir)
    forms: Dict[str, Form] = {}
    for path in form_files(forms_dir):
        form = load_form(path, catalogue=catalogue)
        current = forms.get(form.id)
        if current is not None and current.version == form.version:
            raise QattError(f"{path} and {current.source} both define the form {form.id} version {form.version}; "
                            "remove one or give it a new version label.")
        if current is None or _version_key(form.version) > _version_key(current.version):
            forms[form.id] = form
    return forms
