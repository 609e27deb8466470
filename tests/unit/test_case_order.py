"""Sort orders built lazily per population (qatt.case_order): named by rule, used by the draw, the
case browser and verification, kept apart per population, and dropped with the population's cases."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from qatt import browse, case_order
from qatt.selection import eligible_set, sampling
from qatt.trust import retention, users
from qatt.errors import Cancelled
from qatt.progress import CancelToken
from qatt.intake.fingerprint import fingerprint_references
from qatt.storage import models as m
from qatt.storage.db import is_sqlite

HEADER = "Beat's %_\"no.\""  # quotes, LIKE wildcards and a percent sign: written into SQL as literals


def make_population(name="p", n=60, prefix="R"):
    cases = [{"reference": f"{prefix}{(i * 7) % n:03d}", "officer": f"PC {i % 4}", "area": "North" if i % 3 else "South",
              "recorded_date": None if i % 10 == 0 else dt.date(2024, 1, 1) + dt.timedelta(days=i % 9),
              "extra": {HEADER: f"B{i % 5}"} if i % 6 else {}} for i in range(n)]
    population = m.Population.create(name=name, row_count=n, extra_columns=[HEADER],
                                     fingerprint=fingerprint_references(c["reference"] for c in cases))
    m.Case.insert_many([{"population": population.id, **c} for c in cases]).execute()
    return population


def test_index_names_follow_the_rule_and_differ_by_population_and_columns():
    name = case_order.index_name(12, ("officer",))
    assert re.fullmatch(r"qatt_case_p12_[0-9a-f]{12}", name)
    assert name != case_order.index_name(13, ("officer",)) != case_order.index_name(12, ("area",))
    assert len(case_order.index_name(10 ** 9, ("extra:" + "x" * 500, "officer"))) <= 63  # PostgreSQL's limit
    with pytest.raises(ValueError):
        case_order.index_name(1, ("summary",)) and case_order.ensure_index(1, ("summary",))


def test_a_draw_builds_the_sort_order_once_and_it_gives_the_same_draw(db):
    users.ensure_user("lead", "qa_lead")
    population = make_population()
    request = dict(method="stratified", per_stratum=2, stratify=["officer", HEADER], reserves=1, seed=99)
    columns = ("officer", "extra:" + HEADER)
    # Without the index (e.g. a sample drawn before this change) the strata read the same.
    slow = eligible_set._read_strata(population.id, ("officer", HEADER), {}, None, None)
    first = sampling.draw_sample(sampling.SampleRequest(population.id, period="2024-01", **request), "lead")
    assert case_order.has_index(population.id, columns)
    assert eligible_set._read_strata(population.id, ("officer", HEADER), {}, None, None) == slow
    again = sampling.draw_sample(sampling.SampleRequest(population.id, period="2024-02", **request), "lead")
    assert (again.references, again.reserves) == (first.references, first.reserves)
    assert sampling.verify_sample(first.sample_id, "lead").verified
    if is_sqlite(db):  # the grouping is read from the index: no sort of the population
        query = m.Case.select(*[eligible_set._stratum_expr(c) for c in ("officer", HEADER)], m.Case.reference).where(
            case_order.of_population(population.id)).group_by(*peewee_positions(2))
        sql, params = query.sql()
        plan = " ".join(str(row) for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())
        assert case_order.index_name(population.id, columns) in plan and "TEMP B-TREE" not in plan


def peewee_positions(n):
    import peewee

    return [peewee.SQL(str(i)) for i in range(1, n + 1)]


@pytest.mark.parametrize("sort_by", ["officer", "recorded_date", "extra:" + HEADER])
@pytest.mark.parametrize("descending", [False, True])
def test_pages_read_the_same_with_and_without_the_sort_order(db, sort_by, descending):
    population = make_population()
    make_population(name="other", prefix="S")  # another population's cases never show

    def every_page(**kwargs):
        rows, after = [], None
        while True:
            page = browse.case_page(population.id, sort_by=sort_by, descending=descending, after=after, limit=7, **kwargs)
            rows += page.rows
            if page.next_key is None:
                return rows
            after = page.next_key

    before = every_page()
    filtered_before = every_page(filter_text="north")
    assert not browse.sort_ready(population.id, sort_by)
    assert browse.prepare_sort(population.id, sort_by)
    assert browse.sort_ready(population.id, sort_by)
    assert every_page() == before and every_page(filter_text="north") == filtered_before
    assert len(before) == 60 and len({row[1] for row in before}) == 60
    index = [n for n, _ in browse.population_columns(population.id)].index(sort_by) + 1
    values = [(row[index] if row[index] is not None else dt.date(1, 1, 1), row[1]) for row in before]
    if sort_by != "extra:" + HEADER or is_sqlite(db):  # PostgreSQL orders text by its collation, SQLite by code point
        assert values == sorted(values, reverse=descending)


def test_sort_orders_are_per_population_and_a_purge_drops_them(db):
    users.ensure_user("admin1", "admin")
    old = make_population(name="old")
    kept = make_population(name="kept", prefix="K")
    m.Case.update(recorded_date=dt.date(2017, 1, 1)).where(m.Case.population == old.id).execute()
    m.Case.update(recorded_date=dt.date(2024, 1, 1)).where(m.Case.population == kept.id).execute()
    for population in (old, kept):
        assert case_order.ensure_index(population.id, ("officer",))
        assert case_order.ensure_index(population.id, ("extra:" + HEADER,))
    assert not case_order.has_index(kept.id, ("area",))
    retention.purge(dt.date(2020, 1, 1), "admin1")
    assert not case_order.has_index(old.id, ("officer",)) and not case_order.has_index(old.id, ("extra:" + HEADER,))
    assert case_order.has_index(kept.id, ("officer",)) and case_order.has_index(kept.id, ("extra:" + HEADER,))
    assert case_order.drop_indexes(kept.id) == 2 and not case_order.has_index(kept.id, ("officer",))


def test_a_cancelled_build_on_sqlite_leaves_no_index_and_the_pages_still_read(sqlite_db):
    population = make_population(n=3000)
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        case_order.ensure_index(population.id, ("officer",), cancel=token)
    assert not case_order.has_index(population.id, ("officer",))
    assert len(browse.case_page(population.id, sort_by="officer", limit=10).rows) == 10
    assert case_order.ensure_index(population.id, ("officer",), cancel=CancelToken())  # not cancelled: built


@pytest.mark.parametrize("sort_by", ["officer", "recorded_date", "extra:" + HEADER])
def test_a_deep_page_seeks_the_sort_index_without_sorting(sqlite_db, monkeypatch, sort_by):
    population = make_population(n=300)
    assert browse.prepare_sort(population.id, sort_by)
    first = browse.case_page(population.id, sort_by=sort_by, filter_text="north", limit=40)
    seen = []
    real = sqlite_db.execute_sql
    monkeypatch.setattr(sqlite_db, "execute_sql", lambda sql, params=None, *a, **k: seen.append((sql, params)) or real(sql, params, *a, **k))
    browse.case_page(population.id, sort_by=sort_by, filter_text="north", after=first.next_key, limit=40)
    monkeypatch.undo()
    pages = [(sql, params) for sql, params in seen if sql.startswith("SELECT") and "ORDER BY" in sql]
    assert len(pages) >= 1
    name = case_order.index_name(population.id, (sort_by,))
    for sql, params in pages:  # each part seeks the index by the key (no scan from its start, no sort)
        plan = " ".join(str(row) for row in real("EXPLAIN QUERY PLAN " + sql, params).fetchall())
        assert name in plan and "TEMP B-TREE" not in plan and "population_id=? AND " in plan, plan
