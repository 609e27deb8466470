"""A supervisor's month in the real window: import a CSV through the wizard, draw a stratified
sample, open a case, answer the form (a condition and a critical item), watch the suggested grade,
override it with a rationale, submit, and export — then check the database and the exported file."""

from __future__ import annotations

import json

import openpyxl
import pytest

from qatt.selection import sampling
from qatt.trust import audit
from qatt.storage import models as m
from tests.ui.review_helpers import answer, answer_everything_yes
from ui import app
from ui.context import AppContext
from ui.main_window import MainWindow

WAIT = 30000  # ms: generous for a busy machine; never a timing assertion
AREAS = ("Domestic abuse referrals", "Missing children")


def write_extract(path, rows: int = 60):
    lines = ["Crime Ref,Date Recorded,Area,Division,OIC,Risk\n"]
    for i in range(1, rows + 1):
        lines.append(f"DA{i:05d},{1 + i % 28:02d}/04/2024,{AREAS[i % 2]},North,PC {i % 7},{('standard', 'high')[i % 2]}\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def window(qtbot, sqlite_db):
    app.ensure_desktop_user("tester")  # the first user of a new database: administrator
    main = MainWindow(AppContext(db=sqlite_db, db_label="test database", actor="tester"))
    qtbot.addWidget(main)
    main.show()
    return main


def import_through_the_wizard(qtbot, window, csv_path) -> int:
    wizard = window.import_case_list()
    wizard.file_page.path_box.setText(str(csv_path))
    wizard.next()  # preview
    wizard.next()  # mapping: matched automatically
    assert wizard.mapping_page.field_boxes["reference"].currentText() == "Crime Ref"
    wizard.next()  # check, in a worker
    qtbot.waitUntil(lambda: wizard.check_page.worker is None, timeout=WAIT)
    with qtbot.waitSignal(wizard.imported, timeout=WAIT) as imported:
        wizard.next()
    return imported.args[0]


def draw_stratified(qtbot, window) -> int:
    dialog = window.draw_sample()
    dialog.method.setCurrentIndex(dialog.method.findData("stratified"))
    dialog.set_stratify("area")
    dialog.per_stratum_choice.setChecked(True)
    dialog.per_stratum.setValue(3)
    dialog.reserves.setValue(1)
    dialog.seed.setText("20240501")
    with qtbot.waitSignal(dialog.drawn, timeout=WAIT) as drawn:
        dialog.draw_button.click()
    return drawn.args[0].sample_id


def review_a_domestic_abuse_case(qtbot, window) -> int:
    window.page_actions[2].trigger()  # Ctrl+3: the Review page
    page = window.page(2)
    page.confirm_submit = lambda _parent, _reference: True
    row = next(i for i, item in enumerate(page.work) if item.area == "Domestic abuse referrals")
    page.table.selectRow(row)
    with qtbot.waitSignal(page.review_opened, timeout=WAIT) as opened:
        page.start_button.click()
    assert page.form.id == "cp_domestic_abuse"

    level = page.form_view.rows["da_dash_level_officer"]
    assert not level.is_visible()
    answer(qtbot, page, "da_dash", "yes")  # the condition: the officer's DASH level now applies
    assert level.is_visible()
    answer_everything_yes(qtbot, page)
    assert page.grade_panel.suggested == "good"
    answer(qtbot, page, "da_children_seen", "no")  # a critical item fails
    assert page.grade_panel.suggested == "inadequate"
    answer(qtbot, page, "da_children_seen", "yes")
    assert page.grade_panel.suggested == "good"

    panel = page.grade_panel
    panel.grade.setCurrentIndex(panel.grade.findData("requires_improvement"))
    assert panel.rationale.isVisible()
    panel.rationale.setPlainText("Referral to CSC took four days; the checklist does not weigh the delay")
    with qtbot.waitSignal(page.review_submitted, timeout=WAIT):
        page.submit_button.click()
    return opened.args[0]


def export_workbook(qtbot, window, target) -> None:
    window.page_actions[5].trigger()  # Ctrl+6: the Exports page
    page = window.page(5)
    page.choose_target = lambda: target
    page.open_file = lambda _path: None  # no viewer in a test
    page.report.setCurrentIndex(next(i for i in range(page.report.count()) if page.report.itemData(i)[0] == "workbook"))
    page.purpose.setText("Monthly dip sample to the QA board")
    page.recipient.setText("Force QA board")
    with qtbot.waitSignal(page.ended, timeout=WAIT):
        page.export_button.click()


def test_import_draw_review_submit_and_export_through_the_real_window(qtbot, window, tmp_path):
    population_id = import_through_the_wizard(qtbot, window, write_extract(tmp_path / "april.csv"))
    assert m.Case.select().where(m.Case.population == population_id).count() == 60

    sample_id = draw_stratified(qtbot, window)
    drawn = [item for item in sampling.sample_items(sample_id) if not item.is_reserve]
    assert sorted(json.loads(item.stratum)[0] for item in drawn) == sorted(AREAS * 3)  # strata are JSON lists

    review_id = review_a_domestic_abuse_case(qtbot, window)
    review = m.Review.get_by_id(review_id)
    assert (review.status, review.grade, review.suggested_grade) == ("submitted", "requires_improvement", "good")
    assert review.override_rationale.startswith("Referral to CSC took four days")
    assert review.sample_item.sample_id == sample_id
    answers = {a.question_id: a.value for a in m.Answer.select().where(m.Answer.review == review)}
    assert answers["da_dash"] == "yes" and answers["da_children_seen"] == "yes"
    assert answers["da_dash_level_officer"] == "standard"
    assert audit.verify_chain().ok

    target = tmp_path / "board.xlsx"
    export_workbook(qtbot, window, target)
    workbook = openpyxl.load_workbook(target, read_only=True)
    cells = {str(cell) for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True) for cell in row}
    assert review.sample_item.case.reference in cells
    assert "Requires improvement" in cells
    disclosure = m.AuditEvent.get(m.AuditEvent.action == "disclosure")
    assert disclosure.details["purpose"] == "Monthly dip sample to the QA board"
