"""One small dialog for every change to an action: the note or reason it needs, the new owner for a
reassignment, the new due date for an extension. The core (qatt.loop.actions) checks the rules."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Optional

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QDateEdit, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QPlainTextEdit, QVBoxLayout, QWidget,
)
from ui.widgets.buttons import tab_in_screen_order


@dataclass(frozen=True)
class Change:
    """What the user asked for: kind is start | done | verify | send_back | reassign | extend | cancel."""

    kind: str
    text: str = ""
    owner: str = ""
    due_date: Optional[dt.date] = None


# kind -> (window title, label of the text box or "" for none, whether the text is required)
KINDS = {
    "start": ("Start the action", "Note (optional):", False),
    "done": ("Mark the action done", "What was &done:", True),
    "verify": ("Verify the action", "How it was &checked (optional):", False),
    "send_back": ("Send the action back", "What is still &missing:", True),
    "reassign": ("Reassign the action", "&Reason (optional):", False),
    "extend": ("Extend the action", "&Reason for the new date:", True),
    "cancel": ("Cancel the action", "&Reason for cancelling:", True),
}


class ActionDialog(QDialog):
    changed = Signal(object)  # Change

    def __init__(self, kind: str, action_label: str, current_due: Optional[dt.date] = None,
                 parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        title, text_label, self.text_required = KINDS[kind]
        self.kind = kind
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        intro = QLabel(action_label)
        intro.setWordWrap(True)
        form = QFormLayout()
        self.owner_edit = QLineEdit()
        self.owner_edit.setAccessibleName("New owner (username)")
        self.due_edit = QDateEdit()
        self.due_edit.setCalendarPopup(True)
        self.due_edit.setDisplayFormat("yyyy-MM-dd")
        self.due_edit.setAccessibleName("New due date")
        start = (current_due or dt.date.today()) + dt.timedelta(days=28)
        self.due_edit.setDate(QDate(start.year, start.month, start.day))
        self.text_edit = QPlainTextEdit()
        self.text_edit.setTabChangesFocus(True)
        self.text_edit.setAccessibleName(text_label.replace("&", "").rstrip(":"))
        if kind == "reassign":
            form.addRow("New &owner:", self.owner_edit)
        if kind == "extend":
            form.addRow("New &due date:", self.due_edit)
        form.addRow(text_label, self.text_edit)
        self.buttons = tab_in_screen_order(QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel))
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        self.problem = QLabel("")
        self.problem.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)

    def change(self) -> Change:
        date = self.due_edit.date()
        return Change(self.kind, self.text_edit.toPlainText().strip(), self.owner_edit.text().strip(),
                      dt.date(date.year(), date.month(), date.day()) if self.kind == "extend" else None)

    def _accept(self) -> None:
        change = self.change()
        if self.text_required and not change.text:
            self.problem.setText("Fill in the box: this change is recorded with its reason.")
            return
        if self.kind == "reassign" and not change.owner:
            self.problem.setText("Name the new owner.")
            return
        self.changed.emit(change)
        self.accept()
