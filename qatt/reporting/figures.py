"""The shared figures the reports are built from: grade distributions, themes, compliance, calibration,
actions and completion, trends against baselines, samples, recommendations and case studies.
Each proportion carries its Wilson 95% interval.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import peewee

from qatt import __version__, stats
from qatt.loop import actions
from qatt.selection import assignments
from qatt.reporting.filters import (
    FIRST, FormCatalogue, QuestionInfo, ROLLING_MONTHS, ReportFilter, SECOND, SMALL_SAMPLE, SUBMITTED,
    TREND_BASELINES, Vocabulary, YES_NO_TYPES, _answers, _filtered, _where, humanise, months_between,
    protective_marking, shift_month, submitted_reviews)
from qatt.storage import models as m


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
    """The group's grades, each as a share of the reviews graded on its own scale: where a group
    holds case grades and MOSOVO compliance grades (the whole period, a month), "Good" is a share of
    the reviews graded good / requires improvement / inadequate and "Compliant" of the MOSOVO checks,
    never of both together. `total` counts every review of the group."""
    shares: Dict[str, stats.Proportion] = {}
    for _title, grades in vocab.scale_groups(list(counts)):
        shares.update(stats.distribution({g: counts[g] for g in grades if g in counts}, grades))
    return GradeDistribution(group, sum(counts.values()),
                             [GradeShare(g, vocab.grade_label(g), shares[g]) for g in vocab.scale_for(list(counts))])


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
    # SQL counts the reviews per distinct stored answer, so each answer text is decoded once
    # (the tags repeat: 100,000 reviews hold a few hundred distinct sets), not once per review.
    query = (_answers(flt, m.FormVersion.form_id, m.Answer.question_id, m.Case.area, m.Answer.value,
                      peewee.fn.COUNT(m.Answer.id))
             .where(m.Answer.question_id.in_(question_ids))
             .group_by(m.FormVersion.form_id, m.Answer.question_id, m.Case.area, m.Answer.value))
    decoded: Dict[str, Any] = {}
    for form_id, question_id, area, text, count in m.database_proxy.execute(query).fetchall():
        if (form_id, question_id) not in theme_questions or not text:
            continue
        value = decoded.get(text, decoded)
        if value is decoded:
            value = decoded[text] = json.loads(text)
        if not isinstance(value, dict):
            continue
        for group in (area or "(none)", "All"):
            answered[group] += count
            for theme, kind in value.items():
                tallies[group][theme][0 if kind == "strength" else 1] += count
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
    # Items a form records without counting (counts_toward_compliance: false) are not compliance items.
    questions = {key: q for key, q in catalogue.of_type(*YES_NO_TYPES).items() if q.counted}
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
    `viewer`, only the cases where they may see both reviews (qatt.trust.visibility)."""
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
        from qatt.trust import visibility

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
                                  stats.agreement(grouped[group], categories,
                                                  labels={c: vocab.grade_label(c) for c in categories})))
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
    """Actions still to be done (open or in progress), from submitted reviews in the filter; most overdue first."""
    query = (m.Action.select(m.Action.id, m.Review.id, m.Case.reference, m.Case.area, m.Action.text, m.Action.owner,
                             m.Action.due_date, m.Action.status)
             .join(m.Review).join(m.SampleItem).join(m.Case)
             .switch(m.SampleItem).join(m.Sample)
             .switch(m.Review).join(m.FormVersion)
             .where((m.Review.status == SUBMITTED) & m.Action.status.in_(list(actions.LIVE))))
    rows = []
    for action_id, review_id, reference, area, text, owner, due, status in _filtered(query, flt).tuples():
        overdue = actions.days_overdue(status, due, today)
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
    grades: str = ""  # which of this period's grades are compared, e.g. "the force's independent second reviews"

    def as_dict(self) -> Dict[str, Any]:
        return {"baseline": self.baseline, "area": self.area, "source": self.source,
                "current_total": self.current_total, "baseline_total": self.baseline_total,
                "comparisons": [c.as_dict() for c in self.comparisons], "grades": self.grades}


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
    first_reviews: int = 0  # submitted first reviews of the sample's cases (in the filter's areas and teams)
    second_reviews: int = 0

    @property
    def completion(self) -> stats.Proportion:
        """Submitted first reviews out of the cases drawn."""
        return stats.wilson(min(self.first_reviews, self.items), self.items)

    def as_dict(self) -> Dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items()}
        data["completion"] = self.completion.as_dict()
        return data


