"""One export from start to finish, for the CLI and the desktop alike: who may produce it, the report
data, the file and its disclosure record. The writers are imported only when used, because openpyxl
and reportlab are slow to load."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from exports.common import ExportResult
from qatt import reports
from qatt.trust import users
from qatt.errors import QattError
from qatt.progress import CancelToken, ProgressFn, no_progress

# report id -> (what it is called, file suffix)
REPORTS = {
    "workbook": ("Excel workbook", ".xlsx"),
    "monthly": ("Monthly report (PDF)", ".pdf"),
    "pack": ("Inspection self-assessment pack (PDF)", ".pdf"),
    "feedback": ("Officer feedback sheet (PDF)", ".pdf"),
}


@dataclass
class ExportRequest:
    """What to write and why. `marking` None means the force setting; `review_id` is for feedback only."""

    report: str
    target: Path
    filter: reports.ReportFilter = field(default_factory=reports.ReportFilter)
    review_id: Optional[int] = None
    marking: Optional[str] = None
    purpose: str = ""
    recipient: str = ""


def run_export(request: ExportRequest, actor: str, progress: ProgressFn = no_progress,
               cancel: Optional[CancelToken] = None) -> ExportResult:
    """Check the actor may produce the report, build it and write it (atomically, recorded as a disclosure)."""
    if request.report not in REPORTS:
        raise QattError(f"There is no report called {request.report!r}; choose one of {', '.join(REPORTS)}.")
    options = dict(actor=actor, purpose=request.purpose, recipient=request.recipient, progress=progress, cancel=cancel)
    # Only the reviews the actor may see (qatt.trust.visibility: roles and the blind rule).
    target, flt, marking = Path(request.target), reports.seen_by(request.filter, actor), request.marking
    if request.report == "feedback":
        from exports import pdf

        if request.review_id is None:
            raise QattError("Choose the review to print the officer's feedback for.")
        # feedback_sheet asks qatt.trust.visibility: one's own review, or a moderator not blind to it.
        sheet = reports.feedback_sheet(request.review_id, actor=actor, marking=marking)
        return pdf.export_feedback(sheet, target, **options)
    users.require_role(actor, "qa_lead", f"export the {REPORTS[request.report][0].lower()}")
    # Which reviews the file may show (any review the filter covers that the actor may see), recorded with
    # its disclosure: having seen a first review rules out doing its second (qatt.trust.visibility.how_seen).
    covered = reports.covered_review_ids(flt)
    if request.report == "workbook":
        from exports import xlsx

        return xlsx.export_workbook(reports.workbook_data(flt, actor=actor, marking=marking), target, **options,
                                    reviews=covered)
    from exports import pdf

    if request.report == "monthly":
        return pdf.export_monthly(reports.monthly_report(flt, actor=actor, marking=marking), target, **options,
                                  reviews=covered)
    return pdf.export_pack(reports.inspection_pack(flt, actor=actor, marking=marking), target, **options,
                           reviews=covered)
