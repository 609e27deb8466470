"""Append-only, hash-chained audit log (Data Protection Act 2018, Part 3, section 62).

Every event stores the hash of the one before it, so altering or removing a row breaks the chain
from that point on; `verify_chain` finds the first broken link. The chain head is also kept in the
`audit_head` setting, so removing the newest events is noticed too, and outside the database
(anchors: printed on every export, `audit anchor`, and remembered by each desktop), so rewriting the
whole chain is noticed as well. Since schema version 6 each event chains over a digest of its
details, so a purge can erase case content from them and the chain still verifies (docs/audit.md).

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
    """Scheme 1 (events written before schema version 6): the hash covers the details themselves."""
    payload = json.dumps(
        [prev_hash, _stamp(at), actor, action, object_type, object_id, details],
        sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def details_digest(details: Any) -> str:
    """SHA-256 of the details' canonical JSON: what scheme-2 events chain over."""
    payload = json.dumps(details, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def event_hash_v2(prev_hash: str, at: dt.datetime, actor: str, action: str, object_type: str,
                  object_id: str, digest: str, signed_in_as: str = "") -> str:
    """Scheme 2: the hash covers a digest of the details, so erasing the details (a purge) leaves
    the chain intact while any other change to them is still detected (against the digest)."""
    payload = json.dumps(["v2", prev_hash, _stamp(at), actor, signed_in_as, action, object_type, object_id, digest],
                         ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _normalise(details: Any) -> Any:
    # Round-trip through JSON so the hash is computed on exactly what is stored.
    return json.loads(json.dumps(details, sort_keys=True, ensure_ascii=False, default=str)) if details is not None else None


HEAD_KEY = "audit_head"


def _valid_head(value: Any) -> bool:
    return (isinstance(value, dict) and isinstance(value.get("hash"), str) and len(value["hash"]) == 64
            and isinstance(value.get("count"), int) and isinstance(value.get("id"), int))


def _locked_head() -> Optional[m.Setting]:
    query = m.Setting.select().where(m.Setting.key == HEAD_KEY)
    if not is_sqlite(database_proxy.obj):
        query = query.for_update()
    return query.first()


def _rebuilt_head(head: Optional[m.Setting]) -> m.Setting:
    """A head row rebuilt from the newest event, when it was deleted or damaged. The repair stays on
    record in the row ("repairs"), so `audit verify` keeps reporting it: it is evidence of tampering."""
    last = m.AuditEvent.select().order_by(m.AuditEvent.id.desc()).first()
    problem = "missing" if head is None else "damaged"
    old = head.value if head is not None and isinstance(head.value, dict) else {}
    repairs = list(old.get("repairs", [])) if isinstance(old.get("repairs"), list) else []
    repairs.append({"found": problem, "at": _stamp(m.utcnow()), "after_event": last.id if last else 0})
    value = {"id": last.id if last else 0, "hash": last.hash if last else GENESIS,
             "count": m.AuditEvent.select().count(), "repairs": repairs}
    if head is None:
        return m.Setting.create(key=HEAD_KEY, value=value)
    head.value = value
    head.save()
    return head


def record(actor: str, action: str, object_type: str, object_id: Any = "", details: Any = None) -> m.AuditEvent:
    """Append one event. Runs inside the caller's transaction if there is one, so the event
    commits (or rolls back) together with the change it describes."""
    db = database_proxy.obj
    # Everything that does not need the chain head is done before its row lock is taken: every
    # writer on PostgreSQL queues on that lock until this transaction commits.
    details = _normalise(details)
    object_id = str(object_id if object_id is not None else "")
    digest = details_digest(details)
    with write_transaction(db):
        head = _locked_head()
        if head is None or not _valid_head(head.value):
            head = _rebuilt_head(head)
        at = m.utcnow()
        # Who was proven to be at the keyboard (qatt.trust.identity), beside the name acted as.
        signed_in = getattr(db, "qatt_signed_in_as", "") or ""
        prev = head.value["hash"]
        chained = event_hash_v2(prev, at, actor, action, object_type, object_id, digest, signed_in)
        event = m.AuditEvent.create(
            at=at, actor=actor, signed_in_as=signed_in, action=action, object_type=object_type,
            object_id=object_id, details=details, details_hash=digest, prev_hash=prev, hash=chained,
        )
        head.value = {**head.value, "id": event.id, "hash": chained, "count": head.value["count"] + 1}
        head.save()
    return event


# --------------------------------------------------------------------------- erasure

def is_erased(details: Any) -> bool:
    return isinstance(details, dict) and set(details) == {"erased"}


def erase_details(event_ids: List[int], erasure_event_id: int) -> int:
    """Replace the details of these events by a note naming the erasure event (a purge's).
    Scheme-2 events still verify (their hash covers the stored digest, not the details); older
    events can then be checked only by their links. Returns how many events were erased."""
    ids = sorted(set(event_ids))
    done = 0
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        done += (m.AuditEvent.update(details={"erased": erasure_event_id})
                 .where(m.AuditEvent.id.in_(chunk)).execute())
    return done


# --------------------------------------------------------------------------- verifying and anchoring

@dataclass(frozen=True)
class Anchor:
    """A point of the chain kept outside the database: how many events, and the newest one's hash."""

    events: int
    head: str

    def as_dict(self) -> Dict[str, Any]:
        return {"kind": "qatt audit anchor", "events": self.events, "head": self.head}

    def text(self) -> str:
        return f"{self.events} events, head {self.head}"


def current_anchor() -> Anchor:
    """The head as the log itself shows it (the newest event), for exports and `audit anchor`."""
    last = m.AuditEvent.select(m.AuditEvent.hash).order_by(m.AuditEvent.id.desc()).first()
    return Anchor(m.AuditEvent.select().count(), last.hash if last else GENESIS)


def head_text() -> str:
    """'Audit log: N events, head H' as printed on every export."""
    return f"Audit log: {current_anchor().text()}"


def parse_anchor(text_or_file: str) -> Anchor:
    """An anchor given as a hash, 'COUNT:HASH', or a file `audit anchor --out` wrote."""
    from qatt.errors import QattError

    text = text_or_file.strip()
    path = Path(text)
    if len(text) != 64 and path.is_file():
        content = path.read_text(encoding="utf-8").strip()
        try:
            data = json.loads(content)
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("head"), str):
            return Anchor(int(data.get("events") or 0), data["head"].lower())
        text = content
    count, _, digest = text.rpartition(":")
    digest = digest.strip().lower()
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest) or (count and not count.isdigit()):
        raise QattError(f"{text_or_file!r} is not an audit anchor: give the 64-character head hash, "
                        "COUNT:HASH, or a file written by `audit anchor --out`.")
    return Anchor(int(count or 0), digest)


