"""Property-based tests: whatever file a user hands the importer or the form loader, the outcome is
either a correct result or a QattError (a message for a dialog) - never a traceback, never a
half-written population.

Any exception that is not a QattError propagates out of the helpers below and fails the test.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import shutil
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
import pytest
import yaml
from hypothesis import HealthCheck, assume, event, example, given, settings
from hypothesis import strategies as st

from qatt.intake import importing, mapping
from qatt.reviewing import forms
from qatt.errors import QattError
from qatt.storage import models as m
from tests.factories import REPO_FORMS, form_dict

# The database fixture lives for the whole test, so each example checks counts against the state
# it found rather than an empty database.
PROPERTY_SETTINGS = settings(deadline=None, max_examples=100, derandomize=True,
                             suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                                    HealthCheck.data_too_large])

_names = itertools.count()


def fresh_path(folder: Path, suffix: str) -> Path:
    """A new file name per example (the fixture's tmp_path is shared by all examples of a test)."""
    return folder / f"input{next(_names)}{suffix}"


# ---------------------------------------------------------------------------------------------- importer

HEADER = ["Crime Ref", "Date Recorded", "Summary", "OIC", "Notes"]
MAPPING = {"reference": "Crime Ref", "recorded_date": "Date Recorded", "summary": "Summary", "officer": "OIC"}

FORMULAS = st.sampled_from(["=1+2", "+44 7700 900123", "-5", "@SUM(A1:A9)", '=HYPERLINK("http://x","y")',
                            "=cmd|' /C calc'!A0", "\t=1", "\r=1"])
MARKUP = st.sampled_from(["<script>alert(1)</script>", "&amp;", "&lt;b&gt;", "<b>bold</b>", "]]>", "&#0;",
                          '"quoted"', "'single'", "<?xml version='1.0'?>", "{{ jinja }}", "%s %n"])
GOOD_DATES = st.sampled_from(["01/03/2024", "2024-03-01", "3/4/24", " 29/02/2024 ", "2024-03-01T10:00"])
BAD_DATES = st.sampled_from(["31/02/2024", "", "not a date", "2024-13-01", "=TODAY()"])


def odd_text(codec: Optional[str]) -> st.SearchStrategy[str]:
    """Text a cell may hold: any characters the codec can write (line breaks, quotes, odd spaces
    included), formula-looking and markup-looking text, and mixtures of them. NUL is left to the
    arbitrary-bytes test: every file holding one is refused, which would hide the round trip."""
    plain = st.text(st.characters(codec=codec, exclude_characters="\x00"), max_size=40)
    return st.one_of(plain, FORMULAS, MARKUP, st.tuples(st.one_of(FORMULAS, MARKUP), plain).map("".join))


@st.composite
def extracts(draw) -> Tuple[str, List[List[str]]]:
    """(encoding, rows under HEADER) for an extract (the encoding matters to CSV files only)."""
    # UTF-16 (always refused, with advice) is drawn less often so most examples can import.
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "cp1252", "cp1252", "utf-16"]))
    codec = "utf-8" if encoding.startswith("utf") else encoding
    text = odd_text(codec)
    dates = st.one_of(GOOD_DATES, GOOD_DATES, GOOD_DATES, BAD_DATES, text)
    rows = []
    for i in range(draw(st.integers(1, 6))):
        reference = draw(st.one_of(st.just(""), FORMULAS, MARKUP, text)) + f"-{i}"
        rows.append([reference, draw(dates), draw(text), draw(text), draw(text)])
    return encoding, rows


def csv_bytes(rows: List[List[str]], encoding: str) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows([HEADER] + rows)
    return buffer.getvalue().encode(encoding)


def counts() -> Tuple[int, int]:
    return m.Population.select().count(), m.Case.select().count()


def import_or_refuse(path: Path, name: str = "Fuzzed extract", **kwargs) -> Optional[importing.ImportResult]:
    """Import the file; on a QattError check nothing was left behind, on success that the
    population's row count is its number of cases."""
    before = counts()
    try:
        result = importing.import_population(path, name=name, actor="fuzz", **kwargs)
    except QattError:
        assert counts() == before, "a refused import left rows behind"
        event("refused")
        return None
    event("imported")
    population = m.Population.get_by_id(result.population_id)
    stored = m.Case.select().where(m.Case.population == population).count()
    assert population.row_count == result.rows == stored
    assert counts() == (before[0] + 1, before[1] + stored)
    return result


