"""Checking an extract's rows: cells -> Case row tuples in CASE_COLUMNS order, or the problems
that name the row and the column; blank and repeated references are treated as ImportOptions say.

A whole batch is checked column by column on the hot path; a batch that may hold a problem or
needs a decision goes row by row (see _RowChecker). qatt.intake.importing drives the passes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json.encoder
from dataclasses import asdict, dataclass
from operator import itemgetter, methodcaller
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

from qatt.errors import QattError
from qatt.intake.extract_dates import DAY, MONTH, PRECISION_CHOICES, CaseDates
from qatt.intake.extract_tables import _Table, _cell_text, has_content
from qatt.intake.mapping import FIELD_LABELS
from qatt.storage import models as m

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
    changes silently), whether a file already imported may be imported again, and whether its dates
    are read as months whatever their form (date_precision "month"; default "auto": from the values)."""

    blank_references: str = "refuse"
    duplicate_references: str = "refuse"
    allow_duplicate: bool = False
    date_precision: str = "auto"

    def check(self) -> "ImportOptions":
        if self.blank_references not in BLANK_REFERENCES:
            raise QattError(f"Unknown choice {self.blank_references!r} for blank references; choose "
                            f"{' or '.join(BLANK_REFERENCES)}.")
        if self.duplicate_references not in DUPLICATE_REFERENCES:
            raise QattError(f"Unknown choice {self.duplicate_references!r} for repeated references; choose one "
                            f"of {', '.join(DUPLICATE_REFERENCES)}.")
        if self.date_precision not in PRECISION_CHOICES:
            raise QattError(f"Unknown date precision {self.date_precision!r}; choose "
                            f"{' or '.join(PRECISION_CHOICES)}.")
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
        self.case_dates = CaseDates(date_format, options.date_precision)
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
                if not generate or any(map(is_generated, references)) or not all(map(has_content, rows)):
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
        not a date or is refused (qatt.intake.extract_dates.CaseDates; memoised in self.dates)."""
        parsed = self.case_dates.read(raw)
        if parsed is None:
            return ""
        value, precision = parsed
        return f"{value.year:04d}-{value.month:02d}" if precision == MONTH else value.isoformat()

    def _date_message(self, cells: list) -> str:
        raw = cells[self.index[self.date_header]]
        text = _cell_text(raw).strip()
        if not text:
            return "the date recorded is empty (every case needs one when the column is mapped)"
        return self.case_dates.problem(raw, text)

    def imported_references(self) -> Set[str]:
        return set(self.seen) - self.rejected if self.rejected else set(self.seen)

    def extra_columns(self) -> List[str]:
        """Unmapped headers in file order; unnamed columns only if they held something."""
        return [h for h in self.extra_headers if h not in self.unnamed or self.index[h] in self.extra_used]