@dataclass
class ChainReport:
    ok: bool
    events: int
    first_broken_id: Optional[int] = None
    problem: str = ""
    details: Dict[str, Any] = field(default_factory=dict)
    head: str = GENESIS
    erased: int = 0  # events whose details a purge erased
    link_only: int = 0  # of those, events of the older scheme: checked by their links only
    anchor: Optional[Dict[str, Any]] = None
    problems: List[str] = field(default_factory=list)

    def as_dict(self) -> Dict[str, Any]:
        return {"ok": self.ok, "events": self.events, "first_broken_id": self.first_broken_id,
                "problem": self.problem, "problems": list(self.problems), "head": self.head,
                "erased": self.erased, "link_only": self.link_only, "anchor": self.anchor}

    def fail(self, problem: str, event_id: Optional[int] = None) -> None:
        if self.ok:
            self.ok, self.problem, self.first_broken_id = False, problem, event_id
        self.problems.append(problem)


def verify_chain(anchor: Optional[Anchor] = None) -> ChainReport:
    """Walk the chain from the first event. Reports the first broken link, erased details that no
    erasure event accounts for, a missing, damaged or repaired head row, and (given an anchor) whether
    the log still holds that head unchanged at its place."""
    report = ChainReport(True, 0)
    prev, count, last_id = GENESIS, 0, 0
    anchor_at: Optional[int] = None
    erased_by: Dict[int, int] = {}
    erasures: Dict[int, set] = {}
    cols = [f.name for f in m.AuditEvent._meta.sorted_fields]
    broken = False
    for row in m.AuditEvent.select().order_by(m.AuditEvent.id).tuples().iterator():
        ev = dict(zip(cols, row))
        details = json.loads(ev["details"]) if isinstance(ev["details"], str) and ev["details"] else ev["details"]
        at = ev["at"] if isinstance(ev["at"], dt.datetime) else m.AuditEvent.at.python_value(ev["at"])
        count += 1
        if not broken:
            problem = _check_event(ev, details, at, prev, report)
            if problem:
                report.fail(problem, ev["id"])
                broken = True
        if is_erased(details):
            erased_by[ev["id"]] = details["erased"]
        if ev["action"] == ERASURE and isinstance(details, dict) and isinstance(details.get("erased_events"), list):
            erasures[ev["id"]] = set(details["erased_events"])
        if anchor is not None and ev["hash"] == anchor.head and anchor_at is None:
            anchor_at = count
        prev, last_id = ev["hash"], ev["id"]
    report.events, report.head = count, prev
    stray = sorted(i for i, by in erased_by.items() if i not in erasures.get(by, set()))
    if stray:
        report.fail(f"the details of event {stray[0]} were removed without a recorded erasure"
                    + (f" (and {len(stray) - 1} more)" if len(stray) > 1 else ""), stray[0])
    _check_head(report, prev, count, last_id)
    if anchor is not None:
        _check_anchor(report, anchor, anchor_at, broken)
    return report


