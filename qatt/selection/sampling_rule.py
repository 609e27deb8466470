"""The algorithm qatt-sampling/1, pure (no database): stratum keys and sub-seeds, the eligible-set
fingerprint, proportional allocation and the draw itself.

`derive_draw` is the reference implementation of the algorithm specified in docs/sampling.md
(keep the two in step), so `verify_sample` re-runs exactly what `draw_sample` ran.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import random
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Tuple

from qatt.errors import QattError
from qatt.intake.extract_dates import MONTH

ALGORITHM = "qatt-sampling/1"
METHODS = ("simple", "stratified", "systematic")
# What users read for each method (the desktop, messages); the id stays in the database and on the CLI.
METHOD_LABELS = {"simple": "simple random", "stratified": "stratified random", "systematic": "systematic"}


@dataclass
class StratumSummary:
    key: str  # "" for an unstratified draw; otherwise a JSON array of the stratum's values
    eligible: int
    drawn: int
    reserves: int
    short: bool  # the stratum had fewer eligible cases than asked for, so all of them were taken


class DrawnItem(NamedTuple):
    reference: str
    stratum: str
    is_reserve: bool


@dataclass(frozen=True)
class DrawSpec:
    """Everything the algorithm needs, as recorded on a Sample: built from a request or from the record."""

    method: str
    seed: int
    size: Optional[int] = None
    per_stratum: Optional[int] = None
    proportional: Optional[int] = None
    min_per_stratum: int = 0
    stratify: Tuple[str, ...] = ()
    reserves: int = 0

    def params(self, date_from: Optional[dt.date], date_to: Optional[dt.date], date_precision: str = "") -> Dict[str, Any]:
        params = {
            "size": self.size, "per_stratum": self.per_stratum, "proportional": self.proportional,
            "min_per_stratum": self.min_per_stratum, "stratify": list(self.stratify),
            "reserves": self.reserves,
            "date_from": date_from.isoformat() if date_from else None,
            "date_to": date_to.isoformat() if date_to else None,
        }
        if date_precision == MONTH:  # recorded only then, so every earlier sample's parameters read as before
            params["date_precision"] = MONTH
        return params


def stratum_key(values: Iterable[Any]) -> str:
    """A stratum's key: its values as strings, as a compact JSON array (missing values are "")."""
    return json.dumps(["" if v is None else str(v) for v in values], ensure_ascii=False, separators=(",", ":"))


def stratum_seed(seed: int, key: str) -> int:
    """The sub-seed for one stratum: SHA-256 of "<seed>:<key>" read as a big-endian integer."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{key}".encode("utf-8")).digest(), "big")


def eligible_fingerprint(strata: Dict[str, List[str]]) -> str:
    """SHA-256 over the eligible set with each case's stratum, in canonical order.

    For each stratum in key order: "S<key>\\n", then "R<reference>\\n" for each of its references
    in order. Changing a case's stratum, adding or removing an eligible case changes it."""
    digest = hashlib.sha256()
    for key in sorted(strata):
        refs = strata[key]
        digest.update(f"S{key}\n".encode("utf-8"))
        if refs:
            digest.update(("R" + "\nR".join(refs) + "\n").encode("utf-8"))
    return digest.hexdigest()


def allocate_proportional(sizes: Dict[str, int], total: int, minimum: int) -> Dict[str, int]:
    """Share `total` over strata in proportion to their sizes, each getting at least `minimum`.

    Strata whose exact share falls below their minimum (capped at their size) get the minimum and
    leave the allocation, which is repeated over the rest; the rest get the integer part of their
    exact share, and the units still missing go one each to the largest fractional remainders
    (ties: larger stratum first, then key order). Asking for at least every eligible case takes them all."""
    eligible = sum(sizes.values())
    if total >= eligible:
        return dict(sizes)
    floors = {key: min(minimum, n) for key, n in sizes.items()}
    if sum(floors.values()) > total:
        raise QattError(
            f"A minimum of {minimum} per stratum over {len(sizes)} strata needs {sum(floors.values())} cases, "
            f"more than the total of {total}; raise the total or lower --min-per-stratum.")
    allocation: Dict[str, int] = {}
    free = sorted(sizes)
    remaining = total
    while free:
        pool = sum(sizes[key] for key in free)
        below = [key for key in free if Fraction(remaining * sizes[key], pool) < floors[key]]
        if not below:
            break
        for key in below:
            allocation[key] = floors[key]
            remaining -= floors[key]
        free = [key for key in free if key not in allocation]
    if free:
        pool = sum(sizes[key] for key in free)
        shares = {key: Fraction(remaining * sizes[key], pool) for key in free}
        for key in free:
            allocation[key] = math.floor(shares[key])
        missing = remaining - sum(allocation[key] for key in free)
        by_remainder = sorted(free, key=lambda k: (-(shares[k] - math.floor(shares[k])), -sizes[k], k.encode("utf-8")))
        for key in by_remainder[:missing]:
            allocation[key] += 1
    return allocation


def derive_draw(spec: DrawSpec, strata: Dict[str, List[str]]) -> Tuple[List[DrawnItem], List[StratumSummary]]:
    """Re-derivable draw over `strata` (key -> references sorted by code point, i.e. by UTF-8 bytes).

    Returns the items in position order (main draw, then reserves) and a summary per stratum."""
    if spec.method == "stratified":
        sizes = {key: len(refs) for key, refs in strata.items()}
        if spec.per_stratum is not None:
            wanted = {key: spec.per_stratum for key in strata}
        else:
            wanted = allocate_proportional(sizes, spec.proportional or 0, spec.min_per_stratum)
        main: List[DrawnItem] = []
        spare: List[DrawnItem] = []
        summaries = []
        for key in sorted(strata, key=lambda k: k.encode("utf-8")):
            refs = strata[key]
            take = min(wanted[key], len(refs))
            drawn = random.Random(stratum_seed(spec.seed, key)).sample(refs, min(take + spec.reserves, len(refs)))
            main.extend(DrawnItem(ref, key, False) for ref in drawn[:take])
            spare.extend(DrawnItem(ref, key, True) for ref in drawn[take:])
            asked = spec.per_stratum if spec.per_stratum is not None else max(spec.min_per_stratum, wanted[key])
            short = len(refs) < asked or (spec.proportional is not None and spec.proportional > sum(sizes.values()))
            summaries.append(StratumSummary(key, len(refs), take, len(drawn) - take, short))
        return main + spare, summaries

    refs = strata.get("", [])
    size = spec.size or 0
    take = min(size, len(refs))
    rng = random.Random(spec.seed)
    if spec.method == "simple":
        drawn = rng.sample(refs, min(take + spec.reserves, len(refs)))
        chosen, reserves = drawn[:take], drawn[take:]
    else:  # systematic: random start in [0, k), then every k-th case in canonical order
        interval = systematic_interval(len(refs), size)
        start = rng.randrange(interval) if take else 0
        chosen = [refs[start + i * interval] for i in range(take)]
        picked = set(chosen)
        rest = [ref for ref in refs if ref not in picked]
        reserves = rng.sample(rest, min(spec.reserves, len(rest)))
    items = [DrawnItem(ref, "", False) for ref in chosen] + [DrawnItem(ref, "", True) for ref in reserves]
    return items, [StratumSummary("", len(refs), take, len(reserves), len(refs) < size)]


def systematic_interval(eligible: int, size: int) -> int:
    """k = floor(N / n) (1 when fewer cases than asked are eligible, so all are taken)."""
    return eligible // size if 0 < size <= eligible else 1
