"""Grading forms as data: load, validate and version the form definitions kept in forms/.

A form file is YAML (format: docs/forms.md). Loading resolves `include:` fragments, checks the
result against a JSON Schema and then against the form's own logic (ids, scales, themes, show_if
conditions, grading rules), and returns frozen dataclasses. A broken form raises a QattError naming
the file, the place inside it (e.g. `sections[2].questions[4].show_if`) and what is wrong.

Every validated form has a canonical, self-contained content dict (the scales and themes it uses
are embedded) whose SHA-256 is its identity; `register_form_version` stores it, so a review keeps
rendering against the exact version it was started with after the file changes.

The parts:
  form_model      the frozen dataclasses: Form, Section, Question, Scale, Grading, show_if conditions
  form_yaml       reading YAML (only true/false are booleans; a duplicate key is an error)
  form_schema     the JSON Schema of a form file; FormProblem and `dotted` name the place of a problem
  form_catalogue  the scales, themes and fragments a form is validated against
  form_builder    checking a resolved definition's own logic and building the Form
  form_content    the canonical content dict and its hash (a form's identity)
  form_answers    checking answers; visibility (show_if) and the required questions still unanswered
  form_loading    loading a form file with its fragments, or every form in a folder
  form_versions   form versions in the database

This module is the entry point: callers import the names below from here.
"""

from qatt.reviewing.form_answers import (
    effective_answers, is_visible, missing_required, validate_answer, visible_questions)
from qatt.reviewing.form_builder import build_form, form_from_content
from qatt.reviewing.form_catalogue import Catalogue, default_forms_dir, load_catalogue
from qatt.reviewing.form_loading import form_files, load_form, load_forms
from qatt.reviewing.form_model import (
    QUESTION_TYPES, All, Answered, Any_, Condition, Equals, Form, Grading, In, NoShareBand, Not, Option, Question,
    Scale, ScaleValue, Section, Tiers, is_answered)
from qatt.reviewing.form_schema import FormProblem, dotted
from qatt.reviewing.form_versions import form_from_version, register_form_version, sync_builtin_forms

__all__ = [
    "QUESTION_TYPES", "All", "Answered", "Any_", "Catalogue", "Condition", "Equals", "Form", "FormProblem", "Grading",
    "In", "NoShareBand", "Not", "Option", "Question", "Scale", "ScaleValue", "Section", "Tiers",
    "build_form", "default_forms_dir", "dotted", "effective_answers", "form_files", "form_from_content",
    "form_from_version", "is_answered", "is_visible", "load_catalogue", "load_form", "load_forms", "missing_required",
    "register_form_version", "sync_builtin_forms", "validate_answer", "visible_questions",
]
