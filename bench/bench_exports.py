"""Benchmark the exports: `python bench/bench_exports.py [--reviews 100000]`.

Runs, alternating, `--repeat` times each: a bare openpyxl write-only loop writing the review cells
from memory; the whole workbook export (database reads, every sheet, charts, text cells for
formula-looking values, the disclosure record); and the workbook writer alone from rows in memory.
Prints medians and ranges of wall and CPU time and of each run's ratio to the bare loop run beside
it; then the time to lay out an inspection pack of about 50 pages.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openpyxl import Workbook  # noqa: E402

from exports import pdf, xlsx  # noqa: E402
from qatt import reports  # noqa: E402
from qatt.storage import db as dbmod  # noqa: E402
from qatt.storage import models as m  # noqa: E402
from tests import report_factories as f  # noqa: E402

AREAS = [f"Area {i:02d}" for i in range(1, 46)]  # enough areas for a pack of about 50 pages
GRADES = ["good", "requires_improvement", "inadequate"]
THEMES = ["voice_of_child", "supervision", "ethnicity", "victim_care", "data_quality"]


def populate(n_reviews: int) -> None:
    """n_reviews submitted first reviews on the child-protection test form, in bulk."""
    rng = random.Random(7)
    version = f.make_form_version(f.child_protection_form())
    population = m.Population.create(name="Bench", row_count=n_reviews, fingerprint="cd" * 32)
    sample = m.Sample.create(population=population, name="Bench", period="2024-05", method="simple", params={"size": n_reviews},
                             seed="42", population_fingerprint="cd" * 32, software_version="bench")
    db = m.database_proxy.obj
    batch = 5000
    for start in range(0, n_reviews, batch):
        stop = min(start + batch, n_reviews)
        with db.atomic():
            m.Case.insert_many([{"population": population.id, "reference": f"B{i:07d}", "area": AREAS[i % len(AREAS)],
                                 "team": f"Team {i % 7}", "officer": f"PC {i % 97}"} for i in range(start, stop)]).execute()
            case_ids = [c for (c,) in m.Case.select(m.Case.id).where(m.Case.population == population)
                        .order_by(m.Case.id).offset(start).limit(stop - start).tuples()]
            m.SampleItem.insert_many([{"sample": sample.id, "case": c, "position": start + k + 1}
                                      for k, c in enumerate(case_ids)]).execute()
            item_ids = [i for (i,) in m.SampleItem.select(m.SampleItem.id).where(m.SampleItem.sample == sample)
                        .order_by(m.SampleItem.id).offset(start).limit(stop - start).tuples()]
            submitted = dt.datetime(2024, 5, 20, 10)
            m.Review.insert_many([{"sample_item": i, "form_version": version.id, "reviewer": f"rev{i % 20}",
                                   "role": "first", "status": "submitted", "grade": rng.choice(GRADES),
                                   "strengths": "Good record of the child's words", "improvements": "=Plan sooner",
                                   "submitted_at": submitted} for i in item_ids]).execute()
            review_ids = [r for (r,) in m.Review.select(m.Review.id).where(m.Review.sample_item.in_(item_ids)).tuples()]
            answers = []
            for r in review_ids:
                answers += [
                    {"review": r, "question_id": "c1", "value": rng.choice(["yes", "no"])},
                    {"review": r, "question_id": "c2", "value": rng.choice(["yes", "no", "na"])},
                    {"review": r, "question_id": "c3_days", "value": rng.randint(0, 9)},
                    {"review": r, "question_id": "c9", "value": rng.choice(["effective", "weak", "none"])},
                    {"review": r, "question_id": "contact", "value": "visit"},
                    {"review": r, "question_id": "visit_date", "value": "2024-05-02"},
                    {"review": r, "question_id": "notes", "value": "Seen at home with mother present"},
                    {"review": r, "question_id": "themes", "value": {rng.choice(THEMES): rng.choice(["strength", "weakness"])}},
                ]
            m.Answer.insert_many(answers).execute()


def bare_loop(sheets, path: Path) -> float:
    start = time.perf_counter()
    wb = Workbook(write_only=True)
    for sheet in sheets:
        ws = wb.create_sheet(sheet.form_id[:31])
        ws.append([h for h, _ in sheet.columns])
        for row in sheet.rows():
            ws.append(row)
    wb.save(path)
    return time.perf_counter() - start


def _timed(work) -> tuple:
    """(wall seconds, CPU seconds of this process) of work(); CPU time is the steadier of the two on
    a machine other jobs share."""
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def _summary(name: str, runs: list, base: list) -> str:
    walls, cpus = [w for w, _ in runs], [c for _, c in runs]
    ratios = sorted(w / b for (w, _), (b, _) in zip(runs, base))  # each run against the bare loop beside it
    cpu_ratios = sorted(c / b for (_, c), (_, b) in zip(runs, base))
    return (f"{name}: wall median {statistics.median(walls):.2f} s (range {min(walls):.2f}-{max(walls):.2f}), "
            f"CPU median {statistics.median(cpus):.2f} s; vs bare: wall ratio median {statistics.median(ratios):.2f} "
            f"(range {ratios[0]:.2f}-{ratios[-1]:.2f}), CPU ratio median {statistics.median(cpu_ratios):.2f} "
            f"(range {cpu_ratios[0]:.2f}-{cpu_ratios[-1]:.2f})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reviews", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5, help="alternating runs of each (medians and ranges)")
    parser.add_argument("--no-pack", action="store_true", help="skip the inspection pack")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        dbmod.open_database(str(folder / "bench.sqlite3"))
        t = time.perf_counter()
        populate(args.reviews)
        print(f"populated {args.reviews} reviews in {time.perf_counter() - t:.1f} s")
        flt = reports.ReportFilter()

        # The same review rows held in memory for the bare loop (and for our writer alone).
        data = reports.workbook_data(flt, actor="bench")
        in_memory = []
        for sheet in data.review_sheets:
            rows = list(sheet.rows())
            in_memory.append(replace(sheet, rows=lambda rows=rows: iter(rows)))
        from_memory = replace(data, review_sheets=in_memory)
        cells = sum(s.row_count * len(s.columns) for s in in_memory)

        def whole() -> None:  # database reads included
            xlsx.export_workbook(reports.workbook_data(flt, actor="bench"), folder / "full.xlsx", actor="bench")

        bare, ours, writer = [], [], []
        for _ in range(args.repeat):  # alternate, so load from other jobs falls on all three alike
            bare.append(_timed(lambda: bare_loop(in_memory, folder / "bare.xlsx")))
            ours.append(_timed(whole))
            writer.append(_timed(lambda: xlsx.write_workbook(from_memory, folder / "ours.xlsx")))
        print(f"{args.repeat} alternating runs; bare openpyxl write-only loop over the same {cells:,} review cells: "
              f"wall median {statistics.median([w for w, _ in bare]):.2f} s "
              f"(range {min(w for w, _ in bare):.2f}-{max(w for w, _ in bare):.2f}), "
              f"CPU median {statistics.median([c for _, c in bare]):.2f} s")
        print(_summary("whole workbook export (database reads included)", ours, bare))
        print(_summary("workbook writer alone (rows in memory)", writer, bare))
        if args.no_pack:
            return

        pack = reports.inspection_pack(flt, actor="bench")
        t = time.perf_counter()
        result = pdf.export_pack(pack, folder / "pack.pdf", actor="bench")
        print(f"inspection pack: {result.rows['pages']} pages in {time.perf_counter() - t:.2f} s "
              f"(report data built beforehand)")


if __name__ == "__main__":
    main()
