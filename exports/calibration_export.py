"""Reviewer profiles and the corrected estimate in the workbook (one sheet) and in the PDF reports (one
section), built by qatt.agreement.calibration_report for whoever produces the file. Reviewers are coded
(Reviewer A, B...) unless the force has chosen to name them (`calibration --names-in-exports yes`)."""

from __future__ import annotations

from typing import Any, Dict, List

from qatt import reports
from qatt.agreement.calibration_report import CalibrationSection, calibration_section

SHEET = "Reviewer calibration"
RULE = "'More lenient' is said only when the 95% interval of the net difference leaves out no difference."


def section_for(header: reports.ReportHeader) -> CalibrationSection:
    return calibration_section(header.filter, header.generated_by)


def _profile_rows(section: CalibrationSection) -> List[List[Any]]:
    rows: List[List[Any]] = []
    report = section.profiles
    for p in report.profiles:
        a = p.agreement
        rows.append([p.name(report.coded), " / ".join(p.labels), p.pairs, a.observed_agreement.percent_text(),
                     a.weighted_kappa_linear, p.higher.percent_text(), p.lower.percent_text(),
                     p.difference.value, p.difference.low, p.difference.high,
                     p.verdict + (" (small sample)" if p.small_sample else "")])
    return rows


def write_calibration_sheet(wb: Any, data: reports.WorkbookData) -> Dict[str, int]:
    """The 'Reviewer calibration' sheet; returns {sheet: rows} for the export's row counts."""
    from exports.xlsx import PERCENT, _SheetWriter

    section = section_for(data.header)
    columns = [("Reviewer", "text"), ("Scale", "text"), ("Pairs", "number"), ("Same grade", "long"),
               ("Weighted kappa (linear)", "number"), ("Graded higher", "long"), ("Graded lower", "long"),
               ("Net difference", "percent"), ("95% CI low", "percent"), ("95% CI high", "percent"),
               ("Finding", "long")]
    sheet = _SheetWriter(wb, SHEET, columns, data.header.marking, filter_table=False)
    sheet.heading()
    if section.profiles is None:
        sheet.append([section.profiles_withheld])
    elif not section.profiles.profiles:
        sheet.append(["No case in the period has a first review and an independent second review."])
    for row in _profile_rows(section) if section.profiles else []:
        for index in (7, 8, 9):
            row[index] = sheet.styled(row[index], number_format=PERCENT)
        sheet.append(row)
    sheet.append([RULE])
    sheet.append([])
    sheet.append([sheet.styled("Corrected estimate: the grades independent reviewers would most likely have "
                               "given (an estimate)", font=sheet.bold)])
    if section.estimate is None:
        sheet.append([section.estimate_withheld])
    else:
        for title, estimate in section.estimate.estimates:
            sheet.append([sheet.styled(title, font=sheet.bold), f"{estimate.first_reviews} first reviews",
                          f"{estimate.pairs} pairs"])
            sheet.append(["Grade", "Self-graded", "", "", "Estimate", "95% CI low", "95% CI high"])
            for share in estimate.shares:
                cells = [share.label, share.self_graded.percent_text(), "", ""]
                if share.estimate is not None:
                    cells += [sheet.styled(v, number_format=PERCENT) for v in (share.estimate, share.low, share.high)]
                sheet.append(cells)
            if estimate.withheld:
                sheet.append([f"Withheld: {estimate.withheld}"])
            else:
                for assumption in estimate.assumptions:
                    sheet.append(["Assumes", assumption])
    sheet.finish()
    return {SHEET: sheet.rows}


def pdf_section(header: reports.ReportHeader) -> List[Any]:
    """The flowables of the 'Reviewer calibration' section of the monthly report and the pack."""
    from exports.pdf import Heading, bullets, table, text

    section = section_for(header)
    if not (section.profiles and section.profiles.profiles) and section.estimate is None:
        return []  # nothing to say for the period: the report leaves the section out, not an empty heading
    story: List[Any] = [Heading("Reviewer calibration and the corrected estimate")]
    story.append(Heading("Reviewer profiles against independent second reviews", 1))
    if section.profiles is None:
        story.append(text(section.profiles_withheld))
    elif not section.profiles.profiles:
        story.append(text("No case in the period has a first review and an independent second review."))
    else:
        rows = [["Reviewer", "Pairs", "Same grade", "Graded higher", "Graded lower", "Net difference", "Finding"]]
        for p in section.profiles.profiles:
            rows.append([p.name(section.profiles.coded), p.pairs, p.agreement.observed_agreement.percent_text(),
                         p.higher.percent_text(), p.lower.percent_text(), p.difference.text(),
                         p.verdict + (" (small sample)" if p.small_sample else "")])
        story += [table(rows, [1.0, 0.5, 1.5, 1.5, 1.5, 1.6, 1.6]), text(RULE)]
        if section.profiles.coded:
            story.append(text("Reviewers are coded, not named."))
    story.append(Heading("What independent reviewers would most likely have given (an estimate)", 1))
    if section.estimate is None:
        story.append(text(section.estimate_withheld))
        return story
    for title, estimate in section.estimate.estimates:
        rows = [["Grade", f"Self-graded ({estimate.first_reviews} first reviews)",
                 f"Estimate ({estimate.pairs} pairs)"]]
        rows += [[s.label, s.self_graded.percent_text(), s.estimate_text()] for s in estimate.shares]
        story += [text(title), table(rows, [1.8, 2.8, 2.8])]
        if estimate.withheld:
            story.append(text(f"The estimate is withheld: {estimate.withheld}"))
        else:
            story += [text(f"An estimate ({estimate.replicates} bootstrap replicates, seed {estimate.seed}). "
                           "It assumes:")] + bullets(list(estimate.assumptions))
    return story
