"""The Populations page: the imported case lists, and a lazy browser over the chosen one's cases."""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView, QHBoxLayout, QLabel, QLineEdit, QPushButton, QSplitter, QTableView, QVBoxLayout, QWidget,
)

from qatt import browse
from qatt.trust import audit
from ui.context import AppContext
from ui.workers import ProgressPanel, Worker
from ui.qtmodels.cases_model import CasesModel
from ui.qtmodels.lists import populations_model
from ui.widgets.tables import leave_on_tab, list_table, select_key, selected_key

# Wait for a pause in typing before re-querying a million rows.
FILTER_DELAY_MS = 250


class PopulationsPage(QWidget):
    """Populations on top; below, the selected population's cases with a filter box and sortable headers."""

    population_imported = Signal(int)

    def __init__(self, context: AppContext, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.context = context

        self.import_button = QPushButton("&Import case list…")
        self.import_button.setAccessibleName("Import a case list")
        self.import_button.setToolTip(f"Import a CSV or Excel case list ({QKeySequence('Ctrl+I').toString(QKeySequence.SequenceFormat.NativeText)})")
        self.import_button.clicked.connect(self.open_import_wizard)

        self.populations = populations_model(self)
        self.population_table = list_table("Populations", self.populations)
        self.population_table.selectionModel().selectionChanged.connect(self._population_chosen)

        self.filter_box = QLineEdit()
        self.filter_box.setPlaceholderText("Filter cases: words to find in reference, area, team, officer, risk or the extract's own columns…")
        self.filter_box.setAccessibleName("Filter cases")
        self.filter_box.setClearButtonEnabled(True)
        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(FILTER_DELAY_MS)
        self._filter_timer.timeout.connect(self.apply_filter)
        self.filter_box.textChanged.connect(self._filter_timer.start)
        self.case_count = QLabel("Choose a population to see its cases.")
        self.case_count.setAccessibleName("Number of cases shown")

        self.cases = CasesModel(parent=self)
        self.cases.modelReset.connect(self._show_count)
        # A first sort by a column of a large population builds its sort order in a worker.
        self.cases.sort_in_background = True
        self.cases.sortOrderNeeded.connect(self._prepare_sort)
        self.sort_worker: Optional[Worker] = None
        self._sort_job: Optional[tuple] = None  # (population id, sort key) being prepared
        self.sort_progress = ProgressPanel(self)
        self.sort_progress.setAccessibleName("Preparing the sort order")
        self.sort_progress.hide()
        self.case_table = QTableView()
        self.case_table.setAccessibleName("Cases of the chosen population")
        self.case_table.setModel(self.cases)
        self.case_table.setSortingEnabled(True)
        self.case_table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.case_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        leave_on_tab(self.case_table)
        self.case_table.horizontalHeader().setStretchLastSection(True)
        # Long references (a published extract's are 64 characters) keep both ends visible; the
        # tooltip holds the whole value.
        self.case_table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        # Columns as wide as the rows on screen need (precision 0: only those, so the lazy model
        # fetches no further page); the table scrolls sideways rather than cut a team or an officer.
        self.case_table.horizontalHeader().setResizeContentsPrecision(0)
        self.cases.modelReset.connect(self.case_table.resizeColumnsToContents)

        top = QHBoxLayout()
        top.addWidget(QLabel("<b>Populations</b> (imported case lists)"))
        top.addStretch(1)
        top.addWidget(self.import_button)
        upper = QWidget()
        upper_layout = QVBoxLayout(upper)
        upper_layout.setContentsMargins(0, 0, 0, 0)
        upper_layout.addLayout(top)
        upper_layout.addWidget(self.population_table)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        filter_row = QHBoxLayout()
        filter_row.addWidget(self.filter_box, 1)
        filter_row.addWidget(self.case_count)
        lower_layout.addLayout(filter_row)
        lower_layout.addWidget(self.sort_progress)
        lower_layout.addWidget(self.case_table)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(upper)
        splitter.addWidget(lower)
        splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self.refresh()

    def refresh(self) -> None:
        """Reload the population list, keeping the current choice if it still exists."""
        current = self.selected_population_id()
        self.populations.set_rows(browse.population_rows())
        self.select_population(current if current is not None else None)

    def selected_population_id(self) -> Optional[int]:
        return selected_key(self.population_table)

    def select_population(self, population_id: Optional[int]) -> None:
        select_key(self.population_table, population_id)

    def _population_chosen(self) -> None:
        population_id = self.selected_population_id()
        if population_id == self.cases.population_id:
            return
        if population_id is not None:
            # Opening a case list is a consultation of personal data (DPA 2018 s.62).
            audit.record(self.context.actor, audit.CONSULTATION, "population", population_id, {"view": "case list"})
        self.cases.set_population(population_id)

    def _prepare_sort(self, population_id: int, key: str) -> None:
        """Build the population's sort order for `key` in a worker; the table keeps its order meanwhile."""
        if self._sort_job == (population_id, key):
            return  # already being built
        if self.sort_worker is not None:
            self.sort_worker.cancel()  # the user asked for another column: that one is no longer wanted
        heading = dict(self.cases.columns).get(key, key)
        worker = Worker(browse.prepare_sort, population_id, key)
        self.sort_worker, self._sort_job = worker, (population_id, key)
        worker.signals.finished.connect(self._sort_finished)
        worker.signals.failed.connect(self._sort_failed)
        worker.signals.cancelled.connect(self._sort_cancelled)
        self.sort_progress.attach(worker, f"Preparing the sort by {heading} for this population (once; the "
                                          "table keeps its order until it is ready)…")
        self.sort_progress.show()
        worker.start()

    def _sort_finished(self, _built: bool) -> None:
        self._sort_prepared()

    def _sort_failed(self, message: str) -> None:
        self._sort_prepared(message)

    def _sort_cancelled(self) -> None:
        self._sort_prepared(cancelled=True)

    def _sort_prepared(self, message: str = "", cancelled: bool = False) -> None:
        if self.sort_worker is None or self.sender() is not self.sort_worker.signals:
            return  # an earlier, replaced build
        population_id, key = self._sort_job or (None, None)
        self.sort_worker, self._sort_job = None, None
        self.sort_progress.hide()
        if message:  # the sort still happens, only without the index: say why it is slow
            self.case_count.setText(message)
        if cancelled or population_id != self.cases.population_id or self.cases.pending_sort_key() != key:
            if cancelled:  # the header shows the order the rows are really in
                self.cases.pending_sort = None
                order = Qt.SortOrder.DescendingOrder if self.cases.descending else Qt.SortOrder.AscendingOrder
                self.case_table.horizontalHeader().setSortIndicator(self.cases.sort_column, order)
            return
        self.cases.apply_pending_sort()  # from the index now (or, if it could not be built, sorted as before)

    def apply_filter(self) -> None:
        self._filter_timer.stop()
        self.cases.setFilterText(self.filter_box.text())

    def _show_count(self) -> None:
        if self.cases.population_id is None:
            self.case_count.setText("No population chosen.")
        elif self.cases.filter_text:
            self.case_count.setText(f"{self.cases.total:,} cases match")
        else:
            self.case_count.setText(f"{self.cases.total:,} cases")

    def open_import_wizard(self):
        from ui.dialogs.import_wizard import ImportWizard

        wizard = ImportWizard(self.context, self)
        wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        wizard.imported.connect(self._imported)
        wizard.open()
        return wizard

    def _imported(self, population_id: int) -> None:
        self.refresh()
        self.select_population(population_id)
        self.population_imported.emit(population_id)
