"""Importing case-list extracts: formats, validation, all-or-nothing, bulk writing on both backends."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import sqlite3

import openpyxl
import psycopg2
import pytest

from qatt.intake import case_writer, importing
from qatt.trust import audit
from qatt.errors import Cancelled, QattError
from qatt.intake.fingerprint import fingerprint_references
from qatt.intake.importing import ImportProblems, Problem, parse_date
from qatt.progress import CancelToken
from qatt.storage import models as m
from qatt.storage.db import is_sqlite

HEADER = ["Crime Ref", "Date Recorded", "Category", "OIC", "Status", "Notes"]
GOOD_ROWS = [
    ["DE/24/000001", "01/03/2024", "Domestic abuse referrals", "PC 1 Ashford", "open", "café £5"],
    ["DE/24/000002", "2024-03-02", "Missing children", "PC 2 Calder", "filed", ""],
    ["DE/24/000003", "3/4/24", "Section 47 enquiries", "", "finalised", "note"],
]


def write_csv(path, rows, encoding="utf-8", delimiter=","):
    with open(path, "w", newline="", encoding=encoding) as fh:
        csv.writer(fh, delimiter=delimiter).writerows(rows)
    return path


def write_xlsx(path, sheets):
    """sheets: {title: rows}; the first one is the first sheet."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def cases(population_id):
    return list(m.Case.select().where(m.Case.population == population_id).order_by(m.Case.reference))


def nothing_written():
    return m.Population.select().count() == 0 and m.Case.select().count() == 0


# --- reading -----------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_preview_detects_encoding_and_delimiter_and_reads_text_exactly(tmp_path, encoding, delimiter):
    path = write_csv(tmp_path / "cases.csv", [HEADER] + GOOD_ROWS, encoding, delimiter)
    result = importing.preview(path)
    assert result.headers == HEADER
    assert result.rows[0][-1] == "café £5"
    assert result.delimiter == delimiter
    assert result.encoding == encoding
    assert result.suggested_mapping == {"reference": "Crime Ref", "recorded_date": "Date Recorded",
                                        "area": "Category", "officer": "OIC", "status": "Status"}


def test_preview_returns_at_most_the_requested_rows(tmp_path):
    path = write_csv(tmp_path / "cases.csv", [HEADER] + GOOD_ROWS)
    assert len(importing.preview(path, rows=2).rows) == 2


@pytest.mark.parametrize("encoding,delimiter", [("cp1252", ";"), ("utf-8-sig", "\t")])
def test_import_stores_every_field_dates_as_dates_and_unmapped_columns_in_extra(db, tmp_path, encoding, delimiter):
    path = write_csv(tmp_path / "cases.csv", [HEADER] + GOOD_ROWS, encoding, delimiter)
    result = importing.import_population(path, name="March", actor="lead")
    assert result.rows == 3 and result.skipped == []
    first, second, third = cases(result.population_id)
    assert (first.reference, first.recorded_date, first.area, first.officer, first.status) == (
        "DE/24/000001", dt.date(2024, 3, 1), "Domestic abuse referrals", "PC 1 Ashford", "open")
    assert first.extra == {"Notes": "café £5"}
    assert second.extra is None  # empty extra cells are not stored
    assert third.recorded_date == dt.date(2024, 4, 3) and third.officer == ""  # empty text stays '' (PG COPY too)
    population = m.Population.get_by_id(result.population_id)
    assert population.row_count == 3
    assert population.extra_columns == ["Notes"]
    assert population.fingerprint == result.fingerprint == fingerprint_references(r[0] for r in GOOD_ROWS)
    assert population.mapping["reference"] == "Crime Ref"


def test_import_records_a_collection_event_without_case_content(db, tmp_path):
    path = write_csv(tmp_path / "cases.csv", [HEADER] + GOOD_ROWS)
    result = importing.import_population(path, name="March", actor="lead")
    event = m.AuditEvent.select().where(m.AuditEvent.action == audit.COLLECTION).get()
    assert (event.actor, event.object_type, event.object_id) == ("lead", "population", str(result.population_id))
    assert event.details["rows"] == 3 and event.details["fingerprint"] == result.fingerprint
    assert event.details["file"] == "cases.csv"
    text = json.dumps(event.details)
    assert "DE/24" not in text and "Ashford" not in text and "café" not in text
    assert audit.verify_chain().ok


