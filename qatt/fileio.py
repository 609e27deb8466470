"""Atomic file writing: write to a temporary file in a private folder beside the target, then rename
over it.

A failed or cancelled export never leaves a broken file under the target name, nor its case data in
a temporary file anyone else can read: the private folder is owner-only, removed afterwards, and
removed at the next start if the process was killed (clean_leftovers)."""

from __future__ import annotations

import contextlib
import contextvars
import csv
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Iterable, Iterator, Optional, Sequence

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(text: str) -> bool:
    return isinstance(text, str) and text.startswith(FORMULA_PREFIXES)


def csv_safe(value: object) -> object:
    """Neutralise spreadsheet formula injection in CSV output by prefixing a quote."""
    if looks_like_formula(value):  # type: ignore[arg-type]
        return "'" + value  # type: ignore[operator]
    return value


PRIVATE_FOLDER = ".qatt-partial"  # beside each export's target: its half-written files, owner-only
_LEDGER = "partial-folders.json"  # in the user's data folder: where to look for leftovers at start-up
_temp_dir: contextvars.ContextVar[Optional[Path]] = contextvars.ContextVar("qatt_temp_dir", default=None)


def data_folder() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("qatt", appauthor=False))


def _private_dir(parent: Path) -> Path:
    """A folder of this process's own in `parent`/.qatt-partial, readable by the owner only."""
    shared = parent / PRIVATE_FOLDER
    shared.mkdir(mode=0o700, exist_ok=True)
    with contextlib.suppress(OSError):
        os.chmod(shared, 0o700)
    return Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=str(shared)))


def _ledger_update(folder: Path, add: bool, ledger_dir: Optional[Path] = None) -> None:
    """Remember (or forget) a folder that holds partial files, so the next start can clean it."""
    ledger = (ledger_dir or data_folder()) / _LEDGER
    try:
        known = set(json.loads(ledger.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        known = set()
    entry = str(folder.resolve())
    if (entry in known) == add:
        return
    known = known | {entry} if add else known - {entry}
    with contextlib.suppress(OSError):
        ledger.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".ledger.", dir=str(ledger.parent))
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(sorted(known), fh)
        os.replace(tmp, ledger)


def _route_openpyxl_temp_files() -> None:
    """openpyxl's write-only worksheets spill rows to files in the system temp folder, which a killed
    export leaves behind; while an atomic write runs they go to its private folder instead."""
    writer = sys.modules.get("openpyxl.worksheet._writer")
    if writer is None or getattr(writer.create_temporary_file, "qatt_routed", False):
        return
    original = writer.create_temporary_file

    def create_temporary_file(suffix: str = "") -> str:
        folder = _temp_dir.get()
        if folder is None:
            return original(suffix)
        fd, name = tempfile.mkstemp(prefix="openpyxl.", suffix=suffix, dir=str(folder))
        os.close(fd)
        writer.ALL_TEMP_FILES.append(name)
        return name

    create_temporary_file.qatt_routed = True  # type: ignore[attr-defined]
    writer.create_temporary_file = create_temporary_file


@contextlib.contextmanager
def atomic_path(target: Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path in a private folder beside the target; on success rename it over the
    target. Whatever happens, the private folder (with openpyxl's spill files) is removed; if the
    process is killed, clean_leftovers removes it at the next start."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    private = _private_dir(target.parent)
    _ledger_update(target.parent, add=True)
    tmp_path = private / f"{target.name}{suffix or '.part'}"
    _route_openpyxl_temp_files()
    token = _temp_dir.set(private)
    try:
        fd = os.open(tmp_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
        yield tmp_path
        os.chmod(tmp_path, 0o600)
        os.replace(tmp_path, target)
    finally:
        _temp_dir.reset(token)
        shutil.rmtree(private, ignore_errors=True)
        with contextlib.suppress(OSError):
            (target.parent / PRIVATE_FOLDER).rmdir()  # only when no other export is using it


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def clean_leftovers(ledger_dir: Optional[Path] = None) -> int:
    """Remove the private folders of exports whose process is gone (killed mid-export). Run at start-up
    by the CLI and the desktop. Returns how many folders were removed."""
    ledger = (ledger_dir or data_folder()) / _LEDGER
    try:
        known = json.loads(ledger.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return 0
    removed = 0
    for entry in known if isinstance(known, list) else []:
        shared = Path(entry) / PRIVATE_FOLDER
        for child in (shared.iterdir() if shared.is_dir() else []):
            pid = child.name.split("-", 1)[0]
            if pid.isdigit() and not _alive(int(pid)):
                shutil.rmtree(child, ignore_errors=True)
                removed += 1
        with contextlib.suppress(OSError):
            shared.rmdir()
        if not shared.exists():
            _ledger_update(Path(entry), add=False, ledger_dir=ledger_dir)
    return removed


def atomic_write_text_rows(path: Path, rows: Iterable[Sequence[object]]) -> None:
    with atomic_path(Path(path), ".csv") as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            for row in rows:
                writer.writerow([csv_safe(v) for v in row])
