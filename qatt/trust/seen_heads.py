"""Each desktop's memory of the audit chain: the highest head it has seen of each database.

Kept in the user's data folder, outside the database, so someone who can rewrite the database
(delete the newest events, or recompute the whole chain after an edit) cannot also rewrite what
every desktop has already seen. At start-up the desktop compares the database's chain with its
memory and warns when the chain is shorter or no longer extends the head it remembers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, Optional
from urllib.parse import parse_qs, urlparse

import peewee

from qatt.trust import audit
from qatt.fileio import atomic_path
from qatt.storage import models as m
from qatt.storage.db import is_sqlite, sqlite_path

FILE_NAME = "audit-heads.json"


def data_folder() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("qatt", appauthor=False))


def database_key(db: peewee.Database) -> str:
    """Which database this is: the SQLite file's full path, or PostgreSQL server/database/schema."""
    path = sqlite_path(db)
    if path is not None:
        return "sqlite:" + str(path.resolve())
    if is_sqlite(db):
        return "sqlite::memory:"
    url = getattr(db, "qatt_url", "") or ""
    params = db.connect_params if hasattr(db, "connect_params") else {}
    host, port = params.get("host", "localhost"), params.get("port", 5432)
    options = params.get("options", "") or " ".join(parse_qs(urlparse(url).query).get("options", []))
    return f"postgresql:{host}:{port}/{db.database}?{options}".rstrip("?")


def _load(folder: Path) -> Dict[str, Dict[str, object]]:
    path = folder / FILE_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _save(folder: Path, data: Dict[str, Dict[str, object]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / FILE_NAME, ".json") as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")


def _hash_at(number: int) -> Optional[str]:
    """The hash of the event at this position of the chain (1 = the first), None past the end."""
    if number <= 0:
        return audit.GENESIS
    row = (m.AuditEvent.select(m.AuditEvent.hash).order_by(m.AuditEvent.id)
           .offset(number - 1).limit(1).tuples().first())
    return row[0] if row else None


def check_and_remember(db: peewee.Database, folder: Optional[Path] = None) -> str:
    """Compare the database's chain with the head this desktop remembers; remember the new head if it
    extends the old one. Returns a warning ('' when all is well). The highest head is never forgotten:
    after a warning the remembered head stays, so the warning repeats until someone looks into it."""
    folder = Path(folder) if folder is not None else data_folder()
    key = database_key(db)
    data = _load(folder)
    now = audit.current_anchor()
    seen = data.get(key)
    if isinstance(seen, dict) and isinstance(seen.get("events"), int) and isinstance(seen.get("head"), str):
        events, head = int(seen["events"]), str(seen["head"])
        if now.events < events:
            return (f"The audit log is shorter than when this computer last saw it: {now.events} events now, "
                    f"{events} before. Events may have been deleted. Ask the QA lead to run "
                    f"`audit verify --anchor {events}:{head}`.")
        if _hash_at(events) != head:
            return (f"The audit log no longer contains the head this computer last saw (event {events}, "
                    f"{head[:16]}…): it has been rewritten. Ask the QA lead to run "
                    f"`audit verify --anchor {events}:{head}`.")
    data[key] = {"events": now.events, "head": now.head}
    _save(folder, data)
    return ""

