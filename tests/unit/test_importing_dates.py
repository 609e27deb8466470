"""Dates and cells as they come back from Excel and source systems: months written "Nov-16", a
workbook month column (first-of-month dates), placeholder dates, timestamps with an offset, and
CSV cells written as ="000123"."""

from __future__ import annotations

import calendar
import datetime as dt
import json

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qatt.cli import main
from qatt.intake import extract_dates, extract_tables, importing
from qatt.intake.fingerprint import fingerprint_references
from qatt.intake.importing import ImportProblems
from qatt.storage import models as m


def imported(path, **options):
    return importing.import_population(path, name="x", actor="lead", **options)


def stored(population_id):
    return {c.reference: c for c in m.Case.select().where(m.Case.population == population_id)}


def nothing_written():
    return m.Population.select().count() == 0 and m.Case.select().count() == 0


@pytest.fixture
def lead(db):
    from qatt.trust import users

    users.ensure_user("lead", "qa_lead")
    return "lead"


# --- months as Excel writes them back: "Nov-16" --------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("Nov-16", dt.date(2016, 11, 1)), ("Mar-24", dt.date(2024, 3, 1)), ("nov-16", dt.date(2016, 11, 1)),
    ("November-16", dt.date(2016, 11, 1)), ("Sept-16", dt.date(2016, 9, 1)), ("Jan-68", dt.date(2068, 1, 1)),
    ("Dec-69", dt.date(1969, 12, 1)), ("Nov-2016", dt.date(2016, 11, 1)),
    ("16-Nov", None), ("Nov 16", None), ("Nov-1", None), ("Nov-016", None), ("Novem-16", None), ("11-16", None)])
def test_excel_month_forms_read_as_months_and_day_month_forms_do_not(text, expected):
    assert extract_dates.parse_month(text) == expected
    assert extract_dates.parse_day(text) is None  # never a whole date either: "Nov-16" is not 16 November


@given(st.dates(min_value=dt.date(1969, 1, 1), max_value=dt.date(2068, 12, 31)),
       st.sampled_from(["{abbr}-{yy:02d}", "{name}-{yy:02d}", "{upper}-{yy:02d}"]))
def test_property_mmm_yy_reads_back_as_its_month_by_the_two_digit_year_rule(day, form):
    text = form.format(yy=day.year % 100, abbr=calendar.month_abbr[day.month], name=calendar.month_name[day.month],
                       upper=calendar.month_abbr[day.month].upper())
    assert extract_dates.parse_case_date(text) == (day.replace(day=1), "month")
    assert extract_dates.parse_case_date(text, "dd/mm/yyyy") is None  # an explicit day format never reads months
    # Excel's day-month form of the same cell ("16-Nov") is no month and no date.
    assert extract_dates.parse_case_date(f"{day.day}-{calendar.month_abbr[day.month]}") is None


def test_a_csv_month_column_saved_by_excel_imports_with_month_precision(db, tmp_path):
    path = tmp_path / "street.csv"
    path.write_text("Crime ID,Month\nA1,Nov-16\nA2,Mar-24\n", encoding="utf-8")
    result = imported(path)
    assert result.date_precision == "month"
    assert {r: c.recorded_date for r, c in stored(result.population_id).items()} == {
        "A1": dt.date(2016, 11, 1), "A2": dt.date(2024, 3, 1)}


# --- a workbook month column: first-of-month dates formatted mmm-yy -----------------------------


