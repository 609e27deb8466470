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
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as dt
import functools
import hashlib
import io
import itertools
import json.encoder
from dataclasses import asdict, dataclass, field
from operator import itemgetter, methodcaller
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Set, Tuple

from qatt.trust import audit
from qatt.errors import Cancelled, QattError
from qatt.intake.extract_dates import DAY, EXPECTED as _EXPECTED, MONTH, parse_case_date, parse_day
from qatt.intake.extract_files import check_workbook_archive, detect_encoding, file_error, reading
from qatt.intake.fingerprint import OrderedFingerprint, fingerprint_references
from qatt.intake.mapping import FIELD_LABELS, check_date_format, check_mapping, check_name, suggest_mapping
from qatt.progress import CancelToken, ProgressFn, no_progress
from qatt.storage import models as m
from qatt.storage.copy import CopyStream, copy_text
from qatt.storage.db import database_proxy, is_sqlite, write_transaction

__all__ = ["Problem", "ImportProblems", "Cancelled", "Preview", "ImportResult", "ImportOptions", "Repeat",
           "DuplicatePopulation", "preview", "check_file", "import_population", "parse_date"]

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
# Small batches keep the rows in flight in the CPU cache: the strings the CSV reader has just made are
# still cached when they are checked and written. Measured on 1,000,000 rows (bench/bench_import.py):
# 200 rows a batch takes about a fifth less CPU than 1,000 (and 1,000 was ~8% faster than 10,000);
# 100 to 250 are alike, below that the per-batch work shows.
BATCH_ROWS = 200
# Bounded memory even for a file where every row is wrong; the count is always exact.
MAX_LISTED_PROBLEMS = 10_000
# Distinct date strings are few (days x formats); with times they may not be, so stop caching.
MAX_CACHED_DATES = 100_000
# Extra columns are mostly categories (source system, age band); a free-text one stops filling the cache.
MAX_CACHED_EXTRAS = 10_000

# Text fields in the order they are written after reference and recorded_date.
TEXT_FIELDS = ("area", "division", "team", "officer", "supervisor", "risk", "status", "summary")
CASE_COLUMNS = ("population_id", "reference", "recorded_date") + TEXT_FIELDS + ("extra",)
# summary is TEXT; every other text field is a VARCHAR that PostgreSQL enforces.
MAX_LENGTHS = {name: getattr(m.Case, name).max_length for name in ("reference",) + TEXT_FIELDS[:-1]}
SHORTEST_LIMIT = min(MAX_LENGTHS.values())

# What to do with a row whose reference is blank, and with a reference that repeats an earlier row's.
BLANK_REFERENCES = ("refuse", "generate")
DUPLICATE_REFERENCES = ("refuse", "keep-first", "keep-last")
# Generated references: this prefix and 16 hex digits of SHA-256 over the row's values and how many
# identical blank-reference rows came before it. A real reference with the prefix is refused when
# references are generated, so a case's reference is generated exactly when it has the prefix.
GENERATED_PREFIX = "QATT-GEN-"
# Repeats listed in the summary (all are counted).
MAX_LISTED_REPEATS = 1_000


@dataclass(frozen=True)
class ImportOptions:
    """How the import treats blank and repeated references (both refuse by default, so nothing
    changes silently) and whether a file already imported may be imported again."""

    blank_references: str = "refuse"
    duplicate_references: str = "refuse"
    allow_duplicate: bool = False

    def check(self) -> "ImportOptions":
        if self.blank_references not in BLANK_REFERENCES:
            raise QattError(f"Unknown choice {self.blank_references!r} for blank references; choose "
                            f"{' or '.join(BLANK_REFERENCES)}.")
        if self.duplicate_references not in DUPLICATE_REFERENCES:
            raise QattError(f"Unknown choice {self.duplicate_references!r} for repeated references; choose one "
                            f"of {', '.join(DUPLICATE_REFERENCES)}.")
        return self


@dataclass(frozen=True)
class Repeat:
    """A row whose reference an earlier row already has."""

    row: int
    reference: str
    first_row: int  # the earlier row it repeats (the one kept so far)
    exact: bool  # every cell of the row is the same as on the earlier row
    kept: str  # "first", "last" or "" (refused or left out as invalid)

    def __str__(self) -> str:
        what = "an exact repeat" if self.exact else "with different values"
        outcome = {"first": f"row {self.first_row} kept", "last": f"row {self.row} kept"}.get(self.kept, "")
        return (f"row {self.row} repeats reference {self.reference!r} from row {self.first_row} ({what}"
                + (f"; {outcome})" if outcome else ")"))

    def as_dict(self) -> Dict[str, Any]:
        return asdict(self)


