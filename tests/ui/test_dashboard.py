"""The Dashboard page draws the report figures of tests/report_factories.standard_data, gathered in a worker."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from PySide6.QtCharts import QBarCategoryAxis, QChart, QLineSeries
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPalette
from PySide6.QtWidgets import QApplication

from qatt import stats
from qatt.trust import users
from tests.report_factories import CP_AREA, MOSOVO_AREA, standard_data
from ui.context import AppContext
from ui.pages.dashboard import (
    ALL_AREAS, CHARTS_TAB, COMPLIANCE_TAB, EMPTY_TEXT, SMALL_SAMPLE_FLAG, SORT_ROLE, DashboardPage, short_month,
)
from ui.widgets.charts import chart_height, chart_theme

LOAD_TIMEOUT = 20000


@pytest.fixture
def context(sqlite_db):
    users.ensure_user("tester", "qa_lead")
    return AppContext(db=sqlite_db, db_label="test database", actor="tester")


def open_page(qtbot, context) -> DashboardPage:
    """Build the page and wait for its first load (the worker starts in the constructor)."""
    page = DashboardPage(context)
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: page.figures is not None and not page.loading, timeout=LOAD_TIMEOUT)
    return page


def choose(qtbot, page: DashboardPage, combo, text: str) -> None:
    """Pick `text` as a user would (activated is what the page listens to) and wait for the reload."""
    combo.setCurrentText(text)
    assert combo.currentText() == text
    with qtbot.waitSignal(page.loaded, timeout=LOAD_TIMEOUT):
        combo.activated.emit(combo.currentIndex())


def categories(chart: QChart) -> list:
    axis = next(a for a in chart.axes() if isinstance(a, QBarCategoryAxis))
    return axis.categories()


def bar_values(chart: QChart) -> dict:
    """{bar set label: {category: value}} of the chart's (only) bar series."""
    names = categories(chart)
    (series,) = chart.series()
    return {s.label(): {name: s.at(i) for i, name in enumerate(names)} for s in series.barSets()}


def table_rows(model) -> list:
    return [[model.data(model.index(r, c)) for c in range(model.columnCount())] for r in range(model.rowCount())]


def compliance_row(page: DashboardPage, item: str) -> list:
    return next(row for row in table_rows(page.compliance) if row[1].startswith(item))


def ci_text(count: int, total: int) -> str:
    p = stats.wilson(count, total)
    return f"{p.low * 100:.1f}–{p.high * 100:.1f}%"


@pytest.fixture
def standard(sqlite_db):
    return standard_data()


def test_the_grade_charts_hold_the_submitted_first_review_counts(qtbot, context, standard):
    page = open_page(qtbot, context)
    assert (page.period_from.currentText(), page.period_to.currentText()) == ("2024-04", "2024-05")
    assert page.area.currentText() == ALL_AREAS
    by_area = bar_values(page.by_area_view.chart())
    # Drafts and second reviews never count; grades of each scale get their own bar set.
    assert by_area["Good"] == {CP_AREA: 2, "Missing children": 1, MOSOVO_AREA: 0}
    assert by_area["Requires improvement"] == {CP_AREA: 2, "Missing children": 0, MOSOVO_AREA: 0}
    assert by_area["Inadequate"] == {CP_AREA: 1, "Missing children": 0, MOSOVO_AREA: 0}
    assert by_area["Partially compliant"][MOSOVO_AREA] == 2
    by_month = bar_values(page.by_month_view.chart())
    assert by_month["Good"] == {"Apr 24": 1, "May 24": 2}
    assert by_month["Inadequate"] == {"Apr 24": 1, "May 24": 0}
    assert "Good 2" in page.by_area_view.accessibleDescription()
    assert "Small sample: only 9 cases" in page.summary.text()
    assert "different scales" in page.by_area_view.chart().title()  # case grades beside MOSOVO compliance


