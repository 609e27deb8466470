"""Benchmark: stratified draw (5 per officer, ~2,000 officers) and its verification on 1,000,000 cases.

    python bench/bench_sampling.py [--cases 1000000] [--officers 2000] [--db URL] [--repeat 5] [--keep FILE]

Builds the population itself with raw executemany in a temporary SQLite file (or the given
database; --keep FILE keeps a SQLite file and reuses it when it exists) and prints the figures.
The first stratified draw also builds the population's sort index on the officer column
(qatt.case_order), once; the draws after it (one per period) and their verifications are repeated
and given as median (min-max), in wall-clock and in CPU seconds (CPU time moves less when other
work shares the machine). Targets (issue 15): draw under 0.3 s, verification under 0.5 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qatt.selection import sampling  # noqa: E402
from qatt.trust import users
from qatt.intake.fingerprint import fingerprint_references  # noqa: E402
from qatt.storage import models as m  # noqa: E402
from qatt.storage.db import open_database, write_transaction  # noqa: E402


def build_population(db, cases: int, officers: int) -> int:
    references = [f"CR{n:08d}/24" for n in range(cases)]
    with write_transaction(db):
        population = m.Population.create(name="bench", row_count=cases, fingerprint=fingerprint_references(references))
    table = m.Case._meta.table_name
    columns = ["population_id", "reference", "area", "division", "team", "officer", "supervisor", "risk", "status", "summary"]
    marker = "?" if db.param == "?" else "%s"
    sql = f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({", ".join([marker] * len(columns))})'
    batch = 50_000
    for start in range(0, cases, batch):
        rows = [(population.id, references[n], f"Area {n % 5}", f"Division {n % 20}", f"Team {n % 200}",
                 f"Officer {n % officers}", f"Sgt {n % 400}", "", "finalised", "")
                for n in range(start, min(start + batch, cases))]
        with write_transaction(db):
            db.cursor().executemany(sql, rows)
    return population.id


def timed(action):
    wall, cpu = time.perf_counter(), time.process_time()
    result = action()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def spread(values) -> str:
    return f"median {statistics.median(values):.3f} s ({min(values):.3f}-{max(values):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--officers", type=int, default=2_000)
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--keep", help="a SQLite file to keep the population in (reused when it exists)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        reuse = bool(args.keep and os.path.exists(args.keep))
        db = open_database(args.db or args.keep or str(Path(folder) / "bench.sqlite3"))
        users.ensure_user("bench", "qa_lead")
        if reuse:
            population_id = m.Population.select(m.Population.id).order_by(m.Population.id).scalar()
            print(f"reusing population {population_id} in {args.keep}")
        else:
            started = time.perf_counter()
            population_id = build_population(db, args.cases, args.officers)
            print(f"built {args.cases:,} cases over {args.officers:,} officers in {time.perf_counter() - started:.1f} s")
        taken = {s.period for s in m.Sample.select(m.Sample.period)}
        periods = (f"{year}-{month:02d}" for year in range(2100, 2200) for month in range(1, 13))
        periods = iter([p for p in periods if p not in taken])

        def draw():
            request = sampling.SampleRequest(population_id, method="stratified", per_stratum=5, stratify=["officer"],
                                             reserves=1, seed=20240301, period=next(periods))
            return sampling.draw_sample(request, "bench")

        result, wall, cpu = timed(draw)
        print(f"first stratified draw (builds the sort index if missing): {len(result.references):,} cases + "
              f"{len(result.reserves):,} reserves in {len(result.strata):,} strata: {wall:.2f} s (CPU {cpu:.2f} s)")
        draws, verifies = {"wall": [], "cpu": []}, {"wall": [], "cpu": []}
        for _ in range(args.repeat):
            result, wall, cpu = timed(draw)
            draws["wall"].append(wall)
            draws["cpu"].append(cpu)
            check, wall, cpu = timed(lambda: sampling.verify_sample(result.sample_id, "bench"))
            assert check.verified, check.differences
            verifies["wall"].append(wall)
            verifies["cpu"].append(cpu)
        print(f"stratified draw x{args.repeat}: wall {spread(draws['wall'])}, CPU {spread(draws['cpu'])} (target < 0.3 s)")
        print(f"verify-sample   x{args.repeat}: wall {spread(verifies['wall'])}, CPU {spread(verifies['cpu'])} "
              "(target < 0.5 s)")
        simple, wall, cpu = timed(lambda: sampling.draw_sample(
            sampling.SampleRequest(population_id, size=100, period=next(periods)), "bench"))
        print(f"simple draw of 100: {wall:.2f} s (sample {simple.sample_id})")
        db.close()


if __name__ == "__main__":
    main()
