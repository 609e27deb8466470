"""The Exports page: the Excel workbook, the monthly report, the inspection pack or an officer's
feedback sheet, written in the background exactly as `python -m qatt export` writes them.

A file that leaves the system is a disclosure (DPA 2018 s.62), so Export stays disabled until the
purpose and the recipient are stated; both go into the audit log with the file name and row counts.
The exporters (openpyxl, reportlab) are imported only when an export runs, to keep start-up quick.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, List, Optional

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QListWidget,
    QListWidgetItem, QPushButton, QVBoxLayout, QWidget,
)

from qatt import reports
from qatt.trust import users
from qatt.errors import QattError
from ui.context import AppContext, app_settings
from ui.messages import show_problem
from ui.workers import ProgressPanel, Worker

LAST_FOLDER_KEY = "exports/last_folder"
OPEN_WHEN_DONE_KEY = "exports/open_when_done"

FILE_TYPES = {".xlsx": "Excel workbook (*.xlsx)", ".pdf": "PDF document (*.pdf)"}
DISCLOSURE_HINT = ("State why the file is being produced and who will receive it: both are recorded "
                   "in the audit log as a disclosure (DPA 2018 s.62). Export is available once both are filled in.")


def checked_values(box: QListWidget) -> List[str]:
    return [box.item(i).data(Qt.ItemDataRole.UserRole) for i in range(box.count())
            if box.item(i).checkState() == Qt.CheckState.Checked]


def fill_checklist(box: QListWidget, pairs: List[tuple]) -> None:
    """(value, label) pairs as tick boxes, keeping the ticks of values still offered."""
    ticked = set(checked_values(box))
    box.clear()
    for value, label in pairs:
        item = QListWidgetItem(label)
        item.setData(Qt.ItemDataRole.UserRole, value)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if value in ticked else Qt.CheckState.Unchecked)
        box.addItem(item)


class ExportsPage(QWidget):
    """Emits ended("done" | "failed" | "cancelled") when an export stops, so callers and tests can follow it."""

    ended = Signal(str)

    def __init__(self, context: AppContext, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.context = context
        self.worker: Optional[Worker] = None
        self.last_path: Optional[Path] = None

        from exports.run import REPORTS  # only the list; the writers load when an export runs

        self.report = QComboBox()
        self.report.setAccessibleName("Report to export")
        for report_id, (label, suffix) in REPORTS.items():
            self.report.addItem(label, (report_id, suffix))
        self.report.currentIndexChanged.connect(self._report_changed)
        self.review = QComboBox()
        self.review.setAccessibleName("Review to print the feedback sheet for")
        self.review.currentIndexChanged.connect(self._enable_export)
        for combo in (self.report, self.review):
            # A long report name or review label must not make the window wider than the screen: the
            # box takes the width it is given and its list opens as wide as the longest entry.
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(40)
        self.report.view().setMinimumWidth(self.report.view().sizeHintForColumn(0))

        self.filters = self._build_filters()
        self.marking = QLineEdit()
        self.marking.setAccessibleName("Protective marking")
        self.marking_note = QLabel()
        self.purpose = QLineEdit()
        self.purpose.setAccessibleName("Purpose of the export")
        self.purpose.setPlaceholderText("e.g. Monthly QA board, June")
        self.recipient = QLineEdit()
        self.recipient.setAccessibleName("Recipient of the export")
        self.recipient.setPlaceholderText("e.g. Head of Public Protection")
        for box in (self.purpose, self.recipient):
            box.textChanged.connect(self._enable_export)
        self.hint = QLabel(DISCLOSURE_HINT)
        self.hint.setWordWrap(True)

        self.open_when_done = QCheckBox("Open the file &when done")
        self.open_when_done.setAccessibleName("Open the file when the export is done")
        self.open_when_done.setChecked(app_settings().value(OPEN_WHEN_DONE_KEY, False, type=bool))
        self.open_when_done.toggled.connect(lambda on: app_settings().setValue(OPEN_WHEN_DONE_KEY, on))
        self.export_button = QPushButton("&Export…")
        self.export_button.setAccessibleName("Export: choose where to save the file")
        self.export_button.clicked.connect(self.start_export)
        self.progress = ProgressPanel()
        self.outcome = QLabel("")
        self.outcome.setWordWrap(True)
        self.outcome.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.outcome.setAccessibleName("Export result")
        self.open_button = QPushButton("Ope&n file")
        self.open_button.setAccessibleName("Open the exported file")
        self.open_button.setVisible(False)
        self.open_button.clicked.connect(lambda: self.open_file(self.last_path))

        self._lay_out()
        self.refresh()
        self._report_changed()

    # -- building ---------------------------------------------------------------------------------

    def _build_filters(self) -> QGroupBox:
        self.period_from = QComboBox()
        self.period_to = QComboBox()
        for box, name in ((self.period_from, "First sample month"), (self.period_to, "Last sample month")):
            box.setEditable(True)  # a month not yet reviewed can still be typed, as YYYY-MM
            box.setAccessibleName(name)
        self.areas = QListWidget()
        self.areas.setAccessibleName("Areas of practice (none ticked: all)")
        self.teams = QListWidget()
        self.teams.setAccessibleName("Teams (none ticked: all)")
        self.forms = QListWidget()
        self.forms.setAccessibleName("Forms (none ticked: all)")
        group = QGroupBox("Which reviews (nothing ticked means all)")
        form = QFormLayout(group)
        period = QHBoxLayout()
        period.addWidget(self.period_from, 1)
        period.addWidget(QLabel("to"))
        period.addWidget(self.period_to, 1)
        form.addRow(self._buddy("&Months:", self.period_from), period)
        lists = QHBoxLayout()
        for label, box in (("&Areas", self.areas), ("&Teams", self.teams), ("Fo&rms", self.forms)):
            column = QVBoxLayout()
            column.addWidget(self._buddy(label, box))
            column.addWidget(box)
            lists.addLayout(column)
        form.addRow(lists)
        return group

    @staticmethod
    def _buddy(text: str, widget: QWidget) -> QLabel:
        label = QLabel(text)
        label.setBuddy(widget)
        return label

    def _lay_out(self) -> None:
        form = QFormLayout()
        form.addRow(self._buddy("Rep&ort:", self.report), self.report)
        form.addRow(self._buddy("Rev&iew:", self.review), self.review)
        marking = QHBoxLayout()
        marking.addWidget(self.marking, 1)
        marking.addWidget(self.marking_note)
        form.addRow(self._buddy("Protective mar&king:", self.marking), marking)
        form.addRow(self._buddy("&Purpose:", self.purpose), self.purpose)
        form.addRow(self._buddy("Re&cipient:", self.recipient), self.recipient)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_when_done)
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        result = QHBoxLayout()
        result.addWidget(self.outcome, 1)
        result.addWidget(self.open_button)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<b>Exports</b>"))
        layout.addLayout(form)
        layout.addWidget(self.filters, 1)
        layout.addWidget(self.hint)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addLayout(result)

    # -- state ------------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Reload the choices from the database, keeping what the user has picked where it still exists."""
        choices = reports.filter_choices()
        for box in (self.period_from, self.period_to):
            current = box.currentText()
            box.clear()
            box.addItems([""] + choices.periods)
            box.setCurrentText(current)
        fill_checklist(self.areas, [(area, area) for area in choices.areas])
        fill_checklist(self.teams, [(team, team) for team in choices.teams])
        fill_checklist(self.forms, [(form_id, title) for form_id, title in choices.forms])
        self._fill_reviews()
        default = reports.protective_marking()
        self.marking_note.setText(f"(force setting: {default})")
        if not self.marking.text().strip():
            self.marking.setText(default)
        self._enable_export()

    def _fill_reviews(self) -> None:
        # A reviewer may print feedback on their own reviews only, so they are offered only those.
        actor = self.context.actor
        mine = None if users.has_role(actor, "moderator") else actor
        current = self.review.currentData()
        self.review.clear()
        for choice in reports.submitted_review_choices(reports.ReportFilter(), reviewer=mine):
            self.review.addItem(choice.label(), choice.id)
        self.review.view().setMinimumWidth(self.review.view().sizeHintForColumn(0))
        found = self.review.findData(current)
        self.review.setCurrentIndex(found if found >= 0 else 0 if self.review.count() else -1)

    def report_id(self) -> str:
        return self.report.currentData()[0]

    def suffix(self) -> str:
        return self.report.currentData()[1]

    def _report_changed(self) -> None:
        feedback = self.report_id() == "feedback"
        self.review.setEnabled(feedback)
        self.filters.setEnabled(not feedback)  # a feedback sheet is about one review, whatever the filter
        self._enable_export()

    def _enable_export(self) -> None:
        stated = bool(self.purpose.text().strip() and self.recipient.text().strip())
        chosen = self.report_id() != "feedback" or self.review.currentData() is not None
        self.export_button.setEnabled(stated and chosen and self.worker is None)

    def report_filter(self) -> reports.ReportFilter:
        """The filter as chosen; raises QattError for a month not written YYYY-MM or a reversed period."""
        return reports.ReportFilter(self.period_from.currentText().strip(), self.period_to.currentText().strip(),
                                    checked_values(self.areas), checked_values(self.teams), checked_values(self.forms))

    # -- exporting --------------------------------------------------------------------------------

    def suggested_name(self) -> str:
        if self.report_id() == "feedback":
            return f"feedback-review-{self.review.currentData()}"
        return f"qa-{self.report_id()}-{dt.date.today():%Y-%m-%d}"

    def choose_target(self) -> Optional[Path]:
        """Ask where to save (the dialog itself confirms replacing a file); None when the user cancels.

        A dialog object rather than getSaveFileName, so the suffix is added before the overwrite check."""
        settings = app_settings()
        folder = Path(str(settings.value(LAST_FOLDER_KEY, str(Path.home()))))
        dialog = QFileDialog(self, "Save the export as", str(folder / (self.suggested_name() + self.suffix())),
                             FILE_TYPES[self.suffix()])
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix(self.suffix().lstrip("."))
        accepted, files = bool(dialog.exec()), dialog.selectedFiles()
        dialog.deleteLater()
        if not accepted or not files:
            return None
        target = Path(files[0])
        settings.setValue(LAST_FOLDER_KEY, str(target.parent))
        return target

    def start_export(self) -> None:
        from exports.run import ExportRequest, run_export

        if not self.export_button.isEnabled():
            return
        try:
            flt = reports.ReportFilter() if self.report_id() == "feedback" else self.report_filter()
        except QattError as exc:
            show_problem(self, "Check the filter", str(exc))
            return
        target = self.choose_target()
        if target is None:
            return
        request = ExportRequest(self.report_id(), target, flt, self.review.currentData(),
                                marking=self.marking.text().strip() or None, purpose=self.purpose.text().strip(),
                                recipient=self.recipient.text().strip())
        self.worker = Worker(run_export, request, self.context.actor)
        self.worker.signals.finished.connect(self._exported)
        self.worker.signals.failed.connect(self._failed)
        self.worker.signals.cancelled.connect(self._cancelled)
        self.outcome.setText("")
        self.open_button.setVisible(False)
        self.progress.attach(self.worker, f"Exporting {target.name}…")
        self._enable_export()
        self.worker.start()

    def _finish(self, outcome: str, message: str) -> None:
        self.worker = None
        self.outcome.setText(message)
        self._enable_export()
        self.ended.emit(outcome)

    def _exported(self, result: Any) -> None:
        self.last_path = Path(result.path)
        rows = ", ".join(f"{name}: {count}" for name, count in result.rows.items())
        self.open_button.setVisible(True)
        self._finish("done", f"Saved {self.last_path} ({rows}), marked {result.marking}. "
                             "The disclosure is recorded in the audit log.")
        if self.open_when_done.isChecked():
            self.open_file(self.last_path)

    def _failed(self, message: str) -> None:
        self._finish("failed", "The export failed; no file was written.")
        show_problem(self, "The export failed", message)

    def _cancelled(self) -> None:
        self._finish("cancelled", "Export cancelled; no file was written.")

    def open_file(self, path: Optional[Path]) -> None:
        """Hand the file to the system's viewer (tests replace this so no viewer starts)."""
        if path is not None and not QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
            show_problem(self, "Cannot open the file", f"No program opened {path}; open it from its folder instead.")
