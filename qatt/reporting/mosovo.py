"""The monthly MOSOVO block (DOMAIN §5), from the DI checks (form mosovo_di_check)."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import peewee

from qatt import stats
from qatt.targets import REPORTED_RATES, ReportedRate, force_targets
from qatt.reporting.filters import ReportFilter, _answers, submitted_reviews
from qatt.storage import models as m

MOSOVO_FORM_ID = "mosovo_di_check"
# DOMAIN 4.5 (D0): the force's reported MOSOVO figures over the last six months: reported rates, not
# targets (the sources set none). A force's own targets are a setting (qatt.targets).
MOSOVO_TARGETS = {q: r.rate for q, r in REPORTED_RATES.items()}
EXCEPTION_QUESTIONS = ("m2", "m3")  # a "no" on either is an exception that M4 (ratified) applies to


# --------------------------------------------------------------------------- MOSOVO

@dataclass
class TargetFigure:
    """A MOSOVO compliance figure, against the force's own target where it has set one, beside the
    rate the sources reported (D0: a reported rate, not a target)."""

    question_id: str
    label: str
    proportion: stats.Proportion
    target: Optional[float]  # the force's target (qatt.targets), None when it has set none
    reported: Optional[ReportedRate] = None
    not_applicable: int = 0  # M4: exceptions left N/A (before the rule), counted as not ratified
    over: str = ""  # what the denominator counts, e.g. "exceptions"

    @property
    def statement(self) -> str:
        p = self.proportion
        if p.total == 0:
            return f"{self.label}: no checks answered this item."
        out = f"{self.label}: {p.percent_text()}"
        if self.over:
            out += f" of {p.total} {self.over}"
        if self.not_applicable:
            out += f" ({self.not_applicable} left N/A, counted as not ratified)"
        if self.target is not None:
            goal = f"the force's {self.target * 100:.0f}% target"
            if p.high < self.target:
                out += f", below {goal} (the whole interval is under it)"
            elif p.low > self.target:
                out += f", above {goal} (the whole interval is over it)"
            else:
                out += f", consistent with {goal} (the interval includes it)"
        if self.reported is not None:
            out += f"; {self.reported.text()}, a reported rate, not a target"
        return out + "."

    def as_dict(self) -> Dict[str, Any]:
        return {"question_id": self.question_id, "label": self.label, "proportion": self.proportion.as_dict(),
                "target": self.target, "reported_rate": self.reported.rate if self.reported else None,
                "reported_in": self.reported.source if self.reported else None,
                "not_applicable": self.not_applicable, "statement": self.statement}


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
    targets = force_targets()
    figures = [TargetFigure(q, label, stats.wilson(counts[q]["yes"], counts[q]["yes"] + counts[q]["no"]),
                            targets.get(q), REPORTED_RATES.get(q)) for q, label in MOSOVO_FIGURES]
    figures = [ratification(mosovo, f) if f.question_id == "m4" else f for f in figures]
    numbers: Dict[str, List[float]] = defaultdict(list)
    for question_id, value in (_answers(mosovo, m.Answer.question_id, m.Answer.value)
                               .where(m.Answer.question_id.in_([MOSOVO_DAYS_OVERDUE, MOSOVO_OLDEST_TASK])).tuples()):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            numbers[question_id].append(value)
    days = numbers[MOSOVO_DAYS_OVERDUE]
    return MosovoCompliance(checks, figures, counts["m1"]["no"], sum(days), max(days, default=0),
                            max(numbers[MOSOVO_OLDEST_TASK], default=None))


def ratification(flt: ReportFilter, figure: TargetFigure) -> TargetFigure:
    """M4 over the exceptions (checks with M2 or M3 "no"), not over the M4 answers: an exception
    whose M4 was left N/A (allowed before the rule) counts as not ratified and is shown."""
    exceptions = (_answers(flt, m.Answer.review).where(m.Answer.question_id.in_(EXCEPTION_QUESTIONS)
                                                        & (m.Answer.value == "no")).distinct())
    m4 = dict(_answers(flt, m.Answer.value, peewee.fn.COUNT(m.Answer.id))
              .where((m.Answer.question_id == "m4") & m.Answer.review.in_(exceptions))
              .group_by(m.Answer.value).tuples())
    total = exceptions.count()
    return TargetFigure(figure.question_id, figure.label, stats.wilson(m4.get("yes", 0), total), figure.target,
                        figure.reported, m4.get("na", 0), "exceptions")
