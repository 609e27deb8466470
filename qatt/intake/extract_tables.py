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
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Set, Tuple
from xml.etree import ElementTree

from qatt.errors import QattError
from qatt.letters import letters
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
    sheet: Optional[str] = None  # workbooks: the sheet read
    hidden_sheets: List[str] = field(default_factory=list)
    workbook_notes: List[str] = field(default_factory=list)  # which sheet was read, hidden sheets, a filter


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
    sheet: Optional[str] = None  # workbooks: the sheet read
    hidden_sheets: List[str] = field(default_factory=list)
    workbook_notes: List[str] = field(default_factory=list)  # which sheet was read, hidden sheets, a filter
    encoding_note: str = ""  # why the CSV is read as Windows-1252 (qatt.intake.extract_files.detect_encoding)
    # Workbooks only: the column whose Excel dates stay dates (set once the mapping is known).
    native_date_index: Optional[int] = None
    header_row: int = 0
    path: Optional[Path] = None  # CSV: to read it again up to a row that cannot be read
    line_number: Callable[[], int] = lambda: 0  # CSV: the physical lines read so far

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
            reader = _csv_reader(text, delimiter)
            rows = enumerate(reader, start=1)
            try:
                header_row, raw_headers = _first_non_blank(rows)
            except csv.Error as exc:
                raise QattError(f"{path.name}: cannot read the header row ({exc}). Check its quotes.") from None
        headers = _clean_headers(raw_headers, path.name, header_row) if raw_headers is not None else []
        yield _Table(path.name, headers, rows, lambda: (raw.tell(), total), encoding, delimiter, header_row=header_row,
                     encoding_note=note, path=path, line_number=lambda: reader.line_num)


# The longest CSV cell read: a workbook's cell holds up to 32,767 characters, and the csv module's
# default of 131,072 refused long free text as a quoting error; a million characters is far beyond
# any summary, and a cell longer still is refused as such (with strict quoting it cannot be a quote
# left open, which is refused as that).
CELL_LIMIT = 1_000_000


def _csv_reader(text: Any, delimiter: str) -> Iterator[list]:
    """The CSV's records, strictly: a quoted cell that is never closed, or whose closing quote is
    followed by more text, is an error (csv.Error), not read on into the rows after it. Left lenient,
    one stray opening quote made the rest of the file, or every row up to the next quote, one cell."""
    csv.field_size_limit(CELL_LIMIT)
    return csv.reader(text, delimiter=delimiter, strict=True)


def has_content(cells: Sequence[Any]) -> bool:
    """Whether a row holds anything: a row of empty or whitespace-only cells (an Excel export's
    trailing rows, a stray space typed into a cell) is blank, and is no case."""
    for cell in cells:
        if cell.__class__ is str:
            if cell and not cell.isspace():
                return True
        elif cell is not None:
            return True
    return False


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


def _damaged(path: Path, exc: BaseException, opening: bool = False) -> QattError:
    detail = " ".join(str(exc).split()) or type(exc).__name__
    if opening:  # calamine refused the file as a whole: it may not be a workbook at all
        return QattError(f"Cannot open {path.name} as a workbook ({detail}): it is damaged or another kind of "
                         "file. Check it opens in Excel and save it again.")
    return QattError(f"{path.name} is damaged: it cannot be read as a workbook ({detail}). "
                     "Check it opens in Excel and save it again.")


@contextlib.contextmanager
def _workbook_errors(path: Path, opening: bool = False) -> Iterator[None]:
    """Anything calamine (or the zip under it) raises while reading `path`, as one line naming the file.

    Broken XML, a part larger than the archive declares, a truncated archive: calamine raises its own
    errors (XmlError, ZipError: CalamineError) and may pass on OS, zip or decoding errors."""
    from python_calamine import CalamineError

    try:
        yield
    except QattError:
        raise
    except OSError as exc:
        raise file_error(path, exc) if exc.errno is not None else _damaged(path, exc, opening) from None
    except (CalamineError, zipfile.BadZipFile, EOFError, ValueError, zlib.error) as exc:
        raise _damaged(path, exc, opening) from None


