"""Test factories: populations, samples, users and form versions made straight through the models.

Tests of reviews and assignments use these instead of the importer and the sampling engine, so
they test one thing and do not depend on how those parts evolve.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from qatt.trust import users
from qatt.storage import models as m


def make_user(username: str, role: str = "reviewer", team: str = "", display_name: str = "") -> m.User:
    user = users.ensure_user(username, role, display_name=display_name, team=team)
    if user.role != role or user.team != team:
        user.role, user.team = role, team
        user.save()
    return user


def make_population(n: int = 10, name: str = "Test extract", **case_fields: Any) -> m.Population:
    """A population of `n` cases with references REF0001...; `case_fields` may give a value for
    every case or a callable index -> value (e.g. supervisor=lambda i: f"sup{i % 2}")."""
    population = m.Population.create(name=name, row_count=n)
    rows = []
    for i in range(1, n + 1):
        row = {"population": population.id, "reference": f"REF{i:04d}", "area": "Domestic abuse referrals",
               "recorded_date": dt.date(2024, 1, 1) + dt.timedelta(days=i), "status": "finalised"}
        for field, value in case_fields.items():
            row[field] = value(i) if callable(value) else value
        rows.append(row)
    m.Case.insert_many(rows).execute()
    return population


def make_sample(population: m.Population, references: Optional[Sequence[str]] = None, *, period: str = "2024-05",
                form_id: str = "", name: str = "Test sample") -> m.Sample:
    """A recorded sample of the given references (all cases of the population if None)."""
    cases = m.Case.select().where(m.Case.population == population).order_by(m.Case.id)
    if references is not None:
        cases = cases.where(m.Case.reference.in_(list(references)))
    sample = m.Sample.create(population=population, name=name, period=period, method="simple", params={},
                             seed="1", population_fingerprint="0" * 64, software_version="test", form_id=form_id)
    for position, case in enumerate(cases, start=1):
        m.SampleItem.create(sample=sample, case=case, position=position)
    return sample


def sample_items(sample: m.Sample) -> List[m.SampleItem]:
    return list(m.SampleItem.select().where(m.SampleItem.sample == sample).order_by(m.SampleItem.position))


def form_dict(form_id: str = "test_form", *, area: str = "Domestic abuse referrals", version: str = "1.0",
              sections: Optional[List[Dict[str, Any]]] = None, grading: Optional[Dict[str, Any]] = None,
              scale: str = "g3") -> Dict[str, Any]:
    """A small form in the agreed file format (forms_spec.md): a critical yes/no, a conditional
    follow-up pair and an optional text; grading by the share of "no" answers."""
    if sections is None:
        sections = [{
            "id": "checks", "title": "Checks", "questions": [
                {"id": "c1", "type": "yes_no", "text": "Ethnicity recorded"},
                {"id": "c2", "type": "yes_no_na", "text": "Voice of the child recorded", "critical": True},
                {"id": "c3", "type": "yes_no_na", "text": "PPN submitted where required"},
                {"id": "c3_days", "type": "number", "text": "Days until the PPN reached CSC", "unit": "days",
                 "min": 0, "show_if": {"question": "c3", "equals": "yes"}},
                {"id": "c9", "type": "grade", "scale": "supervision", "text": "Supervisory oversight"},
                {"id": "notes", "type": "text", "text": "Notes", "required": False},
            ],
        }]
    if grading is None:
        grading = {"critical_fail": "lowest",
                   "no_share": [{"up_to": 0.0, "grade": "good"}, {"up_to": 0.34, "grade": "requires_improvement"},
                                {"otherwise": "inadequate"}]}
    return {"id": form_id, "title": f"Form {form_id}", "area": area, "version": version, "scale": scale,
            "grading": grading, "sections": sections}


REPO_FORMS = Path(__file__).resolve().parent.parent / "forms"


def write_form(forms_dir: Path, form: Dict[str, Any]) -> None:
    """Write a form file (YAML is a superset of JSON) next to copies of the real scales and themes."""
    forms_dir.mkdir(parents=True, exist_ok=True)
    (forms_dir / f"{form['id']}.yaml").write_text(json.dumps(form, indent=2), encoding="utf-8")
    for shared in ("_scales.yaml", "_themes.yaml"):
        if not (forms_dir / shared).exists():
            shutil.copyfile(REPO_FORMS / shared, forms_dir / shared)


def load_form(forms_dir, form_id: str):
    from qatt.reviewing import forms

    return forms.load_forms(forms_dir)[form_id]


def make_form_version(tmp_dir, form: Optional[Dict[str, Any]] = None, actor: str = "tester") -> m.FormVersion:
    """Write `form` (default: form_dict()) into `tmp_dir` and register its version."""
    from qatt.reviewing import forms

    form = form or form_dict()
    write_form(tmp_dir, form)
    return forms.register_form_version(load_form(tmp_dir, form["id"]), actor)


COMPLETE_ANSWERS = {"c1": "yes", "c2": "yes", "c3": "yes", "c3_days": 2, "c9": "effective"}
