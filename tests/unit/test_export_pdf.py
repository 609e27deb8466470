"""The PDF packs, read back with pypdf and checked against the database."""

from __future__ import annotations

import datetime as dt
import re

import pypdf
import pytest

from exports import pdf
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


def read(path):
    reader = pypdf.PdfReader(str(path))
    pages = [page.extract_text() for page in reader.pages]
    return reader, pages, re.sub(r"\s+", " ", " ".join(pages))


def outline_titles(outline):
    titles = []
    for entry in outline:
        titles += outline_titles(entry) if isinstance(entry, list) else [entry.title]
    return titles


def test_monthly_report_figures_match_the_database(data, tmp_path):
    target = tmp_path / "monthly.pdf"
    report = reports.monthly_report(APR_MAY, actor="lead", today=TODAY)
    result = pdf.export_monthly(report, target, actor="lead", purpose="Board", recipient="Service to the Public Board")
    reader, pages, whole = read(target)
    assert result.rows["pages"] == len(pages)
    assert "9 first reviews and 2 independent second reviews" in whole
    assert stats.wilson(2, 5).percent_text() in whole  # Good in Domestic abuse referrals
    assert stats.wilson(4, 6).percent_text() in whole  # C1 compliance over the period
    kappa = report.calibration[0].agreement.kappa
    assert f"Cohen's kappa {stats.kappa_text(kappa)}" in whole
    assert "Visits double-crewed: 33.3% (1/3; 95% CI" in whole and "84% reported in D0" in whole
    # Like for like: the inspections are set against the 2 independent grades (both RI), never the first reviews.
    assert "2 grades from the force's independent second reviews" in whole
    assert "Good fell from 25.3% to 0.0%" in whole
    assert "rose from 25.3% to 50.0%" not in whole  # the first reviews' Good share against the 2021 inspection
    assert "Small sample" in whole
    assert "ab" * 32 in whole.replace(" ", "")  # the population fingerprint in the methodology


def test_the_monthly_report_compares_the_month_with_the_one_before(data, tmp_path):
    may = reports.ReportFilter.for_month("2024-05")
    pdf.export_monthly(reports.monthly_report(may, today=TODAY), tmp_path / "may.pdf", actor="lead")
    _, _, whole = read(tmp_path / "may.pdf")
    assert "Change from the previous period" in whole
    assert "Against the previous period (2024-04), 2 graded reviews, this period's 4:" in whole
    assert "Requires improvement rose from 0.0% to 50.0%" in whole
    pdf.export_monthly(reports.monthly_report(reports.ReportFilter.for_month("2024-04"), today=TODAY),
                       tmp_path / "april.pdf", actor="lead")
    _, _, whole = read(tmp_path / "april.pdf")
    # Nothing to compare with (March has no reviews): the section is left out and named, not printed empty.
    assert "Change from the previous period" not in whole.split("Left out, with nothing to report")[0]
    assert re.search(r"Left out, with nothing to report for this period: [^.]*Change from the previous period", whole)


def test_every_page_has_the_marking_top_and_bottom_and_page_x_of_y(data, tmp_path):
    target = tmp_path / "monthly.pdf"
    pdf.export_monthly(reports.monthly_report(APR_MAY, marking="OFFICIAL"), target, actor="lead")
    _, pages, _ = read(target)
    assert len(pages) > 2
    for number, page in enumerate(pages, start=1):
        assert page.count("OFFICIAL") >= 2, number
        assert f"Page {number} of {len(pages)}" in page


def test_bookmarks_and_metadata(data, tmp_path):
    target = tmp_path / "pack.pdf"
    pdf.export_pack(reports.inspection_pack(APR_MAY, actor="lead"), target, actor="lead")
    reader, _, _ = read(target)
    titles = outline_titles(reader.outline)
    for expected in ("Summary of judgements", f.CP_AREA, "Case-file analysis", "Recommendations tracker",
                     "Methodology annex", "MOSOVO compliance and reported rates"):
        assert expected in titles
    assert reader.metadata.title == "Inspection self-assessment pack [OFFICIAL-SENSITIVE]"
    assert reader.metadata.author == "lead"
    assert reader.metadata.get("/Keywords") == "OFFICIAL-SENSITIVE"


def test_pack_follows_the_inspectorate_structure(data, tmp_path):
    target = tmp_path / "pack.pdf"
    pdf.export_pack(reports.inspection_pack(APR_MAY, today=TODAY), target, actor="lead")
    _, _, whole = read(target)
    for heading in ("Strengths", "Work in progress", "Areas for improvement", "Case-file analysis"):
        assert heading in whole
    assert "Supervision and supervisory oversight: a weakness in 2 of 2 reviews" in whole
    assert "Supervise sooner" in whole
    assert "2021-R10" in whole and "not started" in whole


def test_user_text_with_markup_prints_literally(data, tmp_path):
    review = data.reviews["may1"]
    m.Case.update(area=f.HOSTILE_TEXT).where(m.Case.id == review.sample_item.case_id).execute()
    for export, build, name in [
        (pdf.export_feedback, lambda: reports.feedback_sheet(review.id), "feedback.pdf"),
        (pdf.export_pack, lambda: reports.inspection_pack(APR_MAY), "pack.pdf"),
        (pdf.export_monthly, lambda: reports.monthly_report(APR_MAY), "monthly.pdf"),
    ]:
        export(build(), tmp_path / name, actor="lead")
        _, _, whole = read(tmp_path / name)
        assert "<b>bold</b> & <font" in whole, name


