"""A lazy table of one population's cases: rows come from SQL a page at a time as the view scrolls.

Sorting and filtering re-run the query in SQL (qatt.browse), so a million cases sort as fast as the
database can, instead of Qt sorting them in Python (QSortFilterProxyModel took 6 s for 20,000).
"""

from __future__ import annotations

from typing import Any, List, Optional, Tuple

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from qatt import browse
from qatt.intake.extract_dates import show_date

ModelIndex = QModelIndex | QPersistentModelIndex

# From this many cases, a sort by a column whose sort order is not built yet waits for it to be built
# in the background (sortOrderNeeded), rather than sorting every case for each page on the GUI thread.
LAZY_SORT_CASES = 50_000


class CasesModel(QAbstractTableModel):
    """Cases of one population, loaded with canFetchMore/fetchMore in pages of `page_size` rows.

    `total` is the number of cases matching the filter; `rowCount` is how many are loaded so far.
    With `sort_in_background` set (the Populations page sets it), sorting a large population by a
    column without its sort order (qatt.browse.sort_ready) emits sortOrderNeeded(population, key) and
    keeps the current order until the page has built it and calls apply_pending_sort()."""

    sortOrderNeeded = Signal(int, str)  # noqa: N815 - Qt naming

    def __init__(self, page_size: int = 500, parent: Any = None) -> None:
        super().__init__(parent)
        self.page_size = page_size
        self.population_id: Optional[int] = None
        # (sort key, heading): the Case fields, then the extract's own columns (qatt.browse.population_columns).
        self.columns: List[Tuple[str, str]] = list(browse.CASE_COLUMNS)
        self.date_precision = "day"
        self.filter_text = ""
        self.sort_column = 0
        self.descending = False
        self.total = 0
        self._rows: List[Tuple[Any, ...]] = []
        self._next_key: Optional[Tuple[Any, str]] = None
        self._more = False
        self._fetching = False
        self.sort_in_background = False
        self.pending_sort: Optional[Tuple[int, bool]] = None  # (column, descending) waiting for its sort order

    # -- what to show ---------------------------------------------------------------------------

    def set_population(self, population_id: Optional[int]) -> None:
        self.pending_sort = None
        self.population_id = population_id
        self.columns = browse.population_columns(population_id)
        self.date_precision = browse.date_precision(population_id)
        if self.sort_column >= len(self.columns):
            self.sort_column = 0
        self._reload()

    def setFilterText(self, text: str) -> None:  # noqa: N802 - Qt naming, as the views expect
        if text.strip() != self.filter_text:
            self.filter_text = text.strip()
            self._reload()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.columns):
            return
        descending = order == Qt.SortOrder.DescendingOrder
        key = self.columns[column][0]
        if (self.sort_in_background and self.population_id is not None
                and browse.population_size(self.population_id) >= LAZY_SORT_CASES
                and not browse.sort_ready(self.population_id, key)):
            self.pending_sort = (column, descending)
            self.sortOrderNeeded.emit(self.population_id, key)
            return
        self.pending_sort = None
        self.sort_column = column
        self.descending = descending
        self._reload()

    def apply_pending_sort(self) -> None:
        """Sort as last asked, now that its sort order is built (or could not be: then slowly)."""
        if self.pending_sort is None:
            return
        column, descending = self.pending_sort
        self.pending_sort = None
        self.sort_column = column
        self.descending = descending
        self._reload()

    def pending_sort_key(self) -> Optional[str]:
        return self.columns[self.pending_sort[0]][0] if self.pending_sort is not None else None

    def _reload(self) -> None:
        # Listeners of the reset signals may call fetchMore; rows must not arrive in the middle of a reset.
        self._fetching = True
        try:
            self.beginResetModel()
            self._rows = []
            self._next_key = None
            self._more = self.population_id is not None
            self.total = browse.count_cases(self.population_id, self.filter_text) if self._more else 0
            if self._more:
                # The first page arrives with the reset, so the view and the "n cases" label agree at once.
                self._rows = self._next_page()
            self.endResetModel()
        finally:
            self._fetching = False

    # -- lazy loading -----------------------------------------------------------------------------

    def canFetchMore(self, parent: ModelIndex = QModelIndex()) -> bool:  # noqa: N802
        return not parent.isValid() and self._more

    def fetchMore(self, parent: ModelIndex = QModelIndex()) -> None:  # noqa: N802
        # Views (and the model tester) may ask again while rows are being inserted: ignore that.
        if parent.isValid() or not self._more or self._fetching:
            return
        self._fetching = True
        try:
            rows = self._next_page()
            if rows:
                first = len(self._rows)
                self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
                self._rows.extend(rows)
                self.endInsertRows()
        finally:
            self._fetching = False

    def _next_page(self) -> List[Tuple[Any, ...]]:
        assert self.population_id is not None
        page = browse.case_page(
            self.population_id, sort_by=self.columns[self.sort_column][0], descending=self.descending,
            filter_text=self.filter_text, after=self._next_key, limit=self.page_size,
        )
        self._next_key = page.next_key
        self._more = page.next_key is not None
        return page.rows

    # -- the table ----------------------------------------------------------------------------------

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            value = self._rows[index.row()][index.column() + 1]  # column 0 of a row is the case id
            if self.columns[index.column()][0] == "recorded_date":
                return show_date(value, self.date_precision)  # "Nov 2016" for a month-only date
            return "" if value is None else str(value)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self.columns[section][1] if 0 <= section < len(self.columns) else None
        return str(section + 1)

    def case_id(self, row: int) -> int:
        return self._rows[row][0]

    def reference(self, row: int) -> str:
        return self._rows[row][1]
