"""Desktop test set-up: settings kept in a temporary folder, and populations made straight in the database."""

from __future__ import annotations

import datetime as dt
import gc

import pytest
from PySide6.QtCore import QSettings

from qatt.intake.fingerprint import fingerprint_references
from qatt.storage import models as m


# The offscreen platform says this whenever a window is shown; it is not a problem of the app.
OFFSCREEN_NOISE = "This plugin does not support propagateSizeHints"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/ui/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.qt_log_ignore(OFFSCREEN_NOISE))


@pytest.fixture(autouse=True)
def private_settings(tmp_path):
    """Each test gets empty QSettings, so remembered folders and hints never leak between tests."""
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    yield


@pytest.fixture(autouse=True)
def collect_garbage_on_the_gui_thread():
    """As the app does (ui.gc_guard): no automatic collection while a test's workers run, so no worker
    thread ever frees a cycle holding a Qt object (a crash at a random place in the worker); the
    garbage is collected here, on the GUI thread, after each test."""
    gc.collect()
    gc.disable()
    yield
    gc.collect()
    gc.enable()


AREAS = ("Domestic abuse referrals", "Missing children", "Section 47 enquiries")


def add_population(cases: int, name: str = "April extract") -> m.Population:
    """A population of `cases` cases REF00000..., spread over three areas, made without the importer."""
    references = [f"REF{i:05d}" for i in range(cases)]
    population = m.Population.create(name=name, row_count=cases, fingerprint=fingerprint_references(references))
    rows = [{"population": population.id, "reference": f"REF{i:05d}", "area": AREAS[i % 3],
             "recorded_date": dt.date(2024, 1, 1) + dt.timedelta(days=i % 90),
             "risk": ("standard", "medium", "high")[i % 3 if i % 5 else 2], "officer": f"PC {i % 13}"}
            for i in range(cases)]
    with m.Case._meta.database.atomic():
        for start in range(0, len(rows), 500):
            m.Case.insert_many(rows[start:start + 500]).execute()
    return population
