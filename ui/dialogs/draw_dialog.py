"""The Draw sample dialog: method, strata, size, filters, exclusions, seed and a sample-size calculator.

The draw itself runs in a worker (qatt.selection.sampling.draw_sample); the dialog stays open on a problem
so the user can correct it, and closes once the sample is recorded.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Dict, Optional

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QComboBox, QDateEdit, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout,
    QGroupBox, QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem, QPushButton, QRadioButton, QSpinBox,
    QTableWidgetItem, QVBoxLayout, QWidget,
)

from qatt import browse
from qatt.reviewing import area_forms, forms
from qatt.selection import sampling
from qatt.errors import QattError
from qatt.intake.mapping import FIELD_LABELS
from qatt.selection.sample_size import sample_size
from ui.context import AppContext
from ui.messages import show_problem
from ui.widgets.tables import read_only_table
from ui.workers import Worker, run_with_progress
from ui.widgets.buttons import tab_in_screen_order

ANY = ""
BY_AREA = ""  # the form choice meaning "each case gets the form for its area"
NO_FORM = "(no form: choose one when reviewing)"
FILTER_COLUMNS = ("area", "division", "team", "risk", "status")
LARGEST_COUNT = 1_000_000_000


def new_seed() -> str:
    """128 bits from the operating system's secure source, as the core would choose."""
    return str(secrets.randbits(128))


def count_box(name: str, value: int, minimum: int = 0) -> QSpinBox:
    box = QSpinBox()
    box.setRange(minimum, LARGEST_COUNT)
    box.setValue(value)
    box.setAccessibleName(name)
    return box


