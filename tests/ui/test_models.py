"""The desktop's table models: Qt's model tester passes, and sorting and filtering happen in SQL."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt

from qatt import browse
from tests.ui.conftest import add_population
from ui.qtmodels.cases_model import CasesModel
from ui.qtmodels.lists import populations_model, sample_items_model, samples_model


def references_shown(model: CasesModel) -> list[str]:
    return [model.data(model.index(row, 0)) for row in range(model.rowCount())]


def load_everything(model: CasesModel) -> None:
    while model.canFetchMore(QModelIndex()):
        model.fetchMore(QModelIndex())


def test_cases_model_passes_the_qt_model_tester_over_thousands_of_cases(sqlite_db, qtmodeltester):
    population = add_population(3000)
    model = CasesModel(page_size=400)
    model.set_population(population.id)
    qtmodeltester.check(model)
    load_everything(model)
    qtmodeltester.check(model)
    assert model.rowCount() == 3000 == model.total


def test_cases_model_loads_one_page_at_a_time(sqlite_db):
    population = add_population(1200)
    model = CasesModel(page_size=500)
    model.set_population(population.id)
    assert model.rowCount() == 500 and model.canFetchMore(QModelIndex())
    model.fetchMore(QModelIndex())
    model.fetchMore(QModelIndex())
    assert model.rowCount() == 1200 and not model.canFetchMore(QModelIndex())
    assert len(set(references_shown(model))) == 1200


def test_sorting_descending_puts_the_last_reference_first(sqlite_db):
    population = add_population(2000)
    model = CasesModel(page_size=300)
    model.set_population(population.id)
    assert model.data(model.index(0, 0)) == "REF00000"
    model.sort(0, Qt.SortOrder.DescendingOrder)
    assert model.data(model.index(0, 0)) == "REF01999"
    load_everything(model)
    shown = references_shown(model)
    assert shown == sorted(shown, reverse=True) and len(shown) == 2000


def test_sorting_by_area_groups_the_areas(sqlite_db):
    population = add_population(900)
    model = CasesModel(page_size=200)
    model.set_population(population.id)
    area_column = [name for name, _ in browse.CASE_COLUMNS].index("area")
    model.sort(area_column, Qt.SortOrder.AscendingOrder)
    load_everything(model)
    areas = [model.data(model.index(row, area_column)) for row in range(model.rowCount())]
    assert areas == sorted(areas)


def test_filter_text_narrows_the_rows_and_the_total(sqlite_db, qtmodeltester):
    population = add_population(3000)
    model = CasesModel(page_size=250)
    model.set_population(population.id)
    model.setFilterText("missing high")
    qtmodeltester.check(model)
    load_everything(model)
    risk_column = [name for name, _ in browse.CASE_COLUMNS].index("risk")
    assert model.rowCount() == model.total > 0
    assert model.total == len([i for i in range(3000) if i % 3 == 1 and i % 5 == 0])
    assert all(model.data(model.index(row, 1)) == "Missing children" and model.data(model.index(row, risk_column)) == "high"
               for row in range(model.rowCount()))
    model.setFilterText("")
    assert model.total == 3000


def test_list_models_pass_the_qt_model_tester(sqlite_db, qtmodeltester):
    population = add_population(30)
    populations = populations_model()
    populations.set_rows(browse.population_rows())
    qtmodeltester.check(populations)
    assert populations.data(populations.index(0, 0)) == "April extract"
    assert populations.data(populations.index(0, 1)) == "30"
    samples = samples_model()
    samples.set_rows([(1, "April dip", "April extract", "simple", "2024-04", 5, "123", None, "tester")])
    qtmodeltester.check(samples)
    items = sample_items_model()
    items.set_rows([(1, "REF1", "Missing children", "", False, False, None, ""),
                    (2, "REF2", "Missing children", "", True, True, "REF1", "file missing")])
    qtmodeltester.check(items)
    assert items.data(items.index(0, 5)) == "replaced"
    assert items.data(items.index(1, 4)) == "yes"
    assert population.id == populations.row_tuple(0)[0]
