"""Case-list extracts (CSV or XLSX) -> a Population of Cases, all or nothing.

The file is read as a stream: each batch of rows is validated and, while no problem has been
found (or with skip_invalid), written through the raw DB-API cursor (executemany on SQLite, COPY
on PostgreSQL) inside one transaction. Problems without skip_invalid roll the whole import back.

The first pass keeps no references in memory, so memory stays flat in the number of rows: the
database's unique (population, reference) index finds a reference that repeats one from an earlier
batch. Any row that is not simply valid (a problem, a repeat, a blank reference with a colliding
generated one) stops that pass; the import rolls back to a savepoint and reads the file again in
the exact pass, which keeps every reference with the row it came from, so a repeat names the
earlier row. Only a file with repeated references is read once more, for those rows alone, to tell
exact repeats from repeats with different values. The fingerprint is streamed from the database
in reference order (same bytes as qatt.intake.fingerprint's documented rule).
Blank and repeated references are refused unless ImportOptions say otherwise; month-only dates
are read with month precision (qatt.intake.extract_dates); files are opened through qatt.intake.extract_files.

The parts: qatt.intake.extract_tables reads the file as a table, qatt.intake.row_checks checks
its rows, qatt.intake.case_writer writes them and qatt.intake.stored_fingerprint hashes them as
stored; this module runs the passes and is the entry point (the public names of the parts are
importable from here).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import functools
import itertools
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

from qatt.trust import audit
from qatt.errors import Cancelled, QattError
from qatt.intake.case_writer import _case_writer, _replacing, _write_errors
from qatt.intake.extract_dates import MONTH, parse_day
from qatt.intake.extract_files import file_error, reading
from qatt.intake.extract_tables import Preview, _Table, _cell_text, _open_table, csv_problem, has_content, preview
from qatt.intake.fingerprint import fingerprint_references
from qatt.intake.mapping import check_date_format, check_mapping, check_name, suggest_mapping
from qatt.intake.row_checks import GENERATED_PREFIX, ImportOptions, Problem, Repeat, _RowChecker
# Public names of the row checks that callers import from here, the package's entry point.
from qatt.intake.row_checks import BLANK_REFERENCES, CASE_COLUMNS, DUPLICATE_REFERENCES  # noqa: F401
from qatt.intake.stored_fingerprint import _same_cases, _stored_fingerprint
from qatt.progress import CancelToken, ProgressFn, no_progress
from qatt.storage import models as m
from qatt.storage.db import database_proxy, write_transaction

__all__ = ["Problem", "ImportProblems", "Cancelled", "Preview", "ImportResult", "ImportOptions", "Repeat",
           "DuplicatePopulation", "preview", "check_file", "import_population", "parse_date"]

# Small batches keep the rows in flight in the CPU cache: the strings the CSV reader has just made are
# still cached when they are checked and written. Measured on 1,000,000 rows (bench/bench_import.py):
# 200 rows a batch takes about a fifth less CPU than 1,000 (and 1,000 was ~8% faster than 10,000);
# 100 to 250 are alike, below that the per-batch work shows.
BATCH_ROWS = 200
# Bounded memory even for a file where every row is wrong; the count is always exact.
MAX_LISTED_PROBLEMS = 10_000


class DuplicatePopulation(QattError):
    """The file's references are exactly those of a population already imported."""

    def __init__(self, file_name: str, existing: m.Population) -> None:
        self.existing_id = existing.id
        self.existing_name = existing.name
        super().__init__(
            f"{file_name} holds the same cases as population {existing.id} ({existing.name!r}, imported "
            f"{existing.imported_at:%Y-%m-%d %H:%M} by {existing.imported_by or 'someone'}); nothing was imported. "
            "Use that population, or import with --allow-duplicate to make a second copy.")


