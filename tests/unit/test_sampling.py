"""Sampling: re-derivable draws, strata, filters, exclusions, reserves, replacement, verification, redraws."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import threading

import pytest

from qatt.selection import drawing, eligible_set, sampling
from qatt.trust import users
from qatt.errors import Cancelled, PermissionDenied, QattError
from qatt.intake.fingerprint import fingerprint_references
from qatt.progress import CancelToken
from qatt.selection.sampling import SampleRequest, draw_sample, replace_item, verify_sample
from qatt.storage import models as m

LEAD = "lead"
MODERATOR = "mod"


def make_population(cases, name="extract", extra_columns=None):
    """A population from case dicts (reference plus any Case fields / 'extra'), as the importer leaves it."""
    population = m.Population.create(name=name, row_count=len(cases), extra_columns=extra_columns,
                                     fingerprint=fingerprint_references(c["reference"] for c in cases))
    m.Case.insert_many([{"population": population.id, **c} for c in cases]).execute()
    return population


def officers_population(officers=4, per_officer=10, name="extract", prefix="C"):
    cases = [{"reference": f"{prefix}{o:02d}-{i:03d}", "officer": f"PC {o}", "area": "North" if o % 2 else "South",
              "team": f"T{o % 3}", "recorded_date": dt.date(2024, 3, 1) + dt.timedelta(days=i)}
             for o in range(officers) for i in range(per_officer)]
    return make_population(cases, name=name)


@pytest.fixture
def roles(db):
    users.ensure_user(LEAD, "qa_lead")
    users.ensure_user(MODERATOR, "moderator")
    users.ensure_user("rev", "reviewer")
    return db


def population_refs(population):
    return sorted(r for (r,) in m.Case.select(m.Case.reference).where(m.Case.population == population).tuples())


# ---- reproducibility and the documented algorithm ----------------------------------------------

def test_simple_draw_is_python_random_sample_over_sorted_references(roles):
    population = officers_population()
    result = draw_sample(SampleRequest(population.id, size=7, seed=12345), LEAD)
    assert result.references == random.Random(12345).sample(population_refs(population), 7)
    assert result.seed == "12345"


def test_same_seed_gives_the_same_sample_and_different_seeds_differ(roles):
    population = officers_population()
    first = draw_sample(SampleRequest(population.id, size=8, seed=99, period="2024-03"), LEAD)
    again = draw_sample(SampleRequest(population.id, size=8, seed=99, period="2024-03", redraw_reason="check"), LEAD)
    other = draw_sample(SampleRequest(population.id, size=8, seed=100, period="2024-04"), LEAD)
    assert again.references == first.references
    assert other.references != first.references


def test_seed_is_generated_securely_and_recorded_with_the_draw(roles, monkeypatch):
    monkeypatch.setattr(drawing.secrets, "randbits", lambda bits: 2 ** bits - 3)
    population = officers_population()
    result = draw_sample(SampleRequest(population.id, size=3), LEAD)
    sample = m.Sample.get_by_id(result.sample_id)
    assert sample.seed == result.seed == str(2 ** 128 - 3)
    assert sample.algorithm == sampling.ALGORITHM and sample.software_version
    assert sample.population_fingerprint == population.fingerprint
    assert len(sample.eligible_fingerprint) == 64


def test_bad_seed_is_refused(roles):
    population = officers_population()
    with pytest.raises(QattError, match="seed"):
        draw_sample(SampleRequest(population.id, size=3, seed="abc"), LEAD)


# ---- stratified ---------------------------------------------------------------------------------

def test_stratified_draw_takes_the_number_per_stratum_with_documented_sub_seeds(roles):
    population = officers_population(officers=4, per_officer=10)
    result = draw_sample(SampleRequest(population.id, method="stratified", per_stratum=3, stratify=["officer"],
                                       seed=7), LEAD)
    assert [(s.key, s.eligible, s.drawn, s.short) for s in result.strata] == [
        (f'["PC {o}"]', 10, 3, False) for o in range(4)]
    expected = []
    for o in range(4):
        key = f'["PC {o}"]'
        sub_seed = int.from_bytes(hashlib.sha256(f"7:{key}".encode()).digest(), "big")
        refs = sorted(f"C{o:02d}-{i:03d}" for i in range(10))
        expected += random.Random(sub_seed).sample(refs, 3)
    assert result.references == expected


def test_small_stratum_gives_all_its_cases_and_is_reported_short(roles):
    cases = [{"reference": f"A{i}", "officer": "PC Big"} for i in range(10)] + \
            [{"reference": f"B{i}", "officer": "PC Small"} for i in range(2)]
    population = make_population(cases)
    result = draw_sample(SampleRequest(population.id, method="stratified", per_stratum=5, stratify=["officer"]), LEAD)
    by_key = {s.key: s for s in result.strata}
    assert (by_key['["PC Small"]'].drawn, by_key['["PC Small"]'].short) == (2, True)
    assert (by_key['["PC Big"]'].drawn, by_key['["PC Big"]'].short) == (5, False)
    assert sorted(r for r in result.references if r.startswith("B")) == ["B0", "B1"]


def test_stratification_by_two_columns_including_an_extract_column(roles):
    cases = [{"reference": f"R{i:02d}", "area": "North" if i % 2 else "South", "extra": {"Crime type": f"K{i % 3}"}}
             for i in range(30)]
    population = make_population(cases, extra_columns=["Crime type"])
    result = draw_sample(SampleRequest(population.id, method="stratified", per_stratum=2,
                                       stratify=["area", "Crime type"]), LEAD)
    assert len(result.strata) == 6 and all(s.drawn == 2 for s in result.strata)
    assert result.strata[0].key == '["North","K0"]'


def test_proportional_allocation_uses_largest_remainders():
    assert sampling.allocate_proportional({"A": 50, "B": 30, "C": 20}, 7, 0) == {"A": 4, "B": 2, "C": 1}


def test_proportional_allocation_lifts_small_strata_to_the_minimum_and_still_sums_to_the_total():
    allocation = sampling.allocate_proportional({"A": 50, "B": 30, "C": 20}, 7, 2)
    assert allocation == {"A": 3, "B": 2, "C": 2}
    assert sum(allocation.values()) == 7


def test_proportional_allocation_breaks_ties_by_size_then_key():
    assert sampling.allocate_proportional({"B": 10, "A": 10, "C": 10}, 2, 0) == {"A": 1, "B": 1, "C": 0}
    assert sampling.allocate_proportional({"A": 10, "B": 11}, 1, 0) == {"A": 0, "B": 1}


def test_proportional_minimum_that_cannot_fit_the_total_is_refused():
    with pytest.raises(QattError, match="min-per-stratum"):
        sampling.allocate_proportional({"A": 5, "B": 5, "C": 5}, 4, 2)


def test_proportional_draw_records_the_allocation_per_stratum(roles):
    cases = [{"reference": f"{k}{i:03d}", "team": k} for k, n in (("A", 50), ("B", 30), ("C", 3)) for i in range(n)]
    population = make_population(cases)
    result = draw_sample(SampleRequest(population.id, method="stratified", proportional=12, min_per_stratum=4,
                                       stratify=["team"]), LEAD)
    drawn = {s.key: (s.drawn, s.short) for s in result.strata}
    # C (3 cases) is short of the minimum and gives all 3; B's share of the other 9 (3.375) is
    # below the minimum, so B gets 4; A takes the remaining 5.
    assert drawn == {'["A"]': (5, False), '["B"]': (4, False), '["C"]': (3, True)}
    assert len(result.references) == 12


# ---- systematic -----------------------------------------------------------------------------------

def test_systematic_draw_takes_every_kth_case_from_a_random_start(roles):
    population = officers_population(officers=2, per_officer=25)  # 50 cases
    result = draw_sample(SampleRequest(population.id, method="systematic", size=7, seed=2024), LEAD)
    refs = population_refs(population)
    interval = 50 // 7
    start = random.Random(2024).randrange(interval)
    assert result.references == [refs[start + i * interval] for i in range(7)]


def test_systematic_interval_is_floor_of_eligible_over_size():
    assert sampling.systematic_interval(100, 7) == 14
    assert sampling.systematic_interval(5, 7) == 1


# ---- filters ------------------------------------------------------------------------------------

def test_filters_on_columns_extract_columns_and_dates_limit_the_eligible_cases(roles):
    cases = [{"reference": f"R{i:02d}", "area": "North" if i % 2 else "South", "team": "T1" if i % 3 else "T2",
              "recorded_date": dt.date(2024, 1, 1) + dt.timedelta(days=i), "extra": {"Outcome": "NFA" if i % 5 else "Charged"}}
             for i in range(60)]
    population = make_population(cases, extra_columns=["Outcome"])
    request = SampleRequest(population.id, size=100, filters={"area": "North", "Outcome": "NFA"},
                            date_from="2024-01-10", date_to=dt.date(2024, 2, 10))
    result = draw_sample(request, LEAD)
    expected = {c["reference"] for c in cases if c["area"] == "North" and c["extra"]["Outcome"] == "NFA"
                and dt.date(2024, 1, 10) <= c["recorded_date"] <= dt.date(2024, 2, 10)}
    assert set(result.references) == expected and result.eligible_count == len(expected)
    assert result.strata[0].short


def test_unknown_filter_column_is_refused_with_the_choices(roles):
    population = officers_population()
    with pytest.raises(QattError, match="'Colour'.*officer"):
        draw_sample(SampleRequest(population.id, size=3, filters={"Colour": "red"}), LEAD)


# ---- exclusions ---------------------------------------------------------------------------------

def test_cases_sampled_recently_in_another_population_are_excluded_and_recorded(roles):
    march = officers_population(officers=1, per_officer=20, name="March")
    first = draw_sample(SampleRequest(march.id, size=5, period="2024-03"), LEAD)
    april = officers_population(officers=1, per_officer=20, name="April")  # same references, next extract
    result = draw_sample(SampleRequest(april.id, size=20, exclude_months=3, period="2024-04"), LEAD)
    assert set(result.references) == set(population_refs(april)) - set(first.references)
    assert result.excluded_count == 5
    assert m.Sample.get_by_id(result.sample_id).excluded_references == sorted(first.references)


def test_samples_older_than_the_window_do_not_exclude(roles):
    march = officers_population(officers=1, per_officer=20, name="March")
    old = draw_sample(SampleRequest(march.id, size=5), LEAD)
    m.Sample.update(drawn_at=m.utcnow() - dt.timedelta(days=200)).where(m.Sample.id == old.sample_id).execute()
    april = officers_population(officers=1, per_officer=20, name="April")
    result = draw_sample(SampleRequest(april.id, size=20, exclude_months=6), LEAD)
    assert result.excluded_count == 0 and len(result.references) == 20


# ---- reserves and replacement ------------------------------------------------------------------

def test_reserves_are_drawn_per_stratum_after_the_main_draw(roles):
    population = officers_population(officers=3, per_officer=10)
    result = draw_sample(SampleRequest(population.id, method="stratified", per_stratum=2, reserves=2,
                                       stratify=["officer"]), LEAD)
    rows = sampling.sample_items(result.sample_id)
    assert [r.is_reserve for r in rows] == [False] * 6 + [True] * 6
    assert [r.position for r in rows] == list(range(1, 13))
    assert all(s.reserves == 2 for s in result.strata)
    assert not set(result.references) & set(result.reserves)


def test_replacement_takes_the_next_reserve_of_the_same_stratum_and_is_audited(roles):
    population = officers_population(officers=2, per_officer=10)
    result = draw_sample(SampleRequest(population.id, method="stratified", per_stratum=2, reserves=2,
                                       stratify=["officer"]), LEAD)
    rows = sampling.sample_items(result.sample_id)
    target = rows[2]  # first case of the second stratum
    first_reserve_of_stratum = next(r for r in rows if r.is_reserve and r.stratum == target.stratum)
    reserve = replace_item(result.sample_id, target.reference, "wrongly categorised", MODERATOR)
    assert reserve.case.reference == first_reserve_of_stratum.reference
    replaced = m.SampleItem.get(m.SampleItem.sample == result.sample_id, m.SampleItem.position == target.position)
    assert not replaced.active
    assert (reserve.replaces_id, reserve.replacement_reason, reserve.replaced_by_user) == (replaced.id, "wrongly categorised", MODERATOR)
    assert reserve.replaced_at is not None
    event = m.AuditEvent.select().where(m.AuditEvent.object_type == "sample_item").order_by(m.AuditEvent.id.desc()).get()
    assert event.details["operation"] == "replace" and event.details["same_stratum"]
    assert "wrongly" not in str(event.details)  # free text stays out of the audit log


def test_replacement_needs_a_reason(roles):
    population = officers_population()
    result = draw_sample(SampleRequest(population.id, size=3, reserves=1), LEAD)
    with pytest.raises(QattError, match="reason"):
        replace_item(result.sample_id, result.references[0], "  ", LEAD)
    assert all(r.active for r in sampling.sample_items(result.sample_id))


def test_replacement_falls_back_to_another_stratum_then_runs_out(roles):
    cases = [{"reference": f"A{i}", "team": "A"} for i in range(3)] + [{"reference": f"B{i}", "team": "B"} for i in range(5)]
    population = make_population(cases)
    result = draw_sample(SampleRequest(population.id, method="stratified", per_stratum=3, reserves=1,
                                       stratify=["team"]), LEAD)
    # Stratum A has no reserve (all 3 cases are sampled); B has one.
    reserve = replace_item(result.sample_id, "A0", "duplicate record", LEAD)
    assert reserve.stratum == '["B"]'
    with pytest.raises(QattError, match="no unused reserve"):
        replace_item(result.sample_id, "A1", "duplicate record", LEAD)


def test_a_replaced_case_cannot_be_replaced_twice(roles):
    population = officers_population()
    result = draw_sample(SampleRequest(population.id, size=3, reserves=2), LEAD)
    replace_item(result.sample_id, result.references[0], "out of scope", LEAD)
    with pytest.raises(QattError, match="not an active case"):
        replace_item(result.sample_id, result.references[0], "out of scope", LEAD)


# ---- verification ------------------------------------------------------------------------------

def _stratified(population, **kw):
    return draw_sample(SampleRequest(population.id, method="stratified", per_stratum=3, reserves=1,
                                     stratify=["officer"], filters={"area": "North"}, seed=5, **kw), LEAD)


def test_untouched_sample_verifies_and_replacements_are_reported_not_failed(roles):
    population = officers_population()
    result = _stratified(population)
    assert verify_sample(result.sample_id, LEAD).verified
    replace_item(result.sample_id, result.references[0], "wrong category", LEAD)
    check = verify_sample(result.sample_id, LEAD)
    assert check.verified and check.population_fingerprint_ok and check.differences == []
    assert len(check.replacements) == 1 and result.references[0] in check.replacements[0]
    consultations = m.AuditEvent.select().where(m.AuditEvent.action == "consultation", m.AuditEvent.object_type == "sample")
    assert consultations.count() == 2


def test_verification_detects_a_case_added_to_the_population(roles):
    population = officers_population()
    result = _stratified(population)
    m.Case.create(population=population, reference="C01-999", officer="PC 1", area="North")
    check = verify_sample(result.sample_id)
    assert not check.verified and not check.population_fingerprint_ok
    assert any("eligible set has changed" in d for d in check.differences)


def test_verification_detects_a_case_moved_to_another_stratum(roles):
    population = officers_population()
    result = _stratified(population)
    m.Case.update(officer="PC 3").where(m.Case.reference == result.references[0]).execute()
    check = verify_sample(result.sample_id)
    assert not check.verified and check.population_fingerprint_ok
    assert any("eligible set has changed" in d for d in check.differences)


def test_verification_detects_a_case_edited_out_of_the_filter(roles):
    population = officers_population()
    result = _stratified(population)
    m.Case.update(area="South").where(m.Case.reference == result.references[0]).execute()
    check = verify_sample(result.sample_id)
    assert not check.verified
    assert any(f"recorded but not in the re-derived draw: {result.references[0]}" in d for d in check.differences)


def test_verification_detects_an_edited_sample_item(roles):
    population = officers_population()
    result = _stratified(population)
    unsampled = m.Case.get(m.Case.population == population, m.Case.reference.not_in(result.references + result.reserves),
                           m.Case.officer == "PC 1", m.Case.area == "North")
    m.SampleItem.update(case=unsampled).where(m.SampleItem.sample == result.sample_id, m.SampleItem.position == 1).execute()
    check = verify_sample(result.sample_id)
    assert not check.verified and check.population_fingerprint_ok
    assert any(f"missing from the record: {result.references[0]}" in d for d in check.differences)
    assert any(f"recorded but not in the re-derived draw: {unsampled.reference}" in d for d in check.differences)


def test_verification_detects_a_tampered_seed(roles):
    population = officers_population()
    result = _stratified(population)
    m.Sample.update(seed="6").where(m.Sample.id == result.sample_id).execute()
    check = verify_sample(result.sample_id)
    assert not check.verified
    assert any("audit event" in d for d in check.differences)


def test_verification_detects_a_record_rewritten_consistently_with_a_new_seed(roles):
    population = officers_population()
    result = _stratified(population)
    spec = sampling.DrawSpec(method="stratified", seed=6, per_stratum=3, stratify=("officer",), reserves=1)
    strata = eligible_set._read_strata(population.id, ("officer",), {"area": "North"}, None, None)
    other, _ = sampling.derive_draw(spec, strata)
    case_ids = dict(m.Case.select(m.Case.reference, m.Case.id).where(m.Case.population == population).tuples())
    m.Sample.update(seed="6").where(m.Sample.id == result.sample_id).execute()
    for position, item in enumerate(other, start=1):
        m.SampleItem.update(case=case_ids[item.reference]).where(
            m.SampleItem.sample == result.sample_id, m.SampleItem.position == position).execute()
    check = verify_sample(result.sample_id)
    assert not check.verified
    assert [d for d in check.differences if "audit event" in d]
    assert not [d for d in check.differences if "re-derived" in d]  # the forgery re-derives, only the log betrays it


# ---- redraws, roles, cancellation ---------------------------------------------------------------

def test_redraw_for_the_same_period_needs_a_reason_and_keeps_the_earlier_draw(roles):
    population = officers_population()
    first = draw_sample(SampleRequest(population.id, size=4, period="2024-03"), LEAD)
    with pytest.raises(QattError, match="redraw-reason"):
        draw_sample(SampleRequest(population.id, size=4, period="2024-03"), LEAD)
    second = draw_sample(SampleRequest(population.id, size=4, period="2024-03", redraw_reason="wrong filter"), LEAD)
    new = m.Sample.get_by_id(second.sample_id)
    assert new.supersedes_id == first.sample_id and new.redraw_reason == "wrong filter"
    assert m.SampleItem.select().where(m.SampleItem.sample == first.sample_id).count() == 4
    listed = {s["sample_id"]: s for s in sampling.list_samples(population.id)}
    assert listed[first.sample_id]["superseded_by"] == second.sample_id
    assert verify_sample(first.sample_id).verified


def test_moderator_draws_but_only_a_qa_lead_redraws_and_a_reviewer_does_neither(roles):
    population = officers_population()
    with pytest.raises(PermissionDenied):
        draw_sample(SampleRequest(population.id, size=4), "rev")
    draw_sample(SampleRequest(population.id, size=4, period="2024-05"), MODERATOR)
    with pytest.raises(PermissionDenied):
        draw_sample(SampleRequest(population.id, size=4, period="2024-05", redraw_reason="again"), MODERATOR)


def test_cancelled_draw_writes_nothing(roles):
    population = officers_population()
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        draw_sample(SampleRequest(population.id, size=4), LEAD, cancel=token)
    assert m.Sample.select().count() == 0 and m.SampleItem.select().count() == 0


def test_draw_and_every_sample_item_are_audited_without_case_content(roles):
    population = officers_population()
    result = draw_sample(SampleRequest(population.id, size=4, reserves=2), LEAD)
    event = m.AuditEvent.get(m.AuditEvent.object_type == "sample", m.AuditEvent.object_id == str(result.sample_id))
    assert event.details["cases"] == 4 and event.details["reserves"] == 2 and event.details["seed"] == result.seed
    listed = sampling.list_samples()
    assert (listed[0]["cases"], listed[0]["reserves_unused"]) == (4, 2)


def test_fast_population_fingerprint_equals_the_shared_definition(roles):
    population = make_population([{"reference": r} for r in ["b", "A", "é", "Z9", "a", "日本"]])
    assert eligible_set._population_fingerprint(population.id) == population.fingerprint


# ---- concurrency ---------------------------------------------------------------------------------

def _draw_in_threads(database, requests):
    """Run the draws at once, each thread on its own connection; return results and errors."""
    barrier = threading.Barrier(len(requests))
    results, errors = [], []

    def run(request):
        try:
            barrier.wait()
            results.append(draw_sample(request, LEAD))
        except QattError as exc:
            errors.append(exc)
        finally:
            database.close()  # this thread's connection only

    threads = [threading.Thread(target=run, args=(r,)) for r in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


def test_simultaneous_draws_are_both_recorded_without_interleaving(roles):
    population = officers_population(officers=5, per_officer=40)
    results, errors = _draw_in_threads(roles, [
        SampleRequest(population.id, method="stratified", per_stratum=4, reserves=1, stratify=["officer"], period=p)
        for p in ("2024-01", "2024-02")])
    assert errors == [] and len(results) == 2
    for result in results:
        positions = [r.position for r in sampling.sample_items(result.sample_id)]
        assert positions == list(range(1, 26))
        assert verify_sample(result.sample_id).verified


def test_simultaneous_draws_for_the_same_period_let_only_one_through(roles):
    population = officers_population()
    results, errors = _draw_in_threads(roles, [SampleRequest(population.id, size=5, period="2024-06")] * 2)
    assert len(results) == 1 and len(errors) == 1 and "redraw-reason" in str(errors[0])
    assert m.Sample.select().count() == 1
