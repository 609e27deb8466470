"""The importer's batch path (whole batches checked column by column) must store exactly what the
row-by-row path stores, and hand every batch that holds a problem to the row-by-row path."""

from __future__ import annotations

import csv
import datetime as dt

import pytest

from qatt.intake import importing, row_checks
from qatt.errors import QattError
from qatt.intake.fingerprint import fingerprint_references
from qatt.intake.importing import ImportProblems
from qatt.storage import models as m

HEADER = ["Crime Ref", "Date Recorded", "OIC", "Risk", "Source", "", "Notes"]
MAPPING = {"reference": "Crime Ref", "recorded_date": "Date Recorded", "officer": "OIC", "risk": "Risk"}
ROWS = [
    [" R1 ", "01/03/2024", " PC 1 ", "high", "Niche", "", "café"],
    ["R2", "2024-03-02", "PC 2", "", "", "", ""],
    ["R3", "3/4/24", "PC 3", "low", "Athena", "kept", ""],
    ["R4", "01/03/2024", "", "", "Niche", "", "x"],
    ["R5", "02/03/2024", "PC 5", "medium"],  # short row: missing cells are empty
    ["", "", "", "", "", "", ""],  # blank row: not a case
    ["R6", "01/03/2024", "PC 6", "high", "Niche", "", "y" * 300],  # long free text is fine
    ["R7", "05/03/2024", "PC 7", "high", "Niche", "", ""],
    ["R8", "06/03/2024", "PC 8", "", "Athena", "", "z"],
]
INVALID = [
    ["R2", "07/03/2024", "PC 9", "", "", "", ""],  # repeats a reference from an earlier batch
    ["R9", "31/02/2024", "PC 9", "", "", "", ""],  # not a date
    ["R10", "07/03/2024", "P" * 201, "", "", "", ""],  # officer too long
]


def write_csv(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([HEADER, *rows])
    return path


def stored_cases(population_id):
    query = (m.Case.select(m.Case.reference, m.Case.recorded_date, m.Case.officer, m.Case.risk, m.Case.summary,
                           m.Case.area, m.Case.extra)
             .where(m.Case.population == population_id).order_by(m.Case.reference))
    return list(query.tuples())


def import_file(path, **options):
    result = importing.import_population(path, name="p", actor="tester", mapping=MAPPING, allow_duplicate=True, **options)
    population = m.Population.get_by_id(result.population_id)
    return result, stored_cases(result.population_id), population.extra_columns


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(importing, "BATCH_ROWS", 3)


def row_by_row_only(monkeypatch):
    original = row_checks._RowChecker._make_check_batch
    monkeypatch.setattr(row_checks._RowChecker, "_make_check_batch",
                        lambda self, *args: (original(self, *args), lambda numbers, rows: None)[1])


def test_batch_path_stores_what_the_row_path_stores(db, tmp_path, small_batches, monkeypatch):
    path = write_csv(tmp_path / "cases.csv", ROWS)
    batched = import_file(path)
    row_by_row_only(monkeypatch)
    by_row = import_file(path)
    assert batched[1] == by_row[1] and batched[2] == by_row[2] == ["Source", "Column 6", "Notes"]
    assert batched[0].rows == 8 and batched[0].fingerprint == by_row[0].fingerprint
    assert batched[1][0] == ("R1", dt.date(2024, 3, 1), "PC 1", "high", "", "", {"Notes": "café", "Source": "Niche"})
    assert batched[1][2][-1] == {"Column 6": "kept", "Source": "Athena"}


def test_batches_with_problems_go_row_by_row_and_skip_only_the_bad_rows(db, tmp_path, small_batches, monkeypatch):
    path = write_csv(tmp_path / "cases.csv", ROWS + INVALID)
    batched = import_file(path, skip_invalid=True)
    assert [(p.row, p.column) for p in batched[0].skipped] == [(11, "Crime Ref"), (12, "Date Recorded"), (13, "OIC")]
    row_by_row_only(monkeypatch)
    by_row = import_file(path, skip_invalid=True)
    assert batched[1] == by_row[1] and len(batched[1]) == 8


def test_a_reference_repeated_in_a_later_clean_looking_batch_is_refused(db, tmp_path, small_batches):
    path = write_csv(tmp_path / "cases.csv", ROWS + [["R1", "01/03/2024", "", "", "", "", ""]])
    with pytest.raises(ImportProblems, match=r"row 11, column 'Crime Ref': repeats reference 'R1' from row 2 "):
        import_file(path)
    assert m.Population.select().count() == 0


def test_an_unreadable_row_in_a_later_batch_is_named(sqlite_db, tmp_path, small_batches):
    path = tmp_path / "cases.csv"
    write_csv(path, ROWS)
    with open(path, "a", encoding="utf-8", newline="") as handle:
        handle.write('R9,01/03/2024,,,,,"a quote opened and never closed\r\nR10,01/03/2024,,,,,\r\n')
    with pytest.raises(QattError, match=r"cases.csv, row 11, column '[^']+': cannot read the CSV: a quoted cell"):
        import_file(path)


@pytest.mark.parametrize("batch_rows", [importing.BATCH_ROWS, 1_000])
def test_the_batch_size_changes_nothing_stored_or_reported(db, tmp_path, monkeypatch, batch_rows):
    """A file over several default batches gives the same cases, fingerprint and problems (by row)
    whatever the batch size (it was 1,000 rows; smaller batches are only faster)."""
    monkeypatch.setattr(importing, "BATCH_ROWS", batch_rows)
    rows = [[f"R{n}", "01/03/2024", f"PC {n % 7}", "high", "Niche", "", f"note {n}"] for n in range(1, 1_201)]
    path = write_csv(tmp_path / "cases.csv", rows)
    result, cases, _extra = import_file(path)
    assert result.rows == 1_200 and cases == sorted(
        (f"R{n}", dt.date(2024, 3, 1), f"PC {n % 7}", "high", "", "", {"Notes": f"note {n}", "Source": "Niche"})
        for n in range(1, 1_201))
    assert result.fingerprint == fingerprint_references(r[0] for r in rows)
    bad = rows[:450] + [["R3", "02/03/2024", "PC 1", "", "", "", ""], ["R9999", "31/02/2024", "", "", "", "", ""]] \
        + rows[450:]
    with pytest.raises(ImportProblems) as refused:
        import_file(write_csv(tmp_path / "bad.csv", bad))
    assert [(p.row, p.column, p.message) for p in refused.value.problems] == [
        (452, "Crime Ref", "repeats reference 'R3' from row 4 (with different values)"),
        (453, "Date Recorded",
         "'31/02/2024' is not a date (expected dd/mm/yyyy, yyyy-mm-dd or a month such as 2024-03 or Mar 2024)")]
