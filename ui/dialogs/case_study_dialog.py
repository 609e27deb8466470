"""The Case study dialog: choose a submitted review as a good- or poor-practice example for the pack.

The dialog only collects what the user wants; the Review page saves it through qatt.reviewing.case_studies,
which checks who may and records the change in the audit log.
"""

from __future__ import annotations

from typing import Optional, Sequence, Tuple

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem,
    QPlainTextEdit, QPushButton, QVBoxLayout, QWidget,
)

from qatt.reviewing.case_studies import KIND_LABELS, CaseStudyText, SuggestedCaseStudy
from ui.widgets.buttons import tab_in_screen_order

SAVE, REMOVE = "save", "remove"
Choice = Tuple[str, Optional[CaseStudyText]]  # (SAVE, the text) or (REMOVE, None)


class CaseStudyDialog(QDialog):
    def __init__(self, reference: str, current: Optional[CaseStudyText], parent: Optional[QWidget] = None,
                 suggested: Optional[str] = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Case study: case {reference}")
        self.choice: Optional[Choice] = None
        self.kind = QComboBox()
        for kind, label in KIND_LABELS.items():
            self.kind.addItem(label, kind)
        self.kind.setAccessibleName("What the case study shows")
        self.title_edit = QLineEdit()
        self.title_edit.setMaxLength(200)
        self.title_edit.setAccessibleName("Case study title")
        self.summary = QPlainTextEdit()
        self.summary.setAccessibleName("What happened and why it is an example")
        self.summary.setTabChangesFocus(True)
        if current is None and suggested in KIND_LABELS:  # the reviewer's own suggestion, still to be written up
            self.kind.setCurrentIndex(self.kind.findData(suggested))
        if current is not None:
            self.kind.setCurrentIndex(max(self.kind.findData(current.kind), 0))
            self.title_edit.setText(current.title)
            self.summary.setPlainText(current.summary)

        form = QFormLayout()
        form.addRow("&Shows:", self.kind)
        form.addRow("&Title:", self.title_edit)
        form.addRow("&Account:", self.summary)
        warning = QLabel("Write it without names or references: the inspection pack prints it as written.")
        warning.setWordWrap(True)
        buttons = tab_in_screen_order(QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel))
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        self.remove_button = QPushButton("&Remove case study")
        buttons.addButton(self.remove_button, QDialogButtonBox.ButtonRole.DestructiveRole)
        self.remove_button.setVisible(current is not None)  # after addButton, which shows it
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)
        self.remove_button.clicked.connect(self._remove)
        self.title_edit.textChanged.connect(self._enable)
        self.summary.textChanged.connect(self._enable)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(warning)
        layout.addWidget(buttons)
        self.resize(self.fontMetrics().averageCharWidth() * 70, self.sizeHint().height())
        self._enable()

    def _enable(self) -> None:
        self.save_button.setEnabled(bool(self.title_edit.text().strip() and self.summary.toPlainText().strip()))

    def _save(self) -> None:
        self.choice = (SAVE, CaseStudyText(self.kind.currentData(), self.title_edit.text(), self.summary.toPlainText()))
        self.accept()

    def _remove(self) -> None:
        self.choice = (REMOVE, None)
        self.accept()


def ask_case_study(parent: QWidget, reference: str, current: Optional[CaseStudyText],
                   suggested: Optional[str] = None) -> Optional[Choice]:
    """Show the dialog; what the user chose, or None if they cancelled."""
    dialog = CaseStudyDialog(reference, current, parent, suggested)
    return dialog.choice if dialog.exec() == QDialog.DialogCode.Accepted else None


class SuggestedCaseStudiesDialog(QDialog):
    """The QA lead's list of reviews their reviewers suggested as case studies; choosing one opens it
    (the case study still needs its account, written without names, in the Case study dialog)."""

    def __init__(self, suggestions: Sequence[SuggestedCaseStudy], parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Suggested case studies")
        self.chosen: Optional[int] = None
        self.list = QListWidget()
        self.list.setAccessibleName("Reviews suggested as case studies")
        for s in suggestions:
            item = QListWidgetItem(f"{s.kind_label}: case {s.case_reference}, {s.area} ({s.period}), "
                                   f"suggested by {s.reviewer}")
            item.setData(Qt.ItemDataRole.UserRole, s.review_id)
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        self.list.itemActivated.connect(lambda _item: self._open())
        intro = QLabel("Reviews whose reviewer answered the case-study question good or poor practice. "
                       "Open one to write its case study.")
        intro.setWordWrap(True)
        buttons = tab_in_screen_order(QDialogButtonBox(
            QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel))
        buttons.accepted.connect(self._open)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.list, 1)
        layout.addWidget(buttons)
        self.resize(self.fontMetrics().averageCharWidth() * 90, self.fontMetrics().lineSpacing() * 20)

    def _open(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.chosen = item.data(Qt.ItemDataRole.UserRole)
            self.accept()


def choose_suggested_case_study(parent: QWidget, suggestions: Sequence[SuggestedCaseStudy]) -> Optional[int]:
    """The review the user chose to open, or None."""
    dialog = SuggestedCaseStudiesDialog(suggestions, parent)
    return dialog.chosen if dialog.exec() == QDialog.DialogCode.Accepted else None