class ImportProblems(QattError):
    """The file has invalid rows and skip_invalid was not given: nothing was imported."""

    SHOWN = 20

    def __init__(self, file_name: str, problems: List[Problem], problem_count: int, rows_with_problems: int,
                 blank_references: int = 0, exact_repeats: int = 0, conflicting_repeats: int = 0) -> None:
        self.problems = problems
        self.problem_count = problem_count
        self.rows_with_problems = rows_with_problems
        self.blank_references = blank_references
        self.exact_repeats = exact_repeats
        self.conflicting_repeats = conflicting_repeats
        lines = [f"{file_name}: {problem_count} problem(s) in {rows_with_problems} row(s); nothing was imported."]
        lines += [str(p) for p in problems[: self.SHOWN]]
        if problem_count > self.SHOWN:
            lines.append(f"... and {problem_count - self.SHOWN} more.")
        if blank_references:
            lines.append(f"{blank_references} row(s) have no reference: --blank-references generate gives each a "
                         "stable generated one.")
        if exact_repeats or conflicting_repeats:
            lines.append(f"{exact_repeats + conflicting_repeats} row(s) repeat an earlier reference "
                         f"({exact_repeats} exact repeat(s), {conflicting_repeats} with different values): "
                         "--duplicate-references keep-first or keep-last keeps one row of each.")
        lines.append("Fix the file, or import with --skip-invalid to leave these rows out.")
        super().__init__("\n".join(lines))


@dataclass
class ImportResult:
    population_id: int
    rows: int
    fingerprint: str
    skipped: List[Problem] = field(default_factory=list)
    skipped_rows: int = 0
    mapping: Dict[str, str] = field(default_factory=dict)  # as used, including an automatic one
    generated_references: int = 0
    repeats: List[Repeat] = field(default_factory=list)  # up to MAX_LISTED_REPEATS
    exact_repeats: int = 0
    conflicting_repeats: int = 0
    date_precision: Optional[str] = None  # "day" or "month" when a date column is mapped
    encoding_note: str = ""  # why a CSV was read as something other than UTF-8
    options: Dict[str, Any] = field(default_factory=dict)  # as recorded on the population
    workbook_notes: List[str] = field(default_factory=list)  # the sheet read, hidden sheets, a filter

    def as_dict(self) -> Dict[str, Any]:
        return {"population_id": self.population_id, "rows": self.rows, "fingerprint": self.fingerprint,
                "skipped_rows": self.skipped_rows, "skipped": [p.as_dict() for p in self.skipped],
                "mapping": self.mapping, "generated_references": self.generated_references,
                "exact_repeats": self.exact_repeats, "conflicting_repeats": self.conflicting_repeats,
                "repeats": [r.as_dict() for r in self.repeats], "date_precision": self.date_precision,
                "encoding_note": self.encoding_note, "options": self.options,
                "workbook_notes": self.workbook_notes}

    def summary_lines(self) -> List[str]:
        """What the import did to the numbers, in words, for the CLI and the wizard."""
        lines = list(self.workbook_notes)
        if self.generated_references:
            lines.append(f"{self.generated_references} case(s) had no reference and were given a generated one "
                         f"(starting {GENERATED_PREFIX}; the same on every import of this file)")
        repeats = self.exact_repeats + self.conflicting_repeats
        if repeats:
            kept = {"keep-first": "the first row of each kept", "keep-last": "the last row of each kept"}.get(
                self.options.get("duplicate_references", ""), "left out")
            lines.append(f"{repeats} row(s) repeated an earlier reference ({self.exact_repeats} exact repeat(s), "
                         f"{self.conflicting_repeats} with different values); {kept}:")
            lines += [f"  {r}" for r in self.repeats]
            if repeats > len(self.repeats):
                lines.append(f"  ... and {repeats - len(self.repeats)} more")
        if self.date_precision == MONTH:
            lines.append("dates give the month only: each case belongs to its month, and date filters treat it "
                         "as spanning the whole month")
        if self.encoding_note:
            lines.append(self.encoding_note)
        return lines


# ---------------------------------------------------------------------------------------------
# Dates


def parse_date(value: Any, date_format: str = "auto") -> Optional[dt.date]:
    """A whole date from a cell, or None if it is not one (qatt.intake.extract_dates.parse_day). Day first
    always: 03/04/2024 is 3 April. Two-digit years: 00-68 are 20xx, 69-99 are 19xx."""
    return parse_day(value, date_format)


# ---------------------------------------------------------------------------------------------
# Public API


class _ExactPassNeeded(Exception):
    """The streaming pass met a row that needs the exact pass (a problem, a repeated or colliding
    reference): the import rolls back to before its first case and reads the file again."""


@dataclass
class _ScanResult:
    problems: List[Problem]
    problem_count: int
    rows_with_problems: int
    extra_columns: List[str]
    checker: "_RowChecker"
    written: int  # rows handed to `write`: the cases stored, when the import goes ahead

    @property
    def references(self) -> Set[str]:
        """The references imported (the exact pass only: a streaming pass does not keep them)."""
        assert not self.checker.streaming
        return self.checker.imported_references()


