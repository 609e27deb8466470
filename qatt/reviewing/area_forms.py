"""Which grading form each area of a population gets.

A case's form is, in order: one chosen when its review starts, the sample's form, the form its
population keeps for its area (Population.area_forms, chosen in the draw dialog or on the Review
page and reused for every later sample of the population), then the one form whose area is the
case's area. An area no form covers (say "Bicycle theft" in a published extract) needs a choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Mapping

import peewee

from qatt.trust import audit, users
from qatt.errors import QattError
from qatt.storage import models as m
from qatt.storage.db import database_proxy, write_transaction

# Choosing forms for a population's areas shapes every later review of it: as drawing does.
ROLE = "moderator"


def area_key(area: str) -> str:
    """'Sex offender management (MOSOVO)' on a form matches 'Sex offender management' in an extract."""
    return (area or "").split("(")[0].strip().casefold()


def forms_covering(area: str, forms_by_id: Mapping[str, Any]) -> List[str]:
    """Ids of the forms whose own area is this area, sorted."""
    key = area_key(area)
    return sorted(fid for fid, form in forms_by_id.items() if key and area_key(form.area) == key)


@dataclass(frozen=True)
class AreaForm:
    """One area of a population: how many cases it has and the form they get (if any)."""

    area: str
    cases: int
    form_id: str  # "" when no form covers the area and none was chosen
    form_title: str
    how: str  # "chosen" (kept on the population), "by area" (the form's own area), "several", "none"


def kept_forms(population_id: int) -> Dict[str, str]:
    row = m.Population.select(m.Population.area_forms).where(m.Population.id == population_id).tuples().first()
    return dict(row[0] or {}) if row and row[0] else {}


def form_for_area(population_id: int, area: str, forms_by_id: Mapping[str, Any]) -> str:
    """The form a case of this area gets without an explicit choice ('' if none or several)."""
    kept = kept_forms(population_id).get(area)
    if kept and kept in forms_by_id:
        return kept
    covering = forms_covering(area, forms_by_id)
    return covering[0] if len(covering) == 1 else ""


def area_table(population_id: int, forms_by_id: Mapping[str, Any]) -> List[AreaForm]:
    """Every area of the population (most cases first) with the form its cases would get."""
    kept = kept_forms(population_id)
    query = (m.Case.select(m.Case.area, peewee.fn.COUNT(m.Case.id))
             .where(m.Case.population == population_id)
             .group_by(m.Case.area).order_by(peewee.fn.COUNT(m.Case.id).desc(), m.Case.area))
    table = []
    for area, cases in database_proxy.obj.execute_sql(*query.sql()).fetchall():
        covering = forms_covering(area, forms_by_id)
        if kept.get(area) in forms_by_id:
            form_id, how = kept[area], "chosen"
        elif len(covering) == 1:
            form_id, how = covering[0], "by area"
        else:
            form_id, how = "", "several" if covering else "none"
        title = forms_by_id[form_id].title if form_id else ""
        table.append(AreaForm(area or "", cases, form_id, title, how))
    return table


def keep_area_forms(population_id: int, choices: Mapping[str, str], actor: str,
                    forms_by_id: Mapping[str, Any]) -> Dict[str, str]:
    """Keep {area: form id} on the population ('' removes an area's choice); returns what is kept now."""
    users.require_role(actor, ROLE, "choose the forms for a population's areas")
    unknown = sorted({fid for fid in choices.values() if fid and fid not in forms_by_id})
    if unknown:
        raise QattError(f"There is no form {unknown[0]!r}; the forms are {', '.join(sorted(forms_by_id))}.")
    with write_transaction(database_proxy.obj):
        population = m.Population.get_or_none(m.Population.id == population_id)
        if population is None:
            raise QattError(f"There is no population {population_id}; list them with `populations`.")
        kept = dict(population.area_forms or {})
        changed = {}
        for area, form_id in choices.items():
            if (kept.get(area) or "") == (form_id or ""):
                continue
            changed[area] = form_id or ""
            if form_id:
                kept[area] = form_id
            else:
                kept.pop(area, None)
        if changed:
            m.Population.update(area_forms=kept or None).where(m.Population.id == population_id).execute()
            audit.record(actor, audit.ALTERATION, "population", population_id,
                         {"operation": "area forms", "changed": changed})
    return kept