def preview_or_refuse(path: Path) -> None:
    """The wizard's first look at a file: a preview or a QattError."""
    try:
        shown = importing.preview(path)
    except QattError:
        return
    assert all(len(row) == len(shown.headers) for row in shown.rows)


@PROPERTY_SETTINGS
@given(content=st.one_of(st.binary(max_size=3000),
                         st.binary(max_size=3000).map(lambda b: ",".join(HEADER).encode() + b"\r\n" + b)))
# On PostgreSQL (before the fix) a NUL byte in a cell failed the bulk COPY with a traceback.
@example(content=b"Crime Ref,Summary\r\nR1,a\x00b\r\n")
@example(content=b"Crime Ref\r\n\"R1\r\n")
@example(content=b"\xff\xfeC\x00r\x00")
def test_arbitrary_bytes_as_a_csv_import_or_fail_cleanly(db, tmp_path, content):
    path = fresh_path(tmp_path, ".csv")
    path.write_bytes(content)
    preview_or_refuse(path)
    import_or_refuse(path)
    import_or_refuse(path, skip_invalid=True)


def stored_cases(population_id: int) -> Dict[str, m.Case]:
    return {c.reference: c for c in m.Case.select().where(m.Case.population == population_id)}


@PROPERTY_SETTINGS
@given(extract=extracts(), skip_invalid=st.booleans())
# On PostgreSQL (before the fix) a lone "\r" inside a cell ended the row in the bulk COPY: a traceback.
@example(extract=("utf-8", [["0\r-0", "01/03/2024", "one\rtwo", "", "x\ry"]]), skip_invalid=False)
def test_odd_text_in_cells_round_trips_exactly_or_fails_cleanly(db, tmp_path, extract, skip_invalid):
    encoding, rows = extract
    content = csv_bytes(rows, encoding)
    if encoding == "cp1252":
        # A cp1252 file whose bytes happen to be valid UTF-8 is read as UTF-8 (by design).
        try:
            assume(content.decode("utf-8") == content.decode("cp1252"))
        except UnicodeDecodeError:
            pass
    path = fresh_path(tmp_path, ".csv")
    path.write_bytes(content)
    result = import_or_refuse(path, mapping=MAPPING, skip_invalid=skip_invalid)
    if result is not None:
        assert_round_trip(rows, result, skip_invalid)


def assert_round_trip(rows: List[List[str]], result: importing.ImportResult, skip_invalid: bool) -> None:
    """Every stored case holds exactly its row's text (stripped), extra columns included."""
    by_reference = {row[0].strip(): row for row in rows}
    cases = stored_cases(result.population_id)
    if not skip_invalid:
        assert set(cases) == set(by_reference)
    for reference, case in cases.items():
        row = by_reference[reference]
        assert (case.summary, case.officer) == (row[2].strip(), row[3].strip())
        assert case.extra == ({"Notes": row[4].strip()} if row[4].strip() else None)
        assert case.recorded_date == importing.parse_date(row[1])


