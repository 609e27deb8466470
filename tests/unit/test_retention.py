"""Retention purge and the audit-log commands."""

import datetime as dt
import json

import openpyxl
import pypdf
import pytest

from exports import pdf, xlsx
from qatt import reports
from qatt.trust import audit, retention, users
from qatt.cli import main
from qatt.errors import PermissionDenied, QattError
from qatt.storage import models as m


def _population_with_reviews():
    pop = m.Population.create(name="p", row_count=3, fingerprint="f")
    old1 = m.Case.create(population=pop, reference="OLD-1", area="Missing children", recorded_date=dt.date(2017, 5, 1),
                         summary="fictional summary")
    old2 = m.Case.create(population=pop, reference="OLD-2", area="Missing children", recorded_date=dt.date(2017, 6, 1))
    new = m.Case.create(population=pop, reference="NEW-1", area="Missing children", recorded_date=dt.date(2024, 6, 1))
    sample = m.Sample.create(population=pop, method="simple", params={"size": 3}, seed="1", period="2017-06",
                             population_fingerprint="f", software_version="t")
    fv = m.FormVersion.create(form_id="f1", content_hash="h" * 64, content={})
    for pos, case in enumerate([old1, old2, new]):
        item = m.SampleItem.create(sample=sample, case=case, position=pos)
        review = m.Review.create(sample_item=item, form_version=fv, reviewer="sup", status="submitted",
                                 grade="good" if pos else "inadequate")
        m.Answer.create(review=review, question_id="q1", value="yes")
        m.Action.create(review=review, text="do x")
        m.Assignment.create(sample_item=item, reviewer="sup")
    return pop, sample


def test_purge_removes_old_case_details_and_keeps_aggregates(db):
    users.ensure_user("admin1", "admin")
    pop, sample = _population_with_reviews()
    plan = retention.plan_purge(dt.date(2020, 1, 1))
    assert (plan.cases, plan.reviews, plan.populations) == (2, 2, 1)

    retention.purge(dt.date(2020, 1, 1), "admin1", reason="6-year retention")

    assert [c.reference for c in m.Case.select()] == ["NEW-1"]
    assert m.Review.select().count() == 1 and m.Answer.select().count() == 1
    assert m.Action.select().count() == 1 and m.Assignment.select().count() == 1
    figures = {(a.grade, a.count) for a in m.AggregateFigure.select()}
    assert figures == {("inadequate", 1), ("good", 1)}
    assert m.Population.get_by_id(pop.id).purged
    assert m.Sample.get_by_id(sample.id).seed == "1"  # the record of how cases were chosen stays
    event = m.AuditEvent.select().where(m.AuditEvent.action == audit.ERASURE).get()
    assert event.details["cases"] == 2 and event.details["reason"] == "6-year retention"
    assert audit.verify_chain().ok


def test_purge_twice_adds_to_existing_aggregates(db):
    users.ensure_user("admin1", "admin")
    _population_with_reviews()
    retention.purge(dt.date(2020, 1, 1), "admin1")
    _population_with_reviews_again = m.Population.create(name="q")
    case = m.Case.create(population=_population_with_reviews_again, reference="OLD-9", area="Missing children",
                         recorded_date=dt.date(2017, 1, 1))
    sample = m.Sample.create(population=_population_with_reviews_again, method="simple", params={}, seed="2",
                             period="2017-06", population_fingerprint="f", software_version="t")
    item = m.SampleItem.create(sample=sample, case=case, position=0)
    m.Review.create(sample_item=item, form_version=m.FormVersion.get(), reviewer="sup", status="submitted",
                    grade="good")
    retention.purge(dt.date(2020, 1, 1), "admin1")
    assert m.AggregateFigure.get(m.AggregateFigure.grade == "good").count == 2


def _grade_figures(flt):
    vocab = reports.Vocabulary.load()
    counts = lambda d: {s.grade: s.proportion.count for s in d.shares if s.proportion.count}  # noqa: E731
    return (counts(reports.overall_distribution(flt, vocab)),
            {d.group: counts(d) for d in reports.grade_distributions(flt, "month", vocab)},
            {d.group: counts(d) for d in reports.grade_distributions(flt, "area", vocab)})


