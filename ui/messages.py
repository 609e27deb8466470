"""How the desktop tells users about problems: a QattError's message in a dialog, never a traceback."""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget


def _open_box(icon: QMessageBox.Icon, parent: Optional[QWidget], title: str, message: str) -> QMessageBox:
    # open() instead of exec(): the caller carries on and no nested event loop runs.
    box = QMessageBox(icon, title, message, QMessageBox.StandardButton.Ok, parent)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setWindowModality(Qt.WindowModality.WindowModal)
    box.setAccessibleName(title)
    box.open()
    return box


def show_problem(parent: Optional[QWidget], title: str, message: str) -> QMessageBox:
    """Show a QattError's (or other problem's) message as a warning."""
    return _open_box(QMessageBox.Icon.Warning, parent, title, message)


def show_information(parent: Optional[QWidget], title: str, message: str) -> QMessageBox:
    return _open_box(QMessageBox.Icon.Information, parent, title, message)
