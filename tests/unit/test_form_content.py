"""Content checks on the built-in grading forms in forms/: the DOMAIN checklists are all there,
every question cites its source, and the conditional logic points where it should.

The checks read the YAML files and resolve `- include:` fragments themselves, so they test the
content independently of the loader (test_builtin_forms.py checks the forms load)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

FORMS_DIR = Path(__file__).resolve().parents[2] / "forms"

CHILD_PROTECTION_FORMS = [
    "cp_section47", "cp_domestic_abuse", "cp_other_referrals", "cp_cse",
    "cp_missing_children", "cp_police_protection", "cp_sex_offender_management",
    "cp_children_in_custody",
]
OTHER_FORMS = ["qatt_investigation", "missing_person_adult", "peel_file_review"]
BUILTIN_FORMS = CHILD_PROTECTION_FORMS + OTHER_FORMS

# C14 is the overall grade (stored on the review) plus the themes question; C15's feedback is
# stored on the review and its case-study candidate is question c15.
COMMON_IDS = [f"c{n}" for n in range(1, 14)] + ["themes", "c15"]
SOURCE_TAG_AT_END = re.compile(r"\((D[0-4])(, D[0-4])*\)$")
ANSWERABLE_YES_NO = {"yes_no", "yes_no_na"}


def _read(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def resolved_sections(form_id: str) -> list:
    """The form's sections with every `include` replaced by the fragment's sections."""
    sections = []
    for section in _read(FORMS_DIR / f"{form_id}.yaml")["sections"]:
        if "include" in section:
            sections.extend(_read(FORMS_DIR / "_fragments" / f"{section['include']}.yaml")["sections"])
        else:
            sections.append(section)
    return sections


def questions(form_id: str) -> list:
    return [q for s in resolved_sections(form_id) for q in s["questions"]]


def question_ids(form_id: str) -> list:
    return [q["id"] for q in questions(form_id)]


def by_id(form_id: str) -> dict:
    return {q["id"]: q for q in questions(form_id)}


def test_every_builtin_form_file_exists_and_names_itself():
    for form_id in BUILTIN_FORMS:
        assert _read(FORMS_DIR / f"{form_id}.yaml")["id"] == form_id


def test_form_areas_match_the_case_areas_of_the_demo_data():
    from qatt.demo import AREAS

    case_areas = {name for name, *_ in AREAS}
    for form_id in BUILTIN_FORMS:
        assert _read(FORMS_DIR / f"{form_id}.yaml")["area"] in case_areas, form_id


@pytest.mark.parametrize("form_id", CHILD_PROTECTION_FORMS)
def test_child_protection_forms_contain_every_common_item_c1_to_c15(form_id):
    ids = question_ids(form_id)
    missing = [c for c in COMMON_IDS if c not in ids]
    assert not missing, f"{form_id} lacks {missing}"


@pytest.mark.parametrize("form_id", BUILTIN_FORMS)
def test_question_ids_are_unique_after_includes(form_id):
    ids = question_ids(form_id)
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"{form_id} repeats {duplicates}"


@pytest.mark.parametrize("form_id", BUILTIN_FORMS)
def test_every_question_has_help_ending_with_its_source_tag(form_id):
    bad = [q["id"] for q in questions(form_id) if not SOURCE_TAG_AT_END.search(str(q.get("help", "")).strip())]
    assert not bad, f"{form_id}: help without a (D0-D4) source tag at the end: {bad}"


@pytest.mark.parametrize("form_id", BUILTIN_FORMS)
def test_form_sources_list_every_tag_its_questions_cite(form_id):
    cited = {tag for q in questions(form_id) for tag in re.findall(r"D[0-4]", str(q["help"]).rsplit("(", 1)[-1])}
    sources = set(_read(FORMS_DIR / f"{form_id}.yaml")["sources"])
    assert cited <= sources, f"{form_id} cites {sorted(cited - sources)} without listing them in sources"


@pytest.mark.parametrize("form_id", BUILTIN_FORMS)
def test_forms_grade_on_g3_with_critical_fail_and_no_share_thresholds(form_id):
    form = _read(FORMS_DIR / f"{form_id}.yaml")
    assert form["scale"] == "g3"
    grading = form["grading"]
    assert grading["critical_fail"] == "lowest"
    bands = grading["no_share"]
    assert [b.get("grade") or b.get("otherwise") for b in bands] == ["good", "requires_improvement", "inadequate"]
    limits = [b["up_to"] for b in bands[:-1]]
    assert limits == sorted(limits) and all(0 < x < 1 for x in limits)
    # The thresholds are configurable starting points, and the description says so.
    assert "configurable" in form["description"]


@pytest.mark.parametrize("form_id", BUILTIN_FORMS)
def test_show_if_conditions_refer_to_questions_in_the_same_form(form_id):
    ids = set(question_ids(form_id))

    def referenced(cond):
        if "question" in cond:
            yield cond["question"]
        for key in ("all", "any"):
            for sub in cond.get(key, []):
                yield from referenced(sub)
        if "not" in cond:
            yield from referenced(cond["not"])

    for q in questions(form_id):
        if "show_if" in q:
            unknown = set(referenced(q["show_if"])) - ids
            assert not unknown, f"{form_id}.{q['id']} shows on unknown {unknown}"


@pytest.mark.parametrize("form_id", BUILTIN_FORMS)
def test_critical_flags_are_used_sparingly_and_only_on_yes_no_questions(form_id):
    critical = [q for q in questions(form_id) if q.get("critical")]
    assert all(q["type"] in ANSWERABLE_YES_NO for q in critical)
    countable = [q for q in questions(form_id) if q["type"] in ANSWERABLE_YES_NO]
    assert len(critical) <= len(countable) // 4, f"{form_id}: {len(critical)} critical items is not sparing"


def test_child_protection_critical_defaults_cover_csc_contact_strategy_discussion_and_safeguarding():
    common = by_id("cp_section47")
    assert common["c3"].get("critical") and common["c7"].get("critical") and common["c13"].get("critical")
    assert by_id("cp_domestic_abuse")["da_children_seen"].get("critical")


def test_domestic_abuse_form_records_officer_and_reviewer_dash_levels_and_dart_regrade():
    q = by_id("cp_domestic_abuse")
    for level in ("da_dash_level_officer", "da_dash_level_reviewer"):
        assert [o["id"] for o in q[level]["options"]] == ["standard", "medium", "high"]
        assert q[level]["show_if"] == {"question": "da_dash", "equals": "yes"}
    assert [o["id"] for o in q["da_dart_regrade"]["options"]] == ["unchanged", "downgraded", "upgraded"]


def test_sex_offender_form_applies_the_mosovo_checks_with_the_ratified_exception_rationale():
    q = by_id("cp_sex_offender_management")
    for m in ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m11", "m12", "m13", "m14", "m16", "m17", "m18"):
        assert m in q, f"MOSOVO check {m} missing"
    assert q["m4"]["show_if"] == {"any": [{"question": "m2", "equals": "no"}, {"question": "m3", "equals": "no"}]}
    assert q["m4_rationale"]["type"] == "text"
    assert q["m4_rationale"]["show_if"] == {"question": "m4", "equals": "yes"}
    assert q["m4_rationale"]["required"] is True
    assert q["m1_days_overdue"]["show_if"] == {"question": "m1", "equals": "no"}
    # A child at risk with only a PPN, or an order breach left uninvestigated, leaves the child at risk.
    assert q["m12"].get("critical") and q["m13"].get("critical")


def test_sex_offender_form_header_uses_the_mappa_and_rso_risk_scales():
    q = by_id("cp_sex_offender_management")
    assert [o["id"] for o in q["mappa_category"]["options"]] == ["cat1", "cat2", "cat3", "pdp"]
    assert [o["id"] for o in q["mappa_level"]["options"]] == ["level1", "level2", "level3"]
    assert [o["id"] for o in q["risk_level"]["options"]] == ["very_high", "high", "medium", "low"]


def test_missing_person_forms_use_low_medium_high_and_require_authority_for_downgrades():
    for form_id, level, downgrade in (("cp_missing_children", "mis_initial_level", "mis_downgrade_authority"),
                                      ("missing_person_adult", "mpa_initial_level", "mpa_downgrade_authority")):
        q = by_id(form_id)
        assert [o["id"] for o in q[level]["options"]] == ["low", "medium", "high"]
        assert "inspector" in q[downgrade]["text"].lower()
    assert "mpa_compact" in by_id("missing_person_adult")
    assert "mis_compact" in by_id("cp_missing_children")


def test_police_protection_form_records_where_the_child_waited():
    q = by_id("cp_police_protection")
    assert [o["id"] for o in q["pp_waiting_place"]["options"]] == ["witness_suite", "police_station", "other"]
    assert q["pp_end_recorded"]["themes"] == ["end_of_police_protection"]


def test_investigation_forms_grade_supervision_and_proportionality():
    for form_id in ("peel_file_review", "qatt_investigation"):
        grades = {q["id"]: q["scale"] for q in questions(form_id) if q["type"] == "grade"}
        assert "supervision" in grades.values(), form_id
    assert {q["scale"] for q in questions("qatt_investigation") if q["type"] == "grade"} == {"supervision", "g3"}


def test_qatt_form_covers_every_qatt_theme_from_domain_section_3():
    tagged = {t for q in questions("qatt_investigation") for t in q.get("themes", [])}
    qatt_themes = {"victim_care", "investigation_strategies", "suspect_management", "supervision",
                   "risk_assessment", "crime_prevention", "evidence_preservation", "victim_withdrawal",
                   "data_quality", "proportionality"}
    assert qatt_themes <= tagged, qatt_themes - tagged


def test_every_form_has_a_themes_question():
    for form_id in BUILTIN_FORMS:
        types = [q["type"] for q in questions(form_id)]
        assert "themes" in types, form_id


def test_theme_tags_are_known_theme_ids():
    themes_file = FORMS_DIR / "_themes.yaml"
    if not themes_file.exists():
        pytest.skip("forms/_themes.yaml not written yet")
    known = {t["id"] for t in _read(themes_file)["themes"]}
    for form_id in BUILTIN_FORMS:
        unknown = {t for q in questions(form_id) for t in q.get("themes", [])} - known
        assert not unknown, f"{form_id} uses unknown themes {unknown}"
