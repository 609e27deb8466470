"""Opening an extract safely: which encoding a CSV is in (strict UTF-8, a Windows-1252 fallback
only when the whole file is plainly Windows-1252), workbook archives checked against size limits
before anything is decompressed, and file-system errors told in one line.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import re
import zipfile
from pathlib import Path
from typing import Iterator, Optional, Tuple

from qatt.errors import QattError

# Far above any real case extract (a million-row, 12-column sheet unpacks to ~300 MB), far below
# what would exhaust a desktop's memory.
MAX_UNPACKED_BYTES = 1 << 30  # 1 GiB in all
MAX_MEMBER_BYTES = 1 << 30
MAX_RATIO = 100  # uncompressed / compressed, for members big enough to matter
RATIO_FLOOR_BYTES = 10 << 20  # small members (styles, shared strings of a short sheet) may compress more
ZIP_SUFFIXES = (".xlsx", ".xlsm", ".ods")

# A well-formed UTF-8 multi-byte sequence (RFC 3629): a file holding one is not plain Windows-1252.
_UTF8_MULTIBYTE = re.compile(
    rb"[\xC2-\xDF][\x80-\xBF]|\xE0[\xA0-\xBF][\x80-\xBF]|[\xE1-\xEC\xEE\xEF][\x80-\xBF]{2}"
    rb"|\xED[\x80-\x9F][\x80-\xBF]|\xF0[\x90-\xBF][\x80-\xBF]{2}|[\xF1-\xF3][\x80-\xBF]{3}"
    rb"|\xF4[\x80-\x8F][\x80-\xBF]{2}")
_CHUNK = 1 << 20


def _size(n: int) -> str:
    return f"{n / (1 << 30):.1f} GB" if n >= 1 << 30 else f"{n / (1 << 20):.0f} MB"


def check_workbook_archive(path: Path) -> None:
    """Refuse a workbook whose archive declares more than the limits, before any decompression.

    An .xlsx is a zip archive; its central directory declares each member's sizes. A "zip bomb"
    (1 MB that unpacks to gigabytes) is refused here, in one line, instead of filling memory."""
    if path.suffix.lower() not in ZIP_SUFFIXES:
        return
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile:
        raise QattError(f"{path.name} is not a readable {path.suffix} workbook (its archive is damaged or it is "
                        "another kind of file). Check it opens in Excel and save it again.") from None
    except OSError as exc:
        raise file_error(path, exc) from None
    total = 0
    for member in members:
        total += member.file_size
        if member.file_size > MAX_MEMBER_BYTES:
            raise QattError(f"{path.name} is refused: its part {member.filename} would unpack to "
                            f"{_size(member.file_size)}, over the limit of {_size(MAX_MEMBER_BYTES)} per part.")
        if member.file_size > RATIO_FLOOR_BYTES and member.file_size > MAX_RATIO * max(member.compress_size, 1):
            raise QattError(f"{path.name} is refused: its part {member.filename} would unpack "
                            f"{member.file_size // max(member.compress_size, 1):,} times its stored size, over "
                            f"the limit of {MAX_RATIO}:1 (a real extract compresses far less).")
    if total > MAX_UNPACKED_BYTES:
        raise QattError(f"{path.name} is refused: it would unpack to {_size(total)}, over the limit of "
                        f"{_size(MAX_UNPACKED_BYTES)}.")


def file_error(path: Path, exc: OSError) -> QattError:
    """One line for a file QATT cannot read: missing, not permitted, locked by another program."""
    code = exc.errno
    if isinstance(exc, FileNotFoundError) or code == errno.ENOENT:
        return QattError(f"{path} does not exist; check the name and folder.")
    if isinstance(exc, PermissionError) or code in (errno.EACCES, errno.EPERM):
        return QattError(f"Cannot read {path.name}: permission denied. Ask for read access, or copy the file "
                         "to a folder of your own, and try again.")
    if isinstance(exc, IsADirectoryError):
        return QattError(f"{path} is a folder, not a file.")
    if code in (errno.EBUSY, errno.ETXTBSY) or getattr(exc, "winerror", None) in (32, 33):
        return QattError(f"Cannot read {path.name}: another program has it open (locked). Close it there "
                         "(e.g. in Excel) and try again.")
    return QattError(f"Cannot read {path.name}: {exc.strerror or exc}.")


@contextlib.contextmanager
def reading(path: Path) -> Iterator[None]:
    """Turn an OSError raised while reading `path` into the one-line QattError of file_error."""
    try:
        yield
    except OSError as exc:
        if isinstance(exc, QattError):
            raise
        raise file_error(path, exc) from None


def _line_of(fh, offset: int) -> int:
    """The 1-based line number holding byte `offset` (counted by newlines before it)."""
    fh.seek(0)
    line, done = 1, 0
    while done < offset:
        chunk = fh.read(min(_CHUNK, offset - done))
        if not chunk:
            break
        line += chunk.count(b"\n")
        done += len(chunk)
    return line


def _first_utf8_error(fh) -> Optional[Tuple[int, int]]:
    """(byte offset, byte value) of the first byte that is not UTF-8, or None if the file is UTF-8."""
    fh.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    done = 0
    for chunk in iter(lambda: fh.read(_CHUNK), b""):
        if b"\x00" in chunk:  # PostgreSQL cannot store NUL in text; SQLite would, silently
            raise _nul_error(fh)
        pending = decoder.getstate()[0]  # the start of a sequence the last chunk cut in two
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            data = pending + chunk
            return done - len(pending) + exc.start, data[exc.start]
        done += len(chunk)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return done - 1, 0
    return None


def _nul_error(fh) -> QattError:
    return QattError(f"{Path(fh.name).name} contains NUL bytes, so it is not a text CSV (perhaps UTF-16 without "
                     "a byte-order mark). Save it from Excel as 'CSV UTF-8'.")


def detect_encoding(path: Path) -> Tuple[str, str]:
    """(encoding, note) for a CSV. The note is "" for UTF-8, else says why another encoding was used.

    UTF-8 is decoded strictly. A file that is not UTF-8 is read as Windows-1252 only when every
    byte of it is valid Windows-1252 and it holds no valid UTF-8 multi-byte sequence; a file with
    both (UTF-8 text with one Windows-1252 byte, say) is refused, since either reading would store
    some of its names garbled."""
    name = path.name
    with reading(path), open(path, "rb") as fh:
        start = fh.read(4)
        if start.startswith(codecs.BOM_UTF8):
            bad = _first_utf8_error(fh)
            if bad is None:
                return "utf-8-sig", ""
            raise QattError(f"{name}, line {_line_of(fh, bad[0])}: byte 0x{bad[1]:02X} is not UTF-8, although the "
                            "file starts with a UTF-8 mark. Save it again from Excel as 'CSV UTF-8'.")
        if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise QattError(f"{name} is saved as UTF-16. Save it from Excel as 'CSV UTF-8 (Comma delimited)'.")
        bad = _first_utf8_error(fh)
        if bad is None:
            return "utf-8", ""
        line = _line_of(fh, bad[0])
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("cp1252")()
        tail = b""
        utf8_line = None
        not_cp1252: Optional[int] = None  # the first byte that is no Windows-1252 character
        done = 0
        # The search for UTF-8 comes first: UTF-8 text may itself hold bytes that are not Windows-1252
        # (” is E2 80 9D; Á Í Ï Ð Ý hold 0x81, 0x8D, 0x8F, 0x90, 0x9D), and such a file mixes encodings.
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            window = tail + chunk
            found = _UTF8_MULTIBYTE.search(window)
            if found is not None:
                utf8_line = _line_of(fh, done - len(tail) + found.start())
                break
            if not_cp1252 is None:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    not_cp1252 = chunk[exc.start]
            tail = window[-3:]
            done += len(chunk)
        if utf8_line is None and not_cp1252 is not None:
            raise QattError(f"{name} is neither UTF-8 (line {line} is not) nor Windows-1252 (byte "
                            f"0x{not_cp1252:02X} is not a Windows-1252 character). Save it from Excel "
                            "as 'CSV UTF-8'.")
        if utf8_line is not None:
            raise QattError(f"{name} mixes encodings: line {line} is not UTF-8, but line {utf8_line} holds UTF-8 "
                            "characters, so part of it would be stored garbled either way. Open it in a text "
                            "editor, fix line " f"{line} (or save the file again as 'CSV UTF-8'), and import again.")
    return "cp1252", (f"read as Windows-1252: line {line} is not UTF-8 and the file holds no UTF-8 characters")
