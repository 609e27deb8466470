"""The eligible-set read used by draw and verify: the database groups the references per stratum
(as JSON arrays), so any characters a reference may hold must come back exactly."""

from __future__ import annotations

import pytest

from qatt.selection import eligible_set, sampling
from qatt.trust import users
from qatt.intake.fingerprint import fingerprint_references
from qatt.selection.sampling import SampleRequest, draw_sample, verify_sample
from qatt.storage import models as m

# Quotes, separators, a newline, JSON escapes, control and non-ASCII characters.
AWKWARD = ['A"1', "B,2", "C\n3", "D\\4", "E\x1f5", "É6", "Ω7", "[8]", "null", "😀9", "F'10", "G\t11"]


@pytest.fixture
def population(db):
    users.ensure_user("lead", "qa_lead")
    cases = [{"reference": ref, "officer": f"PC {n % 3}", "team": "T,\"x\"" if n % 2 else "Tø"}
             for n, ref in enumerate(AWKWARD)]
    population = m.Population.create(name="odd", row_count=len(cases), fingerprint=fingerprint_references(AWKWARD))
    m.Case.insert_many([{"population": population.id, **c} for c in cases]).execute()
    return population


def test_strata_hold_every_reference_exactly_sorted_by_code_point(population):
    strata = eligible_set._read_strata(population.id, ("officer", "team"), {}, None, None)
    expected = {}
    for n, ref in enumerate(AWKWARD):
        key = sampling.stratum_key([f"PC {n % 3}", "T,\"x\"" if n % 2 else "Tø"])
        expected.setdefault(key, []).append(ref)
    assert strata == {key: sorted(refs) for key, refs in expected.items()}


def test_unstratified_read_and_population_fingerprint_cover_every_reference(population):
    assert eligible_set._read_strata(population.id, (), {}, None, None) == {"": sorted(AWKWARD)}
    assert eligible_set._population_fingerprint(population.id) == fingerprint_references(AWKWARD)


def test_an_empty_selection_reads_as_no_strata(population):
    assert eligible_set._read_strata(population.id, (), {"officer": "nobody"}, None, None) == {}
    assert eligible_set._read_strata(population.id, ("team",), {"officer": "nobody"}, None, None) == {}


def test_draw_of_awkward_references_verifies_and_a_changed_reference_is_noticed(population):
    result = draw_sample(SampleRequest(population.id, method="stratified", per_stratum=2, stratify=["officer"],
                                       reserves=1, seed=7), "lead")
    assert verify_sample(result.sample_id, "lead").verified
    unsampled = next(ref for ref in AWKWARD if ref not in result.references + result.reserves)
    m.Case.update(reference=unsampled + "x").where(m.Case.reference == unsampled).execute()
    check = verify_sample(result.sample_id, "lead")
    assert not check.verified and not check.population_fingerprint_ok