class DuplicatePopulation(QattError):
    """The file's references are exactly those of a population already imported."""

    def __init__(self, file_name: str, existing: m.Population) -> None:
        self.existing_id = existing.id
        self.existing_name = existing.name
        super().__init__(
            f"{file_name} holds the same cases as population {existing.id} ({existing.name!r}, imported "
            f"{existing.imported_at:%Y-%m-%d %H:%M} by {existing.imported_by or 'someone'}); nothing was imported. "
            "Use that population, or import with --allow-duplicate to make a second copy.")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one row; row numbers are as Excel shows them (header = row 1)."""

    file: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}, row {self.row}"
        if self.column:
            where += f", column '{self.column}'"
        return f"{where}: {self.message}"

    def as_dict(self) -> Dict[str, Any]:
        return asdict(self)


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
class Preview:
    path: Path
    headers: List[str]
    rows: List[List[str]]
    suggested_mapping: Dict[str, str]
    encoding: Optional[str]
    delimiter: Optional[str]
    sheets: List[str]


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

    def as_dict(self) -> Dict[str, Any]:
        return {"population_id": self.population_id, "rows": self.rows, "fingerprint": self.fingerprint,
                "skipped_rows": self.skipped_rows, "skipped": [p.as_dict() for p in self.skipped],
                "mapping": self.mapping, "generated_references": self.generated_references,
                "exact_repeats": self.exact_repeats, "conflicting_repeats": self.conflicting_repeats,
                "repeats": [r.as_dict() for r in self.repeats], "date_precision": self.date_precision,
                "encoding_note": self.encoding_note, "options": self.options}

    def summary_lines(self) -> List[str]:
        """What the import did to the numbers, in words, for the CLI and the wizard."""
        lines = []
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
# Reading files as (headers, rows)


@dataclass
class _Table:
    """An open extract: cleaned headers and an iterator of (row number, cells) after the header."""

    file_name: str
    headers: List[str]
    rows: Iterator[Tuple[int, list]]
    position: Callable[[], Tuple[int, int]]  # (done, total) in any unit, for progress
    encoding: Optional[str] = None
    delimiter: Optional[str] = None
    sheets: List[str] = field(default_factory=list)
    encoding_note: str = ""  # why the CSV is read as Windows-1252 (qatt.intake.extract_files.detect_encoding)
    # Workbooks only: the column whose Excel dates stay dates (set once the mapping is known).
    native_date_index: Optional[int] = None
    header_row: int = 0
    path: Optional[Path] = None  # CSV: to read it again up to a row that cannot be read

    @property
    def unnamed(self) -> Set[str]:
        """Headers made up for blank header cells ("Column 7")."""
        return {h for i, h in enumerate(self.headers, start=1) if h == f"Column {i}"}


def _clean_headers(raw: Sequence[Any], file_name: str, header_row: int) -> List[str]:
    headers = []
    first_seen: Dict[str, int] = {}
    for index, cell in enumerate(raw, start=1):
        name = _cell_text(cell).strip() or f"Column {index}"
        if name in first_seen:
            raise QattError(f"{file_name}, row {header_row}: columns {first_seen[name]} and {index} are both "
                            f"called {name!r}. Give every column a different header.")
        first_seen[name] = index
        headers.append(name)
    return headers


def _detect_delimiter(sample: str) -> str:
    """The delimiter (comma, semicolon or tab) that splits the first lines into the most, equal-width rows."""
    lines = sample.splitlines(keepends=True)
    if len(lines) > 1:
        lines = lines[:-1]  # the last line of a sample may be cut short
    best, best_score = ",", (0, 0)
    for delimiter in (",", ";", "\t"):
        try:
            records = [r for r in csv.reader(lines[:50], delimiter=delimiter) if r]
        except csv.Error:
            continue
        if not records or len(records[0]) < 2:
            continue
        width = len(records[0])
        score = (sum(len(r) == width for r in records), width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


@contextlib.contextmanager
def _open_csv(path: Path) -> Iterator[_Table]:
    encoding, note = detect_encoding(path)
    total = path.stat().st_size
    with reading(path):
        raw = open(path, "rb")
    with raw:
        text = io.TextIOWrapper(raw, encoding=encoding, newline="")
        # One record is one Excel row, even when a quoted cell spans lines.
        with reading(path):
            delimiter = _detect_delimiter(text.read(64 * 1024))
            text.seek(0)
            rows = enumerate(csv.reader(text, delimiter=delimiter), start=1)
            try:
                header_row, raw_headers = _first_non_blank(rows)
            except csv.Error as exc:
                raise QattError(f"{path.name}: cannot read the header row ({exc}). Check its quotes.") from None
        headers = _clean_headers(raw_headers, path.name, header_row) if raw_headers is not None else []
        yield _Table(path.name, headers, rows, lambda: (raw.tell(), total), encoding, delimiter, header_row=header_row,
                     encoding_note=note, path=path)


def _first_non_blank(rows: Iterator[Tuple[int, list]]) -> Tuple[int, Optional[list]]:
    for number, cells in rows:
        if any(_cell_text(c).strip() for c in cells):
            return number, cells
    return 0, None


def _cell_text(value: Any) -> str:
    """Workbook cells as the text a user would type: 12345.0 -> '12345', dates as ISO."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    if value is None:
        return ""
    return str(value)


