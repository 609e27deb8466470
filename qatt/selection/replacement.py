"""Replacing a sampled case by a reserve drawn with the sample, on record with why, when and by whom."""

from __future__ import annotations

from qatt.trust import audit, users
from qatt.errors import QattError
from qatt.intake.fingerprint import canonical_reference
from qatt.selection.drawing import DRAW_ROLE
from qatt.storage import models as m
from qatt.storage.db import database_proxy, is_sqlite, write_transaction


def replace_item(sample_id: int, case_reference: str, reason: str, actor: str) -> m.SampleItem:
    """Replace a sampled case by the next unused reserve of its stratum (else of any stratum).

    The replaced item stays on record, inactive; the reserve records what it replaces, why, when and
    by whom. Returns the reserve brought in (compare its stratum with the replaced one's to tell
    whether it came from another stratum)."""
    users.require_role(actor, DRAW_ROLE, "replace a sampled case")
    if not (reason or "").strip():
        raise QattError("Give the reason for replacing the case (e.g. 'wrongly categorised as domestic abuse').")
    reference = canonical_reference(case_reference)
    db = database_proxy.obj
    with write_transaction(db):
        sample_query = m.Sample.select().where(m.Sample.id == sample_id)
        if not is_sqlite(db):
            sample_query = sample_query.for_update()  # two replacements must not take the same reserve
        if sample_query.get_or_none() is None:
            raise QattError(f"There is no sample {sample_id}; list them with `samples`.")
        in_use = (m.SampleItem.is_reserve == False) | m.SampleItem.replaces.is_null(False)  # noqa: E712
        item = (m.SampleItem.select().join(m.Case)
                .where(m.SampleItem.sample == sample_id, m.Case.reference == reference,
                       m.SampleItem.active == True, in_use).first())  # noqa: E712
        if item is None:
            raise QattError(f"Case {reference} is not an active case of sample {sample_id} "
                            "(it may already have been replaced, or be an unused reserve).")
        unused = (m.SampleItem.select()
                  .where(m.SampleItem.sample == sample_id, m.SampleItem.is_reserve == True,  # noqa: E712
                         m.SampleItem.active == True, m.SampleItem.replaces.is_null(True))  # noqa: E712
                  .order_by(m.SampleItem.position))
        reserve = unused.where(m.SampleItem.stratum == item.stratum).first() or unused.first()
        if reserve is None:
            raise QattError(f"Sample {sample_id} has no unused reserve left; draw a new sample with more "
                            "reserves (--reserves) and a redraw reason.")
        item.active = False
        item.save()
        reserve.replaces = item
        reserve.replacement_reason = reason.strip()
        reserve.replaced_at = m.utcnow()
        reserve.replaced_by_user = actor
        reserve.save()
        audit.record(actor, audit.ALTERATION, "sample_item", reserve.id, {
            "operation": "replace", "sample_id": sample_id, "replaced_item_id": item.id,
            "replaced_position": item.position, "reserve_position": reserve.position,
            "same_stratum": reserve.stratum == item.stratum,
        })
    return reserve
