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
    encoded = sorted(canonical_reference(r).encode("utf-8") for r in references)
    digest = hashlib.sha256()
    for ref in encoded:
        digest.update(ref)
        digest.update(b"\n")
    return digest.hexdigest()
