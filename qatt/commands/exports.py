"""`export xlsx | pdf`: write the board workbook, the monthly report, the inspection pack or an
officer's feedback sheet. Each file is written atomically and recorded as a disclosure."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Optional

from qatt.cli import Context, _common_options
from qatt.errors import QattError

PDF_REPORTS = ("monthly", "pack", "feedback")


def _filter(args: argparse.Namespace):
    from qatt.reports import ReportFilter

    if args.period and (args.period_from or args.period_to):
        raise QattError("Give either --period or --from/--to, not both.")
    period_from = args.period or args.period_from or ""
    period_to = args.period or args.period_to or ""
    return ReportFilter(period_from, period_to, args.area or [], args.team or [], args.form or [])


def _emit(ctx: Context, result) -> None:
    rows = ", ".join(f"{k}: {v}" for k, v in result.rows.items())
    ctx.emit(result.as_dict(), f"wrote {result.path} ({result.report}; {rows}; marked {result.marking})\n"
                               f"audit log: {result.audit_head}")


def _request(args: argparse.Namespace, report: str, review_id: Optional[int] = None):
    from exports.run import ExportRequest

    missing = [option for option, value in (("--purpose", args.purpose), ("--recipient", args.recipient))
               if not (value or "").strip()]
    if missing:
        raise QattError(f"Give {' and '.join(missing)}: an export is a disclosure, and the audit log records why "
                        "the file is produced and who receives it (as the desktop asks).")
    return ExportRequest(report, Path(args.out), _filter(args), review_id, marking=args.marking, purpose=args.purpose,
                         recipient=args.recipient)


def _run(ctx: Context, request) -> int:
    from exports.run import run_export

    ctx.db()
    _emit(ctx, run_export(request, ctx.actor, progress=ctx.progress))
    return 0


def _xlsx(args: argparse.Namespace, ctx: Context) -> int:
    return _run(ctx, _request(args, "workbook"))


def _pdf(args: argparse.Namespace, ctx: Context) -> int:
    if args.report == "feedback" and args.review is None:
        raise QattError("--report feedback needs --review ID (the review to print feedback for).")
    return _run(ctx, _request(args, args.report, args.review))


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, help="the file to write (replaced atomically)")
    parser.add_argument("--period", help="one sample month, YYYY-MM")
    parser.add_argument("--from", dest="period_from", help="first sample month, YYYY-MM")
    parser.add_argument("--to", dest="period_to", help="last sample month, YYYY-MM")
    parser.add_argument("--area", action="append", help="only this area of practice (repeatable)")
    parser.add_argument("--team", action="append", help="only this team (repeatable)")
    parser.add_argument("--form", action="append", help="only reviews on this form id (repeatable)")
    parser.add_argument("--purpose", default="", help="why the file is being produced (required; recorded in the audit log)")
    parser.add_argument("--recipient", default="", help="who will receive it (required; recorded in the audit log)")
    parser.add_argument("--marking", help="protective marking (default: the force setting, OFFICIAL-SENSITIVE)")


def _choose(args: argparse.Namespace, ctx: Context) -> int:
    raise QattError("Say what to export: `export xlsx --out FILE` or `export pdf --report monthly|pack|feedback --out FILE`.")


def register(add_command) -> None:
    parser = add_command("export", "export the QA workbook (xlsx) or a PDF report", _choose)
    sub = parser.add_subparsers(dest="export_kind", metavar="xlsx|pdf")
    sub.required = True
    common = _common_options(top=False)
    workbook = sub.add_parser("xlsx", parents=[common],
                              help="Excel workbook: summary, reviews, themes, compliance, calibration, actions, samples")
    workbook.set_defaults(handler=_xlsx)
    _common(workbook)
    report = sub.add_parser("pdf", parents=[common], help="PDF: monthly report, inspection pack or officer feedback sheet")
    report.set_defaults(handler=_pdf)
    _common(report)
    report.add_argument("--report", choices=PDF_REPORTS, default="monthly", help="which PDF (default monthly)")
    report.add_argument("--review", type=int, help="the review id for --report feedback")
