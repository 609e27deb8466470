"""The register of recommendations and commitments: the shipped entries checked against their source
documents, edits audited and limited to the QA lead, and a round trip through a spreadsheet."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import openpyxl
import pytest

from qatt.loop import register
from qatt.cli import main
from qatt.errors import PermissionDenied, QattError
from qatt.storage import db as dbmod
from qatt.storage import models as m
from tests.factories import make_user

SEEDS = Path("/work/shared/seeds")
D4 = SEEDS / "004_a9801ff6815b2b63.txt"
D0 = SEEDS / "000_01b468251250fdf0.txt"
D2 = SEEDS / "002_38b62e870ce0da91.txt"
D3 = SEEDS / "003_a30e56d062bda5d5.txt"


@pytest.fixture
def lead(db):
    make_user("lead", "qa_lead")
    make_user("sup.a", "reviewer")
    return "lead"


def _source_recommendations():
    """The 2021 recommendations as the re-inspection quotes them, in order, with their timescale."""
    text = D4.read_text(encoding="utf-8")
    found = re.findall(r"We recommend that (within (?:three|six) months |)Derbyshire Constabulary (immediately |)", text)
    words = {"within three months ": "3 months", "within six months ": "6 months"}
    return [words.get(within, "immediately" if now else "") for within, now in found]


@pytest.mark.skipif(not D4.exists(), reason="the source documents are not on this machine")
def test_the_shipped_2021_recommendations_have_their_real_timescales(lead):
    from_source = _source_recommendations()
    assert len(from_source) == 12
    shipped = {e.code: e for e in register.entries()}
    assert [shipped[f"2021-R{n}"].timescale for n in range(1, 13)] == from_source
    assert [shipped[f"2021-R{n}"].timescale for n in (1, 2, 3, 4, 7, 10)] == ["immediately"] * 6
    assert shipped["2021-R12"].timescale == ""  # the source gives none
    # None fully achieved, strong progress on some (D4): none is "not started" with no note.
    assert all(shipped[f"2021-R{n}"].status == "in progress" and shipped[f"2021-R{n}"].notes for n in range(1, 13))
    assert "within six weeks" in D4.read_text(encoding="utf-8") and shipped["2022-NS1"].timescale.startswith("within 6 weeks")


@pytest.mark.skipif(not D0.exists(), reason="the source documents are not on this machine")
def test_the_coroners_concerns_and_peel_areas_for_improvement_are_those_of_the_sources(lead):
    pfd = D0.read_text(encoding="utf-8")
    letters = re.findall(r"\*\*([A-I])\) ", pfd) + re.findall(r"### \*\*([A-I])\) ", pfd)
    shipped = {e.code: e for e in register.entries()}
    assert sorted(set(letters)) == ["C", "G", "H", "I"]
    assert sorted(c for c in shipped if c.startswith("PFD-")) == [f"PFD-{x}" for x in "CGHI"]
    assert all(shipped[f"PFD-{x}"].kind == "coroner's concern" for x in "CGHI")
    peel = D2.read_text(encoding="utf-8")
    blocks = re.findall(r"Areas for improvement\n\n((?:  • .*\n)+)", peel)
    assert [len(re.findall("•", b)) for b in blocks] == [3, 3]
    for code, block in (("PEEL-Q2-AFI", blocks[0]), ("PEEL-Q3-AFI", blocks[1])):
        assert len([c for c in shipped if c.startswith(code)]) == len(re.findall("•", block))
    assert sorted(c for c in shipped if c.startswith("PEEL-")) == [
        "PEEL-Q2-AFI1", "PEEL-Q2-AFI2", "PEEL-Q2-AFI3", "PEEL-Q3-AFI1", "PEEL-Q3-AFI2", "PEEL-Q3-AFI3"]


def _source_2007_areas_for_improvement():
    """Bullets under each 'Areas for improvement' heading of the 2007 report, per section (a bullet
    may continue after a page break, so count bullet starts up to the next section heading)."""
    text = D3.read_text(encoding="utf-8")
    sections = re.split(r"\nAreas for improvement\n", text)[1:]
    counts = []
    for body in sections:
        body = re.split(r"\n(?:Protecting Vulnerable People – |Developing Practice|Appendix|GRADE)", body)[0]
        counts.append(len(re.findall(r"^(?:- |• )", body, flags=re.M)))
    return counts


@pytest.mark.skipif(not D3.exists(), reason="the source documents are not on this machine")
def test_the_2007_areas_for_improvement_are_those_of_the_report_and_shipped_closed(lead):
    shipped = [e for e in register.entries() if e.code.startswith("2007-")]
    per_section = {}
    for e in shipped:
        per_section.setdefault(e.code.split("-")[1], []).append(e)
    assert [len(v) for v in per_section.values()] == _source_2007_areas_for_improvement() == [8, 4, 2, 4, 8, 8, 2]
    assert {e.kind for e in shipped} == {"area for improvement"} and {e.status for e in shipped} == {"closed"}
    assert all("October 2007" in e.source and "QATT does not know" in e.latest_note for e in shipped)
    text = D3.read_text(encoding="utf-8")
    # Figures and names the entries quote are the report's.
    for quoted in ("1,500", "2,000", "seven days", "Airwave", "COMPACT", "QDV", "MAPPA", "10%"):
        assert quoted in text and any(quoted in e.text for e in shipped)


def test_migration_12_adds_the_2007_entries_to_an_existing_register_and_keeps_edits(db, lead):
    from qatt.storage import migrations

    register.update_entry(lead, "2007-PP-AFI1", status="in progress")
    m.Recommendation.delete().where(m.Recommendation.code == "2007-MP-AFI2").execute()
    m.SchemaVersion.update(version=11).execute()
    assert 12 in migrations.migrate(db)
    assert register.entry("2007-MP-AFI2").status == "closed"
    assert register.entry("2007-PP-AFI1").status == "in progress"  # the QA lead's edit stands


def test_changes_are_for_the_qa_lead_and_audited(lead):
    with pytest.raises(PermissionDenied):
        register.update_entry("sup.a", "2021-R10", owner="DCI MOSOVO")
    register.update_entry(lead, "2021-R10", owner="DCI MOSOVO", due_date="2024-09-30")
    register.add_note(lead, "2021-R10", "Fourth DS in post; DI checks 10 a month", on="2024-04-11")
    with pytest.raises(QattError, match="no sample 99"):
        register.link_evidence(lead, "2021-R10", "sample", "99")
    register.link_evidence(lead, "2021-R10", "document", "MOSOVO SOP v3")
    entry = register.entry("2021-R10")
    assert entry.owner == "DCI MOSOVO" and entry.due_date == dt.date(2024, 9, 30)
    assert entry.latest_note == "11 Apr 2024: Fourth DS in post; DI checks 10 a month"
    assert [x.label for x in entry.evidence] == ["document MOSOVO SOP v3"]
    events = [e.details for e in m.AuditEvent.select().where((m.AuditEvent.object_type == "register")
                                                             & (m.AuditEvent.object_id == "2021-R10"))]
    assert events[0]["fields"]["owner"] == {"old": "", "new": "DCI MOSOVO"}
    assert "note" in events[1] and events[2]["evidence"] == {"kind": "document", "ref": "MOSOVO SOP v3"}


@pytest.fixture
def done_action(lead):
    from tests import report_factories as f

    review = f.make_review(f.make_scenario().case("2024-05"), f.make_form_version(f.child_protection_form()), "good",
                           actions=[{"text": "Brief the MOSOVO team", "owner": "DS Jones", "status": "done"}])
    return review.actions[0]


def test_a_linked_actions_status_is_read_from_the_action_never_from_the_typed_note(lead, done_action):
    from qatt.reporting.figures import recommendations

    register.link_evidence(lead, "2021-R10", "action", str(done_action.id), note="verified")
    entry = register.entry("2021-R10")
    assert [x.label for x in entry.evidence] == [f"action {done_action.id} (now done, awaiting verification; "
                                                 "note: verified)"]
    assert entry.as_dict()["evidence"][0]["action_status"] == "done" and entry.warning == ""
    row = next(r for r in recommendations() if r.code == "2021-R10")
    assert "now done, awaiting verification" in row.evidence and f"action {done_action.id} (verified)" not in row.evidence
    m.Action.update(status="verified").where(m.Action.id == done_action.id).execute()
    assert register.entry("2021-R10").evidence[0].label == f"action {done_action.id} (now verified; note: verified)"
    m.Action.delete().where(m.Action.id == done_action.id).execute()  # e.g. purged with its review
    assert register.entry("2021-R10").evidence[0].label.startswith(f"action {done_action.id} (now no longer in QATT")


def test_marking_an_entry_achieved_with_an_unverified_action_is_saved_with_a_warning_everywhere(lead, done_action,
                                                                                                tmp_path):
    from exports import xlsx
    from qatt import reports

    register.link_evidence(lead, "2021-R10", "action", str(done_action.id), note="verified")
    register.update_entry(lead, "2021-R10", status="fully achieved")  # warned, not refused
    entry = register.entry("2021-R10")
    assert entry.status == "fully achieved"
    assert entry.warning == (f"2021-R10 is marked fully achieved, but 1 linked action is not verified: "
                             f"action {done_action.id} is done, awaiting verification.")
    assert entry.as_dict()["warning"] == entry.warning
    target = tmp_path / "qa.xlsx"
    xlsx.export_workbook(reports.workbook_data(reports.ReportFilter("2024-05", "2024-05"), actor=lead), target,
                         actor=lead, purpose="test", recipient="test")
    ws = openpyxl.load_workbook(target)["Register"]
    rows = list(ws.iter_rows(values_only=True))
    sheet = {r[0]: dict(zip(rows[0], r)) for r in rows[1:]}
    assert "now done, awaiting verification; note: verified" in sheet["2021-R10"]["Evidence"]
    assert "Warning: 2021-R10 is marked fully achieved, but 1 linked action is not verified" in sheet["2021-R10"]["Evidence"]
    plan = tmp_path / "plan.xlsx"
    register.export_xlsx(plan)
    links = {r[0]: r[10] for r in openpyxl.load_workbook(plan)["Register"].iter_rows(min_row=2, values_only=True)}
    assert "now done, awaiting verification" in links["2021-R10"] and "Warning:" in links["2021-R10"]
    register.update_entry(lead, "2021-R10", status="in progress")
    ws = openpyxl.load_workbook(plan)
    for row in ws["Register"].iter_rows(min_row=2):
        if row[0].value == "2021-R10":
            row[7].value = "fully achieved"
    ws.save(plan)
    assert register.import_xlsx(plan, lead).warnings == [register.entry("2021-R10").warning]
    m.Action.update(status="cancelled").where(m.Action.id == done_action.id).execute()
    assert register.entry("2021-R10").warning == ""  # verified or cancelled: closed


def test_register_link_update_and_show_say_the_actions_status_and_warn(capsys, db, lead, done_action):
    def run(*args, as_json=False):
        code = main(["--db", db.qatt_url, "--user", "lead", *(["--json"] if as_json else []), *args])
        dbmod.bind(db)
        return code, *capsys.readouterr()

    code, out, _ = run("register", "link", "2021-R10", "--kind", "action", "--ref", str(done_action.id),
                       "--note", "verified")
    assert code == 0 and "now done, awaiting verification; note: verified" in out
    code, out, _ = run("register", "update", "2021-R10", "--status", "fully achieved")
    assert code == 0 and "Warning: 2021-R10 is marked fully achieved, but 1 linked action is not verified" in out
    code, out, _ = run("register", "show", "2021-R10")
    assert f"evidence: action {done_action.id} (now done, awaiting verification; note: verified)" in out
    assert "Warning:" in out and f"action {done_action.id} (verified)" not in out
    code, out, _ = run("register", "show", "2021-R10", as_json=True)
    assert json.loads(out)["warning"].startswith("2021-R10 is marked fully achieved")


def test_round_trip_through_a_spreadsheet(lead, tmp_path):
    register.update_entry(lead, "2021-R5", owner="=HYPERLINK(\"x\")")  # formula-looking text stays text
    plan = tmp_path / "plan.xlsx"
    count = register.export_xlsx(plan)
    assert count == m.Recommendation.select().count()
    wb = openpyxl.load_workbook(plan)
    ws = wb["Register"]
    headings = [c.value for c in ws[1]]
    rows = {r[0]: dict(zip(headings, r)) for r in ws.iter_rows(min_row=2, values_only=True)}
    cell = next(c for c in ws["E"] if c.value == "=HYPERLINK(\"x\")")
    assert cell.data_type == "s"
    assert rows["2021-R1"]["Timescale"] == "immediately" and ws.oddHeader.center.text == "OFFICIAL-SENSITIVE"
    # Edit as a QA team would, then import.
    for row in ws.iter_rows(min_row=2):
        if row[0].value == "2021-R1":
            row[7].value = "fully achieved"
            row[9].value = (row[9].value or "") + "\n2024-05-01: Safeguarding briefing reached every team"
    ws.append(["LOCAL-1", "commitment", "Force action plan", "Monthly dip sample of MOSOVO home visits", "DI MOSOVO",
               "monthly", None, "in progress", "", "", ""])
    wb.save(plan)
    result = register.import_xlsx(plan, lead)
    assert result.added == ["LOCAL-1"] and result.updated == ["2021-R1"] and result.notes_added == 1
    assert register.entry("2021-R1").status == "fully achieved"
    assert register.entry("2021-R1").latest_note.startswith("01 May 2024: Safeguarding briefing")
    assert register.entry("LOCAL-1").owner == "DI MOSOVO"
    # Importing the same file again changes nothing.
    again = register.import_xlsx(plan, lead)
    assert (again.added, again.updated, again.notes_added) == ([], [], 0)


def test_a_bad_cell_stops_the_import_and_names_row_and_column(lead, tmp_path):
    plan = tmp_path / "plan.xlsx"
    register.export_xlsx(plan)
    wb = openpyxl.load_workbook(plan)
    ws = wb["Register"]
    ws.append(["NEW-1", "commitment", "", "Something new", "", "", None, "not started", "", "", ""])
    ws.append(["NEW-2", "commitment", "", "Another", "", "", None, "nearly done", "", "", ""])
    wb.save(plan)
    before = m.Recommendation.select().count()
    last = ws.max_row
    with pytest.raises(QattError, match=rf"plan.xlsx, sheet 'Register', row {last}, column Status: 'nearly done'"):
        register.import_xlsx(plan, lead)
    assert m.Recommendation.select().count() == before  # nothing half-written


def test_register_commands(capsys, db, lead, tmp_path):
    def run(*args):
        code = main(["--db", db.qatt_url, "--user", "lead", "--json", *args])
        dbmod.bind(db)
        out, err = capsys.readouterr()
        return code, (json.loads(out) if code == 0 else None), err

    code, data, _ = run("register", "update", "2021-R8", "--status", "in progress", "--owner", "DCI PCOT")
    assert code == 0 and data["owner"] == "DCI PCOT"
    code, data, _ = run("register", "note", "2021-R8", "Guidance issued", "--on", "2024-02-01")
    assert code == 0
    code, data, _ = run("register", "export", "--out", str(tmp_path / "plan.xlsx"))
    assert code == 0 and data["entries"] == m.Recommendation.select().count()
    code, data, _ = run("register", "import", str(tmp_path / "plan.xlsx"))
    assert code == 0 and data == {"added": [], "updated": [], "notes_added": 0, "warnings": []}
    code, data, _ = run("register", "list", "--kind", "coroner's concern")
    assert [e["code"] for e in data] == ["PFD-C", "PFD-G", "PFD-H", "PFD-I"]


def test_the_pack_lists_open_entries_and_counts_the_closed_ones_per_source():
    from reportlab.platypus import Paragraph, Table

    from exports.pdf import register_block
    from qatt.reporting.figures import RecommendationRow

    def row(code, status, source):
        return RecommendationRow(code, f"text {code}", "", "", status, "", "area for improvement", source)

    story = register_block([row("A1", "in progress", "A"), row("A2", "closed", "A"),
                            row("B1", "closed", "B"), row("B2", "closed", "B")])
    texts = [f.getPlainText() for f in story if isinstance(f, Paragraph)]
    tables = [f for f in story if isinstance(f, Table)]
    assert texts == ["A", "1 closed entry from this source: not listed here. The register (register list --status "
                     "closed) and the workbook's register sheet list them.",
                     "B", "All 2 entries from this source are closed: not listed here. The register (register list "
                     "--status closed) and the workbook's register sheet list them."]
    assert len(tables) == 1 and [r[0].getPlainText() for r in tables[0]._cellvalues[1:]] == ["A1"]


def test_the_pack_prints_the_warning_beside_the_evidence():
    from reportlab.platypus import Table

    from exports.pdf import register_block
    from qatt.reporting.figures import RecommendationRow

    entry = RecommendationRow("R1", "text", "", "", "fully achieved", "action 3 (now done, awaiting verification)",
                              "recommendation", "A", warning="R1 is marked fully achieved, but 1 linked action is "
                              "not verified: action 3 is done, awaiting verification.")
    table = next(f for f in register_block([entry]) if isinstance(f, Table))
    cell = table._cellvalues[1][-1].getPlainText()
    assert cell.startswith("action 3 (now done, awaiting verification); Warning: R1 is marked fully achieved")
