"""Benchmark the exports: `python bench/bench_exports.py [--reviews 100000]`.

Prints (1) the workbook writer (all sheets, chart, text cells for formula-looking values) against a
bare openpyxl write-only loop writing the same review cells, both from rows already in memory,
with their ratio; (2) the whole workbook export including the
database reads; (3) the time to lay out an inspection pack of about 50 pages.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reviews", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        dbmod.open_database(str(folder / "bench.sqlite3"))
        t = time.perf_counter()
        populate(args.reviews)
        print(f"populated {args.reviews} reviews in {time.perf_counter() - t:.1f} s")
        flt = reports.ReportFilter()

        t = time.perf_counter()
        data = reports.workbook_data(flt, actor="bench")
        result = xlsx.export_workbook(data, folder / "full.xlsx", actor="bench")
        print(f"whole workbook export (database reads included): {time.perf_counter() - t:.2f} s, "
              f"{result.rows}")

        # The same review rows held in memory, so both writers do only the writing.
        in_memory = []
        for sheet in data.review_sheets:
            rows = list(sheet.rows())
            in_memory.append(replace(sheet, rows=lambda rows=rows: iter(rows)))
        data = replace(data, review_sheets=in_memory)
        bare, ours = [], []
        for _ in range(2):  # alternate and keep the best of each, so warm-up favours neither
            bare.append(bare_loop(in_memory, folder / "bare.xlsx"))
            t = time.perf_counter()
            xlsx.write_workbook(data, folder / "ours.xlsx")
            ours.append(time.perf_counter() - t)
        bare, ours = min(bare), min(ours)
        cells = sum(s.row_count * len(s.columns) for s in in_memory)
        print(f"workbook writer: {ours:.2f} s; bare openpyxl write-only loop over the same {cells:,} review cells: "
              f"{bare:.2f} s; ratio {ours / bare:.2f}")

        pack = reports.inspection_pack(flt, actor="bench")
        t = time.perf_counter()
        result = pdf.export_pack(pack, folder / "pack.pdf", actor="bench")
        print(f"inspection pack: {result.rows['pages']} pages in {time.perf_counter() - t:.2f} s "
              f"(report data built beforehand)")


if __name__ == "__main__":
    main()
