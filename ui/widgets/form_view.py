"""A grading form rendered from its definition: sections, questions, help, required and critical
markers, and show_if conditions applied live as answers change.

The view only collects answers. Checking them (validate_answer), deciding what is visible
(visible_questions) and suggesting a grade are the core's work; the view asks the core each time.
"""

from __future__ import annotations

import html
from typing import Any, Dict, Iterable, Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QVBoxLayout, QWidget

from qatt.reviewing import forms, grading
from qatt.errors import QattError
from qatt.reviewing.forms import Form, Question
from ui import theme
from ui.widgets.answers import AnswerWidget, answer_widget

REQUIRED_MARK = " <span title='required'>*</span>"
CRITICAL_MARK = " <b>[critical]</b>"


class QuestionRow:
    """The label, input and problem line of one question, shown and hidden together."""

    def __init__(self, question: Question, layout: QFormLayout) -> None:
        self.question = question
        text = html.escape(question.text)
        if question.required:
            text += REQUIRED_MARK
        if question.failing_answers:
            text += CRITICAL_MARK
        self.label = QLabel(text)
        self.label.setWordWrap(True)
        self.label.setMinimumWidth(self.label.fontMetrics().averageCharWidth() * 34)  # readable, scales with font
        self.label.setToolTip(question.help)
        self.input: AnswerWidget = answer_widget(question)
        self.input.setToolTip(question.help)
        self.label.setBuddy(self.input)
        self.problem = QLabel("")
        self.problem.setWordWrap(True)
        self.problem.setAccessibleName(f"Problem with {question.text}")
        self.problem.hide()
        column = QWidget()
        column_layout = QVBoxLayout(column)
        column_layout.setContentsMargins(0, 0, 0, 0)
        column_layout.addWidget(self.input)
        if question.help:
            help_label = QLabel(question.help)
            help_label.setWordWrap(True)
            help_label.setObjectName("help")  # the ordinary text colour (a disabled label's grey fails WCAG AA)
            help_font = help_label.font()
            help_font.setItalic(True)
            help_label.setFont(help_font)
            column_layout.addWidget(help_label)
        column_layout.addWidget(self.problem)
        # "From the extract (ViSOR ref)": shown while a prefilled answer is as QATT filled it in.
        self.origin = QLabel("")
        self.origin.setAccessibleName(f"Where the answer to {question.text} came from")
        self.origin.setEnabled(False)
        self.origin.hide()
        column_layout.insertWidget(1, self.origin)
        self.origin_value: Any = None
        self.field = column
        layout.addRow(self.label, column)

    def set_origin(self, label: str, value: Any) -> None:
        """Mark the answer as prefilled (label empty: not prefilled); the mark goes when it changes."""
        self.origin.setText(f"<i>{html.escape(label)}</i>" if label else "")
        self.origin_value = value if label else None
        self.origin.setVisible(bool(label) and not self.field.isHidden())

    def refresh_origin(self, value: Any) -> None:
        self.origin.setVisible(bool(self.origin.text()) and value == self.origin_value)

    def set_visible(self, visible: bool) -> None:
        self.label.setVisible(visible)
        self.field.setVisible(visible)

    def is_visible(self) -> bool:
        return not self.field.isHidden()

    def show_problem(self, message: str) -> None:
        self.problem.setText(message)
        self.problem.setVisible(bool(message))
        if message:
            theme.mark_bad(self.problem)


class FormView(QWidget):
    """Emits answers_changed() whenever the reviewer changes any answer."""

    answers_changed = Signal()

    def __init__(self, form: Form, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.form = form
        self.rows: Dict[str, QuestionRow] = {}
        self.groups: Dict[str, QGroupBox] = {}
        layout = QVBoxLayout(self)
        for section in form.sections:
            group = QGroupBox(section.title)
            group.setAccessibleName(f"Section {section.title}")
            form_layout = QFormLayout(group)
            form_layout.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
            form_layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            if section.help:
                intro = QLabel(section.help)
                intro.setWordWrap(True)
                form_layout.addRow(intro)
            for question in section.questions:
                row = QuestionRow(question, form_layout)
                row.input.changed.connect(lambda qid=question.id: self._changed(qid))
                self.rows[question.id] = row
            layout.addWidget(group)
            self.groups[section.id] = group
        layout.addStretch(1)
        self.apply_visibility()

    # -- answers ---------------------------------------------------------------------------------

    def raw_answers(self) -> Dict[str, Any]:
        """What is entered, unchecked (None for unanswered)."""
        return {qid: row.input.value() for qid, row in self.rows.items()}

    def checked_answers(self) -> Dict[str, Any]:
        """The entered answers the core accepts, in stored form; problems are shown beside the others."""
        answers: Dict[str, Any] = {}
        for qid, raw in self.raw_answers().items():
            row = self.rows[qid]
            try:
                value = forms.validate_answer(row.question, raw)
            except QattError as exc:
                row.show_problem(str(exc))
                continue
            row.show_problem("")
            if value is not None:
                answers[qid] = value
        return answers

    def invalid_questions(self) -> list:
        return [qid for qid, row in self.rows.items() if row.problem.isVisibleTo(self) and row.problem.text()]

    def set_answers(self, answers: Dict[str, Any], origins: Optional[Dict[str, str]] = None) -> None:
        """Show stored answers; `origins` ({question id: "From the extract (...)"}) marks prefilled ones."""
        for qid, row in self.rows.items():
            row.input.set_value(answers.get(qid))
            row.show_problem("")
            row.set_origin((origins or {}).get(qid, ""), answers.get(qid))
        self.apply_visibility()

    def set_read_only(self, read_only: bool) -> None:
        for row in self.rows.values():
            row.input.set_read_only(read_only)

    def _changed(self, _question_id: str) -> None:
        self.apply_visibility()
        self.answers_changed.emit()

    # -- conditions ------------------------------------------------------------------------------

    def apply_visibility(self) -> Dict[str, Any]:
        """Show exactly the questions the core says are visible for the current answers; returns those answers."""
        answers = self.checked_answers()
        visible = {q.id for q in forms.visible_questions(self.form, answers)}
        effective = forms.effective_answers(self.form, answers)
        for qid, row in self.rows.items():
            row.set_visible(qid in visible)
            row.refresh_origin(answers.get(qid))
            if row.question.na_not_allowed_if is not None:
                refused = row.question.na_refused(effective)
                row.input.set_na_allowed(not refused)
                if refused and answers.get(qid) == "na":
                    row.show_problem("N/A is not an answer here: " + "; ".join(
                        grading.describe_condition(self.form, row.question.na_not_allowed_if, effective))
                        + ". Answer yes or no.")
        return answers

    def visible_ids(self) -> set:
        return {qid for qid, row in self.rows.items() if row.is_visible()}

    def mark_missing(self, question_ids: Iterable[str]) -> None:
        """Point at required questions left unanswered, and move the keyboard to the first."""
        first = None
        for qid in question_ids:
            row = self.rows.get(qid)
            if row is not None:
                row.show_problem("Required: answer this before submitting.")
                first = first or row
        if first is not None:
            first.input.setFocus(Qt.FocusReason.OtherFocusReason)
