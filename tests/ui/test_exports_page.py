"""The Exports page: real exports through its widgets, in a worker, with the disclosure recorded."""

from __future__ import annotations

import re
import threading

import openpyxl
import pypdf
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFileDialog, QMessageBox

from qatt import reports
from qatt.trust import audit, users
from qatt.errors import QattError
from qatt.storage import models as m
from tests import report_factories as f
from ui.context import AppContext, app_settings
from ui.pages.exports import LAST_FOLDER_KEY, ExportsPage

WAIT = 30000  # ms; generous for a slow machine, never a timing assertion


@pytest.fixture
def data(sqlite_db):
    users.ensure_user("lead", "qa_lead")
    return f.standard_data()


def make_page(qtbot, actor="lead"):
    page = ExportsPage(AppContext(db=m.Review._meta.database, db_label="test database", actor=actor))
    qtbot.addWidget(page)
    return page


@pytest.fixture
def page(qtbot, data):
    return make_page(qtbot)


@pytest.fixture
def opened(page, monkeypatch):
    """The files the page asked the system to open (no viewer is started)."""
    calls = []
    monkeypatch.setattr(page, "open_file", calls.append)
    return calls


def aim_at(page, monkeypatch, target):
    monkeypatch.setattr(page, "choose_target", lambda: target)


def choose(page, report_id):
    page.report.setCurrentIndex(next(i for i in range(page.report.count()) if page.report.itemData(i)[0] == report_id))


def state_disclosure(page, purpose="Monthly QA board", recipient="Head of Public Protection"):
    page.purpose.setText(purpose)
    page.recipient.setText(recipient)


def tick(box, value):
    for i in range(box.count()):
        if box.item(i).data(Qt.ItemDataRole.UserRole) == value:
            box.item(i).setCheckState(Qt.CheckState.Checked)
            return
    raise AssertionError(f"{value!r} is not offered")


def export(qtbot, page):
    with qtbot.waitSignal(page.ended, timeout=WAIT) as ended:
        page.export_button.click()
    return ended.args[0]


def disclosures():
    return list(m.AuditEvent.select().where(m.AuditEvent.action == audit.DISCLOSURE).order_by(m.AuditEvent.id))


def pdf_text(path):
    reader = pypdf.PdfReader(str(path))
    return len(reader.pages), re.sub(r"\s+", " ", " ".join(p.extract_text() for p in reader.pages))


def test_export_waits_for_a_stated_purpose_and_recipient(page):
    assert not page.export_button.isEnabled()
    page.purpose.setText("Monthly QA board")
    assert not page.export_button.isEnabled()
    page.recipient.setText("   ")
    assert not page.export_button.isEnabled()
    page.recipient.setText("Head of Public Protection")
    assert page.export_button.isEnabled()
    page.purpose.clear()
    assert not page.export_button.isEnabled()


def test_the_page_offers_what_the_reviews_hold_and_the_force_marking(page, data):
    assert [page.period_from.itemText(i) for i in range(page.period_from.count())] == ["", "2024-04", "2024-05"]
    areas = [page.areas.item(i).text() for i in range(page.areas.count())]
    assert areas == sorted([f.CP_AREA, "Missing children", f.MOSOVO_AREA])
    assert page.marking.text() == reports.DEFAULT_MARKING
    offered = [page.review.itemData(i) for i in range(page.review.count())]
    assert data.reviews["may1"].id in offered and data.reviews["may1_second"].id in offered
    assert data.reviews["draft"].id not in offered


def test_a_workbook_is_exported_filtered_marked_and_recorded_as_a_disclosure(qtbot, page, opened, monkeypatch,
                                                                             tmp_path):
    target = tmp_path / "out" / "board.xlsx"
    target.parent.mkdir()
    aim_at(page, monkeypatch, target)
    page.period_from.setCurrentText("2024-05")
    page.period_to.setCurrentText("2024-05")
    tick(page.areas, f.CP_AREA)
    page.open_when_done.setChecked(True)
    state_disclosure(page)

    assert export(qtbot, page) == "done"

    workbook = openpyxl.load_workbook(target)
    assert workbook["Themes"].oddHeader.center.text == reports.DEFAULT_MARKING
    about = {row[0]: row[1] for row in workbook["About"].iter_rows(min_row=2, values_only=True)}
    assert about["Period"] == f"2024-05; areas: {f.CP_AREA}"
    assert about["Purpose"] == "Monthly QA board" and about["Recipient"] == "Head of Public Protection"
    # May in the area: three first reviews and two second; April, Missing children and MOSOVO are left out.
    assert about["Reviews"] == 5
    [event] = disclosures()
    assert event.actor == "lead" and event.object_id == "board.xlsx"
    assert event.details["purpose"] == "Monthly QA board"
    assert event.details["recipient"] == "Head of Public Protection"
    assert event.details["rows"]["Reviews cp_check"] == 5
    assert "board.xlsx" in page.outcome.text() and "Reviews cp_check: 5" in page.outcome.text()
    assert not page.open_button.isHidden()
    assert opened == [target]
    assert page.export_button.isEnabled()  # ready for the next export
    assert make_page(qtbot).open_when_done.isChecked()  # the choice is remembered


