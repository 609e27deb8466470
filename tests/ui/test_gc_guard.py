"""Garbage collection only on the GUI thread (ui.gc_guard), so a worker never frees a Qt object."""

from __future__ import annotations

import gc
import threading

from PySide6.QtCore import QObject

from ui.gc_guard import GuiThreadCollector


class Cycle:
    def __init__(self, freed):
        self.me = self
        self.freed = freed

    def __del__(self):
        self.freed.append(threading.current_thread() is threading.main_thread())


def test_cycles_made_on_a_worker_are_freed_by_the_gui_thread_timer_not_the_worker(qtbot):
    gc.enable()  # as at the start of the app, before the collector takes over
    freed = []
    collector = GuiThreadCollector(interval_ms=10)
    try:
        assert not gc.isenabled()

        kept = []

        def worker():
            for _ in range(3):
                Cycle(freed)
            kept.extend([] for _ in range(gc.get_threshold()[0] * 3))  # well past the first threshold
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        assert freed == []  # nothing was collected on the worker
        qtbot.waitUntil(lambda: len(freed) == 3, timeout=5000)
        assert freed == [True, True, True]  # all on the GUI thread
    finally:
        collector.stop()
    assert gc.isenabled()
    gc.disable()  # the test fixture's state, which it restores itself


def test_the_app_installs_the_collector_on_its_qapplication(monkeypatch, qapp):
    import ui.app as app_module

    made = []
    monkeypatch.setattr(app_module, "QApplication", lambda _args: qapp)
    monkeypatch.setattr(app_module, "GuiThreadCollector", lambda parent: made.append(parent) or QObject())
    monkeypatch.setattr(app_module, "start", lambda *_a, **_k: (_ for _ in ()).throw(app_module.QattError("stop")))
    monkeypatch.setattr(app_module.QMessageBox, "critical", lambda *a, **k: None)
    assert app_module.main() == 2
    assert made == [qapp]
