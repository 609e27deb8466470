"""What a report covers and how its words read: the filter, the grade and theme vocabulary, the
questions of the stored form versions, and the queries every report starts from.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import peewee
import yaml

from qatt.errors import QattError
from qatt.storage import models as m

SMALL_SAMPLE = 30  # below this many reviews a figure is flagged as indicative only
ROLLING_MONTHS = 6
SUBMITTED = "submitted"
FIRST, SECOND = "first", "second"
YES_NO_TYPES = ("yes_no", "yes_no_na")
DEFAULT_MARKING = "OFFICIAL-SENSITIVE"

TREND_BASELINES = ("2021 inspection", "2022 inspection")

FORMS_DIR = Path(__file__).resolve().parent.parent.parent / "forms"
_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_CHECKLIST_ID = re.compile(r"^[a-z]{1,2}\d+[a-z]?$")  # c1, m10, c7a: shown upper-case before the text


# --------------------------------------------------------------------------- filter and vocabulary

@dataclass
class ReportFilter:
    """Which reviews a report covers. Periods are sample months "YYYY-MM", both ends included."""

    period_from: str = ""
    period_to: str = ""
    areas: List[str] = field(default_factory=list)
    teams: List[str] = field(default_factory=list)
    form_ids: List[str] = field(default_factory=list)
    # Whose eyes the report is for: only the reviews qatt.trust.visibility lets them see ("" = no one's:
    # the core's own counting). exports.run fills it with the actor (see seen_by).
    viewer: str = ""

    def __post_init__(self) -> None:
        for name in ("period_from", "period_to"):
            value = getattr(self, name)
            if value and not _PERIOD.match(value):
                raise QattError(f"{name.replace('_', ' ')} {value!r} is not a month: write it as YYYY-MM, e.g. 2024-03.")
        if self.period_from and self.period_to and self.period_from > self.period_to:
            raise QattError(f"The period starts ({self.period_from}) after it ends ({self.period_to}); swap them.")

    @classmethod
    def for_month(cls, period: str, **kwargs: Any) -> "ReportFilter":
        return cls(period_from=period, period_to=period, **kwargs)

    def label(self) -> str:
        if self.period_from and self.period_from == self.period_to:
            period = self.period_from
        elif self.period_from or self.period_to:
            period = f"{self.period_from or 'the start'} to {self.period_to or 'date'}"
        else:
            period = "all periods"
        parts = [period]
        if self.areas:
            parts.append("areas: " + ", ".join(self.areas))
        if self.teams:
            parts.append("teams: " + ", ".join(self.teams))
        if self.form_ids:
            parts.append("forms: " + ", ".join(self.form_ids))
        return "; ".join(parts)

    def as_dict(self) -> Dict[str, Any]:
        return {"period_from": self.period_from, "period_to": self.period_to, "areas": list(self.areas),
                "teams": list(self.teams), "form_ids": list(self.form_ids)}


def humanise(identifier: str) -> str:
    text = str(identifier).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


@dataclass
class Vocabulary:
    """Grade scales (best first) and theme labels, read from forms/_scales.yaml and forms/_themes.yaml."""

    scales: List[Tuple[List[str], List[str]]]  # (value ids best first, special value ids)
    grade_labels: Dict[str, str]
    theme_labels: Dict[str, str]
    scale_titles: List[str] = field(default_factory=list)  # one per scale, in the order of `scales`

    @classmethod
    def load(cls, forms_dir: Path = FORMS_DIR) -> "Vocabulary":
        scales: List[Tuple[List[str], List[str]]] = []
        grade_labels: Dict[str, str] = {}
        theme_labels: Dict[str, str] = {}
        titles: List[str] = []
        scales_file, themes_file = forms_dir / "_scales.yaml", forms_dir / "_themes.yaml"
        if scales_file.exists():
            for scale in (yaml.safe_load(scales_file.read_text(encoding="utf-8")) or {}).get("scales", []):
                values, special = list(scale.get("values", [])), list(scale.get("special", []))
                scales.append(([v["id"] for v in values], [v["id"] for v in special]))
                titles.append(scale.get("title") or humanise(scale.get("id", "grades")))
                for value in values + special:
                    grade_labels.setdefault(value["id"], value.get("label", humanise(value["id"])))
        if themes_file.exists():
            for theme in (yaml.safe_load(themes_file.read_text(encoding="utf-8")) or {}).get("themes", []):
                theme_labels[theme["id"]] = theme.get("label", humanise(theme["id"]))
        return cls(scales, grade_labels, theme_labels, titles)

    def grade_label(self, grade: str) -> str:
        return self.grade_labels.get(grade, humanise(grade)) if grade else "Not graded"

    def theme_label(self, theme: str) -> str:
        return self.theme_labels.get(theme, humanise(theme))

    def scale_for(self, grades: Sequence[str]) -> List[str]:
        """The grades to show, best first: every value of each scale the grades come from (so an
        unused grade still shows as 0), special values (ungraded, carried over) only when used.
        Grades of several scales (e.g. a case grade and a MOSOVO compliance grade) give the scales
        one after the other; a grade on no known scale goes last."""
        seen = [g for g in dict.fromkeys(grades) if g]
        order: List[str] = []
        for values, special in self.scales:
            if any(g in values or g in special for g in seen if g not in order):
                order += [v for v in values if v not in order] + [v for v in special if v in seen and v not in order]
        return order + sorted(g for g in seen if g not in order)

    def scale_groups(self, grades: Sequence[str]) -> List[Tuple[str, List[str]]]:
        """The grades of `scale_for`, split by scale: (scale title, its grades best first). A grade
        on no known scale goes in a last group called "Other grades"."""
        order = self.scale_for(grades)
        groups: List[Tuple[str, List[str]]] = []
        placed: set = set()
        for index, (values, special) in enumerate(self.scales):
            mine = [g for g in order if g not in placed and (g in values or g in special)]
            if mine:
                title = self.scale_titles[index] if index < len(self.scale_titles) else f"Scale {index + 1}"
                groups.append((title, mine))
                placed.update(mine)
        rest = [g for g in order if g not in placed]
        return groups + ([("Other grades", rest)] if rest else [])


@dataclass(frozen=True)
class QuestionInfo:
    """One question of a stored form version, as reports need it."""

    id: str
    type: str
    text: str
    options: Tuple[Tuple[str, str], ...] = ()  # (option id, label) for choice / multi
    counted: bool = True  # False: recorded but not counted toward compliance (e.g. MOSOVO M19)

    @property
    def header(self) -> str:
        """Readable column heading: "C1 Ethnicity recorded" for checklist ids, otherwise the text."""
        if _CHECKLIST_ID.match(self.id):
            return f"{self.id.upper()} {self.text}".strip()
        return self.text or humanise(self.id)


def _option_pairs(options: Any) -> Tuple[Tuple[str, str], ...]:
    pairs = []
    for option in options or []:
        if isinstance(option, dict):
            pairs.append((str(option.get("id")), str(option.get("label", option.get("id")))))
        else:
            pairs.append((re.sub(r"[^a-z0-9]+", "_", str(option).lower()).strip("_"), str(option)))
    return tuple(pairs)


def form_questions(content: Dict[str, Any]) -> List[QuestionInfo]:
    """The questions of a stored (fully resolved) form definition, in form order."""
    questions = []
    for section in (content or {}).get("sections", []):
        for q in section.get("questions", []) or []:
            questions.append(QuestionInfo(str(q["id"]), str(q.get("type", "text")), str(q.get("text", "")),
                                          _option_pairs(q.get("options")), q.get("counts_toward_compliance", True)))
    return questions


def months_between(first: str, last: str) -> List[str]:
    """Every month from `first` to `last`, both included ("YYYY-MM")."""
    year, month = int(first[:4]), int(first[5:7])
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def shift_month(period: str, months: int) -> str:
    index = int(period[:4]) * 12 + int(period[5:7]) - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def protective_marking(override: Optional[str] = None) -> str:
    """The marking printed on every page and sheet: --marking, else the force setting."""
    if override:
        return override
    setting = m.Setting.get_or_none(m.Setting.key == "protective_marking")
    return str(setting.value) if setting is not None and setting.value else DEFAULT_MARKING


# --------------------------------------------------------------------------- queries

def _where(query: peewee.ModelSelect, flt: ReportFilter, period: Any, area: Any, team: Any, form: Any) -> peewee.ModelSelect:
    """Apply the filter, given the columns that hold each thing it filters on."""
    if flt.period_from:
        query = query.where(period >= flt.period_from)
    if flt.period_to:
        query = query.where(period <= flt.period_to)
    if flt.areas:
        query = query.where(area.in_(list(flt.areas)))
    if flt.teams:
        query = query.where(team.in_(list(flt.teams)))
    if flt.form_ids:
        query = query.where(form.in_(list(flt.form_ids)))
    return query


def _filtered(query: peewee.ModelSelect, flt: ReportFilter, form_field: Any = None, *,
              reviews: bool = True) -> peewee.ModelSelect:
    """Apply the filter to a query that already joins Sample, Case and (unless form_field says
    where else the form id is) FormVersion; with `reviews` (it reads Review) also the viewer's
    visibility (qatt.trust.visibility: roles and the blind rule)."""
    query = _where(query, flt, m.Sample.period, m.Case.area, m.Case.team, form_field or m.FormVersion.form_id)
    if reviews and flt.viewer:
        from qatt.trust import visibility

        query = query.where(visibility.review_filter(flt.viewer))
    return query


def seen_by(flt: ReportFilter, actor: str) -> ReportFilter:
    """The filter narrowed to what `actor` may see (qatt.trust.visibility); unchanged without an actor."""
    return dataclasses.replace(flt, viewer=actor) if actor else flt


def submitted_reviews(flt: ReportFilter, *fields: Any, role: str = FIRST) -> peewee.ModelSelect:
    """Submitted reviews of one role in the filter, joined to their case, sample and form version."""
    query = (m.Review.select(*fields)
             .join(m.SampleItem).join(m.Case)
             .switch(m.SampleItem).join(m.Sample)
             .switch(m.Review).join(m.FormVersion)
             .where((m.Review.status == SUBMITTED) & (m.Review.role == role)))
    return _filtered(query, flt)


def covered_review_ids(flt: ReportFilter) -> List[int]:
    """Every review (of either role, draft or submitted) of the cases a report with this filter covers
    that its viewer may see: a superset of what the report shows, recorded with its export so that
    qatt.trust.visibility.how_seen knows who has seen which review."""
    query = (m.Review.select(m.Review.id)
             .join(m.SampleItem).join(m.Case)
             .switch(m.SampleItem).join(m.Sample)
             .switch(m.Review).join(m.FormVersion))
    return sorted(i for (i,) in _filtered(query, flt).tuples())


def _answers(flt: ReportFilter, *fields: Any, role: str = FIRST) -> peewee.ModelSelect:
    query = (m.Answer.select(*fields)
             .join(m.Review).join(m.SampleItem).join(m.Case)
             .switch(m.SampleItem).join(m.Sample)
             .switch(m.Review).join(m.FormVersion)
             .where((m.Review.status == SUBMITTED) & (m.Review.role == role)))
    return _filtered(query, flt)


def _form_versions(flt: ReportFilter) -> List[m.FormVersion]:
    """The form versions the filtered reviews (either role) were made on, oldest first."""
    ids = set()
    for role in (FIRST, SECOND):
        ids.update(i for (i,) in submitted_reviews(flt, m.FormVersion.id, role=role).distinct().tuples())
    return list(m.FormVersion.select().where(m.FormVersion.id.in_(sorted(ids))).order_by(m.FormVersion.id)) if ids else []


@dataclass
class FormCatalogue:
    """Questions of the form versions in use, merged per form: a later version's new questions are added."""

    titles: Dict[str, str]
    questions: Dict[str, List[QuestionInfo]]

    @classmethod
    def for_filter(cls, flt: ReportFilter) -> "FormCatalogue":
        titles: Dict[str, str] = {}
        questions: Dict[str, Dict[str, QuestionInfo]] = {}
        for version in _form_versions(flt):
            titles[version.form_id] = version.title or humanise(version.form_id)
            merged = questions.setdefault(version.form_id, {})
            for q in form_questions(version.content):
                merged.setdefault(q.id, q)
        return cls(titles, {form_id: list(qs.values()) for form_id, qs in questions.items()})

    def of_type(self, *types: str) -> Dict[Tuple[str, str], QuestionInfo]:
        return {(form_id, q.id): q for form_id, qs in self.questions.items() for q in qs if q.type in types}


