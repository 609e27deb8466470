"""The Actions page: the actions raised from reviews, overdue first, by owner, team and status, with
each change as a button (start, done, verify, send back, reassign, extend, cancel); and a tab for
officers' acknowledgement of feedback; the register of recommendations and commitments; and the
pack's narratives per area. The
rules live in qatt.loop.actions, qatt.loop.acknowledgement and qatt.loop.register."""

from __future__ import annotations

import datetime as dt
from typing import Callable, Dict, Optional

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDateEdit, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
    QPushButton, QSplitter, QTabWidget, QVBoxLayout, QWidget,
)

from qatt.loop import acknowledgement, actions
from qatt.errors import QattError
from qatt.storage import models as m
from ui.context import AppContext
from ui.dialogs.action_dialog import ActionDialog, Change
from ui.messages import show_problem
from ui.qtmodels.tuple_model import TupleTableModel
from ui.widgets.tables import list_table, select_key, selected_key
from ui.widgets.buttons import tab_in_screen_order

ALL = "All"
STILL_TO_DO = "Still to do (open or in progress)"


def _date(value: Optional[dt.date]) -> str:
    return value.strftime("%d %b %Y") if value else ""


ACTION_COLUMNS = [
    ("#", 0, None), ("Overdue", 1, lambda days: f"{days} days" if days else ""), ("Status", 2, None),
    ("Owner", 3, None), ("Team", 4, None), ("Area", 5, None), ("Case", 6, None), ("Due", 7, _date),
    ("Action", 8, None),
]
FEEDBACK_COLUMNS = [
    ("Review", 0, None), ("Case", 1, None), ("Officer", 2, None), ("Reviewer", 3, None),
    ("Feedback given", 4, _date), ("Acknowledged", 5, lambda d: _date(d) or "not yet"), ("Officer's comment", 6, None),
]


