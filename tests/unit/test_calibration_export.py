"""Reviewer profiles and the corrected estimate in the workbook and the PDF reports: coded unless the
force chooses names, and only for those who may see them."""

import openpyxl
import pytest
from pypdf import PdfReader

from exports.pdf import export_monthly, export_pack
from exports.xlsx import export_workbook
from qatt import reports
from qatt.agreement.calibration_report import names_in_exports, set_names_in_exports
from qatt.cli import main
from qatt.errors import PermissionDenied
from tests.factories import make_user
from tests.report_factories import child_protection_form, make_form_version, make_review, make_scenario

ONE_UP = {"requires_improvement": "good", "inadequate": "requires_improvement"}
FLT = reports.ReportFilter.for_month("2024-05")


@pytest.fixture
def paired(db):
    make_user("lead", "qa_lead")
    make_user("checker", "moderator")
    make_user("kind.reviewer")
    s = make_scenario()
    cp = make_form_version(child_protection_form())
    for i in range(30):
        truth = ("requires_improvement", "inadequate")[i % 2]
        item = s.case("2024-05")
        make_review(item, cp, ONE_UP[truth], reviewer="kind.reviewer")
        make_review(item, cp, truth, role="second", reviewer="checker")
    return db


def sheet_text(path):
    sheet = openpyxl.load_workbook(path)["Reviewer calibration"]
    return "\n".join(" ".join(str(c) for c in row if c is not None) for row in sheet.iter_rows(values_only=True))


def test_the_workbook_codes_reviewers_and_carries_the_estimate(paired, tmp_path):
    path = tmp_path / "book.xlsx"
    export_workbook(reports.workbook_data(FLT, actor="lead"), path, actor="lead")
    text = sheet_text(path)
    assert "Reviewer A" in text and "kind.reviewer" not in text
    assert "more lenient than independent review" in text
    assert "Corrected estimate" in text and "Assumes" in text


def test_names_appear_once_the_force_chooses_them(paired, tmp_path):
    with pytest.raises(PermissionDenied):
        set_names_in_exports("checker", True)
    assert main(["calibration", "--db", paired.qatt_url, "--user", "lead", "--names-in-exports", "yes"]) == 0
    assert names_in_exports()
    path = tmp_path / "book.xlsx"
    export_workbook(reports.workbook_data(FLT, actor="lead"), path, actor="lead")
    assert "kind.reviewer" in sheet_text(path)


def test_a_moderator_gets_the_estimate_but_not_the_profiles(paired, tmp_path):
    path = tmp_path / "book.xlsx"
    export_workbook(reports.workbook_data(FLT, actor="checker"), path, actor="checker")
    text = sheet_text(path)
    assert "Reviewer profiles are included only when a QA lead" in text
    assert "Reviewer A" not in text and "Good" in text


def test_the_pack_and_the_monthly_report_have_the_section(paired, tmp_path):
    for export, data, name in ((export_pack, reports.inspection_pack(FLT, actor="lead"), "pack.pdf"),
                               (export_monthly, reports.monthly_report(FLT, actor="lead"), "monthly.pdf")):
        export(data, tmp_path / name, actor="lead")
        pdf = " ".join(page.extract_text() for page in PdfReader(tmp_path / name).pages)
        assert "Reviewer calibration and the corrected estimate" in pdf
        assert "Reviewer A" in pdf and "kind.reviewer" not in pdf
        assert "It assumes" in pdf
