"""The pack's narratives: drafted from the figures (judgement from independent grades only; theme
figures from ticks and from question tags, each saying which), kept in versions with who changed it,
printed in the inspectorate's form with empty parts left out."""

from __future__ import annotations

import datetime as dt
import json
import re

import pypdf
import pytest

from exports import pdf
from qatt import reports
from qatt.cli import main
from qatt.errors import PermissionDenied, QattError
from qatt.reporting import narrative
from qatt.storage import db as dbmod
from qatt.storage import models as m
from tests import report_factories as f
from tests.factories import make_user

APR_MAY = reports.ReportFilter("2024-04", "2024-05")
TODAY = dt.date(2024, 6, 1)


@pytest.fixture
def data(db):
    make_user("lead", "qa_lead")
    make_user("sup.x", "reviewer")
    return f.standard_data()


def block(pack, area=f.CP_AREA):
    return next(b for b in pack.areas if b.area == area)


def test_the_draft_judges_from_independent_grades_and_names_each_themes_source(data):
    area = block(reports.inspection_pack(APR_MAY, today=TODAY))
    draft = area.narrative
    assert draft.is_draft and "not yet reviewed" in draft.provenance
    assert area.independent.total == 2 and draft.judgement == "Requires improvement"  # both second reviews RI
    sources = {fig.source for fig in area.theme_figures}
    assert narrative.TICKS in sources
    assert all(fig.statement.endswith(f"({fig.source}).") for fig in area.theme_figures)
    assert "Supervision and supervisory oversight: a weakness in 2 of 2 reviews (reviewers' ticks)." in draft.improvements


def test_no_judgement_is_drafted_from_the_self_assessment_alone():
    draft = narrative.draft("X", "2024-05", None, [])
    assert draft.judgement == "" and draft.strengths == ""


def test_question_tags_count_failed_checks_against_their_theme(data):
    version = m.FormVersion.get(m.FormVersion.form_id == "cp_check")
    content = version.content
    for section in content["sections"]:
        for question in section["questions"]:
            if question["id"] == "c1":
                question["themes"] = ["data_quality"]
    m.FormVersion.update(content=content).where(m.FormVersion.id == version.id).execute()
    figures = narrative.tagged_theme_figures(APR_MAY, reports.Vocabulary.load())
    fig = next(x for x in figures["All"] if x.theme == "data_quality")
    assert fig.source == narrative.TAGS and (fig.proportion.count, fig.proportion.total) == (2, 6)  # C1: 4 yes, 2 no
    assert fig.statement.startswith(f"{fig.label}: a check tagged with it was failed in 2 of 6 reviews")
    area = block(reports.inspection_pack(APR_MAY, today=TODAY))
    assert any(x.source == narrative.TAGS for x in area.theme_figures)


def test_kept_versions_are_audited_and_only_for_the_qa_lead(data):
    with pytest.raises(PermissionDenied):
        narrative.save("sup.x", f.CP_AREA, "2024-04 to 2024-05", judgement="Good")
    first = narrative.save("lead", f.CP_AREA, "2024-04 to 2024-05", judgement="Requires improvement",
                           strengths="Prompt strategy discussions")
    second = narrative.save("lead", f.CP_AREA, "2024-04 to 2024-05", developing="Problem: late PPNs. Solution: ...")
    with pytest.raises(QattError, match="unchanged"):
        narrative.save("lead", f.CP_AREA, "2024-04 to 2024-05", developing="Problem: late PPNs. Solution: ...")
    assert (first.version, second.version) == (1, 2) and second.strengths == "Prompt strategy discussions"
    assert [v.version for v in narrative.versions(f.CP_AREA, "2024-04 to 2024-05")] == [1, 2]
    events = list(m.AuditEvent.select().where(m.AuditEvent.object_type == "narrative").order_by(m.AuditEvent.id))
    assert [e.details["version"] for e in events] == [1, 2] and events[0].actor == "lead"
    area = block(reports.inspection_pack(APR_MAY, today=TODAY))
    assert area.narrative.version == 2 and "kept by lead" in area.narrative.provenance


def test_the_pack_prints_the_kept_narrative_and_leaves_out_empty_parts(data, tmp_path):
    narrative.save("lead", f.CP_AREA, "2024-04 to 2024-05", judgement="Requires improvement",
                   developing="Problem: PPNs late to CSC\nSolution: daily PPN triage")
    target = tmp_path / "pack.pdf"
    pdf.export_pack(reports.inspection_pack(APR_MAY, today=TODAY), target, actor="lead")
    whole = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in pypdf.PdfReader(str(target)).pages))
    assert "Judgement: Requires improvement" in whole and "Version 1, kept by lead" in whole
    assert "Developing practice" in whole and "daily PPN triage" in whole
    assert "None recorded." not in whole  # empty parts are left out, not printed as headings
    assert "not yet judged" in whole  # the areas without a kept or drafted judgement say so in the summary


def test_narrative_commands(capsys, db, data):
    def run(*args, user="lead"):
        code = main(["--db", db.qatt_url, "--user", user, "--json", *args])
        dbmod.bind(db)
        out, err = capsys.readouterr()
        return code, (json.loads(out) if code == 0 else None), err

    code, data_out, _ = run("narrative", "show", f.CP_AREA, "--from", "2024-04", "--to", "2024-05")
    assert code == 0 and data_out["draft"] and data_out["judgement"] == "Requires improvement"
    code, data_out, _ = run("narrative", "edit", f.CP_AREA, "--from", "2024-04", "--to", "2024-05", "--keep-draft",
                            "--work-in-progress", "Daily PPN triage since March")
    assert code == 0 and data_out["version"] == 1 and data_out["judgement"] == "Requires improvement"
    code, data_out, _ = run("narrative", "history", f.CP_AREA, "--from", "2024-04", "--to", "2024-05")
    assert [v["version"] for v in data_out] == [1]


def test_one_areas_narrative_is_the_one_the_pack_prints(data):
    pack_draft = block(reports.inspection_pack(APR_MAY, today=TODAY)).narrative
    assert narrative.current_for_area(APR_MAY, f.CP_AREA) == pack_draft
