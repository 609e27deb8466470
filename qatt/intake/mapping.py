"""Column mappings: which header of a case-list extract feeds which Case field.

`suggest_mapping` matches headers automatically (ignoring case, spaces and punctuation), and a
mapping the user has confirmed can be saved by name and reused for next month's extract.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

from qatt.trust import audit
from qatt.errors import QattError
from qatt.storage import models as m

# (field, label shown to users, required). Order is the order the GUI lists them in.
CASE_FIELDS: List[Tuple[str, str, bool]] = [
    ("reference", "Case reference", True),
    ("area", "Area of practice", False),
    ("recorded_date", "Date recorded", False),
    ("division", "Division", False),
    ("team", "Team", False),
    ("officer", "Officer in case", False),
    ("supervisor", "Supervisor", False),
    ("risk", "Risk level", False),
    ("status", "Status", False),
    ("summary", "Summary", False),
]

FIELD_NAMES = [name for name, _label, _required in CASE_FIELDS]
REQUIRED_FIELDS = [name for name, _label, required in CASE_FIELDS if required]
FIELD_LABELS = {name: label for name, label, _required in CASE_FIELDS}

DATE_FORMATS = ("auto", "dd/mm/yyyy", "yyyy-mm-dd")

# Header spellings seen in force extracts (Niche, Athena, CARE, COMPACT, ViSOR exports and
# hand-made spreadsheets), already normalised: lower case, letters and digits only.
_SYNONYMS: Dict[str, Tuple[str, ...]] = {
    "reference": (
        "reference", "ref", "refno", "referenceno", "referencenumber", "casereference", "caseref",
        "casenumber", "caseno", "caseid", "crimeref", "crimereference", "crimenumber", "crimeno",
        "crimeid", "urn", "occurrenceno", "occurrencenumber", "occurrence", "occurrenceref",
        "occurrenceid", "incidentnumber", "incidentno", "incidentref", "visorreference", "visorref",
        "id",
    ),
    "recorded_date": (
        "daterecorded", "recorded", "recordeddate", "recordedon", "created", "datecreated",
        "createddate", "createdon", "reporteddate", "datereported", "reportedon", "date",
        "referraldate", "datereferred", "month", "monthrecorded", "recordedmonth",
    ),
    "area": (
        "area", "areaofpractice", "practicearea", "category", "casecategory", "crimetype",
        "casetype", "type", "offencetype", "offence", "referraltype",
    ),
    "division": ("division", "div", "district", "bcu", "policingdivision", "command"),
    "team": ("team", "teamname", "unit", "department", "dept", "squad", "section"),
    "officer": (
        "officer", "oic", "officerincase", "officerincharge", "oicname", "officername",
        "investigatingofficer", "allocatedofficer", "allocatedto", "offendermanager",
    ),
    "supervisor": (
        "supervisor", "supervisorname", "supervisingofficer", "sergeant", "sgt", "linemanager",
        "reviewingofficer",
    ),
    "risk": ("risk", "risklevel", "riskgrade", "riskrating", "riskassessment", "thrive", "dashrisk"),
    "status": ("status", "casestatus", "crimestatus", "state", "finalisationstatus", "outcome"),
    "summary": (
        "summary", "casesummary", "description", "details", "briefdetails", "circumstances",
        "synopsis", "narrative", "mo",
    ),
}


def normalise_header(header: str) -> str:
    """'Crime Ref.' and 'crime_ref' both become 'crimeref'."""
    return re.sub(r"[^0-9a-z]", "", str(header).lower())


def suggest_mapping(headers: Sequence[str]) -> Dict[str, str]:
    """Guess {field: header} from the headers; each header feeds at most one field."""
    by_normal: Dict[str, str] = {}
    for header in headers:
        by_normal.setdefault(normalise_header(header), header)
    suggestion: Dict[str, str] = {}
    used = set()
    for field in FIELD_NAMES:
        # Synonyms are listed most specific first, so "Crime Ref" beats a generic "ID" column.
        for synonym in _SYNONYMS[field]:
            header = by_normal.get(synonym)
            if header is not None and header not in used:
                suggestion[field] = header
                used.add(header)
                break
    return suggestion


def check_mapping(mapping: Dict[str, str], headers: Sequence[str], file_name: str) -> None:
    """Raise QattError unless every field is known, every header exists and the required fields are mapped."""
    unknown = sorted(set(mapping) - set(FIELD_NAMES))
    if unknown:
        raise QattError(f"The mapping names unknown fields {', '.join(map(repr, unknown))}; "
                        f"the fields are {', '.join(FIELD_NAMES)}.")
    missing_headers = [f"{field} -> {header!r}" for field, header in mapping.items() if header not in headers]
    if missing_headers:
        raise QattError(f"{file_name} has no column for {'; '.join(missing_headers)}. "
                        f"Its columns are: {', '.join(map(repr, headers))}. Fix the mapping or choose another file.")
    used: Dict[str, str] = {}
    for field, header in mapping.items():
        if header in used:
            raise QattError(f"Column {header!r} of {file_name} is mapped to both {used[header]} and {field}; "
                            f"map each column to one field.")
        used[header] = field
    for field in REQUIRED_FIELDS:
        if field not in mapping:
            raise QattError(f"{file_name}: no column is mapped to the required field '{FIELD_LABELS[field]}'. "
                            f"Its columns are: {', '.join(map(repr, headers))}. "
                            f"Name the column with --mapping (or in the import wizard).")


@dataclass
class SavedMapping:
    mapping: Dict[str, str]
    date_format: str = "auto"


def _check_shape(mapping: object, source: str) -> Dict[str, str]:
    if not isinstance(mapping, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
        raise QattError(f"{source} is not a mapping of field names to column headers, "
                        f'e.g. {{"reference": "Crime Ref", "recorded_date": "Date Recorded"}}.')
    unknown = sorted(set(mapping) - set(FIELD_NAMES))
    if unknown:
        raise QattError(f"{source} names unknown fields {', '.join(map(repr, unknown))}; "
                        f"the fields are {', '.join(FIELD_NAMES)}.")
    return dict(mapping)


def check_name(what: str, name: str, limit: int) -> str:
    """The name without surrounding spaces, or a QattError if it is empty, longer than `limit` or
    holds NUL: PostgreSQL refuses the last two with a traceback (SQLite would store them)."""
    name = name.strip()
    if not name:
        raise QattError(f"Give the {what} a name.")
    if len(name) > limit:
        raise QattError(f"The {what} name is {len(name)} characters long; shorten it to {limit} or fewer.")
    if "\x00" in name:
        raise QattError(f"The {what} name holds a NUL character (pasted from another program?); type it again.")
    return name


def check_date_format(date_format: str) -> str:
    """The date format if it is one QATT knows, else a QattError listing them."""
    if date_format not in DATE_FORMATS:
        raise QattError(f"Unknown date format {date_format!r}; choose one of {', '.join(DATE_FORMATS)}.")
    return date_format


def save_mapping(name: str, mapping: Dict[str, str], actor: str, date_format: str = "auto") -> m.ColumnMapping:
    """Save (or replace) a named mapping for reuse with next month's extract."""
    # The name is also the audit event's object id, whose length PostgreSQL enforces.
    name = check_name("mapping", name, m.AuditEvent.object_id.max_length)
    mapping = _check_shape(mapping, f"The mapping {name!r}")
    check_date_format(date_format)
    saved = m.ColumnMapping.get_or_none(m.ColumnMapping.name == name)
    action = audit.ALTERATION if saved is not None else audit.COLLECTION
    if saved is None:
        saved = m.ColumnMapping(name=name, created_by=actor)
    saved.mapping = mapping
    saved.date_format = date_format
    with m.database_proxy.obj.atomic():
        saved.save()
        audit.record(actor, action, "column_mapping", name, {"fields": sorted(mapping), "date_format": date_format})
    return saved


