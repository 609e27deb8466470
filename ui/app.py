"""Application start-up: QApplication, database, main window, and the demo population on first run.

Only what the first window needs is imported here; the importer's spreadsheet readers, the
exporters and the other pages load when they are first used, so the window appears quickly.
"""

from __future__ import annotations

import sys
from typing import List, Optional
from urllib.parse import urlparse

from qatt.storage import driver

driver.defer_psycopg2()  # before anything imports peewee (qatt.storage.driver)

# The core first: once PySide6 is loaded, its import hook reads the source of every module imported
# after it (looking for `from __feature__ import`), which costs the start-up a few milliseconds.
from qatt import browse  # noqa: E402 - after defer_psycopg2
from qatt.errors import QattError
from qatt.fileio import clean_leftovers
from qatt.storage import migrations, pg_security  # noqa: F401 - used by open_database and register_login
from qatt.storage.db import is_postgres_url, open_database, resolve_url
from qatt.trust import audit, identity, users  # noqa: F401 - audit: used by register_login

from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402 - after the core, see above

from ui.context import AppContext
from ui.gc_guard import GuiThreadCollector
from ui.main_window import MainWindow
from ui.messages import show_problem
from ui.workers import Worker, run_with_progress


def database_label(url: str) -> str:
    """Where the data lives, for the status bar: a file path, or server and database without the password."""
    if is_postgres_url(url):
        parsed = urlparse(url)
        return f"PostgreSQL {parsed.hostname or 'localhost'}:{parsed.port or 5432}/{parsed.path.lstrip('/')}"
    return url


def ensure_desktop_user(actor: str) -> None:
    """Register the user; whoever opens a brand-new database becomes its administrator, because
    otherwise nobody could ever be given a role to draw samples or manage users."""
    users.register_login(actor)


def start(db_url: Optional[str] = None, user: Optional[str] = None) -> MainWindow:
    """Open the database and build the main window (an existing QApplication is required)."""
    clean_leftovers()  # half-written exports of a process that was killed
    url = resolve_url(db_url)
    db = open_database(url)
    actor = identity.acting_user(db, user)
    ensure_desktop_user(actor)
    window = MainWindow(AppContext(db=db, db_label=database_label(url), actor=actor))
    mark_training_in_title(window)
    return window


def mark_training_in_title(window: MainWindow) -> None:
    """A training database says so in the title bar, so nobody mistakes it for live data."""
    title = window.windowTitle().split(" — TRAINING")[0]
    window.setWindowTitle(f"{title} — {identity.TRAINING_LABEL}" if identity.is_training() else title)


def audit_chain_warning(window: MainWindow, folder=None) -> str:
    """Compare the audit chain with the highest head this computer has seen (qatt.trust.seen_heads) and
    remember the new one; returns the warning to show ('' when the chain extends what was seen)."""
    from qatt.trust import seen_heads

    return seen_heads.check_and_remember(window.context.db, folder)


def load_demo_on_first_run(window: MainWindow) -> Optional[Worker]:
    """On an empty database, load the demo population and a year of demo reviews of it in a worker
    (so the review, moderation and dashboard pages are not empty), then show the start hint."""
    if browse.has_populations():
        return None
    from qatt import demo

    worker = Worker(demo.load_demo_with_reviews, window.context.actor)

    def loaded(_result: object) -> None:
        mark_training_in_title(window)
        window.refresh_pages()  # every page already built, not only Populations
        window.show_start_hint_once()

    worker.signals.finished.connect(loaded)
    worker.signals.failed.connect(lambda message: show_problem(window, "The demo population was not loaded", message))
    run_with_progress("Loading the demo population and reviews", worker, window)
    return worker


def main(db_url: Optional[str] = None, user: Optional[str] = None, qt_args: Optional[List[str]] = None) -> int:
    app = QApplication(qt_args or ["qatt"])
    app.setOrganizationName("QATT")
    app.setApplicationName("QATT")
    collector = GuiThreadCollector(app)  # noqa: F841 - owned by the app; see ui.gc_guard
    try:
        window = start(db_url, user)
    except QattError as exc:
        QMessageBox.critical(None, "QATT cannot start", str(exc))
        return 2
    window.show()
    warning = audit_chain_warning(window)
    if warning:
        QMessageBox.warning(window, "The audit log has changed", warning)
    demo_worker = load_demo_on_first_run(window)  # noqa: F841 - held so the worker outlives this call
    code = app.exec()
    window.context.db.close()
    return code


if __name__ == "__main__":
    sys.exit(main())
