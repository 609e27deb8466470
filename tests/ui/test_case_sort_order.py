"""The case browser of a large population: a first sort by a column builds its sort order in a worker
(the table keeps its order meanwhile, with progress shown), then sorts from the index."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from qatt import browse, case_order
from tests.ui.conftest import add_population
from ui.pages.populations import PopulationsPage
from ui.context import AppContext
from ui.qtmodels import cases_model


@pytest.fixture
def context(sqlite_db):
    return AppContext(db=sqlite_db, db_label="test database", actor="tester")


def shown(model, column):
    return [model.data(model.index(row, column)) for row in range(model.rowCount())]


def test_a_first_sort_by_officer_builds_the_sort_order_in_a_worker_then_sorts(qtbot, context, monkeypatch):
    monkeypatch.setattr(cases_model, "LAZY_SORT_CASES", 100)  # a "large" population for the test
    population = add_population(600)
    page = PopulationsPage(context)
    qtbot.addWidget(page)
    page.cases.set_population(population.id)
    before = shown(page.cases, 0)
    assert not browse.sort_ready(population.id, "officer")

    page.cases.sort(5, Qt.SortOrder.DescendingOrder)  # Officer, as a click on its header does
    assert page.cases.pending_sort == (5, True) and page.sort_worker is not None
    assert shown(page.cases, 0) == before  # nothing sorted on the GUI thread meanwhile
    assert not page.sort_progress.isHidden()

    qtbot.waitUntil(lambda: page.sort_worker is None, timeout=20000)
    assert case_order.has_index(population.id, ("officer",))
    assert page.sort_progress.isHidden() and page.cases.pending_sort is None
    officers = shown(page.cases, 5)
    assert officers == sorted(officers, reverse=True) and officers[0] == "PC 9"

    page.cases.sort(1, Qt.SortOrder.AscendingOrder)  # Area: not built yet either
    assert page.cases.pending_sort == (1, False)
    page.cases.sort(5, Qt.SortOrder.AscendingOrder)  # built: sorts at once, the Area build is no longer wanted
    assert page.cases.pending_sort is None
    officers = shown(page.cases, 5)
    assert officers == sorted(officers)
    qtbot.waitUntil(lambda: page.sort_worker is None, timeout=20000)
    assert shown(page.cases, 5) == officers  # the ended Area build did not re-sort the table


def test_a_small_population_sorts_at_once_without_building_anything(qtbot, context):
    population = add_population(300)
    page = PopulationsPage(context)
    qtbot.addWidget(page)
    page.cases.set_population(population.id)
    page.cases.sort(5, Qt.SortOrder.AscendingOrder)
    assert page.sort_worker is None and page.cases.pending_sort is None
    assert not case_order.has_index(population.id, ("officer",))
    officers = shown(page.cases, 5)
    assert officers == sorted(officers)


def test_a_cancelled_build_keeps_the_order_and_the_header_says_so(qtbot, context, monkeypatch):
    from qatt.errors import Cancelled

    def cancelled_build(population_id, sort_by, progress=None, cancel=None):
        raise Cancelled()

    monkeypatch.setattr(cases_model, "LAZY_SORT_CASES", 100)
    monkeypatch.setattr(browse, "prepare_sort", cancelled_build)
    population = add_population(300)
    page = PopulationsPage(context)
    qtbot.addWidget(page)
    page.cases.set_population(population.id)
    before = shown(page.cases, 0)
    page.case_table.horizontalHeader().setSortIndicator(5, Qt.SortOrder.DescendingOrder)  # a click on Officer
    assert page.sort_worker is not None
    qtbot.waitUntil(lambda: page.sort_worker is None, timeout=20000)
    assert page.cases.pending_sort is None and shown(page.cases, 0) == before
    assert page.case_table.horizontalHeader().sortIndicatorSection() == 0
    assert not case_order.has_index(population.id, ("officer",))
