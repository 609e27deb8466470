"""Charts of the desktop, built one way: the system's light or dark theme, the application's font
(so titles, legends and axes follow the user's font size and display scaling), whole-number count
axes, a tooltip with each bar's figure, and heights counted in lines of the font. The Dashboard and
the calibration view draw their charts with these."""

from __future__ import annotations

import math
from typing import Callable, Sequence

from PySide6.QtCharts import QAbstractBarSeries, QBarCategoryAxis, QBarSet, QChart, QChartView, QValueAxis
from PySide6.QtCore import Qt
from PySide6.QtGui import QCursor, QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QApplication, QToolTip

# Chart heights in lines of the application font, so they scale with the display (125-200%) and font size.
CHART_LINES = 22          # a chart with few categories (months): title, plot, axis labels and legend
CHART_FRAME_LINES = 9     # what a horizontal bar chart needs besides its bars: title, axis, legend, margins


def chart_theme() -> QChart.ChartTheme:
    """Light or dark charts to match the system palette."""
    dark = QApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128
    return QChart.ChartTheme.ChartThemeDark if dark else QChart.ChartTheme.ChartThemeLight


def new_chart(title: str) -> QChart:
    chart = QChart()
    chart.setTheme(chart_theme())
    chart.setTitle(title)
    chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
    return chart


def use_application_font(chart: QChart) -> None:
    """Title, legend and axis labels in the application's font (the chart theme's own fonts are small
    and fixed, so they ignore the user's font size and display scaling). Call once the axes exist."""
    font = QApplication.font()
    title = QFont(font)
    title.setBold(True)
    chart.setTitleFont(title)
    chart.legend().setFont(font)
    for axis in chart.axes():
        axis.setLabelsFont(font)
        axis.setTitleFont(font)


def chart_height(metrics: QFontMetrics, categories: int = 0, lines_per_category: float = 0.0) -> int:
    """A chart's minimum height in pixels, from lines of the font: a horizontal bar chart grows with its
    categories so every label has a line of its own; other charts get CHART_LINES."""
    lines = max(CHART_LINES, CHART_FRAME_LINES + categories * lines_per_category)
    return math.ceil(lines * metrics.height())


def count_axis(largest: float) -> QValueAxis:
    """A whole-number axis from 0, with at most about eight ticks (counts are never fractions)."""
    step = max(1, math.ceil(largest / 8))
    axis = QValueAxis()
    axis.setTitleText("Reviews")
    axis.setLabelFormat("%d")
    axis.setTickType(QValueAxis.TickType.TicksDynamic)
    axis.setTickAnchor(0)
    axis.setTickInterval(step)
    axis.setRange(0, step * max(1, math.ceil(largest / step)))
    return axis


def add_axes(chart: QChart, series: QAbstractBarSeries, categories: Sequence[str], largest: float,
             horizontal: bool) -> None:
    categories_axis = QBarCategoryAxis()
    categories_axis.append(list(categories))
    values_axis = count_axis(largest)
    chart.addAxis(categories_axis, Qt.AlignmentFlag.AlignLeft if horizontal else Qt.AlignmentFlag.AlignBottom)
    chart.addAxis(values_axis, Qt.AlignmentFlag.AlignBottom if horizontal else Qt.AlignmentFlag.AlignLeft)
    series.attachAxis(categories_axis)
    series.attachAxis(values_axis)


def show_tips(series: QAbstractBarSeries, tip: Callable[[int, str], str]) -> None:
    """Hovering a bar shows its figure with count and interval (tip gets the category and set label)."""
    def hovered(status: bool, index: int, bar_set: QBarSet) -> None:
        if status:
            QToolTip.showText(QCursor.pos(), tip(index, bar_set.label()))
        else:
            QToolTip.hideText()
    series.hovered.connect(hovered)


def chart_view(name: str) -> QChartView:
    view = QChartView()
    view.setAccessibleName(name)
    view.setRenderHint(QPainter.RenderHint.Antialiasing)
    view.setMinimumHeight(chart_height(view.fontMetrics()))
    return view


def replace_chart(view: QChartView, chart: QChart, description: str, categories: int = 0,
                  lines_per_category: float = 0.0) -> None:
    """Show a new chart, as tall as its categories need; the view gives up the old one, so delete it."""
    use_application_font(chart)
    view.setMinimumHeight(chart_height(view.fontMetrics(), categories, lines_per_category))
    old = view.chart()
    view.setChart(chart)
    view.setAccessibleDescription(description)
    if old is not None:
        old.deleteLater()