def _refuse_merged_rows(path: Path, sheet: str, merged: Optional[list], headers: List[str], header_row: int) -> None:
    """Refuse cells merged across rows under the header: Excel keeps a merged range's value in its
    first cell, so every other row of it would be read as blank (a reference, a division...) although
    the user sees the value there. Merges across columns of one row, or above the header, are harmless."""
    spans = sorted((top + 1, left, bottom + 1, right) for (top, left), (bottom, right) in merged or ()
                   if bottom > top and bottom + 1 > header_row)
    if not spans:
        return
    top, left, bottom, right = spans[0]
    first_blank = max(top + 1, header_row + 1)
    rows = (f"row {bottom} has no value of its own" if first_blank == bottom
            else f"rows {first_blank}-{bottom} have no value of their own")
    columns = [headers[c] if c < len(headers) else f"Column {c + 1}" for c in range(left, right + 1)]
    named = f"column {columns[0]!r}" if len(columns) == 1 else f"columns {', '.join(map(repr, columns))}"
    more = ""
    if len(spans) > 1:
        others = [f"{letters(lo)}{t}:{letters(hi)}{b}" for t, lo, b, hi in spans[1:6]]
        more = (f" Cells {', '.join(others)}" + (f" and {len(spans) - 6} more ranges" if len(spans) > 6 else "")
                + " are merged across rows too.")
    raise QattError(f"{path.name}, sheet {sheet!r}: cells {letters(left)}{top}:{letters(right)}{bottom} "
                    f"are merged, so {rows} in {named} (a merged cell keeps its value "
                    f"in its first row only).{more} Unmerge the cells and fill in each row's value, then import again.")


def _filtered_sheets(path: Path) -> Set[int]:
    """Indexes of the sheets of an .xlsx/.xlsm that have a filter (autofilter or advanced filter).

    Excel names each filtered range `_xlnm._FilterDatabase` in xl/workbook.xml, a small part; which
    rows the filter hides is written row by row in the sheet itself, which calamine does not report,
    so those rows are read like any other. Best effort: a workbook read so far has a readable archive."""
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return set()
    try:
        with zipfile.ZipFile(path) as archive, archive.open("xl/workbook.xml") as part:
            found = set()
            for _event, element in ElementTree.iterparse(part):
                if element.tag.rpartition("}")[2] == "definedName" \
                        and element.get("name", "").lower() == "_xlnm._filterdatabase":
                    with contextlib.suppress(TypeError, ValueError):
                        found.add(int(element.get("localSheetId")))
            return found
    except (KeyError, OSError, ValueError, zipfile.BadZipFile, ElementTree.ParseError, zlib.error):
        return set()


def _workbook_notes(path: Path, chosen: int, named: bool, metadata: list, visible: List[bool]) -> List[str]:
    """What the summary says about the workbook: the sheet read, hidden sheets, a filter on it."""
    name = metadata[chosen].name
    hidden = [m.name for m, shown in zip(metadata, visible) if not shown]
    if not visible[chosen]:
        notes = [f"read sheet {name!r}, which is hidden in the workbook"]
    else:
        note = f"read sheet {name!r}"
        if not named and not all(visible[:chosen]):
            note += ", the first visible one"
        if hidden:
            note += (f"; the workbook also has {len(hidden)} hidden sheet{'s' if len(hidden) > 1 else ''}, "
                     f"not read: {', '.join(map(repr, hidden))}")
        notes = [note]
    if chosen in _filtered_sheets(path):
        notes.append(f"sheet {name!r} has a filter: every row is imported, including any the filter hides")
    return notes


@contextlib.contextmanager
def _open_workbook(path: Path, sheet: Optional[str]) -> Iterator[_Table]:
    """Open a sheet with python-calamine; cells become text except in the table's native date
    column, where Excel dates stay dates so no text format has to be guessed. Without a sheet
    name, the first visible worksheet is read."""
    from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum, WorksheetNotFound

    check_workbook_archive(path)
    try:
        with open(path, "rb"):  # a permission or lock problem in one line, before calamine sees the file
            pass
    except OSError as exc:
        raise file_error(path, exc) from None
    with _workbook_errors(path, opening=True):
        book = CalamineWorkbook.from_path(str(path))
    try:
        with _workbook_errors(path):
            metadata = list(book.sheets_metadata)
        names = [m.name for m in metadata]
        visible = [m.visible == SheetVisibleEnum.Visible for m in metadata]
        if sheet:
            if sheet not in names:
                raise QattError(f"{path.name} has no sheet called {sheet!r}; its sheets are "
                                f"{', '.join(map(repr, names))}.")
            chosen = names.index(sheet)
        elif not metadata:
            raise QattError(f"{path.name} has no sheets. Check it opens in Excel and save it again.")
        else:
            worksheets = [i for i, m in enumerate(metadata) if m.typ == SheetTypeEnum.WorkSheet] or [0]
            chosen = next((i for i in worksheets if visible[i]), worksheets[0])
        with _workbook_errors(path):
            try:
                data = book.get_sheet_by_name(names[chosen])
            except WorksheetNotFound:
                raise QattError(f"{path.name} is damaged: it lists a sheet {names[chosen]!r} but the sheet "
                                "itself is missing. Check it opens in Excel and save it again.") from None
            merged = data.merged_cell_ranges  # None for .ods: calamine does not report its merged cells
            # iter_rows starts at row 1 even when the used range starts lower, so the offset is the row.
            total = (data.end or (0, 0))[0] + 1
        done = [0]

        def numbered() -> Iterator[Tuple[int, list]]:
            with _workbook_errors(path):
                for number, cells in enumerate(data.iter_rows(), start=1):
                    done[0] = number
                    yield number, cells

        rows = numbered()
        header_row, raw_headers = _first_non_blank(rows)
        headers = _clean_headers(raw_headers, path.name, header_row) if raw_headers is not None else []
        if headers:
            _refuse_merged_rows(path, names[chosen], merged, headers, header_row)
        table = _Table(path.name, headers, iter(()), lambda: (done[0], total), sheets=names, sheet=names[chosen],
                       hidden_sheets=[n for n, shown in zip(names, visible) if not shown],
                       workbook_notes=_workbook_notes(path, chosen, bool(sheet), metadata, visible))

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
        try:
            for _number, cells in table.rows:
                if len(first) >= rows:
                    break
                texts = [_cell_text(c) for c in cells]
                if any(t.strip() for t in texts):
                    first.append((texts + [""] * len(table.headers))[: len(table.headers)])
        except csv.Error as exc:
            raise QattError(csv_problem(table, exc)) from None
        return Preview(Path(path), table.headers, first, suggest_mapping(table.headers),
                       table.encoding, table.delimiter, table.sheets, table.sheet, table.hidden_sheets,
                       table.workbook_notes)


