"""Spreadsheet authoring of forms: a QA lead edits a form as an .xlsx with one row per question.

`export_form_sheet` writes any form to that layout; `read_form_sheet` validates a workbook exactly
as a YAML file is validated (errors name the sheet, row and column) and `import_form_sheet` saves
the result as forms/<id>.yaml and registers the new version. Conditions use a compact syntax,
e.g. `m2 = no OR m3 = no`, `c3 = yes`, `x IN (a, b)`, `NOT (a = yes AND b = no)`, `x ANSWERED`.
Layout and syntax: docs/forms.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import openpyxl
import yaml
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from qatt.reviewing import form_yaml, forms
from qatt.errors import QattError
from qatt.fileio import atomic_path

FORM_SHEET, SECTIONS_SHEET, QUESTIONS_SHEET = "Form", "Sections", "Questions"
FORM_FIELDS = ("id", "title", "area", "version", "scale", "description", "sources", "grading", "themes")
SECTION_COLUMNS = ("section", "title", "help")
# Column header -> key in a question definition.
QUESTION_COLUMNS = {
    "section": None, "question id": "id", "type": "type", "text": "text", "help": "help", "required": "required",
    "condition": "show_if", "critical": "critical", "tier": "tier", "significant": "significant",
    "themes": "themes", "options": "options", "scale": "scale", "unit": "unit", "min": "min", "max": "max",
    "multiline": "multiline",
    # The rules that cannot be dodged and the header prefill (docs/forms.md).
    "n/a not allowed if": "na_not_allowed_if", "critical answers": "critical_answers",
    "counts toward compliance": "counts_toward_compliance", "prefill": "prefill", "other themes": "other_themes",
}
_BOOLEAN_WORDS = {"yes": True, "y": True, "true": True, "1": True, "x": True,
                  "no": False, "n": False, "false": False, "0": False}


# --------------------------------------------------------------------------------------------
# The compact condition syntax.

class ConditionSyntaxError(ValueError):
    def __init__(self, position: int, message: str) -> None:
        super().__init__(f"at character {position + 1}: {message}")


_TOKEN = re.compile(r"""\s*(?:(?P<punct>!=|==|=|\(|\)|,)|"(?P<dq>(?:[^"\\]|\\.)*)"|'(?P<sq>(?:[^'\\]|\\.)*)'|(?P<word>[^\s()=,!"']+))""")
_KEYWORDS = ("AND", "OR", "NOT", "IN", "ANSWERED")
_BARE_VALUE = re.compile(r"^[A-Za-z0-9_./\-]+$")


@dataclass
class _Token:
    kind: str  # punct | word | quoted | end
    text: str
    position: int

    def keyword(self) -> Optional[str]:
        return self.text.upper() if self.kind == "word" and self.text.upper() in _KEYWORDS else None


def _tokens(text: str) -> List[_Token]:
    out, position = [], 0
    while position < len(text):
        if not text[position:].strip():
            break
        match = _TOKEN.match(text, position)
        if match is None:
            start = len(text) - len(text[position:].lstrip())
            raise ConditionSyntaxError(start, f"unexpected {text[start]!r} (an unclosed quote?)")
        start = match.start(match.lastgroup)
        if match.group("punct") is not None:
            out.append(_Token("punct", "=" if match.group("punct") == "==" else match.group("punct"), start))
        elif match.group("word") is not None:
            out.append(_Token("word", match.group("word"), start))
        else:
            raw = match.group("dq") if match.group("dq") is not None else match.group("sq")
            out.append(_Token("quoted", re.sub(r"\\(.)", r"\1", raw), start - 1))
        position = match.end()
    out.append(_Token("end", "", len(text)))
    return out


