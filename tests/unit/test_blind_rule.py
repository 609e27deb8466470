"""The blind rule everywhere: every CLI command and every export, run as a blinded moderator and as
a reviewer, shows nothing of a first review they may not see.

The commands are discovered from the CLI parser and the reports from exports.run.REPORTS, so a new
command or report fails this test until it is listed below (and so run). Two proofs per run:
- no marker written into the first review (texts, answers, action, case study) appears in any
  output (stdout, stderr, files written);
- the output is the same, once times and hashes are masked, whether the first review was graded
  Good with one set of answers or Inadequate with another: not even a count gives it away.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
from pathlib import Path
from typing import Dict, List

import pytest
from openpyxl import load_workbook

from qatt.reviewing import case_studies, reviews
from qatt.cli import build_parser, main
from qatt.storage import db as dbmod
from tests.conftest import mark_training
from tests.factories import form_dict, make_population, make_sample, make_user, sample_items, write_form

VARIANTS = {
    "alpha": {"answers": {"c1": "yes", "c2": "yes", "c3": "yes", "c3_days": 2, "c9": "effective",
                          "notes": "Zq9alphaNOTE"}},
    "bravo": {"answers": {"c1": "no", "c2": "no", "c3": "no", "c9": "weak", "notes": "Zq9bravoNOTE"}},
}
MARKER = re.compile(r"Zq9(alpha|bravo)", re.IGNORECASE)

# Every command path, with the argument lists it is run with. {placeholders} are filled per world.
COMMANDS: Dict[str, List[List[str]]] = {
    "agreement": [["--sample", "{sample}"]],
    "audit": [["verify"], ["export", "--out", "{out}/log.csv"]],
    "purge": [["--before", "2099-01-01", "--yes"]],
    "migrate": [[]],
    "users": [[]],
    "export xlsx": [["--out", "{out}/qa.xlsx", "--purpose", "blind-rule test", "--recipient", "QA team"]],
    "export pdf": [["--report", "feedback", "--review", "{first}", "--out", "{out}/feedback.pdf", "--purpose", "blind-rule test", "--recipient", "QA team"],
                   ["--report", "monthly", "--out", "{out}/monthly.pdf", "--purpose", "blind-rule test", "--recipient", "QA team"],
                   ["--report", "pack", "--out", "{out}/pack.pdf", "--purpose", "blind-rule test", "--recipient", "QA team"]],
    "forms list": [["--forms-dir", "{forms}"]],
    "forms check": [["{forms}"]],
    "forms export": [["test_form", "{out}/form.xlsx", "--forms-dir", "{forms}"]],
    "forms import": [["{world}/form.xlsx", "--out", "{out}/form.yaml", "--forms-dir", "{forms}"]],
    "import": [["{world}/extract.csv", "--name", "More cases"]],
    "populations": [[]],
    "demo": [["--cases", "12"]],
    "mappings": [[]],
    "review show": [["{first}"], ["{other}"]],
    "review export-template": [["{sample}", "{out}/first.xlsx", "--forms-dir", "{forms}"],
                               ["{sample}", "{out}/second.xlsx", "--role", "second", "--forms-dir", "{forms}"]],
    "review import": [["{world}/template.xlsx"]],
    "assign": [["{sample}", "--reviewer", "sup.a", "--role", "second"]],
    "plan create": [["Monthly", "--kind", "fixed", "--size", "1", "--reviewer", "sup.a"]],
    "plan list": [[]],
    "plan run": [["Standing", "--period", "2024-06", "--seed", "3"]],
    "case-study": [["{first}", "--kind", "poor", "--title", "Again", "--summary", "Again"]],
    "case-studies": [[], ["--suggested"]],
    "completion": [[]],
    "sample": [["{population}", "--size", "1", "--seed", "5"]],
    "samples": [[]],
    "sample-items": [["{sample}"]],
    "verify-sample": [["{sample}"]],
    "replace": [["{sample}", "REF0003", "--reason", "wrong area"]],
    "sample-size": [["--confidence", "95", "--tolerable", "5"]],
    "about": [[]],
    "backup": [["--out", "{out}/copy.sqlite3"]],
    "restore": [["{world}/world.sqlite3", "--yes"]],
    "check-backup": [["{world}/world.sqlite3"]],
    "plan completion": [[]],
    "targets": [[]],
    "action list": [[], ["--overdue"]],
    "action history": [["{action}"]],
    "action update": [["{action}", "--status", "in progress"]],
    "feedback acknowledge": [["{first}"]],
    "narrative show": [["Domestic abuse referrals", "--from", "2024-05", "--to", "2024-05"]],
    "narrative edit": [["Domestic abuse referrals", "--from", "2024-05", "--to", "2024-05",
                        "--judgement", "Requires improvement"]],
    "narrative history": [["Domestic abuse referrals"]],
    "register list": [[]],
    "register show": [["2021-R1"]],
    "register add": [["LOCAL-1", "A commitment made locally"]],
    "register update": [["2021-R1", "--owner", "lead"]],
    "register note": [["2021-R1", "Progress reviewed"]],
    "register link": [["2021-R1", "--kind", "review", "--ref", "{first}"],
                      ["2021-R1", "--kind", "action", "--ref", "{action}"]],
    "register export": [["--out", "{out}/plan.xlsx"]],
    "register import": [["{world}/register.xlsx"]],
    "calibration": [[], ["--from", "2024-05", "--to", "2024-05"]],
    "estimate": [["--period", "2024-05"]],
    "exercise": [["list"], ["create", "--name", "Standardisation", "--form", "test_form", "--cases", "REF0001,REF0002"]],
    "pairs-needed": [["--margin", "0.15"], ["--per-reviewer", "2"]],
}
# viewer -> who holds the draft second review in the world they look at: a blinded moderator, a
# blinded QA lead (who may run every report) and a reviewer with no part in the case.
VIEWERS = {"mod": "mod", "lead2": "lead2", "sup.a": "mod"}
# Commands whose file is a copy of the whole database: only what they print is checked. On SQLite
# whoever may run QATT can read the database file itself, so the blind rule governs QATT's outputs,
# not file access (docs/audit.md, "Enforced or detectable").
WHOLE_DATABASE_COPIES = {"backup"}


def command_paths(parser: argparse.ArgumentParser, path=()) -> List[str]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return [" ".join(path)]
    return [found for action in subs for name, child in action.choices.items()
            for found in command_paths(child, path + (name,))]


def test_every_command_and_report_is_listed():
    assert sorted(command_paths(build_parser())) == sorted(COMMANDS)
    from exports.run import REPORTS

    exported = {"workbook"} | {args[args.index("--report") + 1] for args in COMMANDS["export pdf"]}
    assert exported == set(REPORTS)


def _build_world(folder: Path, variant: str, holder: str) -> Dict[str, str]:
    """A database where sup.b's first review of REF0001 is submitted and `holder` holds its second in draft."""
    from qatt import demo
    from qatt.reviewing import form_sheets, forms, review_sheets
    from qatt.storage import models as m

    folder.mkdir()
    forms_dir = folder / "forms"
    write_form(forms_dir, form_dict())
    db = dbmod.open_database(str(folder / "world.sqlite3"))
    try:
        mark_training(db)  # the viewers are played by one operating-system account
        make_user("lead", "qa_lead")
        make_user("mod", "moderator")
        make_user("lead2", "qa_lead")
        make_user("sup.a")
        make_user("sup.b")
        population = make_population(4, supervisor="sup.b")
        sample = make_sample(population, form_id="test_form", period="2024-05")
        items = sample_items(sample)
        first = reviews.start_review(items[0].id, "sup.b", forms_dir=forms_dir)
        first = reviews.save_answers(first.id, VARIANTS[variant]["answers"], "sup.b", first.version)
        first = reviews.save_details(first.id, "sup.b", first.version, strengths=f"Zq9{variant}STRENGTH",
                                     improvements=f"Zq9{variant}IMPROVE", feedback=f"Zq9{variant}FEEDBACK")
        first = reviews.submit_review(first.id, "sup.b", first.version)
        action = reviews.add_action(first.id, "sup.b", f"Zq9{variant}ACTION", owner="sup.b")
        case_studies.record_case_study(first.id, "lead", "good", f"Zq9{variant}TITLE", f"Zq9{variant}SUMMARY")
        second = reviews.start_review(items[0].id, holder, role="second", forms_dir=forms_dir)
        reviews.save_answers(second.id, {"c1": "yes"}, holder, second.version)
        # A review both viewers' roles allow a moderator to see: the same in both worlds.
        other = reviews.start_review(items[1].id, "sup.b", forms_dir=forms_dir)
        other = reviews.save_answers(other.id, VARIANTS["alpha"]["answers"] | {"notes": "plain"}, "sup.b",
                                     other.version)
        reviews.submit_review(other.id, "sup.b", other.version)
        from qatt.selection import assignments

        assignments.create_plan("Standing", {"kind": "fixed", "size": 1, "reviewer": "sup.a"}, "lead")
        review_sheets.export_template(sample.id, folder / "template.xlsx", actor="lead", forms_dir=forms_dir)
        form_sheets.export_form_sheet(forms.load_forms(forms_dir)["test_form"], folder / "form.xlsx", forms_dir)
        demo.write_csv(folder / "extract.csv", 5, 1)
        from qatt.loop import register

        register.export_xlsx(folder / "register.xlsx")
        ids = {"action": str(action.id), "sample": str(sample.id), "first": str(first.id), "other": str(other.id),
               "population": str(population.id), "forms": str(forms_dir), "world": str(folder)}
        assert m.Review.select().count() == 3
    finally:
        db.close()
    return ids


