"""A dialog's row of buttons, reached by Tab in the order they stand on screen.

QDialogButtonBox places its buttons by role in the platform's order (Windows: OK then Cancel;
GNOME and macOS: Cancel then OK), but Tab follows the order in which they were made, so a box made
with Cancel and given "Draw" afterwards shows Draw, Cancel and tabs Cancel, Draw. Once shown (when
the layout has placed them) the buttons are chained in their on-screen order, left to right.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QDialogButtonBox, QWidget


def screen_order(box: QDialogButtonBox) -> list:
    """The box's shown buttons as they stand: by row, then left to right (right to left when the
    layout runs that way)."""
    shown = [button for button in box.buttons() if button.isVisibleTo(box)]
    sign = -1 if box.layoutDirection() == Qt.LayoutDirection.RightToLeft else 1
    return sorted(shown, key=lambda button: (button.geometry().y(), sign * button.geometry().x()))


def chain_in_screen_order(box: QDialogButtonBox) -> None:
    """Make Tab go through the box's buttons in their on-screen order (see the module's note)."""
    if box.layout() is not None:
        box.layout().activate()
    buttons = screen_order(box)
    for before, after in zip(buttons, buttons[1:]):
        QWidget.setTabOrder(before, after)


class _OnShow(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Show:
            # After the show has been handled, when the layout has placed the buttons; the box as the
            # timer's context, so nothing runs if the box is gone by then.
            QTimer.singleShot(0, watched, lambda box=watched: chain_in_screen_order(box))
        return False


def tab_in_screen_order(box: QDialogButtonBox) -> QDialogButtonBox:
    """Keep `box`'s Tab order equal to its buttons' on-screen order each time it is shown; returns it."""
    watcher = _OnShow(box)  # owned by the box, so it lives as long as the box does
    box.installEventFilter(watcher)
    return box