@contextlib.contextmanager
def _open_workbook(path: Path, sheet: Optional[str]) -> Iterator[_Table]:
    """Open a sheet with python-calamine; cells become text except in the table's native date
    column, where Excel dates stay dates so no text format has to be guessed."""
    from python_calamine import CalamineError, CalamineWorkbook, WorksheetNotFound

    check_workbook_archive(path)
    try:
        with open(path, "rb"):  # a permission or lock problem in one line, before calamine sees the file
            pass
    except OSError as exc:
        raise file_error(path, exc) from None
    try:
        book = CalamineWorkbook.from_path(str(path))
    except (CalamineError, OSError, ValueError) as exc:
        raise QattError(f"Cannot open {path.name} as a workbook ({exc}). Check it opens in Excel.") from None
    try:
        names = list(book.sheet_names)
        try:
            data = book.get_sheet_by_name(sheet) if sheet else book.get_sheet_by_index(0)
        except WorksheetNotFound:
            raise QattError(f"{path.name} has no sheet called {sheet!r}; its sheets are "
                            f"{', '.join(map(repr, names))}.") from None
        # iter_rows starts at row 1 even when the used range starts lower, so the offset is the row.
        total = (data.end or (0, 0))[0] + 1
        done = [0]

        def numbered() -> Iterator[Tuple[int, list]]:
            for number, cells in enumerate(data.iter_rows(), start=1):
                done[0] = number
                yield number, cells

        rows = numbered()
        header_row, raw_headers = _first_non_blank(rows)
        headers = _clean_headers(raw_headers, path.name, header_row) if raw_headers is not None else []
        table = _Table(path.name, headers, iter(()), lambda: (done[0], total), sheets=names)

        def as_text() -> Iterator[Tuple[int, list]]:
            for number, cells in rows:
                texts = [_cell_text(c) for c in cells]
                if any("\x00" in t for t in texts):  # Excel's _x0000_ escape; PostgreSQL cannot store it
                    raise QattError(f"{path.name}, row {number}: a cell holds a NUL character (_x0000_ in "
                                    "the file), which is not text. Remove it and import again.")
                native = table.native_date_index
                if native is not None and native < len(cells) and isinstance(cells[native], dt.date):
                    texts[native] = cells[native]
                yield number, texts

        table.rows = as_text()
        yield table
    finally:
        book.close()


@contextlib.contextmanager
def _open_table(path: Path, sheet: Optional[str] = None) -> Iterator[_Table]:
    path = Path(path)
    try:
        path.stat()
    except OSError as exc:
        raise file_error(path, exc) from None
    if not path.is_file():
        raise QattError(f"{path} does not exist or is not a file.")
    if path.suffix.lower() in WORKBOOK_SUFFIXES:
        opened = _open_workbook(path, sheet)
    elif sheet:
        raise QattError(f"{path.name} is a CSV file, which has no sheets; leave out the sheet name.")
    else:
        opened = _open_csv(path)
    with opened as table:
        if not table.headers:
            raise QattError(f"{path.name} is empty: the first row must hold the column headers.")
        yield table


# ---------------------------------------------------------------------------------------------
# Validating rows


class _Memo(dict):
    """Values computed once per distinct key (up to `limit` keys): extracts repeat their dates and
    category columns on row after row, and a dict lookup (C, even through map) costs far less."""

    def __init__(self, compute: Callable[[Any], Any], limit: int) -> None:
        super().__init__()
        self.compute = compute
        self.limit = limit

    def __missing__(self, key: Any) -> Any:
        value = self.compute(key)
        if len(self) < self.limit:
            self[key] = value
        return value


