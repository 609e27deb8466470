"""Report data: every figure checked by hand against the known reviews of report_factories.standard_data."""

from __future__ import annotations

import datetime as dt

import pytest

from qatt import reports, stats, targets
from qatt.trust import users
from qatt.reporting import workbook
from qatt.errors import QattError
from qatt.storage import models as m
from tests import report_factories as f

MAY = reports.ReportFilter.for_month("2024-05")
APR_MAY = reports.ReportFilter("2024-04", "2024-05")
TODAY = dt.date(2024, 6, 1)


@pytest.fixture
def data(db):
    return f.standard_data()


@pytest.fixture
def vocab():
    return reports.Vocabulary.load()


def by_group(distributions):
    return {d.group: d for d in distributions}


def test_grades_per_area_count_only_submitted_first_reviews_in_the_period(data, vocab):
    areas = by_group(reports.grade_distributions(MAY, "area", vocab))
    da = areas[f.CP_AREA]
    assert da.total == 3  # the draft and the second reviews are left out
    assert [(s.grade, s.proportion.count) for s in da.shares] == [
        ("good", 1), ("requires_improvement", 2), ("inadequate", 0)]
    assert da.shares[1].proportion == stats.wilson(2, 3)
    assert da.small_sample
    assert areas["Missing children"].count("good") == 1
    assert areas[f.MOSOVO_AREA].count("partially_compliant") == 2


def test_grades_per_month_and_team_follow_the_filter(data, vocab):
    months = by_group(reports.grade_distributions(APR_MAY, "month", vocab))
    assert {k: v.total for k, v in months.items()} == {"2024-04": 2, "2024-05": 7}
    teams = by_group(reports.grade_distributions(reports.ReportFilter("2024-05", "2024-05", teams=["Team B"]), "team", vocab))
    assert list(teams) == ["Team B"] and teams["Team B"].total == 1


def test_area_filter_narrows_every_figure(data, vocab):
    flt = reports.ReportFilter("2024-04", "2024-05", areas=["Missing children"])
    assert reports.overall_distribution(flt, vocab).total == 1
    assert reports.grade_pairs(flt) == []


def test_compliance_is_yes_over_yes_plus_no_per_month_with_a_rolling_six_months(data):
    catalogue = reports.FormCatalogue.for_filter(APR_MAY)
    items = {(i.form_id, i.question.id): i for i in reports.compliance(APR_MAY, catalogue)}
    c1 = items[("cp_check", "c1")]
    assert c1.question.header == "C1 Ethnicity recorded"
    assert [(c.period, c.month.count, c.month.total) for c in c1.months] == [("2024-04", 1, 2), ("2024-05", 3, 4)]
    assert (c1.rolling.count, c1.rolling.total) == (4, 6)
    assert (c1.overall.count, c1.overall.total) == (4, 6)
    c2 = items[("cp_check", "c2")]
    assert (c2.overall.count, c2.overall.total, c2.not_applicable) == (1, 2, 1)
    assert ("cp_check", "c3_days") not in items  # numbers are not checklist items


def test_rolling_figure_reaches_back_before_the_report_period(data):
    catalogue = reports.FormCatalogue.for_filter(MAY)
    c1 = next(i for i in reports.compliance(MAY, catalogue) if i.question.id == "c1")
    assert (c1.months[0].month.count, c1.months[0].month.total) == (3, 4)
    assert (c1.rolling.count, c1.rolling.total) == (4, 6)  # April is inside May's six-month window


def test_theme_frequencies_split_strengths_and_weaknesses(data, vocab):
    themes = reports.theme_frequencies(MAY, vocab, reports.FormCatalogue.for_filter(MAY))
    everything = {t.theme: t for t in themes["All"]}
    assert everything["supervision"].weakness == stats.wilson(2, 2)
    assert everything["supervision"].strength.count == 0
    assert everything["voice_of_child"].strength.count == 1
    assert everything["voice_of_child"].label == "Voice of the child"
    assert set(themes) == {"All", f.CP_AREA}


