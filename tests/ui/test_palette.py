"""One palette: the dashboard, the workbook chart and the PDF chart colour each grade the same, the
colours mean what they say, and the default theme's help and status text meet WCAG 2.2 AA."""

from __future__ import annotations

import re
import zipfile

import openpyxl
import pytest
from PySide6.QtCharts import QLineSeries
from PySide6.QtWidgets import QLabel

from exports import pdf, xlsx
from qatt import palette, reports
from qatt.trust import users
from qatt.reviewing import forms
from tests.report_factories import standard_data
from ui import theme
from ui.context import AppContext
from ui.pages.dashboard import DashboardPage
from ui.widgets.form_view import FormView

APR_MAY = reports.ReportFilter("2024-04", "2024-05")


@pytest.fixture
def context(sqlite_db):
    users.ensure_user("tester", "qa_lead")
    standard_data()
    return AppContext(db=sqlite_db, db_label="test database", actor="tester")


def test_the_colours_mean_what_they_say():
    assert palette.grade_colour("good") == palette.grade_colour("compliant") == palette.GOOD
    assert palette.grade_colour("requires_improvement") == palette.grade_colour("partially_compliant") == palette.AMBER
    assert palette.grade_colour("inadequate") == palette.grade_colour("non_compliant") == palette.RED
    red, green, _ = palette.rgb(palette.RED)
    assert red > green  # red is red
    r, g, b = palette.rgb(palette.GOOD)
    assert g > r and g > b  # green is green
    # Under red-green colour blindness the three still differ in lightness.
    lum = [palette.relative_luminance(c) for c in (palette.GOOD, palette.AMBER, palette.RED)]
    assert len({round(v, 2) for v in lum}) == 3


def desktop_colours(page: DashboardPage) -> dict:
    (series,) = page.by_area_view.chart().series()
    return {bar_set.label(): bar_set.color().name().upper() for bar_set in series.barSets()}


def test_desktop_workbook_and_pdf_colour_each_grade_alike(qtbot, context, tmp_path):
    page = DashboardPage(context)
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: page.figures is not None and not page.loading, timeout=20000)
    desktop = desktop_colours(page)
    assert desktop["Good"] == palette.GOOD
    assert desktop["Requires improvement"] == palette.AMBER
    assert desktop["Inadequate"] == palette.RED
    assert desktop["Partially compliant"] == palette.AMBER
    lines = {s.name(): s.pen().color().name().upper() for s in page.trend_view.chart().series()
             if isinstance(s, QLineSeries)}
    assert lines["Good"] == palette.GOOD and lines["Inadequate"] == palette.RED

    target = tmp_path / "qa.xlsx"
    xlsx.export_workbook(reports.workbook_data(APR_MAY), target, actor="tester")
    with zipfile.ZipFile(target) as archive:
        chart_xml = "".join(archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/charts/chart"))
    workbook = {}
    for ser in re.findall(r"<c:ser>.*?</c:ser>|<ser>.*?</ser>", chart_xml, re.S):
        title = re.search(r"<(?:c:)?v>([^<]+)</(?:c:)?v>", ser).group(1)  # the series is named by its grade
        fill = re.search(r'srgbClr val="([0-9A-Fa-f]{6})"', ser).group(1)
        workbook[title] = "#" + fill.upper()
    assert {"Good", "Requires improvement", "Inadequate", "Compliant", "Partially compliant"} <= set(workbook)
    for label, colour in workbook.items():
        assert desktop[label] == colour, label

    dist = next(d for d in reports.workbook_data(APR_MAY).by_area if d.total)
    drawing = pdf.grade_chart(dist)
    (chart,) = drawing.contents
    printed = {share.label: chart.bars[(0, i)].fillColor.hexval().upper().replace("0X", "#")
               for i, share in enumerate(dist.shares)}
    for label, colour in printed.items():
        assert desktop.get(label, palette.grade_colour(next(s.grade for s in dist.shares if s.label == label))) == colour


def test_status_marks_and_help_text_meet_wcag_aa(qtbot):
    assert palette.contrast_ratio(palette.STATUS_TEXT, palette.STATUS_GOOD) >= 4.5
    assert palette.contrast_ratio(palette.STATUS_TEXT, palette.STATUS_BAD) >= 4.5
    assert palette.STATUS_GOOD.lower() in theme.GOOD_STYLE and palette.STATUS_BAD.lower() in theme.BAD_STYLE
    form = next(f for f in forms.load_forms().values() if any(q.help for q in f.questions()))
    view = FormView(form)
    qtbot.addWidget(view)
    helps = view.findChildren(QLabel, "help")
    assert helps
    for label in helps:
        assert label.isEnabled()  # a disabled label's grey is the pale text this replaced
        ink = label.palette().color(label.foregroundRole()).name()
        paper = view.palette().color(view.backgroundRole()).name()
        assert palette.contrast_ratio(ink, paper) >= 4.5, (ink, paper)
