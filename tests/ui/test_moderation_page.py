"""The Moderation page with real reviews: the blind rule, both grades side by side, agreement figures,
handing a new second review to the Review page, and a readable refusal for a plain reviewer."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QComboBox, QLabel, QMessageBox

from qatt.reviewing import reviews
from qatt.storage import models as m
from qatt.storage.db import database_proxy
from tests.factories import (COMPLETE_ANSWERS, form_dict, make_population, make_sample, make_user, sample_items,
                             write_form)
from ui.context import AppContext
from ui.pages.moderation import HIDDEN, ModerationPage

# The first grade of case 1 is the only "Inadequate" anywhere, so it can be looked for on the whole page.
INADEQUATE = {**COMPLETE_ANSWERS, "c2": "no"}  # a critical "no": the lowest grade
REQUIRES_IMPROVEMENT = {**COMPLETE_ANSWERS, "c1": "no"}


@pytest.fixture
def forms_dir(tmp_path):
    folder = tmp_path / "forms"
    write_form(folder, form_dict())
    return folder


def review(item, actor, role, answers, forms_dir, submit=True):
    started = reviews.start_review(item.id, actor, role=role, forms_dir=forms_dir)
    saved = reviews.save_answers(started.id, answers, actor, expected_version=started.version)
    if submit:
        saved = reviews.submit_review(saved.id, actor, expected_version=saved.version)
    return saved


@pytest.fixture
def items(sqlite_db, forms_dir):
    """Case 1: first inadequate, second review held by "mod" as a draft. Case 2: good / good.
    Case 3: good / requires improvement. Case 4: first only."""
    make_user("sup.a", "reviewer")
    make_user("mod", "moderator")
    make_user("mod2", "moderator")
    found = sample_items(make_sample(make_population(4), form_id="test_form"))
    review(found[0], "sup.a", "first", INADEQUATE, forms_dir)
    review(found[0], "mod", "second", COMPLETE_ANSWERS, forms_dir, submit=False)
    for item, second in ((found[1], COMPLETE_ANSWERS), (found[2], REQUIRES_IMPROVEMENT)):
        review(item, "sup.a", "first", COMPLETE_ANSWERS, forms_dir)
        review(item, "mod2", "second", second, forms_dir)
    review(found[3], "sup.a", "first", COMPLETE_ANSWERS, forms_dir)
    return found


def make_page(qtbot, actor):
    page = ModerationPage(AppContext(db=database_proxy.obj, db_label="test database", actor=actor))
    qtbot.addWidget(page)
    return page


def row_of(page, reference):
    rows = [row for row in page.cases.rows if row[1] == reference]
    assert len(rows) == 1
    return rows[0]


def everything_shown(page) -> str:
    """All text on the page: labels, combo entries and every cell and heading of every table."""
    texts = [label.text() for label in page.findChildren(QLabel)]
    for combo in page.findChildren(QComboBox):
        texts += [combo.itemText(i) for i in range(combo.count())]
    for view in page.findChildren(QAbstractItemView):
        model = view.model()
        for row in range(model.rowCount()):
            texts += [str(model.data(model.index(row, column))) for column in range(model.columnCount())]
        texts += [str(model.headerData(column, Qt.Orientation.Horizontal)) for column in range(model.columnCount())]
    return "\n".join(texts)


def test_a_moderator_holding_a_draft_second_review_never_sees_the_first_grade(qtbot, items):
    page = make_page(qtbot, "mod")
    page.select_case(items[0].id)
    reference = items[0].case.reference
    assert row_of(page, reference)[2:] == ("submitted (sup.a)", "draft (you)", HIDDEN, HIDDEN, "")
    assert "blind second review" in page.comparison_note.text()
    # The page shows grades by label. The agreement note naming the scale's unused grades ("Not used by either
    # reviewer: Inadequate") speaks of the scale, not of a case, so it is left out of the search.
    shown = [part for line in everything_shown(page).splitlines() for part in line.split("<br>")
             if "Not used by either" not in part]
    assert not [part for part in shown if "Inadequate" in part]


def test_after_submitting_both_grades_show_side_by_side_with_the_agreement_figures(qtbot, items, qtmodeltester):
    second = reviews.get_review(m.Review.get(m.Review.sample_item == items[0].id, m.Review.role == "second").id)
    reviews.submit_review(second.id, "mod", expected_version=second.version)
    page = make_page(qtbot, "mod")
    page.select_case(items[0].id)

    assert row_of(page, items[0].case.reference)[4:] == ("Inadequate", "Good", "disagree")
    assert row_of(page, items[1].case.reference)[4:] == ("Good", "Good", "agree")
    assert row_of(page, items[2].case.reference)[4:] == ("Good", "Requires improvement", "disagree")
    assert row_of(page, items[3].case.reference)[3:] == ("not started", "", "", "")
    assert "Grade: Inadequate" in page.first_details.text() and "Grade: Good" in page.second_details.text()
    assert "Inadequate" in everything_shown(page)  # what the blind test looks for is visible once allowed
    assert page.differences.rows == [("C2 Voice of the child recorded", "No", "Yes")]
    qtmodeltester.check(page.cases)
    qtmodeltester.check(page.differences)

    figures = page.agreement.text()
    assert "Pairs of submitted reviews: <b>3</b>" in figures
    assert "Same grade: 33.3% (1/3; 95% CI" in figures
    assert "Cohen's kappa:" in figures and "Small sample: only 3 cases" in figures
    assert figures.count("Small sample") == 1
    # Each other person's review shown is audited as a consultation, once per load of the sample.
    consulted = m.AuditEvent.select().where(m.AuditEvent.action == "consultation", m.AuditEvent.actor == "mod",
                                            m.AuditEvent.object_type == "review")
    assert consulted.count() == 5


def test_start_second_review_hands_the_new_review_to_the_review_page(qtbot, items):
    page = make_page(qtbot, "mod")
    page.select_case(items[3].id)
    with qtbot.waitSignal(page.open_review_requested, timeout=20000) as requested:
        page.start_button.click()
    started = m.Review.get(m.Review.sample_item == items[3].id, m.Review.role == "second")
    assert requested.args == [started.id]
    assert started.reviewer == "mod" and started.status == "draft"
    assert started.form_version.form_id == "test_form"
    assert row_of(page, items[3].case.reference)[2:4] == ("submitted (sup.a)", "draft (you)")
    assert row_of(page, items[3].case.reference)[4] == HIDDEN


def test_a_reviewer_who_may_not_second_review_gets_a_readable_refusal(qtbot, items):
    page = make_page(qtbot, "sup.a")
    page.select_case(items[3].id)
    with qtbot.assertNotEmitted(page.open_review_requested):
        page.start_button.click()
    boxes = page.findChildren(QMessageBox)
    assert len(boxes) == 1 and "moderator" in boxes[0].text() and "Traceback" not in boxes[0].text()
    assert not m.Review.select().where(m.Review.sample_item == items[3].id, m.Review.role == "second").exists()
    assert "moderators and above" in page.agreement.text()


def test_with_no_samples_the_page_says_where_to_draw_one(qtbot, sqlite_db):
    make_user("mod", "moderator")
    page = make_page(qtbot, "mod")
    assert page.cases.rowCount() == 0 and "Samples page" in page.agreement.text()


def test_grades_on_different_scales_get_separate_agreement_figures(qtbot, items, monkeypatch):
    mixed = [("R1", "good", "good"), ("R2", "good", "inadequate"), ("R3", "compliant", "compliant"),
             ("R4", "compliant", "non_compliant")]
    monkeypatch.setattr("ui.pages.moderation.pairs_for_sample", lambda _sample_id, viewer="": mixed)
    page = make_page(qtbot, "mod")
    figures = page._agreement_html(items[0].sample_id)
    assert figures.count("Pairs of submitted reviews: <b>2</b>") == 2  # one block per scale, never 4 pairs mixed
    assert "Cases graded Good / Requires improvement / Inadequate" in figures
    assert "Cases graded Compliant" in figures


def write_pairs(path, rows):
    path.write_text("case_ref,first_grade,second_grade\n" + "".join(f"{r},{a},{b}\n" for r, a, b in rows),
                    encoding="utf-8")
    return path


def test_grades_kept_in_a_file_are_compared_on_the_scale_they_fit(qtbot, sqlite_db, tmp_path):
    make_user("lead", "qa_lead")
    page = make_page(qtbot, "lead")
    # The force graded these good and the inspectorate lower, as in the 2022 re-inspection.
    rows = [("DE/1", "Good", "Requires improvement"), ("DE/2", "good", "Inadequate"), ("DE/3", "RI", "RI"),
            ("DE/4", "Good", "Good"), ("DE/5", "Inadequate", "Inadequate")]
    page.choose_pairs_file = lambda _parent: str(write_pairs(tmp_path / "hmicfrs.csv", rows))
    page.pairs_button.click()
    text = page.pairs_dialog.text.toPlainText()
    assert "pairs from hmicfrs.csv, 5 cases" in text
    assert "Same grade: 60.0% (3/5" in text
    assert "graded 2 of 5 cases higher than the second reviewers and 0 lower" in text
    assert page.pairs_dialog.windowTitle() == "Agreement: hmicfrs.csv"

    compliance = [("M/1", "Compliant", "Partially compliant"), ("M/2", "compliant", "compliant")]
    page.choose_pairs_file = lambda _parent: str(write_pairs(tmp_path / "mosovo.csv", compliance))
    page.pairs_button.click()
    assert "Same grade: 50.0% (1/2" in page.pairs_dialog.text.toPlainText()  # read on the compliance scale


def test_a_bad_grades_file_is_named_with_its_row_and_column(qtbot, sqlite_db, tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr("ui.pages.moderation.show_problem", lambda _parent, title, message: shown.append(message))
    make_user("lead", "qa_lead")
    page = make_page(qtbot, "lead")
    page.choose_pairs_file = lambda _parent: str(write_pairs(tmp_path / "grades.csv", [("DE/1", "Good", "Superb")]))
    page.pairs_button.click()
    assert shown == [f"{tmp_path / 'grades.csv'}, row 2, column second_grade: 'Superb' is not a grade on the g3 "
                     "scale. Use one of: Good (good, G); Requires improvement (requires_improvement, RI); "
                     "Inadequate (inadequate, I)."]
    assert page.pairs_dialog is None
    page.choose_pairs_file = lambda _parent: ""  # cancelled: nothing happens
    page.pairs_button.click()
    assert len(shown) == 1


def test_the_case_list_has_most_of_the_height_until_a_case_is_chosen(qtbot, items):
    page = make_page(qtbot, "mod2")
    page.resize(1000, 700)
    page.show()
    qtbot.waitExposed(page)
    page.select_case(None)
    page.show_case()
    upper, lower = page.splitter.sizes()
    assert upper > 1.5 * lower  # nothing chosen: the list, not an empty comparison
    page.select_case(items[1].id)
    upper, lower = page.splitter.sizes()
    assert lower >= upper  # a case chosen: its comparison gets at least half the room
