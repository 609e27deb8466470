"""Append-only, hash-chained audit log (Data Protection Act 2018, Part 3, section 62).

Every event stores the hash of the one before it, so altering or removing a row breaks the chain
from that point on; `verify_chain` finds the first broken link. The chain head is also kept in the
`audit_head` setting, so removing the newest events is noticed too.

Details must never carry case content (summaries, free text): identifiers, counts and field names only,
except old/new values of a review change, which the law asks for and which stay inside the database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

from qatt.storage import models as m
from qatt.storage.db import database_proxy, is_sqlite, write_transaction

GENESIS = "0" * 64

# The kinds of processing section 62 names, plus the app's own housekeeping.
COLLECTION = "collection"
ALTERATION = "alteration"
CONSULTATION = "consultation"
DISCLOSURE = "disclosure"
COMBINATION = "combination"
ERASURE = "erasure"


def _stamp(at: dt.datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%f")


def event_hash(prev_hash: str, at: dt.datetime, actor: str, action: str, object_type: str,
               object_id: str, details: Any) -> str:
    payload = json.dumps(
        [prev_hash, _stamp(at), actor, action, object_type, object_id, details],
        sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _normalise(details: Any) -> Any:
    # Round-trip through JSON so the hash is computed on exactly what is stored.
    return json.loads(json.dumps(details, sort_keys=True, ensure_ascii=False, default=str)) if details is not None else None


def record(actor: str, action: str, object_type: str, object_id: Any = "", details: Any = None) -> m.AuditEvent:
    """Append one event. Runs inside the caller's transaction if there is one, so the event
    commits (or rolls back) together with the change it describes."""
    db = database_proxy.obj
    # Everything that does not need the chain head is done before its row lock is taken: every
    # writer on PostgreSQL queues on that lock until this transaction commits.
    details = _normalise(details)
    object_id = str(object_id if object_id is not None else "")
    with write_transaction(db):
        head_query = m.Setting.select().where(m.Setting.key == "audit_head")
        if not is_sqlite(db):
            head_query = head_query.for_update()
        head = head_query.get()
        at = m.utcnow()
        digest = event_hash(head.value["hash"], at, actor, action, object_type, object_id, details)
        event = m.AuditEvent.create(
            at=at, actor=actor, action=action, object_type=object_type, object_id=object_id,
            details=details, prev_hash=head.value["hash"], hash=digest,
        )
        head.value = {"id": event.id, "hash": digest, "count": head.value.get("count", 0) + 1}
        head.save()
    return event


@dataclass
class ChainReport:
    ok: bool
    events: int
    first_broken_id: Optional[int] = None
    problem: str = ""
    details: Dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> Dict[str, Any]:
        return {"ok": self.ok, "events": self.events, "first_broken_id": self.first_broken_id,
                "problem": self.problem}


def verify_chain() -> ChainReport:
    prev = GENESIS
    count = 0
    last_id = 0
    query = m.AuditEvent.select().order_by(m.AuditEvent.id).tuples().iterator()
    cols = [f.name for f in m.AuditEvent._meta.sorted_fields]
    for row in query:
        ev = dict(zip(cols, row))
        details = json.loads(ev["details"]) if isinstance(ev["details"], str) and ev["details"] else ev["details"]
        at = ev["at"] if isinstance(ev["at"], dt.datetime) else m.AuditEvent.at.python_value(ev["at"])
        count += 1
        if ev["prev_hash"] != prev:
            return ChainReport(False, count, ev["id"],
                               f"event {ev['id']} does not follow the event before it (an event was removed or inserted)")
        expected = event_hash(prev, at, ev["actor"], ev["action"], ev["object_type"], ev["object_id"], details)
        if expected != ev["hash"]:
            return ChainReport(False, count, ev["id"], f"event {ev['id']} was altered after it was written")
        prev = ev["hash"]
        last_id = ev["id"]
    head = m.Setting.get_or_none(m.Setting.key == "audit_head")
    if head is not None and (head.value.get("hash") != prev or head.value.get("count", count) != count):
        return ChainReport(False, count, last_id or None,
                           "the newest events were removed (the chain ends before the recorded head)")
    return ChainReport(True, count)


def events(start: Optional[dt.date] = None, end: Optional[dt.date] = None) -> List[m.AuditEvent]:
    q = m.AuditEvent.select().order_by(m.AuditEvent.id)
    if start:
        q = q.where(m.AuditEvent.at >= dt.datetime.combine(start, dt.time.min))
    if end:
        q = q.where(m.AuditEvent.at < dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min))
    return list(q)


def export_csv(path: Path, start: Optional[dt.date] = None, end: Optional[dt.date] = None) -> int:
    """Write the log for a date range as CSV (atomically). Returns the number of events."""
    from qatt.fileio import atomic_write_text_rows

    rows = [["id", "at", "actor", "action", "object_type", "object_id", "details", "prev_hash", "hash"]]
    for ev in events(start, end):
        rows.append([ev.id, _stamp(ev.at), ev.actor, ev.action, ev.object_type, ev.object_id,
                     json.dumps(ev.details, sort_keys=True, ensure_ascii=False), ev.prev_hash, ev.hash])
    atomic_write_text_rows(path, rows)
    return len(rows) - 1
