"""Writes street_extract.csv: a made-up extract shaped like the street-level crime files police
forces publish each month (one force, one month), with every quirk QATT must handle.

Nothing is copied from a real file: references, places and outcomes are generated from a fixed
seed. Quirks: anti-social behaviour rows with no reference; a `Month` column holding YYYY-MM;
64-character references; one exact repeat and one repeat with a later outcome; headers with
spaces (`LSOA name`, `Last outcome category`); UTF-8 accented place names; and, in the
`stray_byte` variant, one Windows-1252 byte in an otherwise UTF-8 file.

    python tests/data/make_street_extract.py     # rewrites tests/data/street_extract.csv
"""

from __future__ import annotations

import csv
import hashlib
import io
import random
from pathlib import Path

HEADER = ["Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
          "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context"]
MONTH = "2016-11"
FORCE = "Derbyshire Constabulary"
CRIME_TYPES = ["Violence and sexual offences", "Burglary", "Bicycle theft", "Criminal damage and arson",
               "Shoplifting", "Vehicle crime"]
OUTCOMES = ["Under investigation", "Investigation complete; no suspect identified", "Unable to prosecute suspect",
            "Offender given a caution", "Awaiting court outcome"]
LSOAS = [("E01019770", "Amber Valley 001A"), ("E01019771", "Amber Valley 001B"), ("E01019800", "Bolsover 003C"),
         ("E01019870", "Chesterfield 010D")]
STREETS = ["Église Lane", "Market Place", "Station Road", "Brønte Close", "Church Street", "Mill Lane"]

CRIMES = 40  # rows with a reference, before the repeats
ASB = 12  # anti-social behaviour rows: no reference, as published
EXACT_REPEATS = 1
CONFLICTING_REPEATS = 1
ROWS = CRIMES + ASB + EXACT_REPEATS + CONFLICTING_REPEATS
CASES_KEEPING_ONE_OF_EACH = CRIMES + ASB
STRAY_ROW = 9  # the row (header = 1) whose location holds a Windows-1252 byte in the stray_byte variant


def rows(seed: int = 2016) -> list:
    rng = random.Random(seed)
    out = []
    for i in range(CRIMES):
        lsoa_code, lsoa_name = rng.choice(LSOAS)
        crime_id = hashlib.sha256(f"{seed}:{i}".encode()).hexdigest()
        out.append([crime_id, MONTH, FORCE, FORCE, f"{-1.4 - rng.random() / 10:.6f}", f"{52.9 + rng.random() / 10:.6f}",
                    f"On or near {rng.choice(STREETS)}", lsoa_code, lsoa_name,
                    CRIME_TYPES[i % len(CRIME_TYPES)], rng.choice(OUTCOMES), ""])
    for _ in range(ASB):
        lsoa_code, lsoa_name = rng.choice(LSOAS)
        out.append(["", MONTH, FORCE, FORCE, f"{-1.4 - rng.random() / 10:.6f}", f"{52.9 + rng.random() / 10:.6f}",
                    f"On or near {rng.choice(STREETS)}", lsoa_code, lsoa_name, "Anti-social behaviour", "", ""])
    # Two ASB rows identical in every column, as happens at the same place in the same month:
    out[CRIMES + 1] = list(out[CRIMES])
    # Repeats: one exact, one with a later outcome (the later row comes after, as published).
    out.insert(22, list(out[20]))  # row 24 repeats row 22 exactly
    conflicting = list(out[30])
    conflicting[10] = "Awaiting court outcome" if conflicting[10] != "Awaiting court outcome" else "Offender given a caution"
    out.insert(33, conflicting)  # row 35 repeats row 33 with a different outcome
    return out


EXACT_REPEAT = (24, 22)  # (repeating row, first row), as Excel numbers them
CONFLICTING_REPEAT = (35, 32)


def extract_bytes(stray_byte: bool = False, seed: int = 2016) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([HEADER] + rows(seed))
    data = buffer.getvalue().encode("utf-8")
    if stray_byte:
        lines = data.split(b"\r\n")
        lines[STRAY_ROW - 1] = lines[STRAY_ROW - 1].replace(b"On or near", b"On or n\xe9ar", 1)
        data = b"\r\n".join(lines)
    return data


def write(path: Path, stray_byte: bool = False) -> Path:
    path.write_bytes(extract_bytes(stray_byte))
    return path


if __name__ == "__main__":
    print(write(Path(__file__).with_name("street_extract.csv")))