@pytest.fixture(scope="module")
def worlds(tmp_path_factory):
    base = tmp_path_factory.mktemp("blind")
    return {(holder, variant): (base / f"{holder}-{variant}", _build_world(base / f"{holder}-{variant}", variant, holder))
            for holder in set(VIEWERS.values()) for variant in VARIANTS}


def _file_text(path: Path) -> str:
    if path.suffix == ".xlsx":
        wb = load_workbook(path, read_only=True)
        return "\n".join(f"[{ws.title}] " + " | ".join("" if v is None else str(v) for v in row)
                         for ws in wb.worksheets for row in ws.iter_rows(values_only=True))
    if path.suffix == ".pdf":
        from pypdf import PdfReader

        return "\n".join(page.extract_text() for page in PdfReader(str(path)).pages)
    return path.read_text(encoding="utf-8", errors="replace")


def _run(world: Path, ids: Dict[str, str], run_dir: Path, viewer: str, args: List[str], as_json: bool,
         capsys, read_files: bool = True) -> str:
    """Run one command on a fresh copy of the world; return everything it showed or wrote."""
    run_dir.mkdir(parents=True)
    database = run_dir / "qatt.sqlite3"
    shutil.copyfile(world / "world.sqlite3", database)
    out = run_dir / "out"
    out.mkdir()
    filled = [a.format(out=out, **ids) for a in args]
    code = main(["--db", str(database), "--user", viewer, *(["--json"] if as_json else []), *filled])
    captured = capsys.readouterr()
    parts = [f"exit {code}", captured.out, captured.err]
    for path in sorted(out.iterdir()) if read_files else []:
        parts.append(f"== {path.name}\n{_file_text(path)}")
    return "\n".join(parts).replace(str(run_dir), "<run>").replace(ids["world"], "<world>")


