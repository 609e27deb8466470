"""The read-only queries behind the desktop screens, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from qatt import browse
from qatt.storage import models as m


def make_population(cases: int, name: str = "April extract") -> m.Population:
    population = m.Population.create(name=name, row_count=cases, fingerprint="f" * 64)
    areas = ["North", "South", "East"]
    rows = [
        {"population": population.id, "reference": f"REF{i:05d}", "area": areas[i % 3],
         "recorded_date": None if i % 10 == 0 else dt.date(2024, 1, 1) + dt.timedelta(days=i % 50),
         "risk": "high" if i % 7 == 0 else "standard", "officer": f"PC {i % 11}"}
        for i in range(cases)
    ]
    m.Case.insert_many(rows).execute()
    return population


def all_pages(population_id, **kwargs):
    rows, after = [], None
    while True:
        page = browse.case_page(population_id, after=after, limit=37, **kwargs)
        rows.extend(page.rows)
        if page.next_key is None:
            return rows
        after = page.next_key


def test_keyset_pages_return_every_case_once_in_order(db):
    population = make_population(250)
    rows = all_pages(population.id)
    references = [row[1] for row in rows]
    assert references == sorted(f"REF{i:05d}" for i in range(250))


def test_sorting_by_a_date_with_blanks_descending_covers_every_case(db):
    population = make_population(120)
    rows = all_pages(population.id, sort_by="recorded_date", descending=True)
    assert len({row[0] for row in rows}) == 120
    dates = [row[3] or dt.date(1, 1, 1) for row in rows]
    assert dates == sorted(dates, reverse=True)
    assert rows[-1][3] is None


def test_filter_words_must_each_match_some_column_case_insensitively(db):
    population = make_population(210)
    assert browse.count_cases(population.id, "north") == 70
    assert browse.count_cases(population.id, "north HIGH") == len(
        [i for i in range(210) if i % 3 == 0 and i % 7 == 0])
    rows = all_pages(population.id, filter_text="north high")
    assert all(row[2] == "North" and row[8] == "high" for row in rows)


def test_filter_treats_percent_as_a_literal_character(db):
    population = make_population(20)
    assert browse.count_cases(population.id, "%") == 0


def test_population_and_sample_lists_show_counts_and_replacements(db):
    population = make_population(10)
    cases = list(m.Case.select().where(m.Case.population == population.id).order_by(m.Case.reference))
    sample = m.Sample.create(population=population, name="April dip", method="simple", params={}, seed="42",
                             population_fingerprint="f" * 64, software_version="test")
    first = m.SampleItem.create(sample=sample, case=cases[0], position=1, active=False)
    m.SampleItem.create(sample=sample, case=cases[1], position=2)
    m.SampleItem.create(sample=sample, case=cases[2], position=3, is_reserve=True, replaces=first,
                        replacement_reason="file missing")
    assert browse.has_populations()
    assert [row[1] for row in browse.population_rows()] == ["April extract"]
    (row,) = browse.sample_rows(population.id)
    assert row[0] == sample.id and row[2] == "April extract" and row[5] == 1
    items = browse.sample_item_rows(sample.id)
    assert [item[1] for item in items] == ["REF00000", "REF00001", "REF00002"]
    assert items[2][6:] == ("REF00000", "file missing")
    assert browse.sample_summary(sample.id).seed == "42"


def test_distinct_values_lists_most_common_first(db):
    population = make_population(30)
    assert browse.distinct_values(population.id, "risk") == ["standard", "high"]


def test_an_empty_database_has_no_populations(db):
    assert not browse.has_populations()
