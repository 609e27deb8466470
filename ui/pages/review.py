"""The Review page: a sample's cases on the left, the chosen case's grading form on the right.

The form is rendered from its stored definition (ui.widgets.form_view). As answers change, hidden
questions follow their show_if conditions and the suggested grade is recomputed by the core; a grade
other than the suggested one asks for a rationale. Drafts save themselves a moment after each change
(and before moving to another case); saving is one short transaction, so it runs on the GUI thread.
Submitting locks the review. Another person's save in the meantime is reported as a conflict and the
review is reloaded: nothing is silently overwritten.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
from typing import Any, Callable, Dict, List, Optional

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox, QHBoxLayout, QHeaderView, QInputDialog, QLabel, QMessageBox, QPushButton, QScrollArea, QSplitter,
    QVBoxLayout, QWidget,
)

from qatt import browse, reports
from qatt.reviewing import case_studies, forms, grading, reviews
from qatt.trust import users
from qatt.errors import ConflictError, QattError
from ui.context import AppContext
from ui.dialogs.case_study_dialog import REMOVE, ask_case_study, choose_suggested_case_study
from ui.formatting import local_time
from ui.messages import show_problem
from ui.qtmodels.tuple_model import TupleTableModel
from ui.widgets.form_chooser import FormChooser
from ui.widgets.form_view import FormView
from ui.widgets.grade_panel import GradePanel
from ui.widgets.tables import list_table

AUTOSAVE_DELAY_MS = 800
ROLES = (("first", "First review"), ("second", "Second review (moderation)"))
# Positions in browse.WorkItem; status first, so a narrow list still shows what is left to do.
WORKLIST_COLUMNS = [("#", 1, None), ("Reference", 2, None), ("Status", 6, None), ("Grade", 7, None),
                    ("Area", 3, None), ("Officer", 4, None), ("Reviewer", 5, None)]
WORKLIST_STRETCH = 4  # the area: the long column, stretched (the others fit their contents)


def ask_to_submit(parent: QWidget, reference: str) -> bool:
    """Submitting locks the review, so the reviewer confirms it (Enter accepts, Escape goes back)."""
    answer = QMessageBox.question(
        parent, "Submit the review?",
        f"Submit your review of case {reference}? It is then locked; later changes need an amendment with a reason.",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes)
    return answer == QMessageBox.StandardButton.Yes


def ask_amendment_reason(parent: QWidget, reference: str) -> Optional[str]:
    """The reason for amending a submitted review (recorded in the audit log); None if cancelled."""
    reason, accepted = QInputDialog.getText(parent, "Reason for the amendment",
                                            f"Why is the submitted review of case {reference} being changed?")
    return reason if accepted else None


class ReviewPage(QWidget):
    """Emits review_opened(review id), review_saved(review id) and review_submitted(review id)."""

    review_opened = Signal(int)
    review_saved = Signal(int)
    review_submitted = Signal(int)

    def __init__(self, context: AppContext, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.context = context
        self.confirm_submit: Callable[[QWidget, str], bool] = ask_to_submit  # tests replace the questions
        self.ask_reason: Callable[[QWidget, str], Optional[str]] = ask_amendment_reason
        self.ask_case_study = ask_case_study
        self.choose_suggested = choose_suggested_case_study
        self.amending = False
        self.view: Optional[reviews.ReviewView] = None
        self.form: Optional[forms.Form] = None
        self.form_view: Optional[FormView] = None
        self.editable = False
        self.saved_answers: Dict[str, Any] = {}
        self.saved_details: Dict[str, Any] = {}
        self.work: List[browse.WorkItem] = []
        self.vocab = reports.Vocabulary.load()  # grade labels for the worklist

        self.autosave = QTimer(self)
        self.autosave.setSingleShot(True)
        self.autosave.setInterval(AUTOSAVE_DELAY_MS)
        self.autosave.timeout.connect(self.save_now)

        self._build_worklist()
        self._build_review_area()
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.worklist_panel)
        splitter.addWidget(self.review_panel)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 5)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self._add_shortcuts()
        self.refresh()

    # -- building ----------------------------------------------------------------------------------

    def _build_worklist(self) -> None:
        self.sample_choice = QComboBox()
        self.sample_choice.setAccessibleName("Sample to review")
        self.sample_choice.currentIndexChanged.connect(lambda _index: self.show_worklist())
        self.role_choice = QComboBox()
        self.role_choice.setAccessibleName("Review role")
        for role, label in ROLES:
            self.role_choice.addItem(label, role)
        self.role_choice.currentIndexChanged.connect(lambda _index: self.show_worklist())
        self.worklist = TupleTableModel(WORKLIST_COLUMNS, parent=self)
        self.table = list_table("Cases in the sample", self.worklist)
        # Every column as wide as its contents ("Requires improvement" in full), the area taking what
        # is left; the panel is wide enough at 1200x750 for the columns up to the grade and some area.
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        for column in range(len(WORKLIST_COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(WORKLIST_STRETCH, QHeaderView.ResizeMode.Stretch)
        metrics = self.table.fontMetrics()
        needed = sum(metrics.horizontalAdvance(text) for text in ("00", "DE/24/000000", "not started",
                                                                  "Requires improvement", "Area  "))
        padding = 5 * metrics.averageCharWidth()  # a cell's margins and grid line, for the five columns
        self.table.setMinimumWidth(needed + padding + self.table.verticalScrollBar().sizeHint().width())
        self.table.selectionModel().selectionChanged.connect(lambda *_args: self.open_selected())

        self.worklist_panel = QWidget()
        layout = QVBoxLayout(self.worklist_panel)
        layout.setContentsMargins(0, 0, 0, 0)
        sample_label = QLabel("Sa&mple:")
        sample_label.setBuddy(self.sample_choice)
        layout.addWidget(sample_label)
        layout.addWidget(self.sample_choice)
        layout.addWidget(self.role_choice)
        layout.addWidget(self.table, 1)
        self.worklist_layout = layout  # the review area adds "Suggested case studies…" under the list

    def _build_review_area(self) -> None:
        self.header = QLabel("Choose a case on the left to review it.")
        self.header.setWordWrap(True)
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.header.setAccessibleName("The case under review")
        self.start_button = QPushButton("S&tart the review of this case")
        self.start_button.setAccessibleName("Start the review of this case")
        self.start_button.clicked.connect(self.start_selected)
        self.start_button.hide()
        self.form_chooser = FormChooser()  # only for a case no form covers
        self.form_holder = QVBoxLayout()
        self.grade_panel = GradePanel()
        self.grade_panel.details_changed.connect(self._edited)
        self.grade_panel.action_requested.connect(self.add_action)
        self.grade_panel.hide()

        content = QWidget()
        content_layout = QVBoxLayout(content)
        content_layout.addWidget(self.header)
        content_layout.addWidget(self.form_chooser)
        content_layout.addWidget(self.start_button)
        content_layout.addLayout(self.form_holder)
        content_layout.addWidget(self.grade_panel)
        content_layout.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(content)

        self.status = QLabel("")
        self.status.setAccessibleName("Review status")
        self.previous_button = QPushButton("◀ &Previous case")
        self.previous_button.setAccessibleName("Previous case in the sample")
        self.previous_button.setToolTip("Previous case (Ctrl+Page Up)")
        self.previous_button.clicked.connect(lambda: self.move(-1))
        self.next_button = QPushButton("&Next case ▶")
        self.next_button.setAccessibleName("Next case in the sample")
        self.next_button.setToolTip("Next case (Ctrl+Page Down)")
        self.next_button.clicked.connect(lambda: self.move(1))
        self.save_button = QPushButton("Save d&raft")
        self.save_button.setToolTip("Drafts also save themselves as you work (Ctrl+S)")
        self.save_button.clicked.connect(self.save_now)
        self.submit_button = QPushButton("S&ubmit review")
        self.submit_button.setToolTip("Submit and lock the review (Ctrl+Enter)")
        self.submit_button.clicked.connect(self.submit)
        self.amend_button = QPushButton("&Amend…")
        self.amend_button.setToolTip("Change your submitted review; you will be asked for the reason")
        self.amend_button.clicked.connect(self.amend)
        self.case_study_button = QPushButton("&Case study…")
        self.case_study_button.setToolTip("Choose this submitted review as a good- or poor-practice example for the "
                                          "inspection pack")
        self.case_study_button.clicked.connect(self.edit_case_study)
        self.suggested_button = QPushButton("Suggested cas&e studies…")
        self.suggested_button.setToolTip("Reviews whose reviewers suggested them as good- or poor-practice case studies")
        self.suggested_button.clicked.connect(self.show_suggested_case_studies)
        self.worklist_layout.addWidget(self.suggested_button)  # about every review, not the one shown
        # Two rows, so that every button and the whole status fit the panel at 1200x750 and at 150%:
        # moving between cases beside the status, then what the reviewer does with this review.
        self.status.setWordWrap(True)
        moving = QHBoxLayout()
        moving.addWidget(self.previous_button)
        moving.addWidget(self.next_button)
        moving.addWidget(self.status, 1)
        doing = QHBoxLayout()
        doing.addStretch(1)
        for button in (self.save_button, self.submit_button, self.amend_button, self.case_study_button):
            doing.addWidget(button)

        self.review_panel = QWidget()
        layout = QVBoxLayout(self.review_panel)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scroll, 1)
        layout.addLayout(moving)
        layout.addLayout(doing)
        self._enable_buttons()

    def _add_shortcuts(self) -> None:
        for keys, slot in (("Ctrl+S", self.save_now), ("Ctrl+Return", self.submit), ("Ctrl+Enter", self.submit),
                           ("Ctrl+PgDown", lambda: self.move(1)), ("Ctrl+PgUp", lambda: self.move(-1))):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)

    # -- the worklist ----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Reload the list of samples and the chosen sample's cases (another page may have drawn one)."""
        self.save_now()
        chosen = self.sample_choice.currentData()
        self.sample_choice.blockSignals(True)
        self.sample_choice.clear()
        for row in browse.sample_rows():
            sample_id, name, population, _method, period = row[:5]
            self.sample_choice.addItem(f"{name or f'Sample {sample_id}'} — {period or population}", sample_id)
        self.sample_choice.setCurrentIndex(max(self.sample_choice.findData(chosen), 0))
        self.sample_choice.blockSignals(False)
        self.show_worklist()

    def role(self) -> str:
        return self.role_choice.currentData()

    def show_worklist(self) -> None:
        sample_id = self.sample_choice.currentData()
        current = self.view.sample_item_id if self.view else self.selected_item_id()
        self.work = browse.review_worklist(sample_id, self.role(), viewer=self.context.actor) if sample_id is not None else []
        self.table.blockSignals(True)
        self.worklist.set_rows([dataclasses.astuple(dataclasses.replace(item, grade=self.vocab.grade_label(item.grade)
                                                                        if item.grade else ""))
                                for item in self.work])
        self.table.blockSignals(False)
        for row, item in enumerate(self.work):
            if item.sample_item_id == current:
                self.table.selectionModel().blockSignals(True)
                self.table.selectRow(row)
                self.table.selectionModel().blockSignals(False)
                break
        self._enable_buttons()

    def selected_row(self) -> Optional[int]:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def selected_item_id(self) -> Optional[int]:
        row = self.selected_row()
        return self.work[row].sample_item_id if row is not None and row < len(self.work) else None

    def select_item(self, sample_item_id: int) -> None:
        for row, item in enumerate(self.work):
            if item.sample_item_id == sample_item_id:
                self.table.selectRow(row)
                return

    def move(self, step: int) -> None:
        """Go to the next (step 1) or previous (step -1) case of the sample, saving the draft first."""
        if not self.work:
            return
        row = self.selected_row()
        target = 0 if row is None else row + step
        if 0 <= target < len(self.work):
            self.table.selectRow(target)

    # -- opening and starting ----------------------------------------------------------------------

    def open_selected(self) -> None:
        row = self.selected_row()
        if row is None or row >= len(self.work):
            return
        if not self.save_now():
            return
        item = self.work[row]
        if item.review_id is not None:
            self.open_review(item.review_id)
        else:
            self._show_unstarted(item)

    def _show_unstarted(self, item: browse.WorkItem) -> None:
        self._clear_review()
        self.header.setText(self._case_header(item.sample_item_id, item.reference)
                            + "<p>Nobody has started this review yet.</p>")
        self.form_chooser.prepare(item.sample_item_id, self.context.actor)
        self.start_button.show()
        self.start_button.setFocus()
        self._enable_buttons()

    def start_selected(self) -> None:
        item_id = self.selected_item_id()
        if item_id is None:
            return
        if self.form_chooser.needed and not self.form_chooser.chosen_form_id():
            show_problem(self, "Choose a form", "No form covers this case's area: choose the form to review it with.")
            return
        try:
            self.form_chooser.keep(self.context.actor)
            review = reviews.start_review(item_id, self.context.actor, role=self.role(),
                                          form_id=self.form_chooser.chosen_form_id() or None)
        except QattError as exc:
            show_problem(self, "The review could not be started", str(exc))
            return
        self.open_review(review.id)
        self.show_worklist()

    def open_review(self, review_id: int) -> bool:
        """Show a review: editable when it is the user's own draft, read-only otherwise.

        Also the way in from the Moderation page, which opens a second review it has just started."""
        try:
            view = reviews.get_review_view(review_id, self.context.actor)
            form = reviews.form_of(reviews.get_review(review_id))
        except QattError as exc:
            show_problem(self, "The review could not be opened", str(exc))
            return False
        self._follow(view)
        self._clear_review()
        self.view, self.form = view, form
        self.editable = view.reviewer == self.context.actor and view.status == reviews.DRAFT
        self.form_view = FormView(form)
        self.form_view.setAccessibleName(f"Form {form.title}")
        self.form_view.set_answers(view.answers, view.origins)
        self.form_view.set_read_only(not self.editable)
        self.form_view.answers_changed.connect(self._edited)
        self.form_holder.addWidget(self.form_view)
        self.form_view.show()
        self.grade_panel.set_scale(form.scale)
        self.grade_panel.load(view)
        self.grade_panel.set_read_only(not self.editable)
        self.grade_panel.add_action_button.setEnabled(view.reviewer == self.context.actor)
        self.grade_panel.show()
        self.saved_answers = dict(view.answers)
        self.saved_details = self.grade_panel.details()
        self.header.setText(self._case_header(view.sample_item_id, view.case_reference)
                            + f"<p>Form: {html.escape(form.title)} (version {html.escape(form.version)}) · "
                              f"{view.role} review by {html.escape(view.reviewer)}</p>")
        self._update_suggestion()
        self._show_status()
        self.review_opened.emit(review_id)
        return True

    def _follow(self, view: reviews.ReviewView) -> None:
        """Show the review's sample and role in the worklist (when opened from elsewhere)."""
        sample_id = browse.sample_of_item(view.sample_item_id)
        role_index = self.role_choice.findData(view.role)
        sample_index = self.sample_choice.findData(sample_id)
        if sample_index < 0:
            self.refresh()
            sample_index = self.sample_choice.findData(sample_id)
        for combo, index in ((self.role_choice, role_index), (self.sample_choice, sample_index)):
            if index >= 0 and combo.currentIndex() != index:
                combo.blockSignals(True)
                combo.setCurrentIndex(index)
                combo.blockSignals(False)
        self.view = view
        self.show_worklist()

    def _clear_review(self) -> None:
        self.form_chooser.clear()
        self.autosave.stop()
        self.view = self.form = None
        self.editable = self.amending = False
        self.start_button.hide()
        self.grade_panel.hide()
        if self.form_view is not None:
            self.form_holder.removeWidget(self.form_view)
            self.form_view.deleteLater()
            self.form_view = None
        self.status.setText("")

    def _case_header(self, sample_item_id: int, reference: str) -> str:
        details = browse.case_details(sample_item_id)
        lines = "".join(f"<tr><td><b>{html.escape(k)}</b></td><td>{html.escape(v)}</td></tr>"
                        for k, v in details if k != "Reference")
        return f"<h2>Case {html.escape(reference)}</h2><table>{lines}</table>"

    # -- editing -----------------------------------------------------------------------------------

    def _edited(self) -> None:
        if self.amending:
            self._update_suggestion()
            self.status.setText("Amending: press Amend… again to save the changes with a reason")
            return
        if not self.editable:
            return
        self._update_suggestion()
        self.status.setText("Unsaved changes… (saving shortly)")
        self.autosave.start()

    def _update_suggestion(self) -> None:
        if self.form is None or self.form_view is None:
            return
        answers = forms.effective_answers(self.form, self.form_view.checked_answers())
        self.grade_panel.show_suggestion(grading.suggest_grade(self.form, answers))

    def _answer_changes(self) -> Dict[str, Any]:
        assert self.form_view is not None
        entered = self.form_view.checked_answers()
        invalid = set(self.form_view.invalid_questions())
        changes = {qid: value for qid, value in entered.items() if self.saved_answers.get(qid) != value}
        changes.update({qid: None for qid in self.saved_answers if qid not in entered and qid not in invalid})
        return changes

    def save_now(self) -> bool:
        """Save the draft's changes now. False (with the problem shown) when it could not be saved."""
        self.autosave.stop()
        if not self.editable or self.view is None or self.form_view is None:
            return True
        answer_changes = self._answer_changes()
        details = self.grade_panel.details()
        detail_changes = {k: v for k, v in details.items() if self.saved_details.get(k) != v}
        if not answer_changes and not detail_changes:
            return True
        review_id, version = self.view.id, self.view.version
        try:
            if answer_changes:
                version = reviews.save_answers(review_id, answer_changes, self.context.actor, version).version
                self.saved_answers = {**self.saved_answers, **answer_changes}
                self.saved_answers = {k: v for k, v in self.saved_answers.items() if v is not None}
            if detail_changes:
                version = reviews.save_details(review_id, self.context.actor, version, **detail_changes).version
                self.saved_details = details
        except ConflictError as exc:
            show_problem(self, "Someone else saved this review", f"{exc}\n\nThe review has been reloaded.")
            self.open_review(review_id)
            return False
        except QattError as exc:
            self.view = dataclasses.replace(self.view, version=version)
            self.status.setText("Not saved: " + str(exc))
            show_problem(self, "The draft was not saved", str(exc))
            return False
        self.view = dataclasses.replace(self.view, version=version)
        self.status.setText(f"Draft saved at {dt.datetime.now():%H:%M:%S}")
        self.review_saved.emit(review_id)
        return True

    def submit(self) -> None:
        if not self.editable or self.view is None or self.form_view is None:
            return
        if not self.save_now():
            return
        if self.form_view.invalid_questions():
            show_problem(self, "Check the answers", "Some answers are not valid; they are marked in the form.")
            return
        review_id = self.view.id
        # Completeness first: the reviewer is asked to confirm the lock only for a form that can be locked.
        if not self._submit_step(lambda: reviews.check_submittable(review_id, self.context.actor),
                                 "The review cannot be submitted yet"):
            return
        if not self.confirm_submit(self, self.view.case_reference):
            return
        if not self._submit_step(lambda: reviews.submit_review(review_id, self.context.actor, self.view.version),
                                 "The review was not submitted"):
            return
        self.open_review(review_id)
        self.show_worklist()
        self.review_submitted.emit(review_id)

    def _submit_step(self, step: Callable[[], Any], refused_title: str) -> bool:
        """Run one step of submitting; on a refusal mark the unanswered questions, say why, and stop."""
        try:
            step()
        except reviews.MissingAnswers as exc:
            self.form_view.mark_missing(q.id for q in exc.missing)
            show_problem(self, "Some required questions are unanswered", str(exc))
            return False
        except QattError as exc:
            show_problem(self, refused_title, str(exc))
            return False
        return True

    def amend(self) -> None:
        """First press: unlock the submitted review. Second press: save the changes with a reason."""
        if self.view is None or self.view.status != reviews.SUBMITTED or self.form_view is None:
            return
        if not self.amending:
            self.amending = True
            self.form_view.set_read_only(False)
            self.grade_panel.set_read_only(False)
            self.amend_button.setText("Save &amendment…")
            self.status.setText("Amending: change what needs changing, then press Save amendment")
            return
        changes: Dict[str, Any] = {k: v for k, v in self.grade_panel.details().items()
                                   if self.saved_details.get(k) != v}
        answer_changes = self._answer_changes()
        if answer_changes:
            changes["answers"] = answer_changes
        reason = self.ask_reason(self, self.view.case_reference)
        if reason is None:
            return
        review_id = self.view.id
        try:
            reviews.amend_review(review_id, self.context.actor, changes, reason, self.view.version)
        except QattError as exc:
            show_problem(self, "The amendment was not saved", str(exc))
            return
        self.open_review(review_id)
        self.show_worklist()
        self.status.setText("Amendment saved; the reason is in the audit log.")

    def add_action(self, text: str, owner: str, due: str) -> None:
        if self.view is None:
            return
        try:
            reviews.add_action(self.view.id, self.context.actor, text, owner, due)
            actions = reviews.get_review_view(self.view.id, self.context.actor).actions
        except QattError as exc:
            show_problem(self, "The action was not added", str(exc))
            return
        self.grade_panel.show_actions(actions)
        self.grade_panel.clear_new_action()

    def edit_case_study(self) -> None:
        """Choose the shown submitted review as a case study, rewrite it or remove it."""
        if self.view is None or self.view.status != reviews.SUBMITTED:
            return
        review_id = self.view.id
        current = case_studies.case_study_of(review_id)
        suggested = case_studies.suggested_kind(review_id) if current is None else None
        choice = (self.ask_case_study(self, self.view.case_reference, current, suggested) if suggested
                  else self.ask_case_study(self, self.view.case_reference, current))
        if choice is None:
            return
        action, chosen = choice
        try:
            if action == REMOVE:
                case_studies.remove_case_study(review_id, self.context.actor)
            else:
                assert chosen is not None
                case_studies.record_case_study(review_id, self.context.actor, chosen.kind, chosen.title, chosen.summary)
        except QattError as exc:
            show_problem(self, "The case study was not saved", str(exc))
            return
        self._show_status()

    def show_suggested_case_studies(self) -> None:
        """The QA lead's list of suggested case studies; the one chosen opens, ready to be written up."""
        suggestions = case_studies.suggested_case_studies(self.context.actor)
        if not suggestions:
            show_problem(self, "No suggested case studies",
                         "No submitted review is suggested as a case study that has not been chosen already.")
            return
        review_id = self.choose_suggested(self, suggestions)
        if review_id is not None and self.open_review(review_id):
            self.edit_case_study()

    # -- state -------------------------------------------------------------------------------------

    def _show_status(self) -> None:
        if self.view is None:
            return
        if self.view.status == reviews.SUBMITTED:
            grade = self.form.scale.label(self.view.grade) if self.form and self.view.grade else self.view.grade
            study = case_studies.case_study_of(self.view.id)
            chosen = f" {case_studies.KIND_LABELS[study.kind]} case study: {study.title}." if study else ""
            suggested = case_studies.suggested_kind(self.view.id) if study is None else None
            if suggested:
                chosen = (f" Suggested as a {case_studies.KIND_LABELS[suggested].lower()} case study: "
                          "write it up with Case study….")
            self.status.setText(f"✔ Submitted {local_time(self.view.submitted_at)} — grade {grade}. Locked.{chosen}")
        elif not self.editable:
            self.status.setText(f"Draft by {self.view.reviewer} (read only)")
        else:
            self.status.setText("Draft — your changes save themselves as you work")
        self._enable_buttons()

    def _enable_buttons(self) -> None:
        row = self.selected_row()
        self.previous_button.setEnabled(bool(self.work) and (row is None or row > 0))
        self.next_button.setEnabled(bool(self.work) and (row is None or row < len(self.work) - 1))
        self.save_button.setEnabled(self.editable)
        self.submit_button.setEnabled(self.editable)
        own_submitted = (self.view is not None and self.view.status == reviews.SUBMITTED
                         and self.view.reviewer == self.context.actor)
        self.amend_button.setVisible(own_submitted)
        submitted = self.view is not None and self.view.status == reviews.SUBMITTED
        may_choose = own_submitted or (submitted and users.has_role(self.context.actor, case_studies.CHOOSE_ROLE))
        self.case_study_button.setVisible(may_choose)
        self.suggested_button.setVisible(users.has_role(self.context.actor, case_studies.CHOOSE_ROLE))
        if not self.amending:
            self.amend_button.setText("&Amend…")

    def flush(self) -> None:
        """Save any pending draft changes (the main window calls this before it closes)."""
        self.save_now()

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 - Qt override
        self.save_now()  # leaving the page keeps the work
        super().hideEvent(event)