def test_calibration_compares_first_and_second_grades_of_the_same_cases(data, vocab):
    pairs = reports.grade_pairs(MAY)
    assert sorted(p[2:] for p in pairs) == [("good", "requires_improvement"), ("requires_improvement", "requires_improvement")]
    (result,) = reports.calibration(pairs, reports.FormCatalogue.for_filter(MAY), vocab)
    expected = stats.agreement([("good", "requires_improvement"), ("requires_improvement", "requires_improvement")],
                               ["good", "requires_improvement", "inadequate"],
                               labels={"good": "Good", "requires_improvement": "Requires improvement",
                                       "inadequate": "Inadequate"})
    assert result.agreement == expected
    assert "Not used by either reviewer: Inadequate." in result.agreement.notes  # words, not ids
    assert (result.agreement.same, result.agreement.higher) == (1, 1)
    assert result.labels == ["Good", "Requires improvement", "Inadequate"]


def test_outstanding_actions_leave_out_done_and_sort_most_overdue_first(data):
    actions = reports.outstanding_actions(MAY, TODAY)
    assert [(a.text, a.status, a.days_overdue) for a in actions] == [
        ("-Chase the PPN", "open", 31), ("Brief the team", "in progress", 0)]


def test_completion_counts_assigned_in_progress_submitted_and_overdue(data):
    s, r = data.scenario, data.reviews
    due_past, due_future = dt.date(2024, 5, 31), dt.date(2024, 6, 30)
    m.Assignment.create(sample_item=r["may1"].sample_item, reviewer="rev1", due_date=due_past)
    m.Assignment.create(sample_item=r["draft"].sample_item, reviewer="rev1", due_date=due_past)
    m.Assignment.create(sample_item=s.case("2024-05"), reviewer="rev1", due_date=due_future)
    m.Assignment.create(sample_item=s.case("2024-05"), reviewer="rev2", due_date=due_past)
    m.Assignment.create(sample_item=s.case("2024-04"), reviewer="rev2", due_date=due_past)  # another month
    rows = {c.reviewer: c for c in reports.completion(MAY, TODAY)}
    rev1 = rows["rev1"]
    assert (rev1.assigned, rev1.submitted, rev1.in_progress, rev1.not_started, rev1.overdue) == (3, 1, 1, 1, 1)
    assert rows["rev2"].as_dict() == {"reviewer": "rev2", "assigned": 1, "not_started": 1, "in_progress": 0,
                                      "submitted": 0, "overdue": 1}


def test_mosovo_figures_against_targets(data):
    result = reports.mosovo_compliance(MAY)
    figures = {x.question_id: x for x in result.figures}
    assert result.checks == 3
    # D0's 86% and 84% are reported rates, not targets: no target until the force sets one.
    assert figures["m2"].proportion == stats.wilson(2, 3) and figures["m2"].target is None
    assert figures["m2"].reported.rate == 0.86 and figures["m3"].reported.rate == 0.84
    assert "86% reported in D0 for the last six months, a reported rate, not a target" in figures["m2"].statement
    assert "target" not in figures["m3"].statement.split(";")[0]
    users.ensure_user("lead", "qa_lead")
    targets.set_force_targets({"m2": 0.9, "m3": 90}, "lead")
    figures = {x.question_id: x for x in reports.mosovo_compliance(MAY).figures}
    assert figures["m3"].target == 0.9 and "below the force's 90% target" in figures["m3"].statement
    assert "consistent with the force's 90% target" in figures["m2"].statement
    # Ratification is over the exceptions (M2 or M3 "no"): 1 of 2.
    assert figures["m4"].proportion == stats.wilson(1, 2) and "of 2 exceptions" in figures["m4"].statement
    assert figures["m7"].proportion == stats.wilson(3, 3)
    assert (result.overdue_visits, result.days_overdue_total, result.days_overdue_max, result.oldest_task_days) == (2, 17, 12, 30)


def test_no_mosovo_block_without_mosovo_checks(data):
    assert reports.mosovo_compliance(reports.ReportFilter.for_month("2024-04")) is None


def test_trends_compare_case_grades_with_the_seeded_inspection_baselines(data, vocab):
    overall = reports.overall_distribution(APR_MAY, vocab)
    found = {(t.baseline, t.area): t for t in reports.trends(overall, [], vocab)}
    t2021 = found[("2021 inspection", "")]
    assert t2021.current_total == 6 and t2021.baseline_total == 79  # MOSOVO compliance grades are left out
    good = t2021.comparisons[0]
    assert good == stats.compare_proportions(stats.wilson(20, 79), stats.wilson(3, 6), "Good")
    assert "rose from 25.3% to 50.0%" in good.statement
    assert ("2022 inspection", "") in found


