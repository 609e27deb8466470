"""Who reviews which sampled case by when: assignments, standing monthly plans and completion.

A standing plan ("each supervisor reviews 5 of their team's finalised cases a month", "the MOSOVO
DI checks 10 records a month") is run once per month: it draws the month's sample through
qatt.selection.sampling and assigns every drawn case in the same transaction, so a month is either fully
set up or not at all. `completion` tells the dashboard and the reports who is behind.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, Iterable, List, Optional

import peewee

from qatt import browse
from qatt.trust import audit, users
from qatt.errors import PermissionDenied, QattError
from qatt.storage import models as m
from qatt.storage.db import database_proxy, write_transaction

PLAN_KINDS = ("per_supervisor", "fixed")
_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


# --------------------------------------------------------------------------- assigning

def _require_may_assign(actor: str, reviewer: str) -> None:
    """A QA lead assigns anyone; a moderator only the members of their own team."""
    if users.has_role(actor, "qa_lead"):
        return
    users.require_role(actor, "moderator", "assign reviews")
    actor_team = m.User.get(m.User.username == actor).team
    reviewer_user = m.User.get_or_none(m.User.username == reviewer)
    if not actor_team or reviewer_user is None or reviewer_user.team != actor_team:
        raise PermissionDenied(f"{reviewer} is not in your team; ask a QA lead to assign their reviews.")


def assign(sample_item_ids: Iterable[int], reviewer: str, actor: str, role: str = "first",
           due_date: Optional[dt.date] = None) -> List[m.Assignment]:
    """Give sampled cases to a reviewer (replacing an earlier assignment in the same role).

    Refused for a case whose review in that role was already started by someone else."""
    if role not in m.Review.ROLES:
        raise QattError(f"Unknown review role {role!r}; use 'first' or 'second'.")
    reviewer = (reviewer or "").strip()
    if not reviewer:
        raise QattError("Name the reviewer to assign.")
    _require_may_assign(actor, reviewer)
    if role == "second" and not users.has_role(reviewer, "moderator"):
        raise PermissionDenied(f"{reviewer} has the role '{users.role_of(reviewer)}'; second reviews need a "
                               "moderator or above.")
    ids = list(dict.fromkeys(sample_item_ids))
    with write_transaction(database_proxy.obj):
        result = [_assign_one(item_id, reviewer, actor, role, due_date) for item_id in ids]
        if result:
            audit.record(actor, audit.ALTERATION, "assignment", reviewer,
                         {"sample_items": ids, "reviewer": reviewer, "role": role,
                          "due_date": due_date.isoformat() if due_date else None})
    return result


def _assign_one(item_id: int, reviewer: str, actor: str, role: str, due_date: Optional[dt.date]) -> m.Assignment:
    item = m.SampleItem.get_or_none(m.SampleItem.id == item_id)
    if item is None:
        raise QattError(f"There is no sample item {item_id}; check the number.")
    started = m.Review.get_or_none(m.Review.sample_item == item, m.Review.role == role)
    if started is not None and started.reviewer != reviewer:
        raise QattError(f"{started.reviewer} has already started the {role} review of case {item.case.reference}; "
                        "it cannot be reassigned.")
    if started is None:
        from qatt.trust import visibility

        visibility.check_independent(item.id, role, reviewer, assigning=True)  # blind to the other review
    assignment = m.Assignment.get_or_none(m.Assignment.sample_item == item, m.Assignment.role == role)
    if assignment is None:
        return m.Assignment.create(sample_item=item, reviewer=reviewer, role=role, due_date=due_date,
                                   assigned_by=actor)
    assignment.reviewer, assignment.due_date, assignment.assigned_by = reviewer, due_date, actor
    assignment.assigned_at = m.utcnow()
    assignment.save()
    return assignment


def items_to_review(sample_id: int) -> List[int]:
    """The sample's cases that need a review: active items of the main draw (reserves wait)."""
    if m.Sample.get_or_none(m.Sample.id == sample_id) is None:
        raise QattError(f"There is no sample {sample_id}; check the number.")
    query = m.SampleItem.select(m.SampleItem.id).where(browse.in_review_set(sample_id)).order_by(m.SampleItem.position)
    return [row[0] for row in query.tuples()]


