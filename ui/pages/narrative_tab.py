"""The Pack narratives tab of the Actions page: for an area and a period, QATT's draft from the
figures (or the kept version), edited and kept by the QA lead as a new version (qatt.reporting.narrative)."""

from __future__ import annotations

from typing import Dict, Optional

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget,
)

from qatt import reports
from qatt.errors import QattError
from qatt.reporting import narrative
from ui.context import AppContext
from ui.messages import show_problem

LABELS = {"judgement": "&Judgement:", "strengths": "Stre&ngths:", "work_in_progress": "&Work in progress:",
          "improvements": "Areas for &improvement:", "developing": "&Developing practice:"}


class NarrativeTab(QWidget):
    kept = Signal(object)  # the Narrative kept

    def __init__(self, context: AppContext, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.context = context
        self.current: Optional[narrative.Narrative] = None
        self.area = QComboBox()
        self.area.setAccessibleName("Area of practice")
        self.period_from = QLineEdit()
        self.period_from.setPlaceholderText("YYYY-MM")
        self.period_from.setAccessibleName("First month")
        self.period_to = QLineEdit()
        self.period_to.setPlaceholderText("YYYY-MM")
        self.period_to.setAccessibleName("Last month")
        self.load_button = QPushButton("&Load")
        self.load_button.clicked.connect(self.load)
        self.keep_button = QPushButton("K&eep this version")
        self.keep_button.setAccessibleName("Keep the narrative as a new version")
        self.keep_button.clicked.connect(self.keep)
        self.provenance = QLabel("Choose an area and a period, then Load.")
        self.provenance.setWordWrap(True)
        self.provenance.setAccessibleName("Where the narrative comes from")
        self.fields: Dict[str, QWidget] = {}
        form = QFormLayout()
        for name, label in LABELS.items():
            widget = QLineEdit() if name == "judgement" else QPlainTextEdit()
            if isinstance(widget, QPlainTextEdit):
                widget.setTabChangesFocus(True)
            widget.setAccessibleName(label.replace("&", "").rstrip(":"))
            self.fields[name] = widget
            form.addRow(label, widget)
        top = QHBoxLayout()
        for caption, widget in (("Area:", self.area), ("From:", self.period_from), ("To:", self.period_to)):
            top.addWidget(QLabel(caption))
            top.addWidget(widget)
        top.addWidget(self.load_button)
        top.addStretch(1)
        top.addWidget(self.keep_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(QLabel("One point per line. Theme figures say whether they come from the reviewers' ticks "
                                "or from checklist answers tagged with the theme."))
        layout.addWidget(self.provenance)
        layout.addLayout(form)
        self.keep_button.setEnabled(False)
        self.refresh()

    def refresh(self) -> None:
        choices = reports.filter_choices()
        current = self.area.currentText()
        self.area.clear()
        self.area.addItems(choices.areas)
        if current:
            self.area.setCurrentText(current)
        if choices.periods and not self.period_from.text():
            self.period_from.setText(choices.periods[0])
            self.period_to.setText(choices.periods[-1])

    def _filter(self) -> reports.ReportFilter:
        return reports.ReportFilter(self.period_from.text().strip(), self.period_to.text().strip())

    def load(self) -> bool:
        try:
            self.current = narrative.current_for_area(self._filter(), self.area.currentText())
        except QattError as exc:
            show_problem(self, "The narrative could not be loaded", str(exc))
            return False
        for name, widget in self.fields.items():
            value = getattr(self.current, name)
            widget.setText(value) if isinstance(widget, QLineEdit) else widget.setPlainText(value)
        self.provenance.setText(f"{self.current.area}, {self.current.scope}: {self.current.provenance}")
        self.keep_button.setEnabled(True)
        return True

    def keep(self) -> bool:
        if self.current is None:
            return False
        values = {name: (w.text() if isinstance(w, QLineEdit) else w.toPlainText()) for name, w in self.fields.items()}
        try:
            saved = narrative.save(self.context.actor, self.current.area, self.current.scope, **values)
        except QattError as exc:
            show_problem(self, "The narrative was not kept", str(exc))
            return False
        self.current = saved
        self.provenance.setText(f"{saved.area}, {saved.scope}: {saved.provenance}")
        self.kept.emit(saved)
        return True
