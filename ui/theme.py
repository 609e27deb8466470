"""The only colours the desktop sets itself: status green and red, as white text on a strong
background so they read the same in light and dark palettes. Everything else follows the system."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

GOOD_STYLE = "background-color: #1b6e32; color: #ffffff; padding: 0.4em; border-radius: 0.2em;"
BAD_STYLE = "background-color: #a4161a; color: #ffffff; padding: 0.4em; border-radius: 0.2em;"


def mark_good(widget: QWidget) -> None:
    widget.setStyleSheet(GOOD_STYLE)


def mark_bad(widget: QWidget) -> None:
    widget.setStyleSheet(BAD_STYLE)
