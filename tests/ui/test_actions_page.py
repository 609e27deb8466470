"""The Actions page: overdue first, the buttons follow the status, each change goes through its dialog
to qatt.loop.actions, and the feedback tab records an officer's acknowledgement."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox

from qatt.loop import acknowledgement
from qatt.reviewing import reviews
from qatt.storage import models as m
from tests.factories import (COMPLETE_ANSWERS, form_dict, make_population, make_sample, make_user, sample_items,
                             write_form)
from ui.context import AppContext
from ui.pages.actions import ActionsPage


@pytest.fixture
def made(sqlite_db, tmp_path):
    folder = tmp_path / "forms"
    write_form(folder, form_dict())
    make_user("sup.a")
    make_user("off.b")
    make_user("mod", "moderator")
    sample = make_sample(make_population(2, team="Erewash CID"), form_id="test_form")
    started = reviews.start_review(sample_items(sample)[0].id, "sup.a", forms_dir=folder)
    reviews.save_answers(started.id, COMPLETE_ANSWERS, "sup.a", expected_version=1)
    reviews.save_details(started.id, "sup.a", 2, feedback="Well done on the PPN.", feedback_date=dt.date(2024, 6, 1))
    review = reviews.submit_review(started.id, "sup.a", expected_version=3)
    soon = reviews.add_action(review.id, "sup.a", "Refresher on risk levels", owner="off.b",
                              due_date=dt.date.today() + dt.timedelta(days=10))
    late = reviews.add_action(review.id, "sup.a", "Re-submit the PPN", owner="off.b",
                              due_date=dt.date.today() - dt.timedelta(days=5))
    return review, soon, late


def page_for(qtbot, sqlite_db, actor):
    page = ActionsPage(AppContext(db=sqlite_db, db_label="test", actor=actor))
    qtbot.addWidget(page)
    return page


def test_overdue_actions_come_first_and_the_buttons_follow_the_status(qtbot, sqlite_db, made):
    _review, soon, late = made
    page = page_for(qtbot, sqlite_db, "off.b")
    assert [row[0] for row in page.model.rows] == [late.id, soon.id]
    assert page.model.rows[0][1] == 5 and "1 overdue" in page.counts.text()
    page.table.selectRow(0)
    assert page.buttons["done"].isEnabled() and not page.buttons["verify"].isEnabled()
    assert "Re-submit the PPN" in page.details.text()


def test_done_then_verified_through_the_dialogs(qtbot, sqlite_db, made):
    _review, _soon, late = made
    page = page_for(qtbot, sqlite_db, "off.b")
    page.table.selectRow(0)
    dialog = page.open_dialog("done")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert "Fill in the box" in dialog.problem.text() and m.Action.get_by_id(late.id).status == "open"
    dialog.text_edit.setPlainText("PPN re-submitted at high risk")
    with qtbot.waitSignal(page.changed):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert m.Action.get_by_id(late.id).status == "done"
    assert late.id not in [row[0] for row in page.model.rows]  # the default view shows what is still to do

    supervisor = page_for(qtbot, sqlite_db, "mod")
    supervisor.status_filter.setCurrentIndex(supervisor.status_filter.findText("Done, awaiting verification"))
    assert [row[0] for row in supervisor.model.rows] == [late.id]
    supervisor.table.selectRow(0)
    assert supervisor.buttons["verify"].isEnabled()
    dialog = supervisor.open_dialog("verify")
    with qtbot.waitSignal(supervisor.changed):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    stored = m.Action.get_by_id(late.id)
    assert stored.status == "verified" and stored.verified_by == "mod"
    supervisor.status_filter.setCurrentIndex(supervisor.status_filter.findText("All"))
    supervisor.table.selectRow([row[0] for row in supervisor.model.rows].index(late.id))
    assert "PPN re-submitted at high risk" in supervisor.details.text() and "Verified by mod" in supervisor.details.text()


def test_a_refused_change_is_shown_and_changes_nothing(qtbot, sqlite_db, made):
    _review, _soon, late = made
    page = page_for(qtbot, sqlite_db, "off.b")
    page.table.selectRow(0)
    from ui.dialogs.action_dialog import Change

    assert not page.apply(late.id, Change("cancel", "not needed"))  # a reviewer may not cancel
    box = next(w for w in page.findChildren(QMessageBox))
    assert "moderator or above" in box.text()
    assert m.Action.get_by_id(late.id).status == "open"


def test_verifying_an_action_you_marked_done_is_refused_with_the_reason(qtbot, sqlite_db, made):
    _review, _soon, late = made
    from qatt.loop import actions
    from ui.dialogs.action_dialog import Change

    actions.mark_done(late.id, "mod", "PPN re-submitted")
    page = page_for(qtbot, sqlite_db, "mod")
    page.status_filter.setCurrentIndex(page.status_filter.findText("Done, awaiting verification"))
    page.table.selectRow(0)
    assert page.buttons["verify"].isEnabled() and page.buttons["send_back"].isEnabled()
    assert not page.buttons["reassign"].isEnabled()  # a done action is sent back before it is reassigned
    assert not page.apply(late.id, Change("verify", ""))
    box = next(w for w in page.findChildren(QMessageBox))
    assert "mod cannot verify action" in box.text() and "they marked it done" in box.text()
    assert "<" not in box.text() and m.Action.get_by_id(late.id).status == "done"
    box.close()
    assert page.apply(late.id, Change("send_back", "No record of the new PPN"))
    page.status_filter.setCurrentIndex(page.status_filter.findText("All"))
    page.table.selectRow([row[0] for row in page.model.rows].index(late.id))
    assert page.buttons["reassign"].isEnabled() and m.Action.get_by_id(late.id).status == "in progress"


def test_the_feedback_tab_records_the_acknowledgement(qtbot, sqlite_db, made):
    review, _soon, _late = made
    page = page_for(qtbot, sqlite_db, "sup.a")
    tab = page.feedback
    assert [row[0] for row in tab.model.rows] == [review.id]
    assert "0 of 1" in tab.summary.text()
    tab.table.selectRow(0)
    dialog = tab.open_dialog()
    dialog.comment.setText("Thanks")
    dialog._accept()
    assert acknowledgement.acknowledgement_of(review.id).comment == "Thanks"
    assert tab.model.rows == [] and "1 of 1" in tab.summary.text()


def test_the_register_tab_edits_an_entry_with_a_note_and_evidence(qtbot, sqlite_db, made):
    make_user("lead", "qa_lead")
    page = page_for(qtbot, sqlite_db, "lead")
    tab = page.register
    codes = [row[0] for row in tab.model.rows]
    assert codes[:2] == ["2021-R1", "2021-R2"] and "PFD-C" in codes
    tab.table.selectRow(codes.index("2021-R10"))
    dialog = tab.open_dialog()
    dialog.owner.setText("DCI MOSOVO")
    dialog.status.setCurrentText("fully achieved")
    dialog.note.setPlainText("SOP revised; DI checks 10 a month")
    dialog.evidence_kind.setCurrentText("document")
    dialog.evidence_ref.setText("MOSOVO SOP v3")
    with qtbot.waitSignal(tab.changed):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    stored = m.Recommendation.get(m.Recommendation.code == "2021-R10")
    assert stored.owner == "DCI MOSOVO" and stored.status == "fully achieved"
    assert "SOP revised" in tab.details.text() and "Evidence: document MOSOVO SOP v3" in tab.details.text()


def test_the_register_tab_shows_a_linked_actions_own_status_and_warns_when_marked_achieved(qtbot, sqlite_db, made):
    from qatt.loop import actions, register

    _review, _soon, late = made
    make_user("lead", "qa_lead")
    actions.mark_done(late.id, "off.b", "PPN re-submitted")
    register.link_evidence("lead", "2021-R10", "action", str(late.id), note="verified")
    page = page_for(qtbot, sqlite_db, "lead")
    tab = page.register
    tab.table.selectRow([row[0] for row in tab.model.rows].index("2021-R10"))
    assert f"Evidence: action {late.id} (now done, awaiting verification; note: verified)" in tab.details.text()
    dialog = tab.open_dialog()
    dialog.status.setCurrentText("fully achieved")
    with qtbot.waitSignal(tab.changed):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    assert m.Recommendation.get(m.Recommendation.code == "2021-R10").status == "fully achieved"  # saved
    box = next(w for w in tab.findChildren(QMessageBox))
    assert box.windowTitle() == "The register entry was saved, with a warning"
    assert f"action {late.id} is done, awaiting verification" in box.text()
    assert "Warning: 2021-R10 is marked fully achieved" in tab.details.text()


def test_a_reviewer_cannot_change_the_register(qtbot, sqlite_db, made):
    page = page_for(qtbot, sqlite_db, "sup.a")
    tab = page.register
    tab.table.selectRow(0)
    dialog = tab.open_dialog()
    dialog.owner.setText("someone")
    assert not dialog.save()
    assert m.Recommendation.get(m.Recommendation.code == "2021-R1").owner == ""


def test_the_narrative_tab_loads_the_draft_and_keeps_a_version(qtbot, sqlite_db, made):
    make_user("lead", "qa_lead")
    page = page_for(qtbot, sqlite_db, "lead")
    tab = page.narratives
    tab.refresh()
    assert tab.area.currentText() == "Domestic abuse referrals" and tab.period_from.text() == "2024-05"
    assert tab.load() and "Draft from the figures" in tab.provenance.text()
    tab.fields["judgement"].setText("Requires improvement")
    tab.fields["developing"].setPlainText("Problem: late PPNs")
    with qtbot.waitSignal(tab.kept):
        tab.keep_button.click()
    stored = m.AreaNarrative.get()
    assert (stored.version, stored.edited_by, stored.developing) == (1, "lead", "Problem: late PPNs")
    assert "Version 1, kept by lead" in tab.provenance.text()
