"""Population fingerprints: SHA-256 of the canonical list of case references.

Canonical = references stripped of surrounding white space, sorted by their UTF-8 bytes, each
followed by a newline. Anyone holding the same list can recompute it with standard tools:
`sort` (with LC_ALL=C) then `sha256sum`.
"""

from __future__ import annotations

import hashlib
from typing import Iterable


def canonical_reference(ref: str) -> str:
    return str(ref).strip()


def fingerprint_references(references: Iterable[str]) -> str:
    """The fingerprint in one join and one hash call (a million references: ~0.3 s rather than ~2 s
    with a Python step and two hash updates per reference). Sorting str by code point gives the
    same order as sorting their UTF-8 bytes."""
    refs = sorted(map(str.strip, map(str, references)))  # canonical_reference, without a Python call each
    return hashlib.sha256(("\n".join(refs) + "\n").encode("utf-8") if refs else b"").hexdigest()
