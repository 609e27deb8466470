"""Actions to closure: an action raised from a review is started, done (with a note of what was
done) and verified by a supervisor or above who neither marked it done nor owns or owned it; it can
be reassigned (until it is done), extended with a reason and cancelled with a reason. Every change
is one transaction with its audit event.

"Supervisor or above" is the moderator role or higher (users.RANK). Overdue is worked out from the
due date and the status, never stored: an open or in-progress action past its due date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

from qatt.trust import audit, users, visibility
from qatt.dates import iso_date
from qatt.errors import PermissionDenied, QattError
from qatt.storage import models as m
from qatt.storage.db import database_proxy, write_transaction

OPEN, IN_PROGRESS, DONE, VERIFIED, CANCELLED = m.Action.STATUSES
LIVE = (OPEN, IN_PROGRESS)  # still to be done: these can be overdue
CLOSED = (VERIFIED, CANCELLED)
SUPERVISOR = "moderator"  # the lowest role that may verify, cancel or reopen an action

# status -> statuses it may move to (reassign and extend keep the status)
TRANSITIONS: Dict[str, Sequence[str]] = {
    OPEN: (IN_PROGRESS, DONE, CANCELLED),
    IN_PROGRESS: (DONE, CANCELLED),
    DONE: (VERIFIED, IN_PROGRESS, CANCELLED),  # back to in progress when the check finds it not done
    VERIFIED: (),
    CANCELLED: (),
}
STATUS_LABELS = {OPEN: "Open", IN_PROGRESS: "In progress", DONE: "Done, awaiting verification",
                 VERIFIED: "Verified", CANCELLED: "Cancelled"}


def is_overdue(status: str, due_date: Optional[dt.date], today: dt.date) -> bool:
    return status in LIVE and due_date is not None and due_date < today


def days_overdue(status: str, due_date: Optional[dt.date], today: dt.date) -> int:
    return (today - due_date).days if is_overdue(status, due_date, today) and due_date else 0


@dataclass
class ActionView:
    """One action as the Actions page and `action list` show it."""

    id: int
    review_id: int
    case_reference: str
    area: str
    team: str
    text: str
    owner: str
    due_date: Optional[dt.date]
    status: str
    note: str
    verified_by: str
    verified_at: Optional[dt.datetime]
    created_at: dt.datetime
    days_overdue: int

    @property
    def overdue(self) -> bool:
        return self.days_overdue > 0

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    def as_dict(self) -> Dict[str, Any]:
        return {"id": self.id, "review_id": self.review_id, "case_reference": self.case_reference,
                "area": self.area, "team": self.team, "text": self.text, "owner": self.owner,
                "due_date": self.due_date.isoformat() if self.due_date else None, "status": self.status,
                "status_label": self.status_label, "note": self.note, "verified_by": self.verified_by,
                "verified_at": self.verified_at.isoformat() if self.verified_at else None,
                "overdue": self.overdue, "days_overdue": self.days_overdue}


def list_actions(*, statuses: Sequence[str] = (), owner: str = "", team: str = "", overdue: bool = False,
                 today: Optional[dt.date] = None, viewer: Optional[str] = None) -> List[ActionView]:
    """Actions, overdue first (most overdue first), then by due date; filtered by status, owner,
    the case's team, and overdue only. With `viewer`, a reviewer sees only the actions they own or
    raised (an action can hint at another's review); a supervisor (moderator) or above sees all."""
    today = today or dt.date.today()
    for status in statuses:
        _check_status(status)
    query = (m.Action.select(m.Action.id, m.Review.id, m.Case.reference, m.Case.area, m.Case.team, m.Action.text,
                             m.Action.owner, m.Action.due_date, m.Action.status, m.Action.note,
                             m.Action.verified_by, m.Action.verified_at, m.Action.created_at)
             .join(m.Review).join(m.SampleItem).join(m.Case))
    if statuses:
        query = query.where(m.Action.status.in_(list(statuses)))
    if owner:
        query = query.where(m.Action.owner == owner)
    if team:
        query = query.where(m.Case.team == team)
    if overdue:
        query = query.where(m.Action.status.in_(list(LIVE)) & (m.Action.due_date < today))
    if viewer is not None:
        # The action's owner always sees it; anyone else as they may see the review it came from
        # (qatt.trust.visibility: a reviewer their own, a supervisor others' unless blind to that case).
        query = query.where((m.Action.owner == viewer) | visibility.review_filter(viewer))
    rows = [ActionView(*row, days_overdue=days_overdue(row[8], row[7], today)) for row in query.tuples()]
    return sorted(rows, key=lambda a: (-a.days_overdue, a.status in CLOSED, a.due_date or dt.date.max, a.id))


def get_action(action_id: int, today: Optional[dt.date] = None, viewer: Optional[str] = None) -> ActionView:
    found = [a for a in list_actions(today=today, viewer=viewer) if a.id == action_id]
    if not found:
        raise QattError(f"There is no action {action_id}; check the number (`action list` shows them).")
    return found[0]


def history(action_id: int) -> List[Dict[str, Any]]:
    """The audited changes of one action, oldest first: when, who, and what changed."""
    events = (m.AuditEvent.select().where((m.AuditEvent.object_type == "action")
                                          & (m.AuditEvent.object_id == str(action_id)))
              .order_by(m.AuditEvent.id))
    return [{"at": e.at, "actor": e.actor, **(e.details or {})} for e in events]


# --------------------------------------------------------------------------- changes

def _check_status(status: str) -> None:
    if status not in m.Action.STATUSES:
        raise QattError(f"Unknown action status {status!r}; use one of {', '.join(m.Action.STATUSES)}.")


def _load(action_id: int) -> m.Action:
    action = m.Action.get_or_none(m.Action.id == action_id)
    if action is None:
        raise QattError(f"There is no action {action_id}; check the number (`action list` shows them).")
    return action


def _may_work_on(action: m.Action, actor: str, doing: str) -> None:
    """The owner, the reviewer who raised it, or a supervisor or above who may see its review."""
    if actor in (action.owner, action.review.reviewer):
        return
    users.require_role(actor, SUPERVISOR, f"{doing} (action {action.id} belongs to {action.owner or 'nobody'})")
    visibility.check(action.review, actor)


def _save(action: m.Action, actor: str, changed: Dict[str, Dict[str, Any]], **why: str) -> m.Action:
    action.save()
    details: Dict[str, Any] = {"review": action.review_id, "fields": changed}
    details.update({k: v for k, v in why.items() if v})
    audit.record(actor, audit.ALTERATION, "action", action.id, details)
    return action


def _set(action: m.Action, changed: Dict[str, Dict[str, Any]], name: str, value: Any) -> None:
    old = getattr(action, name)
    if old != value:
        changed[name] = {"old": old, "new": value}
        setattr(action, name, value)


def _same_person(name: str, logins: Sequence[str]) -> bool:
    """An owner is free text: it names the actor when it is their login or their display name, written
    the same way (case and spacing aside). Any other wording ("PS Yarrow") cannot be matched to a login."""
    wanted = " ".join((name or "").split()).casefold()
    return bool(wanted) and wanted in {" ".join(x.split()).casefold() for x in logins if x}


def _hand_in_it(action: m.Action, actor: str) -> str:
    """Why `actor` may not verify `action`, or "" when they may: they marked it done (now or at an
    earlier round, from its audited history), they own it, or they owned it before."""
    user = m.User.get_or_none(m.User.username == actor)
    me = [actor] + ([user.display_name] if user is not None and user.display_name else [])
    owners: List[str] = []
    for event in history(action.id):
        fields = event.get("fields") or {}
        if (fields.get("status") or {}).get("new") == DONE and event.get("actor") == actor:
            return "they marked it done"
        owner_change = fields.get("owner") or {}
        owners += [o for o in (owner_change.get("old"), owner_change.get("new")) if isinstance(o, str) and o]
    if _same_person(action.owner, me):
        return f"they own it (owner: {action.owner})"
    earlier = [o for o in owners if _same_person(o, me)]
    if earlier:
        return f"they owned it before (owner then: {earlier[0]})"
    return ""


def set_status(action_id: int, actor: str, status: str, note: str = "") -> m.Action:
    """Move an action on: in progress; done (needs a note of what was done); verified (once it is done,
    by a supervisor or above who did not mark it done and is not, and never was, its owner); back to
    in progress from done (needs a note of what is still missing); cancelled (use `cancel`, which
    needs a reason)."""
    _check_status(status)
    note = (note or "").strip()
    with write_transaction(database_proxy.obj):
        action = _load(action_id)
        if status == action.status:
            raise QattError(f"Action {action.id} is already {STATUS_LABELS[status].lower()}; nothing was changed.")
        if status not in TRANSITIONS[action.status]:
            allowed = ", ".join(STATUS_LABELS[s].lower() for s in TRANSITIONS[action.status]) or "nothing (it is closed)"
            raise QattError(f"Action {action.id} is {STATUS_LABELS[action.status].lower()}; it can move to {allowed}.")
        changed: Dict[str, Dict[str, Any]] = {}
        if status == CANCELLED:
            if not note:
                raise QattError(f"Give the reason for cancelling action {action.id}.")
            users.require_role(actor, SUPERVISOR, "cancel an action")
        elif status == VERIFIED:
            users.require_role(actor, SUPERVISOR, "verify an action")
            reason = _hand_in_it(action, actor)
            if reason:
                raise PermissionDenied(f"{actor} cannot verify action {action.id}: {reason}. The check must be "
                                       "independent: someone else (a supervisor or above) must verify it.")
            _set(action, changed, "verified_by", actor)
            _set(action, changed, "verified_at", m.utcnow().replace(microsecond=0))
        elif status == DONE:
            _may_work_on(action, actor, "mark it done")
            if not note:
                raise QattError(f"Say what was done before marking action {action.id} done.")
            _set(action, changed, "note", note)
            _set(action, changed, "done_at", m.utcnow().replace(microsecond=0))
        elif status == IN_PROGRESS and action.status == DONE:
            users.require_role(actor, SUPERVISOR, "send a done action back")
            if not note:
                raise QattError(f"Say what is still missing before sending action {action.id} back.")
        else:
            _may_work_on(action, actor, "change its status")
        _set(action, changed, "status", status)
        return _save(action, actor, changed, note=note if status != DONE else "")


def mark_done(action_id: int, actor: str, note: str) -> m.Action:
    return set_status(action_id, actor, DONE, note)


def verify(action_id: int, actor: str, note: str = "") -> m.Action:
    return set_status(action_id, actor, VERIFIED, note)


def cancel(action_id: int, actor: str, reason: str) -> m.Action:
    return set_status(action_id, actor, CANCELLED, reason)


def reassign(action_id: int, actor: str, owner: str, reason: str = "") -> m.Action:
    """Give an open or in-progress action to someone else (the reviewer who raised it, or a supervisor
    or above). A done action is sent back first: the owner is part of who may verify it."""
    owner = (owner or "").strip()
    if not owner:
        raise QattError("Name the new owner of the action.")
    with write_transaction(database_proxy.obj):
        action = _load(action_id)
        if action.status in CLOSED:
            raise QattError(f"Action {action.id} is {STATUS_LABELS.get(action.status, action.status).lower()}; "
                             "a closed action cannot be reassigned.")
        if action.status == DONE:
            # A new owner after the work is done would only change who may verify it, not who did it.
            raise QattError(f"Action {action.id} is done, awaiting verification; a done action cannot be "
                            "reassigned. Send it back to in progress first (a supervisor or above, saying what "
                            "is still missing), then reassign it.")
        if actor != action.review.reviewer:
            users.require_role(actor, SUPERVISOR, "reassign an action")
        changed: Dict[str, Dict[str, Any]] = {}
        _set(action, changed, "owner", owner)
        if not changed:
            raise QattError(f"Action {action.id} already belongs to {owner}; nothing was changed.")
        return _save(action, actor, changed, reason=(reason or "").strip())


def extend(action_id: int, actor: str, due_date: Any, reason: str) -> m.Action:
    """Move the due date, with the reason for it."""
    new_due = iso_date(due_date, "The new due date")
    if new_due is None:
        raise QattError("Give the new due date (YYYY-MM-DD).")
    if not (reason or "").strip():
        raise QattError("Give the reason for extending the action.")
    with write_transaction(database_proxy.obj):
        action = _load(action_id)
        if action.status in CLOSED or action.status == DONE:
            raise QattError(f"Action {action.id} is {STATUS_LABELS.get(action.status, action.status).lower()}; "
                             "only an open or in-progress action can be extended.")
        if actor != action.review.reviewer:
            users.require_role(actor, SUPERVISOR, "extend an action")
        changed: Dict[str, Dict[str, Any]] = {}
        _set(action, changed, "due_date", new_due)
        if not changed:
            raise QattError(f"Action {action.id} is already due on {new_due.isoformat()}; nothing was changed.")
        return _save(action, actor, changed, reason=reason.strip())


# --------------------------------------------------------------------------- figures for reports

@dataclass
class ActionSummary:
    """How many actions are in each state, and how many are overdue (for reports and the page)."""

    by_status: Dict[str, int]
    overdue: int
    oldest_overdue_days: int

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    def as_dict(self) -> Dict[str, Any]:
        return {"by_status": dict(self.by_status), "overdue": self.overdue, "total": self.total,
                "oldest_overdue_days": self.oldest_overdue_days}


def owners_and_teams() -> "tuple[List[str], List[str]]":
    """The owners and the case teams that actions have, for the page's filters."""
    owners = sorted({o for (o,) in m.Action.select(m.Action.owner).distinct().tuples() if o})
    teams = sorted({t for (t,) in m.Action.select(m.Case.team).join(m.Review).join(m.SampleItem).join(m.Case)
                    .distinct().tuples() if t})
    return owners, teams


def summary(rows: Sequence[ActionView]) -> ActionSummary:
    counts = {status: 0 for status in m.Action.STATUSES}
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    overdue = [r.days_overdue for r in rows if r.overdue]
    return ActionSummary(counts, len(overdue), max(overdue, default=0))