def samples_used(flt: ReportFilter) -> List[SampleRecord]:
    """Every sample drawn for the filter's months (reviewed or not) and every sample a submitted
    review in the filter came from, with how many of its cases have been reviewed."""
    ids = set()
    reviewed: Dict[Tuple[int, str], int] = defaultdict(int)
    for role in (FIRST, SECOND):
        for sample_id, count in (submitted_reviews(flt, m.Sample.id, peewee.fn.COUNT(m.Review.id), role=role)
                                 .group_by(m.Sample.id).tuples()):
            ids.add(sample_id)
            reviewed[(sample_id, role)] = int(count)
    drawn = m.Sample.select(m.Sample.id)
    if flt.period_from:
        drawn = drawn.where(m.Sample.period >= flt.period_from)
    if flt.period_to:
        drawn = drawn.where(m.Sample.period <= flt.period_to)
    if flt.form_ids:
        drawn = drawn.where(m.Sample.form_id.in_(list(flt.form_ids)) | (m.Sample.form_id == ""))
    if flt.areas or flt.teams:
        cases = m.SampleItem.select(m.SampleItem.sample).join(m.Case)
        cases = cases.where(m.Case.area.in_(list(flt.areas))) if flt.areas else cases
        cases = cases.where(m.Case.team.in_(list(flt.teams))) if flt.teams else cases
        drawn = drawn.where(m.Sample.id.in_(cases))
    ids.update(i for (i,) in drawn.tuples())
    if not ids:
        return []
    in_use = (m.SampleItem.active == True) & ((m.SampleItem.is_reserve == False)  # noqa: E712
                                              | m.SampleItem.replaces.is_null(False))
    items = dict(m.SampleItem.select(m.SampleItem.sample, peewee.fn.COUNT(m.SampleItem.id))
                 .where(m.SampleItem.sample.in_(sorted(ids)) & in_use)
                 .group_by(m.SampleItem.sample).tuples())
    query = m.Sample.select(m.Sample, m.Population).join(m.Population).where(m.Sample.id.in_(sorted(ids))).order_by(m.Sample.id)
    return [SampleRecord(s.id, s.name, s.period, s.method, s.params or {}, s.seed, s.algorithm, s.population.name,
                         s.population_fingerprint, s.eligible_fingerprint, s.population.row_count, items.get(s.id, 0),
                         s.drawn_by, s.drawn_at, s.software_version, s.redraw_reason,
                         reviewed[(s.id, FIRST)], reviewed[(s.id, SECOND)]) for s in query]


@dataclass
class RecommendationRow:
    code: str
    text: str
    timescale: str
    owner: str
    status: str
    evidence: str  # the entry's evidence text and its evidence links
    kind: str = "recommendation"
    source: str = ""
    progress: str = ""  # the latest dated progress note
    due_date: Optional[dt.date] = None
    warning: str = ""  # e.g. marked fully achieved while a linked action is not verified (register.Entry.warning)

    @property
    def evidence_and_warning(self) -> str:
        return "; ".join(filter(None, [self.evidence, f"Warning: {self.warning}" if self.warning else ""]))

    def as_dict(self) -> Dict[str, Any]:
        return dict(self.__dict__)


def recommendations() -> List[RecommendationRow]:
    """The register of recommendations and commitments (qatt.loop.register), in register order."""
    from qatt.loop import register

    rows = []
    for e in register.entries():
        # Each linked action's label carries its status now, from the action (not the link's note).
        evidence = "; ".join(filter(None, [e.evidence_text] + [x.label for x in e.evidence]))
        rows.append(RecommendationRow(e.code, e.text, e.timescale, e.owner, e.status, evidence, e.kind, e.source,
                                      e.latest_note, e.due_date, e.warning))
    return rows


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
    audit_head: str = ""  # "N events, head H": an anchor of the audit log as it stood (qatt.trust.audit)
    training: str = ""  # qatt.trust.identity.TRAINING_LABEL in a training database, else ""

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


def _header(title: str, flt: ReportFilter, marking: Optional[str], actor: str, *, grades: bool = True) -> ReportHeader:
    """grades: the report shows grade figures, which count purged reviews (so say how many)."""
    purged = purged_review_count(flt) if grades else 0
    from qatt.trust import audit, identity

    return ReportHeader(title, flt, protective_marking(marking), m.utcnow().replace(microsecond=0), actor,
                        purged_reviews=purged, audit_head=audit.current_anchor().text(),
                        training=identity.TRAINING_LABEL if identity.is_training() else "")


@dataclass
class CaseStudyRow:
    """A review chosen as a good- or poor-practice example (qatt.reviewing.case_studies), as the pack prints it."""

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
    from qatt.reviewing.case_studies import KIND_LABELS

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
