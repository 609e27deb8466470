"""Samples recorded by the QATT of before the fast draw (issue 15) still verify, and the same requests
still draw exactly the same items with the same fingerprints and record digest.

pinned_samples_v1.json was written by the earlier code (git 81b35c5) over `pinned_population()`:
stratified by a Case field and an extract column (with officer names whose order as values and as
JSON keys differ), proportional with a minimum and a filter, simple with a date range, systematic."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from qatt import case_order
from qatt.selection import sampling, verification
from qatt.trust import audit, users
from qatt.intake.fingerprint import fingerprint_references
from qatt.storage import models as m

PINNED = json.loads((Path(__file__).with_name("pinned_samples_v1.json")).read_text(encoding="utf-8"))


def pinned_population():
    officers = ["PC 1", "PC 1!", "PC \"Q\"", "PCé", "PC 2"]
    cases = []
    for n in range(40):
        cases.append({"reference": f"R{(n * 37) % 101:03d}/{'ab'[n % 2]}", "officer": officers[n % 5],
                      "area": "North" if n % 3 else "South",
                      "recorded_date": dt.date(2024, 3, 1) + dt.timedelta(days=2 * n),
                      "extra": {"Beat": f"B{n % 4}" if n % 7 else ""}})
    population = m.Population.create(name="pinned", row_count=len(cases), extra_columns=["Beat"],
                                     fingerprint=fingerprint_references(c["reference"] for c in cases))
    m.Case.insert_many([{"population": population.id, **c} for c in cases]).execute()
    return population


@pytest.fixture
def population(db):
    users.ensure_user("lead", "qa_lead")
    population = pinned_population()
    assert population.id == 1  # the record digests were taken over population 1
    return population


def _record(pinned, population_id):
    """Write a sample exactly as the earlier code recorded it (row, items, draw event)."""
    ids = dict(m.Case.select(m.Case.reference, m.Case.id).where(m.Case.population == population_id).tuples())
    sample = m.Sample.create(population=population_id, method=pinned["method"], params=pinned["params"],
                             filters=pinned["filters"], exclude_months=pinned["exclude_months"],
                             excluded_references=pinned["excluded_references"], seed=pinned["seed"],
                             population_fingerprint=pinned["population_fingerprint"],
                             eligible_fingerprint=pinned["eligible_fingerprint"], algorithm=pinned["algorithm"],
                             software_version="before issue 15", drawn_by="lead", period=pinned["request"]["period"])
    for position, reference, stratum, reserve in pinned["items"]:
        m.SampleItem.create(sample=sample, case=ids[reference], position=position, stratum=stratum, is_reserve=reserve)
    audit.record("lead", audit.COLLECTION, "sample", sample.id,
                 {"operation": "draw", "record_digest": pinned["record_digest"]})
    return sample.id


@pytest.mark.parametrize("indexed", [False, True], ids=["no sort index", "sort index"])
def test_samples_recorded_by_the_earlier_code_still_verify(population, indexed):
    if indexed:  # as after a draw or a sort in the case browser built the population's indexes
        for pinned in PINNED:
            columns = case_order.stratify_columns(pinned["params"]["stratify"] or ["officer"], sampling.CASE_COLUMNS)
            assert case_order.ensure_index(population.id, columns)
            assert case_order.has_index(population.id, columns)
    for pinned in PINNED:
        check = sampling.verify_sample(_record(pinned, population.id), "lead")
        assert check.verified, (pinned["method"], check.differences)


def test_the_same_requests_draw_exactly_what_the_earlier_code_drew(population):
    for pinned in PINNED:
        request = dict(pinned["request"])
        result = sampling.draw_sample(sampling.SampleRequest(population.id, **request), "lead")
        sample = m.Sample.get_by_id(result.sample_id)
        assert [list(item) for item in verification._recorded_items(sample.id)] == pinned["items"]
        assert (sample.eligible_fingerprint, sample.population_fingerprint) == (
            pinned["eligible_fingerprint"], pinned["population_fingerprint"])
        assert verification._draw_event(sample.id).details["record_digest"] == pinned["record_digest"]


def test_a_pinned_sample_no_longer_verifies_once_a_case_changes_stratum(population):
    sample_id = _record(PINNED[0], population.id)
    moved = next(ref for _, ref, stratum, _ in PINNED[0]["items"] if stratum.startswith('["PC 1"'))
    m.Case.update(officer="PC 2").where(m.Case.reference == moved).execute()
    check = sampling.verify_sample(sample_id, "lead")
    assert not check.verified
    assert any("eligible set has changed" in d for d in check.differences)
