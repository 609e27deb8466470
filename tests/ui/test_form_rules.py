"""The form view over the MOSOVO DI check: the "from the extract" mark on prefilled header answers,
N/A refused while an exception applies, and themes offered per form with a way to add another."""

from __future__ import annotations

import pytest

from qatt.reviewing import forms, reviews
from qatt.trust import users
from qatt.storage import models as m
from tests.factories import make_population, make_sample
from ui.context import AppContext
from ui.pages.review import ReviewPage
from ui.widgets.form_view import FormView


@pytest.fixture(scope="module")
def mosovo():
    return forms.load_forms()["mosovo_di_check"]


@pytest.fixture
def view(qtbot, mosovo):
    widget = FormView(mosovo)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_a_prefilled_answer_is_marked_until_the_reviewer_changes_it(view):
    view.set_answers({"mappa_level": "level2", "m2": "yes"}, {"mappa_level": "From the extract (MAPPA level)"})
    row = view.rows["mappa_level"]
    assert row.origin.isVisible() and "From the extract (MAPPA level)" in row.origin.text()
    assert not view.rows["m2"].origin.isVisible()
    row.input.combo.setCurrentIndex(row.input.combo.findData("level3"))
    assert not row.origin.isVisible()
    row.input.combo.setCurrentIndex(row.input.combo.findData("level2"))  # back as the extract had it
    assert row.origin.isVisible()


def test_na_is_not_offered_on_m4_while_the_visit_was_announced(view):
    view.set_answers({"m2": "no", "m3": "yes"})
    buttons = view.rows["m4"].input.buttons
    assert view.rows["m4"].is_visible() and not buttons["na"].isEnabled() and buttons["no"].isEnabled()
    # A stored N/A (from before the rule) stays visible and is explained in the reviewer's words.
    view.set_answers({"m2": "no", "m3": "yes", "m4": "na"})
    problem = view.rows["m4"].problem
    assert buttons["na"].isEnabled() and buttons["na"].isChecked()
    assert "N/A is not an answer here: “Unannounced” is No" in problem.text()
    # M13 may be N/A when there was no breach, not after one.
    view.set_answers({"m13_breach": "no"})
    assert view.rows["m13"].input.buttons["na"].isEnabled()
    view.set_answers({"m13_breach": "yes"})
    assert not view.rows["m13"].input.buttons["na"].isEnabled()


def test_the_form_offers_its_own_themes_and_another_can_be_added(view, mosovo):
    themes = view.rows["themes"].input
    assert list(themes.combos) == list(mosovo.themes)
    assert "end_of_police_protection" not in themes.combos
    more = themes.more
    more.setCurrentIndex(more.findData("victim_care"))
    more.activated.emit(more.currentIndex())
    themes.combos["victim_care"].setCurrentIndex(themes.combos["victim_care"].findData("weakness"))
    assert view.checked_answers()["themes"] == {"victim_care": "weakness"}
    # A stored answer with an added theme shows it again.
    view.set_answers({"themes": {"victim_care": "strength"}})
    assert view.rows["themes"].input.combos["victim_care"].currentData() == "strength"


@pytest.fixture
def context(sqlite_db):
    users.ensure_user("di.jones", "reviewer", display_name="DI Jones")
    return AppContext(db=sqlite_db, db_label="test database", actor="di.jones")


def test_the_review_page_shows_header_answers_from_the_extract(qtbot, context):
    population = make_population(2, area="Sex offender management", extra={"MAPPA level": "3"})
    m.Population.update(mapping={"reference": "ViSOR ref"}).execute()
    make_sample(population, period="2024-04", form_id="mosovo_di_check", name="MOSOVO DI checks 2024-04")
    page = ReviewPage(context)
    qtbot.addWidget(page)
    page.show()
    page.move(1)
    with qtbot.waitSignal(page.review_opened):
        page.start_button.click()
    rows = page.form_view.rows
    assert rows["visor_ref"].input.value() == "REF0001"
    assert rows["visor_ref"].origin.isVisible() and "From the extract (ViSOR ref)" in rows["visor_ref"].origin.text()
    assert rows["mappa_level"].input.value() == "level3" and rows["mappa_level"].origin.isVisible()
    assert rows["checked_by"].input.value() == "DI Jones"
    assert "Filled in by QATT" in rows["checked_by"].origin.text()
    assert reviews.origins_of(m.Review.get_by_id(page.view.id))["visor_ref"] == "extract:ViSOR ref"


def test_the_qa_lead_opens_a_suggested_case_study_and_writes_it_up(qtbot, sqlite_db):
    from qatt.reviewing import case_studies
    from qatt.reviewing.case_studies import CaseStudyText
    from tests.unit.test_mosovo_rules import complete
    from ui.dialogs.case_study_dialog import SAVE, CaseStudyDialog, SuggestedCaseStudiesDialog

    users.ensure_user("di.jones", "reviewer")
    users.ensure_user("lead", "qa_lead")
    item = m.SampleItem.get_by_id(make_sample(make_population(1, area="Sex offender management"),
                                              form_id="mosovo_di_check").items[0].id)
    review = reviews.start_review(item.id, "di.jones")
    form = reviews.form_of(review)
    review = reviews.save_answers(review.id, complete(form, **reviews.answers_of(review), case_study="poor_practice"),
                                  "di.jones", review.version)
    reviews.submit_review(review.id, "di.jones", review.version)

    page = ReviewPage(AppContext(db=sqlite_db, db_label="test database", actor="lead"))
    qtbot.addWidget(page)
    page.show()
    offered, asked = [], []
    page.choose_suggested = lambda _parent, suggestions: offered.extend(suggestions) or suggestions[0].review_id
    page.ask_case_study = lambda _parent, _ref, current, suggested=None: asked.append(suggested) or (
        SAVE, CaseStudyText("poor", "Breach not investigated", "A licence breach was left for weeks."))
    assert page.suggested_button.isVisibleTo(page)
    page.suggested_button.click()
    assert [s.kind for s in offered] == ["poor"] and asked == ["poor"]
    assert case_studies.case_study_of(review.id).title == "Breach not investigated"
    assert case_studies.suggested_case_studies("lead") == []
    # The dialogs themselves: the list shows the suggestion, the case-study dialog starts on its kind.
    listing = SuggestedCaseStudiesDialog(offered)
    qtbot.addWidget(listing)
    assert "Poor practice: case REF0001" in listing.list.item(0).text()
    dialog = CaseStudyDialog("REF0001", None, suggested="poor")
    qtbot.addWidget(dialog)
    assert dialog.kind.currentData() == "poor" and not dialog.save_button.isEnabled()  # the account is needed
