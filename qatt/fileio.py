"""Atomic file writing: write to a temporary file beside the target, then rename over it.

A failed or cancelled export never leaves a broken file under the target name."""

from __future__ import annotations

import contextlib
import csv
import os
import tempfile
from pathlib import Path
from typing import Iterable, Iterator, Sequence

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(text: str) -> bool:
    return isinstance(text, str) and text.startswith(FORMULA_PREFIXES)


def csv_safe(value: object) -> object:
    """Neutralise spreadsheet formula injection in CSV output by prefixing a quote."""
    if looks_like_formula(value):  # type: ignore[arg-type]
        return "'" + value  # type: ignore[operator]
    return value


@contextlib.contextmanager
def atomic_path(target: Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success rename it over the target."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix or ".part", dir=str(target.parent))
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o600)
        os.replace(tmp_path, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def atomic_write_text_rows(path: Path, rows: Iterable[Sequence[object]]) -> None:
    with atomic_path(Path(path), ".csv") as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            for row in rows:
                writer.writerow([csv_safe(v) for v in row])
