"""Take screenshots of every page of the real application, for docs/ and the README.

    xvfb-run -a -s "-screen 0 1600x1000x24" python tools/screenshots.py [--out docs/screenshots]

It builds the app on a fresh temporary database holding the demo population and demo reviews
(so it never touches your own data or settings), shows each page in a real window, waits for the
page's background work, and saves PNGs. Run it under Xvfb (a real X server in memory) or on a
desktop; the offscreen platform draws no window decorations and is not what users see.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QSettings, QThreadPool  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

SIZE = (1200, 750)
USER = "supervisor.demo"  # the desktop user the demo leaves cases to review for
QA_LEAD = "demo.qa_lead"  # sees every figure, moderation and every action: what the QA board is shown
SUPERVISOR = "demo.supervisor1"  # a supervisor whose reviews raised actions in the demo data
# (file name, page index, what the caption in the README says, who is signed in)
PAGES = [
    ("1-populations.png", 0, "Populations", USER),
    ("2-samples.png", 1, "Samples", USER),
    ("3-review.png", 2, "Review", USER),
    ("4-moderation.png", 3, "Moderation", QA_LEAD),
    ("5-dashboard.png", 4, "Dashboard", QA_LEAD),
    ("6-exports.png", 5, "Exports", QA_LEAD),
    ("7-actions.png", 6, "Actions", SUPERVISOR),
    ("8-register.png", 6, "Register of recommendations", QA_LEAD),
    ("9-narratives.png", 6, "Pack narratives", QA_LEAD),
]
# The Actions page's tabs the screenshots show (file name -> tab index).
ACTION_TABS = {"7-actions.png": 0, "8-register.png": 2, "9-narratives.png": 3}


def settle(app: QApplication, seconds: float = 0.5) -> None:
    """Let workers finish and the window repaint."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline or QThreadPool.globalInstance().activeThreadCount():
        app.processEvents()
        time.sleep(0.02)


def open_a_review(window) -> None:
    """On the Review page, start one of the cases waiting for the user and answer part of the form."""
    page = window.page(2)
    page.confirm_submit = lambda _parent, _reference: False
    waiting = next((row for row, item in enumerate(page.work) if item.review_id is None), 0)
    page.table.selectRow(waiting)
    if not page.start_button.isHidden():
        page.start_selected()
    if page.form_view is None:
        return
    checklist = [row.question for row in page.form_view.rows.values()
                 if row.is_visible() and row.question.type in ("yes_no", "yes_no_na")]
    for number, question in enumerate(checklist[:6]):
        page.form_view.rows[question.id].input.buttons["no" if number == 3 else "yes"].click()
    page.save_now()


def choose_a_compared_case(window) -> None:
    """On the Moderation page, show a sample and a case whose two grades can be compared."""
    page = window.page(3)
    for index in range(page.sample_choice.count()):
        page.sample_choice.setCurrentIndex(index)
        for row, values in enumerate(page.cases.rows):
            if values[-1] == "disagree":
                page.case_table.selectRow(row)
                return


def show_action_tab(window, tab: int) -> None:
    """The Actions page on one of its tabs, with a row chosen (and a narrative loaded)."""
    page = window.page(6)
    page.tabs.setCurrentIndex(tab)
    if tab == 0:
        page.status_filter.setCurrentIndex(page.status_filter.findText("All"))
        page.table.selectRow(0)
    elif tab == 2:
        page.register.table.selectRow(0)
    elif tab == 3:
        page.narratives.refresh()
        page.narratives.load()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--only", nargs="*", default=[], help="file names to take (default: all)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    work = Path(tempfile.mkdtemp(prefix="qatt-shots-"))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(work / "settings"))
    os.environ["QATT_USER"] = USER
    app = QApplication(["qatt"])
    app.setOrganizationName("QATT")
    app.setApplicationName("QATT")

    from qatt import demo
    from ui import app as qatt_app

    from qatt.storage.db import open_database

    # The demonstration data first: it marks the database as a training one, where the screenshots may
    # act as the demo supervisor whoever runs them.
    database = open_database(str(work / "qatt.sqlite3"))
    demo.load_demo_with_reviews(USER)
    database.close()
    window = None
    for file_name, index, _caption, user in PAGES:
        if args.only and file_name not in args.only:
            continue
        if window is None or window.context.actor != user:
            if window is not None:
                window.close()
                window.context.db.close()
            window = qatt_app.start(str(work / "qatt.sqlite3"), user)
            window.resize(*SIZE)
            window.show()
            window.page(0).refresh()
            settle(app)
        window.show_page(index)
        if index == 2:
            open_a_review(window)
        if index == 3:
            choose_a_compared_case(window)
        if file_name in ACTION_TABS:
            show_action_tab(window, ACTION_TABS[file_name])
        settle(app, 1.5)
        target = args.out / file_name
        window.grab().save(str(target))
        print(f"wrote {target}")
    if window is not None:
        window.close()
        window.context.db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
