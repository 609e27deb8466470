"""The Excel workbook, read back with openpyxl and checked against the database."""

from __future__ import annotations

import datetime as dt
import re

import openpyxl
import pytest

from exports import xlsx
from qatt import reports, stats
from qatt.errors import Cancelled
from qatt.progress import CancelToken
from qatt.storage import models as m
from tests import report_factories as f

APR_MAY = reports.ReportFilter("2024-04", "2024-05")
TODAY = dt.date(2024, 6, 1)


@pytest.fixture
def data(db):
    return f.standard_data()


@pytest.fixture
def exported(data, tmp_path):
    target = tmp_path / "qa.xlsx"
    result = xlsx.export_workbook(reports.workbook_data(APR_MAY, actor="lead", today=TODAY), target, actor="lead",
                                  purpose="Board pack", recipient="Service to the Public Board")
    return result, openpyxl.load_workbook(target)


def table(sheet):
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row)) for row in rows[1:]]


def test_workbook_has_every_sheet(exported):
    _, wb = exported
    assert wb.sheetnames == ["Summary", "Summary chart", "About", "Reviews cp_check", "Reviews mosovo_di_check",
                             "Themes", "Compliance", "Calibration", "Reviewer calibration", "Actions", "Case studies",
                             "Samples", "Register"]


def test_the_register_sheet_is_the_updated_action_plan(exported):
    _, wb = exported
    rows = {r["Reference"]: r for r in table(wb["Register"])}
    assert rows["2021-R1"]["Timescale"] == "immediately" and rows["PFD-G"]["Kind"] == "coroner's concern"
    assert rows["2021-R1"]["Latest progress"].startswith("01 Oct 2022: 2022 re-inspection")


def summary_rows(wb):
    return {(r["Grading scale"], r["Area"], r["Grade"]): r for r in table(wb["Summary"])}


def test_summary_grade_counts_and_intervals_match_the_database(exported):
    _, wb = exported
    rows = summary_rows(wb)
    da = {grade: rows[("HMICFRS case grade", f.CP_AREA, grade)] for grade in ("Good", "Requires improvement", "Inadequate")}
    assert [(r["Reviews"], r["n"]) for r in da.values()] == [(5, 2), (5, 2), (5, 1)]
    expected = stats.wilson(2, 5)
    assert da["Good"]["%"] == pytest.approx(expected.p)
    assert (da["Good"]["95% low"], da["Good"]["95% high"]) == (pytest.approx(expected.low), pytest.approx(expected.high))
    assert da["Good"]["Sample size"] == "small (under 30): indicative only"
    assert rows[("HMICFRS case grade", "All areas", "Good")]["Reviews"] == 6
    assert wb["Summary"]["F2"].number_format == "0.0%"


def test_summary_takes_each_share_over_the_reviews_graded_on_its_own_scale(exported):
    """The MOSOVO checks' compliance grades are not shares of the case grades, nor the reverse: each
    scale has its own rows and its own denominator, so the sheet stays narrow enough to print."""
    _, wb = exported
    rows = summary_rows(wb)
    compliant = rows[("SOP compliance", f.MOSOVO_AREA, "Compliant")]
    assert (compliant["Reviews"], compliant["n"]) == (3, 1)
    assert compliant["%"] == pytest.approx(1 / 3)
    assert rows[("SOP compliance", "All areas", "Partially compliant")]["n"] == 2
    assert ("SOP compliance", f.CP_AREA, "Compliant") not in rows  # no area is shown on a scale it never used
    assert ("HMICFRS case grade", f.MOSOVO_AREA, "Good") not in rows
    assert all(r["Sample size"].startswith("small") for r in rows.values() if 0 < r["Reviews"] < stats.SMALL_SAMPLE)
    assert wb["Summary"].max_column == 9


