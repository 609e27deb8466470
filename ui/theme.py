"""The only colours the desktop sets itself: the grade colours of charts (qatt.palette) and status green and red, as white text on a strong
background so they read the same in light and dark palettes. Everything else follows the system."""

from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from qatt import palette

GOOD_STYLE = (f"background-color: {palette.STATUS_GOOD.lower()}; color: {palette.STATUS_TEXT.lower()}; "
              "padding: 0.4em; border-radius: 0.2em;")
BAD_STYLE = (f"background-color: {palette.STATUS_BAD.lower()}; color: {palette.STATUS_TEXT.lower()}; "
             "padding: 0.4em; border-radius: 0.2em;")


def grade_colour(grade: str, position: int = 0) -> QColor:
    """A grade's colour in charts, from the one palette the workbook and the PDFs use too."""
    return QColor(palette.grade_colour(grade, position))


def mark_good(widget: QWidget) -> None:
    widget.setStyleSheet(GOOD_STYLE)


def mark_bad(widget: QWidget) -> None:
    widget.setStyleSheet(BAD_STYLE)