class _RowChecker:
    """Turns cells into Case row tuples or lists of problems.

    Two paths give the same rows. `check_batch` is the hot path of a million-row import: it checks
    a whole batch column by column with C-level map/zip/set operations and returns None as soon as
    any row may be invalid (or needs a decision: a repeated reference, a blank one to generate
    where a generated one collides); that batch then goes row by row through `check`, which
    reports exactly what is wrong (through `_problems`) and applies the import options."""

    def __init__(self, table: _Table, mapping: Dict[str, str], date_format: str, population_id: int = 0,
                 options: ImportOptions = ImportOptions(), streaming: bool = False) -> None:
        headers = table.headers
        # Streaming (the first pass of an import): references are not remembered across batches; the
        # database's unique index finds a repeat instead, and any row needing a decision or a report
        # stops the pass (_scan raises _ExactPassNeeded), so the import is read again exactly.
        self.streaming = streaming
        self.index = index = {h: i for i, h in enumerate(headers)}
        self.unnamed = table.unnamed
        self.file_name = table.file_name
        self.width = len(headers)
        self.reference_header = mapping["reference"]
        self.date_header = mapping.get("recorded_date", "")
        self.date_format = date_format
        self.text_headers = [mapping.get(f, "") for f in TEXT_FIELDS]
        mapped = set(mapping.values())
        self.extra_headers = [h for h in headers if h not in mapped]
        self.extra_used: Set[int] = set()
        self.generate = options.blank_references == "generate"
        self.duplicates = options.duplicate_references
        # Every reference met -> the row it was kept from (with keep-last, the latest such row), so a
        # repeat is reported even when its first row was rejected for another reason; `rejected`
        # holds those first rows' references, which are not imported.
        self.seen: Dict[str, int] = {}
        self.rejected: Set[str] = set()
        self.replacements: Dict[str, tuple] = {}  # keep-last: reference -> the values of its last row
        self.repeats: List[Repeat] = []
        self.exact_repeats = self.conflicting_repeats = 0
        # (row, earlier row) of every repeat: exact or not is decided after the scan (classify).
        self.repeat_pairs: List[Tuple[int, int]] = []
        self.generated = 0
        self.blank_refused = 0
        self.blank_occurrences: Dict[bytes, int] = {}
        # Dates are whole days or months throughout; the first dated row decides which.
        self.precision: Optional[str] = None
        self.precision_row = 0
        self.dates = _Memo(self._parse_date, MAX_CACHED_DATES)
        self.extras = self._make_extras(sorted(self.extra_headers))
        self.check = self._make_check(index, mapping, population_id)
        self.check_batch = self._make_check_batch(index, mapping, population_id)

    # -- references made for blank cells

    def _generate(self, cells: Sequence[Any], pending: Optional[Dict[bytes, int]] = None) -> str:
        """A stable reference for a row with a blank one: the same row of the same file always gets
        the same reference; identical rows get different ones (by how many came before)."""
        content = "\x1f".join([_cell_text(c).strip() for c in cells]).encode("utf-8", "surrogatepass")
        key = hashlib.sha256(content).digest()
        counts = self.blank_occurrences
        n = pending[key] if pending is not None and key in pending else counts.get(key, 0)
        while True:
            reference = GENERATED_PREFIX + hashlib.sha256(key + str(n).encode()).hexdigest()[:16].upper()
            n += 1
            if reference not in self.seen:
                break
        (pending if pending is not None else counts)[key] = n
        return reference

    # -- the two paths

    def _make_check(self, index: Dict[str, int], mapping: Dict[str, str], population_id: int
                    ) -> Callable[[int, list], Tuple[Optional[tuple], List[Problem]]]:
        width = self.width
        reference_index = index[mapping["reference"]]
        date_index = index.get(mapping.get("recorded_date", ""))
        dates = self.dates
        # Unmapped fields read the empty cell appended after the last column.
        get_texts = itemgetter(*[index[mapping[f]] if f in mapping else width for f in TEXT_FIELDS])
        extra_headers = sorted(self.extra_headers)
        extras = self.extras
        # The trailing blank cell makes itemgetter return a tuple even for one extra column
        # (check_batch builds the same keys).
        get_extras = itemgetter(*[index[h] for h in extra_headers], width)
        unnamed_extras = [index[h] for h in extra_headers if h in self.unnamed]
        extra_used = self.extra_used
        seen = self.seen
        generate = self.generate
        strip = str.strip
        no_problems: List[Problem] = []

        def check(number: int, cells: list) -> Tuple[Optional[tuple], List[Problem]]:
            """(Case values with the population id first, []) for a valid row; (None, problems) for an
            invalid one; (None, []) for a repeat the options resolve (kept first, or kept last later)."""
            if len(cells) == width:
                cells.append("")
            elif len(cells) < width:
                cells = cells + [""] * (width + 1 - len(cells))
            else:
                cells = cells[:width] + ["", cells[width:]]  # the overflow is judged by _problems
            reference = cells[reference_index].strip()
            generated = False
            if not reference and generate:
                reference, generated = self._generate(cells[:width]), True
            parsed = dates[cells[date_index]] if date_index is not None else None
            recorded = parsed + "-01" if parsed and len(parsed) == 7 else parsed
            precision = (MONTH if len(parsed) == 7 else DAY) if parsed else None
            texts = get_texts(cells)
            stripped = tuple(map(strip, texts))
            extra = extras[get_extras(cells)] if extra_headers else None
            row = (population_id, reference, recorded, *stripped, extra)
            first = seen.get(reference) if reference else None
            # Lengths before stripping: a row that passes here passes after stripping too.
            if (len(cells) > width + 1 or not reference or first is not None or recorded == ""
                    or (precision is not None and self.precision not in (None, precision))
                    or (generate and not generated and reference.startswith(GENERATED_PREFIX))
                    or max(map(len, texts)) > SHORTEST_LIMIT or len(reference) > SHORTEST_LIMIT):
                problems = self._problems(number, cells, reference, parsed, stripped, generated, first, row)
                if problems:
                    return None, problems
            if extra is not None:
                for i in unnamed_extras:
                    if cells[i].strip():
                        extra_used.add(i)
            if precision is not None and self.precision is None:
                self.precision, self.precision_row = precision, number
            if first is not None:
                self._repeat(number, reference, first, row)
                return None, no_problems
            seen[reference] = number
            self.generated += generated
            return row, no_problems

        return check

    def _repeat(self, number: int, reference: str, first: int, row: tuple) -> None:
        """A valid row repeating a kept reference, with keep-first or keep-last."""
        kept = "first" if self.duplicates == "keep-first" else "last"
        if kept == "last":
            self.replacements[reference] = row
            self.seen[reference] = number
        self.repeat_pairs.append((number, first))
        if len(self.repeats) < MAX_LISTED_REPEATS:
            self.repeats.append(Repeat(number, reference, first, False, kept))

    def classify(self, exact_rows: Set[int]) -> None:
        """Count exact and conflicting repeats, given the repeating rows identical to their earlier row."""
        self.exact_repeats = sum(1 for row, _first in self.repeat_pairs if row in exact_rows)
        self.conflicting_repeats = len(self.repeat_pairs) - self.exact_repeats
        self.repeats = [dataclasses.replace(r, exact=r.row in exact_rows) for r in self.repeats]

    def _make_extras(self, extra_headers: List[str]) -> _Memo:
        """Case.extra (JSON, sorted keys, empty values left out, None if nothing is left) for a
        tuple of the extra columns' raw cells in `extra_headers` order, plus one trailing cell.

        Built from pre-encoded keys: several times faster than json.dumps per row."""
        encode = json.encoder.encode_basestring
        keys = [encode(h) + ":" for h in extra_headers]
        strip = str.strip

        def extra_json(values: tuple) -> Optional[str]:
            parts = [key + encode(value) for key, value in zip(keys, map(strip, values)) if value]
            return "{" + ",".join(parts) + "}" if parts else None

        return _Memo(extra_json, MAX_CACHED_EXTRAS)

    def _make_check_batch(self, index: Dict[str, int], mapping: Dict[str, str], population_id: int
                          ) -> Callable[[Sequence[int], Sequence[list]], Optional[List[tuple]]]:
        width = self.width
        reference_index = index[mapping["reference"]]
        reference_limit = MAX_LENGTHS["reference"]
        date_index = index.get(mapping.get("recorded_date", ""))
        text_indexes = [index[mapping[f]] if f in mapping else None for f in TEXT_FIELDS]
        text_limits = [MAX_LENGTHS.get(f) for f in TEXT_FIELDS]
        extra_headers = sorted(self.extra_headers)
        extra_indexes = [index[h] for h in extra_headers]
        unnamed_extras = [index[h] for h in extra_headers if h in self.unnamed]
        dates, extras, seen, extra_used = self.dates, self.extras, self.seen, self.extra_used
        generate = self.generate
        is_generated = methodcaller("startswith", GENERATED_PREFIX)
        strip = str.strip
        streaming = self.streaming
        categories = [i is not None for i in text_indexes]  # until a batch shows a column is free text

        def check_batch(numbers: Sequence[int], rows: Sequence[list]) -> Optional[List[tuple]]:
            """Case values (population id first) for every row of a non-empty batch of non-blank
            rows if all are full-width and valid; else None, having changed nothing."""
            if set(map(len, rows)) != {width}:
                return None
            columns = list(zip(*rows))
            references = list(map(strip, columns[reference_index]))
            pending: Optional[Dict[bytes, int]] = None
            if not all(references):
                if not generate or any(map(is_generated, references)) or not all(map(any, rows)):
                    return None  # (a blank row is no case: the caller drops it and tries again)
                pending = {}
                references = [ref or self._generate(cells, pending) for ref, cells in zip(references, rows)]
            elif generate and any(map(is_generated, references)):
                return None
            unique = set(references)
            if (max(map(len, references)) > reference_limit
                    or len(unique) != len(references) or not (streaming or seen.keys().isdisjoint(unique))):
                return None
            blanks = [""] * len(rows)
            texts: List[Sequence[str]] = []
            for k, i in enumerate(text_indexes):
                if i is None:
                    texts.append(blanks)
                    continue
                column, limit = columns[i], text_limits[k]
                if categories[k]:
                    # Most text columns hold few values (areas, teams, officers): stripping and
                    # measuring each distinct value once is cheaper than doing it on every cell.
                    distinct = list(set(column))
                    if len(distinct) * 4 <= len(column):
                        stripped = list(map(strip, distinct))
                        if stripped != distinct:
                            column = list(map(strip, column))
                        if limit is not None and max(map(len, stripped)) > limit:
                            return None
                        texts.append(column)
                        continue
                    categories[k] = False  # free text: the set is wasted work from now on
                column = list(map(strip, column))
                if limit is not None and max(map(len, column)) > limit:
                    return None
                texts.append(column)
            precision = None
            if date_index is None:
                recorded = [None] * len(rows)
            else:
                recorded = list(map(dates.__getitem__, columns[date_index]))
                lengths = set(map(len, recorded))
                if lengths == {10}:
                    precision = DAY
                elif lengths == {7}:
                    precision = MONTH
                    recorded = [month + "-01" for month in recorded]
                else:  # a date that is not one, or days and months mixed
                    return None
                if self.precision not in (None, precision):
                    return None
            if extra_indexes:
                extra = list(map(extras.__getitem__, zip(*[columns[i] for i in extra_indexes], blanks)))
                extra_used.update(i for i in unnamed_extras if any(map(strip, columns[i])))
            else:
                extra = [None] * len(rows)
            if precision is not None and self.precision is None:
                self.precision, self.precision_row = precision, numbers[0]
            if pending:
                self.blank_occurrences.update(pending)
                self.generated += sum(map(is_generated, references))
            if not streaming:
                seen.update(zip(references, numbers))
            return list(zip(itertools.repeat(population_id), references, recorded, *texts, extra))

        return check_batch

    def _problems(self, number: int, cells: list, reference: str, parsed: Optional[str], texts: Tuple[str, ...],
                  generated: bool, first: Optional[int], row: tuple) -> List[Problem]:
        """Everything wrong with a row that failed a quick check (may be nothing: a long summary,
        or a repeat that the options keep one row of)."""
        found = []
        if len(cells) > self.width + 1:
            overflow = cells[self.width + 1]
            if any(_cell_text(c).strip() for c in overflow):
                found.append(Problem(self.file_name, number, "",
                                     f"has {self.width + len(overflow)} values but the header row has "
                                     f"{self.width} columns; check for an unquoted delimiter"))
        if not reference:
            self.blank_refused += 1
            found.append(Problem(self.file_name, number, self.reference_header, "the case reference is empty"))
        elif first is not None and reference in self.rejected:
            found.append(Problem(self.file_name, number, self.reference_header,
                                 f"repeats reference {reference!r} from row {first}, which has problems of its own"))
        elif first is not None and self.duplicates == "refuse":
            self.repeat_pairs.append((number, first))
            # classify() adds whether it is an exact repeat, once the file has been read.
            found.append(Problem(self.file_name, number, self.reference_header,
                                 f"repeats reference {reference!r} from row {first}"))
        elif len(reference) > MAX_LENGTHS["reference"]:
            found.append(Problem(self.file_name, number, self.reference_header,
                                 f"is longer than {MAX_LENGTHS['reference']} characters"))
        elif self.generate and not generated and reference.startswith(GENERATED_PREFIX):
            found.append(Problem(self.file_name, number, self.reference_header,
                                 f"reference {reference!r} has the form QATT gives generated references "
                                 f"({GENERATED_PREFIX}...); rename it, or import without generating references"))
        if parsed == "":
            found.append(Problem(self.file_name, number, self.date_header, self._date_message(cells)))
        elif parsed is not None and self.precision not in (None, MONTH if len(parsed) == 7 else DAY):
            given = _cell_text(cells[self.index[self.date_header]]).strip()
            if self.precision == MONTH:
                what = f"{given!r} is a whole date, but row {self.precision_row} gave a month only"
            else:
                what = f"{given!r} is a month only, but row {self.precision_row} gave a whole date"
            found.append(Problem(self.file_name, number, self.date_header,
                                 f"{what}; a date column must hold whole dates throughout or months throughout"))
        for header, name, value in zip(self.text_headers, TEXT_FIELDS, texts):
            limit = MAX_LENGTHS.get(name)
            if limit is not None and len(value) > limit:
                found.append(Problem(self.file_name, number, header,
                                     f"is longer than {limit} characters (the limit for {FIELD_LABELS[name]})"))
        if found and reference and reference not in self.seen:
            self.seen[reference] = number
            self.rejected.add(reference)
        return found

    def _parse_date(self, raw: Any) -> str:
        """ISO text for a date cell: YYYY-MM-DD for a day, YYYY-MM for a month-only date, '' if it is
        not a date (memoised in self.dates)."""
        parsed = parse_case_date(raw, self.date_format)
        if parsed is None:
            return ""
        value, precision = parsed
        return f"{value.year:04d}-{value.month:02d}" if precision == MONTH else value.isoformat()

    def _date_message(self, cells: list) -> str:
        text = _cell_text(cells[self.index[self.date_header]]).strip()
        if not text:
            return "the date recorded is empty (every case needs one when the column is mapped)"
        return f"{text!r} is not a date (expected {_EXPECTED[self.date_format]})"

    def imported_references(self) -> Set[str]:
        return set(self.seen) - self.rejected if self.rejected else set(self.seen)

    def extra_columns(self) -> List[str]:
        """Unmapped headers in file order; unnamed columns only if they held something."""
        return [h for h in self.extra_headers if h not in self.unnamed or self.index[h] in self.extra_used]