def end_of_month(period: str) -> dt.date:
    year, month = _check_period(period)
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _check_period(period: str) -> tuple:
    if not _PERIOD.match(period or ""):
        raise QattError(f"The period {period!r} is not a month; write it as YYYY-MM, e.g. 2024-05.")
    year, month = period.split("-")
    return int(year), int(month)


# --------------------------------------------------------------------------- standing plans

def _validate_plan(params: Dict[str, Any]) -> Dict[str, Any]:
    kind = params.get("kind")
    if kind not in PLAN_KINDS:
        raise QattError(f"A plan's kind must be one of {', '.join(PLAN_KINDS)} (got {kind!r}).")
    count_key = "per_reviewer" if kind == "per_supervisor" else "size"
    count = params.get(count_key)
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise QattError(f"A {kind} plan needs {count_key} as a whole number of at least 1 (got {count!r}).")
    if kind == "fixed" and not str(params.get("reviewer") or "").strip():
        raise QattError("A fixed plan needs the reviewer who does the checks (reviewer: username).")
    population = params.get("population", "latest")
    if population != "latest" and not (isinstance(population, int) and not isinstance(population, bool)):
        raise QattError(f"A plan's population is 'latest' or a population number (got {population!r}).")
    role = params.get("role", "first")
    if role not in m.Review.ROLES:
        raise QattError(f"Unknown review role {role!r}; use 'first' or 'second'.")
    window = params.get("window_months", 1 if kind == "fixed" else 0)
    if not isinstance(window, int) or isinstance(window, bool) or window < 0:
        raise QattError(f"A plan's window_months is a whole number of months, 0 for the whole extract (got {window!r}).")
    known = {"kind", "per_reviewer", "size", "reviewer", "population", "form_id", "status", "area", "role",
             "exclude_months", "window_months"}
    unknown = sorted(set(params) - known)
    if unknown:
        raise QattError(f"Unknown plan setting {unknown[0]!r}; use {', '.join(sorted(known))}.")
    # A fixed plan ("the DI checks 10 records a month") draws from the cases of its own month by default.
    return {"population": "latest", "role": "first", **({"window_months": 1} if kind == "fixed" else {}), **params}


def create_plan(name: str, params: Dict[str, Any], actor: str) -> m.Plan:
    """Record a standing plan (QA lead). See docs/reviews.md for the settings."""
    users.require_role(actor, "qa_lead", "create review plans")
    name = (name or "").strip()
    if not name:
        raise QattError("Give the plan a name.")
    params = _validate_plan(dict(params))
    with write_transaction(database_proxy.obj):
        if m.Plan.get_or_none(m.Plan.name == name) is not None:
            raise QattError(f"A plan called {name!r} already exists; choose another name.")
        plan = m.Plan.create(name=name, params=params, created_by=actor)
        audit.record(actor, audit.ALTERATION, "plan", plan.id, {"name": name, "params": params})
    return plan


def list_plans() -> List[m.Plan]:
    return list(m.Plan.select().order_by(m.Plan.name))


@dataclass
class PlanRun:
    """The outcome of running a plan for a month."""

    plan: str
    period: str
    sample_id: int
    seed: str
    assigned: Dict[str, int] = field(default_factory=dict)  # reviewer -> number of cases
    unassigned: List[str] = field(default_factory=list)  # references with no supervisor recorded

    def as_dict(self) -> Dict[str, Any]:
        return asdict(self)


