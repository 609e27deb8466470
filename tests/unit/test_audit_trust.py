"""The audit chain against someone who can write to the database: anchors kept outside it, the head
row, the review-state check and the migration of existing chains."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

import pytest

from qatt.reviewing import reviews
from qatt.trust import audit, audit_state, seen_heads
from qatt.cli import main
from qatt.storage import db as dbmod
from qatt.storage import migrations
from qatt.storage import models as m
from tests.conftest import accept_setup_changes
from tests.factories import COMPLETE_ANSWERS, form_dict, make_population, make_sample, make_user, sample_items, write_form


@pytest.fixture
def reviewed(db, tmp_path):
    """Two submitted reviews by sup.a, so the chain holds a few dozen events."""
    folder = tmp_path / "forms"
    write_form(folder, form_dict())
    make_user("sup.a")
    make_user("admin", "admin")
    sample = make_sample(make_population(2), form_id="test_form")
    accept_setup_changes(db)  # the factories' inserts; everything after goes through QATT
    done = []
    for item in sample_items(sample):
        review = reviews.start_review(item.id, "sup.a", forms_dir=folder)
        review = reviews.save_answers(review.id, COMPLETE_ANSWERS, "sup.a", review.version)
        done.append(reviews.submit_review(review.id, "sup.a", review.version))
    return done


def cli(capsys, db, *args, user="admin"):
    code = main(["--db", db.qatt_url, "--user", user, "--json", *args])
    dbmod.bind(db)
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else None), err


def _rehash_from(first_id: int) -> None:
    """What a careful forger does: recompute every hash from an event on, and the head to match."""
    prev = m.AuditEvent.get_by_id(first_id).prev_hash
    count = m.AuditEvent.select().where(m.AuditEvent.id < first_id).count()
    for ev in m.AuditEvent.select().where(m.AuditEvent.id >= first_id).order_by(m.AuditEvent.id):
        digest = audit.details_digest(ev.details)
        new = audit.event_hash_v2(prev, ev.at, ev.actor, ev.action, ev.object_type, ev.object_id, digest,
                                  ev.signed_in_as)
        m.AuditEvent.update(prev_hash=prev, hash=new, details_hash=digest).where(m.AuditEvent.id == ev.id).execute()
        prev, count = new, count + 1
    last = m.AuditEvent.select().order_by(m.AuditEvent.id.desc()).first()
    m.Setting.update(value={"id": last.id if last else 0, "hash": prev, "count": count}).where(
        m.Setting.key == "audit_head").execute()


def _forge_head_to_match_the_table() -> None:
    last = m.AuditEvent.select().order_by(m.AuditEvent.id.desc()).first()
    m.Setting.update(value={"id": last.id if last else 0, "hash": last.hash if last else audit.GENESIS,
                            "count": m.AuditEvent.select().count()}).where(m.Setting.key == "audit_head").execute()


def test_a_new_chain_verifies_and_an_anchor_of_it_too(reviewed):
    anchor = audit.current_anchor()
    report = audit.verify_chain(anchor)
    assert report.ok and report.events == anchor.events > 5 and report.anchor["found"]


def test_deleting_the_tail_and_forging_the_head_is_caught_by_an_earlier_anchor(reviewed):
    anchor = audit.current_anchor()
    assert audit.verify_chain().ok
    newest = m.AuditEvent.select().order_by(m.AuditEvent.id.desc()).limit(3)
    m.AuditEvent.delete().where(m.AuditEvent.id.in_([e.id for e in newest])).execute()
    _forge_head_to_match_the_table()
    assert audit.verify_chain().ok  # the database alone cannot tell
    report = audit.verify_chain(anchor)
    assert not report.ok and "no longer holds the anchored head" in report.problem


def test_deleting_everything_is_caught_by_an_anchor(reviewed):
    anchor = audit.current_anchor()
    m.AuditEvent.delete().execute()
    _forge_head_to_match_the_table()
    report = audit.verify_chain(anchor)
    assert not report.ok and report.events == 0 and "no longer holds" in report.problem


def test_recomputing_the_chain_after_an_edit_is_caught_by_an_anchor(reviewed):
    anchor = audit.current_anchor()
    victim = m.AuditEvent.select().where(m.AuditEvent.object_type == "review").order_by(m.AuditEvent.id).first()
    m.AuditEvent.update(actor="someone.else").where(m.AuditEvent.id == victim.id).execute()
    assert not audit.verify_chain().ok
    _rehash_from(victim.id)
    assert audit.verify_chain().ok  # a consistent forgery...
    report = audit.verify_chain(anchor)
    assert not report.ok and "no longer holds the anchored head" in report.problem  # ...but not the anchored head


def test_editing_the_details_of_an_event_is_caught_by_its_digest(reviewed):
    victim = m.AuditEvent.select().where(m.AuditEvent.object_type == "review").order_by(m.AuditEvent.id).first()
    m.AuditEvent.update(details={**victim.details, "role": "second"}).where(m.AuditEvent.id == victim.id).execute()
    report = audit.verify_chain()
    assert not report.ok and report.first_broken_id == victim.id and "details" in report.problem


def test_a_deleted_head_row_is_reported_and_the_next_write_does_not_crash(reviewed, capsys, db):
    m.Setting.delete().where(m.Setting.key == "audit_head").execute()
    report = audit.verify_chain()
    assert not report.ok and "head record is missing" in report.problem
    audit.record("admin", audit.CONSULTATION, "sample", 1, {"purpose": "check"})  # used to raise
    code, data, _ = cli(capsys, db, "audit", "verify")
    assert code == 1 and any("found missing and rebuilt" in p for p in data["problems"])
    # the links themselves still verify: only the head row was touched
    assert data["first_broken_id"] is not None and not any("altered" in p for p in data["problems"])


def test_a_damaged_head_row_is_reported_and_writing_goes_on(reviewed):
    m.Setting.update(value={"oops": 1}).where(m.Setting.key == "audit_head").execute()
    assert "damaged" in audit.verify_chain().problem
    audit.record("admin", audit.CONSULTATION, "sample", 1, {})
    assert "found damaged and rebuilt" in audit.verify_chain().problem


def test_audit_anchor_writes_a_file_that_verify_accepts(reviewed, capsys, db, tmp_path):
    target = tmp_path / "anchor.json"
    code, data, _ = cli(capsys, db, "audit", "anchor", "--out", str(target))
    assert code == 0 and json.loads(target.read_text())["head"] == data["head"]
    code, data, _ = cli(capsys, db, "audit", "verify", "--anchor", str(target))
    assert code == 0 and data["ok"] and data["anchor"]["found"]
    code, data, _ = cli(capsys, db, "audit", "verify", "--anchor", f"{data['events']}:{data['head']}")
    assert code == 0
    m.AuditEvent.delete().where(m.AuditEvent.id == m.AuditEvent.select(m.AuditEvent.id)
                                .order_by(m.AuditEvent.id.desc()).limit(1).scalar()).execute()
    _forge_head_to_match_the_table()
    code, data, _ = cli(capsys, db, "audit", "verify", "--anchor", str(target))
    assert code == 1 and not data["ok"]
    code, _, err = cli(capsys, db, "audit", "verify", "--anchor", "not-a-hash")
    assert code == 2 and "is not an audit anchor" in err


def test_every_export_prints_the_audit_head(reviewed, capsys, db, tmp_path):
    code, data, _ = cli(capsys, db, "export", "pdf", "--report", "feedback", "--review", str(reviewed[0].id),
                        "--out", str(tmp_path / "f.pdf"), "--purpose", "test", "--recipient", "QA team")
    assert code == 0
    head = audit.current_anchor()
    assert data["audit_head"] == head.text()
    from pypdf import PdfReader

    text = "".join(p.extract_text() for p in PdfReader(str(tmp_path / "f.pdf")).pages).replace("\n", "")
    assert "Audit log" in text and f"{head.events - 1} events" in text  # the head before its own record


def test_a_grade_changed_with_the_sqlite3_module_is_named(sqlite_db, tmp_path, capsys):
    folder = tmp_path / "forms"
    write_form(folder, form_dict())
    make_user("sup.a")
    make_user("admin", "admin")
    sample = make_sample(make_population(2), form_id="test_form")
    item, other = sample_items(sample)
    review = reviews.start_review(item.id, "sup.a", forms_dir=folder)
    review = reviews.save_answers(review.id, COMPLETE_ANSWERS, "sup.a", review.version)
    review = reviews.submit_review(review.id, "sup.a", review.version)
    untouched = reviews.start_review(other.id, "sup.a", forms_dir=folder)
    code, data, _ = cli(capsys, sqlite_db, "audit", "verify")
    assert code == 0 and data["differing_reviews"] == []

    sqlite_db.close()
    raw = sqlite3.connect(sqlite_db.qatt_url)
    raw.execute("UPDATE review SET grade = 'inadequate' WHERE id = ?", (review.id,))
    raw.execute("UPDATE answer SET value = '\"no\"' WHERE review_id = ? AND question_id = 'c1'", (review.id,))
    raw.commit()
    raw.close()
    code, data, _ = cli(capsys, sqlite_db, "audit", "verify")
    assert code == 1 and data["ok"]  # the chain itself is intact: the change left no event
    assert [d["review_id"] for d in data["differing_reviews"]] == [review.id]
    assert data["differing_reviews"][0]["case_reference"] == "REF0001"
    main(["--db", sqlite_db.qatt_url, "--user", "admin", "audit", "verify"])
    dbmod.bind(sqlite_db)
    text = capsys.readouterr().out
    assert f"review {review.id} (case REF0001, first review by sup.a)" in text
    assert str(untouched.id) not in [str(d["review_id"]) for d in data["differing_reviews"]]


@pytest.mark.parametrize("change", ["role = 'second', reviewer = 'sup.b'", "reviewer = 'sup.b'", "sample_item_id = ?"])
def test_a_first_review_turned_into_someone_elses_or_another_cases_is_named(sqlite_db, tmp_path, capsys, change):
    """A self-grade made to look like an independent second review (or moved to another reviewer or
    case) by direct SQL leaves the grade and answers as they were: the recorded state covers who, in
    which role and of which case too."""
    folder = tmp_path / "forms"
    write_form(folder, form_dict())
    make_user("sup.a")
    make_user("admin", "admin")
    item, other = sample_items(make_sample(make_population(2), form_id="test_form"))
    review = reviews.start_review(item.id, "sup.a", forms_dir=folder)
    review = reviews.save_answers(review.id, COMPLETE_ANSWERS, "sup.a", review.version)
    reviews.submit_review(review.id, "sup.a", review.version)
    sqlite_db.close()
    raw = sqlite3.connect(sqlite_db.qatt_url)
    raw.execute(f"UPDATE review SET {change} WHERE id = ?", ((other.id,) if "?" in change else ()) + (review.id,))
    raw.commit()
    raw.close()
    code, data, _ = cli(capsys, sqlite_db, "audit", "verify")
    assert code == 1 and [d["review_id"] for d in data["differing_reviews"]] == [review.id]
    assert "reviewer, role, case" in data["differing_reviews"][0]["problem"]


def test_a_state_recorded_in_the_first_form_is_still_checked_by_it(sqlite_db, tmp_path, capsys):
    """Events written before the state covered reviewer, role and case hold the first form's digest:
    such a review still verifies, and a grade changed behind it is still named."""
    folder = tmp_path / "forms"
    write_form(folder, form_dict())
    make_user("sup.a")
    make_user("admin", "admin")
    (item,) = sample_items(make_sample(make_population(1), form_id="test_form"))
    review = reviews.start_review(item.id, "sup.a", forms_dir=folder)
    review = reviews.save_answers(review.id, COMPLETE_ANSWERS, "sup.a", review.version)
    review = reviews.submit_review(review.id, "sup.a", review.version)
    answers = {q: v for q, v in m.Answer.select(m.Answer.question_id, m.Answer.value)
               .where(m.Answer.review == review.id).tuples()}
    old_form = audit_state.digest(review.status, review.grade, answers)
    assert not old_form.startswith(audit_state.V2) and audit_state.state_of(review.id).startswith(audit_state.V2)
    assert audit_state.matches(old_form, "second", "someone", 0, review.status, review.grade, answers)
    raw = sqlite3.connect(sqlite_db.qatt_url)
    for event_id, details in raw.execute("SELECT id, details FROM audit_event WHERE object_type = 'review'").fetchall():
        recorded = json.loads(details)
        if "state" in recorded:  # as an older QATT wrote it (the chain itself is not re-checked here)
            recorded["state"] = old_form
            raw.execute("UPDATE audit_event SET details = ? WHERE id = ?", (json.dumps(recorded), event_id))
    raw.commit()
    assert audit_state.differing_reviews() == []
    raw.execute("UPDATE review SET grade = 'inadequate' WHERE id = ?", (review.id,))
    raw.commit()
    raw.close()
    assert [d.review_id for d in audit_state.differing_reviews()] == [review.id]


def test_a_review_made_outside_qatt_is_named(reviewed, capsys, db):
    first = reviewed[0]
    fake = m.Review.create(sample_item=first.sample_item_id, form_version=first.form_version_id, reviewer="sup.b",
                           role="second", status="submitted", grade="good")
    code, data, _ = cli(capsys, db, "audit", "verify")
    assert code == 1 and [d["review_id"] for d in data["differing_reviews"]] == [fake.id]
    assert "no record" in data["differing_reviews"][0]["problem"]


# --------------------------------------------------------------------------- the desktop's memory

def test_the_desktop_remembers_the_head_and_warns_when_the_chain_shrinks(reviewed, db, tmp_path):
    folder = tmp_path / "data"
    assert seen_heads.check_and_remember(db, folder) == ""
    audit.record("admin", audit.CONSULTATION, "sample", 1, {})
    assert seen_heads.check_and_remember(db, folder) == ""  # extended: remembered
    remembered = json.loads((folder / seen_heads.FILE_NAME).read_text())
    assert list(remembered.values())[0]["events"] == audit.current_anchor().events
    newest = m.AuditEvent.select(m.AuditEvent.id).order_by(m.AuditEvent.id.desc()).limit(2)
    m.AuditEvent.delete().where(m.AuditEvent.id.in_([e.id for e in newest])).execute()
    _forge_head_to_match_the_table()
    warning = seen_heads.check_and_remember(db, folder)
    assert "shorter than when this computer last saw it" in warning
    assert "shorter" in seen_heads.check_and_remember(db, folder)  # the highest head is kept


def test_the_desktop_warns_when_the_chain_was_rewritten(reviewed, db, tmp_path):
    folder = tmp_path / "data"
    seen_heads.check_and_remember(db, folder)
    victim = m.AuditEvent.select().order_by(m.AuditEvent.id).first()
    m.AuditEvent.update(actor="forger").where(m.AuditEvent.id == victim.id).execute()
    _rehash_from(victim.id)
    audit.record("admin", audit.CONSULTATION, "sample", 1, {})  # longer, but not an extension
    assert "has been rewritten" in seen_heads.check_and_remember(db, folder)


# --------------------------------------------------------------------------- existing databases

def test_a_chain_written_before_version_6_still_verifies_after_the_migration(tmp_path):
    path = tmp_path / "v4.sqlite3"
    db = dbmod.open_database(str(path), migrate=False)
    migrations.migrate(db, target=4)
    db.execute_sql('ALTER TABLE "audit_event" DROP COLUMN "details_hash"')  # as a v4 database was
    db.execute_sql('ALTER TABLE "audit_event" DROP COLUMN "signed_in_as"')
    prev = audit.GENESIS
    for n in range(3):
        at = dt.datetime(2024, 1, 1, 12, 0, n)
        details = {"n": n, "text": "old"}
        digest = audit.event_hash(prev, at, "old.user", "alteration", "review", str(n), details)
        db.execute_sql('INSERT INTO "audit_event" ("at", "actor", "action", "object_type", "object_id", "details", '
                       '"prev_hash", "hash") VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
                       (at.strftime("%Y-%m-%d %H:%M:%S.%f"), "old.user", "alteration", "review", str(n),
                        json.dumps(details, sort_keys=True), prev, digest))
        prev = digest
    db.execute_sql('UPDATE "setting" SET "value" = ? WHERE "key" = ?',
                   (json.dumps({"id": 3, "hash": prev, "count": 3}), "audit_head"))
    db.close()
    db = dbmod.open_database(str(path))
    try:
        assert migrations.current_version(db) == migrations.LATEST
        assert audit.verify_chain().ok
        audit.record("new.user", audit.CONSULTATION, "sample", 1, {"x": 1})
        report = audit.verify_chain(audit.Anchor(3, prev))
        assert report.ok and report.events == 4 and report.anchor["at_event"] == 3
        assert m.AuditEvent.get_by_id(1).details_hash == "" and m.AuditEvent.get_by_id(4).details_hash
    finally:
        db.close()