@dataclass
class CheckResult:
    """What a dry run found: the problems, and how the options would treat references and dates."""

    problems: List[Problem]
    problem_count: int
    rows_with_problems: int
    rows: int  # the cases the import would create
    blank_references: int  # refused blank references (with generate: 0)
    generated_references: int
    exact_repeats: int
    conflicting_repeats: int
    repeats: List[Repeat]
    date_precision: Optional[str]
    encoding_note: str
    fingerprint: str = ""
    same_as: Optional[Tuple[int, str]] = None  # (id, name) of a population holding exactly these cases
    workbook_notes: List[str] = field(default_factory=list)  # the sheet read, hidden sheets, a filter

    def option_lines(self) -> List[str]:
        """How the chosen options treat this file, in words, for the wizard's check page."""
        lines = [note[0].upper() + note[1:] + "." for note in self.workbook_notes]
        if self.blank_references:
            lines.append(f"{self.blank_references:,} row(s) have no reference.")
        if self.generated_references:
            lines.append(f"{self.generated_references:,} row(s) with no reference will get a generated one.")
        repeats = self.exact_repeats + self.conflicting_repeats
        if repeats:
            lines.append(f"{repeats:,} row(s) repeat an earlier reference ({self.exact_repeats:,} exact repeat(s), "
                         f"{self.conflicting_repeats:,} with different values).")
        if self.date_precision == MONTH:
            lines.append("Dates give the month only: each case will belong to its month.")
        if self.encoding_note:
            lines.append(self.encoding_note[0].upper() + self.encoding_note[1:] + ".")
        lines.append(f"{self.rows:,} case(s) would be imported.")
        return lines


def _scan(table: _Table, mapping: Dict[str, str], date_format: str, write: Optional[Callable[[List[tuple]], None]],
          keep_going: bool, progress: ProgressFn, cancel: Optional[CancelToken], population_id: int = 0,
          options: ImportOptions = ImportOptions(), streaming: bool = False) -> _ScanResult:
    """Validate every row; hand valid rows to `write` in batches while that can still be useful.
    streaming: see _RowChecker; raises _ExactPassNeeded at the first row that is not simply valid."""
    checker = _RowChecker(table, mapping, date_format, population_id, options, streaming)
    problems: List[Problem] = []
    problem_count = rows_with_problems = written = 0
    message = f"Reading {table.file_name}" if streaming or write is None else f"Reading {table.file_name} again"
    first, second = itemgetter(0), itemgetter(1)

    def take(batch: List[Tuple[int, list]]) -> None:
        nonlocal write, problem_count, rows_with_problems, written
        rows = list(map(second, batch))
        start = batch[0][0]
        numbers: Sequence[int] = (range(start, start + len(batch)) if batch[-1][0] - start == len(batch) - 1
                                  else list(map(first, batch)))
        valid = checker.check_batch(numbers, rows)
        if valid is None and not all(map(has_content, rows)):  # blank rows (common at the end of Excel exports)
            batch = [(number, cells) for number, cells in batch if has_content(cells)]  # are not cases
            if not batch:
                return
            rows = list(map(second, batch))
            valid = checker.check_batch(list(map(first, batch)), rows)
        if valid is None:
            valid = []
            if streaming:
                checker.seen.clear()  # this batch's references only: earlier ones are in the database
            for number, cells in batch:
                row, row_problems = checker.check(number, cells)
                if streaming and row is None:
                    raise _ExactPassNeeded()
                if row_problems:
                    rows_with_problems += 1
                    problem_count += len(row_problems)
                    problems.extend(row_problems[: max(0, MAX_LISTED_PROBLEMS - len(problems))])
                    if not keep_going:
                        write = None  # the import will be rolled back: stop writing
                elif row is not None:
                    valid.append(row)
        if write is not None:
            write(valid)
            written += len(valid)
        if cancel is not None:
            cancel.check()
        progress(*table.position(), message)

    batch_rows = BATCH_ROWS
    writing = False  # an OSError while writing is the database's, not the file's
    try:
        while True:
            batch = list(itertools.islice(table.rows, batch_rows))  # no Python step per row
            if not batch:
                break
            writing = True
            take(batch)
            writing = False
    except OSError as exc:
        if writing:
            raise
        raise file_error(Path(table.file_name), exc) from None
    except csv.Error as exc:
        # The batch being read is lost with the error: read the file up to it again to name the row.
        raise QattError(csv_problem(table, exc)) from None
    if cancel is not None:
        cancel.check()
    progress(*table.position(), message)
    return _ScanResult(problems, problem_count, rows_with_problems, checker.extra_columns(), checker, written)


