"""`exercise ...`: standardisation exercises (set up, invite, grade blind, close, results). The rules
and the statistics are in qatt.agreement.exercises and qatt.agreement.many_raters; this module reads options and prints."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from qatt.cli import Context
from qatt.errors import QattError


def _grades_option(text: str) -> dict:
    """'REF1=good,REF2=inadequate' -> {'REF1': 'good', ...}."""
    grades = {}
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        if "=" not in part:
            raise QattError(f"Write each reference grade as CASE=GRADE (e.g. 24/1234=good), not {part!r}.")
        reference, grade = part.split("=", 1)
        grades[reference.strip()] = grade.strip()
    return grades


def _answers_option(args: argparse.Namespace) -> dict:
    if not args.answers:
        return {}
    text = Path(args.answers[1:]).read_text(encoding="utf-8") if args.answers.startswith("@") else args.answers
    try:
        answers = json.loads(text)
    except json.JSONDecodeError as exc:
        raise QattError(f"The answers are not valid JSON ({exc.msg} at character {exc.pos}); give an object such "
                        "as {\"c1\": \"yes\"}.") from None
    if not isinstance(answers, dict):
        raise QattError("The answers must be a JSON object of question id to answer, e.g. {\"c1\": \"yes\"}.")
    return answers


def _exercise(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.agreement import exercises

    ctx.db()
    if args.action == "create":
        if not (args.name and args.form and args.cases):
            raise QattError("Give --name, --form and --cases REF1,REF2,... to set up an exercise.")
        exercise = exercises.create_exercise(
            ctx.actor, args.name, args.form, args.cases.split(","), reference_grades=_grades_option(args.reference),
            reference_source=args.source or "", population_id=args.population, previous_id=args.previous)
        ctx.emit({"exercise": exercise.id, "cases": exercise.cases.count()},
                 f"Exercise {exercise.id} set up with {exercise.cases.count()} reference cases.")
    elif args.action == "invite":
        added = exercises.invite(ctx.actor, _id(args), args.reviewers)
        ctx.emit({"exercise": args.id, "invited": added}, f"Invited: {', '.join(added) or 'nobody new'}.")
    elif args.action == "grade":
        if not args.case:
            raise QattError("Give --case REFERENCE (and --answers and/or --grade).")
        grade = exercises.submit_grade(ctx.actor, _id(args), args.case, _answers_option(args), args.grade or "")
        ctx.emit({"exercise": args.id, "case": args.case, "grade": grade.grade},
                 f"Your grade for case {args.case} is recorded.")
    elif args.action == "close":
        exercises.close_exercise(ctx.actor, _id(args))
        ctx.emit({"exercise": args.id, "status": "closed"}, f"Exercise {args.id} closed.")
    elif args.action == "results":
        result = exercises.exercise_results(ctx.actor, _id(args))
        ctx.emit(result.as_dict(), result.text())
    else:  # list
        rows = exercises.list_exercises(ctx.actor)
        text = "\n".join(f"{r['id']}: {r['name']} ({r['form_id']}, {r['status']}): {r['cases']} cases, "
                         f"{r['invited']} invited, you graded {r['you_graded']}" for r in rows) or "No exercises."
        ctx.emit(rows, text)
    return 0


def _id(args: argparse.Namespace) -> int:
    if args.id is None:
        raise QattError(f"Give the exercise number: exercise {args.action} ID.")
    return args.id


def register(add_command) -> None:
    p = add_command("exercise", "standardisation exercises: reviewers grade the same reference cases blind",
                    _exercise)
    p.add_argument("action", choices=("list", "create", "invite", "grade", "close", "results"))
    p.add_argument("id", nargs="?", type=int, help="the exercise number (all actions but list and create)")
    p.add_argument("reviewers", nargs="*", help="invite: the reviewers' user names")
    p.add_argument("--name", help="create: the exercise's name")
    p.add_argument("--form", help="create: the form id the cases are graded on")
    p.add_argument("--cases", metavar="REF1,REF2", help="create: the reference cases' references")
    p.add_argument("--population", type=int, help="create: the population the cases are in, if in several")
    p.add_argument("--reference", metavar="REF=GRADE,...", help="create: reference grades agreed by a panel or "
                                                               "taken from an inspection")
    p.add_argument("--source", help="create: where the reference grades come from")
    p.add_argument("--previous", type=int, help="create: the earlier exercise this one repeats")
    p.add_argument("--case", help="grade: the reference case's reference")
    p.add_argument("--answers", help="grade: answers as JSON, or @FILE.json")
    p.add_argument("--grade", help="grade: the overall grade (default: the form's suggested grade)")