def _population_id(params: Dict[str, Any]) -> int:
    if params["population"] != "latest":
        if m.Population.get_or_none(m.Population.id == params["population"]) is None:
            raise QattError(f"The plan names population {params['population']}, which does not exist.")
        return params["population"]
    latest = (m.Population.select().where(m.Population.purged == False)  # noqa: E712 (SQL)
              .order_by(m.Population.imported_at.desc(), m.Population.id.desc()).first())
    if latest is None:
        raise QattError("There is no case extract to draw from; import this month's extract first.")
    return latest.id


def _sample_request(plan: m.Plan, period: str, seed: Optional[int]):
    from qatt.selection import sampling

    params = plan.params
    filters = {key: params[key] for key in ("status", "area") if params.get(key)}
    # The period is stamped on the sample after the draw: draw_sample treats a second sample of the
    # same population and month as a re-draw of the first, but each plan's monthly sample stands alone.
    date_from, date_to = plan_window(params, period)
    common = dict(population_id=_population_id(params), form_id=params.get("form_id") or "",
                  filters=filters, name=f"{plan.name} {period}", seed=seed,
                  exclude_months=params.get("exclude_months", 0), date_from=date_from, date_to=date_to)
    if params["kind"] == "per_supervisor":
        return sampling.SampleRequest(method="stratified", stratify=["supervisor"],
                                      per_stratum=params["per_reviewer"], **common)
    return sampling.SampleRequest(method="simple", size=params["size"], **common)


