"""Form commands: `forms list`, `forms check PATH`, `forms export ID FILE.xlsx`, `forms import FILE.xlsx`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Dict, List

from qatt.cli import Context, _common_options
from qatt.errors import QattError


def _forms_dir(args: argparse.Namespace) -> Path:
    from qatt.reviewing import forms

    return Path(args.forms_dir) if args.forms_dir else forms.default_forms_dir()


def _summary(form) -> Dict[str, Any]:
    return {"id": form.id, "title": form.title, "area": form.area, "version": form.version,
            "hash": form.content_hash, "questions": len(form.questions()), "file": form.source}


def _list(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.reviewing import forms

    rows = [_summary(f) for f in sorted(forms.load_forms(_forms_dir(args)).values(), key=lambda f: f.id)]
    ctx.emit(rows, "\n".join(f"{r['id']:<28} v{r['version']:<6} {r['hash'][:12]}  {r['questions']:>3} questions  "
                             f"{r['area']}: {r['title']}" for r in rows) or "no forms")
    return 0


def _check(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.reviewing import forms

    path = Path(args.path)
    if path.is_dir():
        catalogue_dir = path if (path / "_scales.yaml").is_file() else forms.default_forms_dir()
        files = forms.form_files(path)
        if not files:
            raise QattError(f"{path} holds no form files (*.yaml not starting with '_').")
    elif path.is_file():
        catalogue_dir, files = None, [path]
    else:
        raise QattError(f"{path} does not exist; give a form file or a forms folder.")
    results: List[Dict[str, Any]] = []
    for file in files:
        try:
            results.append(dict(_summary(forms.load_form(file, catalogue_dir)), ok=True))
        except QattError as exc:
            results.append({"file": str(file), "ok": False, "error": str(exc)})
    failed = [r for r in results if not r["ok"]]
    ctx.emit({"ok": not failed, "forms": results},
             "\n".join(f"ok     {r['file']} ({r['id']} v{r['version']}, {r['questions']} questions, {r['hash'][:12]})"
                       if r["ok"] else f"BROKEN {r['error']}" for r in results))
    if failed:
        sys.stderr.write(f"qatt: {len(failed)} of {len(results)} form files are broken; fix them and check again.\n")
        return 2
    return 0


def _export(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.reviewing import form_sheets, forms

    forms_dir = _forms_dir(args)
    available = forms.load_forms(forms_dir)
    if args.form_id not in available:
        raise QattError(f"There is no form {args.form_id!r}; 'forms list' shows the ids ({', '.join(sorted(available))}).")
    form = available[args.form_id]
    target = form_sheets.export_form_sheet(form, Path(args.file), forms_dir)
    ctx.emit(dict(_summary(form), file=str(target)), f"wrote {target} ({len(form.questions())} questions)")
    return 0


def _import(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.reviewing import form_sheets

    ctx.db()
    form, version, target = form_sheets.import_form_sheet(
        Path(args.file), ctx.actor, Path(args.out) if args.out else None, _forms_dir(args))
    ctx.emit(dict(_summary(form), file=str(target), form_version=version.id),
             f"saved {target}: {form.id} v{form.version}, {len(form.questions())} questions, hash {form.content_hash[:12]}")
    return 0


def _no_action(args: argparse.Namespace, ctx: Context) -> int:
    raise QattError("Choose an action: forms list | check PATH | export ID FILE.xlsx | import FILE.xlsx.")


def register(add_command) -> None:
    parser = add_command("forms", "list, check, export and import grading forms", _no_action)
    sub = parser.add_subparsers(dest="forms_command", metavar="ACTION")
    sub.required = True
    common = _common_options(top=False)
    folder = argparse.ArgumentParser(add_help=False)
    folder.add_argument("--forms-dir", help="the forms folder (default: the forms/ folder shipped with QATT)")

    def action(name: str, help: str, handler) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help, parents=[common, folder])
        p.set_defaults(handler=handler)
        return p

    action("list", "list the forms with their version, content hash and number of questions", _list)
    p = action("check", "validate a form file or a folder of forms (exit 2 if any is broken)", _check)
    p.add_argument("path", help="a form .yaml file or a folder of forms")
    p = action("export", "write a form to an .xlsx workbook, one row per question", _export)
    p.add_argument("form_id", metavar="ID")
    p.add_argument("file", metavar="FILE.xlsx")
    p = action("import", "QA lead: validate a form workbook, save it as YAML and register the version", _import)
    p.add_argument("file", metavar="FILE.xlsx")
    p.add_argument("--out", help="where to save the YAML (default: <forms folder>/<id>.yaml)")
