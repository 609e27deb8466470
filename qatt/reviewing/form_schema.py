"""The JSON Schema of a form file (the authoring format), and how a violation of it is reported.

Logic the schema cannot express (references, cycles, scale membership) is checked afterwards in
_FormBuilder (qatt.reviewing.form_builder). A problem is a FormProblem at a path inside the
definition, which `dotted` names for the message (e.g. `sections[2].questions[4].show_if`).
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Mapping, Optional, Sequence

import jsonschema

from qatt.errors import QattError
from qatt.reviewing.form_model import ID_PATTERN, PREFILL_CASE_FIELDS, PREFILL_QATT_VALUES, QUESTION_TYPES, TIERS


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
