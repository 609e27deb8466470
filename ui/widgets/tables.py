"""The read-only list tables of the desktop, set up one way: whole rows selected, one at a time,
no in-place editing, one line per row (long text is elided, the full value is in the tooltip)."""

from __future__ import annotations

from typing import Any, Optional

from PySide6.QtCore import QAbstractItemModel, Qt
from PySide6.QtWidgets import QAbstractItemView, QTableView


def list_table(name: str, model: QAbstractItemModel, single: bool = True) -> QTableView:
    view = QTableView()
    view.setAccessibleName(name)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    if single:
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setWordWrap(False)
    # Both ends of a long reference stay visible (published extracts use 64-character ones).
    view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
    view.verticalHeader().hide()
    view.horizontalHeader().setStretchLastSection(True)
    # Columns follow their contents whenever the rows are replaced (TupleTableModel resets the model).
    model.modelReset.connect(view.resizeColumnsToContents)
    return view


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
