"""The Register tab of the Actions page: the recommendations and commitments, with their status,
owner, timescale, dated progress notes and evidence links; a QA lead edits them here (qatt.loop.register
checks who may and records every change)."""

from __future__ import annotations

import datetime as dt
from typing import Dict, Optional

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDateEdit, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
    QPlainTextEdit, QPushButton, QSplitter, QVBoxLayout, QWidget,
)

from qatt.loop import register
from qatt.errors import QattError
from qatt.storage import models as m
from ui.context import AppContext
from ui.messages import show_problem
from ui.qtmodels.tuple_model import TupleTableModel
from ui.widgets.tables import list_table, select_key, selected_key
from ui.widgets.buttons import tab_in_screen_order

COLUMNS = [("Ref", 0, None), ("Kind", 1, None), ("Status", 5, None), ("Timescale", 2, None),
           ("Due", 3, lambda d: d.strftime("%d %b %Y") if d else ""), ("Owner", 4, None),
           ("Recommendation or commitment", 7, lambda text: text if len(text) <= 90 else text[:89] + "…"),
           ("Latest progress", 6, None)]


def _qdate(value: dt.date) -> QDate:
    return QDate(value.year, value.month, value.day)


def _pydate(value: QDate) -> dt.date:
    return dt.date(value.year(), value.month(), value.day())


class EntryDialog(QDialog):
    """Edit an entry's status, owner, timescale and due date; add a note; link evidence."""

    saved = Signal()

    def __init__(self, context: AppContext, entry: register.Entry, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.context, self.code = context, entry.code
        self.setWindowTitle(f"Register entry {entry.code}")
        intro = QLabel(f"<b>{entry.code}</b> ({entry.kind}, {entry.source or 'no source'}): {entry.text}")
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.PlainText if "<" in entry.text else Qt.TextFormat.RichText)
        self.status = QComboBox()
        self.status.addItems(list(register.STATUSES))
        self.status.setCurrentText(entry.status)
        self.status.setAccessibleName("Status")
        self.owner = QLineEdit(entry.owner)
        self.owner.setAccessibleName("Owner")
        self.timescale = QLineEdit(entry.timescale)
        self.timescale.setAccessibleName("Timescale")
        self.has_due = QCheckBox("Due by")
        self.due = QDateEdit()
        self.due.setCalendarPopup(True)
        self.due.setDisplayFormat("yyyy-MM-dd")
        self.due.setDate(_qdate(entry.due_date or dt.date.today()))
        self.has_due.setChecked(entry.due_date is not None)
        self.due.setEnabled(entry.due_date is not None)
        self.has_due.toggled.connect(self.due.setEnabled)
        due_row = QHBoxLayout()
        due_row.addWidget(self.has_due)
        due_row.addWidget(self.due)
        self.note = QPlainTextEdit()
        self.note.setTabChangesFocus(True)
        self.note.setAccessibleName("New progress note")
        self.note_on = QDateEdit()
        self.note_on.setCalendarPopup(True)
        self.note_on.setDisplayFormat("yyyy-MM-dd")
        self.note_on.setDate(_qdate(dt.date.today()))
        self.evidence_kind = QComboBox()
        self.evidence_kind.addItems(list(m.RegisterEvidence.KINDS))
        self.evidence_kind.setAccessibleName("Kind of evidence")
        self.evidence_ref = QLineEdit()
        self.evidence_ref.setPlaceholderText("form id, form_id:question_id, a number or a document title")
        self.evidence_ref.setAccessibleName("Evidence")
        evidence_row = QHBoxLayout()
        evidence_row.addWidget(self.evidence_kind)
        evidence_row.addWidget(self.evidence_ref, 1)
        form = QFormLayout()
        form.addRow("Stat&us:", self.status)
        form.addRow("&Owner:", self.owner)
        form.addRow("&Timescale:", self.timescale)
        form.addRow("", due_row)
        form.addRow("New progress &note:", self.note)
        form.addRow("Note &dated:", self.note_on)
        form.addRow("Link &evidence:", evidence_row)
        self.buttons = tab_in_screen_order(QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel))
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.buttons)

    def save(self) -> bool:
        actor = self.context.actor
        try:
            register.update_entry(actor, self.code, status=self.status.currentText(), owner=self.owner.text().strip(),
                                  timescale=self.timescale.text().strip(),
                                  due_date=_pydate(self.due.date()) if self.has_due.isChecked() else None)
            if self.note.toPlainText().strip():
                register.add_note(actor, self.code, self.note.toPlainText(), _pydate(self.note_on.date()))
            if self.evidence_ref.text().strip():
                register.link_evidence(actor, self.code, self.evidence_kind.currentText(), self.evidence_ref.text())
        except QattError as exc:
            show_problem(self, "The register entry was not saved", str(exc))
            return False
        warning = register.entry(self.code).warning
        if warning:  # saved: the QA lead may know better, but is told (qatt.loop.register.Entry.warning)
            show_problem(self.parentWidget(), "The register entry was saved, with a warning", warning)
        self.saved.emit()
        self.accept()
        return True


