"""Listing recorded samples and their items, with counts, replacements and what supersedes what."""

from __future__ import annotations

from typing import Any, Dict, List, NamedTuple, Optional

import peewee

from qatt.storage import models as m
from qatt.storage.db import database_proxy


class SampleRow(NamedTuple):
    """One recorded item, for listings."""

    position: int
    reference: str
    stratum: str
    is_reserve: bool
    active: bool
    replaces_ref: str
    reason: str


def sample_items(sample_id: int) -> List[SampleRow]:
    """Every recorded item of a sample in position order, replaced and reserve items included."""
    Replaced = m.SampleItem.alias()
    ReplacedCase = m.Case.alias()
    query = (m.SampleItem.select(m.SampleItem.position, m.Case.reference, m.SampleItem.stratum, m.SampleItem.is_reserve,
                                 m.SampleItem.active, ReplacedCase.reference, m.SampleItem.replacement_reason)
             .join(m.Case, on=(m.SampleItem.case == m.Case.id))
             .switch(m.SampleItem).join(Replaced, peewee.JOIN.LEFT_OUTER, on=(m.SampleItem.replaces == Replaced.id))
             .join(ReplacedCase, peewee.JOIN.LEFT_OUTER, on=(Replaced.case == ReplacedCase.id))
             .where(m.SampleItem.sample == sample_id).order_by(m.SampleItem.position))
    return [SampleRow(pos, ref, stratum, bool(reserve), bool(active), old_ref or "", reason or "")
            for pos, ref, stratum, reserve, active, old_ref, reason in database_proxy.obj.execute_sql(*query.sql()).fetchall()]


def list_samples(population_id: Optional[int] = None) -> List[Dict[str, Any]]:
    """The recorded samples, newest first, with their counts and what supersedes what."""
    counts = {}
    count_query = (m.SampleItem.select(m.SampleItem.sample, m.SampleItem.is_reserve, m.SampleItem.active,
                                       m.SampleItem.replaces.is_null(False), peewee.fn.COUNT(m.SampleItem.id))
                   .group_by(m.SampleItem.sample, m.SampleItem.is_reserve, m.SampleItem.active,
                             m.SampleItem.replaces.is_null(False)))
    for sample_id, reserve, active, brought_in, n in database_proxy.obj.execute_sql(*count_query.sql()).fetchall():
        c = counts.setdefault(sample_id, {"cases": 0, "reserves_unused": 0, "replaced": 0})
        if not active:
            c["replaced"] += n
        elif reserve and not brought_in:
            c["reserves_unused"] += n
        else:
            c["cases"] += n
    query = m.Sample.select().order_by(m.Sample.id.desc())
    if population_id is not None:
        query = query.where(m.Sample.population == population_id)
    superseded_by = {s.supersedes_id: s.id for s in m.Sample.select(m.Sample.id, m.Sample.supersedes)
                     if s.supersedes_id is not None}
    return [{
        "sample_id": s.id, "population_id": s.population_id, "name": s.name, "period": s.period,
        "method": s.method, "seed": s.seed, "drawn_at": s.drawn_at, "drawn_by": s.drawn_by,
        **counts.get(s.id, {"cases": 0, "reserves_unused": 0, "replaced": 0}),
        "supersedes": s.supersedes_id, "superseded_by": superseded_by.get(s.id), "form_id": s.form_id,
    } for s in query]
