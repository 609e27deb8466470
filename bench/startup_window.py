"""One desktop start for whole-process timing, as `python run.py` starts: automatic garbage collection
off (run.py), QApplication and the GUI-thread collector (ui.app.main), open the database, build the main
window (ui.app.start), show and paint it, then exit.

    QT_QPA_PLATFORM=offscreen python bench/startup_window.py DB_PATH   (make DB_PATH once with --prepare DB_PATH)
Compare it with bench/bare_window.py (a plain PySide6 window shown the same way) in the same run.
`--gc-on` leaves collection on, as start-up was before run.py turned it off.
"""

import gc
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    if "--gc-on" not in sys.argv:
        gc.disable()  # as run.py does before importing the desktop
    from ui import app as desktop  # before PySide6, as run.py imports it
    from ui.gc_guard import GuiThreadCollector

    from PySide6.QtWidgets import QApplication

    qt_app = QApplication(["qatt"])
    collector = GuiThreadCollector(qt_app)  # noqa: F841 - as ui.app.main
    window = desktop.start(sys.argv[-1], None)  # as the OS account, as a desktop does
    window.show()
    qt_app.processEvents()
    if "--prepare" in sys.argv:
        print("prepared", sys.argv[-1])
    window.context.db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