class RegisterTab(QWidget):
    changed = Signal()

    def __init__(self, context: AppContext, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.context = context
        self.dialog: Optional[EntryDialog] = None
        self.entries: Dict[str, register.Entry] = {}
        self.kind = QComboBox()
        self.kind.setAccessibleName("Show entries of the kind")
        self.kind.addItem("All kinds", "")
        for kind in register.KINDS:
            self.kind.addItem(kind.capitalize(), kind)
        self.kind.currentIndexChanged.connect(self.refresh)
        self.edit_button = QPushButton("&Edit entry…")
        self.edit_button.setAccessibleName("Edit the register entry")
        self.edit_button.clicked.connect(self.open_dialog)
        self.model = TupleTableModel(COLUMNS, parent=self)
        self.table = list_table("Register of recommendations and commitments", self.model)
        self.table.selectionModel().selectionChanged.connect(self.show_entry)
        self.table.doubleClicked.connect(lambda _index: self.open_dialog())
        self.details = QLabel("")
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setAccessibleName("The chosen entry's notes and evidence")
        top = QHBoxLayout()
        top.addWidget(QLabel("Kind:"))
        top.addWidget(self.kind)
        top.addStretch(1)
        top.addWidget(QLabel("Export and import: python -m qatt register export --out plan.xlsx / register import"))
        top.addWidget(self.edit_button)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(self.details)
        splitter.setStretchFactor(0, 3)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter)
        self.refresh()

    def refresh(self) -> None:
        current = selected_key(self.table)
        rows = register.entries(kind=self.kind.currentData() or "")
        self.entries = {e.code: e for e in rows}
        self.model.set_rows([(e.code, e.kind, e.timescale, e.due_date, e.owner, e.status, e.latest_note, e.text)
                             for e in rows])
        select_key(self.table, current)
        self.show_entry()

    def show_entry(self) -> None:
        code = selected_key(self.table)
        entry = self.entries.get(code) if code else None
        self.edit_button.setEnabled(entry is not None)
        if entry is None:
            self.details.setText("")
            return
        lines = [f"{entry.code}: {entry.text}", f"Source: {entry.source or '-'}"]
        lines += [f"{n.noted_on:%d %b %Y} ({n.recorded_by}): {n.text}" for n in entry.notes]
        lines += [f"Evidence: {x.label}" for x in entry.evidence]
        lines += [f"Warning: {entry.warning}"] if entry.warning else []
        self.details.setText("\n".join(lines))

    def open_dialog(self) -> Optional[EntryDialog]:
        code = selected_key(self.table)
        if code is None:
            return None
        dialog = EntryDialog(self.context, self.entries[code], self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(self._saved)
        dialog.open()
        self.dialog = dialog
        return dialog

    def _saved(self) -> None:
        self.refresh()
        self.changed.emit()
