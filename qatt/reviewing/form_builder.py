"""Building a Form from a resolved, schema-valid definition, checking what the schema cannot.

_FormBuilder checks the definition's own logic against the catalogue (ids, scales, themes, show_if
conditions and their cycles, grading rules); `build_form` turns a problem into a QattError naming
its place, and `form_from_content` rebuilds a stored version the same way.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Callable, Dict, List, Mapping, Sequence, Tuple

from qatt.errors import QattError
from qatt.reviewing.form_answers import validate_answer
from qatt.reviewing.form_catalogue import Catalogue, _scale_from_dict
from qatt.reviewing.form_content import _clean_number, canonical_content, content_hash
from qatt.reviewing.form_model import (
    All, Answered, Any_, Condition, Equals, Form, Grading, In, NoShareBand, Not, Option, Question, Scale, Section,
    Tiers)
from qatt.reviewing.form_schema import FORM_SCHEMA, FormProblem, dotted, schema_problem


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


def slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_") or "option"


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
