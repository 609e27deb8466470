"""The values the desktop's export page offers: filter choices and the reviews feedback can be printed for."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple

from qatt.reporting.filters import FIRST, ReportFilter, SECOND, SUBMITTED, _filtered, humanise, submitted_reviews
from qatt.storage import models as m


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