def test_the_monthly_pdf_carries_the_marking_typed_on_the_page(qtbot, page, opened, monkeypatch, tmp_path):
    target = tmp_path / "monthly.pdf"
    aim_at(page, monkeypatch, target)
    choose(page, "monthly")
    page.marking.setText("OFFICIAL: QA BOARD ONLY")
    state_disclosure(page)

    assert export(qtbot, page) == "done"

    pages, text = pdf_text(target)
    assert pages > 0
    assert "OFFICIAL: QA BOARD ONLY" in text and "Monthly QA board" in text
    [event] = disclosures()
    assert event.details["report"] == "monthly" and event.details["marking"] == "OFFICIAL: QA BOARD ONLY"
    assert event.details["recipient"] == "Head of Public Protection"
    assert opened == []  # "Open the file when done" was not ticked
    page.open_button.click()
    assert opened == [target]


def test_a_feedback_sheet_is_printed_for_the_chosen_review(qtbot, page, data, opened, monkeypatch, tmp_path):
    target = tmp_path / "feedback.pdf"
    aim_at(page, monkeypatch, target)
    choose(page, "feedback")
    assert page.review.isEnabled() and not page.filters.isEnabled()
    page.review.setCurrentIndex(page.review.findData(data.reviews["may2"].id))
    state_disclosure(page, "Feedback to the officer", "PC Smith")

    assert export(qtbot, page) == "done"

    pages, text = pdf_text(target)
    assert pages > 0 and reports.DEFAULT_MARKING in text and "Supervise sooner" in text
    [event] = disclosures()
    assert event.details["report"] == "feedback" and event.details["rows"]["review_id"] == data.reviews["may2"].id
    assert event.details["purpose"] == "Feedback to the officer"


def test_a_reviewer_is_offered_only_their_own_reviews_for_feedback(qtbot, data):
    users.ensure_user("rev1", "reviewer")
    page = make_page(qtbot, actor="rev1")
    offered = {page.review.itemData(i) for i in range(page.review.count())}
    expected = {r.id for r in data.reviews.values() if r.reviewer == "rev1" and r.status == "submitted"}
    assert offered == expected and len(expected) == 6


def test_cancel_leaves_no_file_and_no_disclosure(qtbot, page, monkeypatch, tmp_path):
    target = tmp_path / "cancelled.xlsx"
    aim_at(page, monkeypatch, target)
    state_disclosure(page)
    started, released = threading.Event(), threading.Event()
    real = reports.workbook_data

    def held_until_cancelled(*args, **kwargs):
        started.set()
        assert released.wait(WAIT / 1000)
        return real(*args, **kwargs)

    monkeypatch.setattr(reports, "workbook_data", held_until_cancelled)
    with qtbot.waitSignal(page.ended, timeout=WAIT) as ended:
        page.export_button.click()
        assert not page.export_button.isEnabled()  # one export at a time
        qtbot.waitUntil(started.is_set, timeout=WAIT)
        page.progress.cancel_button.click()
        released.set()

    assert ended.args == ["cancelled"]
    assert not target.exists() and not [p for p in tmp_path.iterdir() if "cancelled" in p.name]
    assert disclosures() == []
    assert "cancelled" in page.outcome.text()


def test_a_core_error_is_shown_in_a_dialog_and_no_file_is_written(qtbot, page, monkeypatch, tmp_path):
    target = tmp_path / "monthly.pdf"
    aim_at(page, monkeypatch, target)
    choose(page, "monthly")
    state_disclosure(page)

    def broken(*args, **kwargs):
        raise QattError("The monthly figures could not be read: check the database.")

    monkeypatch.setattr(reports, "monthly_report", broken)
    assert export(qtbot, page) == "failed"

    boxes = page.findChildren(QMessageBox)
    assert boxes and "could not be read" in boxes[0].text()
    assert not target.exists() and disclosures() == []
    assert page.export_button.isEnabled()


def test_a_reviewer_may_not_export_the_workbook(qtbot, data, monkeypatch, tmp_path):
    users.ensure_user("rev1", "reviewer")
    page = make_page(qtbot, actor="rev1")
    target = tmp_path / "refused.xlsx"
    aim_at(page, monkeypatch, target)
    state_disclosure(page)

    assert export(qtbot, page) == "failed"

    boxes = page.findChildren(QMessageBox)
    assert boxes and "qa lead" in boxes[0].text()
    assert not target.exists() and disclosures() == []


def test_a_badly_written_month_is_reported_before_asking_where_to_save(qtbot, page, monkeypatch):
    asked = []
    monkeypatch.setattr(page, "choose_target", lambda: asked.append(True))
    page.period_from.setCurrentText("May 2024")
    state_disclosure(page)
    page.export_button.click()
    boxes = page.findChildren(QMessageBox)
    assert boxes and "YYYY-MM" in boxes[0].text()
    assert asked == [] and page.worker is None


def test_save_as_adds_the_suffix_and_remembers_the_folder(qtbot, page, tmp_path):
    folder = tmp_path / "board papers"
    folder.mkdir()

    def answer_the_dialog():
        [dialog] = page.findChildren(QFileDialog)
        assert dialog.acceptMode() == QFileDialog.AcceptMode.AcceptSave
        dialog.setDirectory(str(folder))
        dialog.selectFile("june")
        dialog.accept()

    QTimer.singleShot(0, answer_the_dialog)
    assert page.choose_target() == folder / "june.xlsx"
    assert app_settings().value(LAST_FOLDER_KEY) == str(folder)


def test_cancelling_save_as_exports_nothing(qtbot, page):
    QTimer.singleShot(0, lambda: page.findChildren(QFileDialog)[0].reject())
    state_disclosure(page)
    page.export_button.click()
    assert page.worker is None and disclosures() == []