def _is_file(path: Path) -> bool:
    """Path.is_file, except that a saved name too long to be a file name is simply not a file."""
    try:
        return path.is_file()
    except OSError:
        return False


def load_saved(name_or_path: str) -> SavedMapping:
    """A saved mapping by name, or a JSON file: {"reference": "Crime Ref", ...} or
    {"mapping": {...}, "date_format": "dd/mm/yyyy"}."""
    path = Path(name_or_path)
    if name_or_path.lower().endswith(".json") or _is_file(path):
        try:
            content = json.loads(path.read_text(encoding="utf-8-sig"))
        except FileNotFoundError:
            raise QattError(f"Mapping file {name_or_path} does not exist.") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise QattError(f"Cannot read mapping file {name_or_path}: {exc}. It must be UTF-8 JSON.") from None
        if isinstance(content, dict) and isinstance(content.get("mapping"), dict):
            date_format = content.get("date_format", "auto")
            return SavedMapping(_check_shape(content["mapping"], name_or_path), check_date_format(date_format))
        return SavedMapping(_check_shape(content, name_or_path))
    saved = m.ColumnMapping.get_or_none(m.ColumnMapping.name == name_or_path)
    if saved is None:
        known = list_mappings()
        raise QattError(f"No saved mapping is called {name_or_path!r}"
                        + (f"; saved mappings: {', '.join(known)}." if known else "; none are saved yet.")
                        + " Give a saved name or a .json file.")
    return SavedMapping(dict(saved.mapping), saved.date_format)


def load_mapping(name_or_path: str) -> Dict[str, str]:
    """The {field: header} mapping saved under a name, or read from a JSON file."""
    return load_saved(name_or_path).mapping


def list_mappings() -> List[str]:
    return [row.name for row in m.ColumnMapping.select(m.ColumnMapping.name).order_by(m.ColumnMapping.name)]


def mapping_description(mapping: Dict[str, str]) -> str:
    """One line per mapped field, in CASE_FIELDS order, for the CLI and the wizard's summary."""
    return "\n".join(f"{FIELD_LABELS[f]:<18} <- {mapping[f]!r}" for f in FIELD_NAMES if f in mapping)
