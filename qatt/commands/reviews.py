"""Review commands: `review show|export-template|import`, `assign`, `plan create|list|run`, `completion`,
`case-study`, `case-studies`."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from qatt.cli import Context, _common_options
from qatt.errors import QattError


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write it as YYYY-MM-DD") from None


def _show(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.reviewing import case_studies, reviews

    ctx.db()
    view = reviews.get_review_view(args.review_id, ctx.actor)
    form = reviews.form_of(reviews.get_review(view.id))
    lines = [f"Review {view.id}: case {view.case_reference}, {view.role} review by {view.reviewer} ({view.status}, "
             f"version {view.version})",
             f"Form: {view.form_id} v{view.form_version} (hash {view.form_hash[:12]})"]
    for question in form.questions():
        if question.id in view.answers:
            lines.append(f"  {question.id:<12} {question.text}: {view.answers[question.id]}")
    if view.compliance and view.compliance["rate"] is not None:
        lines.append(f"Compliance: {view.compliance['rate']:.0%} ({view.compliance['yes']} yes, "
                     f"{view.compliance['no']} no, {view.compliance['na']} N/A)")
    if view.grade or view.suggested_grade:
        lines.append(f"Grade: {view.grade or '-'} (suggested: {view.suggested_grade or '-'})")
    if view.override_rationale:
        lines.append(f"Rationale: {view.override_rationale}")
    for name in ("strengths", "improvements", "feedback", "feedback_date"):
        if getattr(view, name):
            lines.append(f"{name.replace('_', ' ').capitalize()}: {getattr(view, name)}")
    for action in view.actions:
        lines.append(f"Action {action['id']} [{action['status']}] {action['text']} "
                     f"(owner {action['owner'] or '-'}, due {action['due_date'] or '-'})")
    study = case_studies.case_study_of(view.id)
    if study is not None:
        lines.append(f"{case_studies.KIND_LABELS[study.kind]} case study: {study.title}. {study.summary}")
    ctx.emit({**view.as_dict(), "case_study": study.as_dict() if study else None}, "\n".join(lines))
    return 0


def _export_template(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.reviewing import review_sheets

    ctx.db()
    rows = review_sheets.export_template(args.sample_id, Path(args.file), role=args.role, actor=ctx.actor,
                                         forms_dir=Path(args.forms_dir) if args.forms_dir else None)
    ctx.emit({"file": args.file, "cases": rows, "role": args.role},
             f"wrote {args.file}: {rows} cases for the {args.role} review")
    return 0


def _import(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.reviewing import review_sheets

    ctx.db()
    result = review_sheets.import_filled(Path(args.file), ctx.actor)
    ctx.emit(result.as_dict(), f"imported {len(result.submitted)} submitted and {len(result.drafts)} draft reviews "
                               f"({result.blank_rows} blank rows skipped)")
    return 0


def _assign(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.selection import assignments

    ctx.db()
    item_ids = assignments.items_to_review(args.sample_id)
    made = assignments.assign(item_ids, args.reviewer, ctx.actor, role=args.role, due_date=args.due)
    ctx.emit({"sample_id": args.sample_id, "reviewer": args.reviewer, "role": args.role, "assigned": len(made),
              "due_date": args.due}, f"assigned {len(made)} cases of sample {args.sample_id} to {args.reviewer} "
                                     f"({args.role} review{', due ' + args.due.isoformat() if args.due else ''})")
    return 0


def _plan_create(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.selection import assignments

    ctx.db()
    params = {"kind": args.kind}
    for key in ("per_reviewer", "size", "reviewer", "status", "area", "form_id", "role", "exclude_months",
                "window_months"):
        if getattr(args, key) is not None:
            params[key] = getattr(args, key)
    if args.population is not None:
        params["population"] = int(args.population) if args.population.isdigit() else args.population
    plan = assignments.create_plan(args.name, params, ctx.actor)
    ctx.emit({"name": plan.name, "params": plan.params}, f"created plan {plan.name!r}")
    return 0


def _plan_list(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.selection import assignments

    ctx.db()
    rows = [{"name": p.name, "params": p.params, "active": p.active, "created_by": p.created_by}
            for p in assignments.list_plans()]
    ctx.emit(rows, "\n".join(f"{r['name']:<30} {r['params']}" for r in rows) or "no plans")
    return 0


def _plan_run(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.selection import assignments

    ctx.db()
    run = assignments.run_plan(args.name, args.period, ctx.actor, seed=args.seed)
    lines = [f"plan {run.plan!r} for {run.period}: sample {run.sample_id} (seed {run.seed})"]
    lines += [f"  {reviewer:<24} {count} cases" for reviewer, count in run.assigned.items()]
    if run.unassigned:
        lines.append(f"  {len(run.unassigned)} cases have no supervisor recorded; assign them by hand")
    ctx.emit(run.as_dict(), "\n".join(lines))
    return 0


def _completion(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.selection import assignments

    ctx.db()
    rows = assignments.completion(period=args.period, reviewer=args.reviewer)
    header = f"{'reviewer':<24} {'period':<8} {'assigned':>8} {'started':>8} {'submitted':>9} {'overdue':>7}"
    lines = [header] + [f"{r.reviewer:<24} {r.period:<8} {r.assigned:>8} {r.in_progress:>8} {r.submitted:>9} "
                        f"{r.overdue:>7}" for r in rows]
    ctx.emit([r.as_dict() for r in rows], "\n".join(lines) if rows else "no assignments")
    return 0


def _case_study(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.reviewing import case_studies

    ctx.db()
    if args.remove:
        if args.kind or args.title or args.summary:
            raise QattError("--remove takes no --kind, --title or --summary.")
        case_studies.remove_case_study(args.review_id, ctx.actor)
        ctx.emit({"review": args.review_id, "case_study": None}, f"review {args.review_id} is no longer a case study")
        return 0
    if not args.kind:
        raise QattError("Say what the case study shows: --kind good or --kind poor (or --remove).")
    study = case_studies.record_case_study(args.review_id, ctx.actor, args.kind, args.title or "", args.summary or "")
    ctx.emit({"review": args.review_id, "case_study": {"kind": study.kind, "title": study.title, "summary": study.summary}},
             f"review {args.review_id} is a {case_studies.KIND_LABELS[study.kind].lower()} case study: {study.title}")
    return 0


def _case_studies(args: argparse.Namespace, ctx: Context) -> int:
    from qatt import reports
    from qatt.reviewing import case_studies

    ctx.db()
    if args.suggested:
        suggested = case_studies.suggested_case_studies(ctx.actor, args.period_from or "", args.period_to or "",
                                                        args.area or [])
        lines = [f"review {s.review_id:<6} {s.kind_label:<14} {s.area} ({s.period}), case {s.case_reference}, "
                 f"suggested by {s.reviewer}" for s in suggested]
        lines += ["choose one with `case-study REVIEW_ID --kind good|poor --title ... --summary ...` "
                  "(an account without names)"] if suggested else []
        ctx.emit([s.as_dict() for s in suggested], "\n".join(lines) if suggested else "no suggested case studies")
        return 0
    flt = reports.ReportFilter(args.period_from or "", args.period_to or "", args.area or [], viewer=ctx.actor)
    rows = reports.case_studies(flt, reports.Vocabulary.load())
    lines = [f"review {r.review_id:<6} {r.kind_label:<14} {r.area} ({r.period}): {r.title}" for r in rows]
    ctx.emit([r.as_dict() for r in rows], "\n".join(lines) if rows else "no case studies")
    return 0


def _choose(actions: str):
    def handler(args: argparse.Namespace, ctx: Context) -> int:
        raise QattError(f"Choose an action: {actions}.")
    return handler


def _subcommands(parser: argparse.ArgumentParser, dest: str):
    sub = parser.add_subparsers(dest=dest, metavar="ACTION")
    sub.required = True
    common = _common_options(top=False)

    def action(name: str, help: str, handler) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help, parents=[common])
        p.set_defaults(handler=handler)
        return p
    return action


def register(add_command) -> None:
    review = _subcommands(add_command("review", "show reviews; export and import review spreadsheets",
                                      _choose("review show ID | export-template SAMPLE_ID FILE.xlsx | import FILE.xlsx")),
                          "review_command")
    p = review("show", "show a review (blind second review rules apply; others' reviews are audited)", _show)
    p.add_argument("review_id", type=int, metavar="REVIEW_ID")
    p = review("export-template", "write an .xlsx review template: one row per case, one column per question",
               _export_template)
    p.add_argument("sample_id", type=int, metavar="SAMPLE_ID")
    p.add_argument("file", metavar="FILE.xlsx")
    p.add_argument("--role", choices=["first", "second"], default="first")
    p.add_argument("--forms-dir", help="the forms folder (default: the forms/ folder shipped with QATT)")
    p = review("import", "import a filled review template as your reviews (all rows or none)", _import)
    p.add_argument("file", metavar="FILE.xlsx")

    p = add_command("assign", "assign a sample's cases to a reviewer", _assign)
    p.add_argument("sample_id", type=int, metavar="SAMPLE_ID")
    p.add_argument("--reviewer", required=True, help="username of the reviewer")
    p.add_argument("--due", type=_date, help="due date (YYYY-MM-DD)")
    p.add_argument("--role", choices=["first", "second"], default="first")

    plan = _subcommands(add_command("plan", "standing monthly review plans", _choose("plan create | list | run")),
                        "plan_command")
    p = plan("create", "QA lead: create a standing plan", _plan_create)
    p.add_argument("name")
    p.add_argument("--kind", required=True, choices=["per_supervisor", "fixed"])
    p.add_argument("--per-reviewer", type=int, help="per_supervisor: cases per supervisor a month")
    p.add_argument("--size", type=int, help="fixed: cases a month")
    p.add_argument("--reviewer", help="fixed: username of the reviewer")
    p.add_argument("--status", help="only cases with this status (e.g. finalised)")
    p.add_argument("--area", help="only cases of this area")
    p.add_argument("--form", dest="form_id", help="the form the reviews use")
    p.add_argument("--role", choices=["first", "second"])
    p.add_argument("--population", help="'latest' (default) or a population number")
    p.add_argument("--exclude-months", type=int, help="leave out cases sampled in the last N months")
    p.add_argument("--window-months", type=int, help="draw from cases recorded in the plan's month and the N-1 "
                                                     "before it; 0 = the whole extract (default: 1 for fixed plans)")
    plan("list", "list the plans", _plan_list)
    p = plan("run", "QA lead: draw this month's sample for a plan and assign it", _plan_run)
    p.add_argument("name")
    p.add_argument("--period", required=True, help="the month, YYYY-MM")
    p.add_argument("--seed", type=int, help="a seed to reproduce a draw (default: a fresh random seed)")
    from qatt.commands.monitoring import add_plan_completion
    add_plan_completion(plan)

    p = add_command("case-study", "choose a submitted review as a good- or poor-practice case study for the pack",
                    _case_study)
    p.add_argument("review_id", type=int, metavar="REVIEW_ID")
    p.add_argument("--kind", choices=["good", "poor"], help="good practice or poor practice")
    p.add_argument("--title", help="a short title, without names")
    p.add_argument("--summary", help="what happened and why it is an example, without names")
    p.add_argument("--remove", action="store_true", help="stop using the review as a case study")
    p = add_command("case-studies", "list the case studies (the pack prints them)", _case_studies)
    p.add_argument("--from", dest="period_from", help="first sample month, YYYY-MM")
    p.add_argument("--to", dest="period_to", help="last sample month, YYYY-MM")
    p.add_argument("--area", action="append", help="only this area of practice (repeatable)")
    p.add_argument("--suggested", action="store_true",
                   help="list the reviews their reviewers suggested as case studies, not yet chosen")

    p = add_command("completion", "reviews assigned, started, submitted and overdue per reviewer and month",
                    _completion)
    p.add_argument("--period", help="YYYY-MM")
    p.add_argument("--reviewer", help="username")