def test_xlsx_reads_the_first_sheet_with_native_dates_and_numeric_references(db, tmp_path):
    path = write_xlsx(tmp_path / "cases.xlsx", {
        "Extract": [["Case Number", "Created", "Team"],
                    [12345, dt.datetime(2024, 3, 1, 9, 30), "North CID"],
                    ["DE/2", dt.date(2024, 2, 29), "South CID"],
                    ["DE/3", "15/01/2024", None]],
        "Notes": [["nothing", "here"]],
    })
    result = importing.import_population(path, name="xlsx", actor="lead")
    rows = {c.reference: (c.recorded_date, c.team) for c in cases(result.population_id)}
    assert rows == {"12345": (dt.date(2024, 3, 1), "North CID"), "DE/2": (dt.date(2024, 2, 29), "South CID"),
                    "DE/3": (dt.date(2024, 1, 15), "")}


def test_xlsx_native_dates_are_accepted_whatever_the_text_date_format(db, tmp_path):
    path = write_xlsx(tmp_path / "cases.xlsx", {"S": [["Ref", "Recorded"], ["A", dt.date(2024, 5, 6)]]})
    result = importing.import_population(path, name="x", actor="lead", date_format="dd/mm/yyyy")
    assert cases(result.population_id)[0].recorded_date == dt.date(2024, 5, 6)


def test_xlsx_named_sheet_is_read_and_sheets_are_listed(db, tmp_path):
    path = write_xlsx(tmp_path / "cases.xlsx", {"Summary": [["Total", 2]],
                                               "Cases": [["URN", "Area"], ["U1", "Missing children"], ["U2", ""]]})
    assert importing.preview(path, sheet="Cases").sheets == ["Summary", "Cases"]
    result = importing.import_population(path, name="x", actor="lead", sheet="Cases")
    assert [c.reference for c in cases(result.population_id)] == ["U1", "U2"]


