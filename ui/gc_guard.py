"""Python's cyclic garbage collection, run on the GUI thread only.

Python collects reference cycles in whichever thread happens to allocate when a threshold is
reached. In a desktop app that is often a worker thread busy reading an extract, and the cycles
it frees can hold Qt objects (a closed dialog and the lambdas connected to its signals). A Qt
object destroyed from a thread that does not own it can crash the process: a segmentation fault
at a random place in the worker. So automatic collection is turned off, and a timer on the GUI
thread collects each generation once its threshold is passed, as Python itself would.
"""

from __future__ import annotations

import gc
from typing import Optional

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 1000


class GuiThreadCollector(QObject):
    """While it lives (and until stop()), garbage is collected only on the thread that created it."""

    def __init__(self, parent: Optional[QObject] = None, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check)
        gc.disable()
        self.timer.start()

    def check(self) -> int:
        """Collect the generations whose counts passed their thresholds; returns objects freed."""
        freed = 0
        count0, count1, count2 = gc.get_count()
        if count0 > self.threshold[0]:
            freed += gc.collect(0)
            if count1 > self.threshold[1]:
                freed += gc.collect(1)
                if count2 > self.threshold[2]:
                    freed += gc.collect(2)
        return freed

    def stop(self) -> None:
        self.timer.stop()
        gc.enable()
