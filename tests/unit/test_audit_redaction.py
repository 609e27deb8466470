"""`audit export` by someone blind to a review withholds every event about it, whatever its kind.

Two proofs: every `audit.record` call in the code names an object type that qatt.trust.audit has
classified (about a review, and where its id is; or about no review), so a new kind of event cannot
slip past the redaction; and a log holding every kind of event about a hidden review, each made by the
real code, shows none of their details to a QA lead assigned its second review.
"""

from __future__ import annotations

import ast
import csv
import datetime as dt
import json
from pathlib import Path

import pytest

from exports.run import ExportRequest, run_export
from qatt.cli import main
from qatt.loop import acknowledgement, actions, register
from qatt.reviewing import case_studies, reviews
from qatt.selection import assignments
from qatt.storage import models as m
from qatt.trust import audit
from tests.factories import COMPLETE_ANSWERS, form_dict, make_population, make_sample, make_user, sample_items, write_form

ROOT = Path(__file__).resolve().parents[2]
WITHHELD = {"withheld": "blind second review: submit your own review of this case first"}


def classified():
    return (audit.REVIEW_IS_OBJECT | audit.REVIEW_IN_DETAILS | audit.LISTS_REVIEWS | audit.EVIDENCE
            | audit.NOT_ABOUT_A_REVIEW)


