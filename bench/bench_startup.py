"""Benchmark: desktop start-up time, and the lazy case browser over a large population.

(a) start-up: a fresh Python process that imports ui.app, opens an existing database, builds the
    main window and shows it; timed from process start (interpreter included) to the first
    painted window. Run several times; the median is printed.
(b) case browser: with N cases in one population (with one extract column, "Beat"), the time for the
    first page; for officer, recorded date, the extract column and area: a first page before the
    sort order exists (what the GUI used to do on its thread), building it (what the GUI now does
    in a worker the first time), then the median and slowest of 20 pages, unfiltered and filtered.

    QT_QPA_PLATFORM=offscreen python bench/bench_startup.py [--runs 5] [--cases 1000000] [--skip-startup]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Runs in the child process: time from interpreter start to a shown, painted main window.
CHILD = r"""
import time, sys
sys.path.insert(0, {root!r})
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from ui import app as desktop
qt_app = QApplication(["qatt"])
window = desktop.start({db!r}, None)  # as the OS account
window.show()
qt_app.processEvents()
start = float({start!r})
print(time.time() - start)
"""


def startup_seconds(db_path: str) -> float:
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    env.pop("QATT_USER", None)
    start = time.time()
    code = CHILD.format(root=str(ROOT), db=db_path, start=start)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def bare_python_seconds() -> float:
    start = time.time()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.time() - start


def fill_population(cases: int) -> int:
    """Insert `cases` synthetic cases straight into the bound database (no importer, for speed)."""
    import datetime as dt

    from qatt.storage import models as m

    population = m.Population.create(name="bench", row_count=cases, extra_columns=["Beat"])
    areas = ("Domestic abuse referrals", "Missing children", "Section 47 enquiries", "Sex offender management")
    db = m.Case._meta.database
    batch = []
    with db.atomic():
        for i in range(cases):
            batch.append((population.id, f"REF{i:08d}", areas[i % 4], dt.date(2024, 1, 1) + dt.timedelta(days=i % 365),
                          f"Division {i % 5}", f"Team {i % 40}", f"PC {i % 997}", f"Sgt {i % 101}",
                          ("standard", "medium", "high")[i % 3], "finalised", "", {"Beat": f"B{i % 311}"}))
            if len(batch) == 5000:
                m.Case.insert_many(batch, fields=[m.Case.population, m.Case.reference, m.Case.area,
                                                  m.Case.recorded_date, m.Case.division, m.Case.team,
                                                  m.Case.officer, m.Case.supervisor, m.Case.risk, m.Case.status,
                                                  m.Case.summary, m.Case.extra]).execute()
                batch = []
        if batch:
            m.Case.insert_many(batch, fields=[m.Case.population, m.Case.reference, m.Case.area, m.Case.recorded_date,
                                              m.Case.division, m.Case.team, m.Case.officer, m.Case.supervisor,
                                              m.Case.risk, m.Case.status, m.Case.summary,
                                              m.Case.extra]).execute()
    return population.id


def timed(label: str, action) -> None:
    start = time.perf_counter()
    action()
    print(f"  {label:<44} {1000 * (time.perf_counter() - start):8.0f} ms")


def bench_case_browser(db_path: str, cases: int) -> None:
    from PySide6.QtCore import QModelIndex, Qt
    from PySide6.QtWidgets import QApplication

    from qatt import browse
    from qatt.storage.db import open_database
    from ui.qtmodels.cases_model import CasesModel

    QApplication.instance() or QApplication(["bench"])
    open_database(db_path)
    print(f"Filling a population with {cases:,} cases…")
    population_id = fill_population(cases)
    model = CasesModel()
    print(f"Case browser over {cases:,} cases (pages of {model.page_size}):")
    timed("open (count + first page)", lambda: model.set_population(population_id))
    timed("filter 'missing high'", lambda: model.setFilterText("missing high"))
    timed("clear the filter", lambda: model.setFilterText(""))

    def pages(label: str, sort_by: str, descending: bool, filter_text: str = "") -> None:
        times, after = [], None
        for _ in range(20):
            start = time.perf_counter()
            page = browse.case_page(population_id, sort_by=sort_by, descending=descending, filter_text=filter_text,
                                    after=after)
            times.append(1000 * (time.perf_counter() - start))
            after = page.next_key
        times.sort()
        print(f"  {label:<44} {statistics.median(times):8.1f} ms a page (slowest {times[-1]:.1f}, 20 pages)")

    pages("20 pages sorted by reference", "reference", False)
    for sort_by, heading in (("officer", "officer"), ("recorded_date", "recorded date"), ("extra:Beat", "Beat (extract)"),
                             ("area", "area")):
        timed(f"first page by {heading}, no sort order yet",
              lambda: browse.case_page(population_id, sort_by=sort_by, descending=True))
        timed(f"build the sort order by {heading} (worker)", lambda: browse.prepare_sort(population_id, sort_by))
        pages(f"20 pages by {heading}, descending", sort_by, True)
        pages(f"20 pages by {heading}, filter 'high'", sort_by, False, "high")
    model.sort(5, Qt.SortOrder.DescendingOrder)

    def scroll():
        for _ in range(20):
            model.fetchMore(QModelIndex())

    timed("the model: 20 pages more, sorted by officer", scroll)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--skip-startup", action="store_true", help="only the case browser")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qatt-bench-") as folder:
        db_path = str(Path(folder) / "bench.sqlite3")
        from qatt.trust import identity
        from qatt.storage import models as m
        from qatt.storage.db import open_database

        database = open_database(db_path)  # created and migrated; a training database, so "bench" may act
        m.Setting.create(key=identity.TRAINING_KEY, value={"training": True, "why": "benchmark"})
        database.close()
        startup_seconds(db_path)  # the first start is not counted
        if not args.skip_startup:
            runs = sorted(startup_seconds(db_path) for _ in range(args.runs))
            bare = statistics.median(bare_python_seconds() for _ in range(args.runs))
            print(f"Start-up to a shown window: median {statistics.median(runs):.3f} s "
                  f"(min {runs[0]:.3f}, max {runs[-1]:.3f}, {args.runs} runs; bare `python -c pass` {bare:.3f} s)")
        bench_case_browser(db_path, args.cases)
    return 0


if __name__ == "__main__":
    sys.exit(main())
