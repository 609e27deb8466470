"""Help > About QATT: the version, the database in use and its schema version, and the form versions
(what IT and a QA lead need when reporting a problem)."""

from __future__ import annotations

import html
from typing import Optional

from PySide6.QtWidgets import (
    QApplication, QDialog, QDialogButtonBox, QLabel, QPushButton, QTableWidgetItem, QVBoxLayout, QWidget,
)

from qatt.about import About, about
from ui.context import AppContext
from ui.widgets.tables import read_only_table
from ui.widgets.buttons import tab_in_screen_order


def about_text(info: About) -> str:
    """The same facts as plain text, for the Copy button (pasted into a support request)."""
    lines = [f"QATT {info.version}", f"Database: {info.database} ({info.backend})",
             f"Schema version: {info.schema_version} (this QATT: {info.schema_latest})", "Forms:"]
    lines += [f"  {f.form_id} version {f.version} ({f.content_hash[:12]}; {f.stored_versions} stored)" for f in info.forms]
    return "\n".join(lines)


class AboutDialog(QDialog):
    def __init__(self, context: AppContext, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About QATT")
        self.info = about(context.db, context.db_label)
        summary = QLabel(
            f"<b>QATT {html.escape(self.info.version)}</b><br>Quality assurance (dip sampling) of police case files. "
            "Open source. Every draw is recorded with its seed so anyone can verify it.<br><br>"
            f"Database: {html.escape(self.info.database)} ({self.info.backend})<br>"
            f"Schema version: {self.info.schema_version} (this QATT: {self.info.schema_latest})")
        summary.setWordWrap(True)
        summary.setAccessibleName("Version and database")
        self.summary = summary
        self.forms = read_only_table("Form versions", len(self.info.forms), 4)
        self.forms.setHorizontalHeaderLabels(["Form", "Version", "Content hash", "Versions stored"])
        for row, form in enumerate(self.info.forms):
            for column, value in enumerate([form.title, form.version, form.content_hash[:12], str(form.stored_versions)]):
                self.forms.setItem(row, column, QTableWidgetItem(value))
        self.forms.resizeColumnsToContents()
        self.forms.verticalHeader().setVisible(False)
        buttons = tab_in_screen_order(QDialogButtonBox(QDialogButtonBox.StandardButton.Close))
        copy = QPushButton("Copy")
        copy.setToolTip("Copy these details, for a support request")
        copy.clicked.connect(lambda: QApplication.clipboard().setText(about_text(self.info)))
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(summary)
        if self.info.forms_problem:
            layout.addWidget(QLabel(f"The form files could not be read: {html.escape(self.info.forms_problem)}"))
        layout.addWidget(QLabel("Grading forms (built in):"))
        layout.addWidget(self.forms, 1)
        layout.addWidget(buttons)
        self.resize(820, 440)
