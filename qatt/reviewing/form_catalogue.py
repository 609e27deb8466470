"""The catalogue a form is validated against: scales, themes and fragments from a forms folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Mapping, Optional, Sequence, Tuple

from qatt.errors import QattError
from qatt.reviewing.form_model import Scale, ScaleValue
from qatt.reviewing.form_schema import _SCALES_SCHEMA, _THEMES_SCHEMA, _check_schema, dotted
from qatt.reviewing.form_yaml import read_yaml


@dataclass(frozen=True)
class Catalogue:
    scales: Dict[str, Scale]
    themes: Dict[str, str]  # id -> label, in file order
    fragments_dir: Optional[Path] = None


def default_forms_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "forms"


def _scale_from_dict(raw: Mapping[str, Any]) -> Scale:
    def values(items: Iterable[Mapping[str, Any]]) -> Tuple[ScaleValue, ...]:
        return tuple(ScaleValue(v["id"], v["label"], (v.get("descriptor") or "").strip()) for v in items)

    return Scale(raw["id"], raw["title"], values(raw["values"]), values(raw.get("special") or ()))


def _scales_from_list(items: Sequence[Mapping[str, Any]], where: Callable[[Sequence[Any]], str]) -> Dict[str, Scale]:
    scales: Dict[str, Scale] = {}
    for i, raw in enumerate(items):
        if raw["id"] in scales:
            raise QattError(f"{where(['scales', i, 'id'])}: the scale id {raw['id']!r} is used twice.")
        scale = _scale_from_dict(raw)
        ids = scale.ids()
        if len(set(ids)) != len(ids):
            raise QattError(f"{where(['scales', i])}: the scale {scale.id} lists a value id twice.")
        scales[scale.id] = scale
    return scales


def load_catalogue(forms_dir: Path) -> Catalogue:
    forms_dir = Path(forms_dir)
    scales_file, themes_file = forms_dir / "_scales.yaml", forms_dir / "_themes.yaml"
    for needed in (scales_file, themes_file):
        if not needed.is_file():
            raise QattError(f"{needed} is missing; every forms folder needs _scales.yaml and _themes.yaml.")
    raw_scales = read_yaml(scales_file)
    _check_schema(raw_scales, _SCALES_SCHEMA, lambda p: f"{scales_file}: {dotted(p)}")
    scales = _scales_from_list(raw_scales["scales"], lambda p: f"{scales_file}: {dotted(p)}")
    raw_themes = read_yaml(themes_file)
    _check_schema(raw_themes, _THEMES_SCHEMA, lambda p: f"{themes_file}: {dotted(p)}")
    themes: Dict[str, str] = {}
    for i, theme in enumerate(raw_themes["themes"]):
        if theme["id"] in themes:
            raise QattError(f"{themes_file}: {dotted(['themes', i, 'id'])}: the theme id {theme['id']!r} is used twice.")
        themes[theme["id"]] = theme["label"]
    return Catalogue(scales, themes, forms_dir / "_fragments")
