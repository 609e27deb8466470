"""What a person may see of a review: the one place that decides it (the blind rule and roles).

Every page, command, export and listing that shows a review's grade, answers or texts asks here:
- a reviewer sees their own reviews, and nobody else's;
- a moderator or above sees other people's reviews, except the blind rule: while they hold (or are
  assigned) one review of a case and have not submitted it, they see no other review of that case,
  in any output, aggregate or not.

`review_filter(actor)` is the same decision as a SQL condition, for reports and listings that read
many reviews at once; `check(review, actor)` decides for one review and says why not.
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
    """'' when `actor` may see the review, otherwise why not (a message that says what to do)."""
    if review.reviewer == actor:
        return ""
    if is_blinded(actor, review.sample_item_id):
        reference = review.sample_item.case.reference
        return (f"You hold the other review of case {reference}; submit yours before you can see this one "
                "(blind second review).")
    if not users.has_role(actor, SEE_OTHERS):
        return (f"{actor} has the role '{users.role_of(actor)}'; only a moderator or above may see "
                f"{review.reviewer}'s review.")
    return ""


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
