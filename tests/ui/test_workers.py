"""Workers report their outcome by signal, and the progress dialog's Cancel really stops the work."""

from __future__ import annotations

import threading

from qatt.errors import QattError
from qatt.storage import models as m
from ui.workers import ProgressDialog, Worker, run_with_progress


def wait_for_cancel(started: threading.Event, progress, cancel):
    """Long work that only a cancel can end: it writes a population, then stops at a checkpoint."""
    m.Population.create(name="half-written")
    started.set()
    progress(1, 10, "Working")
    while not cancel.cancelled:
        cancel._event.wait(0.01)
    cancel.check()


def write_population_until_cancelled(started, progress, cancel):
    with m.Population._meta.database.atomic():
        wait_for_cancel(started, progress, cancel)


def test_cancel_in_the_progress_dialog_stops_the_work_and_nothing_is_kept(qtbot, sqlite_db):
    started = threading.Event()
    worker = Worker(write_population_until_cancelled, started)
    dialog = run_with_progress("Working", worker)  # deletes itself when closed
    qtbot.waitUntil(lambda: dialog.panel.bar.maximum() == 10)
    assert started.is_set()
    with qtbot.waitSignals([worker.signals.cancelled, dialog.destroyed], timeout=10000):
        dialog.panel.cancel_button.click()
    assert m.Population.select().count() == 0


def test_escape_cancels_instead_of_hiding_running_work(qtbot, sqlite_db):
    started = threading.Event()
    worker = Worker(write_population_until_cancelled, started)
    dialog = ProgressDialog("Working", worker)
    qtbot.addWidget(dialog)
    dialog.show()
    worker.start()
    qtbot.waitUntil(started.is_set)
    with qtbot.waitSignal(worker.signals.cancelled, timeout=10000):
        dialog.reject()
        assert dialog.isVisible()  # stays until the worker confirms it stopped
    assert m.Population.select().count() == 0


def test_a_user_facing_error_arrives_as_its_message(qtbot):
    def refuse(progress, cancel):
        raise QattError("Give the population a name.")

    worker = Worker(refuse)
    with qtbot.waitSignal(worker.signals.failed, timeout=10000) as failed:
        worker.start()
    assert failed.args == ["Give the population a name."]


def test_a_result_arrives_with_finished(qtbot):
    worker = Worker(lambda a, b: a + b, 2, 3, pass_progress=False)
    with qtbot.waitSignal(worker.signals.finished, timeout=10000) as finished:
        worker.start()
    assert finished.args == [5]


def test_progress_is_thinned_to_a_few_signals_a_second_but_keeps_new_messages_and_the_end(qtbot, monkeypatch):
    import ui.workers as workers

    clock = [100.0]
    monkeypatch.setattr(workers.time, "monotonic", lambda: clock[0])
    worker = Worker(lambda progress, cancel: None)
    seen = []
    worker.signals.progress.connect(lambda done, total, message: seen.append((done, total, message)))
    for done in range(1, 1001):  # 1,000 reports within 10 ms of each other
        worker._report(done * 200, 200_000, "Reading")
        clock[0] += 0.00001
    worker._report(5, 10, "Saving to the database")  # a new message goes through at once
    clock[0] += 0.06
    worker._report(6, 10, "Saving to the database")  # and later reports of it, once the interval is over
    worker._report(7, 10, "Saving to the database")  # not this one, straight after
    worker._report(10, 10, "Saving to the database")  # the end always
    assert seen == [(200, 200_000, "Reading"), (200_000, 200_000, "Reading"), (5, 10, "Saving to the database"),
                    (6, 10, "Saving to the database"), (10, 10, "Saving to the database")]
