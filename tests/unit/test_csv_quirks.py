"""CSV quirks of real extracts that the csv module, left lenient, read wrongly without a word: a stray
quote that swallows the rows after it, long free text refused as a quoting error, and rows of
spaces taken for cases."""

from __future__ import annotations

import pytest

from qatt.errors import QattError
from qatt.intake import importing
from qatt.storage import models as m


def extract(tmp_path, summaries, name="cases.csv"):
    """An extract of len(summaries) rows, row n + 1 holding case R<n> with summaries[n - 1] as written."""
    lines = ["Crime Ref,Date Recorded,Crime type,OIC,Summary"]
    lines += [f"R{n},01/02/2024,Theft,PC Smith,{text}" for n, text in enumerate(summaries, start=1)]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def imported(path, **options):
    return importing.import_population(path, name="Quirks", actor="lead", **options)


@pytest.mark.parametrize("closed_later", [False, True])
def test_a_stray_opening_quote_is_refused_naming_its_row_and_column(db, tmp_path, closed_later):
    """Row 11 opens a quote it never closes. Read leniently, the file's 1,000 cases became 10 (the
    rest of the file in one summary), or 410 when a quote 590 rows later closed it, and the import
    said it succeeded."""
    summaries = [f"Routine theft report {n}" for n in range(1, 1001)]
    summaries[9] = '"Victim described suspect as 6\'2 tall'
    if closed_later:
        summaries[599] = 'Witness said "no" to statement'
    with pytest.raises(QattError) as caught:
        imported(extract(tmp_path, summaries))
    message = str(caught.value)
    assert message.startswith("cases.csv, row 11, column 'Summary': cannot read the CSV")
    assert ("closing quote never comes" in message) != closed_later
    assert "Nothing was imported" in message
    assert m.Population.select().count() == 0 and m.Case.select().count() == 0


def test_quoted_cells_over_several_lines_and_doubled_quotes_still_import(db, tmp_path):
    summaries = ['"First line\nsecond line"', '"He said ""no"" twice"', "plain", 'a "quote" inside unquoted text']
    result = imported(extract(tmp_path, summaries))
    cases = {c.reference: c.summary for c in m.Case.select().where(m.Case.population == result.population_id)}
    assert cases == {"R1": "First line\nsecond line", "R2": 'He said "no" twice', "R3": "plain",
                     "R4": 'a "quote" inside unquoted text'}


def test_a_summary_longer_than_the_csv_modules_default_limit_is_kept_whole(db, tmp_path):
    """131,072 characters was the csv module's limit: a longer cell was refused as 'check the quotes'."""
    long_text = "word " * 40_000
    result = imported(extract(tmp_path, [f'"{long_text}"', "short"]))
    stored = m.Case.get((m.Case.population == result.population_id) & (m.Case.reference == "R1")).summary
    assert stored == long_text.strip()  # stored stripped, as every cell is


@pytest.mark.parametrize("generate", [False, True])
def test_rows_of_spaces_are_blank_rows_not_cases(db, tmp_path, generate):
    """A row of spaces (a stray space in a cell at the foot of an Excel export) is no case: before,
    it was refused as a case without a reference, or with --blank-references generate it became an
    invented case with every field empty."""
    path = tmp_path / "spaces.csv"
    path.write_text("Crime Ref,Date Recorded,OIC\nA1,01/02/2024,PC A\n , , \n   \nA2,03/04/2024,PC B\n\t\n",
                    encoding="utf-8")
    result = imported(path, blank_references="generate" if generate else "refuse")
    assert sorted(c.reference for c in m.Case.select().where(m.Case.population == result.population_id)) == ["A1", "A2"]