def unreadable_record(table: _Table, longest: bool = False) -> Tuple[int, Optional[str]]:
    """Where a CSV cannot be read: the number of the record (row) that fails, and the header of the
    column at fault (None when it cannot be told): the cell whose quotes are wrong, or with `longest`
    the longest cell. Reads the file again from the start."""
    assert table.path is not None
    with _open_csv(table.path) as again:
        number, line = again.header_row, again.line_number()  # physical lines read so far
        try:
            for number, _cells in again.rows:
                line = again.line_number()
        except csv.Error:
            pass
    quoted, longest_cell = _line_cells(table.path, table.encoding or "utf-8", table.delimiter or ",", line + 1)
    column = longest_cell if longest else quoted
    header = table.headers[column] if column is not None and column < len(table.headers) else None
    return number + 1, header


def _line_cells(path: Path, encoding: str, delimiter: str, line: int) -> Tuple[Optional[int], Optional[int]]:
    """On physical line `line` (1-based): the index of the cell whose quote opens and is not closed on
    the line, or is closed with more text after it (None if none), and the index of the longest cell."""
    with open(path, encoding=encoding, newline="") as handle:
        for number, text in enumerate(handle, start=1):
            if number == line:
                break
        else:
            return None, None
    text = text.rstrip("\r\n")
    column, start, i, cell_start = 0, True, 0, 0
    longest, longest_length = 0, -1

    def ended(end: int) -> None:
        nonlocal longest, longest_length
        if end - cell_start > longest_length:
            longest, longest_length = column, end - cell_start

    while i < len(text):
        char = text[i]
        if start and char == '"':
            close = i + 1
            while True:
                close = text.find('"', close)
                if close == -1:
                    ended(len(text))
                    return column, longest  # opened and not closed on this line
                if text[close + 1:close + 2] == '"':
                    close += 2  # a doubled quote inside the cell
                    continue
                break
            if close + 1 < len(text) and text[close + 1] != delimiter:
                return column, longest  # closed, with more text straight after
            i = close + 1
            start = False
            continue
        if char == delimiter:
            ended(i)
            column += 1
            start, cell_start = True, i + 1
        else:
            start = False
        i += 1
    ended(len(text))
    return None, longest


def csv_problem(table: _Table, exc: csv.Error) -> str:
    """What is wrong with a CSV the csv module cannot read, naming the row (and the column, if it can
    be told) and what to do."""
    number, column = unreadable_record(table, longest="field larger than field limit" in str(exc))
    where = f"{table.file_name}, row {number}" + (f", column {column!r}" if column else "")
    text = str(exc)
    if "unexpected end of data" in text:
        why = ("a quoted cell starts here and its closing quote never comes, so the rest of the file would be "
               "read into that one cell")
    elif "expected after" in text:
        why = ("a quoted cell starting here is closed by a quote with more text straight after it (perhaps a "
               "stray opening quote, closed by a quote rows later), so rows would run into one another")
    elif "field larger than field limit" in text:
        return (f"{where}: a cell holds more than {CELL_LIMIT:,} characters, far more than any case summary "
                "(a spreadsheet cell holds at most 32,767), so the file is not read. Nothing was imported. "
                "Check that the extract was saved as intended, or shorten that cell.")
    else:
        why = f"the csv reader says: {text}"
    return (f"{where}: cannot read the CSV: {why}. Nothing was imported. In a CSV a cell that holds a quote "
            'mark must be quoted as a whole with the quote doubled ("said ""no"""); correct that cell in the source '
            "system or the spreadsheet and save the CSV again.")