@pytest.mark.parametrize("period, previous", [
    (("2024-05", "2024-05"), ("2024-04", "2024-04")),
    (("2024-01", "2024-03"), ("2023-10", "2023-12")),  # a quarter against the quarter before
    (("2024-02", "2024-01"), None),  # refused by the filter itself, see below
])
def test_the_previous_period_is_as_long_and_ends_just_before(period, previous):
    if previous is None:
        with pytest.raises(QattError):
            reports.ReportFilter(*period)
        return
    before = reports.previous_period(reports.ReportFilter(*period, areas=["X"]))
    assert (before.period_from, before.period_to) == previous and before.areas == ["X"]


def test_without_both_ends_there_is_no_previous_period():
    assert reports.previous_period(reports.ReportFilter(period_from="2024-01")) is None
    assert reports.period_change(reports.ReportFilter(), None, None) == reports.PeriodChange("", 0, [])


def test_this_period_is_compared_with_the_previous_one_grade_by_grade_within_each_scale(data, vocab):
    overall = reports.overall_distribution(MAY, vocab)
    change = reports.period_change(MAY, overall, vocab)
    assert change.previous == "2024-04" and change.previous_total == 2
    (g3,) = change.scales  # April has no MOSOVO checks, so compliance grades have nothing to compare with
    assert (g3.baseline, g3.current_total, g3.baseline_total) == ("previous period (2024-04)", 4, 2)
    by_grade = {c.label: c for c in g3.comparisons}
    assert by_grade["Requires improvement"] == stats.compare_proportions(stats.wilson(0, 2), stats.wilson(2, 4),
                                                                         "Requires improvement")
    assert "rose from 0.0% to 50.0%" in by_grade["Requires improvement"].statement
    assert "fell from 50.0% to 0.0%" in by_grade["Inadequate"].statement
    assert "could be chance" in by_grade["Inadequate"].statement and "small sample" in by_grade["Good"].statement
    assert reports.monthly_report(MAY, today=TODAY).as_dict()["change"]["previous_total"] == 2


def test_methodology_lists_every_sample_used_with_seed_and_fingerprint(data):
    samples = reports.samples_used(APR_MAY)
    assert [(s.period, s.method, s.seed) for s in samples] == [("2024-04", "simple", "1000"), ("2024-05", "simple", "1001")]
    assert samples[0].population_fingerprint == "ab" * 32


def test_monthly_report_brings_the_sections_together(data):
    report = reports.monthly_report(MAY, actor="lead", today=TODAY)
    assert report.overall.total == 7 and report.second_reviews == 2
    assert report.header.marking == "OFFICIAL-SENSITIVE"
    assert report.mosovo is not None and report.samples and report.compliance
    assert report.as_dict()["overall"]["total"] == 7


def test_marking_comes_from_the_setting_unless_overridden(data):
    m.Setting.update(value="OFFICIAL").where(m.Setting.key == "protective_marking").execute()
    assert reports.monthly_report(MAY).header.marking == "OFFICIAL"
    assert reports.monthly_report(MAY, marking="SECRET").header.marking == "SECRET"


def test_inspection_pack_builds_one_block_per_area_with_case_file_analysis(data):
    pack = reports.inspection_pack(MAY, today=TODAY)
    blocks = {b.area: b for b in pack.areas}
    da = blocks[f.CP_AREA]
    assert [t.theme for t in da.improvements] == ["supervision"]
    assert [t.theme for t in da.strengths] == ["voice_of_child"]
    assert set(da.improvement_notes) == {"Record the plan", "Supervise sooner"}
    assert da.independent.count("requires_improvement") == 2
    assert da.case_file.agreement.n == 2
    assert [a.text for a in da.work_in_progress] == ["-Chase the PPN", "Brief the team"]
    assert blocks["Missing children"].case_file is None
    from qatt.loop.register import SHIPPED_CODES
    assert [r.code for r in pack.recommendations] == list(SHIPPED_CODES)  # the whole register


def test_feedback_sheet_shows_answers_with_their_labels(data):
    sheet = reports.feedback_sheet(data.reviews["may1"].id, today=TODAY)
    answers = {a.question: a.answer for a in sheet.answers}
    assert answers["C1 Ethnicity recorded"] == "Yes"
    assert answers["C2 Voice of the child recorded"] == "N/A"
    assert answers["C9 Supervisory oversight"] == "Effective"
    assert answers["First contact"] == "Visit"
    assert answers["Date of visit"] == "02 May 2024"
    assert answers["Themes"] == "Supervision and supervisory oversight: weakness; Voice of the child: strength"
    assert sheet.grade == "Good" and sheet.case_reference == "=CMD|' /C calc'!A0"
    assert [a.text for a in sheet.actions] == ["-Chase the PPN", "Closed off"]


