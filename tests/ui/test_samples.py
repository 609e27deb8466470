"""The Draw sample dialog and the Samples page, with the real sampling engine in workers."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QInputDialog, QMessageBox

from qatt.selection import sampling
from qatt.trust import users
from qatt.storage import models as m
from tests.ui.conftest import AREAS, add_population
from ui import theme
from ui.context import AppContext
from ui.pages.samples import SamplesPage


@pytest.fixture
def context(sqlite_db):
    users.ensure_user("tester", "qa_lead")
    return AppContext(db=sqlite_db, db_label="test database", actor="tester")


@pytest.fixture
def page(qtbot, context):
    widget = SamplesPage(context)
    qtbot.addWidget(widget)
    return widget


def draw_through_the_dialog(qtbot, page, population_id, configure):
    dialog = page.open_draw_dialog(population_id)
    configure(dialog)
    with qtbot.waitSignal(dialog.drawn, timeout=20000) as drawn:
        dialog.draw_button.click()
    return drawn.args[0]


def stratified_by_area(dialog):
    dialog.method.setCurrentIndex(dialog.method.findData("stratified"))
    dialog.set_stratify("area")
    dialog.per_stratum_choice.setChecked(True)
    dialog.per_stratum.setValue(4)
    dialog.reserves.setValue(2)
    dialog.seed.setText("20240401")


def test_the_draw_dialog_draws_a_stratified_sample_and_the_page_shows_it(qtbot, page):
    population = add_population(300)
    result = draw_through_the_dialog(qtbot, page, population.id, stratified_by_area)
    sample = m.Sample.get_by_id(result.sample_id)
    assert sample.method == "stratified" and sample.seed == "20240401"
    drawn = (m.SampleItem.select(m.Case.area).join(m.Case)
             .where(m.SampleItem.sample == sample.id, m.SampleItem.is_reserve == False).tuples())  # noqa: E712
    assert sorted(area for (area,) in drawn) == sorted(list(AREAS) * 4)
    assert page.selected_sample_id() == sample.id
    assert page.items.rowCount() == 12 + 2 * 3  # four per area, plus two reserves per area
    assert "20240401" in page.summary.text()
    assert sample.population_fingerprint in page.summary.text()


def test_filters_and_the_sample_size_calculator_shape_a_simple_draw(qtbot, page):
    population = add_population(300)

    def configure(dialog):
        dialog.method.setCurrentIndex(dialog.method.findData("simple"))
        dialog.filters["area"].setCurrentText("Missing children")
        dialog.calculator.confidence.setValue(90)
        dialog.calculator.tolerable.setValue(20)
        dialog.calculator.calculate_button.click()
        assert dialog.calculator.use_button.isEnabled()
        dialog.calculator.use_button.click()
        assert dialog.size.value() == dialog.calculator.size == 11

    result = draw_through_the_dialog(qtbot, page, population.id, configure)
    assert len(result.references) == 11
    areas = m.Case.select(m.Case.area).where(m.Case.reference.in_(result.references)).tuples()
    assert {area for (area,) in areas} == {"Missing children"}


def test_a_problem_with_the_request_is_shown_and_the_dialog_stays_open(qtbot, page):
    population = add_population(30)
    dialog = page.open_draw_dialog(population.id)
    dialog.method.setCurrentIndex(dialog.method.findData("stratified"))  # but no column ticked
    dialog.draw_button.click()
    qtbot.waitUntil(lambda: bool(dialog.findChildren(QMessageBox)), timeout=20000)
    assert "stratify" in dialog.findChildren(QMessageBox)[0].text()
    assert dialog.draw_button.isEnabled()
    assert dialog.isVisible() and m.Sample.select().count() == 0


def test_verify_says_verified_in_green(qtbot, page):
    population = add_population(120)
    draw_through_the_dialog(qtbot, page, population.id, stratified_by_area)
    with qtbot.waitSignal(page.verified, timeout=20000) as verified:
        page.verify_button.click()
    assert verified.args[0].verified
    assert page.verification.text().startswith("✔ Verified")
    assert page.verification.styleSheet() == theme.GOOD_STYLE


def test_verify_says_not_verified_in_red_when_a_drawn_case_was_altered(qtbot, page):
    population = add_population(120)
    result = draw_through_the_dialog(qtbot, page, population.id, stratified_by_area)
    m.Case.update(reference="TAMPERED").where(m.Case.reference == result.references[0]).execute()
    with qtbot.waitSignal(page.verified, timeout=20000) as verified:
        page.verify_button.click()
    assert not verified.args[0].verified
    assert "NOT verified" in page.verification.text()
    assert page.verification.styleSheet() == theme.BAD_STYLE


def test_replace_asks_for_a_reason_and_brings_in_a_reserve(qtbot, page):
    population = add_population(120)
    result = draw_through_the_dialog(qtbot, page, population.id, stratified_by_area)
    page.item_table.selectRow(0)
    replaced = page.chosen_reference()
    page.replace_button.click()
    asking = page.reason_dialog
    assert isinstance(asking, QInputDialog) and replaced in asking.labelText()
    asking.setTextValue("file missing")
    asking.accept()
    item = m.SampleItem.select().join(m.Case).where(m.SampleItem.sample == result.sample_id,
                                                    m.Case.reference == replaced).get()
    assert not item.active
    reserve = m.SampleItem.get(m.SampleItem.replaces == item)
    assert reserve.replacement_reason == "file missing"
    assert "replaced by reserve" in page.verification.text()
    assert any(row[6] == replaced for row in page.items.rows)


def test_replace_without_a_reason_is_refused_with_a_message(qtbot, page):
    population = add_population(60)
    result = draw_through_the_dialog(qtbot, page, population.id, stratified_by_area)
    page.item_table.selectRow(0)
    page.replace(page.chosen_reference(), "   ")
    boxes = page.findChildren(QMessageBox)
    assert boxes and "reason" in boxes[0].text()
    assert m.SampleItem.select().where(m.SampleItem.sample == result.sample_id,
                                       m.SampleItem.active == False).count() == 0  # noqa: E712
    assert sampling.verify_sample(result.sample_id).verified


def test_the_draw_dialog_names_methods_in_words_and_hands_the_core_the_id(qtbot, page):
    from qatt.selection import sampling

    dialog = page.open_draw_dialog(None)
    shown = [dialog.method.itemText(i) for i in range(dialog.method.count())]
    assert shown == ["Simple random", "Stratified random", "Systematic"]
    assert [dialog.method.itemData(i) for i in range(dialog.method.count())] == list(sampling.METHODS)
