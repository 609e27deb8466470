"""What a person may see of a review: the one place that decides it (the blind rule and roles).

Every page, command, export and listing that shows a review's grade, answers or texts asks here:
- a reviewer sees their own reviews, and nobody else's;
- a moderator or above sees other people's reviews, except the blind rule: while they hold (or are
  assigned) one review of a case and have not submitted it, they see no other review of that case,
  in any output, aggregate or not.

`review_filter(actor)` is the same decision as a SQL condition, for reports and listings that read
many reviews at once; `check(review, actor)` decides for one review and says why not.

The blind rule also looks backwards: `how_seen(review, actor)` reads the audit log for what already
showed `actor` a review (opening it, comparing it, an export or audit-log export that held it), and
`check_independent` refuses to let them start (or be assigned) the other review of that case, because
it would no longer be blind (docs/audit.md, "Having seen the other review").
"""

from __future__ import annotations

from typing import Iterable, Optional, Set

import peewee

from qatt.trust import users
from qatt.errors import PermissionDenied
from qatt.storage import models as m

SUBMITTED = "submitted"
SEE_OTHERS = "moderator"  # the lowest role that may see other people's reviews


def blinded_items(actor: str) -> peewee.ModelSelect:
    """Sample items (a subquery of ids) on which `actor` is blind to the other reviews: they hold a
    review there that is not submitted, or are assigned one they have not submitted."""
    held = m.Review.select(m.Review.sample_item).where((m.Review.reviewer == actor) & (m.Review.status != SUBMITTED))
    own_submitted = m.Review.alias()
    assigned = (m.Assignment.select(m.Assignment.sample_item)
                .join(own_submitted, peewee.JOIN.LEFT_OUTER,
                      on=((own_submitted.sample_item == m.Assignment.sample_item)
                          & (own_submitted.role == m.Assignment.role)
                          & (own_submitted.reviewer == actor) & (own_submitted.status == SUBMITTED)))
                .where((m.Assignment.reviewer == actor) & own_submitted.id.is_null()))
    return held | assigned


def is_blinded(actor: str, sample_item_id: int) -> bool:
    """True while `actor` must not see other reviews of this sampled case."""
    return (m.SampleItem.select().where((m.SampleItem.id == sample_item_id)
                                        & m.SampleItem.id.in_(blinded_items(actor))).exists())


def review_filter(actor: str, review: Optional[type] = None, item_column: Optional[peewee.Field] = None
                  ) -> peewee.Expression:
    """A SQL condition true for the reviews `actor` may see. `review` is the Review model (or an alias)
    in the query; `item_column` the column holding its sample item (default review.sample_item)."""
    review = review or m.Review
    item_column = item_column if item_column is not None else review.sample_item
    own = review.reviewer == actor
    if not users.has_role(actor, SEE_OTHERS):
        return own
    return own | item_column.not_in(blinded_items(actor))


def reason_hidden(review: m.Review, actor: str) -> str:
    """'' when `actor` may see the review, otherwise why not (a message that says what to do).

    The message never names the review's reviewer, role or case content: someone who may not see a
    review learns only that they may not."""
    if review.reviewer == actor:
        return ""
    if is_blinded(actor, review.sample_item_id):
        reference = review.sample_item.case.reference
        return (f"You hold the other review of case {reference}; submit yours before you can see this one "
                "(blind second review).")
    if not users.has_role(actor, SEE_OTHERS):
        return (f"{actor} has the role '{users.role_of(actor)}'; only a moderator or above may see other "
                f"people's reviews (review {review.id} is not yours).")
    return ""


def reviewer_named(review: m.Review, actor: str) -> str:
    """Who wrote the review, as a message to `actor` may name them: their username if `actor` may see the
    review, otherwise "another reviewer" (an error must not tell someone whose review they may not see)."""
    return review.reviewer if not reason_hidden(review, actor) else "another reviewer"


def check(review: m.Review, actor: str) -> None:
    """Raise PermissionDenied unless `actor` may see the review."""
    why = reason_hidden(review, actor)
    if why:
        raise PermissionDenied(why)


def visible_ids(actor: str, review_ids: Iterable[int]) -> Set[int]:
    """Those of `review_ids` that `actor` may see."""
    ids = sorted({i for i in review_ids if i is not None})
    if not ids:
        return set()
    query = m.Review.select(m.Review.id).where(m.Review.id.in_(ids) & review_filter(actor))
    return {i for (i,) in query.tuples()}


def hidden_review_ids(actor: str) -> Set[int]:
    """Every review `actor` may not see (for redacting the audit log they export)."""
    query = m.Review.select(m.Review.id).where(~review_filter(actor))
    return {i for (i,) in query.tuples()}


