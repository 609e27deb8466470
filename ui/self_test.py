"""`QATT --self-test` (or `python run.py --self-test`): check an installation end to end without
touching its data, for the frozen-build smoke test and for IT after deployment.

Offscreen, in a temporary data folder: create and migrate a database, load the built-in forms,
load a small demo population, draw a sample and verify it, build the main window and every page,
write a workbook and a PDF, back the database up (which runs the CLI executable to check the copy).
Each step prints one line; the exit code is 0 only if every step passed. Without a console (the
windowed Windows build) the report is written to qatt-self-test.txt in the temporary folder.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Callable, List

ACTOR = "self.test"


class Report:
    def __init__(self) -> None:
        self.lines: List[str] = []

    def say(self, line: str) -> None:
        self.lines.append(line)
        if sys.stdout is not None:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    def step(self, name: str, check: Callable[[], str]) -> None:
        started = time.perf_counter()
        detail = check()
        self.say(f"ok   {name}: {detail} ({time.perf_counter() - started:.1f} s)")


def run_checks(folder: Path, report: Report) -> None:
    """Every check, in order; the first failure raises."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import QSettings, QThreadPool, qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    def qt_message(_kind, _context, message: str) -> None:
        if "propagateSizeHints" not in message:  # the offscreen platform's notice on every window shown
            sys.stderr.write(message + "\n")

    qInstallMessageHandler(qt_message)

    # Desktop settings (window geometry, hints) go to the temporary folder too.
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder / "settings"))
    app = QApplication.instance() or QApplication(["qatt-self-test"])

    import qatt
    from qatt import demo
    from qatt.reviewing import forms
    from qatt.selection import sampling
    from qatt.trust import backup, users
    from qatt.storage import migrations
    from qatt.storage.db import open_database
    from qatt.version import version_text

    report.say(f"QATT self-test, version {version_text()}, Python {sys.version.split()[0]}, "
               f"{'frozen build' if getattr(sys, 'frozen', False) else 'source'}; data folder {folder}")
    db_path = folder / "qatt.sqlite3"
    state = {}

    def database() -> str:
        state["db"] = open_database(str(db_path))
        users.register_login(ACTOR)
        return f"schema version {migrations.current_version(state['db'])}, {db_path.name} created"

    def builtin_forms() -> str:
        loaded = forms.load_forms()
        files = forms.form_files(forms.default_forms_dir())
        if not loaded or len(loaded) != len(files):
            raise AssertionError(f"{len(loaded)} forms loaded from {len(files)} files in {forms.default_forms_dir()}")
        forms.sync_builtin_forms(ACTOR)
        return f"{len(loaded)} built-in forms"

    def demo_population() -> str:
        imported = demo.load_demo(ACTOR, cases=300)
        state["population"] = imported.population_id
        return f"{imported.rows} demo cases imported"

    def draw() -> str:
        drawn = sampling.draw_sample(sampling.SampleRequest(state["population"], size=20, seed=2024), ACTOR)
        sample_id = drawn.sample_id
        verification = sampling.verify_sample(sample_id, ACTOR)
        if not verification.verified:
            raise AssertionError(f"the sample did not verify: {verification}")
        return f"sample {sample_id} of 20 drawn and verified"

    def window() -> str:
        from ui.context import AppContext
        from ui.main_window import PAGES, MainWindow

        main = MainWindow(AppContext(db=state["db"], db_label=str(db_path), actor=ACTOR))
        main.show()
        for index in range(len(PAGES)):
            main.show_page(index)
            app.processEvents()
        picture = folder / "window.png"
        if not main.grab().save(str(picture)):
            raise AssertionError("the window could not be drawn to an image")
        QThreadPool.globalInstance().waitForDone()  # pages load their figures in workers
        app.processEvents()
        main.hide()
        main.deleteLater()
        app.processEvents()
        return f"main window and {len(PAGES)} pages built and drawn"

    def workbook() -> str:
        from exports.run import ExportRequest, run_export

        written = []
        for kind, name in (("workbook", "self-test.xlsx"), ("monthly", "self-test.pdf")):
            result = run_export(ExportRequest(kind, folder / name, purpose="installation self-test",
                                              recipient="IT"), ACTOR)
            if Path(result.path).stat().st_size == 0:
                raise AssertionError(f"{name} is empty")
            written.append(f"{name} ({Path(result.path).stat().st_size:,} bytes)")
        return "wrote " + " and ".join(written)

    def back_up() -> str:
        state["db"].close()
        result = backup.backup(str(db_path), folder / "backup.sqlite3")
        return f"copy checked by {Path(backup.cli_command()[0]).name}: {result.check.audit_events} audit events intact"

    for name, check in (("database", database), ("forms", builtin_forms), ("demo", demo_population),
                        ("draw", draw), ("window", window), ("exports", workbook), ("back-up", back_up)):
        report.step(name, check)
    del qatt


def main() -> int:
    report = Report()
    folder = Path(tempfile.mkdtemp(prefix="qatt-self-test-"))
    code = 1
    try:
        run_checks(folder, report)
        report.say("QATT self-test passed")
        code = 0
    except Exception:  # the report must say what failed, whatever it was
        report.say("FAIL " + traceback.format_exc().strip().replace("\n", "\n     "))
        report.say("QATT self-test FAILED")
    finally:
        from qatt.storage.db import database_proxy

        if database_proxy.obj is not None and not database_proxy.obj.is_closed():
            database_proxy.obj.close()
        shutil.rmtree(folder, ignore_errors=True)
        if sys.stdout is None:  # pragma: no cover - the windowed Windows build
            (Path(tempfile.gettempdir()) / "qatt-self-test.txt").write_text("\n".join(report.lines) + "\n", encoding="utf-8")
    return code