def _resolve_mapping(table: _Table, mapping: Optional[Dict[str, str]]) -> Dict[str, str]:
    """The given mapping (or the suggested one) after checking it against the headers."""
    mapping = dict(mapping) if mapping is not None else suggest_mapping(table.headers)
    check_mapping(mapping, table.headers, table.file_name)
    if "recorded_date" in mapping:
        table.native_date_index = table.headers.index(mapping["recorded_date"])
    return mapping


def _compare_repeats(path: Path, sheet: Optional[str], mapping: Dict[str, str], result: _ScanResult) -> None:
    """Tell exact repeats from repeats with different values by reading the file again, keeping
    only the rows involved; then say which in the problems and the checker's counts."""
    checker = result.checker
    if not checker.repeat_pairs:
        return
    needed = {row for pair in checker.repeat_pairs for row in pair}
    cells_of: Dict[int, tuple] = {}
    with _open_table(path, sheet) as table:
        _resolve_mapping(table, mapping)
        width = len(table.headers)
        with reading(path):
            for number, cells in table.rows:
                if number in needed:
                    texts = [_cell_text(c).strip() for c in cells] + [""] * (width - len(cells))
                    while len(texts) > width and not texts[-1]:
                        texts.pop()
                    cells_of[number] = tuple(texts)
    exact = {row for row, first in checker.repeat_pairs if cells_of.get(row) == cells_of.get(first)}
    checker.classify(exact)
    repeating = {row for row, _first in checker.repeat_pairs}
    for i, problem in enumerate(result.problems):
        if problem.row in repeating and problem.message.startswith("repeats reference ") \
                and not problem.message.endswith("of its own"):
            what = "(an exact repeat)" if problem.row in exact else "(with different values)"
            result.problems[i] = dataclasses.replace(problem, message=f"{problem.message} {what}")


def check_extract(path: Path, mapping: Optional[Dict[str, str]], sheet: Optional[str] = None,
                  date_format: str = "auto", options: ImportOptions = ImportOptions(),
                  progress: Optional[ProgressFn] = None, cancel: Optional[CancelToken] = None) -> CheckResult:
    """Dry run with the given options: what the import would report and do; nothing is written."""
    check_date_format(date_format)
    options = options.check()
    with _open_table(Path(path), sheet) as table:
        mapping = _resolve_mapping(table, mapping)
        result = _scan(table, mapping, date_format, None, True, progress or no_progress, cancel, options=options)
        _compare_repeats(Path(path), sheet, mapping, result)
    checker = result.checker
    fingerprint = fingerprint_references(result.references) if result.references else ""
    same = _same_cases(fingerprint) if fingerprint else None
    return CheckResult(result.problems, result.problem_count, result.rows_with_problems, len(result.references),
                       checker.blank_refused, checker.generated, checker.exact_repeats, checker.conflicting_repeats,
                       checker.repeats, checker.precision, table.encoding_note, fingerprint,
                       (same.id, same.name) if same is not None else None, table.workbook_notes)


def check_file(path: Path, mapping: Optional[Dict[str, str]], sheet: Optional[str] = None, date_format: str = "auto",
               progress: Optional[ProgressFn] = None, cancel: Optional[CancelToken] = None,
               options: ImportOptions = ImportOptions()) -> List[Problem]:
    """Dry run: every problem the import would report (up to MAX_LISTED_PROBLEMS); nothing is written."""
    return check_extract(path, mapping, sheet, date_format, options, progress, cancel).problems