def recorded_object_types():
    """(file:line, object type) of every audit.record call under qatt/, exports/ and ui/."""
    found = []
    for folder in ("qatt", "exports", "ui"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
                if name != "record" or owner not in ("audit", "") or (owner == "" and path.name != "audit.py"):
                    continue
                kind = node.args[2] if len(node.args) > 2 else next(
                    (k.value for k in node.keywords if k.arg == "object_type"), None)
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                found.append((where, kind.value if isinstance(kind, ast.Constant) else None))
    return found


def test_every_kind_of_event_the_code_records_is_classified():
    found = recorded_object_types()
    assert len(found) > 30  # the walk really found the calls
    not_literal = [where for where, kind in found if kind is None]
    assert not not_literal, f"audit.record with an object type that is not a literal: {not_literal}"
    unknown = sorted({(kind, where) for where, kind in found if kind not in classified()})
    assert not unknown, ("classify these event kinds in qatt/trust/audit.py (about a review, or not), so "
                         f"`audit export` withholds them from whoever is blind to the review: {unknown}")
    for kind in ("review", "action", "feedback_acknowledgement", "export", "register"):
        assert kind in {k for _, k in found}


def test_the_withheld_note_is_the_one_the_export_writes():
    assert audit.WITHHELD == WITHHELD


def test_no_kind_is_both_about_a_review_and_not():
    about = audit.REVIEW_IS_OBJECT | audit.REVIEW_IN_DETAILS | audit.LISTS_REVIEWS | audit.EVIDENCE
    assert not about & audit.NOT_ABOUT_A_REVIEW


SECRET = "Zq7SECRET"


@pytest.fixture
def log(db, tmp_path):
    """Review 1 (sup.b's first review), with every kind of event there is about a review; lead2 holds its
    second review by assignment; lead exported its feedback sheet; and a review lead2 may see."""
    folder = tmp_path / "forms"
    write_form(folder, form_dict())
    for name, role in (("sup.b", "reviewer"), ("off.c", "reviewer"), ("mod", "moderator"), ("lead", "qa_lead"),
                       ("lead2", "qa_lead")):
        make_user(name, role)
    items = sample_items(make_sample(make_population(3, supervisor="sup.b"), form_id="test_form"))
    hidden = reviews.start_review(items[0].id, "sup.b", forms_dir=folder)
    hidden = reviews.save_answers(hidden.id, COMPLETE_ANSWERS | {"notes": f"{SECRET}note"}, "sup.b", hidden.version)
    hidden = reviews.save_details(hidden.id, "sup.b", hidden.version, feedback=f"{SECRET}feedback",
                                  feedback_date=dt.date(2024, 6, 1))
    hidden = reviews.submit_review(hidden.id, "sup.b", hidden.version)
    action = reviews.add_action(hidden.id, "sup.b", f"{SECRET}action", owner="off.c")
    reviews.update_action(action.id, "sup.b", status="in progress")
    actions.set_status(action.id, "off.c", "done", note=f"{SECRET}done")
    acknowledgement.acknowledge(hidden.id, "sup.b", on=dt.date(2024, 6, 2), comment=f"{SECRET}comment")
    case_studies.record_case_study(hidden.id, "lead", "good", f"{SECRET}title", f"{SECRET}summary")
    reviews.get_review_view(hidden.id, "mod")
    register.link_evidence("lead", "2021-R1", "review", str(hidden.id), note=f"{SECRET}evidence")
    register.link_evidence("lead", "2021-R1", "action", str(action.id))
    run_export(ExportRequest("feedback", tmp_path / "fb.pdf", review_id=hidden.id, purpose="p"), "lead")
    shown = reviews.start_review(items[1].id, "sup.b", forms_dir=folder)
    shown = reviews.save_answers(shown.id, COMPLETE_ANSWERS | {"notes": "plain"}, "sup.b", shown.version)
    reviews.submit_review(shown.id, "sup.b", shown.version)
    run_export(ExportRequest("workbook", tmp_path / "all.xlsx", purpose="p"), "lead")
    assignments.assign([items[0].id], "lead2", "lead", role="second")
    return {"hidden": hidden, "shown": shown, "action": action, "tmp": tmp_path,
            "url": db.qatt_url}


def exported(log, capsys, viewer="lead2"):
    out = log["tmp"] / f"{viewer}.csv"
    assert main(["--db", log["url"], "--user", viewer, "audit", "export", "--out", str(out), "--purpose", "t"]) == 0
    capsys.readouterr()
    with out.open(encoding="utf-8", newline="") as handle:
        return out.read_text(encoding="utf-8"), list(csv.DictReader(handle))


def test_the_officers_acknowledgement_of_hidden_feedback_is_withheld(log, capsys):
    """The tester's case: the feedback_acknowledgement event showed the officer's comment."""
    text, rows = exported(log, capsys)
    acks = [r for r in rows if r["object_type"] == "feedback_acknowledgement"]
    assert acks and all(json.loads(r["details"]) == WITHHELD for r in acks)
    assert "comment" not in text


def test_no_event_about_the_hidden_review_shows_its_details(log, capsys):
    text, rows = exported(log, capsys)
    assert SECRET not in text
    hidden = str(log["hidden"].id)
    kinds_about = set()
    for row in rows:
        details = json.loads(row["details"])
        event = m.AuditEvent.get_by_id(int(row["id"]))
        if hidden not in audit.reviews_of(event):
            continue
        kinds_about.add(row["object_type"])
        if row["object_type"] == "export" and (event.details.get("rows") or {}).get("review_id") is None:
            assert details["reviews"] == [log["shown"].id]  # the workbook's list loses the hidden review only
        else:
            assert details == WITHHELD, row
    # Every kind of event that can be about a review was about this one, and was checked above.
    assert kinds_about == {"review", "action", "feedback_acknowledgement", "export", "register"}


def test_the_same_log_shows_everything_to_someone_who_may_see_the_review(log, capsys):
    text, rows = exported(log, capsys, viewer="lead")
    assert f"{SECRET}comment" in text and f"{SECRET}action" in text
    assert not any(json.loads(r["details"]) == WITHHELD for r in rows)


def test_a_purge_erases_the_officers_comment_from_the_log_too(log):
    from qatt.trust import retention

    make_user("admin", "admin")
    m.Case.update(recorded_date=dt.date(2000, 1, 1)).execute()
    retention.purge(dt.date(2001, 1, 1), "admin", reason="test")
    acks = m.AuditEvent.select().where(m.AuditEvent.object_type == "feedback_acknowledgement")
    assert acks.count() and all(audit.is_erased(e.details) for e in acks)
    assert audit.verify_chain().ok
