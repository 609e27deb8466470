"""`python -m qatt import | populations | demo | mappings` round trips through qatt.cli.main."""

from __future__ import annotations

import json

from qatt import demo
from qatt.cli import main
from qatt.storage import models as m


def run_json(capsys, db, *args):
    code = main(["--db", db.qatt_url, "--json", *args])
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_import_json_reports_population_rows_and_fingerprint_and_populations_lists_it(db, tmp_path, capsys):
    path = write(tmp_path / "march.csv", "Crime Ref,Date Recorded\nA,01/03/2024\nB,02/03/2024\n")
    result = run_json(capsys, db, "import", str(path), "--name", "March extract")
    assert result["rows"] == 2 and result["skipped"] == []
    population = m.Population.get_by_id(result["population_id"])
    assert population.fingerprint == result["fingerprint"]

    listed = run_json(capsys, db, "populations")
    assert [(p["id"], p["name"], p["rows"], p["by"], p["fingerprint"]) for p in listed] == [
        (result["population_id"], "March extract", 2, "tester", result["fingerprint"])]


def test_import_of_a_bad_file_exits_2_with_one_line_per_problem_and_writes_nothing(db, tmp_path, capsys):
    path = write(tmp_path / "bad.csv", "Crime Ref,Date Recorded\nA,31/02/2024\n,01/03/2024\n")
    code = main(["--db", db.qatt_url, "import", str(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert "bad.csv, row 2, column 'Date Recorded': '31/02/2024' is not a date" in err
    assert "bad.csv, row 3, column 'Crime Ref': the case reference is empty" in err
    assert m.Population.select().count() == 0


def test_skip_invalid_imports_the_rest_and_lists_the_skipped_rows_in_json(db, tmp_path, capsys):
    path = write(tmp_path / "bad.csv", "Crime Ref,Date Recorded\nA,31/02/2024\nB,01/03/2024\n")
    result = run_json(capsys, db, "import", str(path), "--skip-invalid")
    assert result["rows"] == 1
    assert [(p["row"], p["column"]) for p in result["skipped"]] == [(2, "Date Recorded")]


def test_save_mapping_then_reuse_it_by_name_next_month(db, tmp_path, capsys):
    march = write(tmp_path / "march.csv", "Ref No,When\nA,01/03/2024\n")
    april = write(tmp_path / "april.csv", "Ref No,When\nB,01/04/2024\n")
    mapping_file = write(tmp_path / "m.json", json.dumps({"reference": "Ref No", "recorded_date": "When"}))
    run_json(capsys, db, "import", str(march), "--mapping", str(mapping_file), "--save-mapping", "Niche")
    assert run_json(capsys, db, "mappings") == ["Niche"]
    assert run_json(capsys, db, "mappings", "--show", "Niche")["mapping"] == {"reference": "Ref No",
                                                                              "recorded_date": "When"}
    result = run_json(capsys, db, "import", str(april), "--mapping", "Niche")
    case = m.Case.get(m.Case.population == result["population_id"])
    assert (case.reference, case.recorded_date.isoformat()) == ("B", "2024-04-01")


def test_import_reads_a_named_sheet(db, tmp_path, capsys):
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "Cover"
    book.create_sheet("Cases").append(["URN"])
    book["Cases"].append(["U1"])
    book.save(tmp_path / "x.xlsx")
    assert run_json(capsys, db, "import", str(tmp_path / "x.xlsx"), "--sheet", "Cases")["rows"] == 1


def test_demo_writes_a_csv_without_touching_the_database(tmp_path, capsys):
    out = tmp_path / "demo.csv"
    assert main(["--db", str(tmp_path / "unused.sqlite3"), "demo", "--cases", "25", "--seed", "4", "--out", str(out)]) == 0
    assert "wrote 25 fictional cases" in capsys.readouterr().out
    assert len(out.read_text(encoding="utf-8").splitlines()) == 26
    assert not (tmp_path / "unused.sqlite3").exists()


def test_demo_loads_the_demo_population_into_the_database(db, capsys):
    result = run_json(capsys, db, "demo", "--cases", "40", "--seed", "9")
    assert result["rows"] == 40
    assert m.Population.get_by_id(result["population_id"]).name == demo.DEMO_POPULATION_NAME
