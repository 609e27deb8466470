"""Report data for governance boards and the inspectorate, built from the database as plain dataclasses.

The dashboard, the Excel workbook and the PDF packs all read these structures; nothing here knows
how a figure is drawn. Counting and grouping happen in SQL; only submitted reviews count. Each
proportion carries its Wilson 95% interval, and groups of fewer than 30 reviews are flagged as
small samples so no one reads too much into them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import peewee
import yaml

from qatt import __version__, assignments, stats
from qatt.errors import QattError
from qatt.storage import models as m

SMALL_SAMPLE = 30  # below this many reviews a figure is flagged as indicative only
ROLLING_MONTHS = 6
SUBMITTED = "submitted"
FIRST, SECOND = "first", "second"
YES_NO_TYPES = ("yes_no", "yes_no_na")
DEFAULT_MARKING = "OFFICIAL-SENSITIVE"

MOSOVO_FORM_ID = "mosovo_di_check"
# DOMAIN 4.5 (D0): the force's reported MOSOVO figures over the last six months.
MOSOVO_TARGETS = {"m2": 0.86, "m3": 0.84}
TREND_BASELINES = ("2021 inspection", "2022 inspection")

FORMS_DIR = Path(__file__).resolve().parent.parent / "forms"
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
    # Whose eyes the report is for: only the reviews qatt.visibility lets them see ("" = no one's:
    # the core's own counting). The report builders fill it from their `actor`.
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

    @classmethod
    def load(cls, forms_dir: Path = FORMS_DIR) -> "Vocabulary":
        scales: List[Tuple[List[str], List[str]]] = []
        grade_labels: Dict[str, str] = {}
        theme_labels: Dict[str, str] = {}
        scales_file, themes_file = forms_dir / "_scales.yaml", forms_dir / "_themes.yaml"
        if scales_file.exists():
            for scale in (yaml.safe_load(scales_file.read_text(encoding="utf-8")) or {}).get("scales", []):
                values, special = list(scale.get("values", [])), list(scale.get("special", []))
                scales.append(([v["id"] for v in values], [v["id"] for v in special]))
                for value in values + special:
                    grade_labels.setdefault(value["id"], value.get("label", humanise(value["id"])))
        if themes_file.exists():
            for theme in (yaml.safe_load(themes_file.read_text(encoding="utf-8")) or {}).get("themes", []):
                theme_labels[theme["id"]] = theme.get("label", humanise(theme["id"]))
        return cls(scales, grade_labels, theme_labels)

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


@dataclass(frozen=True)
class QuestionInfo:
    """One question of a stored form version, as reports need it."""

    id: str
    type: str
    text: str
    options: Tuple[Tuple[str, str], ...] = ()  # (option id, label) for choice / multi

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
                                          _option_pairs(q.get("options"))))
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
    visibility (qatt.visibility: roles and the blind rule)."""
    query = _where(query, flt, m.Sample.period, m.Case.area, m.Case.team, form_field or m.FormVersion.form_id)
    if reviews and flt.viewer:
        from qatt import visibility

        query = query.where(visibility.review_filter(flt.viewer))
    return query


def submitted_reviews(flt: ReportFilter, *fields: Any, role: str = FIRST) -> peewee.ModelSelect:
    """Submitted reviews of one role in the filter, joined to their case, sample and form version."""
    query = (m.Review.select(*fields)
             .join(m.SampleItem).join(m.Case)
             .switch(m.SampleItem).join(m.Sample)
             .switch(m.Review).join(m.FormVersion)
             .where((m.Review.status == SUBMITTED) & (m.Review.role == role)))
    return _filtered(query, flt)


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


# --------------------------------------------------------------------------- grade distributions

@dataclass
class GradeShare:
    grade: str
    label: str
    proportion: stats.Proportion


@dataclass
class GradeDistribution:
    """The grades given within one group (an area, a team, a month or the whole period)."""

    group: str
    total: int
    shares: List[GradeShare]

    @property
    def small_sample(self) -> bool:
        return self.total < SMALL_SAMPLE

    def count(self, grade: str) -> int:
        return next((s.proportion.count for s in self.shares if s.grade == grade), 0)

    def as_dict(self) -> Dict[str, Any]:
        return {"group": self.group, "total": self.total, "small_sample": self.small_sample,
                "grades": {s.grade: s.proportion.as_dict() for s in self.shares}}


def _distribution(group: str, counts: Dict[str, int], vocab: Vocabulary) -> GradeDistribution:
    order = vocab.scale_for(list(counts))
    shares = stats.distribution(counts, order)
    return GradeDistribution(group, sum(counts.values()),
                             [GradeShare(g, vocab.grade_label(g), shares[g]) for g in order])


def kept_figures(flt: ReportFilter, by: Optional[str], role: str = FIRST) -> List[Tuple[str, str, int]]:
    """(group, grade, count) from the anonymous figures a retention purge kept in place of the
    reviews it deleted (never both, so nothing is counted twice). They hold no team, so a filter
    or grouping by team leaves them out."""
    if flt.teams or by == "team":
        return []
    keys = {"area": [m.AggregateFigure.area], "month": [m.AggregateFigure.period], None: []}[by]
    query = (m.AggregateFigure.select(*keys, m.AggregateFigure.grade, peewee.fn.SUM(m.AggregateFigure.count))
             .where((m.AggregateFigure.role == role) & (m.AggregateFigure.grade != "")))
    query = _where(query, flt, m.AggregateFigure.period, m.AggregateFigure.area, None, m.AggregateFigure.form_id)
    rows = query.group_by(*keys, m.AggregateFigure.grade).tuples()
    return [(row[0] if keys else "All", row[-2], int(row[-1])) for row in rows]


def grade_distributions(flt: ReportFilter, by: str, vocab: Vocabulary, role: str = FIRST) -> List[GradeDistribution]:
    """Grades per area, team or month ("area" | "team" | "month"), groups in name order, counting
    purged reviews through the figures kept for them."""
    key = {"area": m.Case.area, "team": m.Case.team, "month": m.Sample.period}[by]
    counts: Dict[str, Dict[str, int]] = defaultdict(lambda: defaultdict(int))
    rows = (submitted_reviews(flt, key, m.Review.grade, peewee.fn.COUNT(m.Review.id), role=role)
            .where(m.Review.grade != "").group_by(key, m.Review.grade).tuples())
    for group, grade, count in itertools.chain(rows, kept_figures(flt, by, role)):
        counts[group or "(none)"][grade] += count
    return [_distribution(group, dict(counts[group]), vocab) for group in sorted(counts)]


