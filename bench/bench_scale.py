"""Benchmark at force scale: import 10,000,000 cases into PostgreSQL, then draw from them.

Not run by the tests or by default anywhere: it needs ~2 GB of disk for the CSV, a few GB in
PostgreSQL, and minutes. Generates the extract with qatt.demo (or takes --csv-file), then:
  - the QATT import (importing.import_population, in a process of its own, so its peak memory is
    its own), every case's population checked by the server (once per statement, schema v13);
  - optionally (--baseline) a bare `COPY ... FROM STDIN (FORMAT csv)` of the same file into a
    table with the Case table's keys and indexes, for the ratio;
  - the existing draws on the imported population: stratified, 5 per officer, and a simple
    random sample of 100 (qatt.selection.sampling as it is; this script only times it).

    python bench/bench_scale.py [--rows 10000000] [--db postgresql://postgres@127.0.0.1:5432/test]
                                [--csv-file extract.csv] [--baseline]
                                [--keep]
    python bench/bench_scale.py --existing --db URL
      (the draws only, again, on the newest population in that database: with --keep, a run leaves
      its imported schema in place and prints the URL that selects it; drop the schema when done)
Targets (issue 15): import under 60 s, draw under 3 s, import peak memory under 200 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_import  # noqa: E402


def import_in_subprocess(kind: str, csv_path: Path, url: str, workdir: Path) -> dict:
    out = subprocess.run([sys.executable, bench_import.__file__, "--worker", kind, "--csv", str(csv_path),
                          "--url", url, "--workdir", str(workdir)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def time_draws(url: str) -> None:
    from qatt.selection import sampling
    from qatt.trust import users
    from qatt.storage import models as m
    from qatt.storage.db import open_database

    db = open_database(url)
    users.ensure_user("bench", "qa_lead")
    population = m.Population.select().order_by(m.Population.id.desc()).get()
    for label, request in (
            ("stratified, 5 per officer", sampling.SampleRequest(population.id, method="stratified", per_stratum=5,
                                                                 stratify=["officer"], reserves=1, seed=20240301,
                                                                 redraw_reason="benchmark run")),
            ("simple random, 100", sampling.SampleRequest(population.id, size=100, seed=20240301, period="2024-01",
                                                          redraw_reason="benchmark run"))):
        started = time.perf_counter()
        result = sampling.draw_sample(request, "bench")
        seconds = time.perf_counter() - started
        print(f"draw {label}: {len(result.references):,} cases in {seconds:.2f} s (target < 3 s)", flush=True)
        started = time.perf_counter()
        check = sampling.verify_sample(result.sample_id, "bench")
        print(f"  verify-sample: verified={check.verified} in {time.perf_counter() - started:.2f} s", flush=True)
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--db", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--csv-file", help="an extract written by qatt.demo.write_csv with --rows rows")
    parser.add_argument("--baseline", action="store_true", help="also time a bare COPY into an indexed table")
    parser.add_argument("--existing", action="store_true",
                        help="no import: time the draws on the newest population already in --db")
    parser.add_argument("--keep", action="store_true",
                        help="leave the imported schema in place (its URL is printed) for later --existing runs")
    args = parser.parse_args()
    if args.existing:
        time_draws(args.db)
        return
    from qatt import demo

    with tempfile.TemporaryDirectory(prefix="qatt-scale-") as folder:
        workdir = Path(folder)
        csv_path = Path(args.csv_file) if args.csv_file else workdir / "extract.csv"
        if not args.csv_file:
            started = time.perf_counter()
            demo.write_csv(csv_path, args.rows, seed=1)
            print(f"generated {args.rows:,} rows in {time.perf_counter() - started:.0f} s", flush=True)
        print(f"{csv_path.name}: {os.path.getsize(csv_path) / 2**20:,.0f} MB", flush=True)
        if args.baseline:
            url, schema = bench_import.fresh_target(args.db, workdir, "bare")
            try:
                bare = import_in_subprocess("bare-indexed", csv_path, url, workdir)
            finally:
                bench_import.drop_schema(args.db, schema)
            print(f"bare COPY into an indexed table: {bare['seconds']:.1f} s", flush=True)
        url, schema = bench_import.fresh_target(args.db, workdir, "qatt")
        try:
            result = import_in_subprocess("qatt", csv_path, url, workdir)
            assert result["rows"] == args.rows, result
            print(f"QATT import of {result['rows']:,} cases (populations checked): {result['seconds']:.1f} s (importer's CPU {result['cpu']:.1f} s), "
                  f"peak {result['peak_mb']:.0f} MB (target < 60 s, < 200 MB)"
                  + (f"; {result['seconds'] / bare['seconds']:.2f}x the bare COPY" if args.baseline else ""),
                  flush=True)
            time_draws(url)
        finally:
            if args.keep:
                print(f"kept schema {schema}: python bench/bench_scale.py --existing --db '{url}'", flush=True)
            else:
                bench_import.drop_schema(args.db, schema)


if __name__ == "__main__":
    main()