def test_reports_count_purged_reviews_through_the_kept_figures(db):
    users.ensure_user("admin1", "admin")
    _population_with_reviews()
    everything, june_2017 = reports.ReportFilter(), reports.ReportFilter.for_month("2017-06")
    before = _grade_figures(everything), _grade_figures(june_2017)
    assert before[0][0] == {"good": 2, "inadequate": 1}

    retention.purge(dt.date(2020, 1, 1), "admin1")

    assert m.Review.select().count() == 1  # two of the three reviews are gone ...
    assert (_grade_figures(everything), _grade_figures(june_2017)) == before  # ... but not from the figures
    assert _grade_figures(reports.ReportFilter.for_month("2017-05"))[0] == {}
    assert _grade_figures(reports.ReportFilter(areas=["Missing children"], form_ids=["f1"]))[0] == before[0][0]
    assert _grade_figures(reports.ReportFilter(form_ids=["another form"]))[0] == {}
    # The kept figures have no team, so a team filter can only count the reviews still held.
    assert _grade_figures(reports.ReportFilter(teams=[""]))[0] == {"good": 1}


def test_reports_and_their_files_say_how_many_purged_reviews_the_grade_figures_hold(db, tmp_path):
    users.ensure_user("admin1", "admin")
    _population_with_reviews()
    everything = reports.ReportFilter()
    assert reports.monthly_report(everything).header.purged_note() == ""
    retention.purge(dt.date(2020, 1, 1), "admin1")

    monthly = reports.monthly_report(everything, actor="lead")
    assert monthly.header.purged_reviews == 2 and monthly.overall.total == 3
    assert monthly.header.purged_note().startswith("2 reviews deleted under the retention policy")
    assert reports.monthly_report(reports.ReportFilter.for_month("2024-01")).header.purged_reviews == 0
    feedback = reports.feedback_sheet(m.Review.select().get().id, actor="sup")
    assert feedback.header.purged_reviews == 0  # one review's feedback holds no grade figures

    pdf.export_monthly(monthly, tmp_path / "monthly.pdf", actor="lead", purpose="Board", recipient="Board")
    cover = pypdf.PdfReader(str(tmp_path / "monthly.pdf")).pages[0].extract_text()
    assert "2 reviews deleted under the retention policy" in " ".join(cover.split())
    xlsx.export_workbook(reports.workbook_data(everything, actor="lead"), tmp_path / "qa.xlsx", actor="lead",
                         purpose="Board", recipient="Board")
    about = {row[0]: row[1] for row in openpyxl.load_workbook(tmp_path / "qa.xlsx")["About"].iter_rows(values_only=True)}
    assert about["Retention"].startswith("2 reviews deleted under the retention policy")


def test_only_an_administrator_may_purge(db):
    users.ensure_user("rev", "reviewer")
    _population_with_reviews()
    with pytest.raises(PermissionDenied, match="admin"):
        retention.purge(dt.date(2020, 1, 1), "rev")
    assert m.Case.select().count() == 3


def test_purge_date_in_the_future_is_refused(db):
    users.ensure_user("admin1", "admin")
    with pytest.raises(QattError, match="future"):
        retention.purge(dt.date.today() + dt.timedelta(days=2), "admin1")


def test_purge_cli_refuses_without_confirmation_when_not_interactive(tmp_path, capsys, monkeypatch, training_db_path):
    url = str(training_db_path)
    import io
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["--db", url, "--user", "admin1", "purge", "--before", "2020-01-01"]) == 2
    assert "--yes" in capsys.readouterr().err