_MASKS = [
    (re.compile(r"\b[0-9a-f]{12,64}\b"), "<hash>"),
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?"), "<time>"),
    (re.compile(r"\b\d{1,2} \w{3,9} \d{4},? \d{2}:\d{2}(:\d{2})?( UTC)?"), "<time>"),
    (re.compile(r"\b\d{2}:\d{2}(:\d{2})?\b"), "<time>"),
    (re.compile(r"\d{8}-\d{6}"), "<time>"),
]


def _masked(text: str) -> str:
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return text


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_no_command_shows_a_first_review_to_someone_blind_to_it(worlds, command, viewer, tmp_path, capsys):
    for number, args in enumerate(COMMANDS[command]):
        for as_json in (True, False):
            seen = {}
            for variant in VARIANTS:
                world, ids = worlds[VIEWERS[viewer], variant]
                run_dir = tmp_path / f"{number}-{as_json}-{variant}"
                text = _run(world, ids, run_dir, viewer, command.split() + args, as_json, capsys,
                            read_files=command not in WHOLE_DATABASE_COPIES)
                if command.startswith("export") and "feedback" not in args and viewer == "lead2":
                    # The blinded QA lead may run the whole-period exports: they must really run (not stop
                    # at a usage error) for the checks below to prove anything.
                    assert text.startswith("exit 0"), text[:400]
                found = MARKER.search(text)
                assert found is None, (f"`{command} {' '.join(args)}` showed {viewer} the first review's "
                                       f"{found.group(0)!r}:\n{text[max(0, found.start() - 300):found.end() + 100]}")
                seen[variant] = _masked(text)
            assert seen["alpha"] == seen["bravo"], (
                f"`{command} {' '.join(args)}` ({'json' if as_json else 'text'}) differs for {viewer} with the first "
                f"review's grade and answers:\n" + _diff(seen["alpha"], seen["bravo"]))


def _diff(a: str, b: str) -> str:
    import difflib

    return "\n".join(list(difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=1))[:40])


def test_the_moderator_sees_the_first_review_once_their_own_is_submitted(worlds, tmp_path, capsys):
    """The test above is not passing by accident: the same commands do show the review when allowed."""
    world, ids = worlds["mod", "bravo"]
    text = _run(world, ids, tmp_path / "lead", "lead", ["review", "show", ids["first"]], False, capsys)
    assert "Zq9bravoNOTE" in text and "inadequate" in text
    text = _run(world, ids, tmp_path / "lead-cs", "lead", ["case-studies", "--json"], False, capsys)
    assert "Zq9bravoTITLE" in text
    text = _run(world, ids, tmp_path / "lead-pdf", "lead",
                ["export", "pdf", "--report", "feedback", "--review", ids["first"], "--out", "{out}/f.pdf",
                 "--purpose", "blind-rule test", "--recipient", "QA team"],
                False, capsys)
    assert "Zq9bravoFEEDBACK" in text
