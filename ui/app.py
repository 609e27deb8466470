"""Application start-up: QApplication, database, main window."""

from __future__ import annotations

from typing import List, Optional


def main(db_url: Optional[str] = None, user: Optional[str] = None, qt_args: Optional[List[str]] = None) -> int:
    from PySide6.QtWidgets import QApplication, QLabel

    app = QApplication(qt_args or ["qatt"])
    app.setApplicationName("QATT")
    label = QLabel("QATT — the desktop application is being built. Use `python -m qatt` meanwhile.")
    label.resize(640, 200)
    label.show()
    return app.exec()
