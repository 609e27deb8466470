"""Background work for the desktop: run a core function off the GUI thread, with progress and Cancel.

A `Worker` calls `function(progress=..., cancel=...)` on the global thread pool and reports back by
signal, so imports, draws and verifications never freeze the window. `ProgressDialog` shows a
worker's progress and its Cancel button sets the worker's CancelToken.
"""

from __future__ import annotations

import logging
import time
import traceback
from typing import Any, Callable, Optional

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from qatt.errors import Cancelled, QattError
from qatt.progress import CancelToken
from qatt.storage.db import database_proxy

log = logging.getLogger("qatt.ui")


class WorkerSignals(QObject):
    """Signals live on a QObject because a QRunnable cannot have any."""

    progress = Signal(int, int, str)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()


class Worker(QRunnable):
    """Runs `function(*args, progress=..., cancel=..., **kwargs)` on QThreadPool.globalInstance().

    Exactly one of finished(result), failed(message) or cancelled() is emitted. A QattError's
    message goes to failed() as is; any other exception is a bug, so its traceback is passed on
    and printed rather than dressed up."""

    def __init__(self, function: Callable[..., Any], *args: Any, pass_progress: bool = True, **kwargs: Any) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the GUI keeps the worker (and its signals) while it runs
        self.function = function
        self.args = args
        self.kwargs = kwargs
        self.pass_progress = pass_progress
        self.cancel_token = CancelToken()
        self.signals = WorkerSignals()
        self._last_report = (float("-inf"), "")  # (monotonic time, message) of the last progress signal

    def cancel(self) -> None:
        """Ask the work to stop at its next checkpoint (safe to call from the GUI thread)."""
        self.cancel_token.cancel()

    def start(self) -> "Worker":
        QThreadPool.globalInstance().start(self)
        return self

    # Work may report every few hundred rows (5,000 times for a million-row import); the window
    # needs no more than a few updates a second, and each signal costs the GUI thread an event.
    REPORT_INTERVAL = 0.05

    def _report(self, done: int, total: int, message: str) -> None:
        """Emit progress, at most once every REPORT_INTERVAL seconds for the same message; a new
        message and the end of the work (done == total) always go through."""
        now, message = time.monotonic(), str(message)
        last_time, last_message = self._last_report
        if message == last_message and now - last_time < self.REPORT_INTERVAL and not (total and done >= total):
            return
        self._last_report = (now, message)
        self.signals.progress.emit(int(done), int(total), message)

    def run(self) -> None:
        kwargs = dict(self.kwargs)
        if self.pass_progress:
            kwargs.update(progress=self._report, cancel=self.cancel_token)
        try:
            # Work that ends after Cancel was pressed but before a checkpoint is committed: it reports success.
            result = self.function(*self.args, **kwargs)
        except Cancelled:
            self.signals.cancelled.emit()
        except QattError as exc:
            self.signals.failed.emit(str(exc))
        except Exception:  # a bug: show its traceback instead of hiding it
            message = traceback.format_exc()
            log.error("unexpected error in background work:\n%s", message)
            self.signals.failed.emit("An unexpected error occurred. Please report it with these details:\n\n" + message)
        else:
            self.signals.finished.emit(result)
        finally:
            # Pool threads are reused; peewee keeps one connection per thread, so give it back.
            database = database_proxy.obj
            if database is not None and not database.is_closed():
                database.close()


class ProgressPanel(QWidget):
    """A message, a progress bar and a working Cancel button for one worker at a time.

    Used inside ProgressDialog and directly on wizard pages."""

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.worker: Optional[Worker] = None
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setAccessibleName("Progress")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Cancel the work in progress")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.request_cancel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.message)
        row = QHBoxLayout()
        row.addWidget(self.bar, 1)
        row.addWidget(self.cancel_button)
        layout.addLayout(row)

    def attach(self, worker: Worker, message: str = "Starting…") -> None:
        """Follow `worker` from now until it ends."""
        self.worker = worker
        self.message.setText(message)
        self.bar.setRange(0, 0)  # busy until the first report says how much there is
        # Work that takes no CancelToken cannot be stopped, so offer no Cancel for it.
        self.cancel_button.setVisible(worker.pass_progress)
        self.cancel_button.setEnabled(worker.pass_progress)
        worker.signals.progress.connect(self.show_progress)
        for signal in (worker.signals.finished, worker.signals.failed):
            signal.connect(self._ended)
        worker.signals.cancelled.connect(self._ended)

    @property
    def running(self) -> bool:
        return self.worker is not None

    def show_progress(self, done: int, total: int, message: str) -> None:
        if total > 0:
            self.bar.setRange(0, total)
            self.bar.setValue(min(done, total))
        else:
            self.bar.setRange(0, 0)  # unknown total: a busy indicator
        if message and self.cancel_button.isEnabled():
            self.message.setText(message)

    def request_cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self.cancel_button.setEnabled(False)
            self.message.setText("Cancelling… nothing will be saved.")

    def _ended(self, *_outcome: object) -> None:
        self.worker = None
        self.cancel_button.setEnabled(False)
        self.bar.setRange(0, 1)
        self.bar.setValue(1)


class ProgressDialog(QDialog):
    """Shows a worker's progress and closes when the worker ends.

    Cancel (or Escape, or closing the window) asks the worker to stop; the dialog stays until the
    worker confirms, so nothing is left running behind a closed dialog."""

    def __init__(self, title: str, worker: Worker, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.panel = ProgressPanel(self)
        self.panel.attach(worker)
        layout = QVBoxLayout(self)
        layout.addWidget(self.panel)
        worker.signals.finished.connect(lambda _result: self.done(QDialog.DialogCode.Accepted))
        worker.signals.failed.connect(lambda _message: self.done(QDialog.DialogCode.Rejected))
        worker.signals.cancelled.connect(lambda: self.done(QDialog.DialogCode.Rejected))

    def reject(self) -> None:
        if self.panel.running:
            self.panel.request_cancel()
        else:
            super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if self.panel.running:
            self.panel.request_cancel()
            event.ignore()
        else:
            super().closeEvent(event)


def run_with_progress(title: str, worker: Worker, parent: Optional[QWidget] = None) -> ProgressDialog:
    """Show a progress dialog for `worker` and start it; connect to worker.signals for the outcome."""
    dialog = ProgressDialog(title, worker, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    worker.start()
    return dialog
