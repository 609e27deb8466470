"""Input widgets for the question types of a grading form (see qatt.reviewing.forms.QUESTION_TYPES).

Every widget has the same small interface: `value()` returns what the reviewer entered, in the form
the core's validate_answer accepts (None when unanswered); `set_value()` shows a stored answer
without emitting `changed`; `set_read_only()` locks it once the review is submitted.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtWidgets import (
    QAbstractButton, QButtonGroup, QCheckBox, QComboBox, QGridLayout, QHBoxLayout, QLabel, QLineEdit,
    QPlainTextEdit, QRadioButton, QVBoxLayout, QWidget,
)

from qatt.reviewing.forms import Question

YES_NO_LABELS = {"yes": "&Yes", "no": "&No", "na": "N/&A"}
THEME_CHOICES = (("", "—"), ("strength", "Strength"), ("weakness", "Weakness"))


class AnswerWidget(QWidget):
    changed = Signal()

    def value(self) -> Any:
        raise NotImplementedError

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def set_read_only(self, read_only: bool) -> None:
        self.setEnabled(not read_only)

    def set_na_allowed(self, allowed: bool) -> None:
        """Only yes / no / N/A questions offer N/A; the form may refuse it while a condition holds."""


class ButtonsAnswer(AnswerWidget):
    """Yes / No (/ N/A) as radio buttons: arrow keys move between them, and a second click clears."""

    def __init__(self, question: Question, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        choices = ("yes", "no") if question.type == "yes_no" else ("yes", "no", "na")
        self.group = QButtonGroup(self)
        self.buttons: Dict[str, QRadioButton] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for choice in choices:
            button = QRadioButton(YES_NO_LABELS[choice].replace("&", ""))
            button.setAccessibleName(f"{question.text}: {YES_NO_LABELS[choice].replace('&', '')}")
            self.group.addButton(button)
            self.buttons[choice] = button
            layout.addWidget(button)
        layout.addStretch(1)
        self.group.buttonClicked.connect(self._clicked)
        self._last: Optional[str] = None

    def _clicked(self, button: QAbstractButton) -> None:
        chosen = next(choice for choice, b in self.buttons.items() if b is button)
        if chosen == self._last:  # clicking the chosen answer again clears it
            self.set_value(None)
        else:
            self._last = chosen
        self.changed.emit()

    def value(self) -> Any:
        return self._last

    def set_value(self, value: Any) -> None:
        self.group.setExclusive(False)  # an exclusive group cannot be emptied
        for choice, button in self.buttons.items():
            with QSignalBlocker(button):
                button.setChecked(choice == value)
        self.group.setExclusive(True)
        self._last = value if value in self.buttons else None

    def set_na_allowed(self, allowed: bool) -> None:
        # A chosen N/A stays visible (and is reported as a problem) so nothing changes unseen.
        if "na" in self.buttons:
            self.buttons["na"].setEnabled(allowed or self._last == "na")
            self.buttons["na"].setToolTip("" if allowed else "N/A is not an answer while this item applies.")


class ComboAnswer(AnswerWidget):
    """One choice from a list (a grade on a scale, or the question's options); the first entry is 'not answered'."""

    def __init__(self, question: Question, choices: Sequence[Tuple[str, str]], parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.setAccessibleName(question.text)
        self.combo.addItem("— choose —", None)
        for choice_id, label in choices:
            self.combo.addItem(label, choice_id)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo)
        layout.addStretch(1)
        self.combo.currentIndexChanged.connect(lambda _index: self.changed.emit())
        self.setFocusProxy(self.combo)

    def value(self) -> Any:
        return self.combo.currentData()

    def set_value(self, value: Any) -> None:
        with QSignalBlocker(self.combo):
            index = self.combo.findData(value)
            self.combo.setCurrentIndex(max(index, 0))


class MultiAnswer(AnswerWidget):
    """Any number of options, as check boxes."""

    def __init__(self, question: Question, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.boxes: Dict[str, QCheckBox] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for option in question.options:
            box = QCheckBox(option.label)
            box.setAccessibleName(f"{question.text}: {option.label}")
            box.toggled.connect(lambda _on: self.changed.emit())
            self.boxes[option.id] = box
            layout.addWidget(box)
        layout.addStretch(1)

    def value(self) -> Any:
        return [option_id for option_id, box in self.boxes.items() if box.isChecked()] or None

    def set_value(self, value: Any) -> None:
        chosen = set(value or [])
        for option_id, box in self.boxes.items():
            with QSignalBlocker(box):
                box.setChecked(option_id in chosen)


class ThemesAnswer(AnswerWidget):
    """Each theme the form offers, tagged as a strength, a weakness or neither, and (where the form
    allows it) an "Add another theme" list of the other themes, each added as one more row."""

    def __init__(self, question: Question, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.combos: Dict[str, QComboBox] = {}
        self.grid = QGridLayout()
        self.grid.setContentsMargins(0, 0, 0, 0)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(self.grid)
        for option in question.options:
            self._add_row(option.id, option.label)
        self.more: Optional[QComboBox] = None
        self._more_labels = {o.id: o.label for o in question.more_options}
        if question.more_options:
            self.more = QComboBox()
            self.more.setAccessibleName("Add another theme")
            self.more.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            self.more.setMinimumContentsLength(24)
            self.more.addItem("Add another theme…", None)
            for option in question.more_options:
                self.more.addItem(option.label, option.id)
            self.more.activated.connect(self._add_chosen)
            outer.addWidget(self.more)

    def _add_row(self, theme: str, text: str) -> QComboBox:
        combo = QComboBox()
        combo.setAccessibleName(f"Theme {text}")
        for polarity, label in THEME_CHOICES:
            combo.addItem(label, polarity)
        combo.currentIndexChanged.connect(lambda _index: self.changed.emit())
        label = QLabel(text)
        label.setBuddy(combo)
        # One theme a row: two a row made the form wider than the Review page at 1200x750.
        row = len(self.combos)
        label.setWordWrap(True)
        self.grid.addWidget(label, row, 0)
        self.grid.addWidget(combo, row, 1)
        self.combos[theme] = combo
        return combo

    def add_theme(self, theme: str) -> QComboBox:
        """Offer one of the other themes as a row of its own (once)."""
        if theme not in self.combos:
            self._add_row(theme, self._more_labels.get(theme, theme))
            if self.more is not None:
                self.more.removeItem(self.more.findData(theme))
        return self.combos[theme]

    def _add_chosen(self, index: int) -> None:
        assert self.more is not None
        theme = self.more.itemData(index)
        self.more.setCurrentIndex(0)
        if theme:
            self.add_theme(theme).setFocus()

    def value(self) -> Any:
        tagged = {theme: combo.currentData() for theme, combo in self.combos.items() if combo.currentData()}
        return tagged or None

    def set_value(self, value: Any) -> None:
        tags = value or {}
        for theme in tags:
            if theme not in self.combos and theme in self._more_labels:
                self.add_theme(theme)
        for theme, combo in self.combos.items():
            with QSignalBlocker(combo):
                combo.setCurrentIndex(max(combo.findData(tags.get(theme, "")), 0))


class LineAnswer(AnswerWidget):
    """A number, a date (YYYY-MM-DD) or a short text; the core checks and converts what was typed."""

    def __init__(self, question: Question, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.edit = QLineEdit()
        self.edit.setAccessibleName(question.text)
        placeholders = {"date": "YYYY-MM-DD", "number": question.unit or "number"}
        self.edit.setPlaceholderText(placeholders.get(question.type, ""))
        self.edit.textEdited.connect(lambda _text: self.changed.emit())
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1 if question.type == "text" else 0)
        if question.unit:
            layout.addWidget(QLabel(question.unit))
        if question.type != "text":
            layout.addStretch(1)
        self.setFocusProxy(self.edit)

    def value(self) -> Any:
        return self.edit.text().strip() or None

    def set_value(self, value: Any) -> None:
        with QSignalBlocker(self.edit):
            self.edit.setText("" if value is None else str(value))

    def set_read_only(self, read_only: bool) -> None:
        self.edit.setReadOnly(read_only)


class LongTextAnswer(AnswerWidget):
    def __init__(self, question: Question, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.edit = QPlainTextEdit()
        self.edit.setAccessibleName(question.text)
        self.edit.setTabChangesFocus(True)
        self.edit.setFixedHeight(self.edit.fontMetrics().lineSpacing() * 4 + 12)
        self.edit.textChanged.connect(self.changed.emit)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit)
        self.setFocusProxy(self.edit)

    def value(self) -> Any:
        return self.edit.toPlainText().strip() or None

    def set_value(self, value: Any) -> None:
        with QSignalBlocker(self.edit):
            self.edit.setPlainText("" if value is None else str(value))

    def set_read_only(self, read_only: bool) -> None:
        self.edit.setReadOnly(read_only)


def answer_widget(question: Question, parent: Optional[QWidget] = None) -> AnswerWidget:
    """The input widget for a question's type."""
    qtype = question.type
    if qtype in ("yes_no", "yes_no_na"):
        return ButtonsAnswer(question, parent)
    if qtype == "grade":
        assert question.scale is not None
        choices: List[Tuple[str, str]] = [(v.id, v.label) for v in question.scale.values + question.scale.special]
        return ComboAnswer(question, choices, parent)
    if qtype == "choice":
        return ComboAnswer(question, [(o.id, o.label) for o in question.options], parent)
    if qtype == "multi":
        return MultiAnswer(question, parent)
    if qtype == "themes":
        return ThemesAnswer(question, parent)
    if qtype == "text" and question.multiline:
        return LongTextAnswer(question, parent)
    return LineAnswer(question, parent)