def _load_cases(db: Any, path: Path, sheet: Optional[str], mapping: Optional[Dict[str, str]], date_format: str,
                skip_invalid: bool, progress: ProgressFn, cancel: Optional[CancelToken], population_id: int,
                options: ImportOptions, streaming: bool,
                replacements: Optional[Dict[str, tuple]] = None) -> Tuple[_Table, Dict[str, str], _ScanResult]:
    """One pass over the file writing its cases; streaming: see _RowChecker (raises _ExactPassNeeded,
    the caller rolls back what this pass wrote). Raises ImportProblems at the end of an exact pass
    that found problems (without skip_invalid). replacements (keep-last, from an earlier exact
    pass): reference -> the row written in place of the first row with that reference."""
    with _open_table(path, sheet) as table:
        mapping = _resolve_mapping(table, mapping)
        try:
            with _case_writer(db) as write:
                if replacements:
                    write = _replacing(write, replacements)
                result = _scan(table, mapping, date_format, write, skip_invalid, progress, cancel, population_id,
                               options, streaming)
        except Exception as exc:
            # The unique (population, reference) index refused a reference that an earlier batch
            # wrote: a repeat, which the exact pass names with both rows.
            if streaming and any(cls.__name__ == "IntegrityError" for cls in type(exc).__mro__):
                raise _ExactPassNeeded() from exc
            raise
        checker = result.checker
        _compare_repeats(path, sheet, mapping, result)
        if result.problem_count and not skip_invalid:
            raise ImportProblems(table.file_name, result.problems, result.problem_count, result.rows_with_problems,
                                 checker.blank_refused, checker.exact_repeats, checker.conflicting_repeats)
        done, total = table.position()
        progress(done, total, "Saving to the database")
    return table, mapping, result


def import_population(path: Path, *, name: str, actor: str, mapping: Optional[Dict[str, str]] = None,
                      sheet: Optional[str] = None, skip_invalid: bool = False, date_format: str = "auto",
                      progress: Optional[ProgressFn] = None, cancel: Optional[CancelToken] = None,
                      blank_references: str = "refuse", duplicate_references: str = "refuse",
                      allow_duplicate: bool = False, date_precision: str = "auto") -> ImportResult:
    """Import the extract as a new Population in one transaction.

    Raises ImportProblems (nothing written) if any row is invalid and skip_invalid is False,
    DuplicatePopulation if the same cases are already a population and allow_duplicate is False,
    and Cancelled (nothing written) if `cancel` is set before the end. date_precision "month": the
    date column holds months even where it gives whole dates (each must be the 1st of its month)."""
    path = Path(path)
    check_date_format(date_format)
    options = ImportOptions(blank_references, duplicate_references, allow_duplicate, date_precision).check()
    progress = progress or no_progress
    name = check_name("population", name, m.Population.name.max_length)
    db = database_proxy.obj
    with _write_errors(path.name):
        with write_transaction(db):
            population = m.Population.create(name=name, source_file=str(path), imported_by=actor, mapping=mapping)
            load = functools.partial(_load_cases, db, path, sheet, mapping, date_format, skip_invalid, progress, cancel,
                                     population.id, options)
            try:
                with db.savepoint():
                    table, mapping, result = load(streaming=True)
            except _ExactPassNeeded:
                with db.savepoint() as exact:
                    table, mapping, result = load(streaming=False)
                    # keep-last with a repeat whose values differ: the last rows are known only now; write again with them
                    replacements = result.checker.replacements if result.checker.conflicting_repeats else None
                    if replacements:
                        exact.rollback()
                if replacements:
                    table, mapping, result = load(streaming=False, replacements=replacements)
            checker = result.checker
            rows = result.written
            fingerprint = _stored_fingerprint(db, population.id, rows)
            if not rows:
                raise QattError(f"{table.file_name} has no valid case rows under its header; nothing was imported.")
            if not allow_duplicate:
                existing = _same_cases(fingerprint, population.id)
                if existing is not None:
                    raise DuplicatePopulation(table.file_name, existing)
            recorded_options = {
                "blank_references": blank_references, "generated_references": checker.generated,
                "duplicate_references": duplicate_references, "exact_repeats": checker.exact_repeats,
                "conflicting_repeats": checker.conflicting_repeats, "date_precision": checker.precision,
                "encoding": table.encoding,
            }
            if table.sheet is not None:
                recorded_options["sheet"] = table.sheet
            if date_precision != "auto":  # recorded only when asked for, as every earlier import recorded
                recorded_options["date_precision_option"] = date_precision
            (m.Population.update(row_count=rows, fingerprint=fingerprint, extra_columns=result.extra_columns,
                                 import_options=recorded_options, mapping=mapping)
             .where(m.Population.id == population.id).execute())
            audit.record(actor, audit.COLLECTION, "population", population.id, {
                "file": table.file_name, "rows": rows, "skipped_rows": result.rows_with_problems,
                "fingerprint": fingerprint, "mapped_fields": sorted(mapping), **recorded_options,
            })
    return ImportResult(population.id, rows, fingerprint, result.problems, result.rows_with_problems, mapping,
                        checker.generated, checker.repeats, checker.exact_repeats, checker.conflicting_repeats,
                        checker.precision, table.encoding_note, recorded_options, table.workbook_notes)
