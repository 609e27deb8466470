"""Help > Getting started: the short guide in docs/getting-started.md, shown in a dialog."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from qatt.errors import QattError
from ui.widgets.buttons import tab_in_screen_order

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "getting-started.md"


def guide_text(path: Path = GUIDE) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise QattError(f"The guide {path} could not be read ({exc.strerror or exc}); reinstall QATT, or read "
                        "docs/getting-started.md in the project.") from exc


class GettingStartedDialog(QDialog):
    def __init__(self, parent: Optional[QWidget] = None, path: Path = GUIDE) -> None:
        super().__init__(parent)
        self.setWindowTitle("Getting started with QATT")
        self.browser = QTextBrowser()
        self.browser.setAccessibleName("Getting started guide")
        self.browser.setOpenExternalLinks(False)
        self.browser.setMarkdown(guide_text(path))
        buttons = tab_in_screen_order(QDialogButtonBox(QDialogButtonBox.StandardButton.Close))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
        metrics = self.fontMetrics()
        self.resize(metrics.averageCharWidth() * 90, metrics.height() * 34)
