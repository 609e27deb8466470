"""Benchmark: stratified draw (5 per officer, ~2,000 officers) and its verification on 1,000,000 cases.

    python bench/bench_sampling.py [--cases 1000000] [--officers 2000] [--db URL]

Builds the population itself with raw executemany in a temporary SQLite file (or the given
database) and prints the figures. Targets: draw under 1 s, verification under 2 s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qatt import sampling, users  # noqa: E402
from qatt.fingerprint import fingerprint_references  # noqa: E402
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--officers", type=int, default=2_000)
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = open_database(args.db or str(Path(folder) / "bench.sqlite3"))
        users.ensure_user("bench", "qa_lead")
        started = time.perf_counter()
        population_id = build_population(db, args.cases, args.officers)
        print(f"built {args.cases:,} cases over {args.officers:,} officers in {time.perf_counter() - started:.1f} s")

        request = sampling.SampleRequest(population_id, method="stratified", per_stratum=5, stratify=["officer"],
                                         reserves=1, seed=20240301)
        started = time.perf_counter()
        result = sampling.draw_sample(request, "bench")
        draw_seconds = time.perf_counter() - started
        print(f"stratified draw: {len(result.references):,} cases + {len(result.reserves):,} reserves "
              f"in {len(result.strata):,} strata: {draw_seconds:.2f} s (target < 1 s)")

        started = time.perf_counter()
        check = sampling.verify_sample(result.sample_id, "bench")
        verify_seconds = time.perf_counter() - started
        print(f"verify-sample: verified={check.verified}: {verify_seconds:.2f} s (target < 2 s)")

        started = time.perf_counter()
        simple = sampling.draw_sample(sampling.SampleRequest(population_id, size=100, period="2024-04"), "bench")
        print(f"simple draw of 100: {time.perf_counter() - started:.2f} s (sample {simple.sample_id})")
        db.close()


if __name__ == "__main__":
    main()
