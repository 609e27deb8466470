"""The data of the Excel workbook: summary figures, every review per form (streamed), themes,
compliance, calibration, actions, case studies and samples.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import peewee

from qatt.reporting.filters import (
    FormCatalogue, QuestionInfo, ReportFilter, SUBMITTED, Vocabulary, _filtered, answer_value)
from qatt.reporting.figures import RecommendationRow, recommendations
from qatt.reporting.figures import (
    ActionRow, Calibration, CaseStudyRow, ComplianceItem, GradeDistribution, ReportHeader, SampleRecord,
    ThemeFrequency, _header, calibration, case_studies, compliance, grade_distributions, grade_pairs,
    outstanding_actions, overall_distribution, samples_used, theme_frequencies)
from qatt import stats
from qatt.storage import models as m


# --------------------------------------------------------------------------- the workbook

REVIEW_PAGE = 5000  # reviews read per query when streaming the Reviews sheets

# (heading, kind): kind tells the exporter how wide the column should be.
REVIEW_FIXED_COLUMNS: Tuple[Tuple[str, str], ...] = (
    ("Review ID", "number"), ("Case reference", "short"), ("Area", "text"), ("Team", "text"),
    ("Officer", "text"), ("Month", "short"), ("Reviewer", "text"), ("Role", "short"),
    ("Submitted", "datetime"), ("Suggested grade", "label"), ("Grade", "label"), ("Override rationale", "long"),
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

    def base(*selected: Any) -> peewee.ModelSelect:
        return _filtered(m.Review.select(*selected).join(m.SampleItem).join(m.Case)
                         .switch(m.SampleItem).join(m.Sample).switch(m.Review).join(m.FormVersion)
                         .where(m.Review.status == SUBMITTED), only_form)

    column_of = {q.id: i for i, q in enumerate(questions)}
    width = len(questions)
    # Most answers repeat ("yes", a choice, a date), so each stored text is decoded and labelled
    # once per column; answer_value is pure and its cells immutable (str, number, date, None).
    decoded: List[Dict[str, Any]] = [{} for _ in questions]
    grade_labels: Dict[str, Optional[str]] = {"": None, None: None}
    database = m.database_proxy

    def rows() -> Iterator[List[Any]]:
        # Each page is read by its range of review ids: "after the last id, the next n" would have
        # the database join and sort every remaining review for every page.
        ids = [review_id for (review_id,) in database.execute(base(m.Review.id).order_by(m.Review.id))]
        for start in range(0, len(ids), REVIEW_PAGE):
            first, last = ids[start], ids[min(start + REVIEW_PAGE, len(ids)) - 1]
            # plain database tuples: no model instances, no per-field conversion but the date
            query = base(*fields).where(m.Review.id.between(first, last)).order_by(m.Review.id)
            page = database.execute(query).fetchall()
            answers: Dict[int, List[Any]] = {row[0]: [None] * width for row in page}
            for review_id, question_id, text in _answer_texts(first, last):
                position = column_of.get(question_id)
                if position is None or not text:
                    continue
                cells = answers.get(review_id)
                if cells is None:
                    continue
                known = decoded[position]
                value = known.get(text, known)
                if value is known:
                    if len(known) >= _CELL_CACHE:
                        known.clear()  # many distinct free-text answers: keep memory bounded
                    value = known[text] = answer_value(questions[position], json.loads(text), vocab)
                cells[position] = value
            for row in page:
                fixed = list(row)
                for index in (9, 10):
                    grade = fixed[index]
                    label = grade_labels.get(grade, grade_labels)
                    if label is grade_labels:
                        label = grade_labels[grade] = vocab.grade_label(grade)
                    fixed[index] = label
                submitted = fixed[8]
                if submitted is not None and submitted.__class__ is str:  # SQLite keeps date-times as text
                    fixed[8] = _date_time(submitted)
                fixed += answers[row[0]]
                yield fixed

    columns = list(REVIEW_FIXED_COLUMNS) + [(q.header, _QUESTION_KINDS.get(q.type, "short")) for q in questions]
    return ReviewSheet(form_id, title, columns, base(m.Review.id).count(), rows)


def _date_time(text: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:  # a format only peewee writes or reads
        return m.Review.submitted_at.python_value(text)


_CELL_CACHE = 20000  # decoded answer cells kept per sheet while streaming


def _answer_texts(first_review: int, last_review: int) -> Iterator[Tuple[int, str, Optional[str]]]:
    """(review id, question id, stored JSON text) of the answers of reviews first..last, read as
    plain database tuples: the decoding is done once per distinct text by the caller, not per row
    by the model field."""
    query = (m.Answer.select(m.Answer.review, m.Answer.question_id, m.Answer.value)
             .where(m.Answer.review.between(first_review, last_review)))
    return iter(m.database_proxy.execute(query).fetchall())


@dataclass
class ScaleSummary:
    """The first-review grades of one grading scale per area, each share taken over the reviews
    graded on that scale (an area with case grades and MOSOVO compliance grades has two
    denominators, never one mixed one). The last group is "All areas"."""

    title: str
    grades: List[Tuple[str, str]]  # (grade id, label), best first
    groups: List[Tuple[str, int, List[stats.Proportion]]]  # (area, reviews on the scale, share of each grade)

    def small(self, reviews: int) -> bool:
        return 0 < reviews < stats.SMALL_SAMPLE


def scale_summaries(by_area: List[GradeDistribution], overall: GradeDistribution,
                    vocab: Vocabulary) -> List[ScaleSummary]:
    labels = {s.grade: s.label for dist in [overall, *by_area] for s in dist.shares}
    used = [s.grade for s in overall.shares if s.proportion.count] or [s.grade for s in overall.shares]
    summaries = []
    for title, grades in vocab.scale_groups(used):
        groups = []
        for name, dist in [(d.group, d) for d in by_area] + [("All areas", overall)]:
            counts = [dist.count(g) for g in grades]
            reviews = sum(counts)
            if reviews or name == "All areas":
                groups.append((name, reviews, [stats.wilson(c, reviews) for c in counts]))
        summaries.append(ScaleSummary(title, [(g, labels.get(g) or vocab.grade_label(g)) for g in grades], groups))
    return summaries


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
    register: List[RecommendationRow] = field(default_factory=list)  # recommendations and commitments
    scales: List[ScaleSummary] = field(default_factory=list)  # the Summary sheet: one block per grading scale

    @property
    def review_count(self) -> int:
        return sum(s.row_count for s in self.review_sheets)


def workbook_data(flt: ReportFilter, *, actor: str = "", marking: Optional[str] = None,
                  today: Optional[dt.date] = None, vocab: Optional[Vocabulary] = None) -> WorkbookData:
    vocab = vocab or Vocabulary.load()
    today = today or dt.date.today()
    catalogue = FormCatalogue.for_filter(flt)
    overall, by_area = overall_distribution(flt, vocab), grade_distributions(flt, "area", vocab)
    return WorkbookData(
        header=_header("Quality assurance workbook", flt, marking, actor),
        overall=overall,
        by_area=by_area,
        scales=scale_summaries(by_area, overall, vocab),
        review_sheets=[_review_sheet(flt, form_id, catalogue.titles[form_id], questions, vocab)
                       for form_id, questions in sorted(catalogue.questions.items())],
        themes=theme_frequencies(flt, vocab, catalogue)["All"],
        compliance=compliance(flt, catalogue),
        calibration=calibration(grade_pairs(flt), catalogue, vocab),
        actions=outstanding_actions(flt, today),
        samples=samples_used(flt),
        case_studies=case_studies(flt, vocab),
        register=recommendations(),
    )
