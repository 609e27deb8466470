"""A fictional but realistic case population for demonstrations, training and tests.

Deterministic: the same seed always gives the same rows. Every name and summary is invented
(summaries start with "[DEMO]"), so the demo can be shown anywhere. The CSV uses the headers
and dd/mm/yyyy dates of a real force extract so that it exercises the importer's matching.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import tempfile
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

from qatt.fileio import atomic_path
from qatt.progress import CancelToken, ProgressFn

DEFAULT_CASES = 3000
DEFAULT_SEED = 20240401
DEMO_POPULATION_NAME = "Demo population"

# Areas of practice (DOMAIN.md section 2) with their share of cases and the risk levels they carry.
AREAS: List[Tuple[str, int, Tuple[str, ...], Tuple[int, ...]]] = [
    ("Investigation (any crime)", 30, ("standard", "medium", "high"), (60, 30, 10)),
    ("Domestic abuse referrals", 20, ("standard", "medium", "high"), (40, 40, 20)),
    ("Other referrals", 12, ("standard", "medium", "high"), (55, 35, 10)),
    ("Section 47 enquiries", 8, ("medium", "high"), (50, 50)),
    ("Missing children", 8, ("standard", "medium", "high"), (30, 50, 20)),
    ("Missing persons (adult)", 7, ("standard", "medium", "high"), (40, 45, 15)),
    ("Child sexual exploitation", 5, ("medium", "high"), (40, 60)),
    ("Section 46 police protection", 3, ("high",), (1,)),
    ("Sex offender management", 4, ("medium", "high", "very high"), (35, 45, 20)),
    ("Children in custody", 3, ("standard", "medium", "high"), (50, 35, 15)),
]

DIVISIONS: Dict[str, Tuple[str, ...]] = {
    "Derby City": ("Derby CID", "Derby Response", "Derby Safeguarding", "Derby Neighbourhood"),
    "North": ("Chesterfield CID", "North Response", "North Safeguarding"),
    "South": ("Ripley CID", "South Response", "South Safeguarding", "Swadlincote Neighbourhood"),
}

# Invented names: common first names paired with place-like surnames.
_FIRST = ("Alex", "Sam", "Jo", "Chris", "Jamie", "Robin", "Kim", "Lee", "Pat", "Dana", "Morgan", "Casey",
          "Taylor", "Jordan", "Ashley", "Charlie", "Frankie", "Drew", "Rowan", "Ellis")
_LAST = ("Ashford", "Brookfield", "Calder", "Dunmore", "Elmwood", "Fernley", "Greystone", "Hollins", "Ivybridge",
         "Kestrel", "Larchmont", "Millbeck", "Northcote", "Oakridge", "Pennine", "Quarry", "Redhill", "Stanwick",
         "Thornby", "Underwood", "Valley", "Whitmoor", "Yarrow")

_SUMMARIES: Dict[str, Tuple[str, ...]] = {
    "Investigation (any crime)": ("burglary of a dwelling, suspect identified on CCTV",
                                  "theft from a vehicle, no lines of enquiry",
                                  "assault in a town-centre bar, victim supports prosecution",
                                  "criminal damage to a shop front, suspect released under investigation"),
    "Domestic abuse referrals": ("verbal argument between partners, children present, DASH completed",
                                 "ex-partner breached a non-molestation order",
                                 "repeat incident at the same address, MARAC referral made"),
    "Other referrals": ("school raised concern about a pupil's home conditions",
                        "neighbour reported children left alone overnight",
                        "PPN for a vulnerable adult found in distress"),
    "Section 47 enquiries": ("strategy discussion held with CSC after an unexplained injury",
                             "joint visit with a social worker to a 7-year-old"),
    "Missing children": ("14-year-old missing from a care home, found next day",
                         "child missing after school, returned home late evening"),
    "Missing persons (adult)": ("adult missing from hospital, located safe",
                                "adult with dementia missing from home, found nearby"),
    "Child sexual exploitation": ("concern about an older adult contacting a 15-year-old online",
                                  "child found with unexplained gifts and a second phone"),
    "Section 46 police protection": ("child taken into police protection from an unsafe address",
                                     "police protection used when a parent was arrested"),
    "Sex offender management": ("home visit to a registered sex offender, new partner with children",
                                "RSO failed to notify a change of address"),
    "Children in custody": ("16-year-old detained overnight, appropriate adult attended",
                            "child arrested for robbery, bail refused, accommodation requested"),
}

# Field -> header in the demo extract, as a force system might name them.
HEADERS: Dict[str, str] = {
    "reference": "Occurrence No",
    "recorded_date": "Date Recorded",
    "area": "Area of practice",
    "division": "Division",
    "team": "Team",
    "officer": "OIC",
    "supervisor": "Supervisor",
    "risk": "Risk",
    "status": "Status",
    "summary": "Summary",
    "source_system": "Source system",
    "victim_age_band": "Victim age band",
}

_AGE_BANDS = ("0-9", "10-15", "16-17", "18-24", "25-44", "45-64", "65+")
_SOURCE_SYSTEMS = ("Niche", "CARE", "COMPACT", "ViSOR")


def _staff(rng: random.Random) -> Dict[str, Tuple[List[str], str]]:
    """About 60 officers spread over the teams; each team has one supervising sergeant."""
    names = [f"{first} {last}" for first in _FIRST for last in _LAST]
    rng.shuffle(names)
    staff: Dict[str, Tuple[List[str], str]] = {}
    collar = 1000
    for teams in DIVISIONS.values():
        for team in teams:
            supervisor = f"DS {names.pop()}" if "CID" in team or "Safeguarding" in team else f"PS {names.pop()}"
            officers = []
            for _ in range(rng.randint(4, 7)):
                collar += rng.randint(1, 40)
                officers.append(f"PC {collar} {names.pop()}")
            staff[team] = (officers, supervisor)
    return staff


def generate_rows(n: int = DEFAULT_CASES, seed: int = DEFAULT_SEED,
                  end_date: Optional[dt.date] = None) -> Iterator[Dict[str, object]]:
    """`n` fictional cases recorded over the 12 months up to `end_date` (default 31 March 2024).

    Keys are the Case fields plus two extra columns (source_system, victim_age_band)."""
    end_date = end_date or dt.date(2024, 3, 31)
    rng = random.Random(seed)
    staff = _staff(rng)
    areas = [a[0] for a in AREAS]
    weights = [a[1] for a in AREAS]
    risks = {a[0]: (a[2], a[3]) for a in AREAS}
    divisions = list(DIVISIONS)
    serial = rng.randint(1000, 9000)
    for _ in range(n):
        area = rng.choices(areas, weights)[0]
        division = rng.choices(divisions, (45, 30, 25))[0]
        team = rng.choice(DIVISIONS[division])
        officers, supervisor = staff[team]
        recorded = end_date - dt.timedelta(days=rng.randrange(365))
        age_days = (end_date - recorded).days
        # Older cases are more likely to be finished.
        finished = rng.random() < min(0.9, 0.2 + age_days / 300)
        status = rng.choice(("finalised", "finalised", "filed")) if finished else "open"
        risk_levels, risk_weights = risks[area]
        serial += rng.randint(1, 3)
        yield {
            "reference": f"DE/{recorded.year % 100:02d}/{serial:06d}",
            "recorded_date": recorded,
            "area": area,
            "division": division,
            "team": team,
            "officer": rng.choice(officers),
            "supervisor": supervisor,
            "risk": rng.choices(risk_levels, risk_weights)[0],
            "status": status,
            "summary": "[DEMO] " + rng.choice(_SUMMARIES[area]),
            "source_system": "ViSOR" if area == "Sex offender management" else rng.choice(_SOURCE_SYSTEMS[:3]),
            "victim_age_band": rng.choice(_AGE_BANDS),
        }


def write_csv(path: Path, n: int = DEFAULT_CASES, seed: int = DEFAULT_SEED,
              end_date: Optional[dt.date] = None) -> Path:
    """Write the demo extract as a UTF-8 CSV with UK dates (atomically)."""
    path = Path(path)
    keys = list(HEADERS)
    with atomic_path(path, ".csv") as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow([HEADERS[k] for k in keys])
            for row in generate_rows(n, seed, end_date):
                row["recorded_date"] = row["recorded_date"].strftime("%d/%m/%Y")  # type: ignore[union-attr]
                writer.writerow([row[k] for k in keys])
    return path


def load_demo(actor: str, cases: int = DEFAULT_CASES, seed: int = DEFAULT_SEED,
              progress: Optional[ProgressFn] = None, cancel: Optional[CancelToken] = None):
    """Import the demo population into the bound database through the real importer."""
    from qatt.importing import import_population

    with tempfile.TemporaryDirectory(prefix="qatt-demo-") as folder:
        path = write_csv(Path(folder) / "demo-extract.csv", cases, seed)
        return import_population(path, name=DEMO_POPULATION_NAME, actor=actor, progress=progress, cancel=cancel)