@pytest.mark.parametrize("column", ["Summary", "OIC", "Notes"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_a_one_megabyte_cell_is_refused_naming_its_row(db, tmp_path, column, encoding):
    """Far beyond any Excel cell (32,767 characters): almost always a quote that is never closed."""
    row = {"Crime Ref": "R1", "Date Recorded": "01/03/2024", "Summary": "s", "OIC": "o", "Notes": "n",
           column: "=<é" * ((1 << 20) // 3)}
    path = fresh_path(tmp_path, ".csv")
    path.write_bytes(csv_bytes([["R0", "01/03/2024", "", "", ""], [row[h] for h in HEADER]], encoding))
    before = counts()
    with pytest.raises(QattError, match=rf"row 3, column '{column}': a cell holds more than 1,000,000 characters"):
        importing.import_population(path, name="Huge", actor="fuzz", mapping=MAPPING)
    assert counts() == before


def test_a_cell_too_long_for_the_csv_reader_on_the_first_data_row_names_row_2(db, tmp_path):
    path = fresh_path(tmp_path, ".csv")
    path.write_bytes(b"Crime Ref,Summary\r\nR1," + b"x" * (1 << 20) + b"\r\n")
    with pytest.raises(QattError, match=r", row 2, column 'Summary': a cell holds more than 1,000,000 characters"):
        importing.import_population(path, name="Huge", actor="fuzz")
    assert counts() == (0, 0)


@PROPERTY_SETTINGS
@given(name=st.one_of(st.text(max_size=400), st.text(min_size=295, max_size=305)))
# Both reached PostgreSQL as a traceback before import_population checked the name.
@example(name="x" * 301)
@example(name="a\x00b")
def test_any_population_name_imports_as_given_or_fails_cleanly(db, tmp_path, name):
    path = fresh_path(tmp_path, ".csv")
    path.write_bytes(b"Crime Ref,Summary\r\nR1,a\r\n")
    result = import_or_refuse(path, name=name)
    if result is not None:
        assert m.Population.get_by_id(result.population_id).name == name.strip()


def workbook_bytes(rows: List[List[str]]) -> bytes:
    """An .xlsx whose cells are all text (so "=1+2" is text as a user typed it, not a formula)."""
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    for cells in book.active.iter_rows():
        for cell in cells:
            cell.data_type = "s"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def xml_text(text: str) -> str:
    """Text an .xlsx can hold: XML 1.0 has no control characters but tab and line breaks."""
    return ILLEGAL_CHARACTERS_RE.sub("", text)


@PROPERTY_SETTINGS
@given(extract=extracts(), skip_invalid=st.booleans())
# On PostgreSQL (before the fix) a lone "\r" inside a cell ended the row in the bulk COPY: a traceback.
@example(extract=("utf-8", [["0\r-0", "01/03/2024", "one\rtwo", "", "x\ry"]]), skip_invalid=False)
def test_odd_text_in_workbook_cells_round_trips_exactly_or_fails_cleanly(db, tmp_path, extract, skip_invalid):
    rows = [[xml_text(cell) for cell in row] for row in extract[1]]
    path = fresh_path(tmp_path, ".xlsx")
    path.write_bytes(workbook_bytes([HEADER] + rows))
    result = import_or_refuse(path, mapping=MAPPING, skip_invalid=skip_invalid)
    if result is not None:
        assert_round_trip(rows, result, skip_invalid)


@PROPERTY_SETTINGS
@given(content=st.one_of(st.binary(max_size=3000), st.binary(max_size=3000).map(lambda b: b"PK\x03\x04" + b)))
# On PostgreSQL (before the fix) Excel's _x0000_ escape reached the bulk COPY as a NUL: a traceback.
@example(content=workbook_bytes([["Crime Ref", "Summary"], ["R1", "a_x0000_b"]]))
def test_arbitrary_bytes_as_a_workbook_fail_cleanly(db, tmp_path, content):
    path = fresh_path(tmp_path, ".xlsx")
    path.write_bytes(content)
    preview_or_refuse(path)
    import_or_refuse(path)


# ---------------------------------------------------------------------------------------------- saved mappings

def _nested(key_size: int):
    """Lists and dicts of `inner`. A named function, not a multi-line lambda: hypothesis reads the
    extend function's source to check it recurses, and cannot always find a lambda's source."""
    def extend(inner):
        return st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=key_size), inner, max_size=4))
    return extend


JSONISH = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20)),
                       _nested(12), max_leaves=20)


@PROPERTY_SETTINGS
@given(content=st.one_of(st.binary(max_size=500), JSONISH.map(lambda v: json.dumps(v).encode()),
                         st.dictionaries(st.sampled_from(mapping.FIELD_NAMES), st.text(max_size=30))
                         .map(lambda v: json.dumps({"mapping": v, "date_format": "dd/mm/yyyy"}).encode())))
def test_a_mapping_file_loads_as_field_to_header_text_or_fails_cleanly(tmp_path, content):
    path = fresh_path(tmp_path, ".json")
    path.write_bytes(content)
    try:
        saved = mapping.load_saved(str(path))
    except QattError:
        return
    assert set(saved.mapping) <= set(mapping.FIELD_NAMES)
    assert all(isinstance(header, str) for header in saved.mapping.values())
    assert saved.date_format in mapping.DATE_FORMATS


@PROPERTY_SETTINGS
@given(name=st.one_of(st.text(max_size=250), st.text(min_size=195, max_size=205)),
       headers=st.dictionaries(st.sampled_from(mapping.FIELD_NAMES), st.text(max_size=300), max_size=4))
