"""Column mappings: automatic header matching and saved mappings reused month after month."""

from __future__ import annotations

import json

import pytest

from qatt.intake import importing, mapping
from qatt.trust import audit
from qatt.errors import QattError
from qatt.storage import models as m


@pytest.mark.parametrize("header,field", [
    ("Crime Ref", "reference"), ("URN", "reference"), ("Occurrence No.", "reference"),
    ("Reference", "reference"), ("case_number", "reference"), ("Date Recorded", "recorded_date"),
    ("Recorded", "recorded_date"), ("CREATED", "recorded_date"), ("Category", "area"),
    ("Crime type", "area"), ("Area of practice", "area"), ("OIC", "officer"),
    ("Officer in case", "officer"), ("Supervisor", "supervisor"), ("Risk level", "risk"),
    ("Division", "division"), ("Team", "team"), ("Status", "status"), ("Summary", "summary"),
])
def test_common_headers_are_matched_ignoring_case_and_punctuation(header, field):
    assert mapping.suggest_mapping(["Something else", header]) == {field: header}


def test_each_header_feeds_one_field_and_the_most_specific_reference_wins():
    suggestion = mapping.suggest_mapping(["ID", "Crime Ref", "Date", "Date Recorded", "Notes"])
    assert suggestion == {"reference": "Crime Ref", "recorded_date": "Date Recorded"}


def test_unrecognised_headers_are_left_unmapped():
    assert mapping.suggest_mapping(["Victim age", "Ward"]) == {}


def test_case_fields_list_every_case_column_with_reference_required():
    assert [f for f, _label, _req in mapping.CASE_FIELDS] == [
        "reference", "area", "recorded_date", "division", "team", "officer", "supervisor", "risk", "status", "summary"]
    assert [f for f, _label, required in mapping.CASE_FIELDS if required] == ["reference"]


def test_saved_mapping_is_reused_for_next_months_extract(db, tmp_path):
    saved = {"reference": "Ref No", "recorded_date": "When", "officer": "Who"}
    mapping.save_mapping("Niche monthly", saved, "lead", date_format="dd/mm/yyyy")
    assert mapping.list_mappings() == ["Niche monthly"]
    assert mapping.load_mapping("Niche monthly") == saved
    assert mapping.load_saved("Niche monthly").date_format == "dd/mm/yyyy"

    path = tmp_path / "april.csv"
    path.write_text("Ref No,When,Who\nA1,02/04/2024,PC X\n", encoding="utf-8")
    result = importing.import_population(path, name="April", actor="lead",
                                         mapping=mapping.load_mapping("Niche monthly"))
    case = m.Case.get(m.Case.population == result.population_id)
    assert (case.reference, case.officer, case.recorded_date.isoformat()) == ("A1", "PC X", "2024-04-02")


def test_saving_again_replaces_the_mapping_and_is_audited(db):
    mapping.save_mapping("monthly", {"reference": "A"}, "lead")
    mapping.save_mapping("monthly", {"reference": "B", "team": "T"}, "lead")
    assert mapping.load_mapping("monthly") == {"reference": "B", "team": "T"}
    events = list(m.AuditEvent.select().where(m.AuditEvent.object_type == "column_mapping").order_by(m.AuditEvent.id))
    assert [e.action for e in events] == [audit.COLLECTION, audit.ALTERATION]
    assert events[1].details["fields"] == ["reference", "team"]


def test_mapping_loads_from_a_json_file_flat_or_with_a_date_format(sqlite_db, tmp_path):
    flat = tmp_path / "flat.json"
    flat.write_text(json.dumps({"reference": "URN"}), encoding="utf-8")
    full = tmp_path / "full.json"
    full.write_text(json.dumps({"mapping": {"reference": "URN"}, "date_format": "yyyy-mm-dd"}), encoding="utf-8")
    assert mapping.load_mapping(str(flat)) == {"reference": "URN"}
    assert mapping.load_saved(str(full)).date_format == "yyyy-mm-dd"


@pytest.mark.parametrize("content,error", [
    ('{"reference": "URN", "colour": "Red"}', "unknown fields 'colour'"),
    ('["URN"]', "not a mapping of field names"),
    ("{not json", "Cannot read mapping file"),
])
def test_a_bad_mapping_file_is_refused_with_what_to_fix(sqlite_db, tmp_path, content, error):
    path = tmp_path / "m.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(QattError, match=error):
        mapping.load_mapping(str(path))


def test_an_unknown_saved_mapping_lists_the_saved_ones(sqlite_db):
    mapping.save_mapping("monthly", {"reference": "A"}, "lead")
    with pytest.raises(QattError, match="No saved mapping is called 'weekly'; saved mappings: monthly"):
        mapping.load_mapping("weekly")


def test_a_header_mapped_to_two_fields_is_refused():
    with pytest.raises(QattError, match="mapped to both reference and officer"):
        mapping.check_mapping({"reference": "A", "officer": "A"}, ["A"], "f.csv")


def test_an_unknown_date_format_is_refused(sqlite_db):
    with pytest.raises(QattError, match="Unknown date format 'mm/dd/yyyy'"):
        mapping.save_mapping("m", {"reference": "A"}, "lead", date_format="mm/dd/yyyy")
