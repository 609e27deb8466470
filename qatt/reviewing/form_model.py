"""The shape of a grading form: the frozen dataclasses other parts (review engine, GUI, reports) work with.

A Form holds its Sections of Questions, the Scale it grades on and its Grading rules; a show_if
condition (Equals, In, Answered, All, Any_, Not) knows the questions it reads and whether it holds.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple

QUESTION_TYPES = ("yes_no", "yes_no_na", "grade", "choice", "multi", "themes", "number", "date", "text")
TIERS = ("fair", "good", "excellent")
THEME_POLARITIES = ("strength", "weakness")
ID_PATTERN = "^[a-z0-9_]+$"

# What a header question can be filled from when a review starts (docs/forms.md, "prefill"):
# a Case field, an extract column, or what QATT itself knows about the review.
PREFILL_CASE_FIELDS = ("reference", "area", "recorded_date", "division", "team", "officer", "supervisor",
                       "risk", "status")
PREFILL_QATT_VALUES = ("reviewer_name", "selection_method", "sample_month")


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
