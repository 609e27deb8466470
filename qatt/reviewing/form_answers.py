"""Answers and visibility: an answer checked against its question, and which questions show.

`validate_answer` returns an answer in stored form (or a QattError naming the question); show_if
decides which questions are visible, hiding cascades to dependants, and `missing_required` lists
the visible required questions still unanswered.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any, Dict, List, Mapping, Sequence, Tuple

from qatt.errors import QattError
from qatt.reviewing.form_content import _clean_number
from qatt.reviewing.form_model import THEME_POLARITIES, Form, Question, is_answered


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
