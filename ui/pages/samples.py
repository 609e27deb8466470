"""The Samples page: recorded samples, the chosen one's cases, seed and fingerprint, Replace and Verify."""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout, QInputDialog, QLabel, QPushButton, QSplitter, QVBoxLayout, QWidget,
)

from qatt import browse
from qatt.selection import sampling
from qatt.errors import QattError
from ui.context import AppContext
from ui.messages import show_information, show_problem
from ui.qtmodels.lists import sample_items_model, samples_model
from ui import theme
from ui.widgets.tables import list_table, select_key, selected_key
from ui.workers import Worker, run_with_progress


class SamplesPage(QWidget):
    """Emits verified(Verification) when a verification ends, so callers and tests can follow it."""

    verified = Signal(object)

    def __init__(self, context: AppContext, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.context = context
        self.worker: Optional[Worker] = None

        self.draw_button = QPushButton("&Draw sample…")
        self.draw_button.setAccessibleName("Draw a new sample")
        self.draw_button.clicked.connect(lambda: self.open_draw_dialog())
        self.replace_button = QPushButton("&Replace case…")
        self.replace_button.setAccessibleName("Replace the chosen case with a reserve")
        self.replace_button.clicked.connect(self.ask_and_replace)
        self.verify_button = QPushButton("Ver&ify")
        self.verify_button.setAccessibleName("Verify the sample by drawing it again from its seed")
        self.verify_button.clicked.connect(self.verify)

        self.samples = samples_model(self)
        self.sample_table = list_table("Samples", self.samples)
        self.sample_table.selectionModel().selectionChanged.connect(self.show_sample)

        self.summary = QLabel("Choose a sample to see its cases.")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary.setAccessibleName("Sample details")
        self.verification = QLabel("")
        self.verification.setWordWrap(True)
        self.verification.setAccessibleName("Verification result")
        self.items = sample_items_model(self)
        self.item_table = list_table("Cases in the chosen sample", self.items)

        buttons = QHBoxLayout()
        buttons.addWidget(QLabel("<b>Samples</b>"))
        buttons.addStretch(1)
        for button in (self.draw_button, self.replace_button, self.verify_button):
            buttons.addWidget(button)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.summary)
        lower_layout.addWidget(self.verification)
        lower_layout.addWidget(self.item_table)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.sample_table)
        splitter.addWidget(lower)
        splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(splitter)
        self.refresh()

    def refresh(self) -> None:
        current = self.selected_sample_id()
        self.samples.set_rows(browse.sample_rows())
        self.select_sample(current)
        self._enable_buttons()

    def selected_sample_id(self) -> Optional[int]:
        return selected_key(self.sample_table)

    def select_sample(self, sample_id: Optional[int]) -> None:
        select_key(self.sample_table, sample_id)

    def show_sample(self) -> None:
        sample_id = self.selected_sample_id()
        self.verification.setText("")
        self.verification.setStyleSheet("")
        if sample_id is None:
            self.items.set_rows([])
            self.summary.setText("Choose a sample to see its cases.")
        else:
            summary = browse.sample_summary(sample_id)
            self.summary.setText(
                f"<b>{summary.name or f'Sample {summary.sample_id}'}</b> from “{summary.population_name}”, "
                f"{sampling.METHOD_LABELS.get(summary.method, summary.method)} sample, drawn by {summary.drawn_by} on {summary.drawn_at:%Y-%m-%d %H:%M}<br>"
                f"Seed: <tt>{summary.seed}</tt><br>Population fingerprint: <tt>{summary.population_fingerprint}</tt>")
            self.items.set_rows(browse.sample_item_rows(sample_id))
        self._enable_buttons()

    def _enable_buttons(self) -> None:
        chosen = self.selected_sample_id() is not None
        self.replace_button.setEnabled(chosen)
        self.verify_button.setEnabled(chosen and self.worker is None)

    def open_draw_dialog(self, population_id: Optional[int] = None):
        from ui.dialogs.draw_dialog import DrawDialog

        dialog = DrawDialog(self.context, population_id, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.drawn.connect(self._drawn)
        dialog.open()
        return dialog

    def _drawn(self, result: sampling.DrawResult) -> None:
        self.refresh()
        self.select_sample(result.sample_id)
        if sampling.undated_message(result):  # a date range silently shrinking the eligible set would mislead
            show_information(self, "Cases without a date were left out", sampling.undated_message(result) + ".")

    def chosen_reference(self) -> Optional[str]:
        rows = self.item_table.selectionModel().selectedRows()
        return self.items.row_tuple(rows[0].row())[1] if rows else None

    def ask_and_replace(self) -> None:
        reference = self.chosen_reference()
        if reference is None:
            show_problem(self, "Choose a case", "Choose the case to replace in the list of the sample's cases.")
            return
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Replace a sampled case")
        dialog.setLabelText(f"Why is case {reference} being replaced? (e.g. 'wrongly categorised', 'file missing')\n"
                            "The reason is recorded with the replacement.")
        dialog.setAccessibleName("Reason for the replacement")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.textValueSelected.connect(lambda reason: self.replace(reference, reason))
        dialog.open()
        self.reason_dialog = dialog

    def replace(self, reference: str, reason: str) -> None:
        sample_id = self.selected_sample_id()
        if sample_id is None:
            return
        try:
            reserve = sampling.replace_item(sample_id, reference, reason, self.context.actor)
        except QattError as exc:
            show_problem(self, "The case was not replaced", str(exc))
            return
        self.show_sample()
        self.verification.setText(f"Case {reference} was replaced by reserve {reserve.case.reference}.")

    def verify(self) -> None:
        sample_id = self.selected_sample_id()
        if sample_id is None:
            return
        self.worker = Worker(sampling.verify_sample, sample_id, self.context.actor, pass_progress=False)
        self.worker.signals.finished.connect(self._verified)
        self.worker.signals.failed.connect(self._verify_failed)
        self._enable_buttons()
        self.verification.setStyleSheet("")
        self.verification.setText("Verifying: drawing the sample again from its seed…")
        run_with_progress("Verifying the sample", self.worker, self)

    def _verified(self, result: sampling.Verification) -> None:
        self.worker = None
        self._enable_buttons()
        if result.verified:
            text = (f"✔ Verified: drawing sample {result.sample_id} again from its seed gives exactly the recorded cases, "
                    "and the population is unchanged.")
            if result.replacements:
                text += f" Replacements on record: {len(result.replacements)}."
            theme.mark_good(self.verification)
        else:
            text = f"✘ NOT verified: sample {result.sample_id} differs from its record:\n" + "\n".join(result.differences)
            theme.mark_bad(self.verification)
        self.verification.setText(text)
        self.verified.emit(result)

    def _verify_failed(self, message: str) -> None:
        self.worker = None
        self._enable_buttons()
        self.verification.setText("")
        show_problem(self, "The sample could not be verified", message)