def test_the_trend_chart_shows_each_grades_share_by_month(qtbot, context, standard):
    page = open_page(qtbot, context)
    chart = page.trend_view.chart()
    assert categories(chart) == ["Apr 24", "May 24"]
    lines = {s.name(): s for s in chart.series() if isinstance(s, QLineSeries)}
    # 1 of 2, then 2 of May's 4 case-graded reviews: its 3 MOSOVO checks are shares of their own scale.
    assert [round(point.y(), 2) for point in lines["Good"].points()] == [50.0, 50.0]
    assert [round(point.y(), 2) for point in lines["Partially compliant"].points()] == [0.0, round(200 / 3, 2)]
    assert "of the month's reviews on its scale" in chart.title()
    # The MOSOVO compliance scale is dashed, so it reads apart from the case grades.
    assert lines["Good"].pen().style() == Qt.PenStyle.SolidLine
    assert lines["Partially compliant"].pen().style() == Qt.PenStyle.DashLine


def test_short_month_labels_fit_a_month_axis():
    assert short_month("2023-04") == "Apr 23"
    assert short_month("(none)") == "(none)"  # not a month: shown as it is


def test_theme_chart_counts_strengths_and_weaknesses(qtbot, context, standard):
    page = open_page(qtbot, context)
    themes = bar_values(page.themes_view.chart())
    assert themes["Strength"] == {"Voice of the child": 1, "Supervision and supervisory oversight": 0}
    assert themes["Weakness"] == {"Voice of the child": 0, "Supervision and supervisory oversight": 2}
    # The most-tagged theme is drawn at the top, i.e. last on a horizontal chart's category axis.
    assert categories(page.themes_view.chart())[-1] == "Supervision and supervisory oversight"


def test_the_compliance_table_shows_count_interval_and_small_sample_caveat(qtbot, context, standard, qtmodeltester):
    page = open_page(qtbot, context)
    qtmodeltester.check(page.compliance)
    qtmodeltester.check(page.mosovo)
    c1 = compliance_row(page, "C1 Ethnicity recorded")
    assert c1[2:6] == ["4/6", "66.7%", ci_text(4, 6), "0"]
    assert c1[6] == stats.small_sample_warning(6)
    c2 = compliance_row(page, "C2")
    assert c2[2:6] == ["1/2", "50.0%", ci_text(1, 2), "1"]  # N/A left out of the count


def test_mosovo_figures_are_shown_against_their_targets(qtbot, context, standard):
    page = open_page(qtbot, context)
    rows = {row[0]: row for row in table_rows(page.mosovo)}
    unannounced, double_crewed = rows["Visits unannounced"], rows["Visits double-crewed"]
    # D0's rates are shown as reported rates, not targets; the force has set no target yet.
    assert unannounced[1:6] == ["2/3", "66.7%", ci_text(2, 3), "none set", "86% (D0 for the last six months)"]
    assert "a reported rate, not a target" in unannounced[6]
    assert double_crewed[1:6] == ["1/3", "33.3%", ci_text(1, 3), "none set", "84% (D0 for the last six months)"]
    assert "target" not in double_crewed[6].split(";")[0]
    summary = page.mosovo_summary.text()
    assert summary.startswith("3 MOSOVO checks. Visits overdue: 2 (17 days in all, longest 12)")
    assert "Oldest outstanding supervisory task: 30 days" in summary


def test_choosing_an_area_and_a_period_changes_the_figures(qtbot, context, standard):
    page = open_page(qtbot, context)
    choose(qtbot, page, page.area, CP_AREA)
    assert page.figures.filter.areas == [CP_AREA]
    assert page.by_area_view.chart().title() == "Grades by area"  # one scale only: nothing to explain
    assert categories(page.by_area_view.chart()) == [CP_AREA]
    assert bar_values(page.by_area_view.chart())["Good"] == {CP_AREA: 2}
    assert compliance_row(page, "C1")[2] == "3/5"  # Missing children's yes has gone
    assert page.mosovo.rowCount() == 0 and page.mosovo_summary.text().startswith("No MOSOVO checks")

    choose(qtbot, page, page.period_from, "2024-05")
    assert bar_values(page.by_area_view.chart())["Inadequate"] == {CP_AREA: 0}  # April's inadequate has gone
    assert categories(page.by_month_view.chart()) == ["May 24"]
    assert compliance_row(page, "C1")[2] == "2/3"


