"""A published street-level extract through the desktop: its own columns in the case browser, a
draw stratified by one of them with a form chosen for an area no form covers, and the Review
page's form chooser for such a case."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt

from qatt.intake import importing
from qatt.reviewing import forms
from qatt.trust import users
from qatt.storage import models as m
from tests.data import make_street_extract as street
from tests.factories import make_sample
from ui.context import AppContext
from ui.dialogs.draw_dialog import BY_AREA, DrawDialog
from ui.pages.review import ReviewPage
from ui.qtmodels.cases_model import CasesModel


@pytest.fixture
def context(sqlite_db):
    users.ensure_user("tester", "qa_lead")
    return AppContext(db=sqlite_db, db_label="test database", actor="tester")


@pytest.fixture
def population(context, tmp_path):
    result = importing.import_population(street.write(tmp_path / "street.csv"), name="Street", actor="tester",
                                         blank_references="generate", duplicate_references="keep-last")
    return m.Population.get_by_id(result.population_id)


def test_the_case_browser_shows_the_extracts_columns_and_month_dates(qtmodeltester, population):
    model = CasesModel()
    model.set_population(population.id)
    qtmodeltester.check(model)
    headings = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert "LSOA name" in headings and "Last outcome category" in headings
    recorded = headings.index("Recorded")
    assert {model.data(model.index(r, recorded)) for r in range(model.rowCount())} == {"Nov 2016"}
    lsoa = headings.index("LSOA name")
    model.sort(lsoa, Qt.SortOrder.DescendingOrder)
    values = [model.data(model.index(r, lsoa)) for r in range(model.rowCount())]
    assert values == sorted(values, reverse=True) and values[0] == "Chesterfield 010D"
    model.setFilterText("Bolsover")
    assert model.total == sum(1 for v in values if v == "Bolsover 003C")
    longest = max(len(model.reference(r)) for r in range(model.rowCount()))
    assert longest == 64  # kept whole; the view elides the middle


def test_the_draw_dialog_stratifies_by_an_extract_column_and_keeps_a_form_for_an_uncovered_area(
        qtbot, context, population):
    dialog = DrawDialog(context, population.id)
    qtbot.addWidget(dialog)
    labels = [dialog.strata.item(r).text() for r in range(dialog.strata.count())]
    assert "LSOA name" in labels and "Crime type" in labels and "area" not in labels
    assert dialog.form.currentData() == BY_AREA and dialog.forms_group.isEnabled()
    assert "Bicycle theft" in dialog.area_note.text()
    areas = [dialog.area_table.item(r, 0).text() for r in range(dialog.area_table.rowCount())]
    assert "Bicycle theft" in areas and "Anti-social behaviour" in areas
    form_id = sorted(forms.load_forms())[0]
    bicycle = dialog.area_boxes["Bicycle theft"]
    bicycle.setCurrentIndex(bicycle.findData(form_id))
    assert "Bicycle theft" not in dialog.area_note.text()
    dialog.method.setCurrentIndex(dialog.method.findData("stratified"))
    dialog.set_stratify("LSOA name")
    dialog.per_stratum.setValue(2)
    dialog.seed.setText("11")
    dialog.period.setText("2016-11")
    with qtbot.waitSignal(dialog.drawn, timeout=20000) as drawn:
        dialog.draw_button.click()
    result = drawn.args[0]
    assert sorted(json.loads(s.key)[0] for s in result.strata) == sorted({name for _, name in street.LSOAS})
    assert m.Population.get_by_id(population.id).area_forms == {"Bicycle theft": form_id}
    assert m.Sample.get_by_id(result.sample_id).params["stratify"] == ["LSOA name"]


def test_the_draw_dialog_can_fix_one_form_for_the_whole_sample(qtbot, context, population):
    dialog = DrawDialog(context, population.id)
    qtbot.addWidget(dialog)
    form_id = sorted(forms.load_forms())[0]
    dialog.form.setCurrentIndex(dialog.form.findData(form_id))
    assert not dialog.forms_group.isEnabled()
    dialog.size.setValue(3)
    dialog.period.setText("2016-11")
    with qtbot.waitSignal(dialog.drawn, timeout=20000) as drawn:
        dialog.draw_button.click()
    assert m.Sample.get_by_id(drawn.args[0].sample_id).form_id == form_id


def test_the_review_page_offers_a_form_for_a_case_no_form_covers_and_starts_its_review(qtbot, context, population):
    bicycle = next(r[0] for r in street.rows() if r[9] == "Bicycle theft")
    make_sample(population, [bicycle], period="2016-11", name="Street sample")
    page = ReviewPage(context)
    qtbot.addWidget(page)
    page.show()
    page.move(1)
    chooser = page.form_chooser
    assert chooser.isVisible() and "No form covers the area 'Bicycle theft'" in chooser.note.text()
    shown = []
    import ui.pages.review as review_page

    original = review_page.show_problem
    review_page.show_problem = lambda _parent, title, message: shown.append(title)
    try:
        page.start_button.click()  # no form chosen yet
    finally:
        review_page.show_problem = original
    assert shown == ["Choose a form"] and m.Review.select().count() == 0
    form_id = sorted(forms.load_forms())[0]
    chooser.form.setCurrentIndex(chooser.form.findData(form_id))
    with qtbot.waitSignal(page.review_opened, timeout=20000):
        page.start_button.click()
    review = m.Review.get()
    assert review.form_version.form_id == form_id and page.form_view is not None
    assert not chooser.isVisible()
    assert m.Population.get_by_id(population.id).area_forms == {"Bicycle theft": form_id}


def test_the_samples_page_says_how_many_undated_cases_a_date_range_left_out(qtbot, context, monkeypatch):
    import datetime as dt

    from tests.factories import make_population
    from ui.pages import samples as samples_page

    shown = []
    monkeypatch.setattr("ui.pages.samples.show_information", lambda _parent, title, message: shown.append((title, message)))
    population = make_population(10, recorded_date=lambda i: None if i % 2 else dt.date(2024, 2, i))
    page = samples_page.SamplesPage(context)
    qtbot.addWidget(page)
    dialog = page.open_draw_dialog(population.id)
    dialog.size.setValue(2)
    dialog.limit_dates.setChecked(True)
    from PySide6.QtCore import QDate

    dialog.date_from.setDate(QDate(2024, 2, 1))
    dialog.date_to.setDate(QDate(2024, 2, 29))
    with qtbot.waitSignal(dialog.drawn, timeout=20000):
        dialog.draw_button.click()
    assert shown == [("Cases without a date were left out",
                      "5 case(s) with no recorded date were left out by the date range (a case without a date "
                      "is in no date range).")]


def test_a_reviewer_chooses_a_form_for_the_case_without_keeping_it_for_the_area(qtbot, population, sqlite_db):
    users.ensure_user("rev", "reviewer")
    reviewer = AppContext(db=sqlite_db, db_label="test database", actor="rev")
    bicycle = next(r[0] for r in street.rows() if r[9] == "Bicycle theft")
    make_sample(population, [bicycle], period="2016-11", name="Street sample")
    page = ReviewPage(reviewer)
    qtbot.addWidget(page)
    page.show()
    page.move(1)
    assert page.form_chooser.isVisible() and not page.form_chooser.keep_for_area.isVisible()
    form_id = sorted(forms.load_forms())[0]
    page.form_chooser.form.setCurrentIndex(page.form_chooser.form.findData(form_id))
    with qtbot.waitSignal(page.review_opened, timeout=20000):
        page.start_button.click()
    assert m.Review.get().form_version.form_id == form_id
    assert m.Population.get_by_id(population.id).area_forms is None