# ---------------------------------------------------------------------------------------------
# Writing rows


# Where the rows may hold None (NULL): the date, when it is not mapped, and extra.
NULLABLE_COLUMNS = tuple(CASE_COLUMNS.index(name) for name in ("recorded_date", "extra"))


@contextlib.contextmanager
def _case_writer(db: Any) -> Iterator[Callable[[List[tuple]], None]]:
    """A function that writes batches of rows in CASE_COLUMNS order (population id first),
    through the DB-API connection: peewee's insert_many is ~8x slower here.

    SQLite: executemany. (Writing from a second thread was measured and gave nothing: sqlite3
    hands the GIL back and forth on every row.) PostgreSQL: one streamed COPY (qatt.storage.copy),
    so the server indexes rows while the next ones are read, and checks the population of all
    of them once at the end of the statement (qatt.storage.pg_integrity)."""
    columns = ", ".join(f'"{c}"' for c in CASE_COLUMNS)
    table = f'"{m.Case._meta.table_name}"'
    if is_sqlite(db):
        cursor = db.cursor()
        sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' * len(CASE_COLUMNS))})"

        def insert(batch: List[tuple]) -> None:
            if batch:
                cursor.executemany(sql, batch)

        yield insert
        return
    text_columns = len(CASE_COLUMNS) - 1
    with CopyStream(db, f"COPY {table} ({columns}) FROM STDIN") as stream:
        yield lambda batch: stream.write(copy_text(batch, text_columns, NULLABLE_COLUMNS))