# --------------------------------------------------------------------------- answers as readers see them

YES_NO_LABELS = {"yes": "Yes", "no": "No", "na": "N/A"}


def answer_value(question: QuestionInfo, value: Any, vocab: Vocabulary) -> Any:
    """An answer as a reader sees it: labels for ids, real dates for dates, numbers as numbers."""
    if value is None or value == "":
        return None
    kind = question.type
    if kind in YES_NO_TYPES:
        return YES_NO_LABELS.get(value, str(value))
    if kind == "grade":
        return vocab.grade_label(str(value))
    if kind in ("choice", "multi"):
        labels = dict(question.options)
        chosen = value if isinstance(value, list) else [value]
        return "; ".join(labels.get(str(v), str(v)) for v in chosen)
    if kind == "themes" and isinstance(value, dict):
        return "; ".join(f"{vocab.theme_label(t)}: {k}" for t, k in sorted(value.items()))
    if kind == "date":
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            return str(value)
    if kind == "number" and isinstance(value, (int, float)):
        return value
    return str(value)


def answer_text(question: QuestionInfo, value: Any, vocab: Vocabulary) -> str:
    shown = answer_value(question, value, vocab)
    if shown is None:
        return ""
    if isinstance(shown, dt.date):
        return shown.strftime("%d %b %Y")
    return str(shown)
