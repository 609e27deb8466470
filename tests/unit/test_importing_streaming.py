"""The import's streaming first pass (no references kept in memory; the unique index finds repeats)
and the fingerprint streamed from the database: the same results and the same bytes as before."""

from __future__ import annotations

import csv
import hashlib

import pytest

from qatt.intake import importing, row_checks, stored_fingerprint
from qatt.intake.fingerprint import OrderedFingerprint, fingerprint_references
from qatt.intake.importing import ImportProblems
from qatt.storage import models as m

HEADER = ["Crime Ref", "Date Recorded", "OIC"]
MAPPING = {"reference": "Crime Ref", "recorded_date": "Date Recorded", "officer": "OIC"}
# Code point order differs from UTF-16 order (the emoji), from case-blind order and from a
# locale's order (é, spaces, punctuation); a backslash and a tab need escaping in COPY text.
AWKWARD = ["b", "B", "a b", "a-b", "ab", "é", "e", "z", "\U0001F600", "\uff5e", "DE\\23", "x\ty", "10", "9", "Ω"]


def write_csv(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([HEADER, *rows])
    return path


def rows_for(references):
    return [[ref, "01/03/2024", f"PC {i}"] for i, ref in enumerate(references)]


def stored_references(population_id):
    return [r for (r,) in m.Case.select(m.Case.reference).where(m.Case.population == population_id).tuples()]


class Passes:
    """Counts the importer's passes over the file and the most references a checker held."""

    def __init__(self, monkeypatch):
        self.streaming = self.exact = 0
        self.most_seen = 0
        real_init = row_checks._RowChecker.__init__
        passes = self

        def init(checker, *args, **kwargs):
            real_init(checker, *args, **kwargs)
            if checker.streaming:
                passes.streaming += 1
            else:
                passes.exact += 1
            batch = checker.check_batch

            def watched(numbers, rows):
                passes.most_seen = max(passes.most_seen, len(checker.seen))
                return batch(numbers, rows)

            checker.check_batch = watched

        monkeypatch.setattr(row_checks._RowChecker, "__init__", init)


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(importing, "BATCH_ROWS", 4)
    monkeypatch.setattr(stored_fingerprint, "FINGERPRINT_CHUNK", 3)


def test_the_stored_fingerprint_is_the_old_computation_byte_for_byte(db, tmp_path, small_batches):
    references = AWKWARD + [f"CR/{n:05d}" for n in range(40, 0, -3)]
    path = write_csv(tmp_path / "cases.csv", rows_for(references))
    result = importing.import_population(path, name="p", actor="tester", mapping=MAPPING)
    expected = fingerprint_references(references)
    assert result.fingerprint == expected == m.Population.get_by_id(result.population_id).fingerprint
    assert result.rows == len(references)
    canonical = "".join(ref + "\n" for ref in sorted(references, key=lambda r: r.encode("utf-8")))
    assert expected == hashlib.sha256(canonical.encode("utf-8")).hexdigest()  # the documented rule
    # Whole population in one chunk, and chunk by chunk, give the same bytes.
    for chunk in (1, 2, 1000):
        stored_fingerprint.FINGERPRINT_CHUNK = chunk
        assert stored_fingerprint._stored_fingerprint(db, result.population_id, len(references)) == expected


def test_a_reference_holding_a_newline_falls_back_to_one_reference_a_row(db, tmp_path, small_batches, monkeypatch):
    references = ["B", "A\nZ", "A", "C", "A\nB"]
    path = write_csv(tmp_path / "cases.csv", rows_for(references))
    # Still streamed in order (one reference a row), not all sorted in Python.
    monkeypatch.setattr(stored_fingerprint, "fingerprint_references", lambda refs: pytest.fail("sorted in Python"))
    result = importing.import_population(path, name="p", actor="tester", mapping=MAPPING)
    assert sorted(stored_references(result.population_id)) == sorted(references)
    assert result.fingerprint == fingerprint_references(references)


def test_a_database_order_that_is_not_code_point_order_is_not_trusted(db, tmp_path, small_batches, monkeypatch):
    references = ["b", "a", "c", "d", "e"]
    path = write_csv(tmp_path / "cases.csv", rows_for(references))
    result = importing.import_population(path, name="p", actor="tester", mapping=MAPPING)
    real_add = OrderedFingerprint.add
    # As a database whose collation put "c" first would hand the references over.
    monkeypatch.setattr(OrderedFingerprint, "add", lambda self, refs: real_add(self, ["c"] + [r for r in refs if r != "c"]))
    assert stored_fingerprint._stored_fingerprint(db, result.population_id, 5) == fingerprint_references(references)


def test_ordered_fingerprint_checks_what_it_is_given():
    digest = OrderedFingerprint()
    assert digest.add(["a", "b"]) and not digest.add(["b"]) and not digest.add([" c"]) and not digest.add(["d", "c"])
    assert digest.add(["c", "d"]) and digest.count == 4
    assert digest.hexdigest() == fingerprint_references(["d", "c", "b", "a"])
    assert OrderedFingerprint().hexdigest() == fingerprint_references([])


def test_a_clean_file_is_read_once_and_no_references_are_kept(db, tmp_path, small_batches, monkeypatch):
    passes = Passes(monkeypatch)
    path = write_csv(tmp_path / "cases.csv", rows_for([f"R{n}" for n in range(50)]))
    result = importing.import_population(path, name="p", actor="tester", mapping=MAPPING)
    assert (passes.streaming, passes.exact) == (1, 0)
    assert passes.most_seen == 0  # a batch-checked pass remembers no reference
    assert result.rows == 50 and len(stored_references(result.population_id)) == 50


@pytest.mark.parametrize("option", ["refuse", "keep-first", "keep-last"])
def test_a_repeat_in_a_later_batch_is_found_by_the_index_and_named_with_both_rows(db, tmp_path, small_batches,
                                                                                 monkeypatch, option):
    passes = Passes(monkeypatch)
    rows = rows_for([f"R{n}" for n in range(20)])
    rows[13] = ["R2", "01/03/2024", "PC 2"]  # row 15 repeats row 4 exactly, 3 batches later
    rows[17] = ["R5", "01/03/2024", "someone else"]  # row 19 repeats row 7 with different values
    path = write_csv(tmp_path / "cases.csv", rows)
    if option == "refuse":
        with pytest.raises(ImportProblems) as caught:
            importing.import_population(path, name="p", actor="tester", mapping=MAPPING)
        text = str(caught.value)
        assert "row 15" in text and "repeats reference 'R2' from row 4 (an exact repeat)" in text
        assert "row 19" in text and "from row 7 (with different values)" in text
        assert caught.value.exact_repeats == 1 and caught.value.conflicting_repeats == 1
        assert m.Population.select().count() == 0 and m.Case.select().count() == 0
    else:
        result = importing.import_population(path, name="p", actor="tester", mapping=MAPPING,
                                             duplicate_references=option)
        assert (result.exact_repeats, result.conflicting_repeats) == (1, 1)
        assert [(r.row, r.first_row) for r in result.repeats] == [(15, 4), (19, 7)]
        assert result.rows == 18 and m.Case.select().count() == 18
        officer = m.Case.get(m.Case.reference == "R5").officer
        assert officer == ("PC 5" if option == "keep-first" else "someone else")
        assert result.fingerprint == fingerprint_references(f"R{n}" for n in range(20) if n not in (13, 17))
    # The repeat stopped the streaming pass; keep-last writes again once the exact pass knows the last rows.
    assert (passes.streaming, passes.exact) == (1, 2 if option == "keep-last" else 1)


def test_a_problem_row_stops_the_streaming_pass_and_nothing_of_it_is_kept(db, tmp_path, small_batches, monkeypatch):
    passes = Passes(monkeypatch)
    rows = rows_for([f"R{n}" for n in range(20)])
    rows[16] = ["R16", "31/02/2024", "PC 16"]
    path = write_csv(tmp_path / "cases.csv", rows)
    result = importing.import_population(path, name="p", actor="tester", mapping=MAPPING, skip_invalid=True)
    assert (passes.streaming, passes.exact) == (1, 1)
    assert [(p.row, p.column) for p in result.skipped] == [(18, "Date Recorded")]
    # The streaming pass had written the first four batches: rolled back, so no case twice.
    assert sorted(stored_references(result.population_id)) == sorted(f"R{n}" for n in range(20) if n != 16)
    assert result.rows == 19 and m.Case.select().count() == 19