def test_a_group_of_ten_reviews_is_flagged_as_a_small_sample():
    from qatt.reporting.figures import GradeDistribution, GradeShare
    from qatt.reporting.filters import Vocabulary

    vocab = Vocabulary.load()
    ten = GradeDistribution("Area A", 10, [GradeShare("good", "Good", stats.wilson(6, 10)),
                                           GradeShare("inadequate", "Inadequate", stats.wilson(4, 10))])
    thirty = GradeDistribution("Area B", 30, [GradeShare("good", "Good", stats.wilson(30, 30))])
    overall = GradeDistribution("All", 40, [GradeShare("good", "Good", stats.wilson(36, 40)),
                                            GradeShare("inadequate", "Inadequate", stats.wilson(4, 40))])
    (scale,) = reports.scale_summaries([ten, thirty], overall, vocab)
    assert scale.title == "HMICFRS case grade"
    assert [label for _, label in scale.grades] == ["Good", "Requires improvement", "Inadequate"]
    assert [(area, n, scale.small(n)) for area, n, _ in scale.groups] == [
        ("Area A", 10, True), ("Area B", 30, False), ("All areas", 40, False)]


def test_summary_chart_sheet_carries_a_native_bar_chart_per_scale(data, tmp_path):
    target = tmp_path / "chart.xlsx"
    xlsx.export_workbook(reports.workbook_data(APR_MAY), target, actor="lead")
    import zipfile

    with zipfile.ZipFile(target) as archive:
        charts = sorted(n for n in archive.namelist() if n.startswith("xl/charts/chart"))
        assert len(charts) == 2  # the case grades and the MOSOVO compliance grades
        chart = archive.read(charts[0])
    assert b"<barChart>" in chart
    sheet = openpyxl.load_workbook(target)["Summary chart"]
    categories = re.search(rb"<cat><numRef><f>'Summary chart'!\$A\$(\d+):\$A\$(\d+)</f>", chart)
    first, last = int(categories.group(1)), int(categories.group(2))
    assert [sheet.cell(row, 1).value for row in range(first, last + 1)] == ["Domestic abuse referrals",
                                                                             "Missing children"]
    assert sheet.cell(first - 1, 2).value == "Good" and sheet.cell(first, 2).value == 2  # counts per area
    # Grade headings wrap rather than print cut ("Requires improvement" is wider than its column).
    assert sheet.cell(first - 1, 3).value == "Requires improvement" and sheet.cell(first - 1, 3).alignment.wrap_text
    assert [b.id for b in sheet.row_breaks.brk]  # the second scale's chart starts a printed page


def test_reviews_sheet_has_readable_question_headings_and_real_dates(exported, data):
    _, wb = exported
    rows = {r["Review ID"]: r for r in table(wb["Reviews cp_check"])}
    assert len(rows) == 8
    may1 = rows[data.reviews["may1"].id]
    assert may1["C1 Ethnicity recorded"] == "Yes"
    assert may1["C2 Voice of the child recorded"] == "N/A"
    assert may1["Date of visit"] == dt.datetime(2024, 5, 2)
    assert may1["Submitted"] == dt.datetime(2024, 5, 20, 10, 30)
    assert may1["Days until the PPN reached CSC"] == 3
    assert len(table(wb["Reviews mosovo_di_check"])) == 3


def test_formula_looking_text_is_stored_as_text(exported, data):
    _, wb = exported
    sheet = wb["Reviews cp_check"]
    headers = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == data.reviews["may1"].id)
    cells = {h: c for h, c in zip(headers, row)}
    for heading, value in [("Case reference", "=CMD|' /C calc'!A0"), ("Strengths", f.HOSTILE_TEXT),
                           ("Notes", f.HOSTILE_TEXT), ("Feedback", "+44 call back")]:
        assert cells[heading].data_type == "s", heading
        assert cells[heading].value == value
    action = next(r for r in wb["Actions"].iter_rows(min_row=2) if r[4].value == "-Chase the PPN")
    assert action[4].data_type == "s" and action[5].value == "DS Jones"
    owner = next(r for r in wb["Actions"].iter_rows(min_row=2) if r[4].value == "Brief the team")[5]
    assert owner.data_type == "s" and owner.value == "@sergeant"


