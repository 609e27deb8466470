"""What every export shares: the atomic write, the audit 'disclosure' event and text clean-up.

A file that leaves the system is a disclosure of police information (DPA 2018 Part 3 s.62), so
each export records who wrote which file, for what stated purpose and recipient, how many
rows it holds and which reviews it may show (their ids). Never the content itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Sequence

from qatt.trust import audit
from qatt.fileio import atomic_path

# Characters XML 1.0 (and so both .xlsx and PDF text) cannot carry; tab, LF and CR are allowed.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean_text(text: str) -> str:
    """User-typed text without the control characters that would break the file."""
    return _ILLEGAL_XML.sub("", text)


def has_illegal_characters(text: str) -> bool:
    return _ILLEGAL_XML.search(text) is not None


@dataclass
class ExportResult:
    path: Path
    report: str
    rows: Dict[str, int] = field(default_factory=dict)
    marking: str = ""
    audit_head: str = ""  # the audit log's anchor once the export was recorded: keep it outside the database

    def as_dict(self) -> Dict[str, Any]:
        return {"path": str(self.path), "report": self.report, "rows": dict(self.rows), "marking": self.marking,
                "audit_head": self.audit_head}


def disclosed_reviews(reviews: Optional[Sequence[int]]) -> Dict[str, Any]:
    """The disclosure's "reviews" entry: the ids of the reviews the file may show (ids, no content), so
    qatt.trust.visibility.how_seen knows who has seen which review. Nothing when the caller did not say."""
    return {} if reviews is None else {"reviews": sorted({int(i) for i in reviews})}


def write_and_disclose(target: Path, suffix: str, write: Callable[[Path], Dict[str, int]], *, actor: str,
                       report: str, marking: str, purpose: str = "", recipient: str = "",
                       details: Dict[str, Any] | None = None) -> ExportResult:
    """Run `write(temporary path) -> row counts`, record the disclosure, then move the file into place.

    If writing fails or is cancelled, the temporary file is removed and nothing is recorded; the
    audit event is written before the final rename, so a file under the target name always has one.
    """
    target = Path(target)
    with atomic_path(target, suffix) as tmp:
        rows = write(tmp)
        audit.record(actor, audit.DISCLOSURE, "export", target.name, {
            "file": target.name, "report": report, "purpose": purpose, "recipient": recipient,
            "rows": rows, "marking": marking, **(details or {}),
        })
    return ExportResult(target, report, rows, marking, audit.current_anchor().text())