def overall_distribution(flt: ReportFilter, vocab: Vocabulary, role: str = FIRST) -> GradeDistribution:
    """All grades in the filter, purged reviews included through their kept figures."""
    counts: Dict[str, int] = defaultdict(int)
    rows = (submitted_reviews(flt, m.Review.grade, peewee.fn.COUNT(m.Review.id), role=role)
            .where(m.Review.grade != "").group_by(m.Review.grade).tuples())
    for grade, count in itertools.chain(rows, ((grade, n) for _all, grade, n in kept_figures(flt, None, role))):
        counts[grade] += count
    return _distribution("All", dict(counts), vocab)


# --------------------------------------------------------------------------- themes

@dataclass
class ThemeFrequency:
    """How often reviews tagged a theme as a strength or a weakness (out of the reviews that
    answered a themes question)."""

    theme: str
    label: str
    strength: stats.Proportion
    weakness: stats.Proportion

    def as_dict(self) -> Dict[str, Any]:
        return {"theme": self.theme, "label": self.label, "strength": self.strength.as_dict(),
                "weakness": self.weakness.as_dict()}


def theme_frequencies(flt: ReportFilter, vocab: Vocabulary, catalogue: FormCatalogue) -> Dict[str, List[ThemeFrequency]]:
    """Theme counts per area, plus "All"; each list most-tagged first."""
    theme_questions = catalogue.of_type("themes")
    if not theme_questions:
        return {"All": []}
    question_ids = sorted({qid for _, qid in theme_questions})
    tallies: Dict[str, Dict[str, List[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    answered: Dict[str, int] = defaultdict(int)
    rows = (_answers(flt, m.FormVersion.form_id, m.Answer.question_id, m.Case.area, m.Answer.value)
            .where(m.Answer.question_id.in_(question_ids)).tuples())
    for form_id, question_id, area, value in rows:
        if (form_id, question_id) not in theme_questions or not isinstance(value, dict):
            continue
        for group in (area or "(none)", "All"):
            answered[group] += 1
            for theme, kind in value.items():
                tallies[group][theme][0 if kind == "strength" else 1] += 1
    result: Dict[str, List[ThemeFrequency]] = {"All": []}
    for group, themes in tallies.items():
        n = answered[group]
        result[group] = sorted(
            (ThemeFrequency(t, vocab.theme_label(t), stats.wilson(s, n), stats.wilson(w, n)) for t, (s, w) in themes.items()),
            key=lambda f: (-(f.strength.count + f.weakness.count), f.label))
    return result


# --------------------------------------------------------------------------- compliance

@dataclass
class ComplianceMonth:
    period: str
    month: stats.Proportion  # yes ÷ (yes + no) in that month
    rolling: stats.Proportion  # the same over the six months ending with it


@dataclass
class ComplianceItem:
    """One yes/no checklist item: compliance = yes ÷ (yes + no); N/A and hidden questions are left out."""

    form_id: str
    form_title: str
    question: QuestionInfo
    overall: stats.Proportion
    not_applicable: int
    months: List[ComplianceMonth]

    @property
    def rolling(self) -> Optional[stats.Proportion]:
        """The rolling six-month figure at the last month reported."""
        return self.months[-1].rolling if self.months else None

    def as_dict(self) -> Dict[str, Any]:
        return {"form_id": self.form_id, "question_id": self.question.id, "question": self.question.header,
                "overall": self.overall.as_dict(), "not_applicable": self.not_applicable,
                "months": [{"period": c.period, "month": c.month.as_dict(), "rolling": c.rolling.as_dict()}
                           for c in self.months]}


def compliance(flt: ReportFilter, catalogue: FormCatalogue) -> List[ComplianceItem]:
    """Per checklist item, per month, with the rolling six-month figure; items in form order."""
    questions = catalogue.of_type(*YES_NO_TYPES)
    if not questions:
        return []
    # Reach back five months before the period so the first month's rolling figure is complete.
    wider = dataclasses.replace(flt, period_from=shift_month(flt.period_from, 1 - ROLLING_MONTHS)
                                if flt.period_from else "")
    counts: Dict[Tuple[str, str], Dict[str, Dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    rows = (_answers(wider, m.FormVersion.form_id, m.Answer.question_id, m.Sample.period, m.Answer.value,
                     peewee.fn.COUNT(m.Answer.id))
            .where(m.Answer.question_id.in_(sorted({qid for _, qid in questions}))
                   & m.Answer.value.in_(["yes", "no", "na"]))
            .group_by(m.FormVersion.form_id, m.Answer.question_id, m.Sample.period, m.Answer.value).tuples())
    for form_id, question_id, period, value, count in rows:
        if (form_id, question_id) in questions:
            counts[(form_id, question_id)][period][value] += count
    all_periods = sorted({p for by_period in counts.values() for p in by_period})
    if not all_periods:
        return []
    first = flt.period_from or all_periods[0]
    last = flt.period_to or all_periods[-1]
    reported = months_between(first, last)
    items = []
    for (form_id, question_id), question in questions.items():
        by_period = counts.get((form_id, question_id))
        if not by_period:
            continue
        in_range = [by_period[p] for p in reported if p in by_period]
        yes = sum(c["yes"] for c in in_range)
        no = sum(c["no"] for c in in_range)
        months = []
        for period in reported:
            window = [by_period[p] for p in months_between(shift_month(period, 1 - ROLLING_MONTHS), period) if p in by_period]
            here = by_period.get(period, {})
            months.append(ComplianceMonth(
                period, stats.wilson(here.get("yes", 0), here.get("yes", 0) + here.get("no", 0)),
                stats.wilson(sum(c["yes"] for c in window), sum(c["yes"] + c["no"] for c in window))))
        items.append(ComplianceItem(form_id, catalogue.titles.get(form_id, form_id), question, stats.wilson(yes, yes + no),
                                    sum(c["na"] for c in in_range), months))
    return items


# --------------------------------------------------------------------------- calibration

@dataclass
class Calibration:
    """First (self-assessment) against second (independent) grades of the same cases, for one form."""

    form_id: str
    title: str
    labels: List[str]  # grade labels in the order of agreement.categories
    agreement: stats.Agreement

    def as_dict(self) -> Dict[str, Any]:
        return {"form_id": self.form_id, "title": self.title, "labels": self.labels, **self.agreement.as_dict()}


def grade_pairs(flt: ReportFilter) -> List[Tuple[str, str, str, str]]:
    """(form id, area, first grade, second grade) for every case with both reviews submitted."""
    second = m.Review.alias()
    query = (submitted_reviews(flt, m.FormVersion.form_id, m.Case.area, m.Review.grade, second.grade)
             .switch(m.Review)
             .join(second, on=((second.sample_item == m.Review.sample_item) & (second.role == SECOND)
                               & (second.status == SUBMITTED)))
             .where((m.Review.grade != "") & (second.grade != ""))
             .order_by(m.Review.id))
    return list(query.tuples())


def pairs_for_sample(sample_id: int, viewer: str = "") -> List[Tuple[str, str, str]]:
    """(case reference, first grade, second grade) for every case of the sample where both the
    first and the second review are submitted, in draw order. Grades are ids as stored. With a
    `viewer`, only the cases where they may see both reviews (qatt.visibility)."""
    first, second = m.Review.alias(), m.Review.alias()
    query = (m.SampleItem
             .select(m.Case.reference, first.grade, second.grade)
             .join(m.Case, on=(m.SampleItem.case == m.Case.id))
             .switch(m.SampleItem)
             .join(first, on=((first.sample_item == m.SampleItem.id) & (first.role == FIRST)
                              & (first.status == SUBMITTED)))
             .switch(m.SampleItem)
             .join(second, on=((second.sample_item == m.SampleItem.id) & (second.role == SECOND)
                               & (second.status == SUBMITTED)))
             .where(m.SampleItem.sample == sample_id)
             .order_by(m.SampleItem.position))
    if viewer:
        from qatt import visibility

        query = query.where(visibility.review_filter(viewer, first) & visibility.review_filter(viewer, second))
    return list(query.tuples())


def calibration(pairs: Sequence[Tuple[str, str, str, str]], catalogue: FormCatalogue, vocab: Vocabulary,
                group_of: Callable[[Tuple[str, str, str, str]], str] = lambda pair: pair[0]) -> List[Calibration]:
    """Agreement per group of pairs (by default per form: grades of different scales never mix)."""
    grouped: Dict[str, List[Tuple[str, str]]] = defaultdict(list)
    for pair in pairs:
        grouped[group_of(pair)].append((pair[2], pair[3]))
    result = []
    for group in sorted(grouped):
        categories = vocab.scale_for([g for pair in grouped[group] for g in pair])
        result.append(Calibration(group, catalogue.titles.get(group, group), [vocab.grade_label(c) for c in categories],
                                  stats.agreement(grouped[group], categories)))
    return result


# --------------------------------------------------------------------------- actions and completion

@dataclass
class ActionRow:
    id: int
    review_id: int
    case_reference: str
    area: str
    text: str
    owner: str
    due_date: Optional[dt.date]
    status: str
    days_overdue: int  # 0 when not yet due or no due date

    def as_dict(self) -> Dict[str, Any]:
        return {"id": self.id, "review_id": self.review_id, "case_reference": self.case_reference,
                "area": self.area, "owner": self.owner, "due_date": self.due_date, "status": self.status,
                "days_overdue": self.days_overdue}


def outstanding_actions(flt: ReportFilter, today: dt.date) -> List[ActionRow]:
    """Actions not done, from submitted reviews in the filter; most overdue first."""
    query = (m.Action.select(m.Action.id, m.Review.id, m.Case.reference, m.Case.area, m.Action.text, m.Action.owner,
                             m.Action.due_date, m.Action.status)
             .join(m.Review).join(m.SampleItem).join(m.Case)
             .switch(m.SampleItem).join(m.Sample)
             .switch(m.Review).join(m.FormVersion)
             .where((m.Review.status == SUBMITTED) & (m.Action.status != "done")))
    rows = []
    for action_id, review_id, reference, area, text, owner, due, status in _filtered(query, flt).tuples():
        overdue = (today - due).days if due is not None and due < today else 0
        rows.append(ActionRow(action_id, review_id, reference, area, text, owner, due, status, overdue))
    return sorted(rows, key=lambda r: (-r.days_overdue, r.due_date or dt.date.max, r.id))


@dataclass
class ReviewerCompletion:
    """One reviewer's share of the round: assigned = not started + in progress + submitted."""

    reviewer: str
    assigned: int
    in_progress: int
    submitted: int
    overdue: int

    @property
    def not_started(self) -> int:
        return self.assigned - self.in_progress - self.submitted

    @property
    def completion(self) -> stats.Proportion:
        return stats.wilson(self.submitted, self.assigned)

    def as_dict(self) -> Dict[str, Any]:
        return {"reviewer": self.reviewer, "assigned": self.assigned, "not_started": self.not_started,
                "in_progress": self.in_progress, "submitted": self.submitted, "overdue": self.overdue}


def completion(flt: ReportFilter, today: dt.date) -> List[ReviewerCompletion]:
    """Progress of the assigned reviews per reviewer over the filter's months (assignments.completion_query)."""
    totals: Dict[str, List[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for name, _period, *counts in _filtered(assignments.completion_query(today), flt, m.Sample.form_id, reviews=False).tuples():
        totals[name] = [total + int(count or 0) for total, count in zip(totals[name], counts)]
    return [ReviewerCompletion(name, *counts) for name, counts in sorted(totals.items())]


# --------------------------------------------------------------------------- MOSOVO

@dataclass
class TargetFigure:
    """A MOSOVO compliance figure, with its target where the force has one."""

    question_id: str
    label: str
    proportion: stats.Proportion
    target: Optional[float]

    @property
    def statement(self) -> str:
        p = self.proportion
        if p.total == 0:
            return f"{self.label}: no checks answered this item."
        if self.target is None:
            return f"{self.label}: {p.percent_text()}."
        goal = f"{self.target * 100:.0f}%"
        if p.high < self.target:
            verdict = f"below the {goal} figure (the whole interval is under it)"
        elif p.low > self.target:
            verdict = f"above the {goal} figure (the whole interval is over it)"
        else:
            verdict = f"consistent with the {goal} figure (the interval includes it)"
        return f"{self.label}: {p.percent_text()}, {verdict}."

    def as_dict(self) -> Dict[str, Any]:
        return {"question_id": self.question_id, "label": self.label, "proportion": self.proportion.as_dict(),
                "target": self.target, "statement": self.statement}


@dataclass
class MosovoCompliance:
    """DOMAIN §5 monthly MOSOVO block, from the DI checks (form mosovo_di_check)."""

    checks: int
    figures: List[TargetFigure]
    overdue_visits: int
    days_overdue_total: float
    days_overdue_max: float
    oldest_task_days: Optional[float]  # the supervisory backlog: oldest outstanding task seen

    def as_dict(self) -> Dict[str, Any]:
        return {"checks": self.checks, "figures": [f.as_dict() for f in self.figures],
                "overdue_visits": self.overdue_visits, "days_overdue_total": self.days_overdue_total,
                "days_overdue_max": self.days_overdue_max, "oldest_task_days": self.oldest_task_days}


MOSOVO_FIGURES = (
    ("m2", "Visits unannounced"),
    ("m3", "Visits double-crewed"),
    ("m4", "Exceptions ratified by a supervisor"),
    ("m7", "ARMS recorded in line with the ViSOR standards"),
    ("m1", "Visits within the SOP timescale"),
)
MOSOVO_DAYS_OVERDUE = "m1_days_overdue"
MOSOVO_OLDEST_TASK = "m10_oldest_task_days"


def mosovo_compliance(flt: ReportFilter) -> Optional[MosovoCompliance]:
    """None when the filter holds no submitted MOSOVO checks."""
    mosovo = dataclasses.replace(flt, form_ids=[MOSOVO_FORM_ID])
    checks = submitted_reviews(mosovo, m.Review.id).count()
    if not checks:
        return None
    counts: Dict[str, Dict[str, int]] = defaultdict(lambda: defaultdict(int))
    rows = (_answers(mosovo, m.Answer.question_id, m.Answer.value, peewee.fn.COUNT(m.Answer.id))
            .where(m.Answer.question_id.in_([q for q, _ in MOSOVO_FIGURES]) & m.Answer.value.in_(["yes", "no"]))
            .group_by(m.Answer.question_id, m.Answer.value).tuples())
    for question_id, value, count in rows:
        counts[question_id][value] = count
    figures = [TargetFigure(q, label, stats.wilson(counts[q]["yes"], counts[q]["yes"] + counts[q]["no"]),
                            MOSOVO_TARGETS.get(q)) for q, label in MOSOVO_FIGURES]
    numbers: Dict[str, List[float]] = defaultdict(list)
    for question_id, value in (_answers(mosovo, m.Answer.question_id, m.Answer.value)
                               .where(m.Answer.question_id.in_([MOSOVO_DAYS_OVERDUE, MOSOVO_OLDEST_TASK])).tuples()):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            numbers[question_id].append(value)
    days = numbers[MOSOVO_DAYS_OVERDUE]
    return MosovoCompliance(checks, figures, counts["m1"]["no"], sum(days), max(days, default=0),
                            max(numbers[MOSOVO_OLDEST_TASK], default=None))


# --------------------------------------------------------------------------- trends against baselines

@dataclass
class Trend:
    """This period's grades against a stored baseline (e.g. the 2021 inspection), grade by grade."""

    baseline: str
    area: str
    source: str
    current_total: int
    baseline_total: int
    comparisons: List[stats.Comparison]

    def as_dict(self) -> Dict[str, Any]:
        return {"baseline": self.baseline, "area": self.area, "source": self.source,
                "current_total": self.current_total, "baseline_total": self.baseline_total,
                "comparisons": [c.as_dict() for c in self.comparisons]}


def trends(overall: GradeDistribution, by_area: Sequence[GradeDistribution], vocab: Vocabulary,
           baseline_names: Sequence[str] = TREND_BASELINES) -> List[Trend]:
    """Compare the whole period, and each area that has its own baseline, with each named baseline.

    Only reviews graded on the baseline's scale count (a MOSOVO compliance grade has no place in
    a good / requires improvement / inadequate comparison)."""
    current = {"": overall, **{d.group: d for d in by_area}}
    result = []
    for baseline in m.Baseline.select().where(m.Baseline.name.in_(list(baseline_names))).order_by(m.Baseline.name, m.Baseline.area):
        dist = current.get(baseline.area)
        if dist is None:
            continue
        order = list(baseline.counts)
        now = {g: dist.count(g) for g in order}
        now_total = sum(now.values())
        comparisons = [stats.compare_proportions(stats.wilson(int(baseline.counts[g]), baseline.total),
                                                 stats.wilson(now[g], now_total), vocab.grade_label(g))
                       for g in order]
        result.append(Trend(baseline.name, baseline.area, baseline.source, now_total, baseline.total, comparisons))
    return result


def previous_period(flt: ReportFilter) -> Optional[ReportFilter]:
    """The same filter over the equally long run of months just before (None without both ends)."""
    if not (flt.period_from and flt.period_to):
        return None
    months = len(months_between(flt.period_from, flt.period_to))
    return dataclasses.replace(flt, period_from=shift_month(flt.period_from, -months),
                               period_to=shift_month(flt.period_from, -1))


@dataclass
class PeriodChange:
    """This period's grades against the period just before it, one Trend per grading scale in use."""

    previous: str  # the previous period, e.g. "2024-04" or "2024-01 to 2024-03"; "" if it cannot be set
    previous_total: int
    scales: List[Trend]

    def as_dict(self) -> Dict[str, Any]:
        return {"previous": self.previous, "previous_total": self.previous_total,
                "scales": [t.as_dict() for t in self.scales]}


def period_change(flt: ReportFilter, overall: GradeDistribution, vocab: Vocabulary) -> PeriodChange:
    """Each grade's share now against its share in the previous period, within its own scale (a
    MOSOVO compliance grade is not a share of good / requires improvement / inadequate)."""
    before_filter = previous_period(flt)
    if before_filter is None:
        return PeriodChange("", 0, [])
    before = overall_distribution(before_filter, vocab)
    label = before_filter.label().split("; ")[0]
    result, claimed = [], set()
    for values, special in vocab.scales:
        # A grade on several scales ("good") belongs to the first, as Vocabulary.scale_for shows it.
        grades = [g for g in values + [s for s in special if before.count(s) or overall.count(s)] if g not in claimed]
        claimed.update(grades)
        now, then = {g: overall.count(g) for g in grades}, {g: before.count(g) for g in grades}
        now_total, then_total = sum(now.values()), sum(then.values())
        if not now_total or not then_total:
            continue
        comparisons = [stats.compare_proportions(stats.wilson(then[g], then_total), stats.wilson(now[g], now_total),
                                                 vocab.grade_label(g)) for g in grades]
        result.append(Trend(f"previous period ({label})", "", "QATT reviews", now_total, then_total, comparisons))
    return PeriodChange(label, before.total, result)


# --------------------------------------------------------------------------- methodology and recommendations

@dataclass
class SampleRecord:
    """How one sample was drawn: enough for anyone to re-derive it (DOMAIN §5 methodology annex)."""

    id: int
    name: str
    period: str
    method: str
    params: Dict[str, Any]
    seed: str
    algorithm: str
    population: str
    population_fingerprint: str
    eligible_fingerprint: str
    population_size: int
    items: int
    drawn_by: str
    drawn_at: dt.datetime
    software_version: str
    redraw_reason: str

    def as_dict(self) -> Dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


def samples_used(flt: ReportFilter) -> List[SampleRecord]:
    """Every sample that a submitted review in the filter came from."""
    ids = set()
    for role in (FIRST, SECOND):
        ids.update(i for (i,) in submitted_reviews(flt, m.Sample.id, role=role).distinct().tuples())
    if not ids:
        return []
    items = dict(m.SampleItem.select(m.SampleItem.sample, peewee.fn.COUNT(m.SampleItem.id))
                 .where(m.SampleItem.sample.in_(sorted(ids)) & (m.SampleItem.is_reserve == False))  # noqa: E712
                 .group_by(m.SampleItem.sample).tuples())
    query = m.Sample.select(m.Sample, m.Population).join(m.Population).where(m.Sample.id.in_(sorted(ids))).order_by(m.Sample.id)
    return [SampleRecord(s.id, s.name, s.period, s.method, s.params or {}, s.seed, s.algorithm, s.population.name,
                         s.population_fingerprint, s.eligible_fingerprint, s.population.row_count, items.get(s.id, 0),
                         s.drawn_by, s.drawn_at, s.software_version, s.redraw_reason) for s in query]


@dataclass
class RecommendationRow:
    code: str
    text: str
    timescale: str
    owner: str
    status: str
    evidence: str

    def as_dict(self) -> Dict[str, Any]:
        return dict(self.__dict__)


def recommendations() -> List[RecommendationRow]:
    rows = m.Recommendation.select().order_by(m.Recommendation.id)
    return [RecommendationRow(r.code, r.text, r.timescale, r.owner, r.status, r.evidence) for r in rows]


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


# --------------------------------------------------------------------------- the reports

@dataclass
class ReportHeader:
    title: str
    filter: ReportFilter
    marking: str
    generated_at: dt.datetime
    generated_by: str
    software_version: str = __version__
    purged_reviews: int = 0  # first reviews in the filter counted only through the figures a purge kept
    audit_head: str = ""  # "N events, head H": an anchor of the audit log as it stood (qatt.audit)
    training: str = ""  # qatt.identity.TRAINING_LABEL in a training database, else ""

    def as_dict(self) -> Dict[str, Any]:
        return {"title": self.title, "filter": self.filter.as_dict(), "period": self.filter.label(),
                "marking": self.marking, "generated_at": self.generated_at, "generated_by": self.generated_by,
                "software_version": self.software_version, "purged_reviews": self.purged_reviews,
                "audit_head": self.audit_head, "training": self.training}

    def purged_note(self) -> str:
        return retention_note(self.purged_reviews)


def purged_review_count(flt: ReportFilter) -> int:
    """First reviews in the filter that a purge deleted and the grade figures still count."""
    return sum(count for _all, _grade, count in kept_figures(flt, None))


def retention_note(purged_reviews: int) -> str:
    """What a reader must know when grade figures include reviews no longer held ('' if none)."""
    if not purged_reviews:
        return ""
    return (f"{purged_reviews:,} reviews deleted under the retention policy are counted in the grade "
            f"figures only, from the anonymous counts kept for them. Themes, compliance, calibration and "
            f"review texts cover only the reviews still held.")


def seen_by(flt: ReportFilter, actor: str) -> ReportFilter:
    """The filter narrowed to what `actor` may see (qatt.visibility); unchanged without an actor."""
    return dataclasses.replace(flt, viewer=actor) if actor else flt


def _header(title: str, flt: ReportFilter, marking: Optional[str], actor: str, *, grades: bool = True) -> ReportHeader:
    """grades: the report shows grade figures, which count purged reviews (so say how many)."""
    purged = purged_review_count(flt) if grades else 0
    from qatt import audit, identity

    return ReportHeader(title, flt, protective_marking(marking), m.utcnow().replace(microsecond=0), actor,
                        purged_reviews=purged, audit_head=audit.current_anchor().text(),
                        training=identity.TRAINING_LABEL if identity.is_training() else "")


@dataclass
class MonthlyReport:
    """The monthly QA report for the governance boards (DOMAIN §3 and §5 'Monthly reports')."""

    header: ReportHeader
    overall: GradeDistribution
    second_reviews: int
    by_area: List[GradeDistribution]
    by_team: List[GradeDistribution]
    by_month: List[GradeDistribution]
    themes: Dict[str, List[ThemeFrequency]]
    compliance: List[ComplianceItem]
    actions: List[ActionRow]
    completion: List[ReviewerCompletion]
    calibration: List[Calibration]
    mosovo: Optional[MosovoCompliance]
    trends: List[Trend]
    samples: List[SampleRecord]
    change: PeriodChange = field(default_factory=lambda: PeriodChange("", 0, []))

    def as_dict(self) -> Dict[str, Any]:
        return {
            "header": self.header.as_dict(), "overall": self.overall.as_dict(), "second_reviews": self.second_reviews,
            "change": self.change.as_dict(),
            "by_area": [d.as_dict() for d in self.by_area], "by_team": [d.as_dict() for d in self.by_team],
            "by_month": [d.as_dict() for d in self.by_month],
            "themes": {g: [t.as_dict() for t in ts] for g, ts in self.themes.items()},
            "compliance": [c.as_dict() for c in self.compliance], "actions": [a.as_dict() for a in self.actions],
            "completion": [c.as_dict() for c in self.completion], "calibration": [c.as_dict() for c in self.calibration],
            "mosovo": self.mosovo.as_dict() if self.mosovo else None, "trends": [t.as_dict() for t in self.trends],
            "samples": [s.as_dict() for s in self.samples],
        }


def monthly_report(flt: ReportFilter, *, actor: str = "", marking: Optional[str] = None,
                   today: Optional[dt.date] = None, vocab: Optional[Vocabulary] = None) -> MonthlyReport:
    vocab = vocab or Vocabulary.load()
    today = today or dt.date.today()
    catalogue = FormCatalogue.for_filter(flt)
    overall = overall_distribution(flt, vocab)
    by_area = grade_distributions(flt, "area", vocab)
    return MonthlyReport(
        header=_header("Monthly quality assurance report", flt, marking, actor),
        overall=overall,
        second_reviews=submitted_reviews(flt, m.Review.id, role=SECOND).count(),
        by_area=by_area,
        by_team=grade_distributions(flt, "team", vocab),
        by_month=grade_distributions(flt, "month", vocab),
        themes=theme_frequencies(flt, vocab, catalogue),
        compliance=compliance(flt, catalogue),
        actions=outstanding_actions(flt, today),
        completion=completion(flt, today),
        calibration=calibration(grade_pairs(flt), catalogue, vocab),
        mosovo=mosovo_compliance(flt),
        trends=trends(overall, by_area, vocab),
        samples=samples_used(flt),
        change=period_change(flt, overall, vocab),
    )


NOTES_PER_AREA = 10  # review-text excerpts per area in the pack; the workbook has every review


@dataclass
class AreaBlock:
    """One area of practice in the self-assessment pack (DOMAIN §5: D3 area block, D4 case-file analysis)."""

    area: str
    grades: GradeDistribution
    independent: Optional[GradeDistribution]  # second reviewers' grades in the area
    strengths: List[ThemeFrequency]
    improvements: List[ThemeFrequency]
    strength_notes: List[str]
    improvement_notes: List[str]
    work_in_progress: List[ActionRow]
    case_file: Optional[Calibration]  # self against independent grades of the same cases

    def as_dict(self) -> Dict[str, Any]:
        return {"area": self.area, "grades": self.grades.as_dict(),
                "independent": self.independent.as_dict() if self.independent else None,
                "strengths": [t.as_dict() for t in self.strengths],
                "improvements": [t.as_dict() for t in self.improvements],
                "work_in_progress": [a.as_dict() for a in self.work_in_progress],
                "case_file": self.case_file.as_dict() if self.case_file else None}


@dataclass
class CaseStudyRow:
    """A review chosen as a good- or poor-practice example (qatt.case_studies), as the pack prints it."""

    review_id: int
    kind: str  # good | poor
    kind_label: str
    title: str
    summary: str
    area: str
    period: str
    grade: str  # the grade's label, "" if not graded
    role: str

    def as_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)


def case_studies(flt: ReportFilter, vocab: Vocabulary) -> List[CaseStudyRow]:
    """The case studies among the submitted reviews in the filter, by area, good practice first."""
    from qatt.case_studies import KIND_LABELS

    query = (m.CaseStudy.select(m.Review.id, m.CaseStudy.kind, m.CaseStudy.title, m.CaseStudy.summary, m.Case.area,
                                m.Sample.period, m.Review.grade, m.Review.role)
             .join(m.Review).join(m.SampleItem).join(m.Case)
             .switch(m.SampleItem).join(m.Sample)
             .switch(m.Review).join(m.FormVersion)
             .where(m.Review.status == SUBMITTED))
    rows = _filtered(query, flt).order_by(m.Case.area, m.CaseStudy.kind, m.Sample.period, m.CaseStudy.id).tuples()
    return [CaseStudyRow(review_id, kind, KIND_LABELS.get(kind, humanise(kind)), title, summary, area, period,
                         vocab.grade_label(grade) if grade else "", role)
            for review_id, kind, title, summary, area, period, grade, role in rows]


@dataclass
class InspectionPack:
    """The self-assessment pack, in the inspectorate's structure (DOMAIN §5)."""

    header: ReportHeader
    overall: GradeDistribution
    areas: List[AreaBlock]
    calibration: List[Calibration]
    mosovo: Optional[MosovoCompliance]
    recommendations: List[RecommendationRow]
    trends: List[Trend]
    samples: List[SampleRecord]
    case_studies: List[CaseStudyRow] = field(default_factory=list)

    def as_dict(self) -> Dict[str, Any]:
        return {"header": self.header.as_dict(), "overall": self.overall.as_dict(),
                "areas": [a.as_dict() for a in self.areas], "calibration": [c.as_dict() for c in self.calibration],
                "mosovo": self.mosovo.as_dict() if self.mosovo else None,
                "recommendations": [r.as_dict() for r in self.recommendations],
                "trends": [t.as_dict() for t in self.trends], "samples": [s.as_dict() for s in self.samples],
                "case_studies": [c.as_dict() for c in self.case_studies]}


def _review_notes(flt: ReportFilter, column: Any) -> Dict[str, List[str]]:
    """The newest distinct non-empty texts of one review field, per area."""
    notes: Dict[str, List[str]] = defaultdict(list)
    rows = (submitted_reviews(flt, m.Case.area, column).where(column != "")
            .order_by(m.Review.submitted_at.desc(), m.Review.id.desc()).tuples())
    for area, text in rows:
        text = text.strip()
        if text and len(notes[area]) < NOTES_PER_AREA and text not in notes[area]:
            notes[area].append(text)
    return notes


def inspection_pack(flt: ReportFilter, *, actor: str = "", marking: Optional[str] = None,
                    today: Optional[dt.date] = None, vocab: Optional[Vocabulary] = None) -> InspectionPack:
    vocab = vocab or Vocabulary.load()
    today = today or dt.date.today()
    catalogue = FormCatalogue.for_filter(flt)
    overall = overall_distribution(flt, vocab)
    by_area = grade_distributions(flt, "area", vocab)
    independent = {d.group: d for d in grade_distributions(flt, "area", vocab, role=SECOND)}
    themes = theme_frequencies(flt, vocab, catalogue)
    pairs = grade_pairs(flt)
    case_files = {c.form_id: c for c in calibration(pairs, catalogue, vocab, group_of=lambda pair: pair[1])}
    actions = outstanding_actions(flt, today)
    strengths, improvements = _review_notes(flt, m.Review.strengths), _review_notes(flt, m.Review.improvements)
    areas = []
    for dist in by_area:
        area_themes = themes.get(dist.group, [])
        areas.append(AreaBlock(
            area=dist.group, grades=dist, independent=independent.get(dist.group),
            strengths=sorted((t for t in area_themes if t.strength.count), key=lambda t: (-t.strength.count, t.label)),
            improvements=sorted((t for t in area_themes if t.weakness.count), key=lambda t: (-t.weakness.count, t.label)),
            strength_notes=strengths.get(dist.group, []), improvement_notes=improvements.get(dist.group, []),
            work_in_progress=[a for a in actions if a.area == dist.group],
            case_file=case_files.get(dist.group)))
    return InspectionPack(
        header=_header("Inspection self-assessment pack", flt, marking, actor),
        overall=overall, areas=areas, calibration=calibration(pairs, catalogue, vocab),
        mosovo=mosovo_compliance(flt), recommendations=recommendations(),
        trends=trends(overall, by_area, vocab), samples=samples_used(flt), case_studies=case_studies(flt, vocab))


@dataclass
class FeedbackAnswer:
    question: str
    answer: str


@dataclass
class FeedbackSheet:
    """What the officer is told about one reviewed case."""

    header: ReportHeader
    review_id: int
    case_reference: str
    area: str
    team: str
    officer: str
    reviewer: str
    role: str
    form_title: str
    period: str
    submitted_at: Optional[dt.datetime]
    suggested_grade: str
    grade: str
    override_rationale: str
    answers: List[FeedbackAnswer]
    strengths: str
    improvements: str
    feedback: str
    feedback_date: Optional[dt.date]
    actions: List[ActionRow]

    def as_dict(self) -> Dict[str, Any]:
        data = dict(self.__dict__)
        data["header"] = self.header.as_dict()
        data["answers"] = [a.__dict__ for a in self.answers]
        data["actions"] = [a.as_dict() for a in self.actions]
        return data


def feedback_sheet(review_id: int, *, actor: str = "", marking: Optional[str] = None,
                   today: Optional[dt.date] = None, vocab: Optional[Vocabulary] = None) -> FeedbackSheet:
    vocab = vocab or Vocabulary.load()
    today = today or dt.date.today()
    review = (m.Review.select(m.Review, m.SampleItem, m.Case, m.Sample, m.FormVersion)
              .join(m.SampleItem).join(m.Case).switch(m.SampleItem).join(m.Sample)
              .switch(m.Review).join(m.FormVersion).where(m.Review.id == review_id).first())
    if review is None:
        raise QattError(f"There is no review {review_id}; check the review number.")
    if actor:
        from qatt import visibility

        visibility.check(review, actor)
    if review.status != SUBMITTED:
        raise QattError(f"Review {review_id} is still a draft; submit it before printing the officer's feedback.")
    case, version = review.sample_item.case, review.form_version
    stored = {a.question_id: a.value for a in m.Answer.select().where(m.Answer.review == review)}
    answers = [FeedbackAnswer(q.header, answer_text(q, stored[q.id], vocab))
               for q in form_questions(version.content) if stored.get(q.id) not in (None, "")]
    actions = []
    for action in m.Action.select().where(m.Action.review == review).order_by(m.Action.id):
        overdue = (today - action.due_date).days if action.due_date and action.due_date < today and action.status != "done" else 0
        actions.append(ActionRow(action.id, review.id, case.reference, case.area, action.text, action.owner,
                                 action.due_date, action.status, overdue))
    return FeedbackSheet(
        header=_header("Case review feedback", ReportFilter(), marking, actor, grades=False),
        review_id=review.id, case_reference=case.reference, area=case.area, team=case.team, officer=case.officer,
        reviewer=review.reviewer, role=review.role, form_title=version.title or humanise(version.form_id),
        period=review.sample_item.sample.period, submitted_at=review.submitted_at,
        suggested_grade=vocab.grade_label(review.suggested_grade) if review.suggested_grade else "",
        grade=vocab.grade_label(review.grade), override_rationale=review.override_rationale, answers=answers,
        strengths=review.strengths, improvements=review.improvements, feedback=review.feedback,
        feedback_date=review.feedback_date, actions=actions)


# --------------------------------------------------------------------------- the workbook

REVIEW_PAGE = 2000  # reviews read per query when streaming the Reviews sheets

# (heading, kind): kind tells the exporter how wide the column should be.
REVIEW_FIXED_COLUMNS: Tuple[Tuple[str, str], ...] = (
    ("Review ID", "number"), ("Case reference", "short"), ("Area", "text"), ("Team", "text"),
    ("Officer", "text"), ("Month", "short"), ("Reviewer", "text"), ("Role", "short"),
    ("Submitted", "datetime"), ("Suggested grade", "short"), ("Grade", "short"), ("Override rationale", "long"),
    ("Strengths", "long"), ("Areas for improvement", "long"), ("Feedback", "long"),
)
_QUESTION_KINDS = {"text": "long", "themes": "long", "multi": "text", "number": "number", "date": "date"}


@dataclass
class ReviewSheet:
    """All submitted reviews made on one form: one row per review, one column per question (the
    union of the questions of every version used). Rows are streamed, never held in memory."""

    form_id: str
    title: str
    columns: List[Tuple[str, str]]
    row_count: int
    rows: Callable[[], Iterator[List[Any]]]


def _review_sheet(flt: ReportFilter, form_id: str, title: str, questions: List[QuestionInfo],
                  vocab: Vocabulary) -> ReviewSheet:
    only_form = dataclasses.replace(flt, form_ids=[form_id])
    fields = (m.Review.id, m.Case.reference, m.Case.area, m.Case.team, m.Case.officer, m.Sample.period,
              m.Review.reviewer, m.Review.role, m.Review.submitted_at, m.Review.suggested_grade, m.Review.grade,
              m.Review.override_rationale, m.Review.strengths, m.Review.improvements, m.Review.feedback)

    def base() -> peewee.ModelSelect:
        return _filtered(m.Review.select(*fields).join(m.SampleItem).join(m.Case)
                         .switch(m.SampleItem).join(m.Sample).switch(m.Review).join(m.FormVersion)
                         .where(m.Review.status == SUBMITTED), only_form)

    column_of = {q.id: i for i, q in enumerate(questions)}

    def rows() -> Iterator[List[Any]]:
        last_id = 0
        while True:
            page = list(base().where(m.Review.id > last_id).order_by(m.Review.id).limit(REVIEW_PAGE).tuples())
            if not page:
                return
            answers: Dict[int, List[Any]] = {row[0]: [None] * len(questions) for row in page}
            for review_id, question_id, value in (m.Answer.select(m.Answer.review, m.Answer.question_id, m.Answer.value)
                                                  .where(m.Answer.review.between(page[0][0], page[-1][0])).tuples()):
                position = column_of.get(question_id)
                if position is not None and review_id in answers:
                    answers[review_id][position] = answer_value(questions[position], value, vocab)
            for row in page:
                fixed = list(row)
                fixed[9] = vocab.grade_label(fixed[9]) if fixed[9] else None
                fixed[10] = vocab.grade_label(fixed[10]) if fixed[10] else None
                yield fixed + answers[row[0]]
            last_id = page[-1][0]

    columns = list(REVIEW_FIXED_COLUMNS) + [(q.header, _QUESTION_KINDS.get(q.type, "short")) for q in questions]
    return ReviewSheet(form_id, title, columns, base().count(), rows)


@dataclass
class WorkbookData:
    """Everything the Excel workbook holds: summary, reviews per form, themes, compliance,
    calibration, actions, case studies and the samples the reviews came from."""

    header: ReportHeader
    overall: GradeDistribution
    by_area: List[GradeDistribution]
    review_sheets: List[ReviewSheet]
    themes: List[ThemeFrequency]
    compliance: List[ComplianceItem]
    calibration: List[Calibration]
    actions: List[ActionRow]
    samples: List[SampleRecord]
    case_studies: List[CaseStudyRow] = field(default_factory=list)

    @property
    def review_count(self) -> int:
        return sum(s.row_count for s in self.review_sheets)


def workbook_data(flt: ReportFilter, *, actor: str = "", marking: Optional[str] = None,
                  today: Optional[dt.date] = None, vocab: Optional[Vocabulary] = None) -> WorkbookData:
    vocab = vocab or Vocabulary.load()
    today = today or dt.date.today()
    catalogue = FormCatalogue.for_filter(flt)
    return WorkbookData(
        header=_header("Quality assurance workbook", flt, marking, actor),
        overall=overall_distribution(flt, vocab),
        by_area=grade_distributions(flt, "area", vocab),
        review_sheets=[_review_sheet(flt, form_id, catalogue.titles[form_id], questions, vocab)
                       for form_id, questions in sorted(catalogue.questions.items())],
        themes=theme_frequencies(flt, vocab, catalogue)["All"],
        compliance=compliance(flt, catalogue),
        calibration=calibration(grade_pairs(flt), catalogue, vocab),
        actions=outstanding_actions(flt, today),
        samples=samples_used(flt),
        case_studies=case_studies(flt, vocab),
    )


# --------------------------------------------------------------------------- choices for the desktop's export page

@dataclass(frozen=True)
class FilterChoices:
    """The values a report filter can usefully pick from: those found among submitted reviews."""

    periods: List[str]
    areas: List[str]
    teams: List[str]
    forms: List[Tuple[str, str]]  # (form id, title)


def filter_choices() -> FilterChoices:
    rows = set()
    for role in (FIRST, SECOND):
        rows.update(submitted_reviews(ReportFilter(), m.Sample.period, m.Case.area, m.Case.team, m.FormVersion.form_id,
                                      m.FormVersion.title, role=role).distinct().tuples())
    periods, areas, teams, form_ids, titles = (zip(*rows) if rows else ((),) * 5)
    # Months and areas whose reviews were purged still have grade figures to show.
    kept = list(m.AggregateFigure.select(m.AggregateFigure.period, m.AggregateFigure.area).distinct().tuples())
    periods, areas = tuple(periods) + tuple(p for p, _ in kept), tuple(areas) + tuple(a for _, a in kept)
    # Versions of one form may differ in title: show one, the same one each time.
    forms = dict(sorted(zip(form_ids, titles), key=lambda pair: (pair[0], pair[1] or "")))
    return FilterChoices(sorted(set(filter(None, periods))), sorted(set(filter(None, areas))),
                         sorted(set(filter(None, teams))),
                         sorted((form_id, forms[form_id] or humanise(form_id)) for form_id in forms))


@dataclass(frozen=True)
class ReviewChoice:
    """A submitted review someone may print an officer's feedback sheet for."""

    id: int
    case_reference: str
    area: str
    reviewer: str
    role: str
    period: str
    form_title: str

    def label(self) -> str:
        return (f"Review {self.id}: {self.case_reference}, {self.area}, {self.period}, "
                f"{self.form_title}, {self.reviewer} ({self.role})")


def submitted_review_choices(flt: ReportFilter, reviewer: Optional[str] = None,
                             limit: int = 1000) -> List[ReviewChoice]:
    """Submitted reviews of either role in the filter, newest first; only `reviewer`'s when given
    (a reviewer may print feedback on their own reviews only)."""
    query = (m.Review.select(m.Review.id, m.Case.reference, m.Case.area, m.Review.reviewer, m.Review.role,
                             m.Sample.period, m.FormVersion.title)
             .join(m.SampleItem).join(m.Case)
             .switch(m.SampleItem).join(m.Sample)
             .switch(m.Review).join(m.FormVersion)
             .where(m.Review.status == SUBMITTED))
    if reviewer is not None:
        query = query.where(m.Review.reviewer == reviewer)
    query = _filtered(query, flt).order_by(m.Review.id.desc()).limit(limit)
    return [ReviewChoice(review_id, reference, area or "", by, role, period, title)
            for review_id, reference, area, by, role, period, title in query.tuples()]
