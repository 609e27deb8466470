"""The lower half of a review: the suggested grade with its reasons, the reviewer's grade and the
rationale for overriding, strengths and areas for improvement, feedback, and actions."""

from __future__ import annotations

import html
from typing import Any, Dict, List, Optional

from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtWidgets import (
    QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QListWidget, QPlainTextEdit, QPushButton,
    QVBoxLayout, QWidget,
)

from qatt.reviewing.forms import Scale
from qatt.reviewing.grading import Suggestion

AS_SUGGESTED = ""  # the grade combo's first entry: take the suggested grade (the core does so on submit)


def _text_box(name: str, lines: int = 3) -> QPlainTextEdit:
    box = QPlainTextEdit()
    box.setAccessibleName(name)
    box.setTabChangesFocus(True)
    box.setFixedHeight(box.fontMetrics().lineSpacing() * lines + 12)
    return box


class GradePanel(QWidget):
    """Emits details_changed() when any field the reviewer types changes, and
    action_requested(text, owner, due date text) when they add an action."""

    details_changed = Signal()
    action_requested = Signal(str, str, str)

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.scale: Optional[Scale] = None
        self.suggested: Optional[str] = None

        self.suggestion = QLabel("")
        self.suggestion.setWordWrap(True)
        self.suggestion.setAccessibleName("Suggested grade")
        self.grade = QComboBox()
        self.grade.setAccessibleName("Overall grade")
        self.rationale_label = QLabel("Why does your grade differ from the suggested one? *")
        self.rationale = _text_box("Rationale for overriding the suggested grade")
        self.rationale_label.setBuddy(self.rationale)
        self.strengths = _text_box("Strengths")
        self.improvements = _text_box("Areas for improvement")
        self.feedback = _text_box("Feedback to the officer")
        self.feedback_date = QLineEdit()
        self.feedback_date.setPlaceholderText("YYYY-MM-DD")
        self.feedback_date.setAccessibleName("Date feedback was given")

        grading = QGroupBox("Grade")
        grading_layout = QFormLayout(grading)
        grading_layout.addRow(self.suggestion)
        grade_label = QLabel("Overall &grade:")
        grade_label.setBuddy(self.grade)
        grading_layout.addRow(grade_label, self.grade)
        grading_layout.addRow(self.rationale_label, self.rationale)

        notes = QGroupBox("Feedback")
        notes_layout = QFormLayout(notes)
        for text, widget in (("S&trengths:", self.strengths), ("Areas for &improvement:", self.improvements),
                             ("Feed&back to the officer:", self.feedback), ("Feedback &date:", self.feedback_date)):
            label = QLabel(text)
            label.setBuddy(widget)
            notes_layout.addRow(label, widget)

        self.actions = QListWidget()
        self.actions.setAccessibleName("Actions arising from this review")
        self.actions.setMaximumHeight(self.actions.fontMetrics().lineSpacing() * 5 + 12)
        self.action_text = QLineEdit()
        self.action_text.setPlaceholderText("Action, e.g. 'Record the voice of the child'")
        self.action_text.setAccessibleName("New action")
        self.action_owner = QLineEdit()
        self.action_owner.setPlaceholderText("Owner")
        self.action_owner.setAccessibleName("Owner of the new action")
        self.action_due = QLineEdit()
        self.action_due.setPlaceholderText("Due YYYY-MM-DD")
        self.action_due.setAccessibleName("Due date of the new action")
        self.add_action_button = QPushButton("Add an acti&on")
        self.add_action_button.setAccessibleName("Add the action")
        self.add_action_button.clicked.connect(self._request_action)
        actions = QGroupBox("Actions")
        actions_layout = QVBoxLayout(actions)
        actions_layout.addWidget(self.actions)
        new_action = QHBoxLayout()
        new_action.addWidget(self.action_text, 3)
        new_action.addWidget(self.action_owner, 1)
        new_action.addWidget(self.action_due, 1)
        new_action.addWidget(self.add_action_button)
        actions_layout.addLayout(new_action)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for group in (grading, notes, actions):
            layout.addWidget(group)

        self.grade.currentIndexChanged.connect(self._grade_changed)
        for box in (self.rationale, self.strengths, self.improvements, self.feedback):
            box.textChanged.connect(self.details_changed.emit)
        self.feedback_date.textEdited.connect(lambda _text: self.details_changed.emit())

    # -- content ---------------------------------------------------------------------------------

    def set_scale(self, scale: Scale) -> None:
        self.scale = scale
        with QSignalBlocker(self.grade):
            self.grade.clear()
            self.grade.addItem("As suggested", AS_SUGGESTED)
            for value in scale.values + scale.special:
                self.grade.addItem(value.label, value.id)

    def load(self, view: Any) -> None:
        """Show a review's details (a qatt.reviewing.reviews.ReviewView) without emitting details_changed."""
        widgets = (self.grade, self.rationale, self.strengths, self.improvements, self.feedback, self.feedback_date)
        blockers = [QSignalBlocker(widget) for widget in widgets]
        self.grade.setCurrentIndex(max(self.grade.findData(view.grade or AS_SUGGESTED), 0))
        self.rationale.setPlainText(view.override_rationale)
        self.strengths.setPlainText(view.strengths)
        self.improvements.setPlainText(view.improvements)
        self.feedback.setPlainText(view.feedback)
        self.feedback_date.setText(view.feedback_date or "")
        del blockers
        self.show_actions(view.actions)
        self._update_rationale()

    def show_actions(self, actions: List[Dict[str, Any]]) -> None:
        self.actions.clear()
        for action in actions:
            owner = f" — {action['owner']}" if action.get("owner") else ""
            due = f", due {action['due_date']}" if action.get("due_date") else ""
            self.actions.addItem(f"{action['text']}{owner}{due} ({action['status']})")

    def details(self) -> Dict[str, Any]:
        """The fields save_details takes, as entered."""
        return {
            "grade": self.grade.currentData() or "",
            "override_rationale": self.rationale.toPlainText().strip(),
            "strengths": self.strengths.toPlainText().strip(),
            "improvements": self.improvements.toPlainText().strip(),
            "feedback": self.feedback.toPlainText().strip(),
            "feedback_date": self.feedback_date.text().strip() or None,
        }

    def set_read_only(self, read_only: bool) -> None:
        self.grade.setEnabled(not read_only)
        for box in (self.rationale, self.strengths, self.improvements, self.feedback):
            box.setReadOnly(read_only)
        self.feedback_date.setReadOnly(read_only)

    # -- the suggestion and the override -----------------------------------------------------------

    def show_suggestion(self, suggestion: Suggestion) -> None:
        self.suggested = suggestion.grade
        reasons = "; ".join(html.escape(reason) for reason in suggestion.reasons)
        if suggestion.grade and self.scale is not None:
            label = html.escape(self.scale.label(suggestion.grade))
            self.suggestion.setText(f"Suggested grade: <b>{label}</b><br><small>{reasons}</small>")
            self.grade.setItemText(0, f"As suggested ({self.scale.label(suggestion.grade)})")
        else:
            self.suggestion.setText(f"No suggested grade yet<br><small>{reasons}</small>")
            self.grade.setItemText(0, "As suggested")
        self._update_rationale()

    def overrides(self) -> bool:
        """True when the reviewer chose a grade other than the suggested one (a rationale is then required)."""
        chosen = self.grade.currentData()
        return bool(chosen) and bool(self.suggested) and chosen != self.suggested

    def _update_rationale(self) -> None:
        needed = self.overrides() or bool(self.rationale.toPlainText().strip())
        self.rationale_label.setVisible(needed)
        self.rationale.setVisible(needed)

    def _grade_changed(self, _index: int) -> None:
        self._update_rationale()
        self.details_changed.emit()

    # -- actions -----------------------------------------------------------------------------------

    def _request_action(self) -> None:
        self.action_requested.emit(self.action_text.text().strip(), self.action_owner.text().strip(),
                                   self.action_due.text().strip())

    def clear_new_action(self) -> None:
        for edit in (self.action_text, self.action_owner, self.action_due):
            edit.clear()

