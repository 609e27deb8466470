"""File > Back up…: a checked copy of the SQLite database, written by a worker while the app runs
(qatt.trust.backup does the work; see there for the checks)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Optional

from PySide6.QtWidgets import QFileDialog, QWidget

from qatt.trust import backup
from qatt.storage.db import sqlite_path
from ui.context import AppContext, app_settings
from ui.messages import show_information, show_problem
from ui.workers import Worker, run_with_progress

LAST_FOLDER_KEY = "backup/last_folder"


def choose_target(parent: QWidget) -> Optional[Path]:
    """Ask for a new file name; None when the user cancels. A back-up never replaces a file, so the
    dialog does not offer to (qatt.trust.backup refuses, naming the file)."""
    settings = app_settings()
    folder = Path(str(settings.value(LAST_FOLDER_KEY, str(Path.home()))))
    dialog = QFileDialog(parent, "Back up the database to", str(folder / f"qatt-backup-{dt.date.today():%Y-%m-%d}.sqlite3"),
                         "QATT back-up (*.sqlite3)")
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    dialog.setOption(QFileDialog.Option.DontConfirmOverwrite, True)
    dialog.setDefaultSuffix("sqlite3")
    accepted, files = bool(dialog.exec()), dialog.selectedFiles()
    dialog.deleteLater()
    if not accepted or not files:
        return None
    target = Path(files[0])
    settings.setValue(LAST_FOLDER_KEY, str(target.parent))
    return target


def _back_up_and_record(source: str, target: Path, actor: str) -> backup.BackupResult:
    result = backup.backup(source, target)
    backup.record_backup(actor, result)
    return result


def start_backup(parent: QWidget, context: AppContext, target: Path) -> Optional[Worker]:
    """Back up to `target` in a worker with a progress dialog; the outcome is shown in a message.
    Returns the worker (None for PostgreSQL, which is backed up with pg_dump: the message says how)."""
    source = sqlite_path(context.db)
    if source is None:
        show_problem(parent, "Back up", backup.PG_ADVICE)
        return None
    # The copy cannot be stopped half-way (it is one consistent step), so no Cancel is offered.
    worker = Worker(_back_up_and_record, str(source), target, context.actor, pass_progress=False)

    def done(result: backup.BackupResult) -> None:
        show_information(parent, "Back-up written and checked",
                         f"The database was backed up to {result.target} ({result.bytes:,} bytes). "
                         f"The copy passed its integrity check and its audit log is intact "
                         f"({result.check.audit_events} events). Keep it somewhere only you can read.")

    worker.signals.finished.connect(done)
    worker.signals.failed.connect(lambda message: show_problem(parent, "The back-up was not written", message))
    run_with_progress("Backing up the database", worker, parent)
    return worker