def _check_event(ev: Dict[str, Any], details: Any, at: dt.datetime, prev: str, report: ChainReport) -> str:
    if ev["prev_hash"] != prev:
        return f"event {ev['id']} does not follow the event before it (an event was removed or inserted)"
    digest = ev.get("details_hash") or ""
    if digest:
        expected = event_hash_v2(prev, at, ev["actor"], ev["action"], ev["object_type"], ev["object_id"], digest,
                                 ev.get("signed_in_as") or "")
        if expected != ev["hash"]:
            return f"event {ev['id']} was altered after it was written"
        if is_erased(details):
            report.erased += 1
        elif details_digest(details) != digest:
            return f"the details of event {ev['id']} were altered after it was written"
        return ""
    if is_erased(details):
        report.erased += 1
        report.link_only += 1
        return ""
    expected = event_hash(prev, at, ev["actor"], ev["action"], ev["object_type"], ev["object_id"], details)
    if expected != ev["hash"]:
        return f"event {ev['id']} was altered after it was written"
    return ""


def _check_head(report: ChainReport, prev: str, count: int, last_id: int) -> None:
    head = m.Setting.get_or_none(m.Setting.key == HEAD_KEY)
    if head is None:
        report.fail("the chain's head record is missing (deleted?): the newest events cannot be "
                    "checked against it; check against an anchor (audit verify --anchor)", last_id or None)
        return
    if not _valid_head(head.value):
        report.fail("the chain's head record is damaged; check against an anchor (audit verify --anchor)",
                    last_id or None)
        return
    for repair in head.value.get("repairs", []) or []:
        report.fail(f"the chain's head record was found {repair.get('found', 'missing')} and rebuilt at "
                    f"{repair.get('at', '?')} UTC after event {repair.get('after_event', '?')}; events up to "
                    "then may have been removed (check against an anchor)", repair.get("after_event") or None)
    if head.value["hash"] != prev or head.value["count"] != count:
        report.fail("the newest events were removed (the chain ends before the recorded head)", last_id or None)


def _check_anchor(report: ChainReport, anchor: Anchor, position: Optional[int], broken: bool) -> None:
    found = position is not None and (not anchor.events or position == anchor.events)
    report.anchor = {"events": anchor.events, "head": anchor.head, "found": found,
                     "at_event": position}
    if position is None:
        report.fail(f"the log no longer holds the anchored head {anchor.head[:16]}… "
                    f"({anchor.events or '?'} events): events were removed or the chain was rewritten")
    elif anchor.events and position != anchor.events:
        report.fail(f"the anchored head is event number {position} of the log, not number {anchor.events}: "
                    "events before it were removed or inserted")
    elif broken and report.first_broken_id is not None and _event_number(report.first_broken_id) <= position:
        report.fail("the log holds the anchored head, but an event before it no longer verifies")


def _event_number(event_id: int) -> int:
    return m.AuditEvent.select().where(m.AuditEvent.id <= event_id).count()


def events(start: Optional[dt.date] = None, end: Optional[dt.date] = None) -> List[m.AuditEvent]:
    q = m.AuditEvent.select().order_by(m.AuditEvent.id)
    if start:
        q = q.where(m.AuditEvent.at >= dt.datetime.combine(start, dt.time.min))
    if end:
        q = q.where(m.AuditEvent.at < dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min))
    return list(q)


def export_csv(path: Path, start: Optional[dt.date] = None, end: Optional[dt.date] = None,
               viewer: str = "") -> int:
    """Write the log for a date range as CSV (atomically). Returns the number of events.

    With a `viewer`, the details of every event about a review they may not see (qatt.trust.visibility:
    roles and the blind rule; `reviews_of` says which events are about which review) are withheld;
    the row, its digest and its hashes stay, so the chain can still be checked."""
    return export_csv_withholding(path, start, end, viewer)[0]


