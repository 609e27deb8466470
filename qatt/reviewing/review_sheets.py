"""Review templates as spreadsheets: export one row per sampled case and one column per question,
let reviewers fill it in Excel, and import it back as reviews.

The template carries a hidden key row (question ids) and a hidden Key sheet (sample, role, form
id and the form's content hash), so an import always checks answers against the exact form
version the template was made from. An import is all or nothing: every cell is checked first and
every problem is reported by case reference, question and cell; only a clean file is written, in
one transaction. A row with an overall grade is submitted; a row without one is saved as a draft.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from qatt.reviewing import forms, grading, prefill, reviews
from qatt.trust import audit
from qatt.selection.assignments import items_to_review
from qatt.errors import QattError
from qatt.fileio import atomic_path, looks_like_formula
from qatt.reports import protective_marking
from qatt.storage import models as m
from qatt.storage.db import database_proxy, write_transaction

TEMPLATE_KIND = "qatt-review-template"
TEMPLATE_FORMAT = 1
SHEET = "Reviews"
KEY_SHEET = "Key"
LISTS_SHEET = "Lists"
HEADER_ROW, KEY_ROW, FIRST_DATA_ROW = 1, 2, 3
# Columns after the questions: the review's own fields, as (key, header).
DETAIL_COLUMNS = (
    ("grade", "Overall grade (leave blank to keep as a draft)"),
    ("override_rationale", "Rationale if the grade differs from the suggested grade"),
    ("strengths", "Strengths"),
    ("improvements", "Areas for improvement"),
    ("feedback", "Feedback to the officer"),
    ("feedback_date", "Date feedback was given (YYYY-MM-DD)"),
)
LEAD_COLUMNS = (("reference", "Case reference"), ("sample_item", "Sample item"))
_HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")


# --------------------------------------------------------------------------- export

def _text(cell, value: Any) -> None:
    """Write a value; text that looks like a formula stays text (spreadsheet formula injection)."""
    cell.value = value
    if looks_like_formula(value):
        cell.data_type = "s"


def _choices(question: forms.Question) -> Optional[List[str]]:
    """The drop-down entries for a question, or None for free entry."""
    if question.type == "yes_no":
        return ["yes", "no"]
    if question.type == "yes_no_na":
        return ["yes", "no", "na"]
    if question.type == "grade":
        scale = question.scale
        return [v.label for v in scale.values + scale.special]
    if question.type == "choice":
        return [o.label for o in question.options]
    return None


def _entry_hint(question: forms.Question) -> str:
    hints = {
        "multi": "option ids separated by commas: " + ", ".join(o.id for o in question.options),
        "themes": "theme: strength or weakness, separated by semicolons, e.g. "
                  + "; ".join(f"{o.id}: strength" for o in question.options[:2]),
        "number": f"a number{' of ' + question.unit if question.unit else ''}",
        "date": "a date (YYYY-MM-DD)",
        "text": "text",
    }
    return hints.get(question.type, "choose from the list")


def export_template(sample_id: int, path: Path, role: str = "first", actor: str = "",
                    forms_dir: Optional[Path] = None) -> int:
    """Write the review template of a sample. Returns the number of case rows.

    The form is the sample's form (else the one covering its cases' area); its current version is
    registered so the import can find it by hash."""
    if role not in m.Review.ROLES:
        raise QattError(f"Unknown review role {role!r}; use 'first' or 'second'.")
    item_ids = items_to_review(sample_id)
    if not item_ids:
        raise QattError(f"Sample {sample_id} has no cases to review.")
    items = list(m.SampleItem.select(m.SampleItem, m.Case).join(m.Case)
                 .where(m.SampleItem.id.in_(item_ids)).order_by(m.SampleItem.position))
    forms_by_id = forms.load_forms(forms_dir or forms.default_forms_dir())
    version = reviews.resolve_form_version(reviews.choose_form_id(items[0], forms_by_id, None), actor,
                                           forms_by_id=forms_by_id)
    form = forms.form_from_version(version)
    marking = protective_marking()

    wb = Workbook()
    sheet = wb.active
    sheet.title = SHEET
    lists = wb.create_sheet(LISTS_SHEET)
    lists.sheet_state = "hidden"
    _write_instructions(wb.create_sheet("Instructions", 0), form, role, marking)
    key = wb.create_sheet(KEY_SHEET)
    key.sheet_state = "veryHidden"
    for row in (("kind", TEMPLATE_KIND), ("format", TEMPLATE_FORMAT), ("sample_id", sample_id), ("role", role),
                ("form_id", form.id), ("form_version", form.version), ("form_hash", form.content_hash)):
        key.append(row)

    columns: List[Tuple[str, str]] = list(LEAD_COLUMNS)
    columns += [(q.id, f"{q.text} [{q.id}]") for q in form.questions()]
    columns += list(DETAIL_COLUMNS)
    last_row = FIRST_DATA_ROW + len(items) - 1
    list_column = 0
    for col, (column_key, header) in enumerate(columns, start=1):
        head = sheet.cell(HEADER_ROW, col)
        _text(head, header)
        head.font, head.fill = Font(bold=True), _HEADER_FILL
        head.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.cell(KEY_ROW, col).value = column_key
        sheet.column_dimensions[get_column_letter(col)].width = 14 if col <= len(LEAD_COLUMNS) else 22
        question = form.question(column_key) if form.has_question(column_key) else None
        entries = _choices(question) if question else (
            [v.label for v in form.scale.values] if column_key == "grade" else None)
        if question is not None:
            note = question.help or _entry_hint(question)
            if question.show_if is not None:
                note += " (only when it applies)"
            head.comment = Comment(note, "QATT")
        if entries:
            list_column += 1
            letter = get_column_letter(list_column)
            for r, entry in enumerate(entries, start=1):
                _text(lists.cell(r, list_column), entry)
            rule = DataValidation(type="list", formula1=f"{LISTS_SHEET}!${letter}$1:${letter}${len(entries)}",
                                  allow_blank=True, showErrorMessage=True,
                                  errorTitle="Not on the list", error="Choose a value from the list.")
            sheet.add_data_validation(rule)
            rule.add(f"{get_column_letter(col)}{FIRST_DATA_ROW}:{get_column_letter(col)}{last_row}")
    positions = {column_key: col for col, (column_key, _header) in enumerate(columns, start=1)}
    for offset, item in enumerate(items):
        row = FIRST_DATA_ROW + offset
        _text(sheet.cell(row, 1), item.case.reference)
        sheet.cell(row, 2).value = item.id
        for col in range(len(LEAD_COLUMNS) + 1, len(columns) + 1):
            sheet.cell(row, col).protection = Protection(locked=False)
        # Header answers QATT can fill in (qatt.reviewing.prefill) are written in, as starting the review would.
        for qid, (value, _origin) in prefill.prefilled_answers(form, item, actor).items():
            question = form.question(qid)
            shown = question.option_label(value) if question.type == "choice" else value
            if isinstance(shown, str):
                _text(sheet.cell(row, positions[qid]), shown)
            else:
                sheet.cell(row, positions[qid]).value = shown
    sheet.row_dimensions[KEY_ROW].hidden = True
    sheet.freeze_panes = sheet.cell(FIRST_DATA_ROW, len(LEAD_COLUMNS) + 1)
    # Protection (no password) stops accidental edits to references, headers and the key row.
    sheet.protection.sheet = True
    sheet.protection.formatColumns = False
    sheet.protection.formatRows = False
    for ws in (sheet, wb["Instructions"]):
        ws.oddHeader.center.text = marking
        ws.oddFooter.center.text = marking
        ws.oddFooter.right.text = "Page &P of &N"
    with atomic_path(Path(path), ".xlsx") as tmp:
        wb.save(tmp)
    audit.record(actor or "unknown", audit.DISCLOSURE, "sample", sample_id,
                 {"export": "review template", "role": role, "cases": len(items), "form_id": form.id})
    return len(items)


def _write_instructions(sheet, form: forms.Form, role: str, marking: str) -> None:
    lines = [
        marking,
        f"QATT review template: {form.title} (version {form.version}), {role} review",
        "",
        "How to fill it in",
        "1. One row per case. Answer in the Reviews sheet; use the drop-downs where there are any.",
        "2. Questions that do not apply to a case (see the note on the column header) must be left blank.",
        "3. Leave the overall grade blank to save a row as a draft; fill it in to submit that review.",
        "   A grade other than the one QATT suggests from the answers needs a rationale.",
        "4. Do not change the case references, the headers, or the hidden key.",
        "5. Import with: python -m qatt review import FILE.xlsx (or File > Import reviews).",
        "   Nothing is imported unless every row is valid; problems are listed by case and cell.",
        "",
        f"Overall grade scale: {form.scale.title}",
    ]
    lines += [f"  {v.label}: {v.descriptor}" if v.descriptor else f"  {v.label}" for v in form.scale.values]
    from qatt.trust import identity

    lines += ["", audit.head_text()] + ([identity.TRAINING_LABEL] if identity.is_training() else [])
    for r, line in enumerate(lines, start=1):
        _text(sheet.cell(r, 1), line)
    sheet["A1"].font = Font(bold=True)
    sheet["A2"].font = Font(bold=True, size=13)
    sheet.column_dimensions["A"].width = 120


# --------------------------------------------------------------------------- import

@dataclass
class ImportResult:
    drafts: List[int] = field(default_factory=list)  # review ids
    submitted: List[int] = field(default_factory=list)
    blank_rows: int = 0

    def as_dict(self) -> Dict[str, Any]:
        return asdict(self)


class TemplateProblems(QattError):
    """The filled template has invalid cells; `problems` lists them all (nothing was imported)."""

    def __init__(self, path: Path, problems: List[str]) -> None:
        self.problems = problems
        shown = "\n".join(f"  {p}" for p in problems[:30])
        more = f"\n  ... and {len(problems) - 30} more" if len(problems) > 30 else ""
        super().__init__(f"{Path(path).name}: {len(problems)} problem(s); nothing was imported. "
                         f"Correct them and import again:\n{shown}{more}")


@dataclass
class _Row:
    reference: str
    item_id: int
    answers: Dict[str, Any]
    details: Dict[str, Any]
    cells: Dict[str, str]  # column key -> cell address, for messages
    invalid: set = field(default_factory=set)  # question ids whose cell was already reported


def _read_key(wb, path: Path) -> Dict[str, Any]:
    if KEY_SHEET not in wb.sheetnames or SHEET not in wb.sheetnames:
        raise QattError(f"{Path(path).name} is not a QATT review template (its Key sheet is missing); "
                        "export a template with `review export-template`.")
    key = {row[0]: row[1] for row in wb[KEY_SHEET].iter_rows(values_only=True) if row and row[0]}
    if key.get("kind") != TEMPLATE_KIND:
        raise QattError(f"{Path(path).name} is not a QATT review template; export one with `review export-template`.")
    return key


def _themes(value: Any) -> Any:
    """'voc: strength; supervision: weakness' -> {voc: strength, supervision: weakness}."""
    if not isinstance(value, str):
        return value
    tagged = {}
    for part in value.replace(",", ";").split(";"):
        if part.strip():
            theme, _, polarity = part.partition(":")
            tagged[theme.strip()] = polarity.strip().lower()
    return tagged


def _read_rows(sheet, form: forms.Form, path: Path) -> Tuple[List[_Row], List[str], int]:
    rows = sheet.iter_rows(min_row=KEY_ROW, values_only=True)
    keys = list(next(rows, ()))
    expected = [k for k, _ in LEAD_COLUMNS] + [q.id for q in form.questions()] + [k for k, _ in DETAIL_COLUMNS]
    if keys[:len(expected)] != expected:
        raise QattError(f"{Path(path).name}: the hidden key row of the Reviews sheet was changed (columns were "
                        "moved, added or removed); export a fresh template.")
    letters = [get_column_letter(i) for i in range(1, len(expected) + 1)]
    problems: List[str] = []
    parsed: List[_Row] = []
    blank = 0
    for row_number, values in enumerate(rows, start=FIRST_DATA_ROW):
        values = (list(values) + [None] * len(expected))[:len(expected)]
        if all(v in (None, "") for v in values[len(LEAD_COLUMNS):]):
            blank += 1
            continue
        by_key = dict(zip(expected, values))
        row = _Row(str(by_key["reference"] or "").strip(), by_key["sample_item"], {}, {},
                   {k: f"{letter}{row_number}" for k, letter in zip(expected, letters)})
        for question in form.questions():
            value = by_key[question.id]
            if question.type == "themes":
                value = _themes(value)
            try:
                clean = forms.validate_answer(question, value)
            except QattError as exc:
                problems.append(f"case {row.reference}, cell {row.cells[question.id]}: {exc}")
                row.invalid.add(question.id)
                continue
            if clean is not None:
                row.answers[question.id] = clean
        for detail, _ in DETAIL_COLUMNS:
            value = by_key[detail]
            row.details[detail] = value.date() if isinstance(value, dt.datetime) else ("" if value is None else value)
        problems += _check_row(row, form)
        parsed.append(row)
    return parsed, problems, blank


def _check_row(row: _Row, form: forms.Form) -> List[str]:
    """Visibility, completeness and grade checks, before anything is written."""
    where = f"case {row.reference}"
    problems = []
    visible = {q.id for q in forms.visible_questions(form, row.answers)}
    for qid in row.answers:
        if qid not in visible:
            question = form.question(qid)
            problems.append(f"{where}, cell {row.cells[qid]}: question {qid} ({question.text}) does not apply "
                            "given the other answers; clear the cell.")
    grade = str(row.details["grade"]).strip()
    if not grade:
        return problems
    for question in forms.missing_required(form, row.answers):
        if question.id in row.invalid:
            continue
        problems.append(f"{where}, cell {row.cells[question.id]}: question {question.id} ({question.text}) "
                        "must be answered before the review can be submitted (or clear the grade to keep a draft).")
    picked = next((v.id for v in form.scale.values + form.scale.special
                   if grade.casefold() in (v.id.casefold(), v.label.casefold())), None)
    if picked is None:
        problems.append(f"{where}, cell {row.cells['grade']}: {grade!r} is not a grade on the {form.scale.title} "
                        f"scale; use one of {', '.join(v.label for v in form.scale.values)}.")
        return problems
    row.details["grade"] = picked
    suggested = grading.suggest_grade(form, forms.effective_answers(form, row.answers)).grade
    if suggested and picked != suggested and not str(row.details["override_rationale"]).strip():
        problems.append(f"{where}, cell {row.cells['override_rationale']}: the grade {form.scale.label(picked)} "
                        f"differs from the suggested {form.scale.label(suggested)}; write a rationale.")
    return problems


def import_filled(path: Path, actor: str) -> ImportResult:
    """Import a filled template as the actor's reviews: all rows or none."""
    try:
        wb = load_workbook(Path(path), read_only=True, data_only=False)
    except (OSError, ValueError, KeyError) as exc:
        raise QattError(f"Cannot read {Path(path).name} as an .xlsx workbook ({exc}); save it as .xlsx and retry.") from exc
    try:
        key = _read_key(wb, path)
        version = m.FormVersion.get_or_none(m.FormVersion.content_hash == key.get("form_hash"))
        if version is None:
            raise QattError(f"{Path(path).name} was made from a form version this database does not hold; "
                            "export a fresh template from this database.")
        form = forms.form_from_version(version)
        rows, problems, blank = _read_rows(wb[SHEET], form, path)
    finally:
        wb.close()
    sample_id, role = int(key["sample_id"]), str(key["role"])
    kept = [row for row in rows if not _only_prefilled(row, form, actor)]
    result = ImportResult(blank_rows=blank + len(rows) - len(kept))
    rows = kept
    with write_transaction(database_proxy.obj):
        for row in rows if not problems else ():
            try:
                _store_row(row, sample_id, role, version, actor, result)
            except QattError as exc:
                problems.append(f"case {row.reference}, row {row.cells['reference'][1:]}: {exc}")
        if problems:
            raise TemplateProblems(path, problems)
        audit.record(actor, audit.COLLECTION, "sample", sample_id,
                     {"import": "review template", "role": role, "drafts": len(result.drafts),
                      "submitted": len(result.submitted)})
    return result