def test_may_is_compared_with_april_above_the_inspection_baselines(qtbot, context, standard):
    page = open_page(qtbot, context)
    choose(qtbot, page, page.period_from, "2024-05")
    lines = page.baselines.text().splitlines()
    assert lines[0].startswith("Against the previous period (2024-04): Good was unchanged from 50.0% to 50.0%")
    assert any(line.startswith("Against the previous period (2024-04): Requires improvement rose from 0.0% to 50.0%")
               for line in lines)
    assert any(line.startswith("Against the 2021 inspection") for line in lines)


def test_a_start_month_after_the_end_moves_the_end_with_it(qtbot, context, standard):
    page = open_page(qtbot, context)
    choose(qtbot, page, page.period_to, "2024-04")
    choose(qtbot, page, page.period_from, "2024-05")
    assert (page.period_from.currentText(), page.period_to.currentText()) == ("2024-05", "2024-05")
    assert page.figures.filter.period_from == page.figures.filter.period_to == "2024-05"


def test_with_no_submitted_reviews_the_page_says_so_and_points_to_the_review_page(qtbot, context):
    page = open_page(qtbot, context)
    assert page.figures.empty
    assert page.stack.currentWidget() is page.empty_label
    assert "Review page" in page.empty_label.text() and page.empty_label.text() == EMPTY_TEXT
    assert not page.area.isEnabled() and not page.period_from.isEnabled()


def test_refresh_picks_up_reviews_submitted_since_the_page_was_built(qtbot, context):
    page = open_page(qtbot, context)
    standard_data()
    with qtbot.waitSignal(page.loaded, timeout=LOAD_TIMEOUT):
        page.refresh()
    assert page.stack.currentWidget() is not page.empty_label
    assert bar_values(page.by_area_view.chart())["Good"][CP_AREA] == 2


def test_charts_follow_a_dark_palette_and_have_accessible_names(qtbot, context, standard):
    application = QApplication.instance()
    light = application.palette()
    dark = QPalette(light)
    dark.setColor(QPalette.ColorRole.Window, QColor(30, 30, 30))
    application.setPalette(dark)
    try:
        page = open_page(qtbot, context)
    finally:
        application.setPalette(light)
    for view in (page.by_area_view, page.by_month_view, page.themes_view, page.trend_view):
        assert view.accessibleName().endswith("chart")
        assert view.chart().theme() == QChart.ChartTheme.ChartThemeDark
    assert chart_theme() == (QChart.ChartTheme.ChartThemeDark if light.color(QPalette.ColorRole.Window).lightness() < 128
                             else QChart.ChartTheme.ChartThemeLight)


def test_charts_are_one_per_row_in_the_application_font_and_tall_enough_for_their_labels(qtbot, context, standard):
    page = open_page(qtbot, context)
    page.resize(1000, 700)
    page.show()
    page.tabs.setCurrentIndex(CHARTS_TAB)
    qtbot.waitExposed(page)
    views = [page.by_area_view, page.by_month_view, page.trend_view, page.themes_view]
    assert len({(view.x(), view.width()) for view in views}) == 1  # stacked at the full width
    assert [view.y() for view in views] == sorted({view.y() for view in views})
    line = page.by_area_view.fontMetrics().height()
    assert page.by_area_view.minimumHeight() >= 3 * 2 * line  # three areas, two lines each at least
    assert page.themes_view.minimumHeight() >= len(page.figures.themes) * 2 * line
    font = QApplication.font()
    for view in views:
        chart = view.chart()
        assert chart.legend().alignment() == Qt.AlignmentFlag.AlignBottom
        assert chart.legend().font() == font
        assert chart.axes() and all(axis.labelsFont() == font for axis in chart.axes())