def test_control_characters_are_dropped_rather_than_breaking_the_file(data, tmp_path):
    data.reviews["may2"].strengths = "tab\there\x01bell\x0b"
    data.reviews["may2"].save()
    target = tmp_path / "ctrl.xlsx"
    xlsx.export_workbook(reports.workbook_data(APR_MAY), target, actor="lead")
    rows = {r["Review ID"]: r for r in table(openpyxl.load_workbook(target)["Reviews cp_check"])}
    assert rows[data.reviews["may2"].id]["Strengths"] == "tab\therebell"


def test_every_sheet_has_the_marking_in_header_and_footer_frozen_headings_and_a_filter(exported):
    _, wb = exported
    for sheet in wb.worksheets:
        assert sheet.oddHeader.center.text == "OFFICIAL-SENSITIVE", sheet.title
        assert sheet.oddFooter.center.text == "OFFICIAL-SENSITIVE", sheet.title
        assert sheet.freeze_panes == "A2", sheet.title
    for title in ("Summary", "Reviews cp_check", "Themes", "Compliance", "Actions", "Samples"):
        assert wb[title].auto_filter.ref.startswith("A1:"), title
    assert wb["Reviews cp_check"].column_dimensions["P"].width > 0


def test_marking_override_and_ampersand_in_marking(data, tmp_path):
    target = tmp_path / "marked.xlsx"
    xlsx.export_workbook(reports.workbook_data(APR_MAY, marking="OFFICIAL & SENSITIVE"), target, actor="lead")
    wb = openpyxl.load_workbook(target)
    assert wb["Themes"].oddHeader.center.text == "OFFICIAL && SENSITIVE"  # '&&' prints one '&' in Excel


def test_compliance_sheet_matches_the_database(exported):
    _, wb = exported
    rows = [r for r in table(wb["Compliance"]) if r["Item"] == "C1 Ethnicity recorded"]
    by_month = {r["Month"]: r for r in rows}
    assert (by_month["2024-05"]["Yes"], by_month["2024-05"]["Yes + no"]) == (3, 4)
    assert by_month["2024-05"]["Rolling 6 months: yes + no"] == 6
    assert by_month["All"]["Compliance %"] == pytest.approx(4 / 6)


def test_themes_calibration_actions_and_samples_sheets(exported):
    _, wb = exported
    themes = {r["Theme"]: r for r in table(wb["Themes"])}
    assert themes["Supervision and supervisory oversight"]["Weakness n"] == 2
    calibration = [row for row in wb["Calibration"].iter_rows(values_only=True)]
    flat = {row[0]: row[1] for row in calibration if row and row[0]}
    agreement = stats.agreement([("good", "requires_improvement"), ("requires_improvement", "requires_improvement")],
                                ["good", "requires_improvement", "inadequate"])
    assert flat["Cohen's kappa"] == stats.kappa_text(agreement.kappa)
    assert flat["Same grade"] == 1 and flat["First grade better than second"] == 1
    assert [r["Action"] for r in table(wb["Actions"])] == ["-Chase the PPN", "Brief the team"]
    samples = table(wb["Samples"])
    assert [(s["Month"], s["Seed"], s["Population fingerprint (SHA-256)"]) for s in samples] == [
        ("2024-04", "1000", "ab" * 32), ("2024-05", "1001", "ab" * 32)]
    assert isinstance(samples[0]["Drawn at"], dt.datetime)


def test_export_records_a_disclosure_event_without_content(exported):
    result, _ = exported
    event = m.AuditEvent.select().where(m.AuditEvent.action == "disclosure").get()
    assert event.actor == "lead" and event.object_id == "qa.xlsx"
    assert event.details["purpose"] == "Board pack"
    assert event.details["recipient"] == "Service to the Public Board"
    assert event.details["rows"]["Reviews cp_check"] == 8
    assert "HYPERLINK" not in str(event.details)
    assert result.rows == event.details["rows"]


