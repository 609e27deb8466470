"""Whether each standing plan's monthly round was done: planned, submitted and outstanding checks.

D0 commits the force to 10 Detective Inspector quality checks of MOSOVO records a month. A plan
records that commitment (qatt.selection.assignments); this module says, per plan and month, how many were
planned, how many submitted and how many are outstanding, with the due date (the month's end),
and a line a board can read: "MOSOVO DI checks for 2024-04: 7 of 10 submitted; 3 outstanding,
due 30 April". A month the plan has not been run for still owes its checks, so it shows too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

import peewee

from qatt.selection import assignments
from qatt.errors import QattError
from qatt.storage import models as m


@dataclass(frozen=True)
class PlanMonth:
    plan: str
    period: str
    planned: int
    submitted: int
    in_progress: int
    due_date: dt.date
    sample_id: Optional[int]  # None: the plan has not been run for this month
    reviewers: List[str] = field(default_factory=list)
    today: dt.date = field(default_factory=dt.date.today, compare=False)

    @property
    def outstanding(self) -> int:
        return max(self.planned - self.submitted, 0)

    @property
    def overdue(self) -> bool:
        return self.outstanding > 0 and self.today > self.due_date

    @property
    def statement(self) -> str:
        due = f"{self.due_date.day} {self.due_date:%B}"
        if self.due_date.year != self.today.year:
            due += f" {self.due_date.year}"
        head = f"{self.plan} for {self.period}"
        if self.sample_id is None:
            return f"{head}: not drawn yet; {self.planned} planned, {'overdue since' if self.overdue else 'due'} {due}."
        if not self.outstanding:
            return f"{head}: all {self.planned} submitted."
        when = f"overdue since {due}" if self.overdue else f"due {due}"
        return f"{head}: {self.submitted} of {self.planned} submitted; {self.outstanding} outstanding, {when}."

    def as_dict(self) -> Dict[str, Any]:
        return {"plan": self.plan, "period": self.period, "planned": self.planned, "submitted": self.submitted,
                "in_progress": self.in_progress, "outstanding": self.outstanding,
                "due_date": self.due_date.isoformat(), "overdue": self.overdue, "sample_id": self.sample_id,
                "reviewers": self.reviewers, "statement": self.statement}


def plan_completion(periods: Optional[Sequence[str]] = None, today: Optional[dt.date] = None,
                    plan_name: Optional[str] = None) -> List[PlanMonth]:
    """Per active plan and month: the months given (run or not), or else every month it was run for."""
    today = today or dt.date.today()
    for period in periods or ():
        assignments.end_of_month(period)  # checks the YYYY-MM form
    plans = list(m.Plan.select().where(m.Plan.active == True).order_by(m.Plan.name))  # noqa: E712 (SQL)
    if plan_name is not None:
        plans = [p for p in plans if p.name == plan_name]
        if not plans:
            raise QattError(f"There is no active plan {plan_name!r}; see `plan list`.")
    out: List[PlanMonth] = []
    for plan in plans:
        runs = _runs(plan)
        created = f"{plan.created_at:%Y-%m}"
        # A month before the plan existed owes nothing, unless the plan was run for it.
        months = sorted(p for p in set(periods) if p >= created or p in runs) if periods else sorted(runs)
        out += [_plan_month(plan, period, runs.get(period), today) for period in months]
    return out


def _runs(plan: m.Plan) -> Dict[str, m.Sample]:
    """{month: sample} for the months the plan was run (run_plan names the sample '<plan> <month>')."""
    prefix = f"{plan.name} "
    query = m.Sample.select().where(m.Sample.name.startswith(prefix))
    return {s.period: s for s in query if s.name == prefix + s.period}


def _plan_month(plan: m.Plan, period: str, sample: Optional[m.Sample], today: dt.date) -> PlanMonth:
    due = assignments.end_of_month(period)
    params = plan.params
    if sample is None:
        planned = params.get("size", 0) if params["kind"] == "fixed" else 0
        return PlanMonth(plan.name, period, planned, 0, 0, due, None, [], today)
    rows = (assignments.completion_query(today).where(m.Sample.id == sample.id)
            .order_by(m.Assignment.reviewer).tuples())
    assigned = submitted = in_progress = 0
    reviewers = []
    due_dates = []
    for reviewer, _period, n_assigned, n_draft, n_submitted, _overdue in rows:
        reviewers.append(reviewer)
        assigned += int(n_assigned or 0)
        in_progress += int(n_draft or 0)
        submitted += int(n_submitted or 0)
    due_dates = [d for (d,) in m.Assignment.select(peewee.fn.MAX(m.Assignment.due_date)).join(m.SampleItem)
                 .where(m.SampleItem.sample == sample).tuples() if d]
    # A fixed plan owes its size even when the month had fewer cases to draw (the shortfall shows).
    planned = max(params["size"], assigned) if params["kind"] == "fixed" else assigned
    due = _as_date(due_dates[0]) if due_dates else due
    return PlanMonth(plan.name, period, planned, submitted, in_progress, due, sample.id, reviewers, today)


def _as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def months_of(period_from: str, period_to: str) -> List[str]:
    """The months a report covers (both given), else none: a report over all time lists the runs."""
    if not period_from or not period_to:
        return []
    from qatt.reporting.filters import months_between

    return months_between(period_from, period_to)