def month_workbook(path, days, number_format="mmm-yy"):
    """A sheet whose Month column holds native dates shown as months, as Excel keeps them."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Crime ID", "Month"])
    for i, day in enumerate(days, start=1):
        sheet.append([f"W{i}", day])
        sheet.cell(sheet.max_row, 2).number_format = number_format
    book.save(path)
    return path


def test_calamine_gives_no_number_formats_so_a_workbook_month_column_reads_as_days_by_default(db, tmp_path):
    """The documented limit: python-calamine returns the dates, not how they are shown."""
    path = month_workbook(tmp_path / "months.xlsx", [dt.date(2016, 11, 1), dt.date(2016, 12, 1)])
    assert imported(path).date_precision == "day"


def test_date_precision_month_stores_a_workbook_month_column_as_months_and_ranges_include_them(lead, tmp_path):
    from qatt.selection import sampling

    path = month_workbook(tmp_path / "months.xlsx", [dt.date(2016, 11, 1)] * 3 + [dt.date(2016, 12, 1)])
    result = imported(path, date_precision="month")
    assert result.date_precision == "month"
    population = m.Population.get_by_id(result.population_id)
    assert population.import_options["date_precision"] == "month"
    assert population.import_options["date_precision_option"] == "month"
    # A range in the second half of November holds the November cases.
    request = sampling.SampleRequest(result.population_id, size=2, seed=7, date_from="2016-11-15",
                                     date_to="2016-11-30", period="2016-11")
    drawn = sampling.draw_sample(request, lead)
    assert drawn.eligible_count == 3 and drawn.date_precision == "month"
    assert sampling.verify_sample(drawn.sample_id, lead).verified


def test_date_precision_month_refuses_a_date_that_is_not_the_first_naming_row_and_column(db, tmp_path):
    path = month_workbook(tmp_path / "months.xlsx", [dt.date(2016, 11, 1), dt.date(2016, 11, 15)])
    with pytest.raises(ImportProblems, match=r"months.xlsx, row 3, column 'Month': '2016-11-15' is not the first "
                                             r"of a month, but the dates were to be read as months"):
        imported(path, date_precision="month")
    assert nothing_written()


def test_date_precision_month_reads_csv_months_and_first_of_month_dates_alike(db, tmp_path):
    path = tmp_path / "months.csv"
    path.write_text("Ref,Date Recorded\nA,01/11/2016\nB,Nov 2016\nC,2016-12-01\n", encoding="utf-8")
    result = imported(path, date_precision="month")
    assert result.date_precision == "month"
    assert {c.recorded_date for c in stored(result.population_id).values()} == {dt.date(2016, 11, 1),
                                                                                  dt.date(2016, 12, 1)}


def test_cli_date_precision_month(db, tmp_path, capsys):
    path = month_workbook(tmp_path / "months.xlsx", [dt.date(2016, 11, 1)])
    assert main(["--db", db.qatt_url, "--json", "import", str(path), "--date-precision", "month"]) == 0
    assert json.loads(capsys.readouterr().out)["date_precision"] == "month"


def test_an_unknown_date_precision_is_refused(db, tmp_path):
    path = month_workbook(tmp_path / "months.xlsx", [dt.date(2016, 11, 1)])
    with pytest.raises(importing.QattError, match="Unknown date precision 'week'"):
        imported(path, date_precision="week")


# --- placeholder and implausible dates -----------------------------------------------------------


def test_placeholder_dates_are_refused_naming_file_row_column_and_value(db, tmp_path):
    far = (dt.date.today() + dt.timedelta(days=400)).strftime("%d/%m/%Y")
    path = tmp_path / "cases.csv"
    path.write_text("Ref,Date Recorded\nA,31/12/1899\nB,01/01/0001\nC,01/01/9999\nD,01/01/1900\nE,01/03/2024\n"
                    f"F,{far}\nG,1753-01-01\n", encoding="utf-8")
    with pytest.raises(ImportProblems) as caught:
        imported(path)
    assert nothing_written()
    problems = caught.value.problems
    assert [(p.file, p.row, p.column) for p in problems] == [("cases.csv", row, "Date Recorded")
                                                              for row in (2, 3, 4, 5, 7, 8)]
    assert problems[0].message.startswith("'31/12/1899' looks like a placeholder for a missing date")
    assert f"'{far}' looks like a placeholder" in problems[4].message
    assert "accepted from 1900-01-02 to" in str(caught.value)


def test_skip_invalid_leaves_placeholder_rows_out_and_lists_them(db, tmp_path):
    path = tmp_path / "cases.csv"
    path.write_text("Ref,Date Recorded\nA,31/12/1899\nB,01/03/2024\nC,9999-12-31\n", encoding="utf-8")
    result = imported(path, skip_invalid=True)
    assert set(stored(result.population_id)) == {"B"}
    assert [(p.row, "placeholder" in p.message) for p in result.skipped] == [(2, True), (4, True)]


def test_a_workbook_placeholder_date_is_refused_too(db, tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["Ref", "Date Recorded"])
    book.active.append(["A", dt.date(9999, 12, 31)])
    book.active.append(["B", dt.date(2024, 3, 1)])
    book.save(tmp_path / "cases.xlsx")
    with pytest.raises(ImportProblems, match=r"row 2, column 'Date Recorded': '9999-12-31' looks like a placeholder"):
        imported(tmp_path / "cases.xlsx")


def test_the_plausible_range_runs_from_2_january_1900_to_a_year_after_today():
    dates = extract_dates.CaseDates(today=dt.date(2024, 2, 29))
    assert dates.latest == dt.date(2025, 2, 28)
    assert dates.read("01/01/1900") is None and dates.read("02/01/1900") == (dt.date(1900, 1, 2), "day")
    assert dates.read("28/02/2025") == (dt.date(2025, 2, 28), "day") and dates.read("01/03/2025") is None
    assert dates.read("Jan 1900") is None and dates.read("Feb 2025") == (dt.date(2025, 2, 1), "month")


# --- timestamps with an offset: the day in the UK ------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("2024-06-30T23:30:00Z", dt.date(2024, 7, 1)),            # 00:30 BST on 1 July
    ("2024-06-30T23:30:00+05:00", dt.date(2024, 6, 30)),      # 19:30 BST
    ("2024-07-01T00:30:00+02:00", dt.date(2024, 6, 30)),      # 23:30 BST
    ("2024-06-30 22:59:59+0000", dt.date(2024, 6, 30)),       # 23:59:59 BST
    ("2024-12-31T23:30:00Z", dt.date(2024, 12, 31)),          # GMT in winter
    ("2024-12-31T23:30:00-01:00", dt.date(2025, 1, 1)),
    ("2024-03-31T00:30:00.250Z", dt.date(2024, 3, 31)),       # the night the clocks go forward
    ("2024-06-30T23:30:00", dt.date(2024, 6, 30)),            # no offset: the date as written
    ("2024-06-30T23:30:00+24:00", None), ("2024-02-30T10:00:00Z", None)])
def test_an_iso_timestamp_with_an_offset_is_the_date_in_the_uk(text, expected):
    assert extract_dates.parse_day(text) == expected


def test_a_utc_timestamp_column_imports_as_uk_dates(db, tmp_path):
    path = tmp_path / "cases.csv"
    path.write_text("Ref,Date Recorded\nA,2024-06-30T23:30:00Z\nB,2024-06-30T23:30:00+05:00\n", encoding="utf-8")
    result = imported(path)
    assert {r: c.recorded_date for r, c in stored(result.population_id).items()} == {
        "A": dt.date(2024, 7, 1), "B": dt.date(2024, 6, 30)}


# --- CSV cells written ="..." ---------------------------------------------------------------------


@pytest.mark.parametrize("cell, expected", [
    ('="000123"', "000123"), (' ="000123" ', "000123"), ('="a""b"', 'a"b'), ('=""', ""),
    ('="1"&"2"', '="1"&"2"'), ("=A1", "=A1"), ('x="1"', 'x="1"'), ('="open', '="open'), ("000123", "000123")])
def test_formula_text_reads_only_a_whole_cell_of_one_quoted_string(cell, expected):
    assert extract_tables.formula_text(cell) == expected


def test_csv_cells_written_as_text_formulas_are_stored_as_their_text_in_every_column(db, tmp_path):
    path = tmp_path / "cases.csv"
    # The first row as a hand-written file has it, the second as Excel quotes it when saving.
    path.write_text('Crime Ref,Date Recorded,Team,Beat\n="000123",="01/03/2024",="A",="07"\n'
                    '"=""000124""",01/03/2024,B,"=""08"""\n', encoding="utf-8")
    assert importing.preview(path).rows[0] == ["000123", "01/03/2024", "A", "07"]
    result = imported(path)
    cases = stored(result.population_id)
    assert set(cases) == {"000123", "000124"}
    assert (cases["000123"].team, cases["000123"].recorded_date) == ("A", dt.date(2024, 3, 1))
    assert cases["000124"].extra == {"Beat": "08"}
    # The fingerprint is the documented rule over the references as stored.
    assert result.fingerprint == fingerprint_references(["000123", "000124"])
    assert m.Population.get_by_id(result.population_id).fingerprint == result.fingerprint


def test_a_population_stored_with_formula_references_still_draws_and_verifies(lead):
    """Populations imported before ="..." was read keep their references as stored; verification
    hashes the stored references, never the file, so their samples still verify."""
    from qatt.selection import sampling
    from tests.factories import make_population

    population = make_population(6, reference=lambda i: f'="{i:06d}"')
    population.fingerprint = fingerprint_references(f'="{i:06d}"' for i in range(1, 7))
    population.save()
    drawn = sampling.draw_sample(sampling.SampleRequest(population.id, size=3, seed=1), lead)
    assert sampling.verify_sample(drawn.sample_id, lead).verified


@pytest.mark.parametrize("chunk_bytes", [1, 2, 3, 1 << 20])
def test_a_text_formula_is_found_wherever_the_file_is_cut_into_chunks(db, tmp_path, monkeypatch, chunk_bytes):
    monkeypatch.setattr(extract_tables, "_SCAN_BYTES", chunk_bytes)
    path = tmp_path / "cases.csv"
    path.write_text('Ref,Team\nA,x=y\n="000123",B\n', encoding="utf-8")
    assert set(stored(imported(path).population_id)) == {"A", "000123"}