# Before the fixes: 70 emoji are 280 bytes, too long for a file name, and load_saved's "is it a
# file?" raised OSError; 101 characters overflowed the audit object id on PostgreSQL.
@example(name="\N{GRINNING FACE}" * 70, headers={"reference": "Crime Ref"})
@example(name="x" * 101, headers={})
def test_a_mapping_saves_under_any_name_and_reloads_or_fails_cleanly(db, name, headers):
    before = m.ColumnMapping.select().count()
    try:
        mapping.save_mapping(name, headers, "fuzz")
    except QattError:
        assert m.ColumnMapping.select().count() == before
        return
    assert mapping.load_saved(name.strip()).mapping == headers


# ---------------------------------------------------------------------------------------------- form loader


@pytest.fixture
def forms_folder(tmp_path) -> Path:
    """A forms folder with the real scales and themes; examples write form files into it."""
    folder = tmp_path / "forms"
    folder.mkdir()
    for shared in ("_scales.yaml", "_themes.yaml"):
        shutil.copyfile(REPO_FORMS / shared, folder / shared)
    return folder


def load_or_refuse(folder: Path, content: bytes) -> Optional[Dict[str, forms.Form]]:
    """Put `content` in the folder as the only form file; load the folder."""
    for old in forms.form_files(folder):
        old.unlink()
    (folder / "fuzzed.yaml").write_bytes(content)
    try:
        loaded = forms.load_forms(folder)
    except QattError:
        event("refused")
        return None
    event("loaded")
    for form in loaded.values():
        # A form that loads must also survive the round trip through its stored content.
        assert forms.form_from_content(form.content).content_hash == form.content_hash
    return loaded


YAMLISH = st.text(st.sampled_from(list("abcdefghijklmnopqrstuvwxyz_0123456789 :-[]{},'\"&*!|>#?%@`\n\t")),
                  max_size=300)


@PROPERTY_SETTINGS
@given(content=st.one_of(st.binary(max_size=2000), YAMLISH.map(str.encode), st.text(max_size=300).map(str.encode)))
@example(content=b"id: &a [*a]\n")
@example(content=b"a: &a {b: *a}\nid: x\n")
@example(content=b"id: x\nid: y\n")
@example(content=b"!!python/object/apply:os.system ['true']\n")
def test_arbitrary_text_as_a_form_file_loads_or_fails_cleanly(forms_folder, content):
    load_or_refuse(forms_folder, content)


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20),
                    st.sampled_from(["yes", "no", "g3", "good", "inadequate", "yes_no", "grade", "c1", "checks"]))
NESTED = st.recursive(SCALARS, _nested(10), max_leaves=30)


@PROPERTY_SETTINGS
@given(structure=st.dictionaries(st.sampled_from(["id", "title", "area", "version", "scale", "grading",
                                                  "sections", "description", "sources", "extra"]),
                                 NESTED, max_size=8))
def test_arbitrary_nested_structures_as_a_form_load_or_fail_cleanly(forms_folder, structure):
    load_or_refuse(forms_folder, yaml.safe_dump(structure, allow_unicode=True).encode("utf-8"))


def replace_at(tree, path: List, value):
    """A copy of `tree` with the node at `path` replaced by `value` (or removed when value is ...)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    copy = dict(tree) if isinstance(tree, dict) else list(tree)
    if value is ... and not rest:
        del copy[head]
    else:
        copy[head] = replace_at(copy[head], rest, value)
    return copy


@st.composite
def mutated_forms(draw) -> dict:
    """A valid form with one to three nodes replaced by arbitrary values or removed: close enough
    to valid that the schema passes often, so the builder's own checks are exercised."""
    form = form_dict()
    for _ in range(draw(st.integers(1, 3))):
        path: List = []
        node = form
        while isinstance(node, (dict, list)) and node and draw(st.booleans()):
            key = draw(st.sampled_from(sorted(node) if isinstance(node, dict) else range(len(node))))
            path.append(key)
            node = node[key]
        if path:
            form = replace_at(form, path, draw(st.one_of(st.just(...), NESTED)))
    return form


@PROPERTY_SETTINGS
@given(form=mutated_forms())
def test_a_valid_form_with_arbitrary_changes_loads_or_fails_cleanly(forms_folder, form):
    load_or_refuse(forms_folder, json.dumps(form, default=str).encode("utf-8"))


def test_the_unchanged_base_form_loads(forms_folder):
    """The mutation test starts from a form that loads, so its refusals are the mutations' doing."""
    (forms_folder / "base.yaml").write_text(json.dumps(form_dict()), encoding="utf-8")
    assert set(forms.load_forms(forms_folder)) == {"test_form"}