# ---------------------------------------------------------------------------------------------
# Public API


def preview(path: Path, sheet: Optional[str] = None, rows: int = 20) -> Preview:
    """Headers, the first `rows` rows as text and the suggested mapping, for the import wizard."""
    with _open_table(Path(path), sheet) as table:
        first: List[List[str]] = []
        for _number, cells in table.rows:
            if len(first) >= rows:
                break
            texts = [_cell_text(c) for c in cells]
            if any(t.strip() for t in texts):
                first.append((texts + [""] * len(table.headers))[: len(table.headers)])
        return Preview(Path(path), table.headers, first, suggest_mapping(table.headers),
                       table.encoding, table.delimiter, table.sheets)


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

    def option_lines(self) -> List[str]:
        """How the chosen options treat this file, in words, for the wizard's check page."""
        lines = []
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


def _same_cases(fingerprint: str, other_than: int = 0) -> Optional[m.Population]:
    """The first population (not purged) whose cases have exactly this fingerprint."""
    return (m.Population.select()
            .where(m.Population.fingerprint == fingerprint, m.Population.purged == False,  # noqa: E712
                   m.Population.id != other_than)
            .order_by(m.Population.id).first())


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
        if valid is None and not all(map(any, rows)):  # blank rows (common at the end of Excel exports)
            batch = [(number, cells) for number, cells in batch if any(cells)]  # are not cases
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
        number = _last_readable_row(table)
        raise QattError(f"{table.file_name}, row {number + 1}: cannot read the CSV ({exc}). "
                        f"Check the quotes on that row.") from None
    if cancel is not None:
        cancel.check()
    progress(*table.position(), message)
    return _ScanResult(problems, problem_count, rows_with_problems, checker.extra_columns(), checker, written)


