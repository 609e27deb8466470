"""The pack's narrative per area of practice, in the inspectorate's form: a judgement, strengths, work
in progress, areas for improvement and developing practice. QATT drafts it from the figures (the
independent grades and the theme figures); the QA lead edits it and keeps it. Every save is a new
version with who made it, and none is overwritten.

Theme figures come from two sources and always say which: the reviewer's own ticks on a themes
question, and the checklist questions tagged with a theme in the form (a "no" to a tagged check
counts against the theme)."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

from qatt import stats
from qatt.trust import audit, users
from qatt.errors import QattError
from qatt.reporting.figures import GradeDistribution, ThemeFrequency
from qatt.reporting.filters import YES_NO_TYPES, ReportFilter, Vocabulary, _answers
from qatt.storage import models as m
from qatt.storage.db import database_proxy, write_transaction

EDITOR = "qa_lead"
TICKS = "reviewers' ticks"
TAGS = "checklist answers tagged with the theme"
FIELDS = ("judgement", "strengths", "work_in_progress", "improvements", "developing")
TOP = 5


@dataclass
class ThemeFigure:
    """One theme in one area, from one source: count of total reviews."""

    theme: str
    label: str
    kind: str  # strength | weakness
    proportion: stats.Proportion
    source: str  # TICKS or TAGS

    @property
    def statement(self) -> str:
        p = self.proportion
        if self.source == TAGS:
            return f"{self.label}: a check tagged with it was failed in {p.count} of {p.total} reviews ({TAGS})."
        return f"{self.label}: a {self.kind} in {p.count} of {p.total} reviews ({TICKS})."

    def as_dict(self) -> Dict[str, Any]:
        return {"theme": self.theme, "label": self.label, "kind": self.kind, "proportion": self.proportion.as_dict(),
                "source": self.source, "statement": self.statement}


def tagged_theme_figures(flt: ReportFilter, vocab: Vocabulary) -> Dict[str, List[ThemeFigure]]:
    """Per area: for each theme, the reviews with at least one failed ("no") check tagged with it,
    out of the reviews that answered such a check yes or no. Most failed first."""
    tags: Dict[Tuple[str, str], Tuple[str, ...]] = {}
    for version in m.FormVersion.select(m.FormVersion.form_id, m.FormVersion.content):
        for section in (version.content or {}).get("sections", []):
            for q in section.get("questions", []) or []:
                if q.get("type") in YES_NO_TYPES and q.get("themes"):
                    tags[(version.form_id, str(q["id"]))] = tuple(q["themes"])
    if not tags:
        return {}
    answered: Dict[Tuple[str, str], Set[int]] = defaultdict(set)
    failed: Dict[Tuple[str, str], Set[int]] = defaultdict(set)
    rows = (_answers(flt, m.Review.id, m.FormVersion.form_id, m.Answer.question_id, m.Case.area, m.Answer.value)
            .where(m.Answer.question_id.in_(sorted({q for _, q in tags})) & m.Answer.value.in_(["yes", "no"]))
            .tuples())
    for review_id, form_id, question_id, area, value in rows:
        for theme in tags.get((form_id, question_id), ()):
            for group in (area or "(none)", "All"):
                answered[(group, theme)].add(review_id)
                if value == "no":
                    failed[(group, theme)].add(review_id)
    result: Dict[str, List[ThemeFigure]] = defaultdict(list)
    for (group, theme), reviews in answered.items():
        result[group].append(ThemeFigure(theme, vocab.theme_label(theme), "weakness",
                                         stats.wilson(len(failed[(group, theme)]), len(reviews)), TAGS))
    for group in result:
        result[group].sort(key=lambda f: (-f.proportion.p, f.label))
    return dict(result)


def ticked_theme_figures(frequencies: Sequence[ThemeFrequency]) -> List[ThemeFigure]:
    out = [ThemeFigure(t.theme, t.label, "strength", t.strength, TICKS) for t in frequencies if t.strength.count]
    out += [ThemeFigure(t.theme, t.label, "weakness", t.weakness, TICKS) for t in frequencies if t.weakness.count]
    return out


# --------------------------------------------------------------------------- drafts and kept versions

@dataclass
class Narrative:
    area: str
    scope: str
    judgement: str
    strengths: str
    work_in_progress: str
    improvements: str
    developing: str
    version: int = 0  # 0 = a draft QATT made from the figures, never saved
    edited_by: str = ""
    edited_at: Optional[dt.datetime] = None

    @property
    def is_draft(self) -> bool:
        return self.version == 0

    @property
    def provenance(self) -> str:
        if self.is_draft:
            return "Draft from the figures; not yet reviewed and kept by the QA lead."
        return f"Version {self.version}, kept by {self.edited_by} on {self.edited_at:%d %b %Y}."

    def as_dict(self) -> Dict[str, Any]:
        return {**{name: getattr(self, name) for name in ("area", "scope", "version", "edited_by") + FIELDS},
                "edited_at": self.edited_at, "draft": self.is_draft, "provenance": self.provenance}


def scope_of(flt: ReportFilter) -> str:
    """The period a narrative belongs to: the filter's period, e.g. "2024-01 to 2024-06"."""
    return flt.label().split("; ")[0]