def test_feedback_sheet_lists_answers_and_actions(data, tmp_path):
    target = tmp_path / "feedback.pdf"
    pdf.export_feedback(reports.feedback_sheet(data.reviews["may1"].id, today=TODAY), target, actor="lead")
    reader, pages, whole = read(target)
    assert "C2 Voice of the child recorded N/A" in whole
    assert "-Chase the PPN" in whole and "Record the plan" in whole
    assert "Checklist" in outline_titles(reader.outline)
    assert "Page 1 of 1" in pages[0]


def test_export_records_a_disclosure_event(data, tmp_path):
    pdf.export_monthly(reports.monthly_report(APR_MAY), tmp_path / "m.pdf", actor="lead", purpose="Board",
                       recipient="ACC")
    event = m.AuditEvent.select().where(m.AuditEvent.action == "disclosure").get()
    assert (event.object_id, event.details["report"], event.details["purpose"], event.details["recipient"]) == (
        "m.pdf", "monthly", "Board", "ACC")
    assert event.details["rows"]["reviews"] == 9


def test_cancelled_pdf_leaves_no_file(data, tmp_path):
    token = CancelToken()
    calls = []

    def cancel_after_a_few(done, total, message):
        calls.append(done)
        if done == 5:
            token.cancel()

    target = tmp_path / "out" / "pack.pdf"
    with pytest.raises(Cancelled):
        pdf.export_pack(reports.inspection_pack(APR_MAY), target, actor="lead", progress=cancel_after_a_few,
                        cancel=token)
    assert calls[-1] == 5
    assert list(target.parent.iterdir()) == []
    assert not m.AuditEvent.select().where(m.AuditEvent.action == "disclosure").exists()


def test_failed_pdf_keeps_the_previous_file(data, tmp_path, monkeypatch):
    target = tmp_path / "out" / "monthly.pdf"
    target.parent.mkdir()
    target.write_bytes(b"previous")

    def broken(*args, **kwargs):
        raise RuntimeError("layout failed")

    monkeypatch.setattr(pdf, "methodology_block", broken)
    with pytest.raises(RuntimeError, match="layout failed"):
        pdf.export_monthly(reports.monthly_report(APR_MAY), target, actor="lead")
    assert [p.name for p in target.parent.iterdir()] == ["monthly.pdf"]
    assert target.read_bytes() == b"previous"


def test_cli_writes_each_pdf_and_lets_a_reviewer_print_only_their_own_feedback(data, db, tmp_path, capsys):
    from qatt import cli
    from tests.factories import make_user

    make_user("lead", "qa_lead")
    base = ["--db", db.qatt_url]
    assert cli.main(base + ["export", "pdf", "--purpose", "Board", "--recipient", "ACC", "--report", "pack", "--out", str(tmp_path / "p.pdf"), "--from", "2024-04",
                            "--to", "2024-05", "--user", "lead"]) == 0
    assert cli.main(base + ["export", "pdf", "--purpose", "Board", "--recipient", "ACC", "--out", str(tmp_path / "m.pdf"), "--period", "2024-05", "--user", "lead"]) == 0
    _, _, whole = read(tmp_path / "m.pdf")
    assert "7 first reviews" in whole
    review = str(data.reviews["may1"].id)
    assert cli.main(base + ["export", "pdf", "--purpose", "Board", "--recipient", "ACC", "--report", "feedback", "--review", review, "--out",
                            str(tmp_path / "own.pdf"), "--user", "rev1"]) == 0
    assert cli.main(base + ["export", "pdf", "--purpose", "Board", "--recipient", "ACC", "--report", "feedback", "--review", review, "--out",
                            str(tmp_path / "other.pdf"), "--user", "di"]) == 2
    assert not (tmp_path / "other.pdf").exists()
    assert cli.main(base + ["export", "pdf", "--purpose", "Board", "--recipient", "ACC", "--report", "feedback", "--out", str(tmp_path / "x.pdf"), "--user", "lead"]) == 2
    assert "needs --review" in capsys.readouterr().err


def test_an_empty_month_prints_a_summary_and_its_samples_but_no_empty_headings(data, tmp_path):
    empty = reports.ReportFilter.for_month("2024-03")
    m.Sample.create(population=data.scenario.population, name="March draw", period="2024-03", method="simple",
                    params={"size": 5}, seed="42", population_fingerprint="cd" * 32, software_version="test")
    target = tmp_path / "empty.pdf"
    pdf.export_monthly(reports.monthly_report(empty, today=TODAY), target, actor="lead")
    reader, _, whole = read(target)
    titles = outline_titles(reader.outline)
    assert titles == ["Executive summary", "Methodology"]
    assert "No reviews were submitted for this period." in whole
    assert "only 0 cases" not in whole and "Small sample: only 0" not in whole
    assert "March draw" in whole and "0 of 0 first reviews" not in whole  # the unreviewed sample is listed
    assert "Left out, with nothing to report for this period: Headline figures" in whole


def test_a_full_month_opens_with_an_executive_summary_and_lists_every_drawn_sample(data, tmp_path):
    unreviewed = m.Sample.create(population=data.scenario.population, name="Extra May draw", period="2024-05",
                                 method="simple", params={"size": 5}, seed="7", population_fingerprint="ef" * 32,
                                 software_version="test")
    report = reports.monthly_report(APR_MAY, today=TODAY)
    assert unreviewed.id in [s.id for s in report.samples]
    target = tmp_path / "full.pdf"
    pdf.export_monthly(report, target, actor="lead")
    reader, _, whole = read(target)
    titles = outline_titles(reader.outline)
    assert titles[0] == "Executive summary" and "Headline figures" in titles and "Methodology" in titles
    assert "9 first reviews and 2 independent second reviews were submitted." in whole
    assert "Extra May draw" in whole and "Every sample drawn for the period is listed, reviewed or not." in whole
    assert "Charts are drawn only for groups of at least 30 reviews" in whole  # no chart for 5 cases
    assert "against targets" not in whole and "reported rates" in whole
