"""The import wizard: file → preview → column mapping → check → import, with progress and Cancel.

The checking and the import run in workers (qatt.intake.importing.check_file / import_population), so a
large extract never freezes the window, and Cancel leaves nothing behind.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Dict, List, Optional

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QInputDialog, QLabel, QLineEdit,
    QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget, QWizard, QWizardPage,
)

from qatt.intake import importing, mapping as mappings
from qatt.intake.extract_tables import WORKBOOK_SUFFIXES
from qatt.errors import QattError
from ui.context import AppContext, app_settings
from ui.messages import show_problem
from ui.widgets.tables import read_only_table
from ui.workers import ProgressPanel, Worker

LAST_FOLDER_KEY = "import/last_folder"
NOT_USED = "(not used)"
# Every kind of file the importer reads (qatt.intake.extract_tables): CSV, and the workbooks.
FILE_FILTER = ("Case lists (*.csv *.txt " + " ".join(f"*{suffix}" for suffix in WORKBOOK_SUFFIXES)
               + ");;All files (*)")

log = logging.getLogger(__name__)


def fill_table(table: QTableWidget, headers: List[str], rows: List[List[str]]) -> None:
    table.clear()
    table.setColumnCount(len(headers))
    table.setRowCount(len(rows))
    table.setHorizontalHeaderLabels(headers)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.setItem(r, c, QTableWidgetItem(str(value)))
    table.resizeColumnsToContents()


class FilePage(QWizardPage):
    """Choose the CSV or Excel file, the sheet, and the population's name."""

    def __init__(self, wizard: "ImportWizard") -> None:
        super().__init__()
        self.owner = wizard
        self.setTitle("Choose the case list")
        self.setSubTitle("A CSV file or a workbook (.xlsx, .xlsm, .xls, .ods) with one case per row and a "
                         "header row.")
        self.path_box = QLineEdit()
        self.path_box.setAccessibleName("Case list file")
        self.path_box.textChanged.connect(self._path_changed)
        browse_button = QPushButton("&Browse…")
        browse_button.setAccessibleName("Browse for the case list file")
        browse_button.clicked.connect(self.choose_file)
        self.sheet_box = QComboBox()
        self.sheet_box.setAccessibleName("Worksheet")
        self.sheet_box.setEnabled(False)
        self.name_box = QLineEdit()
        self.name_box.setAccessibleName("Population name")
        self.name_box.textChanged.connect(self.completeChanged)
        file_row = QHBoxLayout()
        file_row.addWidget(self.path_box, 1)
        file_row.addWidget(browse_button)
        form = QFormLayout(self)
        form.addRow("&File:", file_row)
        form.addRow("&Sheet:", self.sheet_box)
        form.addRow("Population &name:", self.name_box)

    def choose_file(self) -> None:
        settings = app_settings()
        folder = str(settings.value(LAST_FOLDER_KEY, str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self, "Choose a case list", folder, FILE_FILTER)
        if path:
            self.path_box.setText(path)

    def _path_changed(self, text: str) -> None:
        path = Path(text.strip())
        self.sheet_box.clear()
        self.sheet_box.setEnabled(False)
        if path.is_file():
            if not self.name_box.text().strip() or self.name_box.text() == self.owner.suggested_name:
                self.owner.suggested_name = path.stem
                self.name_box.setText(path.stem)
            if path.suffix.lower() in WORKBOOK_SUFFIXES:
                self._list_sheets(path)
        self.completeChanged.emit()

    def _read(self, path: Path, sheet: Optional[str], rows: int) -> Optional[importing.Preview]:
        """The core's preview, or None after telling the user why the file cannot be read. Any other
        error is a bug: it is logged and shown with its type, since a slot that raises does nothing
        the user can see (Next would simply not move)."""
        try:
            return importing.preview(path, sheet=sheet, rows=rows)
        except QattError as exc:
            show_problem(self, "Cannot read the file", str(exc))
        except Exception as exc:  # noqa: BLE001 - shown and logged, not dressed up as a QattError
            log.exception("unexpected error reading %s", path)
            show_problem(self, "Cannot read the file",
                         f"An unexpected error occurred while reading {path.name}. Please report it with these "
                         f"details:\n\n{type(exc).__name__}: {exc}")
        return None

    def _list_sheets(self, path: Path) -> None:
        preview = self._read(path, None, 0)
        if preview is None:
            return
        hidden = set(preview.hidden_sheets)
        for name in preview.sheets:
            self.sheet_box.addItem(f"{name} (hidden)" if name in hidden else name, name)
        if preview.sheet in preview.sheets:  # the one read by default: the first visible sheet
            self.sheet_box.setCurrentIndex(preview.sheets.index(preview.sheet))
        self.sheet_box.setEnabled(len(preview.sheets) > 1)

    def isComplete(self) -> bool:  # noqa: N802 - Qt override
        return Path(self.path_box.text().strip()).is_file() and bool(self.name_box.text().strip())

    def validatePage(self) -> bool:  # noqa: N802 - Qt override
        path = Path(self.path_box.text().strip())
        sheet = self.sheet_box.currentData() or None
        preview = self._read(path, sheet, 20)
        if preview is None:
            return False
        self.owner.preview = preview
        self.owner.path, self.owner.sheet = path, sheet
        self.owner.population_name = self.name_box.text().strip()
        app_settings().setValue(LAST_FOLDER_KEY, str(path.parent))
        return True


class PreviewPage(QWizardPage):
    """The first rows as read, so the user sees the right file and delimiter were picked."""

    def __init__(self, wizard: "ImportWizard") -> None:
        super().__init__()
        self.owner = wizard
        self.setTitle("Preview")
        self.details = QLabel()
        self.table = read_only_table("First rows of the file")
        layout = QVBoxLayout(self)
        layout.addWidget(self.details)
        layout.addWidget(self.table)

    def initializePage(self) -> None:  # noqa: N802 - Qt override
        preview = self.owner.preview
        assert preview is not None
        read_as = []
        if preview.encoding:
            read_as.append(f"encoding {preview.encoding}")
        if preview.delimiter:
            read_as.append(f"delimiter {preview.delimiter!r}")
        notes = "".join(f"\n{note[0].upper()}{note[1:]}." for note in preview.workbook_notes)
        self.details.setText(f"The first {len(preview.rows)} rows of {preview.path.name}"
                             + (f" (read with {', '.join(read_as)})" if read_as else "") + "." + notes)
        fill_table(self.table, preview.headers, preview.rows)


class MappingPage(QWizardPage):
    """Which column feeds which case field: suggested automatically, editable, saved by name."""

    def __init__(self, wizard: "ImportWizard") -> None:
        super().__init__()
        self.owner = wizard
        self.setTitle("Match the columns")
        self.setSubTitle("Check which column of the file holds each case field. The reference is required.")
        self.field_boxes: Dict[str, QComboBox] = {}
        form = QFormLayout()
        for field, label, required in mappings.CASE_FIELDS:
            box = QComboBox()
            box.setAccessibleName(f"Column for {label}")
            box.currentIndexChanged.connect(self.completeChanged)
            self.field_boxes[field] = box
            form.addRow(f"{label}{' *' if required else ''}:", box)
        self.date_format_box = QComboBox()
        self.date_format_box.setAccessibleName("Date format")
        self.date_format_box.addItems(list(mappings.DATE_FORMATS))
        form.addRow("Date format:", self.date_format_box)
        self.saved_box = QComboBox()
        self.saved_box.setAccessibleName("Saved mappings")
        load_button = QPushButton("&Load")
        load_button.setAccessibleName("Load the chosen saved mapping")
        load_button.clicked.connect(self.load_saved)
        save_button = QPushButton("Save &as…")
        save_button.setAccessibleName("Save this mapping under a name")
        save_button.clicked.connect(self.ask_name_and_save)
        saved_row = QHBoxLayout()
        saved_row.addWidget(QLabel("Saved mappings:"))
        saved_row.addWidget(self.saved_box, 1)
        saved_row.addWidget(load_button)
        saved_row.addWidget(save_button)
        layout = QVBoxLayout(self)
        layout.addLayout(saved_row)
        layout.addLayout(form)

    def initializePage(self) -> None:  # noqa: N802 - Qt override
        preview = self.owner.preview
        assert preview is not None
        for box in self.field_boxes.values():
            box.clear()
            box.addItems([NOT_USED, *preview.headers])
        self.set_mapping(preview.suggested_mapping)
        self.saved_box.clear()
        self.saved_box.addItems(mappings.list_mappings())

    def set_mapping(self, mapping: Dict[str, str]) -> None:
        for field, box in self.field_boxes.items():
            index = box.findText(mapping.get(field, NOT_USED))
            box.setCurrentIndex(max(index, 0))

    def current_mapping(self) -> Dict[str, str]:
        return {field: box.currentText() for field, box in self.field_boxes.items()
                if box.currentIndex() > 0}

    def load_saved(self) -> None:
        name = self.saved_box.currentText()
        if not name:
            return
        try:
            saved = mappings.load_saved(name)
        except QattError as exc:
            show_problem(self, "Cannot load the mapping", str(exc))
            return
        missing = sorted(header for header in saved.mapping.values() if self.field_boxes["reference"].findText(header) < 0)
        self.set_mapping(saved.mapping)
        self.date_format_box.setCurrentText(saved.date_format)
        if missing:
            show_problem(self, "Some columns are missing",
                         f"This file has no column called {', '.join(map(repr, missing))}. "
                         "Choose the right column for those fields by hand.")

    def ask_name_and_save(self) -> None:
        name, ok = QInputDialog.getText(self, "Save mapping", "Name for this mapping (e.g. 'Niche monthly extract'):")
        if ok:
            self.save_as(name)

    def save_as(self, name: str) -> None:
        try:
            mappings.save_mapping(name, self.current_mapping(), self.owner.context.actor,
                                  self.date_format_box.currentText())
        except QattError as exc:
            show_problem(self, "Cannot save the mapping", str(exc))
            return
        self.saved_box.clear()
        self.saved_box.addItems(mappings.list_mappings())
        self.saved_box.setCurrentText(name.strip())

    def isComplete(self) -> bool:  # noqa: N802 - Qt override
        chosen = self.current_mapping()
        return all(field in chosen for field in mappings.REQUIRED_FIELDS)

    def validatePage(self) -> bool:  # noqa: N802 - Qt override
        chosen = self.current_mapping()
        headers = list(chosen.values())
        repeated = sorted({h for h in headers if headers.count(h) > 1})
        if repeated:
            show_problem(self, "A column is used twice",
                         f"The column {', '.join(map(repr, repeated))} feeds more than one field. Each column can feed one field.")
            return False
        self.owner.mapping = chosen
        self.owner.date_format = self.date_format_box.currentText()
        return True


# (the core's choice, what the user reads)
BLANK_CHOICES = [("refuse", "Refuse them: nothing is imported until each row has a reference"),
                 ("generate", "Give each a generated reference (the same every time this file is imported)")]
DUPLICATE_CHOICES = [("refuse", "Refuse them: nothing is imported until each reference is on one row"),
                     ("keep-first", "Keep the first row with each reference"),
                     ("keep-last", "Keep the last row with each reference (e.g. the latest outcome)")]
PRECISION_CHOICES = [("auto", "As written: a date is its day, a month (Mar-24, 2024-03) its month"),
                     ("month", "Each date is its month (a workbook month column kept as the 1st of each month)")]


def choice_box(name: str, choices: List[tuple]) -> QComboBox:
    box = QComboBox()
    box.setAccessibleName(name)
    for value, label in choices:
        box.addItem(label, value)
    return box


class CheckPage(QWizardPage):
    """A dry run over the whole file in a worker; problems are listed by file, row and column.

    The choices for blank and repeated references are made here, and the check runs again when
    one changes; a file whose cases are already a population must be confirmed to import again."""

    def __init__(self, wizard: "ImportWizard") -> None:
        super().__init__()
        self.owner = wizard
        self.setTitle("Check the file")
        self.setSubTitle("Every row is checked before anything is saved.")
        self.progress = ProgressPanel()
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName("Check result")
        self.problems = read_only_table("Problems found in the file")
        self.skip_invalid = QCheckBox("&Skip invalid rows (import the valid rows only)")
        self.skip_invalid.setAccessibleName("Skip invalid rows")
        self.skip_invalid.toggled.connect(self.completeChanged)
        self.skip_invalid.setVisible(False)
        self.blank_references = choice_box("Rows with no reference", BLANK_CHOICES)
        self.duplicate_references = choice_box("References on more than one row", DUPLICATE_CHOICES)
        self.date_precision = choice_box("How precise the dates are", PRECISION_CHOICES)
        for box in (self.blank_references, self.duplicate_references, self.date_precision):
            box.currentIndexChanged.connect(self._options_changed)
        self.import_again = QCheckBox("&Import a second copy anyway")
        self.import_again.setAccessibleName("Import the same cases again")
        self.import_again.toggled.connect(self.completeChanged)
        self.import_again.setVisible(False)
        self.worker: Optional[Worker] = None
        self.problem_list: Optional[list] = None
        self.check_result: Optional[importing.CheckResult] = None
        options = QFormLayout()
        options.addRow("Rows with &no reference:", self.blank_references)
        options.addRow("A reference on &several rows:", self.duplicate_references)
        options.addRow("Dates &recorded:", self.date_precision)
        layout = QVBoxLayout(self)
        layout.addLayout(options)
        layout.addWidget(self.progress)
        layout.addWidget(self.summary)
        layout.addWidget(self.problems)
        layout.addWidget(self.skip_invalid)
        layout.addWidget(self.import_again)

    def options(self) -> importing.ImportOptions:
        return importing.ImportOptions(self.blank_references.currentData(), self.duplicate_references.currentData(),
                                       self.import_again.isChecked(), self.date_precision.currentData())

    def _options_changed(self) -> None:
        if self.owner.currentPage() is not self:
            return
        if self.worker is not None:  # the check under the old choices no longer matters
            for signal in (self.worker.signals.finished, self.worker.signals.failed, self.worker.signals.cancelled):
                signal.disconnect(None)
            self.worker.cancel()
            self.worker = None
        self.initializePage()

    def initializePage(self) -> None:  # noqa: N802 - Qt override
        self.problem_list = None
        self.check_result = None
        self.summary.setText("")
        self.skip_invalid.setChecked(False)
        self.skip_invalid.setVisible(False)
        self.import_again.setChecked(False)
        self.import_again.setVisible(False)
        fill_table(self.problems, ["File", "Row", "Column", "Problem"], [])
        owner = self.owner
        self.worker = Worker(importing.check_extract, owner.path, owner.mapping, sheet=owner.sheet,
                             date_format=owner.date_format, options=self.options())
        self.worker.signals.finished.connect(self._checked)
        self.worker.signals.failed.connect(self._failed)
        self.worker.signals.cancelled.connect(self._cancelled)
        self.progress.attach(self.worker, "Checking every row…")
        self.worker.start()
        self.completeChanged.emit()

    def _checked(self, result: importing.CheckResult) -> None:
        self.worker = None
        self.check_result = result
        problems = self.problem_list = result.problems
        fill_table(self.problems, ["File", "Row", "Column", "Problem"],
                   [[p.file, p.row, p.column, p.message] for p in problems])
        lines = result.option_lines()
        if problems:
            lines.append(f"{result.problem_count} problem(s) found. Fix the file and start again, change the "
                         "choices above, or tick “Skip invalid rows” to import the other rows.")
            self.skip_invalid.setVisible(True)
        else:
            lines.append("No problems found: the file is ready to import.")
        if result.same_as is not None:
            population_id, name = result.same_as
            lines.append(f"This file holds exactly the cases of population {population_id} (“{name}”), already "
                         "imported. Use that one, or tick “Import a second copy anyway”.")
            self.import_again.setVisible(True)
        self.summary.setText("\n".join(lines))
        self.completeChanged.emit()

    def _failed(self, message: str) -> None:
        self.worker = None
        self.summary.setText(message)
        self.completeChanged.emit()

    def _cancelled(self) -> None:
        self.worker = None
        self.summary.setText("Check cancelled. Go back and press Next to check again.")
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802 - Qt override
        return (self.problem_list is not None and (not self.problem_list or self.skip_invalid.isChecked())
                and (self.check_result is None or self.check_result.same_as is None or self.import_again.isChecked()))

    def cleanupPage(self) -> None:  # noqa: N802 - Qt override (Back pressed)
        if self.worker is not None:
            self.worker.cancel()


class ImportPage(QWizardPage):
    """The import itself, in a worker: one transaction, so Cancel or an error leaves nothing."""

    def __init__(self, wizard: "ImportWizard") -> None:
        super().__init__()
        self.owner = wizard
        self.setTitle("Import")
        self.progress = ProgressPanel()
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.result_label.setAccessibleName("Import result")
        self.worker: Optional[Worker] = None
        self.result: Optional[importing.ImportResult] = None
        layout = QVBoxLayout(self)
        layout.addWidget(self.progress)
        layout.addWidget(self.result_label)
        layout.addStretch(1)

    def initializePage(self) -> None:  # noqa: N802 - Qt override
        owner = self.owner
        self.result = None
        self.result_label.setText("")
        self.worker = Worker(importing.import_population, owner.path, name=owner.population_name,
                             actor=owner.context.actor, mapping=owner.mapping, sheet=owner.sheet,
                             skip_invalid=owner.skip_invalid(), date_format=owner.date_format,
                             **owner.import_options())
        self.worker.signals.finished.connect(self._imported)
        self.worker.signals.failed.connect(self._stopped)
        self.worker.signals.cancelled.connect(lambda: self._stopped("Import cancelled: nothing was saved."))
        self.progress.attach(self.worker, "Importing…")
        self.worker.start()

    def _imported(self, result: importing.ImportResult) -> None:
        self.worker = None
        self.result = result
        skipped = f" {result.skipped_rows} invalid row(s) were left out." if result.skipped_rows else ""
        notes = "".join(f"\n{line}" for line in result.summary_lines()[:12])
        self.result_label.setText(f"Imported {result.rows:,} cases as “{self.owner.population_name}”.{skipped}\n"
                                  f"Population fingerprint: {result.fingerprint}{notes}")
        self.owner.imported.emit(result.population_id)
        self.completeChanged.emit()

    def _stopped(self, message: str) -> None:
        self.worker = None
        self.result_label.setText(message + "\nGo back to change something, or close the wizard.")
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802 - Qt override
        return self.result is not None


class ImportWizard(QWizard):
    """Emits imported(population_id) when a population has been saved."""

    imported = Signal(int)

    def __init__(self, context: AppContext, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.context = context
        self.setWindowTitle("Import a case list")
        self.path: Optional[Path] = None
        self.sheet: Optional[str] = None
        self.population_name = ""
        self.suggested_name = ""
        self.preview: Optional[importing.Preview] = None
        self.mapping: Dict[str, str] = {}
        self.date_format = "auto"
        self.file_page = FilePage(self)
        self.preview_page = PreviewPage(self)
        self.mapping_page = MappingPage(self)
        self.check_page = CheckPage(self)
        self.import_page = ImportPage(self)
        for page in (self.file_page, self.preview_page, self.mapping_page, self.check_page, self.import_page):
            self.addPage(page)
        self._closing = False

    def skip_invalid(self) -> bool:
        return self.check_page.skip_invalid.isChecked()

    def import_options(self) -> Dict[str, object]:
        options = self.check_page.options()
        return {"blank_references": options.blank_references, "duplicate_references": options.duplicate_references,
                "allow_duplicate": options.allow_duplicate, "date_precision": options.date_precision}

    def running_worker(self) -> Optional[Worker]:
        return self.check_page.worker or self.import_page.worker

    def reject(self) -> None:
        # Closing while work runs: cancel it and close once it has stopped, so nothing runs on unseen.
        worker = self.running_worker()
        if worker is None:
            super().reject()
            return
        if not self._closing:
            self._closing = True
            for signal in (worker.signals.finished, worker.signals.failed, worker.signals.cancelled):
                signal.connect(lambda *_: super(ImportWizard, self).reject())
            worker.cancel()
