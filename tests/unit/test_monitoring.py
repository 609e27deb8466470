"""The monthly round monitored: a fixed plan draws from its own month, and its completion (planned,
submitted, outstanding, due) shows in the completion JSON and the monthly report with a shortfall line."""

import datetime as dt
import json

import pypdf
import pytest

from exports import pdf
from qatt import reports
from qatt.reviewing import reviews
from qatt.selection import assignments, monitoring
from qatt.cli import main
from qatt.errors import QattError
from qatt.storage import db as dbmod
from qatt.storage import models as m
from tests.factories import make_population, make_user
from tests.unit.test_mosovo_rules import complete

FORM_ID = "mosovo_di_check"
PLAN = "MOSOVO DI checks"
DURING = dt.date(2024, 4, 20)


@pytest.fixture
def april_round(db):
    make_user("lead", "qa_lead")
    make_user("di.jones", "reviewer", display_name="DI Jones")
    # 60 records a day apart from 1 March 2024: March, April (30 days) and May all have cases.
    make_population(60, area="Sex offender management", status="finalised",
                    recorded_date=lambda i: dt.date(2024, 3, 1) + dt.timedelta(days=i - 1))
    assignments.create_plan(PLAN, {"kind": "fixed", "size": 10, "reviewer": "di.jones", "form_id": FORM_ID}, "lead")
    m.Plan.update(created_at=dt.datetime(2024, 3, 15)).execute()
    return assignments.run_plan(PLAN, "2024-04", "lead", seed=7)


def submit_checks(sample_id, n):
    form = None
    items = m.SampleItem.select().where(m.SampleItem.sample == sample_id).order_by(m.SampleItem.position)
    for item in list(items)[:n]:
        review = reviews.start_review(item.id, "di.jones")
        form = form or reviews.form_of(review)
        answers = complete(form, **reviews.answers_of(review))
        review = reviews.save_answers(review.id, answers, "di.jones", review.version)
        reviews.submit_review(review.id, "di.jones", review.version)


def test_a_fixed_plan_draws_only_the_cases_of_its_month(april_round):
    assert april_round.assigned == {"di.jones": 10}
    dates = [a.sample_item.case.recorded_date for a in m.Assignment.select()]
    assert len(dates) == 10 and all(d.strftime("%Y-%m") == "2024-04" for d in dates)
    sample = m.Sample.get_by_id(april_round.sample_id)
    assert (sample.params["date_from"], sample.params["date_to"]) == ("2024-04-01", "2024-04-30")
    assert {a.due_date for a in m.Assignment.select()} == {dt.date(2024, 4, 30)}


def test_a_plan_with_a_wider_window_or_none_draws_more_widely(april_round):
    assignments.create_plan("Quarter", {"kind": "fixed", "size": 50, "reviewer": "di.jones", "window_months": 2}, "lead")
    run = assignments.run_plan("Quarter", "2024-04", "lead", seed=1)
    months = {i.case.recorded_date.strftime("%Y-%m") for i in m.SampleItem.select().where(m.SampleItem.sample == run.sample_id)}
    assert months == {"2024-03", "2024-04"} and run.assigned == {"di.jones": 50}
    with pytest.raises(QattError, match="No case in the extract is dated 01 August 2024 to 31 August 2024"):
        assignments.run_plan(PLAN, "2024-08", "lead")


def test_with_seven_of_ten_submitted_the_shortfall_of_three_is_shown(april_round, capsys, db, tmp_path):
    submit_checks(april_round.sample_id, 7)
    [april] = monitoring.plan_completion(["2024-04"], today=DURING)
    assert (april.planned, april.submitted, april.outstanding, april.due_date) == (10, 7, 3, dt.date(2024, 4, 30))
    assert april.statement == "MOSOVO DI checks for 2024-04: 7 of 10 submitted; 3 outstanding, due 30 April."
    [late] = monitoring.plan_completion(["2024-04"], today=dt.date(2024, 5, 3))
    assert late.overdue and "3 outstanding, overdue since 30 April" in late.statement

    # The completion JSON (plan completion --month --json).
    code = main(["--db", db.qatt_url, "--user", "lead", "--json", "plan", "completion", "--month", "2024-04"])
    dbmod.bind(db)  # the CLI bound the models to its own, now closed, connection
    out, _err = capsys.readouterr()
    [row] = json.loads(out)
    assert code == 0 and (row["planned"], row["submitted"], row["outstanding"]) == (10, 7, 3)
    assert row["due_date"] == "2024-04-30" and row["statement"].startswith("MOSOVO DI checks for 2024-04: 7 of 10")

    # The monthly report: its data and the text of its PDF.
    report = reports.monthly_report(reports.ReportFilter.for_month("2024-04"), actor="lead", today=DURING)
    assert [p["outstanding"] for p in report.as_dict()["plans"]] == [3]
    target = tmp_path / "monthly.pdf"
    pdf.export_monthly(report, target, actor="lead")
    text = " ".join(" ".join(page.extract_text().split()) for page in pypdf.PdfReader(str(target)).pages)
    assert "MOSOVO DI checks for 2024-04: 7 of 10 submitted; 3 outstanding, due 30 April." in text


def test_a_month_not_yet_drawn_still_owes_its_checks_and_earlier_months_owe_none(april_round):
    rows = {r.period: r for r in monitoring.plan_completion(["2024-02", "2024-04", "2024-05"], today=DURING)}
    assert set(rows) == {"2024-04", "2024-05"}  # the plan was made in March
    may = rows["2024-05"]
    assert (may.planned, may.submitted, may.sample_id) == (10, 0, None)
    assert may.statement == "MOSOVO DI checks for 2024-05: not drawn yet; 10 planned, due 31 May."
    submit_checks(april_round.sample_id, 10)
    assert monitoring.plan_completion(["2024-04"], today=DURING)[0].statement == \
        "MOSOVO DI checks for 2024-04: all 10 submitted."


def test_the_report_compliance_table_leaves_out_items_recorded_but_not_counted(april_round):
    submit_checks(april_round.sample_id, 2)
    flt = reports.ReportFilter.for_month("2024-04")
    items = {i.question.id for i in reports.compliance(flt, reports.FormCatalogue.for_filter(flt))}
    assert {"m2", "m3", "m13"} <= items
    assert not items & {"m19", "m13_breach"}  # M19 is under national discussion; the breach is a fact