# --------------------------------------------------------------------------- having seen a review before

# Reports whose disclosure events written before the exports listed their reviews ("reviews" in the
# details) cannot say which reviews they held: any such export made after a review was started is
# taken to have shown it (the conservative reading, docs/audit.md).
_LISTING_REPORTS = ("workbook", "monthly", "pack")


def how_seen(review: m.Review, actor: str) -> str:
    """'' unless the audit log shows (or cannot rule out) that `actor` has seen `review`; otherwise how,
    worded to follow "you ...": "wrote it", "opened it on 3 May 2024", "exported it in qa.xlsx on ...".

    Counted: writing it; a consultation of it (`review show`, the desktop's Review page, the moderation
    view); any consultation or export whose details list it under "reviews" (exports and listings
    record the reviews they held); a feedback sheet of it; an audit-log export that did not withhold
    its events. Exports recorded before they listed their reviews, and audit-log exports recorded
    before they listed what they withheld, count whenever they were made after the review was started."""
    from qatt.trust import audit

    if review.reviewer == actor:
        return "wrote it"
    ev = m.AuditEvent
    rid = str(review.id)
    query = (ev.select().where((ev.actor == actor) & (ev.at >= review.created_at)
                               & ev.action.in_([audit.CONSULTATION, audit.DISCLOSURE]))
             .order_by(ev.id))
    for event in query:
        details = event.details if isinstance(event.details, dict) else {}
        when = f"{event.at.day} {event.at:%B %Y}"
        listed = details.get("reviews")
        if event.object_type == "review" and event.object_id == rid and event.action == audit.CONSULTATION:
            return f"opened it on {when}"
        if isinstance(listed, list) and review.id in listed:
            shown_in = details.get("file") or details.get("view") or event.object_type
            return f"{'exported it in' if event.action == audit.DISCLOSURE else 'saw it in'} {shown_in} on {when}"
        if event.object_type == "export" and listed is None:
            rows = details.get("rows") if isinstance(details.get("rows"), dict) else {}
            if rows.get("review_id") == review.id or details.get("report") in _LISTING_REPORTS:
                return f"may have seen it in the export {details.get('file') or event.object_id} on {when}"
        if event.object_type == "audit_log" and _audit_export_showed(event, details, review):
            return f"may have seen its audit events in the audit-log export {details.get('file', '')} on {when}"
    return ""


def _audit_export_showed(event: m.AuditEvent, details: dict, review: m.Review) -> bool:
    """Whether an audit-log export (its disclosure `event`) held events about `review` unwithheld."""
    import datetime as dt

    withheld = details.get("withheld_reviews")
    if isinstance(withheld, list) and review.id in withheld:
        return False
    ev = m.AuditEvent
    action_ids = [str(i) for (i,) in m.Action.select(m.Action.id).where(m.Action.review == review).tuples()]
    about = (((ev.object_type == "review") | (ev.object_type == "feedback_acknowledgement"))
             & (ev.object_id == str(review.id)))
    if action_ids:
        about = about | ((ev.object_type == "action") & ev.object_id.in_(action_ids))
    query = ev.select().where(about & (ev.id < event.id))
    try:
        start = dt.date.fromisoformat(details.get("from") or "") if details.get("from") else None
        end = dt.date.fromisoformat(details.get("to") or "") if details.get("to") else None
    except ValueError:  # an unreadable range: assume the whole log
        start = end = None
    if start:
        query = query.where(ev.at >= dt.datetime.combine(start, dt.time.min))
    if end:
        query = query.where(ev.at < dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min))
    return query.exists()


def check_independent(sample_item_id: int, role: str, person: str, *, assigning: bool = False) -> None:
    """Raise PermissionDenied if `person` has seen (how_seen) another role's review of this sampled case:
    their review in `role` would not be blind to it. `assigning` words the message for whoever assigns."""
    others = m.Review.select().where((m.Review.sample_item == sample_item_id) & (m.Review.role != role))
    for other in others:
        how = how_seen(other, person)
        if not how:
            continue
        reference = other.sample_item.case.reference
        who = "another moderator" if role == "second" else "another reviewer"
        if assigning:
            raise PermissionDenied(
                f"{person} cannot be given the {role} review of case {reference}: they have already seen its "
                f"{other.role} review (they {how}), so their review would not be blind to it. Assign it to {who}.")
        raise PermissionDenied(
            f"You cannot carry out the {role} review of case {reference}: you have already seen its {other.role} "
            f"review (you {how}), so yours would not be blind to it. Ask a QA lead to give it to {who}.")