def test_cancelled_export_leaves_no_file_and_no_temporary_file(data, tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx, "PROGRESS_EVERY", 2)
    token = CancelToken()
    token.cancel()
    target = tmp_path / "out" / "qa.xlsx"
    with pytest.raises(Cancelled):
        xlsx.export_workbook(reports.workbook_data(APR_MAY), target, actor="lead", cancel=token)
    assert list(target.parent.iterdir()) == []
    assert not m.AuditEvent.select().where(m.AuditEvent.action == "disclosure").exists()


def test_failure_mid_export_keeps_the_previous_file(data, tmp_path, monkeypatch):
    target = tmp_path / "out" / "qa.xlsx"
    target.parent.mkdir()
    target.write_bytes(b"previous export")
    monkeypatch.setattr(xlsx, "PROGRESS_EVERY", 2)

    def broken_progress(done, total, message):
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        xlsx.export_workbook(reports.workbook_data(APR_MAY), target, actor="lead", progress=broken_progress)
    assert [p.name for p in target.parent.iterdir()] == ["qa.xlsx"]
    assert target.read_bytes() == b"previous export"


def test_sheet_titles_are_legal_and_unique():
    assert xlsx.sheet_title("Reviews a/b:c*d?[e]", []) == "Reviews a b c d  e"
    long = "Reviews " + "x" * 40
    first = xlsx.sheet_title(long, [])
    assert len(first) == 31
    second = xlsx.sheet_title(long, [first])
    assert second.endswith(" (2)") and len(second) == 31


def test_cli_exports_the_workbook_for_a_qa_lead_and_refuses_a_reviewer(data, db, tmp_path, capsys):
    import json

    from qatt import cli
    from tests.factories import make_user

    make_user("lead", "qa_lead")
    target = tmp_path / "cli.xlsx"
    args = ["--db", db.qatt_url, "export", "xlsx", "--out", str(target), "--from", "2024-04", "--to", "2024-05",
            "--purpose", "Board", "--recipient", "ACC", "--marking", "OFFICIAL", "--json"]
    assert cli.main(args + ["--user", "lead"]) == 0
    output = json.loads(capsys.readouterr().out)
    assert output["rows"]["Reviews cp_check"] == 8 and output["marking"] == "OFFICIAL"
    assert openpyxl.load_workbook(target)["Summary"].oddHeader.center.text == "OFFICIAL"
    assert cli.main(args + ["--user", "rev1"]) == 2
    assert "only a qa lead" in capsys.readouterr().err


def test_a_repeated_formula_looking_text_is_text_every_time_and_the_rows_given_are_left_alone(tmp_path):
    """The writer decides once per distinct string and reuses the text cell; every occurrence, in one
    row or many, must still be stored as text, and the caller's rows must not change."""
    wb = openpyxl.Workbook(write_only=True)
    sheet = xlsx._SheetWriter(wb, "T", [("A", "text"), ("B", "text"), ("C", "text")], "OFFICIAL")
    rows = [["=SUM(A1)", "=SUM(A1)", "plain"], ["plain", "=SUM(A1)", "bell\x07"], ["plain", "plain", "plain"]]
    given = [list(r) for r in rows]
    for row in rows:
        sheet.append(row)
    assert rows == given
    sheet.finish()
    wb.save(tmp_path / "t.xlsx")
    cells = list(openpyxl.load_workbook(tmp_path / "t.xlsx")["T"].iter_rows())
    assert [[c.value for c in r] for r in cells] == [["=SUM(A1)", "=SUM(A1)", "plain"], ["plain", "=SUM(A1)", "bell"],
                                                    ["plain", "plain", "plain"]]
    assert all(c.data_type == "s" for r in cells for c in r)
    assert cells[0][0].quotePrefix and cells[0][1].quotePrefix and cells[1][1].quotePrefix
