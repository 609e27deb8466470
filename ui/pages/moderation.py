"""The Moderation page: a sample's first and second reviews case by case, both grades side by side once
both are submitted, and how far the two sets of reviewers agree on the sample.

The blind rule is the core's: grades come only from qatt.reviewing.reviews.moderation_view, which refuses while the
viewer's own review of the case is a draft. Grades are shown only when both reviews are submitted, so a
moderator choosing cases to second-review never sees a first grade before grading the case themselves.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFileDialog, QGroupBox, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton,
    QScrollArea, QSplitter, QTabWidget, QVBoxLayout, QWidget,
)

from qatt import browse, reports, stats
from qatt.agreement import grade_pairs
from qatt.reviewing import reviews
from qatt.selection import sampling
from qatt.trust import users
from qatt.errors import PermissionDenied, QattError
from qatt.agreement.grade_pairs import kappa_line
from qatt.reports import pairs_for_sample
from ui.context import AppContext
from ui.formatting import local_time
from ui.messages import show_problem
from ui.qtmodels.tuple_model import TupleTableModel
from ui.widgets.calibration_view import CalibrationView
from ui.widgets.tables import list_table, select_key, selected_key
from ui.widgets.buttons import tab_in_screen_order

HIDDEN = "hidden until you submit your review"
MODERATORS_ONLY = "shown to moderators"
NOT_COMPARED = "Both reviews must be submitted before they are compared side by side."
LIST_SHARE_UNCHOSEN = 0.75  # of the height below the sample choice, for the case list until a case is chosen
LIST_SHARE_CHOSEN = 0.5
CHOOSE_CASE = "Choose a case to compare its first and second reviews."

# Row: (sample item id, reference, first review, second review, first grade, second grade, agree?)
CASE_COLUMNS = [("Reference", 1, None), ("First review", 2, None), ("Second review", 3, None),
                ("First grade", 4, None), ("Second grade", 5, None), ("Agree?", 6, None)]
# Row: (question, first answer, second answer)
DIFFERENCE_COLUMNS = [("Question", 0, None), ("First reviewer's answer", 1, None),
                      ("Second reviewer's answer", 2, None)]


class ModerationPage(QWidget):
    """Emits open_review_requested(review id) after starting (or reopening) the viewer's second review,
    so the main window can hand over to the Review page."""

    open_review_requested = Signal(int)

    def __init__(self, context: AppContext, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.context = context
        self.vocab = reports.Vocabulary.load()
        self.views: Dict[int, reviews.ModerationView] = {}  # sample item id -> what the viewer may compare
        self.explanations: Dict[int, str] = {}  # sample item id -> why there is nothing to compare
        self.first_review_ids: Dict[int, Optional[int]] = {}

        self.sample_choice = QComboBox()
        self.sample_choice.setAccessibleName("Sample to moderate")
        self.sample_choice.currentIndexChanged.connect(lambda _index: self.show_sample())
        sample_label = QLabel("Sa&mple:")
        sample_label.setBuddy(self.sample_choice)
        self.start_button = QPushButton("Start a second &review")
        self.start_button.setAccessibleName("Start or reopen your second review of the chosen case")
        self.start_button.setToolTip("Start an independent second review of the chosen case (moderators), "
                                     "or reopen your own, on the Review page.")
        self.start_button.clicked.connect(self.start_second_review)
        self.pairs_button = QPushButton("Compare grades in a f&ile…")
        self.pairs_button.setToolTip("Agreement between two gradings of the same cases kept outside QATT, e.g. the "
                                     "force's grades against an inspectorate's: a CSV with the columns "
                                     "case_ref, first_grade, second_grade")
        self.pairs_button.clicked.connect(self.compare_file)
        self.choose_pairs_file: Callable[[QWidget], str] = choose_pairs_file  # tests replace the file dialog
        self.pairs_dialog: Optional[AgreementDialog] = None

        self.cases = TupleTableModel(CASE_COLUMNS, parent=self)
        self.case_table = list_table("Cases of the sample with the state of both reviews", self.cases)
        self.case_table.selectionModel().selectionChanged.connect(lambda *_: self.show_case())

        self.agreement = self._text_label("Agreement between first and second reviewers")
        self.comparison_note = self._text_label("Comparison of the chosen case")
        self.first_details = self._text_label("First review")
        self.second_details = self._text_label("Second review")
        self.differences = TupleTableModel(DIFFERENCE_COLUMNS, parent=self)
        self.difference_table = list_table("Questions the two reviewers answered differently", self.differences)
        self.calibration = CalibrationView(context)

        self._lay_out(sample_label)
        self.refresh()

    # -- layout ----------------------------------------------------------------------------------------

    @staticmethod
    def _text_label(name: str) -> QLabel:
        label = QLabel("")
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        label.setAccessibleName(name)
        return label

    @staticmethod
    def _group(title: str, *widgets: QWidget) -> QGroupBox:
        box = QGroupBox(title)
        layout = QVBoxLayout(box)
        for widget in widgets:
            layout.addWidget(widget)
        return box

    def _lay_out(self, sample_label: QLabel) -> None:
        top = QHBoxLayout()
        top.addWidget(sample_label)
        top.addWidget(self.sample_choice, 1)
        top.addWidget(self.start_button)
        top.addWidget(self.pairs_button)
        side_by_side = QHBoxLayout()
        side_by_side.addWidget(self._group("First review", self.first_details), 1)
        side_by_side.addWidget(self._group("Second review", self.second_details), 1)
        comparison = QWidget()
        comparison_layout = QVBoxLayout(comparison)
        comparison_layout.setContentsMargins(0, 0, 0, 0)
        comparison_layout.addWidget(self.comparison_note)
        comparison_layout.addLayout(side_by_side)
        comparison_layout.addWidget(QLabel("Answered differently:"))
        comparison_layout.addWidget(self.difference_table, 1)
        upper = QWidget()
        upper_layout = QVBoxLayout(upper)
        upper_layout.setContentsMargins(0, 0, 0, 0)
        upper_layout.addWidget(self.case_table, 1)
        upper_layout.addWidget(self._group("Agreement for the sample", self.agreement))
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(upper)
        # Reviewer profiles share the lower half with the chosen case, as a second tab; choosing a case shows its tab.
        profiles = QScrollArea()
        profiles.setWidgetResizable(True)
        profiles.setWidget(self.calibration)
        self.lower_tabs = QTabWidget()
        self.lower_tabs.addTab(comparison, "&Chosen case")
        self.lower_tabs.addTab(profiles, "Reviewer &profiles")
        self.case_table.selectionModel().selectionChanged.connect(lambda *_: self.lower_tabs.setCurrentIndex(0))
        splitter.addWidget(self.lower_tabs)
        # Until a case is chosen the case list has most of the height; choosing one gives the comparison its share.
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        self.splitter = splitter
        self.case_shown: Optional[bool] = None
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)

    def _share_height(self, case_chosen: bool) -> None:
        """Case list over the lower tabs: 3:1 with no case chosen, 2:3 once one is (only when that changes,
        so a splitter the user moved stays where they put it while they go from case to case)."""
        if case_chosen == self.case_shown:
            return
        self.case_shown = case_chosen
        total = sum(self.splitter.sizes()) or self.splitter.height()
        upper = LIST_SHARE_CHOSEN if case_chosen else LIST_SHARE_UNCHOSEN
        self.splitter.setSizes([round(total * upper), total - round(total * upper)])

    # -- samples -----------------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Reload the list of samples and the chosen one (reviews may have been submitted meanwhile)."""
        current = self.selected_sample_id()
        self.sample_choice.blockSignals(True)
        self.sample_choice.clear()
        for sample in sampling.list_samples():
            name = sample["name"] or f"Sample {sample['sample_id']}"
            self.sample_choice.addItem(f"{name} ({sample['period'] or 'no period'}, {sample['cases']} cases)",
                                       sample["sample_id"])
        self.select_sample(current)
        self.sample_choice.blockSignals(False)  # one load below, not a second one from the index change
        self.show_sample()
        self.calibration.refresh()

    def selected_sample_id(self) -> Optional[int]:
        return self.sample_choice.currentData()

    def select_sample(self, sample_id: Optional[int]) -> None:
        index = self.sample_choice.findData(sample_id)
        self.sample_choice.setCurrentIndex(index if index >= 0 else 0)

    def show_sample(self) -> None:
        """Load the chosen sample's cases and agreement. Synchronous on purpose: a sample is tens of cases,
        each compared with a handful of small queries, which is quick enough for the GUI thread."""
        current_item = self.selected_item_id()
        sample_id = self.selected_sample_id()
        self.views.clear()
        self.explanations.clear()
        self.first_review_ids.clear()
        if sample_id is None:
            self.cases.set_rows([])
            self.agreement.setText("There are no samples yet: draw one on the Samples page.")
        else:
            firsts = browse.review_worklist(sample_id, reviews.FIRST, viewer=self.context.actor)
            seconds = browse.review_worklist(sample_id, reviews.SECOND, viewer=self.context.actor)
            self.cases.set_rows([self._case_row(first, second) for first, second in zip(firsts, seconds)])
            self.agreement.setText(self._agreement_html(sample_id))
        self.select_case(current_item)
        self.show_case()

    # -- the cases table -----------------------------------------------------------------------------------

    def _status(self, work: browse.WorkItem) -> str:
        if work.review_id is None:
            return "not started"
        who = "you" if work.reviewer == self.context.actor else work.reviewer
        return f"{work.status} ({who})"

    def _case_row(self, first: browse.WorkItem, second: browse.WorkItem) -> Tuple[object, ...]:
        """One case: both statuses, and both grades only when the core lets the viewer compare them."""
        item_id = first.sample_item_id
        self.first_review_ids[item_id] = first.review_id
        holds_draft = any(w.reviewer == self.context.actor and w.status == reviews.DRAFT for w in (first, second))
        both_submitted = first.status == second.status == reviews.SUBMITTED
        grades: Tuple[str, str, str] = ("", "", "")
        if not (holds_draft or both_submitted):
            self.explanations[item_id] = NOT_COMPARED
        else:
            try:
                view = reviews.moderation_view(item_id, self.context.actor)
            except PermissionDenied as refusal:
                hidden = HIDDEN if holds_draft else MODERATORS_ONLY
                grades = (hidden, hidden, "")
                self.explanations[item_id] = str(refusal)
            else:
                grades = self._grades(view)
        return (item_id, first.reference, self._status(first), self._status(second)) + grades

    def _grades(self, view: reviews.ModerationView) -> Tuple[str, str, str]:
        if view.first is None or view.second is None:
            self.explanations[view.sample_item_id] = NOT_COMPARED
            return ("", "", "")
        self.views[view.sample_item_id] = view
        return (self.vocab.grade_label(view.first.grade), self.vocab.grade_label(view.second.grade),
                "agree" if view.grades_agree else "disagree")

    def selected_item_id(self) -> Optional[int]:
        return selected_key(self.case_table)

    def select_case(self, sample_item_id: Optional[int]) -> None:
        select_key(self.case_table, sample_item_id, first_otherwise=False)

    # -- side by side -----------------------------------------------------------------------------------------

    def show_case(self) -> None:
        item_id = self.selected_item_id()
        view = self.views.get(item_id) if item_id is not None else None
        self._share_height(item_id is not None)
        chosen = self.case_table.selectionModel().selectedRows()
        if chosen:
            self.case_table.scrollTo(chosen[0])  # the shorter list still shows the chosen case
        if view is None:
            self.comparison_note.setText(html.escape(self.explanations.get(item_id, CHOOSE_CASE)))
            self.first_details.setText("")
            self.second_details.setText("")
            self.differences.set_rows([])
            return
        agree = "The grades agree." if view.grades_agree else "The grades differ."
        self.comparison_note.setText(f"<b>Case {html.escape(view.case_reference)}</b>: {agree}")
        self.first_details.setText(self._review_html(view.first))
        self.second_details.setText(self._review_html(view.second))
        self.differences.set_rows(self._difference_rows(view))

    def _review_html(self, review: reviews.ReviewView) -> str:
        rationale = review.override_rationale or "none (the grade is the suggested grade)"
        lines = [
            f"By {html.escape(review.reviewer)}, submitted {html.escape(local_time(review.submitted_at))}",
            f"<b>Grade: {html.escape(self.vocab.grade_label(review.grade))}</b>",
            f"Suggested grade: {html.escape(self.vocab.grade_label(review.suggested_grade))}",
            f"Rationale for a different grade: {html.escape(rationale)}",
        ]
        return "<br>".join(lines)

    def _difference_rows(self, view: reviews.ModerationView) -> List[Tuple[str, str, str]]:
        """Each differing answer with its question text, as the reports word answers."""
        questions = {}
        for review in (view.second, view.first):  # the first review's form wording wins where both have it
            content = reviews.get_review(review.id).form_version.content
            questions.update({q.id: q for q in reports.form_questions(content)})
        rows = []
        for question_id in view.differing_answers:
            question = questions.get(question_id, reports.QuestionInfo(question_id, "text", question_id))
            answers = (reports.answer_text(question, review.answers.get(question_id), self.vocab) or "no answer"
                       for review in (view.first, view.second))
            rows.append((question.header, *answers))
        return rows

    # -- agreement ------------------------------------------------------------------------------------------------

    def _agreement_html(self, sample_id: int) -> str:
        """The sample's agreement figures, from the same pairs the `agreement --sample` command reads."""
        if not users.has_role(self.context.actor, "moderator"):
            return "Agreement figures for the sample are shown to moderators and above."
        pairs = pairs_for_sample(sample_id, viewer=self.context.actor)
        if not pairs:
            return "No case of this sample has both reviews submitted yet, so there are no agreement figures."
        # Grades on different scales (case grades, MOSOVO compliance) are never compared with each other.
        by_scale: Dict[Tuple[str, ...], List[Tuple[str, str]]] = {}
        for _ref, first, second in pairs:
            by_scale.setdefault(tuple(self.vocab.scale_for([first, second])), []).append((first, second))
        blocks = []
        for categories, scale_pairs in by_scale.items():
            heading = ""
            if len(by_scale) > 1:
                labels = " / ".join(self.vocab.grade_label(c) for c in categories)
                heading = f"<b>Cases graded {html.escape(labels)}</b><br>"
            blocks.append(heading + self._agreement_lines(scale_pairs, list(categories)))
        return "<br><br>".join(blocks)

    def _agreement_lines(self, pairs: List[Tuple[str, str]], categories: List[str]) -> str:
        result = stats.agreement(pairs, categories, labels={c: self.vocab.grade_label(c) for c in categories})
        lines = [f"Pairs of submitted reviews: <b>{result.n}</b>",
                 f"Same grade: {html.escape(result.observed_agreement.percent_text())}",
                 kappa_line("Cohen's kappa", result.kappa, result.kappa_ci)
                 + (f": {stats.kappa_strength(result.kappa)} agreement" if result.kappa is not None else ""),
                 kappa_line("Weighted kappa (linear)", result.weighted_kappa_linear, result.weighted_kappa_linear_ci),
                 f"First reviewers graded {result.higher} higher and {result.lower} lower than second reviewers."]
        warning = stats.small_sample_warning(result.n)
        notes = [warning] + [note for note in result.notes if note != warning]  # the core repeats the warning
        lines.extend(f"<i>{html.escape(note)}</i>" for note in notes if note)
        return "<br>".join(lines)

    def compare_file(self) -> None:
        """Agreement between two gradings kept in a CSV file (nothing is stored or changed)."""
        path = self.choose_pairs_file(self)
        if not path:
            return
        try:
            scale, pairs = grade_pairs.read_pairs_on_any_scale(Path(path))
        except QattError as exc:
            show_problem(self, "The grades could not be read", str(exc))
            return
        result = stats.agreement([(first, second) for _, first, second in pairs], scale.grades,
                                 labels=dict(scale.labels))
        text = grade_pairs.agreement_text(result, scale.labels, f"pairs from {Path(path).name}")
        self.pairs_dialog = AgreementDialog(f"Agreement: {Path(path).name}", text, self)
        self.pairs_dialog.show()

    # -- starting a second review -----------------------------------------------------------------------------------

    def start_second_review(self) -> None:
        """Start the viewer's second review of the chosen case (or reopen their own) on the first review's
        form, so both grades are on the same scale, then ask for the Review page."""
        item_id = self.selected_item_id()
        if item_id is None:
            show_problem(self, "Choose a case", "Choose the case to second-review in the list of the sample's cases.")
            return
        try:
            first_id = self.first_review_ids.get(item_id)
            form_id = reviews.get_review(first_id).form_version.form_id if first_id is not None else None
            review = reviews.start_review(item_id, self.context.actor, role=reviews.SECOND, form_id=form_id)
        except QattError as exc:
            show_problem(self, "The second review was not started", str(exc))
            return
        self.show_sample()
        self.open_review_requested.emit(review.id)


def choose_pairs_file(parent: QWidget) -> str:
    path, _ = QFileDialog.getOpenFileName(parent, "Grades to compare (case_ref, first_grade, second_grade)", "",
                                          "CSV files (*.csv);;All files (*)")
    return path


class AgreementDialog(QDialog):
    """The agreement figures as text (a cross-table needs a fixed-width font), with a Copy button."""

    def __init__(self, title: str, text: str, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.text = QPlainTextEdit(text)
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setAccessibleName("Agreement figures")
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        buttons = tab_in_screen_order(QDialogButtonBox(QDialogButtonBox.StandardButton.Close))
        copy = buttons.addButton("&Copy", QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.text.toPlainText()))
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        metrics = self.text.fontMetrics()
        widest = max((metrics.horizontalAdvance(line) for line in text.splitlines()), default=0)
        self.resize(min(widest + metrics.horizontalAdvance("x") * 6, 1200), metrics.lineSpacing() * 26)
