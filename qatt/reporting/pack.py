"""The inspection self-assessment pack, in the inspectorate's structure (DOMAIN §5)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from qatt.reporting.filters import FormCatalogue, ReportFilter, SECOND, Vocabulary, submitted_reviews
from qatt.reporting.figures import (
    ActionRow, Calibration, CaseStudyRow, GradeDistribution, RecommendationRow, ReportHeader, SampleRecord,
    ThemeFrequency, Trend, _header, calibration, case_studies, grade_distributions, grade_pairs,
    outstanding_actions, overall_distribution, recommendations, samples_used, theme_frequencies)
from qatt.reporting.comparison import InspectionComparison, inspection_comparison
from qatt.reporting.narrative import (
    Narrative, ThemeFigure, narrative_for, scope_of, tagged_theme_figures, ticked_theme_figures)
from qatt.reporting.mosovo import MosovoCompliance, mosovo_compliance
from qatt.storage import models as m


NOTES_PER_AREA = 10  # review-text excerpts per area in the pack; the workbook has every review


@dataclass
class AreaBlock:
    """One area of practice in the self-assessment pack (DOMAIN §5: D3 area block, D4 case-file analysis)."""

    area: str
    grades: GradeDistribution
    independent: Optional[GradeDistribution]  # second reviewers' grades in the area
    strengths: List[ThemeFrequency]
    improvements: List[ThemeFrequency]
    strength_notes: List[str]
    improvement_notes: List[str]
    work_in_progress: List[ActionRow]
    case_file: Optional[Calibration]  # self against independent grades of the same cases
    narrative: Optional[Narrative] = None  # the QA lead's kept version, or QATT's draft from the figures
    theme_figures: List[ThemeFigure] = field(default_factory=list)  # ticks and question tags, each saying which

    def as_dict(self) -> Dict[str, Any]:
        return {"area": self.area, "grades": self.grades.as_dict(),
                "independent": self.independent.as_dict() if self.independent else None,
                "strengths": [t.as_dict() for t in self.strengths],
                "improvements": [t.as_dict() for t in self.improvements],
                "work_in_progress": [a.as_dict() for a in self.work_in_progress],
                "case_file": self.case_file.as_dict() if self.case_file else None,
                "narrative": self.narrative.as_dict() if self.narrative else None,
                "theme_figures": [f.as_dict() for f in self.theme_figures]}


@dataclass
class InspectionPack:
    """The self-assessment pack, in the inspectorate's structure (DOMAIN §5)."""

    header: ReportHeader
    overall: GradeDistribution
    areas: List[AreaBlock]
    calibration: List[Calibration]
    mosovo: Optional[MosovoCompliance]
    recommendations: List[RecommendationRow]
    trends: List[Trend]
    samples: List[SampleRecord]
    case_studies: List[CaseStudyRow] = field(default_factory=list)
    comparison: Optional[InspectionComparison] = None  # like for like with the inspections

    def as_dict(self) -> Dict[str, Any]:
        return {"header": self.header.as_dict(), "overall": self.overall.as_dict(),
                "comparison": self.comparison.as_dict() if self.comparison else None,
                "areas": [a.as_dict() for a in self.areas], "calibration": [c.as_dict() for c in self.calibration],
                "mosovo": self.mosovo.as_dict() if self.mosovo else None,
                "recommendations": [r.as_dict() for r in self.recommendations],
                "trends": [t.as_dict() for t in self.trends], "samples": [s.as_dict() for s in self.samples],
                "case_studies": [c.as_dict() for c in self.case_studies]}


def _review_notes(flt: ReportFilter, column: Any) -> Dict[str, List[str]]:
    """The newest distinct non-empty texts of one review field, per area."""
    notes: Dict[str, List[str]] = defaultdict(list)
    rows = (submitted_reviews(flt, m.Case.area, column).where(column != "")
            .order_by(m.Review.submitted_at.desc(), m.Review.id.desc()).tuples())
    for area, text in rows:
        text = text.strip()
        if text and len(notes[area]) < NOTES_PER_AREA and text not in notes[area]:
            notes[area].append(text)
    return notes


def inspection_pack(flt: ReportFilter, *, actor: str = "", marking: Optional[str] = None,
                    today: Optional[dt.date] = None, vocab: Optional[Vocabulary] = None) -> InspectionPack:
    vocab = vocab or Vocabulary.load()
    today = today or dt.date.today()
    catalogue = FormCatalogue.for_filter(flt)
    overall = overall_distribution(flt, vocab)
    by_area = grade_distributions(flt, "area", vocab)
    independent = {d.group: d for d in grade_distributions(flt, "area", vocab, role=SECOND)}
    themes = theme_frequencies(flt, vocab, catalogue)
    pairs = grade_pairs(flt)
    case_files = {c.form_id: c for c in calibration(pairs, catalogue, vocab, group_of=lambda pair: pair[1])}
    actions = outstanding_actions(flt, today)
    strengths, improvements = _review_notes(flt, m.Review.strengths), _review_notes(flt, m.Review.improvements)
    tagged = tagged_theme_figures(flt, vocab)
    scope = scope_of(flt)
    areas = []
    for dist in by_area:
        area_themes = themes.get(dist.group, [])
        figures = ticked_theme_figures(area_themes) + tagged.get(dist.group, [])
        areas.append(AreaBlock(
            area=dist.group, grades=dist, independent=independent.get(dist.group),
            strengths=sorted((t for t in area_themes if t.strength.count), key=lambda t: (-t.strength.count, t.label)),
            improvements=sorted((t for t in area_themes if t.weakness.count), key=lambda t: (-t.weakness.count, t.label)),
            strength_notes=strengths.get(dist.group, []), improvement_notes=improvements.get(dist.group, []),
            work_in_progress=[a for a in actions if a.area == dist.group],
            case_file=case_files.get(dist.group),
            narrative=narrative_for(dist.group, scope, independent.get(dist.group), figures),
            theme_figures=figures))
    comparison = inspection_comparison(flt, vocab, catalogue, pairs)
    return InspectionPack(
        header=_header("Inspection self-assessment pack", flt, marking, actor),
        overall=overall, areas=areas, calibration=calibration(pairs, catalogue, vocab),
        mosovo=mosovo_compliance(flt), recommendations=recommendations(),
        trends=[s.trend for s in comparison.against_inspectorate], samples=samples_used(flt),
        case_studies=case_studies(flt, vocab), comparison=comparison)