class _ConditionParser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.at = 0

    def parse(self) -> Dict[str, Any]:
        condition = self._or()
        if self._peek().kind != "end":
            raise ConditionSyntaxError(self._peek().position, f"unexpected {self._peek().text!r}; join conditions with AND or OR")
        return condition

    def _peek(self) -> _Token:
        return self.tokens[self.at]

    def _next(self) -> _Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def _expect(self, text: str) -> None:
        token = self._next()
        if token.text != text or token.kind != "punct":
            raise ConditionSyntaxError(token.position, f"expected {text!r}, found {token.text or 'the end'!r}")

    def _joined(self, keyword: str, part) -> Dict[str, Any]:
        parts = [part()]
        while self._peek().keyword() == keyword:
            self._next()
            parts.append(part())
        return parts[0] if len(parts) == 1 else {"any" if keyword == "OR" else "all": parts}

    def _or(self) -> Dict[str, Any]:
        return self._joined("OR", self._and)

    def _and(self) -> Dict[str, Any]:
        return self._joined("AND", self._unary)

    def _unary(self) -> Dict[str, Any]:
        token = self._peek()
        if token.keyword() == "NOT":
            self._next()
            return {"not": self._unary()}
        if token.kind == "punct" and token.text == "(":
            self._next()
            inner = self._or()
            self._expect(")")
            return inner
        return self._comparison()

    def _value(self) -> str:
        token = self._next()
        if token.kind == "quoted" or (token.kind == "word" and not token.keyword()):
            return token.text
        raise ConditionSyntaxError(token.position, f"expected a value, found {token.text or 'the end'!r}")

    def _comparison(self) -> Dict[str, Any]:
        token = self._next()
        if token.kind != "word" or token.keyword():
            raise ConditionSyntaxError(token.position, f"expected a question id, found {token.text or 'the end'!r}")
        question = token.text
        operator = self._next()
        negate = False
        if operator.keyword() == "NOT":
            negate, operator = True, self._next()
        if operator.kind == "punct" and operator.text in ("=", "!=") and not negate:
            condition: Dict[str, Any] = {"question": question, "equals": self._value()}
            return {"not": condition} if operator.text == "!=" else condition
        if operator.keyword() == "IN":
            self._expect("(")
            values = [self._value()]
            while self._peek().text == "," and self._peek().kind == "punct":
                self._next()
                values.append(self._value())
            self._expect(")")
            condition = {"question": question, "in": values}
        elif operator.keyword() == "ANSWERED":
            condition = {"question": question, "answered": True}
        else:
            raise ConditionSyntaxError(operator.position, f"after {question!r} expected =, !=, IN (...) or ANSWERED, "
                                                          f"found {operator.text or 'the end'!r}")
        return {"not": condition} if negate else condition


def parse_condition(text: str) -> Dict[str, Any]:
    """Compact syntax -> a show_if dict (values stay text; the form loader types them)."""
    return _ConditionParser(text).parse()


def _format_value(value: Any) -> str:
    text = str(value)
    if _BARE_VALUE.match(text) and text.upper() not in _KEYWORDS:
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_condition(condition: forms.Condition, outer: int = 0) -> str:
    """A Condition in the compact syntax; parse_condition reads it back to the same logic."""
    # Binding strength: OR 1, AND 2, NOT and single comparisons 3; wrap weaker parts in brackets.
    if isinstance(condition, forms.Any_):
        text, strength = " OR ".join(format_condition(c, 1) for c in condition.conditions), 1
    elif isinstance(condition, forms.All):
        text, strength = " AND ".join(format_condition(c, 2) for c in condition.conditions), 2
    elif isinstance(condition, forms.Not):
        text, strength = "NOT " + format_condition(condition.condition, 3), 3
    elif isinstance(condition, forms.Equals):
        text, strength = f"{condition.question} = {_format_value(condition.value)}", 3
    elif isinstance(condition, forms.In):
        text, strength = f"{condition.question} IN ({', '.join(_format_value(v) for v in condition.values)})", 3
    else:
        text, strength = f"{condition.question} ANSWERED", 3
    return f"({text})" if strength < outer else text


# --------------------------------------------------------------------------------------------
# Options: `id: Label; id2: Label2` or `Label; Label2`. A ';' inside a label is written '\;'.

def parse_options(text: str) -> List[Any]:
    options: List[Any] = []
    for part in re.split(r"(?<!\\);", text):
        part = part.replace("\\;", ";").strip()
        if not part:
            continue
        match = re.match(r"^([a-z0-9_]+)\s*:\s*(.+)$", part)
        options.append({"id": match.group(1), "label": match.group(2).strip()} if match else part)
    return options


def format_options(question: forms.Question) -> str:
    if question.type == "themes":
        return "; ".join(o.id for o in question.options)
    return "; ".join(f"{o.id}: {o.label.replace(';', chr(92) + ';')}" for o in question.options)


# --------------------------------------------------------------------------------------------
# Export.

