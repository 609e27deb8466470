"""A read-only table model over a list of tuples, for the small lists: populations, samples, sample items."""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable, List, Optional, Sequence, Tuple

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

ModelIndex = QModelIndex | QPersistentModelIndex

# A column: heading, position of its value in the row tuple, and an optional formatter.
Column = Tuple[str, int, Optional[Callable[[Any], str]]]


def show_timestamp(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if isinstance(value, dt.datetime) else str(value or "")


def show_yes_no(value: Any) -> str:
    return "yes" if value else ""


class TupleTableModel(QAbstractTableModel):
    """Rows are tuples as the core's query functions return them; columns pick and format values."""

    def __init__(self, columns: Sequence[Column], rows: Sequence[Tuple[Any, ...]] = (), parent: Any = None) -> None:
        super().__init__(parent)
        self.columns = list(columns)
        self.rows: List[Tuple[Any, ...]] = list(rows)

    def set_rows(self, rows: Sequence[Tuple[Any, ...]]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def row_tuple(self, row: int) -> Tuple[Any, ...]:
        return self.rows[row]

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        _heading, position, formatter = self.columns[index.column()]
        value = self.rows[index.row()][position]
        if formatter is not None:
            return formatter(value)
        return "" if value is None else str(value)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self.columns[section][0] if 0 <= section < len(self.columns) else None
        return str(section + 1)
