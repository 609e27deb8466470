"""The monthly MOSOVO block (DOMAIN §5), from the DI checks (form mosovo_di_check)."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import peewee

from qatt import stats
from qatt.reporting.filters import ReportFilter, _answers, submitted_reviews
from qatt.storage import models as m

MOSOVO_FORM_ID = "mosovo_di_check"
# DOMAIN 4.5 (D0): the force's reported MOSOVO figures over the last six months.
MOSOVO_TARGETS = {"m2": 0.86, "m3": 0.84}


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
