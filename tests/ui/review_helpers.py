"""Driving the Review page's real widgets the way a reviewer does (shared by the page and end-to-end tests)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from ui.widgets.answers import ButtonsAnswer, ComboAnswer, LineAnswer, LongTextAnswer, MultiAnswer

TYPED_ANSWERS = {"number": "2", "date": "2024-04-10", "text": "Checked on the record"}


def answer(qtbot, page, question_id: str, value: str) -> None:
    """Answer one question through its widget: a click for yes/no, a choice for lists, typing for text."""
    widget = page.form_view.rows[question_id].input
    if isinstance(widget, ButtonsAnswer):
        qtbot.mouseClick(widget.buttons[value], Qt.MouseButton.LeftButton)
    elif isinstance(widget, ComboAnswer):
        widget.combo.setCurrentIndex(widget.combo.findData(value))
    elif isinstance(widget, LineAnswer):
        widget.edit.clear()
        qtbot.keyClicks(widget.edit, value)
    elif isinstance(widget, LongTextAnswer):
        widget.edit.setPlainText(value)
    elif isinstance(widget, MultiAnswer):
        widget.boxes[value].setChecked(True)
    else:
        raise AssertionError(f"no way to answer {question_id} with {value!r}")


def answer_everything_yes(qtbot, page) -> None:
    """Answer every visible required question: yes, the first option, or a plausible typed value.

    Answering can reveal more questions (show_if), so it repeats until nothing required is left."""
    for _round in range(10):
        rows = [row for row in page.form_view.rows.values()
                if row.is_visible() and row.question.required and row.input.value() is None]
        if not rows:
            return
        for row in rows:
            question = row.question
            if question.type in ("yes_no", "yes_no_na"):
                answer(qtbot, page, question.id, "yes")
            elif question.type in ("choice", "multi"):
                answer(qtbot, page, question.id, question.options[0].id)
            elif question.type == "grade":
                answer(qtbot, page, question.id, question.scale.values[0].id)
            elif question.type in TYPED_ANSWERS:
                answer(qtbot, page, question.id, TYPED_ANSWERS[question.type])
    raise AssertionError("required questions kept appearing")