def test_xlsx_row_numbers_match_excel_when_the_table_starts_lower_down(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["B3"], sheet["C3"] = "Ref", "Recorded"
    sheet["B4"], sheet["C4"] = "A", "bad"
    sheet["C5"] = "01/01/2024"
    book.save(tmp_path / "cases.xlsx")
    problems = importing.check_file(tmp_path / "cases.xlsx", None)
    assert [(p.row, p.column) for p in problems] == [(4, "Recorded"), (5, "Ref")]


def test_unknown_sheet_names_the_sheets_there_are(tmp_path):
    path = write_xlsx(tmp_path / "cases.xlsx", {"Cases": [["URN"], ["U1"]]})
    with pytest.raises(QattError, match="no sheet called 'Missing'.*'Cases'"):
        importing.preview(path, sheet="Missing")


def test_row_numbers_match_excel_when_a_quoted_cell_spans_lines(sqlite_db, tmp_path):
    path = write_csv(tmp_path / "cases.csv", [["Ref", "Summary"], ["A", "line one\nline two"], ["", "x"]])
    problems = importing.check_file(path, {"reference": "Ref", "summary": "Summary"})
    assert [(p.row, p.column) for p in problems] == [(3, "Ref")]


def test_blank_rows_are_not_cases(db, tmp_path):
    path = write_csv(tmp_path / "cases.csv", [["Ref", "Team"], ["A", "x"], ["", ""], [], ["B", "y"], ["", ""]])
    assert importing.import_population(path, name="x", actor="lead").rows == 2


def test_blank_header_columns_are_only_kept_when_they_hold_values(db, tmp_path):
    path = write_csv(tmp_path / "cases.csv", [["Ref", "", "", "Notes"], ["A", "", "kept", "n"]])
    result = importing.import_population(path, name="x", actor="lead")
    assert m.Population.get_by_id(result.population_id).extra_columns == ["Column 3", "Notes"]


# --- dates -------------------------------------------------------------------------------------


@pytest.mark.parametrize("text,expected", [
    ("01/03/2024", dt.date(2024, 3, 1)),
    ("1/3/24", dt.date(2024, 3, 1)),
    ("01-03-2024", dt.date(2024, 3, 1)),
    ("01.03.2024", dt.date(2024, 3, 1)),
    ("01/03/2024 14:05", dt.date(2024, 3, 1)),
    ("01/03/2024 14:05:59", dt.date(2024, 3, 1)),
    ("2024-03-01", dt.date(2024, 3, 1)),
    ("2024-03-01T14:05:00", dt.date(2024, 3, 1)),
    ("2024-03-01 14:05:00.123", dt.date(2024, 3, 1)),
    ("31/12/99", dt.date(1999, 12, 31)),
    (" 29/02/2024 ", dt.date(2024, 2, 29)),
])
def test_uk_and_iso_dates_are_read_day_first(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["03/13/2024", "31/02/2024", "29/02/2023", "2024-13-01", "01/03/2024 25:00",
                                  "01/03-2024", "March 1 2024", "", "45352", "1/3"])
def test_impossible_or_american_dates_are_not_dates(text):
    assert parse_date(text) is None


def test_an_explicit_date_format_accepts_only_that_format():
    assert parse_date("2024-03-01", "dd/mm/yyyy") is None
    assert parse_date("01/03/2024", "yyyy-mm-dd") is None
    assert parse_date("01/03/2024", "dd/mm/yyyy") == dt.date(2024, 3, 1)


# --- validation --------------------------------------------------------------------------------


BAD_ROWS = [
    ["Crime Ref", "Date Recorded", "OIC"],
    ["DE/1", "01/03/2024", "PC A"],       # row 2: fine
    ["DE/2", "31/02/2024", "PC B"],       # row 3: no such date
    ["", "01/03/2024", "PC C"],           # row 4: empty reference
    ["DE/1", "02/03/2024", "PC D"],       # row 5: duplicate of row 2
    ["DE/5", "", "PC E"],                 # row 6: empty date
    ["DE/6", "06/03/2024", "PC F"],       # row 7: fine
]


def test_check_file_reports_each_problem_with_file_row_and_column_and_writes_nothing(db, tmp_path):
    path = write_csv(tmp_path / "cases.csv", BAD_ROWS)
    problems = importing.check_file(path, None)
    assert [(p.file, p.row, p.column) for p in problems] == [
        ("cases.csv", 3, "Date Recorded"), ("cases.csv", 4, "Crime Ref"), ("cases.csv", 5, "Crime Ref"),
        ("cases.csv", 6, "Date Recorded")]
    assert str(problems[0]) == ("cases.csv, row 3, column 'Date Recorded': '31/02/2024' is not a date "
                                "(expected dd/mm/yyyy, yyyy-mm-dd or a month such as 2024-03 or Mar 2024)")
    assert problems[2].message.startswith("repeats reference ") and " from row 2 " in problems[2].message
    assert nothing_written()


def test_invalid_rows_without_skip_import_nothing_and_list_the_problems(db, tmp_path):
    path = write_csv(tmp_path / "cases.csv", BAD_ROWS)
    with pytest.raises(ImportProblems) as caught:
        importing.import_population(path, name="x", actor="lead")
    assert len(caught.value.problems) == 4
    message = str(caught.value)
    assert "4 problem(s) in 4 row(s); nothing was imported" in message
    assert "cases.csv, row 5, column 'Crime Ref'" in message and "--skip-invalid" in message
    assert nothing_written()
    assert m.AuditEvent.select().count() == 0


def test_skip_invalid_leaves_the_bad_rows_out_and_lists_them(db, tmp_path):
    path = write_csv(tmp_path / "cases.csv", BAD_ROWS)
    result = importing.import_population(path, name="x", actor="lead", skip_invalid=True)
    assert [c.reference for c in cases(result.population_id)] == ["DE/1", "DE/6"]
    assert [p.row for p in result.skipped] == [3, 4, 5, 6] and result.skipped_rows == 4
    assert result.fingerprint == fingerprint_references(["DE/1", "DE/6"])


def test_a_reference_repeated_after_a_rejected_row_is_still_a_duplicate(sqlite_db, tmp_path):
    path = write_csv(tmp_path / "cases.csv", [["Ref", "Recorded"], ["A", "bad"], ["A", "01/01/2024"], ["B", "01/01/2024"]])
    result = importing.import_population(path, name="x", actor="lead", skip_invalid=True)
    assert [c.reference for c in cases(result.population_id)] == ["B"]
    assert [p.row for p in result.skipped] == [2, 3]


def test_the_error_message_shows_the_first_twenty_problems_and_the_count(sqlite_db, tmp_path):
    path = write_csv(tmp_path / "cases.csv", [["Ref", "Team"]] + [["", "North"]] * 25 + [["A", "North"]])
    with pytest.raises(ImportProblems) as caught:
        importing.import_population(path, name="x", actor="lead")
    lines = str(caught.value).splitlines()
    assert sum(line.startswith("cases.csv, row") for line in lines) == 20
    assert "... and 5 more." in lines


def test_missing_reference_column_is_refused_naming_the_columns(db, tmp_path):
    path = write_csv(tmp_path / "cases.csv", [["Officer", "Team"], ["PC A", "North"]])
    with pytest.raises(QattError, match="required field 'Case reference'.*'Officer', 'Team'"):
        importing.import_population(path, name="x", actor="lead")
    assert nothing_written()


def test_a_mapping_naming_a_column_the_file_lacks_is_refused(sqlite_db, tmp_path):
    path = write_csv(tmp_path / "cases.csv", [["Ref"], ["A"]])
    with pytest.raises(QattError, match="no column for recorded_date -> 'Date'"):
        importing.import_population(path, name="x", actor="lead", mapping={"reference": "Ref", "recorded_date": "Date"})


def test_values_too_long_for_the_field_are_problems_not_database_errors(db, tmp_path):
    path = write_csv(tmp_path / "cases.csv", [["Ref", "Risk", "Summary"], ["A", "x" * 101, "y" * 5000]])
    problems = importing.check_file(path, None)
    assert [(p.row, p.column) for p in problems] == [(2, "Risk")]
    assert "longer than 100 characters" in problems[0].message


def test_a_row_with_more_values_than_headers_is_a_problem(sqlite_db, tmp_path):
    path = write_csv(tmp_path / "cases.csv", [["Ref", "Team"], ["A", "North", "spill"], ["B", "South", ""]])
    problems = importing.check_file(path, None)
    assert [(p.row, p.column) for p in problems] == [(2, "")]
    assert str(problems[0]).startswith("cases.csv, row 2: has 3 values but the header row has 2 columns")


def test_duplicate_headers_are_refused(tmp_path):
    path = write_csv(tmp_path / "cases.csv", [["Ref", "Team", "Team"], ["A", "x", "y"]])
    with pytest.raises(QattError, match="columns 2 and 3 are both called 'Team'"):
        importing.preview(path)


@pytest.mark.parametrize("content", [b"", b"\n\n"])
def test_an_empty_file_is_refused(tmp_path, content):
    path = tmp_path / "cases.csv"
    path.write_bytes(content)
    with pytest.raises(QattError, match="is empty"):
        importing.preview(path)


def test_a_header_without_rows_imports_nothing(db, tmp_path):
    path = write_csv(tmp_path / "cases.csv", [["Ref"]])
    with pytest.raises(QattError, match="no valid case rows"):
        importing.import_population(path, name="x", actor="lead")
    assert nothing_written()


def test_a_missing_file_is_a_user_error(tmp_path):
    with pytest.raises(QattError, match="does not exist"):
        importing.preview(tmp_path / "nope.csv")


# --- all or nothing ----------------------------------------------------------------------------


def many_rows(tmp_path, n=95):
    return write_csv(tmp_path / "cases.csv", [["Ref", "Recorded"]] + [[f"R{i}", "01/01/2024"] for i in range(n)])


def wrap_case_writer(monkeypatch, wrap):
    """Route every batch the importer writes through wrap(real_write)."""
    real = case_writer._case_writer

    @contextlib.contextmanager
    def patched(db):
        with real(db) as write:
            yield wrap(write)

    monkeypatch.setattr(importing, "_case_writer", patched)  # where importing._load_cases looks it up


def test_cancel_midway_leaves_no_population_and_no_cases(db, tmp_path, monkeypatch):
    monkeypatch.setattr(importing, "BATCH_ROWS", 10)
    token = CancelToken()
    written = []

    def write_then_cancel(write):
        def batch_then_cancel(batch):
            write(batch)
            written.append(len(batch))
            token.cancel()
        return batch_then_cancel

    wrap_case_writer(monkeypatch, write_then_cancel)
    with pytest.raises(Cancelled):
        importing.import_population(many_rows(tmp_path, 500), name="x", actor="lead", cancel=token)
    assert written and sum(written) < 500  # rows really were written before the cancel
    assert nothing_written()


def test_a_database_failure_midway_leaves_nothing(db, tmp_path, monkeypatch):
    monkeypatch.setattr(importing, "BATCH_ROWS", 10)
    calls = []

    def fail_on_third_batch(write):
        def batch_or_fail(batch):
            calls.append(1)
            if len(calls) == 3:
                raise OSError("disk full")
            write(batch)
        return batch_or_fail

    wrap_case_writer(monkeypatch, fail_on_third_batch)
    with pytest.raises(OSError, match="disk full"):
        importing.import_population(many_rows(tmp_path), name="x", actor="lead")
    assert nothing_written()


def test_an_error_from_the_database_itself_leaves_nothing(db, tmp_path, monkeypatch):
    """The database refuses a batch (here: a reference repeated, which the checker would have
    caught); on PostgreSQL that error comes from the COPY's own thread and must still surface."""
    monkeypatch.setattr(importing, "BATCH_ROWS", 10)

    def repeat_a_row(write):
        def batch_with_a_repeat(batch):
            write(batch + batch[:1])
        return batch_with_a_repeat

    wrap_case_writer(monkeypatch, repeat_a_row)
    with pytest.raises(sqlite3.IntegrityError if is_sqlite(db) else psycopg2.errors.UniqueViolation):
        importing.import_population(many_rows(tmp_path), name="x", actor="lead")
    assert nothing_written()


def test_progress_is_reported_up_to_the_whole_file(sqlite_db, tmp_path, monkeypatch):
    monkeypatch.setattr(importing, "BATCH_ROWS", 10)
    seen = []
    path = many_rows(tmp_path)
    importing.import_population(path, name="x", actor="lead", progress=lambda d, t, msg: seen.append((d, t)))
    assert len(seen) >= 9
    assert seen[-1] == (path.stat().st_size, path.stat().st_size)


def test_a_large_import_in_many_batches_keeps_every_row(db, tmp_path, monkeypatch):
    monkeypatch.setattr(importing, "BATCH_ROWS", 7)
    result = importing.import_population(many_rows(tmp_path, 100), name="x", actor="lead")
    assert m.Case.select().where(m.Case.population == result.population_id).count() == 100


def test_importing_the_same_file_again_is_refused_naming_the_existing_population(db, tmp_path):
    path = write_csv(tmp_path / "cases.csv", [HEADER] + GOOD_ROWS)
    a = importing.import_population(path, name="a", actor="lead")
    with pytest.raises(importing.DuplicatePopulation, match=rf"same cases as population {a.population_id} \('a'") as caught:
        importing.import_population(path, name="b", actor="lead")
    assert caught.value.existing_id == a.population_id and "--allow-duplicate" in str(caught.value)
    assert m.Population.select().count() == 1 and m.Case.select().count() == 3


def test_allow_duplicate_makes_a_second_population_with_the_same_fingerprint(db, tmp_path):
    path = write_csv(tmp_path / "cases.csv", [HEADER] + GOOD_ROWS)
    a = importing.import_population(path, name="a", actor="lead")
    b = importing.import_population(path, name="b", actor="lead", allow_duplicate=True)
    assert a.population_id != b.population_id and a.fingerprint == b.fingerprint
    assert m.Case.select().count() == 6


def test_problem_as_dict_carries_every_field():
    problem = Problem("f.csv", 3, "Ref", "bad")
    assert problem.as_dict() == {"file": "f.csv", "row": 3, "column": "Ref", "message": "bad"}
    assert str(Problem("f.csv", 3, "", "bad")) == "f.csv, row 3: bad"


def test_an_unreadable_csv_row_is_a_user_error_naming_the_row(sqlite_db, tmp_path):
    path = write_csv(tmp_path / "cases.csv", [["Ref", "Summary"], ["A", "fine"], ["B", "x" * 1_000_001]])
    with pytest.raises(QattError, match=r"cases.csv, row 3, column 'Summary': a cell holds more than 1,000,000"):
        importing.import_population(path, name="x", actor="lead")
    assert nothing_written()
