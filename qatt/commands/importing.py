"""Case-list commands: `import`, `populations`, `demo`, `mappings`."""

from __future__ import annotations

import argparse
from pathlib import Path

from qatt.cli import Context


def _import(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.intake import importing, mapping as mapping_mod

    ctx.db()
    mapping, date_format = None, args.date_format
    if args.mapping:
        saved = mapping_mod.load_saved(args.mapping)
        mapping = saved.mapping
        date_format = args.date_format if args.date_format != "auto" else saved.date_format
    result = importing.import_population(
        args.file, name=args.name or Path(args.file).stem, actor=ctx.actor, mapping=mapping, sheet=args.sheet,
        skip_invalid=args.skip_invalid, date_format=date_format, progress=ctx.progress,
        blank_references=args.blank_references, duplicate_references=args.duplicate_references,
        allow_duplicate=args.allow_duplicate, date_precision=args.date_precision,
    )
    if args.save_mapping:
        mapping_mod.save_mapping(args.save_mapping, result.mapping, ctx.actor, date_format)
    lines = [f"imported {result.rows} cases as population {result.population_id} (fingerprint {result.fingerprint})"]
    lines += result.summary_lines()
    if result.skipped_rows:
        lines.append(f"left out {result.skipped_rows} invalid row(s):")
        lines += [f"  {p}" for p in result.skipped]
    ctx.emit(result.as_dict(), "\n".join(lines))
    return 0


def _populations(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.storage import models as m

    ctx.db()
    P = m.Population
    query = (P.select(P.id, P.name, P.row_count, P.imported_at, P.imported_by, P.fingerprint)
             .where(P.purged == False).order_by(P.id).tuples())  # noqa: E712 - peewee expression
    rows = [{"id": pid, "name": name, "rows": count, "imported_at": at, "by": by, "fingerprint": fp}
            for pid, name, count, at, by, fp in query]
    text = "\n".join(f"{r['id']:>4}  {r['name']:<30} {r['rows']:>9} cases  {r['imported_at']:%Y-%m-%d %H:%M}  "
                     f"{r['by']:<12} {r['fingerprint'][:12]}" for r in rows) or "no populations yet"
    ctx.emit(rows, text)
    return 0


def _demo(args: argparse.Namespace, ctx: Context) -> int:
    from qatt import demo

    if args.out:
        path = demo.write_csv(Path(args.out), args.cases, args.seed)
        ctx.emit({"file": str(path), "rows": args.cases, "seed": args.seed},
                 f"wrote {args.cases} fictional cases to {path}")
        return 0
    ctx.db()
    result = demo.load_demo(ctx.actor, cases=args.cases, seed=args.seed, progress=ctx.progress)
    text = f"loaded {result.rows} fictional cases as population {result.population_id} '{demo.DEMO_POPULATION_NAME}'"
    if not args.reviews:
        ctx.emit(result.as_dict(), text)
        return 0
    made = demo.load_demo_reviews(ctx.actor, seed=args.seed, population_id=result.population_id,
                                  progress=ctx.progress)
    ctx.emit({**result.as_dict(), "reviews": made.as_dict()},
             f"{text}\nreviewed {made.first_reviews} cases over {len(made.samples)} monthly samples "
             f"({made.second_reviews} second reviews); {made.assigned_to_actor} cases of the latest month "
             f"are assigned to {ctx.actor}")
    return 0


def _mappings(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.intake import mapping as mapping_mod

    ctx.db()
    if args.show:
        saved = mapping_mod.load_saved(args.show)
        ctx.emit({"name": args.show, "mapping": saved.mapping, "date_format": saved.date_format},
                 mapping_mod.mapping_description(saved.mapping) + f"\ndates: {saved.date_format}")
        return 0
    names = mapping_mod.list_mappings()
    ctx.emit(names, "\n".join(names) or "no saved mappings yet")
    return 0


# The choices and defaults the options offer, written here so that building the parser (`--help`)
# imports neither the importer nor peewee; tests/unit/test_cli_startup.py checks they equal
# qatt.intake.importing's, qatt.intake.mapping's and qatt.demo's own.
BLANK_REFERENCES = ("refuse", "generate")
DUPLICATE_REFERENCES = ("refuse", "keep-first", "keep-last")
DATE_FORMATS = ("auto", "dd/mm/yyyy", "yyyy-mm-dd")
DATE_PRECISIONS = ("auto", "month")
DEFAULT_CASES = 3000
DEFAULT_SEED = 20240401


def register(add_command) -> None:
    p = add_command("import", "import a case-list extract (CSV or XLSX) as a new population", _import)
    p.add_argument("file", help="the extract: .csv (UTF-8 or Windows-1252; comma, semicolon or tab) or .xlsx")
    p.add_argument("--name", help="population name (default: the file name)")
    p.add_argument("--mapping", metavar="NAME|FILE.json",
                   help="a saved column mapping, or a JSON file {field: header} (default: match headers automatically)")
    p.add_argument("--sheet", help="workbook sheet to read (default: the first visible one)")
    p.add_argument("--date-format", choices=DATE_FORMATS, default="auto",
                   help="how dates are written (default auto: dd/mm/yyyy, yyyy-mm-dd, or a month: "
                        "yyyy-mm, mm/yyyy, Nov 2016; never mm/dd)")
    p.add_argument("--date-precision", choices=DATE_PRECISIONS, default="auto",
                   help="auto (default): whole dates are days, month-only dates months; month: the date column "
                        "holds months, including dates on the 1st (a workbook column formatted mmm-yy)")
    p.add_argument("--skip-invalid", action="store_true",
                   help="leave out invalid rows (listed) instead of importing nothing")
    p.add_argument("--save-mapping", metavar="NAME", help="save the mapping used under NAME for next time")
    p.add_argument("--blank-references", choices=BLANK_REFERENCES, default="refuse",
                   help="rows with no reference: refuse them (default), or generate a stable reference for each "
                        "(the same on every import of the file; marked as generated)")
    p.add_argument("--duplicate-references", choices=DUPLICATE_REFERENCES, default="refuse",
                   help="a reference on several rows: refuse (default), or keep the first or the last row of each")
    p.add_argument("--allow-duplicate", action="store_true",
                   help="import even if a population already holds exactly these cases (default: refuse)")

    add_command("populations", "list imported populations", _populations)

    p = add_command("demo", "load (or write to a CSV) a fictional demonstration population", _demo)
    p.add_argument("--cases", type=int, default=DEFAULT_CASES, help=f"number of cases (default {DEFAULT_CASES})")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed: the same seed gives the same cases")
    p.add_argument("--out", metavar="FILE.csv", help="write the extract to this file instead of the database")
    p.add_argument("--reviews", action="store_true",
                   help="also draw a year of monthly samples and review them as demo users, leaving some "
                        "cases of the latest month assigned to you")

    p = add_command("mappings", "list saved column mappings", _mappings)
    p.add_argument("--show", metavar="NAME", help="show one saved mapping")
