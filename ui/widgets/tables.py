"""The read-only list tables of the desktop, set up one way: whole rows selected, one at a time,
no in-place editing, one line per row (long text is elided, the full value is in the tooltip)."""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel
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
    view.verticalHeader().hide()
    view.horizontalHeader().setStretchLastSection(True)
    # Columns follow their contents whenever the rows are replaced (TupleTableModel resets the model).
    model.modelReset.connect(view.resizeColumnsToContents)
    return view