def plan_window(params: Dict[str, Any], period: str) -> tuple:
    """(first, last) recorded date a plan's month draws from: its month and the window_months - 1
    before it; (None, None) for window_months 0 (the whole extract)."""
    months = params.get("window_months", 0)
    if not months:
        return None, None
    year, month = _check_period(period)
    first = year * 12 + month - 1 - (months - 1)
    return dt.date(first // 12, first % 12 + 1, 1), end_of_month(period)


def _supervisor_usernames() -> Dict[str, str]:
    """Case extracts name supervisors as people do; match them to users by username or display name."""
    names: Dict[str, str] = {}
    for username, display in m.User.select(m.User.username, m.User.display_name).tuples():
        names.setdefault(display.strip().casefold(), username)
        names[username.casefold()] = username
    return names


def run_plan(plan_name: str, period: str, actor: str, seed: Optional[int] = None) -> PlanRun:
    """Draw the month's sample for a plan and assign its cases, in one transaction.

    Per-supervisor plans give each case to its own supervisor (matched to a user by username or
    display name; otherwise the name as written). A plan runs once per month."""
    from qatt.selection import sampling

    users.require_role(actor, "qa_lead", "run review plans")
    _check_period(period)
    plan = m.Plan.get_or_none(m.Plan.name == plan_name)
    if plan is None:
        raise QattError(f"There is no plan {plan_name!r}; see `plan list`.")
    if not plan.active:
        raise QattError(f"The plan {plan_name!r} is switched off.")
    sample_name = f"{plan.name} {period}"
    due = end_of_month(period)
    date_from, date_to = plan_window(plan.params, period)
    if date_from is not None:
        in_window = m.Case.select().where(m.Case.population == _population_id(plan.params),
                                          m.Case.recorded_date.between(date_from, date_to))
        if not in_window.exists():
            raise QattError(f"No case in the extract is dated {date_from:%d %B %Y} to {date_to:%d %B %Y}, the "
                            f"months the plan {plan_name!r} draws from for {period}; import that month's extract, "
                            "or give the plan a wider window (window_months).")
    with write_transaction(database_proxy.obj):
        if m.Sample.select().where(m.Sample.name == sample_name, m.Sample.period == period).exists():
            raise QattError(f"The plan {plan_name!r} has already run for {period}; see its sample {sample_name!r}.")
        drawn = sampling.draw_sample(_sample_request(plan, period, seed), actor)
        m.Sample.update(period=period).where(m.Sample.id == drawn.sample_id).execute()
        run = PlanRun(plan.name, period, drawn.sample_id, str(drawn.seed))
        by_reviewer: Dict[str, List[int]] = {}
        if plan.params["kind"] == "fixed":
            by_reviewer[plan.params["reviewer"]] = items_to_review(drawn.sample_id)
        else:
            usernames = _supervisor_usernames()
            rows = (m.SampleItem.select(m.SampleItem.id, m.Case.reference, m.Case.supervisor).join(m.Case)
                    .where(m.SampleItem.id.in_(items_to_review(drawn.sample_id))).tuples())
            for item_id, reference, supervisor in rows:
                if not supervisor.strip():
                    run.unassigned.append(reference)
                    continue
                reviewer = usernames.get(supervisor.strip().casefold(), supervisor.strip())
                by_reviewer.setdefault(reviewer, []).append(item_id)
        for reviewer, item_ids in sorted(by_reviewer.items()):
            users.ensure_user(reviewer)
            assign(item_ids, reviewer, actor, role=plan.params["role"], due_date=due)
            run.assigned[reviewer] = len(item_ids)
        audit.record(actor, audit.ALTERATION, "plan", plan.id,
                     {"run": period, "sample": drawn.sample_id, "reviewers": len(run.assigned),
                      "cases": sum(run.assigned.values()), "unassigned": len(run.unassigned)})
    return run


# --------------------------------------------------------------------------- completion

@dataclass(frozen=True)
class CompletionRow:
    reviewer: str
    period: str
    assigned: int
    in_progress: int
    submitted: int
    overdue: int

    @property
    def not_started(self) -> int:
        return self.assigned - self.in_progress - self.submitted

    def as_dict(self) -> Dict[str, Any]:
        return {**asdict(self), "not_started": self.not_started}


def completion_query(today: dt.date) -> peewee.ModelSelect:
    """Assigned reviews per reviewer and sample month, as rows of
    (reviewer, period, assigned, in progress, submitted, overdue).

    The one definition behind the `completion` command and the reports. Only active sample items
    count (a replaced case is no longer owed); a review counts for an assignment only when it is by
    the assigned reviewer in the assigned role; overdue means not submitted and due before `today`.
    The query joins SampleItem, Case and Sample, so callers can narrow it further."""
    review = m.Review
    submitted = review.status == "submitted"
    count_if = lambda condition: peewee.fn.SUM(peewee.Case(None, [(condition, 1)], 0))  # noqa: E731
    return (m.Assignment
            .select(m.Assignment.reviewer, m.Sample.period, peewee.fn.COUNT(m.Assignment.id),
                    count_if(review.status == "draft"), count_if(submitted),
                    count_if((m.Assignment.due_date < today) & (review.id.is_null(True) | ~submitted)))
            .join(m.SampleItem).join(m.Case)
            .switch(m.SampleItem).join(m.Sample)
            .switch(m.Assignment)
            .join(review, peewee.JOIN.LEFT_OUTER,
                  on=((review.sample_item == m.Assignment.sample_item) & (review.role == m.Assignment.role)
                      & (review.reviewer == m.Assignment.reviewer)))
            .where(m.SampleItem.active == True)  # noqa: E712 (SQL)
            .group_by(m.Assignment.reviewer, m.Sample.period)
            .order_by(m.Assignment.reviewer, m.Sample.period))


def completion(period: Optional[str] = None, reviewer: Optional[str] = None,
               today: Optional[dt.date] = None) -> List[CompletionRow]:
    """Per reviewer and month: cases assigned, reviews in progress, submitted and overdue
    (see completion_query; `today` defaults to today's date)."""
    if period is not None:
        _check_period(period)
    query = completion_query(today or dt.date.today())
    if period is not None:
        query = query.where(m.Sample.period == period)
    if reviewer is not None:
        query = query.where(m.Assignment.reviewer == reviewer)
    return [CompletionRow(who, month, *(int(count or 0) for count in counts))
            for who, month, *counts in query.tuples()]
