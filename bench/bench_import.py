"""Benchmark: QATT's importer against the barest possible load of the same CSV.

Generates an N-row, 12-column case extract with qatt.demo, then in separate processes (so each
peak memory figure is its own) measures:
  (a) bare:  csv.reader + sqlite3 executemany into a 12-column TEXT table, no checks
             (on PostgreSQL: COPY of the file straight into such a table);
  (a2) bare-indexed: the same into a table with the Case table's keys and indexes (integer
             primary key, population id, unique (population, reference) index),
             to show what the schema itself costs;
  (b) qatt:  importing.import_population (sniffing, validation, dates, extra JSON, duplicate
             check, fingerprint, audit, one transaction) into a migrated QATT database.
             --keep-fk-checks: on PostgreSQL, as a role that may not skip the per-row foreign-key
             check (see the README's shared-database set-up).

The two are run alternately --repeat times and the best time of each is compared, because
a shared machine's load changes from one run to the next.

    python bench/bench_import.py [--rows 1000000] [--repeat 3] [--db postgresql://postgres@127.0.0.1:5432/test] [--keep-fk-checks]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import sqlite3
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


def qatt_import(csv_path: Path, url: str, keep_fk_checks: bool) -> int:
    from qatt import importing
    from qatt.storage.db import open_database

    if keep_fk_checks:  # as for a database role without the README's optional grant
        importing.may_skip_row_triggers = lambda db: False
    open_database(url)
    return importing.import_population(csv_path, name="bench", actor="bench").rows


def worker(kind: str, csv_path: Path, url: str, workdir: Path, keep_fk_checks: bool) -> None:
    start = time.perf_counter()
    if kind.startswith("bare"):
        indexed = kind == "bare-indexed"
        rows = bare_postgres(csv_path, url, indexed) if is_postgres_url(url) else bare_sqlite(csv_path, workdir, indexed)
    else:
        rows = qatt_import(csv_path, url, keep_fk_checks)
    print(json.dumps({"rows": rows, "seconds": time.perf_counter() - start, "peak_mb": peak_mb()}))


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
    admin = make_database(db_url)
    admin.connect()
    admin.execute_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    admin.close()


def run(kind: str, csv_path: Path, db_url: str | None, workdir: Path, keep_fk_checks: bool) -> dict:
    url, schema = fresh_target(db_url, workdir, kind)
    try:
        out = subprocess.run([sys.executable, __file__, "--worker", kind, "--csv", str(csv_path), "--url", url,
                              "--workdir", str(workdir)] + (["--keep-fk-checks"] if keep_fk_checks else []),
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
                        help="PostgreSQL: check each row's foreign key, as for a role without the optional grant")
    parser.add_argument("--worker", choices=("bare", "bare-indexed", "qatt"), help=argparse.SUPPRESS)
    parser.add_argument("--csv", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, Path(args.csv), args.url, Path(args.workdir), args.keep_fk_checks)
        return

    from qatt import demo

    with tempfile.TemporaryDirectory(prefix="qatt-bench-") as folder:
        workdir = Path(folder)
        csv_path = workdir / "extract.csv"
        start = time.perf_counter()
        demo.write_csv(csv_path, args.rows, seed=1)
        size_mb = os.path.getsize(csv_path) / 2**20
        print(f"generated {args.rows:,} rows x {len(demo.HEADERS)} columns ({size_mb:.0f} MB) "
              f"in {time.perf_counter() - start:.1f} s")
        backend = "PostgreSQL" if args.db else "SQLite"
        runs: dict = {"bare": [], "bare-indexed": [], "qatt": []}
        for _ in range(args.repeat):
            for kind in runs:
                result = run(kind, csv_path, args.db, workdir, args.keep_fk_checks)
                assert result["rows"] == args.rows, result
                runs[kind].append(result)
                (workdir / f"{kind}.sqlite3").unlink(missing_ok=True)
    best = {kind: min(results, key=lambda r: r["seconds"]) for kind, results in runs.items()}
    print("all runs (s): " + "; ".join(f"{k} " + ", ".join(f"{r['seconds']:.1f}" for r in v) for k, v in runs.items()))
    for kind, label in (("bare", "bare load"), ("bare-indexed", "bare, Case indexes"), ("qatt", "QATT import")):
        r = best[kind]
        print(f"{backend}: {label:<19} {r['seconds']:6.1f} s  {args.rows / r['seconds']:>9,.0f} rows/s  "
              f"peak {r['peak_mb']:.0f} MB")
    print(f"ratio QATT / bare: {best['qatt']['seconds'] / best['bare']['seconds']:.2f}; "
          f"QATT / bare with Case indexes: {best['qatt']['seconds'] / best['bare-indexed']['seconds']:.2f}")


if __name__ == "__main__":
    main()