def test_feedback_sheet_refuses_a_draft_and_a_missing_review(data):
    with pytest.raises(QattError, match="still a draft"):
        reports.feedback_sheet(data.reviews["draft"].id)
    with pytest.raises(QattError, match="no review 999999"):
        reports.feedback_sheet(999999)


def test_workbook_review_rows_have_one_column_per_question_of_each_form(data):
    workbook = reports.workbook_data(APR_MAY, today=TODAY)
    sheets = {s.form_id: s for s in workbook.review_sheets}
    cp = sheets["cp_check"]
    headers = [h for h, _ in cp.columns]
    assert cp.row_count == 8  # 6 first + 2 second reviews; the draft is left out
    rows = list(cp.rows())
    assert len(rows) == 8
    may1 = next(r for r in rows if r[0] == data.reviews["may1"].id)
    row = dict(zip(headers, may1))
    assert row["C1 Ethnicity recorded"] == "Yes"
    assert row["Days until the PPN reached CSC"] == 3
    assert row["Date of visit"] == dt.date(2024, 5, 2)
    assert row["Grade"] == "Good" and row["Month"] == "2024-05"
    assert sheets["mosovo_di_check"].row_count == 3


def test_review_rows_stream_in_pages(data, monkeypatch):
    monkeypatch.setattr(workbook, "REVIEW_PAGE", 3)  # read where the sheet is built
    sheet = next(s for s in reports.workbook_data(APR_MAY).review_sheets if s.form_id == "cp_check")
    ids = [row[0] for row in sheet.rows()]
    assert len(ids) == 8 and ids == sorted(ids)


@pytest.mark.parametrize("kwargs, message", [
    ({"period_from": "2024-13"}, "YYYY-MM"),
    ({"period_from": "2024-05", "period_to": "2024-04"}, "swap them"),
])
def test_bad_periods_are_refused_with_advice(kwargs, message):
    with pytest.raises(QattError, match=message):
        reports.ReportFilter(**kwargs)


def test_months_between_crosses_the_year_end():
    assert reports.months_between("2023-11", "2024-02") == ["2023-11", "2023-12", "2024-01", "2024-02"]
    assert reports.shift_month("2024-01", -5) == "2023-08"


def test_every_drawn_sample_of_the_period_is_listed_reviewed_or_not(data):
    drawn = m.Sample.create(population=data.scenario.population, name="Not yet reviewed", period="2024-05",
                            method="simple", params={"size": 1}, seed="1", population_fingerprint="0" * 64,
                            software_version="test")
    listed = {s.id: s for s in reports.workbook_data(APR_MAY, today=TODAY).samples}
    assert drawn.id in listed and listed[drawn.id].first_reviews == 0
    reviewed = [s for s in listed.values() if s.first_reviews]
    assert reviewed and all(s.completion.total == s.items for s in reviewed)
    assert drawn.id not in {s.id for s in reports.samples_used(reports.ReportFilter.for_month("2024-04"))}


def test_each_grade_of_a_mixed_group_is_a_share_of_its_own_scale(data, vocab):
    """May holds 4 case grades and 3 MOSOVO checks: 'Good' is 2 of the 4 graded good / requires
    improvement / inadequate, not 2 of all 7 reviews; 'Compliant' is 1 of the 3 checks."""
    overall = reports.overall_distribution(MAY, vocab)
    assert overall.total == 7
    shares = {s.grade: s.proportion for s in overall.shares}
    assert shares["good"] == stats.wilson(2, 4) and shares["requires_improvement"] == stats.wilson(2, 4)
    assert shares["compliant"] == stats.wilson(1, 3) and shares["partially_compliant"] == stats.wilson(2, 3)
    (may,) = [d for d in reports.grade_distributions(MAY, "month", vocab) if d.group == "2024-05"]
    assert {s.grade: s.proportion for s in may.shares} == shares
    # A group of one scale is unchanged: its shares are over all its reviews.
    area = by_group(reports.grade_distributions(MAY, "area", vocab))[f.CP_AREA]
    assert all(s.proportion.total == area.total for s in area.shares)
