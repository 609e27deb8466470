"""A page that says it is coming: the base of the Review, Moderation, Dashboard and Exports stubs."""

from __future__ import annotations

from typing import Any, Optional

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class ComingSoonPage(QWidget):
    title = ""

    def __init__(self, context: Any = None, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.context = context
        label = QLabel(f"{self.title}: this page is being built. The command line (python -m qatt) "
                       "can already do this work.")
        label.setWordWrap(True)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.addWidget(label)

    def refresh(self) -> None:
        """Pages are refreshed when shown; a stub has nothing to reload."""
