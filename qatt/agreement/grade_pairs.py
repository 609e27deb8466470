"""Grades of the same cases by two sets of reviewers, read from a file: the force's self-assessment
against an inspectorate's re-grading, or any other pair of gradings kept outside QATT.

`read_pairs_csv` reads `case_ref,first_grade,second_grade` rows on one grading scale (ids, labels
or initials are accepted), stopping at the first bad row with its row and column.
`agreement_text` puts qatt.stats.agreement's figures the way a QA lead reads them. Both the
`agreement --pairs` command and the desktop's Moderation page use them.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import yaml

from qatt import stats
from qatt.errors import QattError

SCALES_FILE = Path(__file__).resolve().parents[2] / "forms" / "_scales.yaml"
PAIRS_COLUMNS = ("case_ref", "first_grade", "second_grade")

GradePair = Tuple[str, str, str]  # (case reference, first grade, second grade)


class GradeNotOnScale(QattError):
    """A grade in the file is not on the scale it was read against (another scale may fit)."""


@dataclass(frozen=True)
class Scale:
    """A grading scale as the agreement command needs it: ids best first, labels, accepted spellings."""

    id: str
    grades: Tuple[str, ...]
    labels: Dict[str, str]
    spellings: Dict[str, str]  # lower-case id, label or initials -> grade id

    def grade_for(self, text: str) -> str:
        """The grade id for `text` ('requires_improvement', 'Requires improvement', 'RI'); '' if none."""
        key = " ".join(text.replace("_", " ").replace("-", " ").split()).lower()
        return self.spellings.get(key, "")

    def accepted(self) -> str:
        return "; ".join(f"{self.labels[g]} ({g}, {_initials(self.labels[g]).upper()})" for g in self.grades)


def _initials(label: str) -> str:
    return "".join(word[0] for word in label.lower().split())


def load_scales(scales_file: Path = SCALES_FILE) -> Dict[str, Scale]:
    """Every scale in forms/_scales.yaml, in file order (g3 first). Special values (ungraded,
    carried over) have no place in an ordered comparison, so only the graded values are kept."""
    document = yaml.safe_load(scales_file.read_text(encoding="utf-8")) or {}
    scales = {}
    for entry in document.get("scales", []):
        values = entry["values"]
        grades = tuple(value["id"] for value in values)
        labels = {value["id"]: value.get("label", value["id"]) for value in values}
        spellings: Dict[str, str] = {}
        initials = [_initials(labels[g]) for g in grades]
        for grade, short in zip(grades, initials):
            spellings[grade.replace("_", " ")] = grade
            spellings[labels[grade].lower()] = grade
            if initials.count(short) == 1:  # an abbreviation two grades share would be a guess
                spellings.setdefault(short, grade)
        scales[entry["id"]] = Scale(entry["id"], grades, labels, spellings)
    return scales


def load_scale(scale_id: str, scales_file: Path = SCALES_FILE) -> Scale:
    scales = load_scales(scales_file)
    if scale_id not in scales:
        raise QattError(f"There is no grading scale {scale_id!r} in {scales_file}; use one of: {', '.join(scales)}.")
    return scales[scale_id]


def read_pairs_csv(path: Path, scale: Scale) -> List[GradePair]:
    """Read case_ref,first_grade,second_grade rows; any bad row stops the whole file with its row and column."""
    try:
        handle = open(path, newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise QattError(f"Cannot open {path}: {exc.strerror}. Check the file name.") from exc
    pairs: List[GradePair] = []
    first_seen: Dict[str, int] = {}
    with handle:
        reader = csv.reader(handle)
        header = [name.strip().lower() for name in next(reader, [])]
        missing = [name for name in PAIRS_COLUMNS if name not in header]
        if missing:
            raise QattError(f"{path}, row 1: no column {', '.join(missing)}. The first row must name the columns "
                            f"{', '.join(PAIRS_COLUMNS)}.")
        position = {name: header.index(name) for name in PAIRS_COLUMNS}
        for row_number, row in enumerate(reader, start=2):
            if not any(cell.strip() for cell in row):
                continue
            cells = {name: (row[i].strip() if i < len(row) else "") for name, i in position.items()}
            reference = cells["case_ref"]
            if not reference:
                raise QattError(f"{path}, row {row_number}, column case_ref: the case reference is empty.")
            if reference in first_seen:
                raise QattError(f"{path}, row {row_number}, column case_ref: case {reference!r} is already on row "
                                f"{first_seen[reference]}. Give each case one row.")
            first_seen[reference] = row_number
            grades = []
            for column in ("first_grade", "second_grade"):
                grade = scale.grade_for(cells[column])
                if not grade:
                    shown = repr(cells[column]) if cells[column] else "empty"
                    raise GradeNotOnScale(f"{path}, row {row_number}, column {column}: {shown} is not a grade on the "
                                    f"{scale.id} scale. Use one of: {scale.accepted()}.")
                grades.append(grade)
            pairs.append((reference, grades[0], grades[1]))
    return pairs


def read_pairs_on_any_scale(path: Path, scales_file: Path = SCALES_FILE) -> Tuple[Scale, List[GradePair]]:
    """The pairs on the first scale (in _scales.yaml order, g3 first) that reads every row; if none
    does, the problem as the first scale reports it, which names the file, row and column."""
    first_problem: Optional[QattError] = None
    for scale in load_scales(scales_file).values():
        try:
            return scale, read_pairs_csv(path, scale)
        except GradeNotOnScale as exc:  # any other problem is the file's own, whatever the scale
            first_problem = first_problem or exc
    raise first_problem or QattError(f"{scales_file} holds no grading scale.")


def agreement_text(result: stats.Agreement, labels: Dict[str, str], source: str) -> str:
    """The agreement as a QA lead reads it: the cross-table, then sentences."""
    names = [labels.get(c, c) for c in result.categories]
    lines = [f"Agreement between first and second reviewers: {source}, {result.n} cases.", ""]
    if result.n:
        width = max(len(name) for name in names + ["First reviewer"]) + 2
        widths = [max(len(name), 5) + 2 for name in names + ["Total"]]

        def table_row(title: str, values: Sequence[object]) -> str:
            return title.ljust(width) + "".join(str(v).rjust(w) for v, w in zip(values, widths))

        lines.append(" " * width + "  Second reviewer")
        lines.append(table_row("First reviewer", names + ["Total"]))
        for name, row in zip(names, result.matrix):
            lines.append(table_row(name, row + [sum(row)]))
        lines.append(table_row("Total", [sum(column) for column in zip(*result.matrix)] + [result.n]))
        lines.append("")
        lines.append(f"Same grade: {result.observed_agreement.percent_text()}.")
        lines.append(f"The first reviewers graded {result.higher} of {result.n} cases higher than the second reviewers "
                     f"and {result.lower} lower.")
        lines.append(kappa_line("Kappa", result.kappa, result.kappa_ci)
                     + (f": {stats.kappa_strength(result.kappa)} agreement" if result.kappa is not None else ""))
        lines.append(kappa_line("Weighted kappa (linear)", result.weighted_kappa_linear, result.weighted_kappa_linear_ci))
        lines.append(kappa_line("Weighted kappa (quadratic)", result.weighted_kappa_quadratic,
                                 result.weighted_kappa_quadratic_ci))
        test = result.stuart_maxwell
        if test is not None and test.df:
            verdict = ("the two sets of reviewers use the grades differently" if test.p_value < 0.05
                       else "no clear difference in how often each grade is used")
            lines.append(f"Stuart-Maxwell test of the grade totals: chi-squared {test.chi2:.2f}, df {test.df}, "
                         f"{_p_text(test.p_value)}: {verdict}.")
    lines.extend(f"Note: {note}" for note in result.notes)
    return "\n".join(lines)


def _p_text(p_value: float) -> str:
    """'p = 0.042', or 'p < 0.001' rather than a p of 0.000 that reads as impossible."""
    return "p < 0.001" if p_value < 0.001 else f"p = {p_value:.3f}"


def kappa_line(name: str, value: Optional[float], ci: Optional[Tuple[float, float]]) -> str:
    """'Kappa: 0.41 (95% CI 0.12 to 0.70)', or the reason it (or its interval) is not defined."""
    if value is None:
        return f"{name}: {stats.kappa_text(value)}"
    if ci is None:
        return f"{name}: {stats.kappa_text(value)} (95% CI {stats.KAPPA_CI_NOT_DEFINED})"
    return f"{name}: {stats.kappa_text(value)} (95% CI {ci[0]:.2f} to {ci[1]:.2f})"