def percent_box(name: str, value: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(0.0, 99.99)
    box.setDecimals(2)
    box.setSuffix(" %")
    box.setValue(value)
    box.setAccessibleName(name)
    return box


class SampleSizeCalculator(QGroupBox):
    """Confidence, tolerable and expected deviation rates (and the population) → the sample size."""

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__("Sample-size calculator", parent)
        self.confidence = percent_box("Confidence level", 95.0)
        self.tolerable = percent_box("Tolerable deviation rate", 10.0)
        self.expected = percent_box("Expected deviation rate", 0.0)
        self.population = count_box("Population size (0 = large)", 0)
        self.calculate_button = QPushButton("&Calculate")
        self.calculate_button.setAccessibleName("Calculate the sample size")
        self.calculate_button.clicked.connect(self.calculate)
        self.result = QLabel("")
        self.result.setWordWrap(True)
        self.result.setAccessibleName("Calculated sample size")
        self.use_button = QPushButton("&Use this size")
        self.use_button.setAccessibleName("Use the calculated sample size")
        self.use_button.setEnabled(False)
        self.size: Optional[int] = None
        form = QFormLayout(self)
        form.addRow("Confidence:", self.confidence)
        form.addRow("Tolerable rate:", self.tolerable)
        form.addRow("Expected rate:", self.expected)
        form.addRow("Population:", self.population)
        buttons = QHBoxLayout()
        buttons.addWidget(self.calculate_button)
        buttons.addWidget(self.use_button)
        form.addRow(buttons)
        form.addRow(self.result)

    def calculate(self) -> None:
        try:
            answer = sample_size(f"{self.confidence.value()}%", f"{self.tolerable.value()}%",
                                 f"{self.expected.value()}%", self.population.value() or None)
        except QattError as exc:
            self.size = None
            self.result.setText(str(exc))
            self.use_button.setEnabled(False)
            return
        self.size = answer.sample_size
        self.result.setText(f"Sample {answer.sample_size} cases; up to {answer.allowed_deviations} deviation(s) "
                            f"may be found while still concluding the rate is below {self.tolerable.value():g}% "
                            f"({answer.method}).")
        self.use_button.setEnabled(True)


class DrawDialog(QDialog):
    """Emits drawn(result) with the core's DrawResult once a sample is recorded."""

    drawn = Signal(object)

    def __init__(self, context: AppContext, population_id: Optional[int] = None,
                 parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.context = context
        self.worker: Optional[Worker] = None
        self.setWindowTitle("Draw a sample")

        self.population = QComboBox()
        self.population.setAccessibleName("Population to draw from")
        for row in browse.population_rows():
            self.population.addItem(f"{row[1]} ({row[2]:,} cases)", row[0])
        if population_id is not None:
            self.population.setCurrentIndex(max(self.population.findData(population_id), 0))
        self.population.currentIndexChanged.connect(self._population_changed)
        self.name = QLineEdit()
        self.name.setAccessibleName("Sample name")
        self.period = QLineEdit(dt.date.today().strftime("%Y-%m"))
        self.period.setAccessibleName("Period (YYYY-MM)")
        self.method = QComboBox()
        self.method.setAccessibleName("Sampling method")
        for method in sampling.METHODS:  # shown in words, the core takes the id
            self.method.addItem(sampling.METHOD_LABELS[method].capitalize(), method)
        self.method.currentIndexChanged.connect(lambda _index: self._method_changed(self.method.currentData()))

        self.strata = QListWidget()
        self.strata.setAccessibleName("Columns to stratify by")
        self.strata.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.forms_by_id = self._load_forms()
        self.form = QComboBox()
        self.form.setAccessibleName("Form for the sample's reviews")
        self.form.addItem("By area (the table shows each area's form)", BY_AREA)
        for form_id, form in sorted(self.forms_by_id.items(), key=lambda pair: pair[1].title):
            self.form.addItem(form.title, form_id)
        self.form.currentIndexChanged.connect(self._form_changed)
        self.area_table = read_only_table("Form for each area of the population", 0, 3)  # forms are chosen in their boxes
        self.area_table.setHorizontalHeaderLabels(["Area", "Cases", "Form"])
        self.area_table.verticalHeader().setVisible(False)
        self.area_note = QLabel()
        self.area_note.setWordWrap(True)
        self.area_note.setAccessibleName("Areas without a form")
        self.other_column = QComboBox()
        self.other_column.setAccessibleName("Another column of the extract to filter on")
        self.other_column.currentIndexChanged.connect(self._other_column_changed)
        self.other_value = QComboBox()
        self.other_value.setEditable(True)
        self.other_value.setAccessibleName("Only cases whose chosen column is")
        self.size = count_box("Sample size", 20, 1)
        self.per_stratum_choice = QRadioButton("&Same number from each stratum:")
        self.per_stratum_choice.setChecked(True)
        self.per_stratum = count_box("Cases per stratum", 5, 1)
        self.proportional_choice = QRadioButton("&Share a total in proportion to stratum size:")
        self.proportional = count_box("Proportional total", 30, 1)
        self.minimum = count_box("Minimum per stratum", 1)
        self.reserves = count_box("Reserves", 3)

        self.filters: Dict[str, QComboBox] = {}
        for column in FILTER_COLUMNS:
            box = QComboBox()
            box.setEditable(True)
            box.setAccessibleName(f"Only cases whose {FIELD_LABELS.get(column, column).lower()} is")
            self.filters[column] = box
        self.area_boxes: Dict[str, QComboBox] = {}
        self.limit_dates = QCheckBox("Only cases recorded &between")
        self.limit_dates.setAccessibleName("Limit by recorded date")
        self.date_from = QDateEdit(QDate.currentDate().addMonths(-1))
        self.date_to = QDateEdit(QDate.currentDate())
        for box, name in ((self.date_from, "Recorded from"), (self.date_to, "Recorded to")):
            box.setCalendarPopup(True)
            box.setDisplayFormat("yyyy-MM-dd")
            box.setAccessibleName(name)
            box.setEnabled(False)
            self.limit_dates.toggled.connect(box.setEnabled)
        self.exclude_months = count_box("Leave out cases sampled in the last months", 0)

        self.seed = QLineEdit(new_seed())
        self.seed.setAccessibleName("Random seed")
        self.seed.setToolTip("Record this number: with it anyone can re-derive the same sample.")
        new_seed_button = QPushButton("&New seed")
        new_seed_button.setAccessibleName("Choose a new random seed")
        new_seed_button.clicked.connect(lambda: self.seed.setText(new_seed()))
        self.redraw_reason = QLineEdit()
        self.redraw_reason.setAccessibleName("Reason for drawing this period again")
        self.redraw_reason.setPlaceholderText("Only when this population already has a sample for the period")

        self.calculator = SampleSizeCalculator()
        self.calculator.use_button.clicked.connect(self.use_calculated_size)

        self.buttons = tab_in_screen_order(QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel))
        self.draw_button = self.buttons.addButton("&Draw", QDialogButtonBox.ButtonRole.AcceptRole)
        self.draw_button.setAccessibleName("Draw the sample")
        self.buttons.accepted.connect(self.draw)
        self.buttons.rejected.connect(self.reject)
        self._lay_out(new_seed_button)
        self._population_changed()
        self._method_changed(self.method.currentData())

    def _lay_out(self, new_seed_button: QPushButton) -> None:
        what = QFormLayout()
        what.addRow("&Population:", self.population)
        what.addRow("&Name:", self.name)
        what.addRow("P&eriod:", self.period)
        what.addRow("&Method:", self.method)
        what.addRow("&Form:", self.form)
        what.addRow("&Size:", self.size)
        what.addRow("Reser&ves:", self.reserves)
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(new_seed_button)
        what.addRow("See&d:", seed_row)
        what.addRow("Redraw reason:", self.redraw_reason)

        self.strata_group = QGroupBox("Strata")
        strata_form = QFormLayout(self.strata_group)
        strata_form.addRow("Stratify by:", self.strata)
        strata_form.addRow(self.per_stratum_choice, self.per_stratum)
        strata_form.addRow(self.proportional_choice, self.proportional)
        strata_form.addRow("Minimum per stratum:", self.minimum)

        eligible = QGroupBox("Which cases are eligible")
        eligible_form = QFormLayout(eligible)
        for column, box in self.filters.items():
            eligible_form.addRow(f"{FIELD_LABELS.get(column, column)}:", box)  # the field's label, not its id
        other = QHBoxLayout()
        other.addWidget(self.other_column)
        other.addWidget(self.other_value, 1)
        eligible_form.addRow("Column of the extract:", other)
        dates = QHBoxLayout()
        dates.addWidget(self.date_from)
        dates.addWidget(QLabel("and"))
        dates.addWidget(self.date_to)
        eligible_form.addRow(self.limit_dates, dates)
        eligible_form.addRow("Leave out cases sampled in the last (months):", self.exclude_months)

        left = QVBoxLayout()
        left.addLayout(what)
        left.addWidget(self.strata_group)
        self.forms_group = QGroupBox("Forms by area")
        forms_layout = QVBoxLayout(self.forms_group)
        forms_layout.addWidget(self.area_table)
        forms_layout.addWidget(self.area_note)
        left.addWidget(self.forms_group)
        right = QVBoxLayout()
        right.addWidget(eligible)
        right.addWidget(self.calculator)
        right.addStretch(1)
        columns = QHBoxLayout()
        columns.addLayout(left, 1)
        columns.addLayout(right, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(columns)
        layout.addWidget(self.buttons)

    def _population_changed(self) -> None:
        population_id = self.population.currentData()
        for column, box in self.filters.items():
            box.clear()
            box.addItem(ANY)
            if population_id is not None:
                box.addItems(browse.distinct_values(population_id, column))
        rows = {row[0]: row[2] for row in browse.population_rows()}
        self.calculator.population.setValue(rows.get(population_id, 0))
        # Stratify by any column, each under the extract's own header (the core takes the name).
        self.strata.clear()
        for name, label in browse.column_choices(population_id):
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.strata.addItem(item)
        self.other_column.clear()
        self.other_column.addItem("(none)", "")
        for header in browse.extra_headers(population_id):
            self.other_column.addItem(header, header)
        self._fill_area_table()

    @staticmethod
    def _load_forms() -> dict:
        try:
            return forms.load_forms()
        except QattError:
            return {}  # a broken forms folder is reported where forms are used; drawing still works

    def _fill_area_table(self) -> None:
        population_id = self.population.currentData()
        table = area_forms.area_table(population_id, self.forms_by_id) if population_id is not None else []
        self.area_table.setRowCount(len(table))
        self.area_boxes = {}
        for row, entry in enumerate(table):
            self.area_table.setItem(row, 0, QTableWidgetItem(entry.area or "(no area)"))
            self.area_table.setItem(row, 1, QTableWidgetItem(f"{entry.cases:,}"))
            box = QComboBox()
            box.setAccessibleName(f"Form for {entry.area or 'cases with no area'}")
            box.addItem(NO_FORM, "")
            for form_id, form in sorted(self.forms_by_id.items(), key=lambda pair: pair[1].title):
                box.addItem(form.title, form_id)
            box.setCurrentIndex(max(box.findData(entry.form_id), 0))
            box.currentIndexChanged.connect(self._area_notes)
            self.area_boxes[entry.area] = box
            self.area_table.setCellWidget(row, 2, box)
        # Tab goes from the table through its form boxes, top to bottom, then on to what follows the
        # table (made later, the boxes would otherwise come after the dialog's buttons).
        previous: QWidget = self.area_table
        for box in self.area_boxes.values():
            QWidget.setTabOrder(previous, box)
            previous = box
        self.area_table.resizeColumnsToContents()
        self._area_notes()

    def _area_notes(self) -> None:
        missing = [area or "(no area)" for area, box in self.area_boxes.items() if not box.currentData()]
        self.area_note.setText(
            f"No form covers {', '.join(missing)}: choose one above, or it is chosen when each case is reviewed."
            if missing else "Every area has a form.")

    def _form_changed(self) -> None:
        self.forms_group.setEnabled(self.form.currentData() == BY_AREA)

    def _other_column_changed(self) -> None:
        self.other_value.clear()
        header = self.other_column.currentData()
        population_id = self.population.currentData()
        if header and population_id is not None:
            self.other_value.addItem(ANY)
            self.other_value.addItems(browse.distinct_values(population_id, header))

    def area_choices(self) -> Dict[str, str]:
        """{area: form id} as chosen in the table ('' where none)."""
        return {area: box.currentData() or "" for area, box in self.area_boxes.items()}

    def _method_changed(self, method: str) -> None:
        stratified = method == "stratified"
        self.strata_group.setEnabled(stratified)
        self.size.setEnabled(not stratified)

    def use_calculated_size(self) -> None:
        if self.calculator.size is None:
            return
        if self.method.currentData() == "stratified":
            self.proportional_choice.setChecked(True)
            self.proportional.setValue(self.calculator.size)
        else:
            self.size.setValue(self.calculator.size)

    def set_stratify(self, *columns: str) -> None:
        for row in range(self.strata.count()):
            item = self.strata.item(row)
            chosen = item.text() in columns or item.data(Qt.ItemDataRole.UserRole) in columns
            item.setCheckState(Qt.CheckState.Checked if chosen else Qt.CheckState.Unchecked)

    def request(self) -> sampling.SampleRequest:
        """The SampleRequest the form describes (the core checks it)."""
        stratified = self.method.currentData() == "stratified"
        per_stratum = self.per_stratum_choice.isChecked()
        return sampling.SampleRequest(
            population_id=self.population.currentData(),
            method=self.method.currentData(),
            size=None if stratified else self.size.value(),
            per_stratum=self.per_stratum.value() if stratified and per_stratum else None,
            proportional=self.proportional.value() if stratified and not per_stratum else None,
            min_per_stratum=self.minimum.value() if stratified and not per_stratum else 0,
            stratify=[self.strata.item(row).data(Qt.ItemDataRole.UserRole) for row in range(self.strata.count())
                      if stratified and self.strata.item(row).checkState() == Qt.CheckState.Checked],
            filters=self._chosen_filters(),
            date_from=self.date_from.date().toPython() if self.limit_dates.isChecked() else None,
            date_to=self.date_to.date().toPython() if self.limit_dates.isChecked() else None,
            exclude_months=self.exclude_months.value(),
            reserves=self.reserves.value(),
            seed=self.seed.text().strip(),
            period=self.period.text().strip(),
            name=self.name.text().strip(),
            redraw_reason=self.redraw_reason.text().strip(),
            form_id=self.form.currentData() or "",
        )

    def _chosen_filters(self) -> Dict[str, str]:
        filters = {column: box.currentText().strip() for column, box in self.filters.items()
                   if box.currentText().strip()}
        header, value = self.other_column.currentData(), self.other_value.currentText().strip()
        if header and value:
            filters[header] = value
        return filters

    def draw(self) -> None:
        if self.population.currentData() is None:
            show_problem(self, "No population", "Import a case list first, then draw a sample from it.")
            return
        if self.form.currentData() == BY_AREA and self.area_boxes:
            # The forms chosen for the areas are kept on the population for every later sample too.
            kept = area_forms.kept_forms(self.population.currentData())
            automatic = {entry.area: entry.form_id for entry in area_forms.area_table(
                self.population.currentData(), self.forms_by_id)}
            changed = {area: form_id for area, form_id in self.area_choices().items()
                       if form_id != (kept.get(area) or "") and (area in kept or form_id != automatic.get(area, ""))}
            if changed:
                try:
                    area_forms.keep_area_forms(self.population.currentData(), changed, self.context.actor,
                                               self.forms_by_id)
                except QattError as exc:
                    show_problem(self, "The forms were not kept", str(exc))
                    return
        self.worker = Worker(sampling.draw_sample, self.request(), self.context.actor)
        self.worker.signals.finished.connect(self._drawn)
        self.worker.signals.failed.connect(self._failed)
        self.worker.signals.cancelled.connect(self._cancelled)
        self.draw_button.setEnabled(False)
        run_with_progress("Drawing the sample", self.worker, self)

    def _drawn(self, result: sampling.DrawResult) -> None:
        self.worker = None
        self.drawn.emit(result)
        self.accept()

    def _failed(self, message: str) -> None:
        self.worker = None
        self.draw_button.setEnabled(True)
        show_problem(self, "The sample was not drawn", message)

    def _cancelled(self) -> None:
        self.worker = None
        self.draw_button.setEnabled(True)