def _last_readable_row(table: _Table) -> int:
    """The number of the last row read without a CSV error, reading the file again from the start."""
    assert table.path is not None
    with _open_csv(table.path) as again:
        number = again.header_row
        try:
            for number, _cells in again.rows:
                pass
        except csv.Error:
            pass
    return number


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
                       (same.id, same.name) if same is not None else None)


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


# References hashed per query: ~1.5 MB of text, so the fingerprint holds no more whatever the size.
FINGERPRINT_CHUNK = 100_000


def _stored_fingerprint(db: Any, population_id: int, cases: int) -> str:
    """The fingerprint of a population as stored (`cases` rows), streamed from the database in
    reference order through the unique (population, reference) index, a chunk of references
    joined by the database at a time. qatt.intake.fingerprint.OrderedFingerprint checks each chunk and the
    count is checked at the end, so a collation that orders otherwise (or a reference holding a
    newline, which would split in two) falls back to one reference a row in code point order, and
    as a last resort to sorting them all in Python: the bytes hashed are those of the documented
    rule either way."""
    table = f'"{m.Case._meta.table_name}"'
    p = db.param
    join = "group_concat(reference, char(10))" if is_sqlite(db) else "string_agg(reference, E'\\n')"
    sql = (f"SELECT {join} FROM (SELECT reference FROM {table} WHERE population_id = {p} AND reference > {p} "
           f"ORDER BY reference LIMIT {FINGERPRINT_CHUNK}) AS chunk")
    cursor = db.cursor()
    with _index_scans(db):
        return _chunked_fingerprint(db, cursor, sql, population_id, cases)


@contextlib.contextmanager
def _index_scans(db: Any) -> Iterator[None]:
    """PostgreSQL: plan the fingerprint's queries on the unique index. Rows just loaded in this
    transaction have no statistics yet (and a desktop role may not ANALYZE the table), so the
    planner would scan and sort the whole population for every chunk: 10 million cases, 3 s a chunk."""
    if is_sqlite(db):
        yield
        return
    cursor = db.cursor()
    cursor.execute("SELECT current_setting('enable_seqscan'), current_setting('enable_bitmapscan')")
    seqscan, bitmapscan = cursor.fetchone()
    cursor.execute("SELECT set_config('enable_seqscan', 'off', true), set_config('enable_bitmapscan', 'off', true)")
    try:
        yield
    finally:
        cursor.execute("SELECT set_config('enable_seqscan', %s, true), set_config('enable_bitmapscan', %s, true)",
                       (seqscan, bitmapscan))