def _only_prefilled(row: _Row, form: forms.Form, actor: str) -> bool:
    """A row holding nothing but the header answers the template came with counts as blank."""
    if any(v not in (None, "") for v in row.details.values()) or row.invalid:
        return False
    item = m.SampleItem.get_or_none(m.SampleItem.id == row.item_id)
    if item is None:
        return False
    filled = {qid: value for qid, (value, _origin) in prefill.prefilled_answers(form, item, actor).items()}
    return bool(filled) and row.answers == filled


def _store_row(row: _Row, sample_id: int, role: str, version: m.FormVersion, actor: str,
               result: ImportResult) -> None:
    item = m.SampleItem.get_or_none(m.SampleItem.id == row.item_id, m.SampleItem.sample == sample_id)
    if item is None or item.case.reference != row.reference:
        raise QattError("the case reference or sample item does not belong to this template's sample; "
                        "do not edit those columns.")
    review = reviews.start_review(item.id, actor, role=role, form_version=version)
    if review.status != reviews.DRAFT:
        raise QattError("your review of this case is already submitted; amend it in QATT instead.")
    current = {qid: None for qid in reviews.answers_of(review)}
    review = reviews.save_answers(review.id, {**current, **row.answers}, actor, review.version)
    review = reviews.save_details(review.id, actor, review.version, **row.details)
    if row.details["grade"]:
        review = reviews.submit_review(review.id, actor, review.version)
        result.submitted.append(review.id)
    else:
        result.drafts.append(review.id)
