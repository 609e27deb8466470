"""Real extracts: blank and repeated references, month-only dates, encodings, hostile and unreadable
files, re-imports. Most tests import tests/data/street_extract.csv (made by make_street_extract.py)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qatt.intake import case_writer, extract_dates, extract_files, importing
from qatt.cli import main
from qatt.errors import QattError
from qatt.intake.importing import GENERATED_PREFIX, ImportProblems
from qatt.storage import models as m
from tests.data import make_street_extract as street

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "street_extract.csv"


def street_file(tmp_path, stray_byte=False):
    return street.write(tmp_path / "street.csv", stray_byte)


def imported(path, **options):
    options.setdefault("allow_duplicate", True)
    return importing.import_population(path, name="Street", actor="lead", **options)


def case_rows(population_id):
    return {c.reference: c for c in m.Case.select().where(m.Case.population == population_id)}


def test_the_committed_fixture_is_what_the_generator_makes():
    assert FIXTURE.read_bytes() == street.extract_bytes()


def test_by_default_blank_and_repeated_references_are_refused_naming_both_rows(db, tmp_path):
    with pytest.raises(ImportProblems) as caught:
        imported(street_file(tmp_path))
    error = caught.value
    assert error.blank_references == street.ASB
    assert (error.exact_repeats, error.conflicting_repeats) == (street.EXACT_REPEATS, street.CONFLICTING_REPEATS)
    row, first = street.EXACT_REPEAT
    assert f"street.csv, row {row}, column 'Crime ID': repeats reference" in str(error)
    assert f"from row {first} (an exact repeat)" in str(error)
    assert f"from row {street.CONFLICTING_REPEAT[1]} (with different values)" in str(error)
    assert "--blank-references generate" in str(error) and "keep-first or keep-last" in str(error)
    assert m.Population.select().count() == 0 and m.Case.select().count() == 0


def test_generate_and_keep_first_keep_every_row_once_with_stable_generated_references(db, tmp_path):
    path = street_file(tmp_path)
    first = imported(path, blank_references="generate", duplicate_references="keep-first")
    second = imported(path, blank_references="generate", duplicate_references="keep-first")
    assert first.rows == second.rows == street.CASES_KEEPING_ONE_OF_EACH
    assert first.generated_references == street.ASB
    generated = sorted(ref for ref in case_rows(first.population_id) if ref.startswith(GENERATED_PREFIX))
    assert len(generated) == street.ASB == len(set(generated))  # identical ASB rows still differ
    assert generated == sorted(ref for ref in case_rows(second.population_id) if ref.startswith(GENERATED_PREFIX))
    assert first.fingerprint == second.fingerprint
    assert [(r.row, r.first_row, r.exact, r.kept) for r in first.repeats] == [
        (*street.EXACT_REPEAT, True, "first"), (*street.CONFLICTING_REPEAT, False, "first")]
    population = m.Population.get_by_id(first.population_id)
    assert population.import_options["generated_references"] == street.ASB
    assert population.import_options["blank_references"] == "generate"
    summary = "\n".join(first.summary_lines())
    assert f"{street.ASB} case(s) had no reference and were given a generated one" in summary
    assert "1 exact repeat(s), 1 with different values); the first row of each kept" in summary


def test_keep_last_stores_the_later_row_of_a_conflicting_repeat(db, tmp_path):
    path = street_file(tmp_path)
    rows = street.rows()
    later, earlier = rows[street.CONFLICTING_REPEAT[0] - 2], rows[street.CONFLICTING_REPEAT[1] - 2]
    reference = later[0]
    assert earlier[0] == reference and earlier[10] != later[10]
    kept_last = imported(path, blank_references="generate", duplicate_references="keep-last")
    kept_first = imported(path, blank_references="generate", duplicate_references="keep-first")
    outcome = "Last outcome category"
    assert case_rows(kept_last.population_id)[reference].extra[outcome] == later[10]
    assert case_rows(kept_first.population_id)[reference].extra[outcome] == earlier[10]
    assert kept_last.rows == kept_first.rows == street.CASES_KEEPING_ONE_OF_EACH


def test_month_column_is_the_case_date_with_month_precision(db, tmp_path):
    result = imported(street_file(tmp_path), blank_references="generate", duplicate_references="keep-first")
    assert result.mapping["recorded_date"] == "Month" and result.mapping["area"] == "Crime type"
    assert result.date_precision == "month"
    population = m.Population.get_by_id(result.population_id)
    assert population.import_options["date_precision"] == "month"
    assert {c.recorded_date for c in case_rows(result.population_id).values()} == {dt.date(2016, 11, 1)}
    assert "LSOA name" in population.extra_columns and "Last outcome category" in population.extra_columns


def test_long_references_are_kept_whole(db, tmp_path):
    result = imported(street_file(tmp_path), blank_references="generate", duplicate_references="keep-first")
    assert street.rows()[0][0] in case_rows(result.population_id)
    assert len(street.rows()[0][0]) == 64


def test_a_column_mixing_whole_dates_and_months_is_refused(db, tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text("Ref,Month\nA,2016-11\nB,03/11/2016\n", encoding="utf-8")
    with pytest.raises(ImportProblems, match=r"row 3, column 'Month': '03/11/2016' is a whole date, but row 2 gave "
                                             r"a month only"):
        imported(path)


@pytest.mark.parametrize("text, expected", [
    ("2016-11", dt.date(2016, 11, 1)), ("11/2016", dt.date(2016, 11, 1)), ("1/2016", dt.date(2016, 1, 1)),
    ("Nov 2016", dt.date(2016, 11, 1)), ("November 2016", dt.date(2016, 11, 1)), ("sept 2016", dt.date(2016, 9, 1)),
    ("2016-13", None), ("Novembre 2016", None), ("11/16", None), ("2016-11-03", None)])
def test_month_only_forms(text, expected):
    assert extract_dates.parse_month(text) == expected


@given(st.dates(min_value=dt.date(1000, 1, 1), max_value=dt.date(9999, 12, 31)),
       st.sampled_from(["{y:04d}-{m:02d}", "{y:04d}-{m}", "{m:02d}/{y:04d}", "{m}/{y:04d}", "{abbr} {y:04d}",
                        "{name} {y:04d}", "{upper} {y:04d}"]))
def test_property_every_month_form_reads_back_as_its_month_and_never_as_a_day(day, form):
    import calendar

    text = form.format(y=day.year, m=day.month, abbr=calendar.month_abbr[day.month],
                       name=calendar.month_name[day.month], upper=calendar.month_name[day.month].upper())
    assert extract_dates.parse_case_date(text) == (day.replace(day=1), "month")
    assert extract_dates.parse_case_date(text, "dd/mm/yyyy") is None  # an explicit day format never reads months
    assert extract_dates.show_date(day.replace(day=1), "month") == f"{calendar.month_abbr[day.month]} {day.year}"


# Each example imports new populations of its own, so sharing the database between examples is harmless.
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(real=st.lists(st.text(st.characters(min_codepoint=48, max_codepoint=122), min_size=1, max_size=12)
                     .filter(lambda s: s.strip() == s), unique=True, max_size=8),
       blanks=st.lists(st.sampled_from(["a", "b", "café"]), min_size=1, max_size=8))
def test_property_generated_references_are_stable_unique_and_never_a_real_one(sqlite_db, tmp_path_factory, real, blanks):
    folder = tmp_path_factory.mktemp("gen")
    lines = ["Ref,Note"] + [f"{ref},x" for ref in real] + [f",{note}" for note in blanks]
    path = folder / "cases.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    first = imported(path, blank_references="generate")
    second = imported(path, blank_references="generate")
    one, two = set(case_rows(first.population_id)), set(case_rows(second.population_id))
    assert one == two  # stable
    generated = one - set(real)
    assert len(generated) == len(blanks) and all(ref.startswith(GENERATED_PREFIX) for ref in generated)
    assert set(real) <= one  # real references kept as they are, none taken by a generated one


def test_a_real_reference_shaped_like_a_generated_one_is_refused_when_generating(db, tmp_path):
    path = tmp_path / "cases.csv"
    path.write_text(f"Ref,Note\n{GENERATED_PREFIX}0123456789ABCDEF,x\n,y\n", encoding="utf-8")
    with pytest.raises(ImportProblems, match="has the form QATT gives generated references"):
        imported(path, blank_references="generate")


# --- encodings ---------------------------------------------------------------------------------


def test_utf8_with_one_windows_1252_byte_is_refused_naming_the_line(db, tmp_path):
    with pytest.raises(QattError, match=rf"street.csv mixes encodings: line {street.STRAY_ROW} is not UTF-8, but "
                                        r"line \d+ holds UTF-8 characters"):
        imported(street_file(tmp_path, stray_byte=True), blank_references="generate")
    assert m.Population.select().count() == 0


def test_a_plain_windows_1252_file_is_read_as_such_and_says_why(db, tmp_path):
    path = tmp_path / "old.csv"
    path.write_bytes("Ref,Location\nA,Café Street\nB,Market\n".encode("cp1252"))
    result = imported(path)
    assert case_rows(result.population_id)["A"].extra == {"Location": "Café Street"}
    assert result.encoding_note == "read as Windows-1252: line 2 is not UTF-8 and the file holds no UTF-8 characters"
    assert m.Population.get_by_id(result.population_id).import_options["encoding"] == "cp1252"


def test_strict_utf8_is_stored_unchanged(db, tmp_path):
    path = tmp_path / "new.csv"
    path.write_text("Ref,Location\nA,Église Lane\n", encoding="utf-8")
    result = imported(path)
    assert case_rows(result.population_id)["A"].extra == {"Location": "Église Lane"} and result.encoding_note == ""


def test_an_invalid_byte_after_a_utf8_mark_is_refused(db, tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfRef,Location\nA,Caf\xe9\n")
    with pytest.raises(QattError, match=r"bom.csv, line 2: byte 0xE9 is not UTF-8"):
        imported(path)


@pytest.mark.parametrize("utf8_text", ["said “no”", "Ýr Ðal", "Ábel Íde Ïsa"], ids=["quotes", "Y-Eth", "A-I-I"])
def test_utf8_holding_bytes_that_are_not_windows_1252_then_a_windows_1252_line_mixes_encodings(db, tmp_path,
                                                                                                utf8_text):
    # ” is E2 80 9D in UTF-8; 0x9D (and 0x81, 0x8D, 0x8F, 0x90 in Á Í Ï Ð Ý) is no Windows-1252 character.
    path = tmp_path / "mixed.csv"
    path.write_bytes(f"Ref,Note\nA1,{utf8_text}\n".encode("utf-8") + "A2,Zoë\n".encode("cp1252"))
    with pytest.raises(QattError, match=r"^mixed.csv mixes encodings: line 3 is not UTF-8, but line 2 holds UTF-8 "
                                        r"characters"):
        imported(path)
    assert m.Population.select().count() == 0


def test_a_file_neither_utf8_nor_windows_1252_and_without_utf8_characters_says_so(db, tmp_path):
    path = tmp_path / "other.csv"
    path.write_bytes(b"Ref,Note\nA1,caf\xe9\nA2,\x81\n")
    with pytest.raises(QattError, match=r"^other.csv is neither UTF-8 \(line 2 is not\) nor Windows-1252 "
                                        r"\(byte 0x81 is not a Windows-1252 character\)"):
        imported(path)


# --- hostile and unreadable files --------------------------------------------------------------


def zip_bomb(path, unpacked):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            block = b"\0" * (1 << 20)
            for _ in range(unpacked >> 20):
                member.write(block)
    return path


def refuse_calamine(monkeypatch):
    import python_calamine

    def never(*_args, **_kwargs):
        raise AssertionError("the workbook was opened for decompression")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_path", never)


def test_a_zip_bomb_is_refused_from_its_declared_sizes_before_decompression(db, tmp_path, monkeypatch):
    path = zip_bomb(tmp_path / "bomb.xlsx", 64 << 20)  # 64 MB of zeros: ~64 KB stored
    assert path.stat().st_size < 1 << 20
    refuse_calamine(monkeypatch)
    monkeypatch.setattr(extract_files, "RATIO_FLOOR_BYTES", 1 << 20)
    with pytest.raises(QattError, match=r"^bomb.xlsx is refused: its part xl/worksheets/sheet1.xml would unpack "
                                        r"[\d,]+ times its stored size, over the limit of 100:1"):
        importing.preview(path)
    monkeypatch.setattr(extract_files, "MAX_RATIO", 10 ** 6)
    monkeypatch.setattr(extract_files, "MAX_UNPACKED_BYTES", 32 << 20)
    with pytest.raises(QattError, match=r"^bomb.xlsx is refused: it would unpack to 64 MB, over the limit of 32 MB\.$"):
        imported(path)
    assert m.Population.select().count() == 0


def test_the_default_limits_are_far_above_a_real_extract():
    assert extract_files.MAX_UNPACKED_BYTES == 1 << 30 and extract_files.MAX_RATIO == 100


def test_a_damaged_workbook_is_one_line(db, tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(QattError, match=r"^broken.xlsx is not a readable .xlsx workbook"):
        imported(path)


def cli(db, capsys, *args):
    code = main(["--db", db.qatt_url, *args])
    captured = capsys.readouterr()
    return code, captured.err


def test_cli_missing_file_is_one_line_and_exit_2(db, tmp_path, capsys):
    code, err = cli(db, capsys, "import", str(tmp_path / "nowhere.csv"))
    assert code == 2 and err.strip().count("\n") == 0 and "does not exist" in err and "Traceback" not in err


def test_cli_unreadable_file_is_one_line_and_exit_2_with_nothing_written(db, tmp_path, capsys, monkeypatch):
    path = street_file(tmp_path)

    def denied(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    # The tests may run as root, who can read any file: refuse the opening itself.
    monkeypatch.setattr(extract_files, "open", denied, raising=False)
    code, err = cli(db, capsys, "import", str(path))
    assert code == 2 and err.strip().count("\n") == 0
    assert err.strip().endswith("Cannot read street.csv: permission denied. Ask for read access, or copy the file "
                                "to a folder of your own, and try again.")
    assert m.Population.select().count() == 0


def test_a_locked_file_says_another_program_has_it_open(tmp_path):
    import errno

    error = extract_files.file_error(tmp_path / "x.csv", OSError(errno.EBUSY, "Device or resource busy"))
    assert str(error) == ("Cannot read x.csv: another program has it open (locked). Close it there (e.g. in Excel) "
                          "and try again.")


def test_a_full_disk_is_one_line_and_nothing_is_written(db, tmp_path, monkeypatch, capsys):
    real_writer = case_writer._case_writer

    import contextlib

    @contextlib.contextmanager
    def full_disk(database):
        with real_writer(database):
            def write(_batch):
                raise sqlite3.OperationalError("database or disk is full")
            yield write

    monkeypatch.setattr(importing, "_case_writer", full_disk)  # where importing._load_cases looks it up
    code, err = cli(db, capsys, "import", str(street_file(tmp_path)), "--blank-references", "generate",
                    "--duplicate-references", "keep-last")
    assert code == 2 and err.strip().count("\n") == 0
    assert "the disk holding the database is full" in err and "Nothing was imported" in err
    assert m.Population.select().count() == 0 and m.Case.select().count() == 0


# --- re-import and the CLI ---------------------------------------------------------------------


def test_cli_reimport_is_refused_with_the_existing_id_unless_allowed(db, tmp_path, capsys):
    path = str(street_file(tmp_path))
    options = ["--blank-references", "generate", "--duplicate-references", "keep-last"]
    assert main(["--db", db.qatt_url, "--json", "import", path, *options]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["generated_references"] == street.ASB and first["date_precision"] == "month"
    assert [r["row"] for r in first["repeats"]] == [street.EXACT_REPEAT[0], street.CONFLICTING_REPEAT[0]]
    code, err = cli(db, capsys, "import", path, *options)
    assert code == 2 and f"same cases as population {first['population_id']}" in err and "--allow-duplicate" in err
    assert main(["--db", db.qatt_url, "import", path, *options, "--allow-duplicate"]) == 0
    out = capsys.readouterr().out
    assert f"{street.ASB} case(s) had no reference" in out
    assert f"row {street.CONFLICTING_REPEAT[0]} repeats reference" in out and "row 35 kept" in out
    assert m.Population.select().count() == 2


# --- month precision and undated cases in draws ------------------------------------------------


@pytest.fixture
def lead(db):
    from qatt.trust import users

    users.ensure_user("lead", "qa_lead")
    return "lead"


def street_population(tmp_path):
    return imported(street_file(tmp_path), blank_references="generate", duplicate_references="keep-last")


def test_a_month_case_spans_its_month_in_a_date_range_and_the_sample_still_verifies(lead, tmp_path):
    from qatt.selection import sampling

    population = street_population(tmp_path)
    request = sampling.SampleRequest(population.population_id, size=5, seed=7, date_from="2016-11-15",
                                     date_to="2016-11-30", period="2016-11")
    result = sampling.draw_sample(request, lead)
    assert result.eligible_count == street.CASES_KEEPING_ONE_OF_EACH and result.date_precision == "month"
    sample = m.Sample.get_by_id(result.sample_id)
    assert sample.params["date_precision"] == "month"
    assert sample.params["generated_references"] == sum(ref.startswith(GENERATED_PREFIX) for ref in result.references)
    assert sampling.verify_sample(result.sample_id, lead).verified
    with pytest.raises(QattError, match="No case of population"):
        sampling.draw_sample(sampling.SampleRequest(population.population_id, size=5, seed=7,
                                                    date_from="2016-12-01", period="2016-12"), lead)


def test_a_day_precision_sample_records_exactly_the_parameters_it_always_did(lead):
    from qatt.selection import sampling
    from tests.factories import make_population

    population = make_population(10)
    result = sampling.draw_sample(sampling.SampleRequest(population.id, size=3, seed=1, date_from="2024-01-03"), lead)
    params = m.Sample.get_by_id(result.sample_id).params
    assert set(params) == {"size", "per_stratum", "proportional", "min_per_stratum", "stratify", "reserves",
                           "date_from", "date_to"}
    assert result.eligible_count == 9 and sampling.verify_sample(result.sample_id, lead).verified


def test_a_date_range_says_how_many_undated_cases_it_left_out_and_why(lead):
    from qatt.selection import sampling
    from tests.factories import make_population

    population = make_population(10, recorded_date=lambda i: None if i % 2 else dt.date(2024, 2, i))
    result = sampling.draw_sample(sampling.SampleRequest(population.id, size=2, seed=1, date_from="2024-02-01"), lead)
    assert result.eligible_count == 5 and result.undated_count == 5
    assert sampling.undated_message(result) == ("5 case(s) with no recorded date were left out by the date range "
                                                "(a case without a date is in no date range)")
    undated_only = make_population(4, name="no dates", recorded_date=None)
    with pytest.raises(QattError, match=r"4 case\(s\) have no recorded date, and a date range \(--from/--to\) "
                                        r"always leaves such cases out"):
        sampling.draw_sample(sampling.SampleRequest(undated_only.id, size=2, seed=1, date_to="2024-12-31"), lead)


def test_cli_filter_and_stratify_by_the_extracts_own_columns(db, lead, tmp_path, capsys):
    population = street_population(tmp_path)
    amber = [r for r in street.rows() if r[8] == "Amber Valley 001A"]
    code = main(["--db", db.qatt_url, "--user", "lead", "--json", "sample",
                 str(population.population_id), "--size", "200", "--filter", "LSOA name=Amber Valley 001A"])
    drawn = json.loads(capsys.readouterr().out)
    assert code == 0 and drawn["eligible"] == len({r[0] for r in amber if r[0]}) + sum(1 for r in amber if not r[0])
    for reference in drawn["cases"]:
        assert m.Case.get(m.Case.reference == reference).extra["LSOA name"] == "Amber Valley 001A"
    code = main(["--db", db.qatt_url, "--user", "lead", "--json", "sample",
                 str(population.population_id), "--per-stratum", "1", "--stratify", "LSOA name", "--period", "2016-11"])
    strata = json.loads(capsys.readouterr().out)["strata"]
    assert code == 0 and sorted(json.loads(s["key"])[0] for s in strata) == sorted({r[8] for r in street.rows()})


# --- the extract's own columns in the case browser -------------------------------------------


def test_the_case_browser_shows_sorts_and_filters_on_the_extracts_own_columns(db, tmp_path):
    from qatt import browse

    population = street_population(tmp_path).population_id
    columns = browse.population_columns(population)
    assert ("extra:LSOA name", "LSOA name") in columns and ("extra:Last outcome category", "Last outcome category") in columns
    headings = [heading for _, heading in columns]
    page = browse.case_page(population, sort_by="extra:LSOA name", limit=1000)
    lsoa = [row[1 + headings.index("LSOA name")] for row in page.rows]
    assert lsoa == sorted(lsoa) and set(lsoa) == {name for _, name in street.LSOAS}
    descending = browse.case_page(population, sort_by="extra:LSOA name", descending=True, limit=7)
    following = browse.case_page(population, sort_by="extra:LSOA name", descending=True, limit=1000,
                                 after=descending.next_key)
    names = [row[1 + headings.index("LSOA name")] for row in descending.rows + following.rows]
    assert names == sorted(lsoa, reverse=True)  # keyset paging on an extract column loses nothing
    amber = sum(1 for name in lsoa if name.startswith("Amber"))
    assert browse.count_cases(population, "amber") == amber
    assert browse.count_cases(population, "LSOA") == 0  # a header is not a value
    assert browse.count_cases(population, "bolsover 003C") == sum(1 for name in lsoa if name == "Bolsover 003C")
    assert set(browse.distinct_values(population, "LSOA name")) == set(lsoa)
    choices = browse.column_choices(population)
    assert ("area", "Crime type") in choices and ("LSOA name", "LSOA name") in choices
    assert ("division", "Division") in choices


def test_month_dates_show_as_the_month_in_the_case_details(db, tmp_path):
    from qatt import browse
    from tests.factories import make_sample

    population = m.Population.get_by_id(street_population(tmp_path).population_id)
    sample = make_sample(population, [street.rows()[0][0]])
    item = m.SampleItem.get(m.SampleItem.sample == sample)
    details = dict(browse.case_details(item.id))
    assert details["Recorded"] == "Nov 2016" and details["LSOA name"] == street.rows()[0][8]
    assert details["Reference"] == street.rows()[0][0]


# --- forms for areas no form covers ------------------------------------------------------------


def test_an_area_no_form_covers_gets_the_form_its_population_keeps(lead, tmp_path):
    from qatt.reviewing import area_forms, forms, reviews
    from tests.factories import make_sample

    forms_by_id = forms.load_forms()
    population_id = street_population(tmp_path).population_id
    table = {row.area: row for row in area_forms.area_table(population_id, forms_by_id)}
    assert table["Bicycle theft"].how == "none" and table["Bicycle theft"].form_id == ""
    bicycle = next(r for r in street.rows() if r[9] == "Bicycle theft")
    sample = make_sample(m.Population.get_by_id(population_id), [bicycle[0]])
    item = m.SampleItem.get(m.SampleItem.sample == sample)
    with pytest.raises(QattError, match="No form covers the area 'Bicycle theft'"):
        reviews.start_review(item.id, lead)
    form_id = sorted(forms_by_id)[0]
    with pytest.raises(QattError, match="There is no form 'nope'"):
        area_forms.keep_area_forms(population_id, {"Bicycle theft": "nope"}, lead, forms_by_id)
    assert area_forms.keep_area_forms(population_id, {"Bicycle theft": form_id}, lead, forms_by_id) == {
        "Bicycle theft": form_id}
    row = {r.area: r for r in area_forms.area_table(population_id, forms_by_id)}["Bicycle theft"]
    assert (row.form_id, row.how, row.cases) == (form_id, "chosen", len({r[0] for r in street.rows() if r[9] == "Bicycle theft"}))
    review = reviews.start_review(item.id, lead)
    assert review.form_version.form_id == form_id
    event = m.AuditEvent.select().where(m.AuditEvent.object_type == "population").order_by(m.AuditEvent.id.desc()).first()
    assert event.details == {"operation": "area forms", "changed": {"Bicycle theft": form_id}}


# --- migration ---------------------------------------------------------------------------------


def test_v5_adds_import_options_and_area_forms_to_a_v4_database_keeping_its_populations(db):
    from playhouse.migrate import SchemaMigrator, migrate as run_migrations

    from qatt.storage import migrations

    kept = m.Population.create(name="before v5", row_count=0)
    migrator = SchemaMigrator.from_database(db)
    run_migrations(migrator.drop_column("population", "import_options"), migrator.drop_column("population", "area_forms"))
    m.SchemaVersion.update(version=4).execute()
    assert {"import_options", "area_forms"}.isdisjoint(c.name for c in db.get_columns("population"))
    assert migrations.migrate(db) == list(range(5, migrations.LATEST + 1))
    assert {"import_options", "area_forms"} <= {c.name for c in db.get_columns("population")}
    again = m.Population.get_by_id(kept.id)
    assert again.name == "before v5" and again.import_options is None and again.area_forms is None
    m.SchemaVersion.update(version=4).execute()
    assert migrations.migrate(db) == list(range(5, migrations.LATEST + 1))  # columns present: nothing to add