def _chunked_fingerprint(db: Any, cursor: Any, sql: str, population_id: int, cases: int) -> str:
    """_stored_fingerprint's work, the planner settings made (see _index_scans)."""
    table = f'"{m.Case._meta.table_name}"'
    p = db.param
    digest = OrderedFingerprint()
    last = ""
    while digest.count <= cases:
        cursor.execute(sql, (population_id, last))
        text = cursor.fetchone()[0]
        if text is None:
            if digest.count == cases:
                return digest.hexdigest()
            break
        references = text.split("\n")
        if not digest.add(references):
            break
        last = references[-1]
    # One reference a row, in code point order (PostgreSQL: the "C" collation, sorted by the server
    # once), still streamed: only a database that cannot give that order costs memory.
    # (WITH HOLD: peewee runs psycopg2 in autocommit mode and issues BEGIN itself; closed before commit.)
    order = "reference" if is_sqlite(db) else 'reference COLLATE "C"'
    sql = f"SELECT reference FROM {table} WHERE population_id = {p} ORDER BY {order}"
    cursor = db.cursor() if is_sqlite(db) else db.connection().cursor(name="qatt_fingerprint", withhold=True)
    try:
        cursor.execute(sql, (population_id,))
        digest = OrderedFingerprint()
        while True:
            references = [reference for (reference,) in cursor.fetchmany(FINGERPRINT_CHUNK)]
            if not references:
                if digest.count == cases:
                    return digest.hexdigest()
                break
            if not digest.add(references):
                break
    finally:
        cursor.close()
    cursor = db.cursor()
    cursor.execute(f"SELECT reference FROM {table} WHERE population_id = {p}", (population_id,))
    return fingerprint_references(reference for (reference,) in cursor.fetchall())


def _replacing(write: Callable[[List[tuple]], None], replacements: Dict[str, tuple]) -> Callable[[List[tuple]], None]:
    """keep-last: write each repeated reference's last row where its first row would go. The cases
    are written once, never updated, so an import needs no UPDATE on cases (a desktop login on
    PostgreSQL has none)."""
    def write_replaced(batch: List[tuple]) -> None:
        write([replacements.get(row[1], row) for row in batch])

    return write_replaced


def _write_errors(file_name: str):
    """The database refusing a write (disk full, read-only file, no permission) in one line."""
    @contextlib.contextmanager
    def guard() -> Iterator[None]:
        try:
            yield
        except Exception as exc:  # peewee's, sqlite3's or psycopg2's: the writer uses the raw connection
            if isinstance(exc, QattError) or not any(
                    cls.__name__ in ("OperationalError", "DatabaseError") for cls in type(exc).__mro__):
                raise
            text = str(exc).lower()
            if "full" in text or "no space" in text:
                why = "the disk holding the database is full. Free some space"
            elif "readonly" in text or "read-only" in text or "permission" in text:
                why = "the database cannot be written (read-only, or no permission). Ask for write access"
            elif "disk i/o" in text or "unable to open" in text:
                why = "the database file could not be written (disk error). Check the drive"
            else:
                raise
            raise QattError(f"Importing {file_name} failed: {why}, then import again. Nothing was imported.") from None

    return guard()


def import_population(path: Path, *, name: str, actor: str, mapping: Optional[Dict[str, str]] = None,
                      sheet: Optional[str] = None, skip_invalid: bool = False, date_format: str = "auto",
                      progress: Optional[ProgressFn] = None, cancel: Optional[CancelToken] = None,
                      blank_references: str = "refuse", duplicate_references: str = "refuse",
                      allow_duplicate: bool = False) -> ImportResult:
    """Import the extract as a new Population in one transaction.

    Raises ImportProblems (nothing written) if any row is invalid and skip_invalid is False,
    DuplicatePopulation if the same cases are already a population and allow_duplicate is False,
    and Cancelled (nothing written) if `cancel` is set before the end."""
    path = Path(path)
    check_date_format(date_format)
    options = ImportOptions(blank_references, duplicate_references, allow_duplicate).check()
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
            (m.Population.update(row_count=rows, fingerprint=fingerprint, extra_columns=result.extra_columns,
                                 import_options=recorded_options, mapping=mapping)
             .where(m.Population.id == population.id).execute())
            audit.record(actor, audit.COLLECTION, "population", population.id, {
                "file": table.file_name, "rows": rows, "skipped_rows": result.rows_with_problems,
                "fingerprint": fingerprint, "mapped_fields": sorted(mapping), **recorded_options,
            })
    return ImportResult(population.id, rows, fingerprint, result.problems, result.rows_with_problems, mapping,
                        checker.generated, checker.repeats, checker.exact_repeats, checker.conflicting_repeats,
                        checker.precision, table.encoding_note, recorded_options)
