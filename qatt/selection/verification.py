"""Verifying a recorded sample: re-derive it from its record and the population as it is now, and
report every difference.

The record is checked three ways: the population and eligible-set fingerprints, the re-derived
items against the recorded ones, and the record against the digest its draw's audit event holds.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import List, Optional, Tuple

from qatt.trust import audit, users
from qatt.dates import iso_date
from qatt.errors import QattError
from qatt.intake.fingerprint import fingerprint_references
from qatt.selection.drawing import _record_digest, _without_cycle_collector
from qatt.selection.eligible_set import _indexed_population_fingerprint, _population_fingerprint, _read_strata, _without
from qatt.selection.sampling_rule import ALGORITHM, DrawSpec, derive_draw, eligible_fingerprint
from qatt.storage import models as m
from qatt.storage.db import database_proxy

# How many items of one kind a verification report lists before summarising the rest.
REPORT_LIMIT = 20


@dataclass
class Verification:
    sample_id: int
    verified: bool
    differences: List[str]
    population_fingerprint_ok: bool
    replacements: List[str]


def _spec_from_sample(sample: m.Sample) -> DrawSpec:
    params = sample.params or {}
    return DrawSpec(method=sample.method, seed=int(sample.seed), size=params.get("size"),
                    per_stratum=params.get("per_stratum"), proportional=params.get("proportional"),
                    min_per_stratum=params.get("min_per_stratum") or 0, stratify=tuple(params.get("stratify") or ()),
                    reserves=params.get("reserves") or 0)


def _limited(lines: List[str]) -> List[str]:
    if len(lines) <= REPORT_LIMIT:
        return lines
    return lines[:REPORT_LIMIT] + [f"... and {len(lines) - REPORT_LIMIT} more like these"]


def _recorded_items(sample_id: int) -> List[Tuple[int, str, str, bool]]:
    query = (m.SampleItem.select(m.SampleItem.position, m.Case.reference, m.SampleItem.stratum, m.SampleItem.is_reserve)
             .join(m.Case, on=(m.SampleItem.case == m.Case.id))
             .where(m.SampleItem.sample == sample_id).order_by(m.SampleItem.position))
    return [(pos, ref, stratum, bool(reserve))
            for pos, ref, stratum, reserve in database_proxy.obj.execute_sql(*query.sql()).fetchall()]


def _compare_items(expected: List[Tuple[int, str, str, bool]], recorded: List[Tuple[int, str, str, bool]]) -> List[str]:
    differences: List[str] = []
    expected_at = {ref: (pos, stratum, reserve) for pos, ref, stratum, reserve in expected}
    recorded_at = {ref: (pos, stratum, reserve) for pos, ref, stratum, reserve in recorded}
    missing = [f"missing from the record: {ref} (re-derived at position {expected_at[ref][0]})"
               for _, ref, _, _ in expected if ref not in recorded_at]
    extra = [f"recorded but not in the re-derived draw: {ref} (position {recorded_at[ref][0]})"
             for _, ref, _, _ in recorded if ref not in expected_at]
    moved, relabelled = [], []
    for ref, (pos, stratum, reserve) in recorded_at.items():
        if ref not in expected_at:
            continue
        want_pos, want_stratum, want_reserve = expected_at[ref]
        if pos != want_pos:
            moved.append(f"reordered: {ref} is recorded at position {pos}, re-derived at {want_pos}")
        if stratum != want_stratum or reserve != want_reserve:
            relabelled.append(f"{ref} is recorded as {'reserve' if reserve else 'sampled'} in stratum {stratum or '-'}, "
                              f"re-derived as {'reserve' if want_reserve else 'sampled'} in stratum {want_stratum or '-'}")
    for group in (missing, extra, sorted(moved), sorted(relabelled)):
        differences.extend(_limited(group))
    return differences


def _draw_event(sample_id: int) -> Optional[m.AuditEvent]:
    return (m.AuditEvent.select()
            .where(m.AuditEvent.object_type == "sample", m.AuditEvent.object_id == str(sample_id),
                   m.AuditEvent.action == audit.COLLECTION)
            .order_by(m.AuditEvent.id).first())


def _replacements(sample_id: int) -> List[str]:
    Replaced = m.SampleItem.alias()
    ReplacedCase = m.Case.alias()
    query = (m.SampleItem.select(m.SampleItem.position, m.Case.reference, Replaced.position, ReplacedCase.reference,
                                 m.SampleItem.replaced_at, m.SampleItem.replaced_by_user, m.SampleItem.replacement_reason)
             .join(m.Case, on=(m.SampleItem.case == m.Case.id))
             .switch(m.SampleItem).join(Replaced, on=(m.SampleItem.replaces == Replaced.id))
             .join(ReplacedCase, on=(Replaced.case == ReplacedCase.id))
             .where(m.SampleItem.sample == sample_id, m.SampleItem.replaces.is_null(False))
             .order_by(m.SampleItem.replaced_at, m.SampleItem.position))
    return [f"{old_ref} (position {old_pos}) replaced by reserve {ref} (position {pos}) on "
            f"{m.SampleItem.replaced_at.python_value(at):%Y-%m-%d} by {who}: {why}"
            for pos, ref, old_pos, old_ref, at, who, why in database_proxy.obj.execute_sql(*query.sql()).fetchall()]


@_without_cycle_collector
def verify_sample(sample_id: int, actor: Optional[str] = None) -> Verification:
    """Re-derive the sample from its record and the population as it is now, and compare.

    Only the original draw (main and reserves) is re-derived; replacements are listed, not counted
    as differences."""
    sample = m.Sample.get_or_none(m.Sample.id == sample_id)
    if sample is None:
        raise QattError(f"There is no sample {sample_id}; list them with `samples`.")
    differences: List[str] = []
    if sample.algorithm != ALGORITHM:
        raise QattError(f"Sample {sample_id} was drawn with {sample.algorithm!r}; this version of QATT verifies "
                        f"{ALGORITHM} only. Verify it with the QATT version that drew it ({sample.software_version}).")
    if not re.fullmatch(r"\d+", sample.seed or ""):
        differences.append(f"the recorded seed {sample.seed!r} is not a whole number, so nothing can be re-derived")
        spec = None
    else:
        spec = _spec_from_sample(sample)
    params = sample.params or {}
    filters = sample.filters or {}
    excluded = list(sample.excluded_references or [])
    stratify = spec.stratify if spec else ()
    everything = _read_strata(sample.population_id, stratify, filters, iso_date(params.get("date_from"), "date_from"),
                              iso_date(params.get("date_to"), "date_to"), params.get("date_precision") or "")
    population_now = _indexed_population_fingerprint(sample.population_id)
    if population_now != sample.population_fingerprint:
        # Not the recorded one: recomputed by the rule itself before a difference is reported.
        # Without filters every case of the population was just read: no need to read them again.
        unfiltered = not filters and not params.get("date_from") and not params.get("date_to")
        population_now = (fingerprint_references(itertools.chain.from_iterable(everything.values())) if unfiltered
                          else _population_fingerprint(sample.population_id))
    strata = _without(everything, excluded)
    if sample.method != "stratified":
        strata = {"": strata.get("", [])}
    population_ok = population_now == sample.population_fingerprint
    if not population_ok:
        differences.append("the population has changed since the draw (cases added, removed or re-referenced): "
                           f"fingerprint now {population_now[:16]}..., recorded {sample.population_fingerprint[:16]}...")
    if eligible_fingerprint(strata) != sample.eligible_fingerprint:
        differences.append("the eligible set has changed since the draw (a case was added, removed or edited in "
                           "a filter or stratification column)")
    recorded = _recorded_items(sample.id)
    if spec is not None:
        items, _ = derive_draw(spec, strata)
        expected = [(pos, item.reference, item.stratum, item.is_reserve) for pos, item in enumerate(items, start=1)]
        differences.extend(_compare_items(expected, recorded))
    event = _draw_event(sample.id)
    stored = {"population_id": sample.population_id, "method": sample.method, "params": params, "filters": filters,
              "exclude_months": sample.exclude_months, "excluded_references": excluded, "seed": sample.seed,
              "population_fingerprint": sample.population_fingerprint,
              "eligible_fingerprint": sample.eligible_fingerprint, "algorithm": sample.algorithm}
    if event is None:
        differences.append(f"the audit log holds no draw event for sample {sample.id}")
    elif (event.details or {}).get("record_digest") != _record_digest(stored, recorded):
        differences.append(f"the sample record (seed, parameters or items) no longer matches what audit event "
                           f"{event.id} recorded at the draw: it was altered afterwards")
    result = Verification(sample.id, not differences, differences, population_ok, _replacements(sample.id))
    audit.record(actor or users.current_username(), audit.CONSULTATION, "sample", sample.id,
                 {"operation": "verify", "verified": result.verified, "differences": len(differences)})
    return result