def test_audit_verify_and_export_cli(tmp_path, capsys, training_db_path):
    url = str(training_db_path)
    assert main(["--db", url, "audit", "verify", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is True
    # Only a QA lead may export the log.
    assert main(["--db", url, "--user", "nobody", "audit", "export", "--out", str(tmp_path / "a.csv")]) == 2
    from qatt.storage.db import open_database
    database = open_database(url)
    users.ensure_user("lead", "qa_lead")
    database.close()
    assert main(["--db", url, "--user", "lead", "audit", "export", "--out", str(tmp_path / "a.csv"),
                 "--purpose", "ICO request"]) == 0
    lines = (tmp_path / "a.csv").read_text().splitlines()
    assert lines[0].startswith("id,at,actor,action")
    # The export itself is a disclosure and is logged.
    capsys.readouterr()
    assert main(["--db", url, "audit", "verify", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["events"] >= 1


def test_audit_verify_cli_exits_1_on_a_broken_chain(tmp_path, capsys, training_db_path):
    url = str(training_db_path)
    from qatt.storage.db import open_database
    database = open_database(url)
    audit.record("a", audit.COLLECTION, "population", 1)
    audit.record("a", audit.COLLECTION, "population", 2)
    m.AuditEvent.update(actor="mallory").where(m.AuditEvent.object_id == "1").execute()
    database.close()
    assert main(["--db", url, "audit", "verify"]) == 1
    assert "BROKEN" in capsys.readouterr().out


def test_first_cli_user_of_a_new_database_becomes_administrator(tmp_path, capsys, training_db_path):
    url = str(training_db_path)
    assert main(["--db", url, "--user", "chief", "users", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"active": True, "role": "admin", "team": "", "username": "chief"}]
    # ...so the README's set-up works: the administrator gives a role, a later user cannot.
    assert main(["--db", url, "--user", "chief", "users", "--set-role", "alice", "qa_lead"]) == 0
    assert main(["--db", url, "--user", "alice", "users", "--set-role", "alice", "admin"]) == 2


def test_after_a_purge_and_vacuum_no_purged_reference_or_text_is_left_in_the_file(sqlite_db, tmp_path):
    """Case content lives in the cases, the reviews and the audit details of their changes: all of it
    goes, while every audit row stays and the chain still verifies (docs/audit.md)."""
    from qatt.reviewing import case_studies, reviews
    from tests.factories import form_dict, make_user, write_form

    folder = tmp_path / "forms"
    write_form(folder, form_dict())
    make_user("admin1", "admin")
    make_user("sup.a")
    make_user("lead", "qa_lead")
    pop = m.Population.create(name="p", row_count=2, fingerprint="f")
    old = m.Case.create(population=pop, reference="GONEREF-1", area="Domestic abuse referrals",
                        recorded_date=dt.date(2017, 5, 1), summary="GONESUMMARY of the case", officer="GONEOFFICER")
    new = m.Case.create(population=pop, reference="KEPTREF-1", area="Domestic abuse referrals",
                        recorded_date=dt.date(2024, 6, 1))
    sample = m.Sample.create(population=pop, method="simple", params={"size": 2}, seed="1", period="2017-06",
                             population_fingerprint="f", software_version="t", form_id="test_form",
                             excluded_references=["GONEREF-2", "KEPTREF-1"])
    m.Case.create(population=pop, reference="GONEREF-2", area="x", recorded_date=dt.date(2017, 1, 1))
    for position, case in enumerate([old, new]):
        item = m.SampleItem.create(sample=sample, case=case, position=position)
        review = reviews.start_review(item.id, "sup.a", forms_dir=folder)
        mark = "GONE" if case is old else "KEPT"
        review = reviews.save_answers(review.id, {"c1": "yes", "c2": "yes", "c3": "no", "c9": "effective",
                                                  "notes": f"{mark}NOTES typed"}, "sup.a", review.version)
        review = reviews.save_details(review.id, "sup.a", review.version, strengths=f"{mark}STRENGTHS",
                                      feedback=f"{mark}FEEDBACK")
        review = reviews.submit_review(review.id, "sup.a", review.version)
        action = reviews.add_action(review.id, "sup.a", f"{mark}ACTION text", owner="sup.a")
        reviews.update_action(action.id, "sup.a", text=f"{mark}ACTION changed")
        review = reviews.amend_review(review.id, "sup.a", {"improvements": f"{mark}AMENDED"}, "typo", review.version)
        case_studies.record_case_study(review.id, "lead", "good", f"{mark}TITLE", f"{mark}STUDY")
    events_before = m.AuditEvent.select().count()

    retention.purge(dt.date(2020, 1, 1), "admin1", reason="retention")

    report = audit.verify_chain()
    assert report.ok and report.events == events_before + 1 and report.erased > 5 and report.link_only == 0
    erasure = m.AuditEvent.select().where(m.AuditEvent.action == audit.ERASURE).get()
    assert len(erasure.details["erased_events"]) == report.erased
    assert m.Sample.get_by_id(sample.id).excluded_references == ["KEPTREF-1"]
    sqlite_db.execute_sql("VACUUM")
    sqlite_db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    path = tmp_path / "qatt.sqlite3"
    content = b"".join(p.read_bytes() for p in path.parent.glob("qatt.sqlite3*"))
    assert b"KEPTNOTES" in content and b"KEPTACTION" in content and b"KEPTSTUDY" in content  # the search works
    assert b"GONE" not in content


def test_a_purged_detail_cannot_be_erased_without_a_recorded_erasure(db):
    users.ensure_user("admin1", "admin")
    event = audit.record("admin1", audit.ALTERATION, "review", 1, {"answers": {"q": {"old": None, "new": "x"}}})
    m.AuditEvent.update(details={"erased": event.id}).where(m.AuditEvent.id == event.id).execute()
    report = audit.verify_chain()
    assert not report.ok and "removed without a recorded erasure" in report.problem
