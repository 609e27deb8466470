"""Good- and poor-practice case studies: who may choose one, the audit trail, the pack, the purge, the CLI."""

import datetime as dt
import json

import openpyxl
import pypdf
import pytest

from exports import pdf, xlsx
from qatt import reports
from qatt.reviewing import case_studies, reviews
from qatt.trust import retention
from qatt.cli import main
from qatt.errors import PermissionDenied, QattError
from qatt.storage import db as dbmod
from qatt.storage import models as m
from tests.unit.test_reviews import alterations, forms_dir, items, start, submitted_review  # noqa: F401 - fixtures

ACCOUNT = ("A referral about a baby with bruising was triaged within the hour, the child was seen the same day "
           "and a strategy discussion was held with children's social care.")


def test_a_reviewer_chooses_their_own_submitted_review_and_the_change_is_audited(items, forms_dir):  # noqa: F811
    review = submitted_review(items[0], forms_dir)
    study = case_studies.record_case_study(review.id, "sup.a", "good", "  Same-day visit  ", ACCOUNT)
    assert (study.kind, study.title, study.recorded_by) == ("good", "Same-day visit", "sup.a")
    assert case_studies.case_study_of(review.id) == case_studies.CaseStudyText("good", "Same-day visit", ACCOUNT)

    case_studies.record_case_study(review.id, "sup.a", "poor", "Same-day visit", ACCOUNT)
    assert m.CaseStudy.select().count() == 1  # one per review: rewritten, not added
    changes = [details["case_study"] for details in alterations(review.id) if "case_study" in details]
    assert changes[0] == {"old": None, "new": {"kind": "good", "title": "Same-day visit", "summary": ACCOUNT}}
    assert changes[1]["old"]["kind"] == "good" and changes[1]["new"]["kind"] == "poor"

    case_studies.remove_case_study(review.id, "sup.a")
    assert case_studies.case_study_of(review.id) is None
    assert alterations(review.id)[-1]["case_study"]["new"] is None


def test_only_the_reviewer_or_a_qa_lead_may_choose_a_review_and_only_once_submitted(items, forms_dir):  # noqa: F811
    draft = start(items[1], forms_dir=forms_dir)
    with pytest.raises(QattError, match="still a draft"):
        case_studies.record_case_study(draft.id, "sup.a", "good", "Title", ACCOUNT)
    review = submitted_review(items[0], forms_dir)
    with pytest.raises(PermissionDenied):
        case_studies.record_case_study(review.id, "sup.b", "good", "Title", ACCOUNT)
    assert case_studies.record_case_study(review.id, "lead", "good", "Title", ACCOUNT).recorded_by == "lead"
    assert m.CaseStudy.select().count() == 1


@pytest.mark.parametrize("kind, title, summary, message", [
    ("excellent", "Title", ACCOUNT, "good or poor"),
    ("good", "   ", ACCOUNT, "a title and a short account"),
    ("good", "Title", "", "a title and a short account"),
])
def test_an_incomplete_case_study_is_refused(items, forms_dir, kind, title, summary, message):  # noqa: F811
    review = submitted_review(items[0], forms_dir)
    with pytest.raises(QattError, match=message):
        case_studies.record_case_study(review.id, "sup.a", kind, title, summary)
    assert m.CaseStudy.select().count() == 0


def test_saving_the_same_case_study_again_changes_nothing(items, forms_dir):  # noqa: F811
    review = submitted_review(items[0], forms_dir)
    case_studies.record_case_study(review.id, "sup.a", "good", "Title", ACCOUNT)
    with pytest.raises(QattError, match="unchanged"):
        case_studies.record_case_study(review.id, "sup.a", "good", "Title", ACCOUNT)
    with pytest.raises(QattError, match="not a case study"):
        case_studies.remove_case_study(submitted_review(items[1], forms_dir).id, "sup.a")


