"""The read-only list tables of the desktop, set up one way: whole rows selected, one at a time,
no in-place editing, one line per row (long text is elided, the full value is in the tooltip)."""

from __future__ import annotations

from typing import Any, Optional

from PySide6.QtCore import QAbstractItemModel, Qt
from PySide6.QtWidgets import QAbstractItemView, QTableView, QTableWidget


def list_table(name: str, model: QAbstractItemModel, single: bool = True) -> QTableView:
    view = QTableView()
    view.setAccessibleName(name)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    if single:
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    leave_on_tab(view)
    view.setWordWrap(False)
    # Both ends of a long reference stay visible (published extracts use 64-character ones).
    view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
    view.verticalHeader().hide()
    view.horizontalHeader().setStretchLastSection(True)
    # Columns follow their contents whenever the rows are replaced (TupleTableModel resets the model).
    model.modelReset.connect(view.resizeColumnsToContents)
    return view


def leave_on_tab(view: QAbstractItemView) -> None:
    """Tab moves on to the next control, as in any list; the arrow keys move within the table.
    (A table view's default is to walk its cells with Tab: in a table that selects whole rows
    nothing visible happens for a row's worth of presses, and a table holding widgets of its own
    never lets Tab out at all.)"""
    view.setTabKeyNavigation(False)


def read_only_table(name: str, rows: int = 0, columns: int = 0) -> QTableWidget:
    """A table of items the user reads, not edits (boxes put in its cells still work), which Tab leaves."""
    table = QTableWidget(rows, columns)
    table.setAccessibleName(name)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    leave_on_tab(table)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def selected_key(view: QTableView) -> Optional[Any]:
    """The first value (the id) of the chosen row of a TupleTableModel table, or None."""
    rows = view.selectionModel().selectedRows()
    return view.model().row_tuple(rows[0].row())[0] if rows else None


def select_key(view: QTableView, key: Any, first_otherwise: bool = True) -> None:
    """Choose the row whose id is `key`; failing that the first row (or nothing)."""
    rows = view.model().rows
    for number, values in enumerate(rows):
        if values[0] == key:
            view.selectRow(number)
            return
    if first_otherwise and rows:
        view.selectRow(0)
    else:
        view.clearSelection()