def export_csv_withholding(path: Path, start: Optional[dt.date] = None, end: Optional[dt.date] = None,
                           viewer: str = "") -> tuple:
    """export_csv, returning (events written, sorted ids of the reviews whose events were withheld):
    the disclosure records the latter, so it is known the viewer has not seen those reviews."""
    from qatt.fileio import atomic_write_text_rows

    hidden: set = set()
    if viewer:
        from qatt.trust import visibility

        hidden = {str(i) for i in visibility.hidden_review_ids(viewer)}
    withheld: set = set()
    # New columns go last, so readers of older exports keep working.
    rows = [["id", "at", "actor", "action", "object_type", "object_id", "details", "prev_hash", "hash",
             "details_hash", "signed_in_as"]]
    for ev in events(start, end):
        details = ev.details
        if hidden:
            details, redacted = redacted_details(ev, hidden)
            withheld |= redacted
        rows.append([ev.id, _stamp(ev.at), ev.actor, ev.action, ev.object_type, ev.object_id,
                     json.dumps(details, sort_keys=True, ensure_ascii=False), ev.prev_hash, ev.hash, ev.details_hash,
                     ev.signed_in_as])
    atomic_write_text_rows(path, rows)
    return len(rows) - 1, sorted(int(i) for i in withheld)


WITHHELD = {"withheld": "blind second review: submit your own review of this case first"}

# Which review an event is about, by its object type. Every object type the code records (every
# `audit.record` call in qatt/, exports/ and ui/) is in one of these; tests/unit/test_audit_redaction.py
# reads every call and fails on a type in none of them, so a new kind of event cannot leak a hidden
# review's details into an audit export unnoticed.
REVIEW_IS_OBJECT = {"review", "feedback_acknowledgement"}  # object_id is the review's id
REVIEW_IN_DETAILS = {"action"}  # details["review"] is the review's id
LISTS_REVIEWS = {"export"}  # details["reviews"]: the reviews a file may show; details["rows"]["review_id"]: a feedback sheet's
EVIDENCE = {"register"}  # details["evidence"] = {"kind": "review" | "action", "ref": id}
NOT_ABOUT_A_REVIEW = {
    "assignment", "audit_log", "calibration", "column_mapping", "database", "exercise", "exercise_grade",
    "form_version", "narrative", "plan", "population", "retention", "sample", "sample_item", "setting", "user",
}


def reviews_of(ev: m.AuditEvent, details: Any = None) -> List[str]:
    """The ids (as text) of the reviews an event is about: [] for none. Unknown object types count as about
    no review here; the test above keeps the lists complete."""
    details = ev.details if details is None else details
    details = details if isinstance(details, dict) else {}
    kind = ev.object_type
    if kind in REVIEW_IS_OBJECT:
        return [ev.object_id]
    if kind in REVIEW_IN_DETAILS and details.get("review") is not None:
        return [str(details["review"])]
    if kind in LISTS_REVIEWS:
        found = [str(i) for i in details.get("reviews") or [] if i is not None]
        rows = details.get("rows") if isinstance(details.get("rows"), dict) else {}
        if rows.get("review_id") is not None:
            found.append(str(rows["review_id"]))
        return found
    if kind in EVIDENCE and isinstance(details.get("evidence"), dict):
        evidence = details["evidence"]
        if evidence.get("kind") == "review":
            return [str(evidence.get("ref"))]
        if evidence.get("kind") == "action":
            action = m.Action.get_or_none(m.Action.id == _as_int(evidence.get("ref")))
            return [str(action.review_id)] if action is not None else []
    return []


def _as_int(value: Any) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        return 0


def redacted_details(ev: m.AuditEvent, hidden: set) -> tuple:
    """(the details `ev` may show someone blind to the reviews in `hidden`, the hidden reviews it was about).

    An event about one hidden review shows nothing of its details. An export's list of the reviews a file
    may show only loses the hidden ones (the rest of that event is about the export, not a review), except
    a feedback sheet of a hidden review, which is withheld like any event about it."""
    details = ev.details
    about = set(reviews_of(ev, details)) & hidden
    if not about:
        return details, set()
    rows = details.get("rows") if isinstance(details, dict) and isinstance(details.get("rows"), dict) else {}
    if ev.object_type in LISTS_REVIEWS and str(rows.get("review_id")) not in hidden:
        kept = dict(details)
        kept["reviews"] = [i for i in details.get("reviews") or [] if str(i) not in hidden]
        return kept, about
    return dict(WITHHELD), about