def test_chart_heights_grow_with_categories_and_the_font():
    small, large = QFont(QApplication.font()), QFont(QApplication.font())
    small.setPixelSize(12)
    large.setPixelSize(24)  # 200% display scaling
    assert chart_height(QFontMetrics(large)) > chart_height(QFontMetrics(small))
    assert chart_height(QFontMetrics(small), 30, 2) > chart_height(QFontMetrics(small), 3, 2)
    assert chart_height(QFontMetrics(large), 30, 2) > chart_height(QFontMetrics(small), 30, 2)


def test_a_month_whose_reviews_were_purged_still_shows_its_grades_and_says_so(qtbot, context):
    from qatt.trust import retention
    from tests.unit.test_retention import _population_with_reviews

    users.ensure_user("admin1", "admin")
    _population_with_reviews()  # three reviews in the 2017-06 sample, two of cases recorded in 2017
    retention.purge(date(2020, 1, 1), "admin1")
    page = open_page(qtbot, context)
    assert page.period_from.currentText() == page.period_to.currentText() == "2017-06"
    assert page.figures.overall.total == 3
    assert "3 graded reviews" in page.summary.text()
    assert "2 reviews deleted under the retention policy are counted in the grade figures only" in page.summary.text()


def test_the_monthly_rounds_show_each_plans_shortfall(qtbot, context, standard):
    from qatt.selection import assignments
    from qatt.storage import models as m

    users.ensure_user("lead", "qa_lead")
    assignments.create_plan("MOSOVO DI checks", {"kind": "fixed", "size": 10, "reviewer": "di"}, "lead")
    m.Plan.update(created_at=datetime(2024, 4, 1)).execute()
    page = open_page(qtbot, context)
    text = page.rounds.text()
    assert "MOSOVO DI checks for 2024-05: not drawn yet; 10 planned" in text


def test_a_moderator_holding_a_blind_second_review_sees_no_figure_counting_the_first(sqlite_db, tmp_path):
    """The dashboard's figures go through qatt.trust.visibility like every other output."""
    from qatt.reviewing import reviews
    from tests.factories import COMPLETE_ANSWERS, form_dict, make_population, make_sample, make_user, sample_items, write_form
    from ui.pages.dashboard import gather

    folder = tmp_path / "forms"
    write_form(folder, form_dict())
    make_user("sup.b")
    make_user("mod", "moderator")
    make_user("lead", "qa_lead")
    item = sample_items(make_sample(make_population(1), form_id="test_form"))[0]
    first = reviews.start_review(item.id, "sup.b", forms_dir=folder)
    first = reviews.save_answers(first.id, COMPLETE_ANSWERS, "sup.b", first.version)
    reviews.submit_review(first.id, "sup.b", first.version)
    reviews.start_review(item.id, "mod", role="second", forms_dir=folder)
    assert gather(viewer="lead").overall.total == 1
    assert gather(viewer="mod").overall.total == 0


