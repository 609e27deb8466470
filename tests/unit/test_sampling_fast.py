"""The fast paths of draw and verify (issue 15) against a straightforward reference implementation
of the documented rule, on random populations, on SQLite and PostgreSQL: the cases read as plain
rows, grouped and sorted in Python, drawn with `derive_draw`, fingerprinted with the shared
definitions. If the database-side reading, hashing or item insertion ever diverged from the rule,
these would fail."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qatt.intake.fingerprint import fingerprint_references
from qatt.selection import eligible_set, sampling, verification
from qatt.selection.sampling import DrawSpec, SampleRequest, derive_draw, draw_sample, verify_sample
from qatt.storage import models as m
from qatt.trust import users

# Canonical references as the importer stores them: stripped, no NUL (PostgreSQL text cannot hold it).
REFERENCES = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                     min_size=1, max_size=8).map(str.strip).filter(bool)
OFFICERS = st.sampled_from(["PC 1", "PC 1!", "PC é", "PC \"Q\"", "", "PC 10"])
POPULATIONS = st.lists(st.tuples(REFERENCES, OFFICERS), min_size=1, max_size=40, unique_by=lambda case: case[0])
FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
_periods = itertools.count()


def _population(cases):
    population = m.Population.create(name="random", row_count=len(cases),
                                     fingerprint=fingerprint_references(ref for ref, _ in cases))
    m.Case.insert_many([{"population": population.id, "reference": ref, "officer": officer}
                        for ref, officer in cases]).execute()
    return population


def _reference_strata(cases, stratified):
    """The eligible set as the rule states it, computed with no database help."""
    strata = {}
    for ref, officer in cases:
        strata.setdefault(sampling.stratum_key([officer]) if stratified else "", []).append(ref)
    return {key: sorted(refs) for key, refs in strata.items()}


def _period():
    n = next(_periods)
    return f"{1000 + n // 12}-{n % 12 + 1:02d}"


@FAST
@given(cases=POPULATIONS, seed=st.integers(0, 2**128), per_stratum=st.integers(1, 4), reserves=st.integers(0, 2))
def test_a_stratified_draw_records_what_the_rule_derives(db, cases, seed, per_stratum, reserves):
    users.ensure_user("lead", "qa_lead")
    population = _population(cases)
    result = draw_sample(SampleRequest(population.id, method="stratified", per_stratum=per_stratum, stratify=["officer"],
                                       reserves=reserves, seed=seed, period=_period()), "lead")
    strata = _reference_strata(cases, stratified=True)
    spec = DrawSpec("stratified", seed, per_stratum=per_stratum, stratify=("officer",), reserves=reserves)
    items, _ = derive_draw(spec, strata)
    expected = [(position, item.reference, item.stratum, item.is_reserve) for position, item in enumerate(items, 1)]
    # The recorded items joined to their cases by id: each item points at the case it names.
    assert verification._recorded_items(result.sample_id) == expected
    sample = m.Sample.get_by_id(result.sample_id)
    assert sample.eligible_fingerprint == sampling.eligible_fingerprint(strata)
    assert verify_sample(result.sample_id, "lead").verified


@FAST
@given(cases=POPULATIONS, seed=st.integers(0, 2**128), size=st.integers(1, 6))
def test_a_simple_draw_records_what_the_rule_derives(db, cases, seed, size):
    users.ensure_user("lead", "qa_lead")
    population = _population(cases)
    result = draw_sample(SampleRequest(population.id, size=size, reserves=1, seed=seed, period=_period()), "lead")
    items, _ = derive_draw(DrawSpec("simple", seed, size=size, reserves=1), _reference_strata(cases, stratified=False))
    assert verification._recorded_items(result.sample_id) == [
        (position, item.reference, item.stratum, item.is_reserve) for position, item in enumerate(items, 1)]
    assert verify_sample(result.sample_id, "lead").verified


def _orders_by_code_point(db):
    """SQLite always; PostgreSQL when the database collates by code point (the tests' database does)."""
    if db.param == "?":
        return True
    (collation,) = db.execute_sql("SELECT datcollate FROM pg_database WHERE datname = current_database()").fetchone()
    return collation.split(".")[0] in ("C", "POSIX")


@FAST
@given(cases=POPULATIONS)
def test_the_population_hashed_by_the_database_is_the_documented_fingerprint(db, cases):
    population = _population(cases)
    fast = eligible_set._indexed_population_fingerprint(population.id)
    if _orders_by_code_point(db):
        assert fast == fingerprint_references(ref for ref, _ in cases)
    # Elsewhere the fast hash may differ, and verification then recomputes by the rule.


def test_an_empty_population_hashes_like_the_rule(db):
    population = m.Population.create(name="empty", row_count=0, fingerprint=fingerprint_references([]))
    assert eligible_set._indexed_population_fingerprint(population.id) == fingerprint_references([])


def test_a_reference_stored_unstripped_is_judged_by_the_rule_not_the_fast_hash(db):
    """The database hashes references as stored; the rule strips them. A mismatch is recomputed by the
    rule, so the population still counts as unchanged (as before the fast path), while the eligible
    set, which holds references as stored, reports the edit."""
    users.ensure_user("lead", "qa_lead")
    cases = [(f"R{n}", f"PC {n % 2}") for n in range(8)]
    population = _population(cases)
    result = draw_sample(SampleRequest(population.id, size=3, seed=7), "lead")
    m.Case.update(reference=" R3 ").where(m.Case.reference == "R3").execute()
    assert eligible_set._indexed_population_fingerprint(population.id) != population.fingerprint
    check = verify_sample(result.sample_id, "lead")
    assert check.population_fingerprint_ok
    assert any("eligible set has changed" in d for d in check.differences)


def test_a_case_added_after_the_draw_is_a_population_change(db):
    users.ensure_user("lead", "qa_lead")
    population = _population([(f"R{n}", "PC 1") for n in range(8)])
    result = draw_sample(SampleRequest(population.id, size=3, seed=7), "lead")
    m.Case.create(population=population.id, reference="R9", officer="PC 1")
    check = verify_sample(result.sample_id, "lead")
    assert not check.population_fingerprint_ok and not check.verified