class ActionsPage(QWidget):
    """Emits changed() after any change is saved, so callers and tests can follow it."""

    changed = Signal()

    def __init__(self, context: AppContext, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.context = context
        self.dialog: Optional[QDialog] = None
        self.views: Dict[int, actions.ActionView] = {}

        self.status_filter = QComboBox()
        self.status_filter.setAccessibleName("Show actions with the status")
        self.status_filter.addItem(STILL_TO_DO, list(actions.LIVE))
        self.status_filter.addItem(ALL, [])
        for status in m.Action.STATUSES:
            self.status_filter.addItem(actions.STATUS_LABELS[status], [status])
        self.owner_filter = QComboBox()
        self.owner_filter.setAccessibleName("Show actions owned by")
        self.team_filter = QComboBox()
        self.team_filter.setAccessibleName("Show actions on cases of the team")
        self.overdue_only = QCheckBox("&Overdue only")
        for widget in (self.status_filter, self.owner_filter, self.team_filter):
            widget.currentIndexChanged.connect(self.refresh)
        self.overdue_only.toggled.connect(self.refresh)

        filters = QHBoxLayout()
        for label, widget in (("Stat&us:", self.status_filter), ("O&wner:", self.owner_filter),
                              ("Tea&m:", self.team_filter)):
            caption = QLabel(label)
            caption.setBuddy(widget)
            filters.addWidget(caption)
            filters.addWidget(widget)
        filters.addWidget(self.overdue_only)
        filters.addStretch(1)

        self.model = TupleTableModel(ACTION_COLUMNS, parent=self)
        self.table = list_table("Actions", self.model)
        self.table.selectionModel().selectionChanged.connect(self.show_action)
        self.counts = QLabel("")
        self.counts.setAccessibleName("Action counts")
        self.details = QLabel("Choose an action to see its history.")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setAccessibleName("The chosen action and its history")

        self.buttons: Dict[str, QPushButton] = {}
        button_row = QHBoxLayout()
        for kind, label in (("start", "S&tart"), ("done", "Mark &done…"), ("verify", "Ver&ify…"),
                            ("send_back", "Send &back…"), ("reassign", "&Reassign…"), ("extend", "E&xtend…"),
                            ("cancel", "&Cancel action…")):
            button = QPushButton(label)
            button.setAccessibleName(label.replace("&", "").rstrip("…"))
            button.clicked.connect(lambda _checked=False, k=kind: self.open_dialog(k))
            self.buttons[kind] = button
            button_row.addWidget(button)
        button_row.addStretch(1)

        action_tab = QWidget()
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addLayout(button_row)
        lower_layout.addWidget(self.details, 1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(lower)
        splitter.setStretchFactor(0, 3)
        tab_layout = QVBoxLayout(action_tab)
        tab_layout.addLayout(filters)
        tab_layout.addWidget(self.counts)
        tab_layout.addWidget(splitter)

        self.feedback = FeedbackTab(context, self)
        self.tabs = QTabWidget()
        self.tabs.addTab(action_tab, "&Actions")
        self.tabs.addTab(self.feedback, "Feedback ac&knowledgement")
        from ui.pages.register_tab import RegisterTab

        self.register = RegisterTab(context, self)
        self.tabs.addTab(self.register, "Re&gister of recommendations")
        from ui.pages.narrative_tab import NarrativeTab

        self.narratives = NarrativeTab(context, self)
        self.tabs.addTab(self.narratives, "&Pack narratives")
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        self._fill_filters()
        self.refresh()

    # -- listing ------------------------------------------------------------------------------------

    def _fill_filters(self) -> None:
        owners, teams = actions.owners_and_teams()
        for combo, values in ((self.owner_filter, owners), (self.team_filter, teams)):
            current = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(ALL, "")
            for value in values:
                combo.addItem(value, value)
            combo.setCurrentIndex(max(combo.findData(current), 0) if current else 0)
            combo.blockSignals(False)

    def refresh(self) -> None:
        current = selected_key(self.table)
        rows = actions.list_actions(statuses=self.status_filter.currentData() or (),
                                    owner=self.owner_filter.currentData() or "",
                                    team=self.team_filter.currentData() or "",
                                    overdue=self.overdue_only.isChecked(), viewer=self.context.actor)
        self.views = {a.id: a for a in rows}
        self.model.set_rows([(a.id, a.days_overdue, a.status_label, a.owner, a.team, a.area, a.case_reference,
                              a.due_date, a.text) for a in rows])
        total = actions.summary(rows)
        self.counts.setText(f"{len(rows)} actions shown, {total.overdue} overdue"
                            + (f" (the oldest by {total.oldest_overdue_days} days)" if total.overdue else "") + ".")
        select_key(self.table, current)
        self.show_action()
        self.feedback.refresh()

    def chosen(self) -> Optional[actions.ActionView]:
        key = selected_key(self.table)
        return self.views.get(key) if key is not None else None

    def show_action(self) -> None:
        action = self.chosen()
        enabled = {kind: False for kind in self.buttons}
        if action is None:
            self.details.setText("Choose an action to see its history.")
        else:
            moves = actions.TRANSITIONS[action.status]
            enabled.update(start=actions.IN_PROGRESS in moves and action.status == actions.OPEN,
                           done=actions.DONE in moves, verify=actions.VERIFIED in moves,
                           send_back=action.status == actions.DONE, cancel=actions.CANCELLED in moves,
                           reassign=action.status in actions.LIVE,  # a done action is sent back first
                           extend=action.status in actions.LIVE)
            lines = [f"<b>Action {action.id}</b> ({action.status_label}), case {action.case_reference}, "
                     f"review {action.review_id}: {_escape(action.text)}"]
            if action.note:
                lines.append(f"What was done: {_escape(action.note)}")
            if action.verified_by:
                lines.append(f"Verified by {action.verified_by} on {action.verified_at:%d %b %Y}")
            for event in actions.history(action.id):
                fields = "; ".join(f"{name.replace('_', ' ')} {change['old'] or '-'} → {change['new'] or '-'}"
                                   for name, change in (event.get("fields") or {}).items())
                why = event.get("note") or event.get("reason") or ""
                lines.append(f"{event['at']:%d %b %Y %H:%M} {event['actor']}: {_escape(fields)}"
                             + (f" ({_escape(why)})" if why else ""))
            self.details.setText("<br>".join(lines))
        for kind, button in self.buttons.items():
            button.setEnabled(enabled[kind])

    # -- changes ------------------------------------------------------------------------------------

    def open_dialog(self, kind: str) -> Optional[ActionDialog]:
        action = self.chosen()
        if action is None:
            return None
        dialog = ActionDialog(kind, f"Action {action.id} ({action.owner or 'no owner'}): {action.text}",
                              action.due_date, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.changed.connect(lambda change, action_id=action.id: self.apply(action_id, change))
        dialog.open()
        self.dialog = dialog
        return dialog

    def apply(self, action_id: int, change: Change) -> bool:
        actor = self.context.actor
        steps: Dict[str, Callable[[], object]] = {
            "start": lambda: actions.set_status(action_id, actor, actions.IN_PROGRESS, change.text),
            "done": lambda: actions.mark_done(action_id, actor, change.text),
            "verify": lambda: actions.verify(action_id, actor, change.text),
            "send_back": lambda: actions.set_status(action_id, actor, actions.IN_PROGRESS, change.text),
            "reassign": lambda: actions.reassign(action_id, actor, change.owner, change.text),
            "extend": lambda: actions.extend(action_id, actor, change.due_date, change.text),
            "cancel": lambda: actions.cancel(action_id, actor, change.text),
        }
        try:
            steps[change.kind]()
        except QattError as exc:
            show_problem(self, "The action was not changed", str(exc))
            return False
        self._fill_filters()
        self.refresh()
        select_key(self.table, action_id, first_otherwise=False)
        self.changed.emit()
        return True


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class AcknowledgeDialog(QDialog):
    acknowledged = Signal(object, str)  # (date, comment)

    def __init__(self, label: str, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Record the officer's acknowledgement")
        self.on = QDateEdit()
        self.on.setCalendarPopup(True)
        self.on.setDisplayFormat("yyyy-MM-dd")
        today = dt.date.today()
        self.on.setDate(QDate(today.year, today.month, today.day))
        self.on.setAccessibleName("Day the officer saw the feedback")
        self.comment = QLineEdit()
        self.comment.setAccessibleName("The officer's comment (optional)")
        form = QFormLayout()
        form.addRow(QLabel(label))
        form.addRow("&Seen on:", self.on)
        form.addRow("Officer's &comment:", self.comment)
        buttons = tab_in_screen_order(QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel))
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def _accept(self) -> None:
        date = self.on.date()
        self.acknowledged.emit(dt.date(date.year(), date.month(), date.day()), self.comment.text().strip())
        self.accept()


class FeedbackTab(QWidget):
    """Reviews with feedback to the officer; unacknowledged first. Records the acknowledgement."""

    def __init__(self, context: AppContext, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.context = context
        self.dialog: Optional[QDialog] = None
        self.only_waiting = QCheckBox("Only &unacknowledged")
        self.only_waiting.setChecked(True)
        self.only_waiting.toggled.connect(self.refresh)
        self.record_button = QPushButton("&Record acknowledgement…")
        self.record_button.setAccessibleName("Record the officer's acknowledgement")
        self.record_button.clicked.connect(self.open_dialog)
        self.model = TupleTableModel(FEEDBACK_COLUMNS, parent=self)
        self.table = list_table("Feedback to officers", self.model)
        self.table.selectionModel().selectionChanged.connect(self._enable)
        self.summary = QLabel("")
        self.summary.setAccessibleName("Feedback acknowledged")
        top = QHBoxLayout()
        top.addWidget(self.only_waiting)
        top.addStretch(1)
        top.addWidget(self.record_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(self.table)

    def refresh(self) -> None:
        every = acknowledgement.feedback_rows(self.context.actor)
        rows = [r for r in every if r.acknowledged_on is None] if self.only_waiting.isChecked() else every
        current = selected_key(self.table)
        self.model.set_rows([(r.review_id, r.case_reference, r.officer, r.reviewer, r.feedback_date,
                              r.acknowledged_on, r.comment) for r in rows])
        done = sum(1 for r in every if r.acknowledged_on)
        self.summary.setText(f"{done} of {len(every)} feedback records acknowledged by the officer.")
        select_key(self.table, current)
        self._enable()

    def _enable(self) -> None:
        self.record_button.setEnabled(selected_key(self.table) is not None)

    def open_dialog(self) -> Optional[AcknowledgeDialog]:
        review_id = selected_key(self.table)
        if review_id is None:
            return None
        dialog = AcknowledgeDialog(f"Feedback on review {review_id}", self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.acknowledged.connect(lambda on, comment: self.record(review_id, on, comment))
        dialog.open()
        self.dialog = dialog
        return dialog

    def record(self, review_id: int, on: dt.date, comment: str) -> bool:
        try:
            acknowledgement.acknowledge(review_id, self.context.actor, on, comment)
        except QattError as exc:
            show_problem(self, "The acknowledgement was not recorded", str(exc))
            return False
        self.refresh()
        return True
