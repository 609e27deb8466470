"""Grading forms as data: load, validate and version the form definitions kept in forms/.

A form file is YAML (format: docs/forms.md). Loading resolves `include:` fragments, checks the
result against a JSON Schema and then against the form's own logic (ids, scales, themes, show_if
conditions, grading rules), and returns frozen dataclasses. A broken form raises a QattError naming
the file, the place inside it (e.g. `sections[2].questions[4].show_if`) and what is wrong.

Every validated form has a canonical, self-contained content dict (the scales and themes it uses
are embedded) whose SHA-256 is its identity; `register_form_version` stores it, so a review keeps
rendering against the exact version it was started with after the file changes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import jsonschema
import yaml

from qatt.errors import QattError

QUESTION_TYPES = ("yes_no", "yes_no_na", "grade", "choice", "multi", "themes", "number", "date", "text")
TIERS = ("fair", "good", "excellent")
THEME_POLARITIES = ("strength", "weakness")
ID_PATTERN = "^[a-z0-9_]+$"
_ID_RE = re.compile(ID_PATTERN)

# Which optional question keys make sense for which types; anything else is an author's mistake.
_KEYS_FOR_TYPES = {
    "options": ("choice", "multi", "themes"),
    "scale": ("grade",),
    "unit": ("number",),
    "min": ("number",),
    "max": ("number",),
    "multiline": ("text",),
    "na_not_allowed_if": ("yes_no_na",),
    "critical_answers": ("yes_no", "yes_no_na", "choice", "grade"),
    "counts_toward_compliance": ("yes_no", "yes_no_na"),
    "prefill": ("text", "choice", "date", "number"),
    "other_themes": ("themes",),
}
# What a header question can be filled from when a review starts (docs/forms.md, "prefill"):
# a Case field, an extract column, or what QATT itself knows about the review.
PREFILL_CASE_FIELDS = ("reference", "area", "recorded_date", "division", "team", "officer", "supervisor",
                       "risk", "status")
PREFILL_QATT_VALUES = ("reviewer_name", "selection_method", "sample_month")


# --------------------------------------------------------------------------------------------
# Dataclasses: the public shape other parts (review engine, GUI, reports) work with.


@dataclass(frozen=True)
class ScaleValue:
    id: str
    label: str
    descriptor: str = ""


@dataclass(frozen=True)
class Scale:
    """A grading scale. `values` are ordered best first; `special` values (e.g. ungraded) have no rank."""

    id: str
    title: str
    values: Tuple[ScaleValue, ...]
    special: Tuple[ScaleValue, ...] = ()

    def ids(self) -> List[str]:
        return [v.id for v in self.values + self.special]

    def label(self, value_id: str) -> str:
        return self._value(value_id).label

    def descriptor(self, value_id: str) -> str:
        return self._value(value_id).descriptor

    def rank(self, value_id: str) -> Optional[int]:
        """0 for the best value, 1 for the next...; None for a special value."""
        for position, value in enumerate(self.values):
            if value.id == value_id:
                return position
        self._value(value_id)
        return None

    def lowest(self) -> str:
        return self.values[-1].id

    def _value(self, value_id: str) -> ScaleValue:
        for value in self.values + self.special:
            if value.id == value_id:
                return value
        raise KeyError(f"{value_id!r} is not on the scale {self.id}")

    def to_dict(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"id": self.id, "title": self.title, "values": [dataclasses.asdict(v) for v in self.values]}
        if self.special:
            out["special"] = [dataclasses.asdict(v) for v in self.special]
        return out


@dataclass(frozen=True)
class Option:
    id: str
    label: str


# Conditions (show_if). Each knows the questions it reads, whether it holds, and its dict form.

@dataclass(frozen=True)
class Equals:
    question: str
    value: Any

    def questions(self) -> List[str]:
        return [self.question]

    def holds(self, answers: Mapping[str, Any]) -> bool:
        return _matches(answers.get(self.question), self.value)

    def to_dict(self) -> Dict[str, Any]:
        return {"question": self.question, "equals": self.value}


@dataclass(frozen=True)
class In:
    question: str
    values: Tuple[Any, ...]

    def questions(self) -> List[str]:
        return [self.question]

    def holds(self, answers: Mapping[str, Any]) -> bool:
        answer = answers.get(self.question)
        return any(_matches(answer, v) for v in self.values)

    def to_dict(self) -> Dict[str, Any]:
        return {"question": self.question, "in": list(self.values)}


@dataclass(frozen=True)
class Answered:
    question: str

    def questions(self) -> List[str]:
        return [self.question]

    def holds(self, answers: Mapping[str, Any]) -> bool:
        return is_answered(answers.get(self.question))

    def to_dict(self) -> Dict[str, Any]:
        return {"question": self.question, "answered": True}


@dataclass(frozen=True)
class All:
    conditions: Tuple["Condition", ...]

    def questions(self) -> List[str]:
        return [q for c in self.conditions for q in c.questions()]

    def holds(self, answers: Mapping[str, Any]) -> bool:
        return all(c.holds(answers) for c in self.conditions)

    def to_dict(self) -> Dict[str, Any]:
        return {"all": [c.to_dict() for c in self.conditions]}


@dataclass(frozen=True)
class Any_:
    conditions: Tuple["Condition", ...]

    def questions(self) -> List[str]:
        return [q for c in self.conditions for q in c.questions()]

    def holds(self, answers: Mapping[str, Any]) -> bool:
        return any(c.holds(answers) for c in self.conditions)

    def to_dict(self) -> Dict[str, Any]:
        return {"any": [c.to_dict() for c in self.conditions]}


@dataclass(frozen=True)
class Not:
    condition: "Condition"

    def questions(self) -> List[str]:
        return self.condition.questions()

    def holds(self, answers: Mapping[str, Any]) -> bool:
        return not self.condition.holds(answers)

    def to_dict(self) -> Dict[str, Any]:
        return {"not": self.condition.to_dict()}


Condition = Any  # one of Equals, In, Answered, All, Any_, Not


def _matches(answer: Any, value: Any) -> bool:
    # A multi or themes answer "equals" an option when that option is selected.
    if isinstance(answer, (list, dict)):
        return value in answer
    return answer is not None and answer == value


def is_answered(value: Any) -> bool:
    return value is not None and value != "" and value != [] and value != {}


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    text: str
    help: str = ""
    required: bool = True
    show_if: Optional[Condition] = None
    critical: bool = False
    tier: Optional[str] = None
    significant: bool = False
    themes: Tuple[str, ...] = ()
    options: Tuple[Option, ...] = ()
    scale: Optional[Scale] = None
    unit: str = ""
    min: Optional[float] = None
    max: Optional[float] = None
    multiline: bool = False
    # Rules that cannot be dodged (docs/forms.md): N/A refused while a condition holds; answers
    # besides "no" that cap the suggested grade; items recorded but left out of compliance.
    na_not_allowed_if: Optional[Condition] = None
    critical_answers: Tuple[str, ...] = ()
    counts_toward_compliance: bool = True
    # Where a header answer is taken from when a review starts: {columns: [...], case_field, qatt}.
    prefill: Optional[Dict[str, Any]] = field(default=None, compare=False, hash=False)
    # Themes questions: the catalogue's other themes, which a reviewer may add beside those offered.
    more_options: Tuple[Option, ...] = ()

    @property
    def failing_answers(self) -> Tuple[str, ...]:
        """The answers that cap the suggested grade: `critical_answers`, or "no" on a critical item."""
        if self.critical_answers:
            return self.critical_answers
        return ("no",) if self.critical else ()

    def na_refused(self, answers: Mapping[str, Any]) -> bool:
        """True when these answers make N/A no answer to this question (e.g. M4 after M2 is no)."""
        return self.na_not_allowed_if is not None and self.na_not_allowed_if.holds(answers)

    def option_label(self, option_id: str) -> str:
        for option in self.options:
            if option.id == option_id:
                return option.label
        return option_id

    def to_dict(self) -> Dict[str, Any]:
        """The canonical dict: required keys always, optional keys only when they differ from the default."""
        out: Dict[str, Any] = {"id": self.id, "type": self.type, "text": self.text, "required": self.required}
        if self.help:
            out["help"] = self.help
        if self.show_if is not None:
            out["show_if"] = self.show_if.to_dict()
        if self.critical:
            out["critical"] = True
        if self.tier:
            out["tier"] = self.tier
        if self.significant:
            out["significant"] = True
        if self.themes:
            out["themes"] = list(self.themes)
        if self.options:
            out["options"] = ([o.id for o in self.options] if self.type == "themes"
                              else [{"id": o.id, "label": o.label} for o in self.options])
        if self.scale is not None:
            out["scale"] = self.scale.id
        if self.unit:
            out["unit"] = self.unit
        if self.min is not None:
            out["min"] = self.min
        if self.max is not None:
            out["max"] = self.max
        if self.multiline:
            out["multiline"] = True
        if self.na_not_allowed_if is not None:
            out["na_not_allowed_if"] = self.na_not_allowed_if.to_dict()
        if self.critical_answers:
            out["critical_answers"] = list(self.critical_answers)
        if not self.counts_toward_compliance:
            out["counts_toward_compliance"] = False
        if self.prefill:
            out["prefill"] = dict(self.prefill)
        if self.more_options:
            out["other_themes"] = True
        return out


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    help: str
    questions: Tuple[Question, ...]

    def to_dict(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"id": self.id, "title": self.title}
        if self.help:
            out["help"] = self.help
        out["questions"] = [q.to_dict() for q in self.questions]
        return out


@dataclass(frozen=True)
class NoShareBand:
    """Suggest `grade` when the share of "no" answers is at most `up_to` (None: otherwise)."""

    up_to: Optional[float]
    grade: str


@dataclass(frozen=True)
class Tiers:
    """The 2007 SGC rule: significant Fair criteria, then most Good, then the vast majority."""

    fair_all_significant: str
    good_most: float
    good_grade: str
    excellent_most: float
    excellent_grade: str
    fail_grade: str


@dataclass(frozen=True)
class Grading:
    # "lowest" or a grade id: what a failed critical item caps the suggestion at. Default: lowest.
    critical_fail: str = "lowest"
    no_share: Tuple[NoShareBand, ...] = ()
    tiers: Optional[Tiers] = None

    def to_dict(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"critical_fail": self.critical_fail}
        if self.no_share:
            out["no_share"] = [{"up_to": b.up_to, "grade": b.grade} if b.up_to is not None else {"otherwise": b.grade}
                               for b in self.no_share]
        if self.tiers is not None:
            out["tiers"] = dataclasses.asdict(self.tiers)
        return out


@dataclass(frozen=True)
class Form:
    id: str
    title: str
    area: str
    version: str
    scale: Scale
    sections: Tuple[Section, ...]
    grading: Grading
    content_hash: str
    source: str
    description: str = ""
    sources: Tuple[str, ...] = ()
    themes: Tuple[str, ...] = ()  # the themes that apply to this form (empty: every theme)
    content: Dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    _by_id: Dict[str, Question] = field(default_factory=dict, compare=False, repr=False)
    # Questions ordered so each comes after the questions its show_if reads (for cascading hiding).
    _visibility_order: Tuple[Question, ...] = field(default=(), compare=False, repr=False)

    def questions(self) -> List[Question]:
        return [q for s in self.sections for q in s.questions]

    def question(self, question_id: str) -> Question:
        try:
            return self._by_id[question_id]
        except KeyError:
            raise KeyError(f"The form {self.id} has no question {question_id!r}") from None

    def has_question(self, question_id: str) -> bool:
        return question_id in self._by_id


# --------------------------------------------------------------------------------------------
# The JSON Schema of a form file (the authoring format). Logic the schema cannot express
# (references, cycles, scale membership) is checked afterwards in _FormBuilder.

_ID = {"type": "string", "pattern": ID_PATTERN}
_SCALAR = {"type": ["string", "number", "boolean"]}
_QUESTION_SCHEMA = {
    "type": "object",
    "required": ["id", "type", "text"],
    "additionalProperties": False,
    "properties": {
        "id": _ID,
        "type": {"enum": list(QUESTION_TYPES)},
        "text": {"type": "string", "minLength": 1},
        "help": {"type": "string"},
        "required": {"type": "boolean"},
        "show_if": {"$ref": "#/$defs/condition"},
        "critical": {"type": "boolean"},
        "tier": {"enum": list(TIERS)},
        "significant": {"type": "boolean"},
        "themes": {"type": "array", "items": _ID},
        "options": {"type": "array", "minItems": 1, "items": {"anyOf": [
            {"type": "string", "minLength": 1},
            {"type": "object", "required": ["id", "label"], "additionalProperties": False,
             "properties": {"id": _ID, "label": {"type": "string", "minLength": 1}}},
        ]}},
        "scale": _ID,
        "unit": {"type": "string"},
        "min": {"type": "number"},
        "max": {"type": "number"},
        "multiline": {"type": "boolean"},
        "na_not_allowed_if": {"$ref": "#/$defs/condition"},
        "critical_answers": {"type": "array", "minItems": 1, "items": _SCALAR},
        "counts_toward_compliance": {"type": "boolean"},
        "prefill": {"type": "object", "minProperties": 1, "additionalProperties": False, "properties": {
            "columns": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}},
            "case_field": {"enum": list(PREFILL_CASE_FIELDS)},
            "qatt": {"enum": list(PREFILL_QATT_VALUES)}}},
        "other_themes": {"type": "boolean"},
    },
}
_SECTION_SCHEMA = {
    "type": "object",
    "required": ["id", "title", "questions"],
    "additionalProperties": False,
    "properties": {
        "id": _ID,
        "title": {"type": "string", "minLength": 1},
        "help": {"type": "string"},
        "questions": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/question"}},
    },
}
_CONDITION_SCHEMA = {
    "type": "object",
    "minProperties": 1,
    "additionalProperties": False,
    "properties": {
        "question": _ID,
        "equals": _SCALAR,
        "in": {"type": "array", "minItems": 1, "items": _SCALAR},
        "answered": {"type": "boolean"},
        "all": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/condition"}},
        "any": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/condition"}},
        "not": {"$ref": "#/$defs/condition"},
    },
}
_GRADING_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "critical_fail": {"type": "string"},
        "no_share": {"type": "array", "minItems": 1, "items": {"anyOf": [
            {"type": "object", "required": ["up_to", "grade"], "additionalProperties": False,
             "properties": {"up_to": {"type": "number", "minimum": 0, "maximum": 1}, "grade": _ID}},
            {"type": "object", "required": ["otherwise"], "additionalProperties": False,
             "properties": {"otherwise": _ID}},
        ]}},
        "tiers": {"type": "object", "additionalProperties": False,
                  "required": ["fair_all_significant", "good_most", "good_grade", "fail_grade"],
                  "properties": {
                      "fair_all_significant": _ID, "good_grade": _ID, "excellent_grade": _ID, "fail_grade": _ID,
                      "good_most": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                      "excellent_most": {"type": "number", "exclusiveMinimum": 0, "maximum": 1}}},
    },
    "not": {"required": ["no_share", "tiers"]},
}
FORM_SCHEMA: Dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "QATT grading form",
    "type": "object",
    "required": ["id", "title", "area", "scale", "sections"],
    "additionalProperties": False,
    "properties": {
        "id": _ID,
        "title": {"type": "string", "minLength": 1},
        "area": {"type": "string", "minLength": 1},
        "version": {"type": ["string", "number"]},
        "scale": _ID,
        "description": {"type": "string"},
        "sources": {"type": "array", "items": {"type": "string"}},
        "themes": {"type": "array", "minItems": 1, "items": _ID},
        "grading": {"$ref": "#/$defs/grading"},
        "sections": {"type": "array", "minItems": 1, "items": {
            "if": {"type": "object", "required": ["include"]},
            "then": {"type": "object", "additionalProperties": False, "properties": {"include": _ID}},
            "else": {"$ref": "#/$defs/section"},
        }},
    },
    "$defs": {"question": _QUESTION_SCHEMA, "section": _SECTION_SCHEMA, "condition": _CONDITION_SCHEMA,
              "grading": _GRADING_SCHEMA},
}
_FRAGMENT_SCHEMA: Dict[str, Any] = {
    "type": "object", "required": ["sections"], "additionalProperties": False,
    "properties": {"sections": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/section"}}},
    "$defs": FORM_SCHEMA["$defs"],
}
_SCALES_SCHEMA: Dict[str, Any] = {
    "type": "object", "required": ["scales"],
    "properties": {"scales": {"type": "array", "items": {
        "type": "object", "required": ["id", "title", "values"], "additionalProperties": False,
        "properties": {"id": _ID, "title": {"type": "string"},
                       "values": {"type": "array", "minItems": 2, "items": {"$ref": "#/$defs/value"}},
                       "special": {"type": "array", "items": {"$ref": "#/$defs/value"}}}}}},
    "$defs": {"value": {"type": "object", "required": ["id", "label"], "additionalProperties": False,
                        "properties": {"id": _ID, "label": {"type": "string", "minLength": 1},
                                       "descriptor": {"type": "string"}}}},
}
_THEMES_SCHEMA: Dict[str, Any] = {
    "type": "object", "required": ["themes"],
    "properties": {"themes": {"type": "array", "items": {
        "type": "object", "required": ["id", "label"], "additionalProperties": False,
        "properties": {"id": _ID, "label": {"type": "string", "minLength": 1}}}}},
}


# --------------------------------------------------------------------------------------------
# Reading YAML. YAML 1.1 reads an unquoted `no` as false (so `equals: no` would silently become
# a boolean); this loader keeps only true/false as booleans and rejects duplicate keys.

class _FormYamlLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml's parser when installed: ~5x faster
    pass


_FormYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_FormYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def _construct_mapping(loader: _FormYamlLoader, node: yaml.MappingNode) -> Dict[Any, Any]:
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {key!r} appears twice in the same block", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node)


_FormYamlLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path) -> Any:
    """Parse a YAML file; a syntax error becomes a QattError with the file, line and column."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise QattError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    except UnicodeDecodeError:
        raise QattError(f"{path} is not UTF-8 text; save it as UTF-8 and try again.") from None
    try:
        return yaml.load(text, Loader=_FormYamlLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise QattError(f"{path}{where}: YAML syntax error: {problem}. Fix the file and try again.") from None


def dotted(path: Sequence[Any]) -> str:
    """("sections", 2, "questions", 4, "show_if") -> "sections[2].questions[4].show_if"."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


class FormProblem(Exception):
    """A problem at a path inside a form definition; turned into a QattError by the caller,
    which knows how to name the place (file + path for YAML, sheet + row + column for xlsx)."""

    def __init__(self, path: Sequence[Any], message: str) -> None:
        super().__init__(message)
        self.path = tuple(path)
        self.message = message


def schema_problem(instance: Any, schema: Mapping[str, Any]) -> Optional[FormProblem]:
    """The most relevant schema violation as a FormProblem, or None when the instance is valid."""
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(instance))
    if error is None:
        return None
    message = error.message
    if error.validator == "pattern":
        message = f"{error.instance!r} is not a valid id: use lower-case letters, digits and underscores"
    elif error.validator == "not" and list(error.path) == [] and isinstance(error.instance, dict):
        message = "use either no_share or tiers, not both"
    if len(message) > 300:
        message = message[:300] + "..."
    return FormProblem(list(error.absolute_path), message)


def _check_schema(instance: Any, schema: Mapping[str, Any], where: Callable[[Sequence[Any]], str]) -> None:
    problem = schema_problem(instance, schema)
    if problem is not None:
        raise QattError(f"{where(problem.path)}: {problem.message}.")


# --------------------------------------------------------------------------------------------
# The catalogue a form is validated against: scales, themes and fragments from a forms folder.

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


# --------------------------------------------------------------------------------------------
# Building a Form from a resolved, schema-valid definition.

def slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_") or "option"


def _clean_number(value: Any) -> Any:
    # 3.0 and 3 must hash the same, so integral floats become ints.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _condition_key(path: Sequence[Any]) -> str:
    """'show_if' or 'na_not_allowed_if': the key a condition's path starts under."""
    return path[4] if len(path) > 4 and isinstance(path[4], str) else "show_if"


class _FormBuilder:
    """Checks a resolved definition (plain dicts) against the catalogue and builds the Form."""

    def __init__(self, raw: Mapping[str, Any], catalogue: Catalogue) -> None:
        self.raw = raw
        self.catalogue = catalogue
        self.questions: Dict[str, Question] = {}
        self.paths: Dict[str, Tuple[Any, ...]] = {}
        self.form_themes: Tuple[str, ...] = ()

    def build(self, source: str) -> Form:
        raw = self.raw
        scale = self._scale(raw["scale"], ("scale",))
        self.form_themes = tuple(self._theme(t, ("themes", k)) for k, t in enumerate(raw.get("themes") or ()))
        sections = self._sections()
        sections = self._with_conditions(sections)
        order = self._visibility_order()
        grading = self._grading(raw.get("grading") or {}, scale)
        form = Form(
            id=raw["id"], title=raw["title"].strip(), area=raw["area"].strip(),
            version=str(raw.get("version", "")), scale=scale, sections=sections, grading=grading,
            content_hash="", source=source, description=(raw.get("description") or "").strip(),
            sources=tuple(raw.get("sources") or ()), themes=self.form_themes,
        )
        content = canonical_content(form)
        return dataclasses.replace(
            form, content_hash=content_hash(content), content=content,
            _by_id={q.id: q for s in sections for q in s.questions},
            _visibility_order=tuple(self.questions[qid] for qid in order))

    def _scale(self, scale_id: str, path: Sequence[Any]) -> Scale:
        scale = self.catalogue.scales.get(scale_id)
        if scale is None:
            raise FormProblem(path, f"there is no scale {scale_id!r}; use one of {', '.join(self.catalogue.scales)} "
                                    "(or add it to _scales.yaml)")
        return scale

    def _sections(self) -> Tuple[Section, ...]:
        sections = []
        seen_sections: Dict[str, int] = {}
        for i, raw_section in enumerate(self.raw["sections"]):
            if raw_section["id"] in seen_sections:
                raise FormProblem(("sections", i, "id"), f"the section id {raw_section['id']!r} is already used by "
                                                        f"sections[{seen_sections[raw_section['id']]}]")
            seen_sections[raw_section["id"]] = i
            questions = []
            for j, raw_question in enumerate(raw_section["questions"]):
                path = ("sections", i, "questions", j)
                qid = raw_question["id"]
                if qid in self.paths:
                    raise FormProblem(path + ("id",), f"the question id {qid!r} is already used at {dotted(self.paths[qid])}")
                self.paths[qid] = path
                question = self._question(raw_question, path)
                self.questions[qid] = question
                questions.append(question)
            sections.append(Section(raw_section["id"], raw_section["title"].strip(),
                                    (raw_section.get("help") or "").strip(), tuple(questions)))
        return tuple(sections)

    def _question(self, raw: Mapping[str, Any], path: Tuple[Any, ...]) -> Question:
        qtype = raw["type"]
        for key, types in _KEYS_FOR_TYPES.items():
            if key in raw and qtype not in types:
                raise FormProblem(path + (key,), f"question {raw['id']}: '{key}' only applies to "
                                                 f"{' / '.join(types)} questions, not {qtype}")
        for tag_index, theme in enumerate(raw.get("themes") or ()):
            self._theme(theme, path + ("themes", tag_index))
        options = self._options(raw, path)
        scale = None
        if qtype == "grade":
            if "scale" not in raw:
                raise FormProblem(path, f"question {raw['id']}: a grade question needs 'scale:' (e.g. scale: g3)")
            scale = self._scale(raw["scale"], path + ("scale",))
        low, high = (_clean_number(raw.get("min")), _clean_number(raw.get("max")))
        if low is not None and high is not None and low > high:
            raise FormProblem(path + ("min",), f"question {raw['id']}: min ({low}) is greater than max ({high})")
        if self.form_themes:
            for tag_index, theme in enumerate(raw.get("themes") or ()):
                if theme not in self.form_themes:
                    raise FormProblem(path + ("themes", tag_index),
                                      f"question {raw['id']} is tagged with the theme {theme!r}, which is not in "
                                      "the form's themes; add it to the form's themes: list or remove the tag")
        more_options: Tuple[Option, ...] = ()
        if qtype == "themes" and raw.get("other_themes"):
            offered = {o.id for o in options}
            more_options = tuple(Option(t, label) for t, label in self.catalogue.themes.items() if t not in offered)
        question = Question(
            id=raw["id"], type=qtype, text=raw["text"].strip(), help=(raw.get("help") or "").strip(),
            required=raw.get("required", qtype != "text"), critical=raw.get("critical", False),
            tier=raw.get("tier"), significant=raw.get("significant", False), themes=tuple(raw.get("themes") or ()),
            options=options, scale=scale, unit=(raw.get("unit") or "").strip(), min=low, max=high,
            multiline=raw.get("multiline", False),
            counts_toward_compliance=raw.get("counts_toward_compliance", True),
            prefill=dict(raw["prefill"]) if raw.get("prefill") else None, more_options=more_options,
        )
        if "critical_answers" in raw:
            question = dataclasses.replace(question, critical_answers=tuple(
                self._condition_value(question, value, path + ("critical_answers", k))
                for k, value in enumerate(raw["critical_answers"])))
        return question

    def _theme(self, theme_id: str, path: Sequence[Any]) -> str:
        if theme_id not in self.catalogue.themes:
            raise FormProblem(path, f"there is no theme {theme_id!r}; use an id from _themes.yaml "
                                    f"(e.g. {', '.join(list(self.catalogue.themes)[:5])}) or add it there")
        return theme_id

    def _options(self, raw: Mapping[str, Any], path: Tuple[Any, ...]) -> Tuple[Option, ...]:
        qtype = raw["type"]
        if qtype == "themes":
            chosen = raw.get("options")
            ids = ([self._theme(o if isinstance(o, str) else o["id"], path + ("options", k)) for k, o in enumerate(chosen)]
                   if chosen else list(self.form_themes or self.catalogue.themes))
            return tuple(Option(t, self.catalogue.themes[t]) for t in ids)
        if qtype not in ("choice", "multi"):
            return ()
        if "options" not in raw:
            raise FormProblem(path, f"question {raw['id']}: a {qtype} question needs 'options:' "
                                    "(a list of labels, or of {id, label})")
        options = []
        seen: Dict[str, int] = {}
        for k, item in enumerate(raw["options"]):
            option = Option(slug(item), item.strip()) if isinstance(item, str) else Option(item["id"], item["label"].strip())
            if option.id in seen:
                raise FormProblem(path + ("options", k), f"question {raw['id']}: the option id {option.id!r} "
                                                         f"is already used by options[{seen[option.id]}]")
            seen[option.id] = k
            options.append(option)
        return tuple(options)

    # show_if -------------------------------------------------------------------------------

    def _with_conditions(self, sections: Tuple[Section, ...]) -> Tuple[Section, ...]:
        out = []
        for i, section in enumerate(sections):
            questions = []
            for j, question in enumerate(section.questions):
                raw_question = self.raw["sections"][i]["questions"][j]
                for key in ("show_if", "na_not_allowed_if"):
                    raw_condition = raw_question.get(key)
                    if raw_condition is not None:
                        condition = self._condition(raw_condition, ("sections", i, "questions", j, key), question.id)
                        question = dataclasses.replace(question, **{key: condition})
                        self.questions[question.id] = question
                questions.append(question)
            out.append(dataclasses.replace(section, questions=tuple(questions)))
        return tuple(out)

    def _condition(self, raw: Mapping[str, Any], path: Tuple[Any, ...], owner: str) -> Condition:
        keys = set(raw)
        combinators = keys & {"all", "any", "not"}
        if combinators:
            if len(keys) != 1:
                raise FormProblem(path, "a condition with all / any / not must have that key alone")
            if "not" in raw:
                return Not(self._condition(raw["not"], path + ("not",), owner))
            kind = "all" if "all" in raw else "any"
            parts: List[Condition] = []
            for k, sub in enumerate(raw[kind]):
                part = self._condition(sub, path + (kind, k), owner)
                # Nested all-in-all / any-in-any are flattened so equal logic has one canonical form.
                same = All if kind == "all" else Any_
                parts.extend(part.conditions if isinstance(part, same) else [part])
            if len(parts) == 1:
                return parts[0]
            return All(tuple(parts)) if kind == "all" else Any_(tuple(parts))
        tests = keys & {"equals", "in", "answered"}
        if "question" not in raw or len(tests) != 1 or len(keys) != 2:
            raise FormProblem(path, "a condition is {question: ID, equals: V}, {question: ID, in: [V, ...]}, "
                                    "{question: ID, answered: true}, or all / any / not of conditions")
        qid = raw["question"]
        if qid == owner:
            raise FormProblem(path + ("question",), f"question {owner}'s {_condition_key(path)} refers to itself")
        target = self.questions.get(qid)
        if target is None:
            raise FormProblem(path + ("question",), f"question {owner}'s {_condition_key(path)} refers to {qid!r}, "
                                                    "which is not a question in this form")
        if "answered" in raw:
            return Answered(qid) if raw["answered"] else Not(Answered(qid))
        if "equals" in raw:
            return Equals(qid, self._condition_value(target, raw["equals"], path + ("equals",)))
        return In(qid, tuple(self._condition_value(target, v, path + ("in", k)) for k, v in enumerate(raw["in"])))

    def _condition_value(self, target: Question, value: Any, path: Sequence[Any]) -> Any:
        if target.type in ("multi", "themes"):
            if value not in [o.id for o in target.options]:
                raise FormProblem(path, f"{value!r} is not an option of question {target.id}; use one of "
                                        f"{', '.join(o.id for o in target.options)}")
            return value
        try:
            normalised = validate_answer(target, value)
        except QattError as exc:
            raise FormProblem(path, f"the value {value!r} can never be an answer to question {target.id}: {exc}") from None
        if normalised is None:
            raise FormProblem(path, "compare with a value, or use 'answered: true'")
        return normalised

    def _visibility_order(self) -> List[str]:
        """Question ids ordered so dependencies come first; a cycle is an error naming it."""
        order: List[str] = []
        state: Dict[str, str] = {}

        def visit(qid: str, trail: List[str]) -> None:
            if state.get(qid) == "done":
                return
            if state.get(qid) == "visiting":
                cycle = trail[trail.index(qid):] + [qid]
                raise FormProblem(self.paths[qid] + ("show_if",),
                                  f"the show_if conditions form a cycle: {' -> '.join(cycle)}; "
                                  "a question cannot depend on itself, even indirectly")
            state[qid] = "visiting"
            condition = self.questions[qid].show_if
            for dependency in (condition.questions() if condition is not None else ()):
                visit(dependency, trail + [qid])
            state[qid] = "done"
            order.append(qid)

        for qid in self.questions:
            visit(qid, [])
        return order

    # grading -------------------------------------------------------------------------------

    def _grading(self, raw: Mapping[str, Any], scale: Scale) -> Grading:
        def grade(value: str, path: Sequence[Any]) -> str:
            if value not in scale.ids():
                raise FormProblem(path, f"{value!r} is not a grade on the form's scale {scale.id}; "
                                        f"use one of {', '.join(scale.ids())}")
            return value

        critical_fail = raw.get("critical_fail", "lowest")
        if critical_fail != "lowest":
            grade(critical_fail, ("grading", "critical_fail"))
        bands = []
        for k, band in enumerate(raw.get("no_share") or ()):
            path = ("grading", "no_share", k)
            if "otherwise" in band:
                if k != len(raw["no_share"]) - 1:
                    raise FormProblem(path, "'otherwise' must be the last no_share band")
                bands.append(NoShareBand(None, grade(band["otherwise"], path + ("otherwise",))))
                continue
            if bands and band["up_to"] <= bands[-1].up_to:
                raise FormProblem(path + ("up_to",), "no_share bands must go up: each up_to above the one before")
            bands.append(NoShareBand(_clean_number(band["up_to"]), grade(band["grade"], path + ("grade",))))
        if bands and bands[-1].up_to is not None and bands[-1].up_to < 1:
            raise FormProblem(("grading", "no_share"), "the last no_share band must be {otherwise: GRADE} or up_to: 1")
        tiers = None
        if "tiers" in raw:
            t = raw["tiers"]
            path = ("grading", "tiers")
            excellent = t.get("excellent_grade", scale.values[0].id)
            tiers = Tiers(
                fair_all_significant=grade(t["fair_all_significant"], path + ("fair_all_significant",)),
                good_most=_clean_number(t["good_most"]), good_grade=grade(t["good_grade"], path + ("good_grade",)),
                excellent_most=_clean_number(t.get("excellent_most", 0.9)),
                excellent_grade=grade(excellent, path + ("excellent_grade",)),
                fail_grade=grade(t["fail_grade"], path + ("fail_grade",)))
        return Grading(critical_fail, tuple(bands), tiers)


# --------------------------------------------------------------------------------------------
# Canonical content and hashing.

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


def build_form(raw: Mapping[str, Any], catalogue: Catalogue, source: str,
               where: Callable[[Sequence[Any]], str]) -> Form:
    """Validate a resolved definition (no includes left) and build the Form.

    `where(path)` names a place inside the definition for error messages."""
    try:
        problem = schema_problem(raw, FORM_SCHEMA)
        if problem is not None:
            raise problem
        return _FormBuilder(raw, catalogue).build(source)
    except FormProblem as problem:
        raise QattError(f"{where(problem.path)}: {problem.message}.") from None


def _stored_catalogue(content: Mapping[str, Any]) -> Catalogue:
    scales = {s["id"]: _scale_from_dict(s) for s in content.get("scales", ())}
    # The tag themes are not embedded (only their ids matter), so any tag id is accepted back.
    themes = {t["id"]: t["label"] for t in content.get("theme_labels", ())}
    for theme in content.get("themes", ()):
        themes.setdefault(theme, theme)
    for question in (q for s in content["sections"] for q in s["questions"]):
        for tag in question.get("themes", ()):
            themes.setdefault(tag, tag)
    return Catalogue(scales, themes)


def form_from_content(content: Mapping[str, Any], source: str = "stored version") -> Form:
    """Rebuild a Form from its canonical content (as stored in FormVersion.content)."""
    definition = {k: v for k, v in content.items() if k not in ("scales", "theme_labels")}
    return build_form(definition, _stored_catalogue(content), source, lambda p: f"{source}: {dotted(p)}")


# --------------------------------------------------------------------------------------------
# Loading files.

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


# --------------------------------------------------------------------------------------------
# Answers and visibility.

_YES_NO_WORDS = {"yes": "yes", "y": "yes", "true": "yes", "no": "no", "n": "no", "false": "no",
                 "na": "na", "n/a": "na", "not applicable": "na"}


def _invalid(question: Question, problem: str) -> QattError:
    return QattError(f"Question {question.id} ({question.text}): {problem}.")


def _pick(question: Question, value: Any, choices: Sequence[Tuple[str, str]]) -> str:
    """Accept an id or (case-insensitively) a label; return the id."""
    if not isinstance(value, str):
        raise _invalid(question, f"expected one of {', '.join(c for c, _ in choices)}, got {value!r}")
    wanted = value.strip()
    for choice_id, label in choices:
        if wanted == choice_id or wanted.casefold() == label.casefold():
            return choice_id
    raise _invalid(question, f"{value!r} is not one of {', '.join(c for c, _ in choices)}")


def validate_answer(question: Question, value: Any) -> Any:
    """Check an answer and return it in stored form; None means unanswered. QattError if invalid."""
    if value is None or (isinstance(value, str) and not value.strip()) or value == [] or value == {}:
        return None
    qtype = question.type
    if qtype in ("yes_no", "yes_no_na"):
        word = ("yes" if value else "no") if isinstance(value, bool) else _YES_NO_WORDS.get(str(value).strip().lower())
        allowed = ("yes", "no") if qtype == "yes_no" else ("yes", "no", "na")
        if word not in allowed:
            raise _invalid(question, f"answer {' / '.join(allowed)}, not {value!r}")
        return word
    if qtype == "grade":
        assert question.scale is not None
        return _pick(question, value, [(v.id, v.label) for v in question.scale.values + question.scale.special])
    if qtype == "choice":
        return _pick(question, value, [(o.id, o.label) for o in question.options])
    if qtype == "multi":
        items = [v for v in value.split(",") if v.strip()] if isinstance(value, str) else value
        if not isinstance(items, (list, tuple, set)):
            raise _invalid(question, f"expected a list of options, got {value!r}")
        chosen = {_pick(question, item, [(o.id, o.label) for o in question.options]) for item in items}
        return [o.id for o in question.options if o.id in chosen]
    if qtype == "themes":
        if not isinstance(value, Mapping):
            raise _invalid(question, "expected {theme: strength | weakness}")
        allowed_themes = {o.id for o in question.options + question.more_options}
        out = {}
        for theme, polarity in value.items():
            if theme not in allowed_themes:
                raise _invalid(question, f"{theme!r} is not a theme offered here")
            if polarity not in THEME_POLARITIES:
                raise _invalid(question, f"tag theme {theme} as strength or weakness, not {polarity!r}")
            out[theme] = polarity
        return {k: out[k] for k in sorted(out)}
    if qtype == "number":
        return _number(question, value)
    if qtype == "date":
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, dt.date):
            return value.isoformat()
        try:
            return dt.date.fromisoformat(str(value).strip()).isoformat()
        except ValueError:
            raise _invalid(question, f"expected a date as YYYY-MM-DD, got {value!r}") from None
    if qtype == "text":
        if not isinstance(value, str):
            raise _invalid(question, "expected text")
        return value
    raise AssertionError(f"unknown question type {qtype}")


