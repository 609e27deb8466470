"""Reading an extract as a table: its cleaned headers and its numbered rows of cells, from a CSV
(encoding and delimiter detected) or a workbook sheet (python-calamine), and the import wizard's preview.

The file itself is opened and checked through qatt.intake.extract_files; the rows are checked by
qatt.intake.row_checks and imported by qatt.intake.importing.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Set, Tuple

from qatt.errors import QattError
from qatt.intake.extract_files import check_workbook_archive, detect_encoding, file_error, reading
from qatt.intake.mapping import suggest_mapping

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
# A CSV cell ="000123" (an export's way to keep leading zeros through Excel): = and one double-quoted
# string, its quotes doubled inside as in an Excel formula. It is read as the string.
_TEXT_FORMULA = re.compile(r'="((?:[^"]|"")*)"')
_SCAN_BYTES = 1 << 20


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


def formula_text(cell: str) -> str:
    """The text of a cell written as ="..." (the whole cell, surrounding spaces aside); else the cell."""
    match = _TEXT_FORMULA.fullmatch(cell.strip())
    return match.group(1).replace('""', '"') if match else cell


def _holds_text_formula(path: Path) -> bool:
    """Whether the file's bytes hold '="' anywhere (ASCII: the same bytes in every encoding read).
    Looking for "=" first is a memchr: a 200 MB extract without one is scanned in about 0.05 s,
    where looking at every row's cells would take 0.3 s a million rows."""
    previous = b""
    with reading(path), open(path, "rb") as fh:
        while True:
            chunk = fh.read(_SCAN_BYTES)
            if not chunk:
                return False
            if previous + chunk[:1] == b'="' or (b"=" in chunk and b'="' in chunk):
                return True
            previous = chunk[-1:]


def _reading_text_formulas(rows: Iterator[Tuple[int, list]]) -> Iterator[Tuple[int, list]]:
    join = "\x1f".join
    for number, cells in rows:
        if '="' in join(cells):
            cells = [formula_text(c) for c in cells]
        yield number, cells


@contextlib.contextmanager
def _open_table(path: Path, sheet: Optional[str] = None) -> Iterator[_Table]:
    path = Path(path)
    try:
        path.stat()
    except OSError as exc:
        raise file_error(path, exc) from None
    if not path.is_file():
        raise QattError(f"{path} does not exist or is not a file.")
    opened_csv = path.suffix.lower() not in WORKBOOK_SUFFIXES
    if not opened_csv:
        opened = _open_workbook(path, sheet)
    elif sheet:
        raise QattError(f"{path.name} is a CSV file, which has no sheets; leave out the sheet name.")
    else:
        opened = _open_csv(path)
    with opened as table:
        if not table.headers:
            raise QattError(f"{path.name} is empty: the first row must hold the column headers.")
        if opened_csv and _holds_text_formula(path):
            table.rows = _reading_text_formulas(table.rows)
        yield table


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