def test_the_pack_prints_the_case_studies_of_its_period(items, forms_dir, tmp_path):  # noqa: F811
    good = submitted_review(items[0], forms_dir)
    poor = submitted_review(items[1], forms_dir)
    case_studies.record_case_study(good.id, "sup.a", "good", "Same-day visit", ACCOUNT)
    case_studies.record_case_study(poor.id, "sup.a", "poor", "Referral <b>lost</b> for 9 days", "No one owned it.")
    vocab = reports.Vocabulary.load()
    rows = reports.case_studies(reports.ReportFilter.for_month("2024-05"), vocab)
    assert [(r.kind_label, r.title, r.area) for r in rows] == [
        ("Good practice", "Same-day visit", "Domestic abuse referrals"),
        ("Poor practice", "Referral <b>lost</b> for 9 days", "Domestic abuse referrals")]
    assert reports.case_studies(reports.ReportFilter.for_month("2024-06"), vocab) == []

    pack = reports.inspection_pack(reports.ReportFilter.for_month("2024-05"), actor="lead")
    assert [c.review_id for c in pack.case_studies] == [good.id, poor.id]
    pdf.export_pack(pack, tmp_path / "pack.pdf", actor="lead", purpose="Inspection", recipient="HMICFRS")
    whole = " ".join(" ".join(page.extract_text() for page in pypdf.PdfReader(str(tmp_path / "pack.pdf")).pages).split())
    assert "Good-practice and poor-practice case studies" in whole
    assert "Good practice: Same-day visit" in whole and ACCOUNT in whole
    assert "Poor practice: Referral <b>lost</b> for 9 days" in whole  # typed text is printed, not interpreted

    xlsx.export_workbook(reports.workbook_data(reports.ReportFilter.for_month("2024-05")), tmp_path / "qa.xlsx",
                         actor="lead", purpose="Board", recipient="Board")
    sheet = openpyxl.load_workbook(tmp_path / "qa.xlsx")["Case studies"]
    table = [row for row in sheet.iter_rows(values_only=True)][1:]  # under the heading row
    assert [(r[0], r[1], r[2], r[3]) for r in table] == [
        (good.id, "Good practice", "Same-day visit", ACCOUNT),
        (poor.id, "Poor practice", "Referral <b>lost</b> for 9 days", "No one owned it.")]


def test_a_pack_without_case_studies_says_how_to_choose_one(db, tmp_path):
    pack = reports.inspection_pack(reports.ReportFilter(), actor="lead")
    pdf.export_pack(pack, tmp_path / "pack.pdf", actor="lead")
    whole = " ".join(" ".join(p.extract_text() for p in pypdf.PdfReader(str(tmp_path / "pack.pdf")).pages).split())
    assert "No reviews in this period were chosen as case studies" in whole


def test_a_purge_deletes_the_case_studies_of_the_reviews_it_deletes(items, forms_dir):  # noqa: F811
    m.Case.update(recorded_date=dt.date(2017, 1, 1)).where(m.Case.id == items[0].case_id).execute()
    old, kept = submitted_review(items[0], forms_dir), submitted_review(items[1], forms_dir)
    for review in (old, kept):
        case_studies.record_case_study(review.id, "sup.a", "good", f"Case study {review.id}", ACCOUNT)
    m.User.update(role="admin").where(m.User.username == "lead").execute()
    retention.purge(dt.date(2020, 1, 1), "lead")
    assert [s.review_id for s in m.CaseStudy.select()] == [kept.id]


def test_the_cli_chooses_lists_and_removes_case_studies(capsys, items, forms_dir):  # noqa: F811
    review = submitted_review(items[0], forms_dir)
    db = dbmod.database_proxy.obj
    url = db.qatt_url

    def run(*args, user="sup.a"):
        code = main(["--db", url, "--user", user, "--json", *args])
        dbmod.bind(db)
        out, err = capsys.readouterr()
        return code, (json.loads(out) if code == 0 else None), err

    code, data, _ = run("case-study", str(review.id), "--kind", "good", "--title", "Same-day visit", "--summary", ACCOUNT)
    assert code == 0 and data["case_study"]["kind"] == "good"
    code, data, _ = run("review", "show", str(review.id))
    assert code == 0 and data["case_study"] == {"kind": "good", "title": "Same-day visit", "summary": ACCOUNT}
    code, data, _ = run("case-studies", "--from", "2024-05", "--to", "2024-05")
    assert [(row["review_id"], row["title"]) for row in data] == [(review.id, "Same-day visit")]
    code, _, err = run("case-study", str(review.id), "--title", "No kind")
    assert code == 2 and "--kind good or --kind poor" in err
    code, _, err = run("case-study", str(review.id), "--kind", "poor", "--title", "T", "--summary", "S", user="sup.b")
    assert code == 2 and "case study" in err
    code, data, _ = run("case-study", str(review.id), "--remove")
    assert code == 0 and data["case_study"] is None and m.CaseStudy.select().count() == 0
    code, data, _ = run("review", "show", str(review.id))
    assert data["case_study"] is None