def _number(question: Question, value: Any) -> Any:
    if isinstance(value, bool):
        raise _invalid(question, "expected a number, not yes/no")
    if isinstance(value, str):
        try:
            value = float(value.strip()) if re.search(r"[.eE]", value) else int(value.strip())
        except ValueError:
            raise _invalid(question, f"expected a number, got {value!r}") from None
    if not isinstance(value, (int, float)) or (isinstance(value, float) and not math.isfinite(value)):
        raise _invalid(question, f"expected a number, got {value!r}")
    value = _clean_number(value)
    unit = f" {question.unit}" if question.unit else ""
    if question.min is not None and value < question.min:
        raise _invalid(question, f"{value}{unit} is below the minimum of {question.min}{unit}")
    if question.max is not None and value > question.max:
        raise _invalid(question, f"{value}{unit} is above the maximum of {question.max}{unit}")
    return value


def is_visible(question: Question, answers: Mapping[str, Any]) -> bool:
    """Whether the question's show_if holds for these answers. Pass `effective_answers(form, ...)`
    so that answers to hidden questions cannot show their dependants."""
    return question.show_if is None or question.show_if.holds(answers)


def effective_answers(form: Form, answers: Mapping[str, Any]) -> Dict[str, Any]:
    """The answers with those of hidden questions dropped (hiding cascades to dependants)."""
    effective: Dict[str, Any] = {}
    for question in form._visibility_order:
        if is_visible(question, effective) and question.id in answers:
            effective[question.id] = answers[question.id]
    return effective


def visible_questions(form: Form, answers: Mapping[str, Any]) -> List[Question]:
    effective: Dict[str, Any] = {}
    shown = set()
    for question in form._visibility_order:
        if is_visible(question, effective):
            shown.add(question.id)
            if question.id in answers:
                effective[question.id] = answers[question.id]
    return [q for q in form.questions() if q.id in shown]


def missing_required(form: Form, answers: Mapping[str, Any]) -> List[Question]:
    """Visible required questions without an answer, in form order."""
    return [q for q in visible_questions(form, answers) if q.required and not is_answered(answers.get(q.id))]


# --------------------------------------------------------------------------------------------
# Versions in the database.

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