def _yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def _number_text(value: Optional[float]) -> Any:
    return "" if value is None else value


def _write_row(sheet: Worksheet, values: Sequence[Any]) -> None:
    sheet.append(list(values))
    for cell in sheet[sheet.max_row]:
        # Text such as "=1+1" must stay text, never become a live formula.
        if isinstance(cell.value, str) and cell.value.startswith("="):
            cell.data_type = "s"


def form_definition(form: forms.Form) -> Dict[str, Any]:
    """The form as an authoring-format dict (includes resolved), ready to save as YAML."""
    definition = {k: v for k, v in form.content.items() if k not in ("scales", "theme_labels")}
    for key in ("description", "sources"):
        if not definition.get(key):
            definition.pop(key, None)
    return definition


def form_to_yaml(form: forms.Form) -> str:
    return yaml.safe_dump(form_definition(form), sort_keys=False, allow_unicode=True, width=110)


def export_form_sheet(form: forms.Form, path: Path, forms_dir: Optional[Path] = None) -> Path:
    """Write the form to an .xlsx (sheets Form, Sections, Questions), atomically."""
    all_themes = list(forms.load_catalogue(forms_dir or forms.default_forms_dir()).themes)
    workbook = openpyxl.Workbook()
    form_sheet = workbook.active
    form_sheet.title = FORM_SHEET
    _write_row(form_sheet, ("field", "value"))
    grading = yaml.safe_dump(form.grading.to_dict(), sort_keys=False, default_flow_style=None, width=200).strip()
    for name, value in (("id", form.id), ("title", form.title), ("area", form.area), ("version", form.version),
                        ("scale", form.scale.id), ("description", form.description),
                        ("sources", ", ".join(form.sources)), ("grading", grading), ("themes", ", ".join(form.themes))):
        _write_row(form_sheet, (name, value))
    sections_sheet = workbook.create_sheet(SECTIONS_SHEET)
    _write_row(sections_sheet, SECTION_COLUMNS)
    questions_sheet = workbook.create_sheet(QUESTIONS_SHEET)
    _write_row(questions_sheet, tuple(QUESTION_COLUMNS))
    for section in form.sections:
        _write_row(sections_sheet, (section.id, section.title, section.help))
        for q in section.questions:
            # An unrestricted themes question is left blank so it keeps offering the whole list.
            unrestricted = q.type == "themes" and [o.id for o in q.options] == all_themes
            _write_row(questions_sheet, (
                section.id, q.id, q.type, q.text, q.help, _yes_no(q.required),
                format_condition(q.show_if) if q.show_if is not None else "",
                "yes" if q.critical else "", q.tier or "", "yes" if q.significant else "", ", ".join(q.themes),
                "" if unrestricted else format_options(q), q.scale.id if q.scale else "", q.unit,
                _number_text(q.min), _number_text(q.max), "yes" if q.multiline else "",
                format_condition(q.na_not_allowed_if) if q.na_not_allowed_if is not None else "",
                ", ".join(str(v) for v in q.critical_answers), "" if q.counts_toward_compliance else "no",
                yaml.safe_dump(q.prefill, default_flow_style=True, width=1000).strip() if q.prefill else "",
                "yes" if q.more_options else ""))
    for sheet, widths in ((form_sheet, (14, 80)), (sections_sheet, (20, 40, 60)),
                          (questions_sheet, (16, 16, 12, 60, 40, 9, 36, 8, 8, 11, 24, 40, 12, 8, 6, 6, 9,
                                             30, 16, 12, 40, 9))):
        for index, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = "A2"
    with atomic_path(Path(path), ".xlsx") as tmp:
        workbook.save(tmp)
    return Path(path)


# --------------------------------------------------------------------------------------------
# Import.

@dataclass
class _Cell:
    """Where a value came from, to name it in an error."""

    sheet: str
    row: int
    column: int
    header: str

    def describe(self, file: Path) -> str:
        return f"{file.name}, sheet {self.sheet}, row {self.row}, column {get_column_letter(self.column)} ({self.header})"