def draft(area: str, scope: str, independent: Optional[GradeDistribution], figures: Sequence[ThemeFigure]) -> Narrative:
    """Drafted from the figures. The judgement is drafted only from the force's independent grades
    (its self-assessment proved kinder than the inspectorate's in 2022); left empty without them."""
    judgement = ""
    if independent is not None and independent.total:
        top = max(independent.shares, key=lambda s: s.proportion.count)
        judgement = top.label
    strengths = [f for f in figures if f.kind == "strength"]
    weaknesses = [f for f in figures if f.kind == "weakness" and f.proportion.count]
    weaknesses.sort(key=lambda f: (-f.proportion.p, f.label))
    return Narrative(area, scope, judgement,
                     "\n".join(f.statement for f in sorted(strengths, key=lambda f: -f.proportion.count)[:TOP]),
                     "", "\n".join(f.statement for f in weaknesses[:TOP]), "")


def kept(area: str, scope: str) -> Optional[Narrative]:
    row = (m.AreaNarrative.select().where((m.AreaNarrative.area == area) & (m.AreaNarrative.scope == scope))
           .order_by(m.AreaNarrative.version.desc()).first())
    if row is None:
        return None
    return Narrative(row.area, row.scope, row.judgement, row.strengths, row.work_in_progress, row.improvements,
                     row.developing, row.version, row.edited_by, row.edited_at)


def versions(area: str, scope: str) -> List[Narrative]:
    rows = (m.AreaNarrative.select().where((m.AreaNarrative.area == area) & (m.AreaNarrative.scope == scope))
            .order_by(m.AreaNarrative.version))
    return [Narrative(r.area, r.scope, r.judgement, r.strengths, r.work_in_progress, r.improvements, r.developing,
                      r.version, r.edited_by, r.edited_at) for r in rows]


def save(actor: str, area: str, scope: str, **text: str) -> Narrative:
    """Keep a new version: the fields given replace the current (or drafted-from-nothing) ones."""
    users.require_role(actor, EDITOR, "edit the pack's narrative")
    unknown = set(text) - set(FIELDS)
    if unknown:
        raise QattError(f"A narrative has no {', '.join(sorted(unknown))}; use {', '.join(FIELDS)}.")
    if not area or not scope:
        raise QattError("Name the area and the period the narrative is for.")
    with write_transaction(database_proxy.obj):
        current = kept(area, scope)
        values = {name: getattr(current, name) if current else "" for name in FIELDS}
        changed = {name: {"old": values[name], "new": (value or "").strip()} for name, value in text.items()
                   if value is not None and (value or "").strip() != values[name]}
        if not changed:
            raise QattError("The narrative is unchanged; nothing was kept.")
        values.update({name: change["new"] for name, change in changed.items()})
        version = (current.version if current else 0) + 1
        m.AreaNarrative.create(area=area, scope=scope, version=version, edited_by=actor, **values)
        audit.record(actor, audit.ALTERATION, "narrative", f"{area} | {scope}", {"version": version, "fields": changed})
    result = kept(area, scope)
    assert result is not None
    return result


def narrative_for(area: str, scope: str, independent: Optional[GradeDistribution],
                  figures: Sequence[ThemeFigure]) -> Narrative:
    """The kept narrative if the QA lead has kept one, otherwise the draft."""
    return kept(area, scope) or draft(area, scope, independent, figures)


def judgement_counts(narratives: Sequence[Narrative]) -> Counter:
    return Counter(n.judgement for n in narratives if n.judgement)


def current_for_area(flt: ReportFilter, area: str, vocab: Optional[Vocabulary] = None) -> Narrative:
    """The narrative the pack would print for one area: kept, or drafted from that area's figures."""
    from qatt.reporting.figures import grade_distributions, theme_frequencies
    from qatt.reporting.filters import SECOND, FormCatalogue

    vocab = vocab or Vocabulary.load()
    scope = scope_of(flt)
    found = kept(area, scope)
    if found is not None:
        return found
    only = ReportFilter(flt.period_from, flt.period_to, [area], flt.teams, flt.form_ids)
    independent = next((d for d in grade_distributions(only, "area", vocab, role=SECOND) if d.group == area), None)
    figures = (ticked_theme_figures(theme_frequencies(only, vocab, FormCatalogue.for_filter(only)).get(area, []))
               + tagged_theme_figures(only, vocab).get(area, []))
    return draft(area, scope, independent, figures)
