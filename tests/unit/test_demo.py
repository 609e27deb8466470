"""The demonstration population: deterministic, plausible, fictional, and loaded through the importer."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from qatt import demo
from qatt.intake import importing
from qatt.storage import models as m

DOMAIN_AREAS = {
    "Section 47 enquiries", "Domestic abuse referrals", "Other referrals", "Child sexual exploitation",
    "Missing children", "Missing persons (adult)", "Section 46 police protection", "Sex offender management",
    "Children in custody", "Investigation (any crime)",
}


def test_the_same_seed_gives_the_same_rows_and_another_seed_does_not():
    assert list(demo.generate_rows(200, 7)) == list(demo.generate_rows(200, 7))
    assert list(demo.generate_rows(200, 7)) != list(demo.generate_rows(200, 8))


def test_rows_are_plausible_cases_over_the_twelve_months_before_the_end_date():
    end = dt.date(2024, 6, 30)
    rows = list(demo.generate_rows(3000, 1, end))
    assert len({r["reference"] for r in rows}) == 3000
    assert {r["area"] for r in rows} == DOMAIN_AREAS
    assert {r["division"] for r in rows} == {"Derby City", "North", "South"}
    assert 40 <= len({r["officer"] for r in rows}) <= 80
    assert all(end - dt.timedelta(days=365) < r["recorded_date"] <= end for r in rows)
    assert {r["status"] for r in rows} == {"open", "finalised", "filed"}
    assert all(r["summary"].startswith("[DEMO] ") for r in rows)
    assert all(r["reference"].startswith(f"DE/{r['recorded_date'].year % 100:02d}/") for r in rows)


def test_very_high_risk_is_only_given_to_registered_sex_offenders():
    risks = Counter((r["area"], r["risk"]) for r in demo.generate_rows(3000, 3))
    assert {area for area, risk in risks if risk == "very high"} == {"Sex offender management"}


def test_the_demo_csv_is_matched_automatically_by_the_importer(tmp_path):
    path = demo.write_csv(tmp_path / "demo.csv", 10, 5)
    preview = importing.preview(path)
    assert set(preview.suggested_mapping) == {"reference", "recorded_date", "area", "division", "team", "officer",
                                              "supervisor", "risk", "status", "summary"}
    first = next(demo.generate_rows(10, 5))
    assert preview.rows[0][:2] == [first["reference"], first["recorded_date"].strftime("%d/%m/%Y")]


def test_load_demo_imports_the_demo_population_with_extras(db):
    result = demo.load_demo("lead", cases=150, seed=11)
    population = m.Population.get_by_id(result.population_id)
    assert (population.name, population.row_count) == ("Demo population", 150)
    assert population.extra_columns == ["Source system", "Victim age band"]
    expected = {r["reference"]: r["recorded_date"] for r in demo.generate_rows(150, 11)}
    stored = dict(m.Case.select(m.Case.reference, m.Case.recorded_date).tuples())
    assert stored == expected