class _SheetReader:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.workbook = openpyxl.load_workbook(self.path, read_only=True, data_only=False)
        except FileNotFoundError:
            raise QattError(f"{self.path} does not exist.") from None
        except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
            raise QattError(f"{self.path} is not a readable .xlsx workbook ({type(exc).__name__}); "
                            "save it from Excel as .xlsx and try again.") from None
        # path in the definition -> the cell it came from
        self.cells: Dict[Tuple[Any, ...], _Cell] = {}
        self.form_rows: Dict[str, _Cell] = {}
        self.section_rows: Dict[str, _Cell] = {}

    def fail(self, cell: _Cell, message: str) -> QattError:
        return QattError(f"{cell.describe(self.path)}: {message}.")

    def _rows(self, name: str, required: bool = True) -> Tuple[Dict[str, int], List[Tuple[int, Tuple[Any, ...]]]]:
        if name not in self.workbook.sheetnames:
            if not required:
                return {}, []
            raise QattError(f"{self.path.name} has no sheet named {name!r}; export a form to see the layout.")
        rows = list(self.workbook[name].iter_rows(values_only=True))
        if not rows:
            raise QattError(f"{self.path.name}, sheet {name}: the sheet is empty; its first row holds the column names.")
        header = {str(h).strip().lower(): i for i, h in enumerate(rows[0]) if h is not None and str(h).strip()}
        body = [(n, row) for n, row in enumerate(rows[1:], start=2) if any(_text(v) for v in row)]
        return header, body

    def read(self) -> Dict[str, Any]:
        definition = self._form_fields()
        sections_meta = self._sections()
        definition["sections"] = self._questions(sections_meta)
        return definition

    def _form_fields(self) -> Dict[str, Any]:
        _, body = self._rows(FORM_SHEET)
        definition: Dict[str, Any] = {}
        for row_number, row in body:
            name = _text(row[0]).lower() if row else ""
            value = row[1] if len(row) > 1 else None
            cell = _Cell(FORM_SHEET, row_number, 2, name or "value")
            if name not in FORM_FIELDS:
                raise self.fail(_Cell(FORM_SHEET, row_number, 1, "field"),
                                f"unknown field {name!r}; use {', '.join(FORM_FIELDS)}")
            self.form_rows[name] = cell
            if not _text(value):
                continue
            if name in ("sources", "themes"):
                definition[name] = [s.strip() for s in _text(value).split(",") if s.strip()]
            elif name == "grading":
                try:
                    definition[name] = yaml.load(_text(value), Loader=form_yaml.FormYamlLoader)  # noqa: S506
                except yaml.YAMLError as exc:
                    raise self.fail(cell, f"the grading rules are not valid YAML ({getattr(exc, 'problem', exc)})") from None
            else:
                definition[name] = _text(value)
        return definition

    def _sections(self) -> Dict[str, Dict[str, Any]]:
        header, body = self._rows(SECTIONS_SHEET, required=False)
        meta: Dict[str, Dict[str, Any]] = {}
        for row_number, row in body:
            values = {col: _text(row[header[col]]) if col in header and header[col] < len(row) else ""
                      for col in SECTION_COLUMNS}
            self.section_rows[values["section"]] = _Cell(SECTIONS_SHEET, row_number, header.get("section", 0) + 1, "section")
            meta[values["section"]] = {"title": values["title"], "help": values["help"]}
        return meta

    def _questions(self, sections_meta: Mapping[str, Mapping[str, Any]]) -> List[Dict[str, Any]]:
        header, body = self._rows(QUESTIONS_SHEET)
        for needed in ("question id", "type", "text"):
            if needed not in header:
                raise QattError(f"{self.path.name}, sheet {QUESTIONS_SHEET}, row 1: the column {needed!r} is missing; "
                                f"the columns are {', '.join(QUESTION_COLUMNS)}.")
        sections: List[Dict[str, Any]] = []
        section_index: Dict[str, int] = {}
        current = ""
        for row_number, row in body:
            def cell(column: str) -> Tuple[Any, _Cell]:
                index = header.get(column)
                value = row[index] if index is not None and index < len(row) else None
                return value, _Cell(QUESTIONS_SHEET, row_number, (index if index is not None else 0) + 1, column)

            section_value, section_cell = cell("section")
            # A blank section cell means "the same section as the row above".
            current = _text(section_value) or current
            if not current:
                raise self.fail(section_cell, "give the section id of the first question")
            if current not in section_index:
                meta = sections_meta.get(current, {})
                section_index[current] = len(sections)
                sections.append({"id": current, "title": meta.get("title") or current.replace("_", " ").capitalize(),
                                 "help": meta.get("help", ""), "questions": []})
                self.cells[("sections", section_index[current])] = self.section_rows.get(current, section_cell)
            s = section_index[current]
            question: Dict[str, Any] = {}
            q = len(sections[s]["questions"])
            for column, key in QUESTION_COLUMNS.items():
                if key is None:
                    continue
                value, where = cell(column)
                self.cells[("sections", s, "questions", q, key)] = where
                if _text(value) == "":
                    continue
                question[key] = self._value(key, value, where)
            self.cells[("sections", s, "questions", q)] = cell("question id")[1]
            sections[s]["questions"].append(question)
        for section in sections:
            if not section["help"]:
                del section["help"]
        return sections

    def _value(self, key: str, value: Any, where: _Cell) -> Any:
        text = _text(value)
        if key in ("required", "critical", "significant", "multiline", "counts_toward_compliance", "other_themes"):
            if text.lower() not in _BOOLEAN_WORDS:
                raise self.fail(where, f"write yes or no, not {text!r}")
            return _BOOLEAN_WORDS[text.lower()]
        if key in ("min", "max"):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return value
            try:
                return float(text) if re.search(r"[.eE]", text) else int(text)
            except ValueError:
                raise self.fail(where, f"write a number, not {text!r}") from None
        if key == "critical_answers":
            return [t.strip() for t in re.split(r"[,;]", text) if t.strip()]
        if key == "prefill":
            try:
                parsed = yaml.load(text, Loader=form_yaml.FormYamlLoader)  # noqa: S506
            except yaml.YAMLError as exc:
                raise self.fail(where, f"the prefill is not valid YAML ({getattr(exc, 'problem', exc)}); write e.g. "
                                       "{columns: [ViSOR ref], case_field: reference}") from None
            return parsed
        if key in ("show_if", "na_not_allowed_if"):
            try:
                return parse_condition(text)
            except ConditionSyntaxError as exc:
                raise self.fail(where, f"the condition {text!r} cannot be read {exc}; write e.g. "
                                       "'m2 = no OR m3 = no', 'x IN (a, b)', 'NOT (x = yes)' or 'x ANSWERED'") from None
        if key == "themes":
            return [t.strip() for t in re.split(r"[,;]", text) if t.strip()]
        if key == "options":
            return parse_options(text)
        if key == "type":
            return re.sub(r"[\s/]+", "_", text.lower())
        return text

    def where(self, path: Sequence[Any]) -> str:
        """Name the cell a definition path came from."""
        path = tuple(path)
        if path and path[0] in self.form_rows:
            detail = f" at {forms.dotted(path)}" if len(path) > 1 else ""
            return self.form_rows[path[0]].describe(self.path) + detail
        for length in range(min(len(path), 5), 0, -1):
            cell = self.cells.get(path[:length])
            if cell is not None:
                return cell.describe(self.path)
        return f"{self.path.name}, sheet {FORM_SHEET}" + (f" ({forms.dotted(path)})" if path else "")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def read_form_sheet(path: Path, forms_dir: Optional[Path] = None) -> forms.Form:
    """Read and validate a form workbook; a problem names the sheet, row and column."""
    reader = _SheetReader(Path(path))
    definition = reader.read()
    catalogue = forms.load_catalogue(forms_dir or forms.default_forms_dir())
    return forms.build_form(definition, catalogue, str(path), reader.where)


def import_form_sheet(path: Path, actor: str, out: Optional[Path] = None, forms_dir: Optional[Path] = None):
    """QA lead only: validate the workbook, save it as YAML (default forms/<id>.yaml) and register
    the version. Returns (form, form_version, yaml_path)."""
    from qatt.trust import users

    users.require_role(actor, "qa_lead", "change a form")
    forms_dir = Path(forms_dir) if forms_dir is not None else forms.default_forms_dir()
    form = read_form_sheet(path, forms_dir)
    target = Path(out) if out is not None else forms_dir / f"{form.id}.yaml"
    with atomic_path(target, ".yaml") as tmp:
        tmp.write_text(f"# Imported from {Path(path).name}\n" + form_to_yaml(form), encoding="utf-8")
    saved = forms.load_form(target, forms_dir)
    version = forms.register_form_version(saved, actor)
    return saved, version, target