def test_the_dashboard_leads_with_one_row_per_area_with_intervals_and_a_small_sample_flag(qtbot, context, standard):
    page = open_page(qtbot, context)
    assert page.tabs.currentIndex() == 0 and page.tabs.widget(0).isAncestorOf(page.area_table)
    headings = [page.areas.headerData(c, Qt.Orientation.Horizontal) for c in range(page.areas.columnCount())]
    assert headings[:3] == ["Area", "Cases", "Good"] and headings[-1] == "Note"
    rows = {row[0]: row for row in table_rows(page.areas)}
    assert list(rows)[0] == "All areas" and rows["All areas"][1] == str(page.figures.overall.total)
    cp = rows[CP_AREA]
    good = stats.wilson(2, 5)
    assert cp[1] == "5" and cp[2] == f"{good.point_text()} ({good.interval_text()})"
    assert cp[-1] == SMALL_SAMPLE_FLAG
    partially = headings.index("Partially compliant")
    assert cp[partially] == "–"  # a grade of another scale than the area's
    # All areas mixes case grades and MOSOVO checks: each share is of its own scale's reviews, and the
    # summary says how many reviews each scale has.
    overall = page.figures.overall
    case_graded = sum(overall.count(g) for g in ("good", "requires_improvement", "inadequate"))
    checks = sum(overall.count(g) for g in ("compliant", "partially_compliant", "non_compliant"))
    assert 0 < case_graded < overall.total and case_graded + checks == overall.total
    good_overall = stats.wilson(overall.count("good"), case_graded)
    assert rows["All areas"][2] == f"{good_overall.point_text()} ({good_overall.interval_text()})"
    assert (f"{overall.total} graded reviews ({case_graded} graded Good / Requires improvement / Inadequate, "
            f"{checks} graded Compliant / Partially compliant / Non-compliant)") in page.summary.text()


def _compliance_tab(qtbot, context):
    """The dashboard shown on its compliance tab: (page, table, column of the compliance share, shares)."""
    page = open_page(qtbot, context)
    page.resize(1000, 700)
    page.show()
    page.tabs.setCurrentIndex(COMPLIANCE_TAB)
    qtbot.waitExposed(page)
    table = page.compliance_table
    compliance = [c for c in range(page.compliance.columnCount())
                  if page.compliance.headerData(c, Qt.Orientation.Horizontal) == "Compliance"][0]
    proxy = table.model()

    def shares():
        return [proxy.data(proxy.index(r, compliance), SORT_ROLE) for r in range(proxy.rowCount())]

    return page, table, compliance, shares


def test_the_long_tables_are_on_their_own_tabs_sortable_and_given_the_height(qtbot, context, standard):
    page, table, compliance, shares = _compliance_tab(qtbot, context)
    assert table.height() > page.height() // 2  # not a box squeezed into a long page
    assert "(" in page.tabs.tabText(COMPLIANCE_TAB)  # says how many items it holds
    table.sortByColumn(compliance, Qt.SortOrder.DescendingOrder)
    assert shares() == sorted(shares(), reverse=True) and len(set(shares())) > 1


def test_a_table_sorts_from_the_keyboard(qtbot, context, standard):
    page, table, compliance, shares = _compliance_tab(qtbot, context)
    page.activateWindow()
    table.setFocus()
    qtbot.waitUntil(table.hasFocus)
    table.setCurrentIndex(table.model().index(0, compliance))
    keys = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(table, Qt.Key.Key_S, keys)
    assert shares() == sorted(shares()) and len(set(shares())) > 1
    qtbot.keyClick(table, Qt.Key.Key_S, keys)
    assert shares() == sorted(shares(), reverse=True)


def test_the_corrected_estimate_is_a_labelled_line_for_moderators_and_absent_for_reviewers(qtbot, context, standard):
    page = open_page(qtbot, context)  # tester is a QA lead
    line = page.estimate.text()
    assert line.startswith("Estimate, not a count") or "withheld" in line
    assert page.tabs.widget(0).isAncestorOf(page.estimate)

    users.ensure_user("sup.only", "reviewer")
    reviewer_page = DashboardPage(AppContext(db=context.db, db_label="test database", actor="sup.only"))
    qtbot.addWidget(reviewer_page)
    qtbot.waitUntil(lambda: reviewer_page.figures is not None and not reviewer_page.loading, timeout=LOAD_TIMEOUT)
    assert reviewer_page.estimate.text() == "" and reviewer_page.estimate.isHidden()
