"""Benchmark: QATT's importer against the barest possible load of the same CSV.

Generates an N-row, 12-column case extract with qatt.demo, then in separate processes (so each
peak memory figure is its own) measures:
  (a) bare:  csv.reader + sqlite3 executemany into a 12-column TEXT table, no checks
             (on PostgreSQL: COPY of the file straight into such a table);
  (a2) bare-indexed: the same into a table with the Case table's keys and indexes (integer
             primary key, population id, unique (population, reference) index),
             to show what the schema itself costs;
  (a3) pandas: pandas read_csv + DataFrame.to_sql into a 12-column table, then a unique index
             on (population, reference) (SQLite only; pandas is in the dev requirements);
  (b) qatt:  importing.import_population (sniffing, validation, dates, extra JSON, duplicate
             check, fingerprint, audit, one transaction) into a migrated QATT database (opening and
             migrating it is not timed: a running app has done that already).
             On PostgreSQL every case's population is checked (once per statement, since schema
             v13); --keep-fk-checks makes code from before v13 (--qatt-root) check it too, as for
             a role without the optional grant it then had.

All are run in turn (bare, bare-indexed, pandas, qatt, bare, ...) --repeat times; the ratios are
taken run by run against the baselines of the same round, because a shared machine's load changes
from one run to the next, and printed as median (min-max).
--qatt-root runs the QATT import from another checkout (e.g. the code before a change).

    python bench/bench_import.py [--rows 1000000] [--repeat 3] [--db postgresql://postgres@127.0.0.1:5432/test] [--keep-fk-checks]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qatt.storage.db import is_postgres_url, make_database  # noqa: E402

SQLITE_PRAGMAS = ("PRAGMA journal_mode=wal", "PRAGMA synchronous=normal")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def cpu_seconds() -> float:
    """This process's CPU time: on SQLite all of the work, and less moved by other load than the
    wall clock (PostgreSQL's server time is not in it: compare wall seconds there)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def bare_sqlite(csv_path: Path, workdir: Path, indexed: bool) -> int:
    con = sqlite3.connect(str(workdir / ("bare-indexed.sqlite3" if indexed else "bare.sqlite3")), isolation_level=None)
    for pragma in SQLITE_PRAGMAS:
        con.execute(pragma)
    with open(csv_path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        columns = [f"c{i}" for i in range(len(header))]
        if indexed:
            con.execute(f"CREATE TABLE bare (id INTEGER NOT NULL PRIMARY KEY, population_id INTEGER NOT NULL, "
                        f"{', '.join(f'{c} TEXT' for c in columns)})")
            con.execute("CREATE UNIQUE INDEX bare_population_reference ON bare (population_id, c0)")
            sql = f"INSERT INTO bare (population_id, {', '.join(columns)}) VALUES (1, {', '.join('?' * len(columns))})"
        else:
            con.execute(f"CREATE TABLE bare ({', '.join(f'{c} TEXT' for c in columns)})")
            sql = f"INSERT INTO bare VALUES ({', '.join('?' * len(columns))})"
        con.execute("BEGIN")
        con.cursor().executemany(sql, reader)
        con.execute("COMMIT")
    return con.execute("SELECT COUNT(*) FROM bare").fetchone()[0]


def pandas_sqlite(csv_path: Path, workdir: Path) -> int:
    import pandas

    con = sqlite3.connect(str(workdir / "pandas.sqlite3"))
    for pragma in SQLITE_PRAGMAS:
        con.execute(pragma)
    frame = pandas.read_csv(csv_path, dtype=str, keep_default_na=False)
    frame.columns = [f"c{i}" for i in range(len(frame.columns))]
    frame.insert(0, "population_id", 1)
    frame.to_sql("bare", con, index=False, chunksize=10_000)
    con.execute("CREATE UNIQUE INDEX bare_population_reference ON bare (population_id, c0)")
    con.commit()
    return con.execute("SELECT COUNT(*) FROM bare").fetchone()[0]


def bare_postgres(csv_path: Path, url: str, indexed: bool) -> int:
    db = make_database(url)
    db.connect()
    with open(csv_path, newline="", encoding="utf-8") as fh:
        columns = [f"c{i}" for i in range(len(next(csv.reader(fh))))]
        fh.seek(0)
        with db.atomic():
            if indexed:
                db.execute_sql(f"CREATE TABLE bare (id SERIAL PRIMARY KEY, population_id INTEGER NOT NULL DEFAULT 1, "
                               f"{', '.join(f'{c} TEXT' for c in columns)})")
                db.execute_sql("CREATE UNIQUE INDEX bare_population_reference ON bare (population_id, c0)")
            else:
                db.execute_sql(f"CREATE TABLE bare ({', '.join(f'{c} TEXT' for c in columns)})")
            db.cursor().copy_expert(f"COPY bare ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, HEADER)", fh)
    return db.execute_sql("SELECT COUNT(*) FROM bare").fetchone()[0]


def qatt_open(url: str, keep_fk_checks: bool):
    """The set-up a running app has already done (modules loaded, database opened and migrated):
    not timed, as it is not part of an import (a fresh PostgreSQL schema takes seconds to migrate)."""
    from qatt.intake import importing
    from qatt.storage.db import open_database

    if keep_fk_checks and hasattr(importing, "may_skip_row_triggers"):  # code before schema v13
        importing.may_skip_row_triggers = lambda db: False
    open_database(url)
    return lambda csv_path: importing.import_population(csv_path, name="bench", actor="bench").rows


def worker(kind: str, csv_path: Path, url: str, workdir: Path, keep_fk_checks: bool) -> None:
    if kind == "qatt":
        load = qatt_open(url, keep_fk_checks)
    elif kind == "pandas":
        import pandas  # noqa: F401 - loaded before the clock starts, as QATT's modules are
    start, cpu_start = time.perf_counter(), cpu_seconds()
    if kind == "pandas":
        rows = pandas_sqlite(csv_path, workdir)
    elif kind.startswith("bare"):
        indexed = kind == "bare-indexed"
        rows = bare_postgres(csv_path, url, indexed) if is_postgres_url(url) else bare_sqlite(csv_path, workdir, indexed)
    else:
        rows = load(csv_path)
    print(json.dumps({"rows": rows, "seconds": time.perf_counter() - start, "cpu": cpu_seconds() - cpu_start,
                      "peak_mb": peak_mb()}))


def fresh_target(db_url: str | None, workdir: Path, label: str) -> tuple[str, str | None]:
    """A database URL of its own for each run; on PostgreSQL a throw-away schema (name returned)."""
    if not db_url:
        return str(workdir / f"{label}.sqlite3"), None
    schema = f"qatt_bench_{label}_{uuid.uuid4().hex[:8]}"
    admin = make_database(db_url)
    admin.connect()
    admin.execute_sql(f'CREATE SCHEMA "{schema}"')
    admin.close()
    sep = "&" if "?" in db_url else "?"
    return f"{db_url}{sep}options=-csearch_path%3D{schema}", schema


def drop_schema(db_url: str, schema: str) -> None:
    """Drop a run's schema and the group roles its migration made (roles outlive schemas)."""
    from qatt.storage import pg_security

    admin = make_database(db_url)
    admin.connect()
    admin.execute_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    pg_security.drop_group_roles(admin, admin.database, schema)
    admin.close()


def run(kind: str, csv_path: Path, db_url: str | None, workdir: Path, keep_fk_checks: bool,
        qatt_root: str | None = None) -> dict:
    url, schema = fresh_target(db_url, workdir, kind)
    try:
        out = subprocess.run([sys.executable, __file__, "--worker", kind, "--csv", str(csv_path), "--url", url,
                              "--workdir", str(workdir)] + (["--keep-fk-checks"] if keep_fk_checks else [])
                             + (["--qatt-root", qatt_root] if qatt_root else []),
                             check=True, capture_output=True, text=True)
    finally:
        if schema:
            drop_schema(db_url, schema)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (best time counts)")
    parser.add_argument("--db", help="postgresql:// URL to benchmark PostgreSQL (default: SQLite files)")
    parser.add_argument("--keep-fk-checks", action="store_true",
                        help="PostgreSQL, code before schema v13 (--qatt-root): keep its per-row foreign-key check")
    parser.add_argument("--csv-file", help="import this CSV instead of generating one (qatt.demo columns)")
    parser.add_argument("--qatt-root", help="run the QATT import from this checkout (default: this one)")
    parser.add_argument("--worker", choices=("bare", "bare-indexed", "pandas", "qatt"), help=argparse.SUPPRESS)
    parser.add_argument("--csv", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        if args.qatt_root:
            sys.path.insert(0, str(Path(args.qatt_root).resolve()))
            for name in [n for n in sys.modules if n == "qatt" or n.startswith("qatt.")]:
                del sys.modules[name]
        worker(args.worker, Path(args.csv), args.url, Path(args.workdir), args.keep_fk_checks)
        return

    from qatt import demo

    with tempfile.TemporaryDirectory(prefix="qatt-bench-") as folder:
        workdir = Path(folder)
        if args.csv_file:
            csv_path = Path(args.csv_file)
        else:
            csv_path = workdir / "extract.csv"
            start = time.perf_counter()
            demo.write_csv(csv_path, args.rows, seed=1)
            print(f"generated {args.rows:,} rows x {len(demo.HEADERS)} columns in {time.perf_counter() - start:.1f} s")
        print(f"{csv_path.name}: {os.path.getsize(csv_path) / 2**20:.0f} MB")
        backend = "PostgreSQL" if args.db else "SQLite"
        kinds = ["bare", "bare-indexed"] + ([] if args.db else ["pandas"]) + ["qatt"]
        runs: dict = {kind: [] for kind in kinds}
        for _ in range(args.repeat):
            for kind in kinds:
                result = run(kind, csv_path, args.db, workdir, args.keep_fk_checks, args.qatt_root)
                assert result["rows"] == args.rows, result
                runs[kind].append(result)
                print(f"  {kind:<13} {result['seconds']:6.1f} s (cpu {result['cpu']:.1f} s)  peak {result['peak_mb']:.0f} MB",
                      flush=True)
                for leftover in workdir.glob("*.sqlite3*"):
                    leftover.unlink()

    def spread(values: list) -> str:
        return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"

    for kind, label in (("bare", "bare load"), ("bare-indexed", "bare, Case indexes"), ("pandas", "pandas read_csv+to_sql"),
                        ("qatt", "QATT import")):
        if kind not in runs:
            continue
        seconds = [r["seconds"] for r in runs[kind]]
        print(f"{backend}: {label:<23} {spread(seconds)} s  {args.rows / statistics.median(seconds):>9,.0f} rows/s  "
              f"peak {max(r['peak_mb'] for r in runs[kind]):.0f} MB")
    for kind in kinds[:-1]:
        ratios = [q["seconds"] / b["seconds"] for q, b in zip(runs["qatt"], runs[kind])]
        cpu = [q["cpu"] / b["cpu"] for q, b in zip(runs["qatt"], runs[kind])]
        print(f"ratio QATT / {kind}, round by round: median {spread(ratios)}"
              + ("" if args.db else f"; in CPU seconds {spread(cpu)}"))

if __name__ == "__main__":
    main()
