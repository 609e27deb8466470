"""Background work for the desktop: run a core function off the GUI thread, with progress and Cancel.

A `Worker` calls `function(progress=..., cancel=...)` on the global thread pool and reports back by
signal, so imports, draws and verifications never freeze the window. `ProgressDialog` shows a
worker's progress and its Cancel button sets the worker's CancelToken.
"""

from __future__ import annotations

import traceback
from typing import Any, Callable, Optional

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QDialog, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from qatt.errors import Cancelled, QattError
from qatt.progress import CancelToken
from qatt.storage.db import database_proxy


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

    def cancel(self) -> None:
        """Ask the work to stop at its next checkpoint (safe to call from the GUI thread)."""
        self.cancel_token.cancel()

    def start(self) -> "Worker":
        QThreadPool.globalInstance().start(self)
        return self

    def _report(self, done: int, total: int, message: str) -> None:
        self.signals.progress.emit(int(done), int(total), str(message))

    def run(self) -> None:
        kwargs = dict(self.kwargs)
        if self.pass_progress:
            kwargs.update(progress=self._report, cancel=self.cancel_token)
        try:
            result = self.function(*self.args, **kwargs)
            # Work that finishes after Cancel was pressed still reports success: it was committed.
        except Cancelled:
            self.signals.cancelled.emit()
        except QattError as exc:
            self.signals.failed.emit(str(exc))
        except Exception:  # a bug: show its traceback instead of hiding it
            message = traceback.format_exc()
            print(message)
            self.signals.failed.emit("An unexpected error occurred. Please report it with these details:\n\n" + message)
        else:
            self.signals.finished.emit(result)
        finally:
            # Pool threads are reused; peewee keeps one connection per thread, so give it back.
            database = database_proxy.obj
            if database is not None and not database.is_closed():
                database.close()


class ProgressDialog(QDialog):
    """Shows a worker's progress and closes when the worker ends.

    Cancel (or Escape, or closing the window) asks the worker to stop; the dialog stays until the
    worker confirms, so nothing is left running behind a closed dialog."""

    def __init__(self, title: str, worker: Worker, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.worker = worker
        self.running = True
        self.message = QLabel("Starting…")
        self.message.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setAccessibleName("Progress")
        self.bar.setRange(0, 0)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Cancel the work in progress")
        self.cancel_button.clicked.connect(self.request_cancel)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button, 0, Qt.AlignmentFlag.AlignRight)
        worker.signals.progress.connect(self.show_progress)
        worker.signals.finished.connect(lambda _result: self._worker_ended(QDialog.DialogCode.Accepted))
        worker.signals.failed.connect(lambda _message: self._worker_ended(QDialog.DialogCode.Rejected))
        worker.signals.cancelled.connect(lambda: self._worker_ended(QDialog.DialogCode.Rejected))

    def show_progress(self, done: int, total: int, message: str) -> None:
        if total > 0:
            self.bar.setRange(0, total)
            self.bar.setValue(min(done, total))
        else:
            self.bar.setRange(0, 0)  # unknown total: a busy indicator
        if message and self.cancel_button.isEnabled():
            self.message.setText(message)

    def request_cancel(self) -> None:
        self.worker.cancel()
        self.cancel_button.setEnabled(False)
        self.message.setText("Cancelling… nothing will be saved.")

    def reject(self) -> None:
        if self.running:
            self.request_cancel()
        else:
            super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.running:
            self.request_cancel()
            event.ignore()
        else:
            super().closeEvent(event)

    def _worker_ended(self, code: QDialog.DialogCode) -> None:
        self.running = False
        self.done(code)


def run_with_progress(title: str, worker: Worker, parent: Optional[QWidget] = None) -> ProgressDialog:
    """Show a progress dialog for `worker` and start it; connect to worker.signals for the outcome."""
    dialog = ProgressDialog(title, worker, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    worker.start()
    return dialog
