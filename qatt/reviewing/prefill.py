"""Header answers filled in when a review starts, from the case's extract row and what QATT knows.

A form's question may say where its answer comes from (`prefill:` in docs/forms.md): extract
columns by header ("ViSOR ref", matched ignoring case, spaces and punctuation, whether the column
was mapped to a case field or kept as an extra column), a case field, or something QATT itself
knows (the reviewer's name, how the sample was drawn). A value that does not fit the question
(a MAPPA level the form has no option for) is left for the reviewer rather than guessed.
Each prefilled answer records its origin, shown as "from the extract" until the reviewer changes it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Dict, Optional, Tuple

from qatt.intake import mapping
from qatt.errors import QattError
from qatt.reviewing.forms import Form, Question, validate_answer
from qatt.storage import models as m

EXTRACT, QATT = "extract", "qatt"
# Every QATT draw (simple, stratified, systematic) chooses its cases at random.
RANDOM_METHODS = ("simple", "stratified", "systematic")
_QATT_LABELS = {"reviewer_name": "your account", "selection_method": "the sample",
                "sample_month": "the sample"}


def origin_label(origin: str) -> str:
    """'extract:ViSOR ref' -> 'From the extract (ViSOR ref)': the mark the reviewer sees."""
    kind, _, where = (origin or "").partition(":")
    if kind == EXTRACT:
        return f"From the extract ({where})" if where else "From the extract"
    if kind == QATT:
        return f"Filled in by QATT from {_QATT_LABELS.get(where, where)}"
    return ""


def prefilled_answers(form: Form, item: m.SampleItem, actor: str) -> Dict[str, Tuple[Any, str]]:
    """{question id: (stored answer, origin)} for the form's prefill questions this case can fill."""
    case = item.case
    columns = _case_columns(case)
    out: Dict[str, Tuple[Any, str]] = {}
    for question in form.questions():
        spec = question.prefill
        if not spec:
            continue
        found = _from_spec(spec, columns, case, item, actor)
        if found is None:
            continue
        raw, origin = found
        value = fit_answer(question, raw)
        if value is not None:
            out[question.id] = (value, origin)
    return out


def _case_columns(case: m.Case) -> Dict[str, Tuple[str, Any]]:
    """{normalised header: (header as the extract wrote it, value)} for the case's extract row."""
    columns: Dict[str, Tuple[str, Any]] = {}
    for header, value in (case.extra or {}).items():
        columns[mapping.normalise_header(header)] = (header, value)
    for field, header in (case.population.mapping or {}).items():
        if field in mapping.FIELD_NAMES and isinstance(header, str):
            columns[mapping.normalise_header(header)] = (header, getattr(case, field, None))
    return columns


def _from_spec(spec: Dict[str, Any], columns: Dict[str, Tuple[str, Any]], case: m.Case, item: m.SampleItem,
               actor: str) -> Optional[Tuple[Any, str]]:
    for wanted in spec.get("columns", ()):
        hit = columns.get(mapping.normalise_header(wanted))
        if hit is not None and _present(hit[1]):
            return hit[1], f"{EXTRACT}:{hit[0]}"
    field = spec.get("case_field")
    if field:
        value = getattr(case, field, None)
        if _present(value):
            header = (case.population.mapping or {}).get(field) or mapping.FIELD_LABELS.get(field, field)
            return value, f"{EXTRACT}:{header}"
    known = spec.get("qatt")
    if known == "reviewer_name":
        user = m.User.get_or_none(m.User.username == actor)
        name = (user.display_name.strip() if user is not None else "") or actor
        return name, f"{QATT}:reviewer_name"
    if known == "selection_method" and item.sample.method in RANDOM_METHODS:
        return "random", f"{QATT}:selection_method"
    if known == "sample_month" and item.sample.period:
        return item.sample.period, f"{QATT}:sample_month"
    return None


def _present(value: Any) -> bool:
    return value is not None and str(value).strip() != ""


def _norm(text: Any) -> str:
    return re.sub(r"[^0-9a-z]", "", str(text).lower())


def fit_answer(question: Question, raw: Any) -> Any:
    """The extract's value as an answer to the question, or None when it does not clearly fit."""
    if question.type == "choice":
        return _fit_choice(question, raw)
    if question.type == "date":
        return _fit_date(question, raw)
    try:
        return validate_answer(question, raw.strip() if isinstance(raw, str) else raw)
    except QattError:
        return None


def _fit_choice(question: Question, raw: Any) -> Optional[str]:
    wanted = _norm(raw)
    if not wanted:
        return None
    for option in question.options:
        label_head = option.label.split(":")[0]
        if wanted in (_norm(option.id), _norm(option.label), _norm(label_head)):
            return option.id
    # "Level 2", "MAPPA 2", "Cat 2", "2": the one option whose label starts with that number.
    numbers = re.findall(r"\d+", str(raw))
    if len(numbers) == 1:
        matches = [o.id for o in question.options if re.match(rf"^\s*{numbers[0]}\b", o.label)]
        if len(matches) == 1:
            return matches[0]
    # "PDP", "Very High risk": an option whose words all appear in the value.
    matches = sorted((o for o in question.options if _norm(o.id) and _norm(o.id) in wanted
                      and not re.search(r"\d", o.id)), key=lambda o: -len(_norm(o.id)))
    if len(matches) == 1 or (len(matches) > 1 and len(_norm(matches[0].id)) > len(_norm(matches[1].id))):
        return matches[0].id
    return None


def _fit_date(question: Question, raw: Any) -> Optional[str]:
    if isinstance(raw, (dt.date, dt.datetime)):
        return validate_answer(question, raw)
    text = str(raw).strip()[:10]
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(text, pattern).date().isoformat()
        except ValueError:
            continue
    return None
