"""PDF polish: the methodology annex reads as words, not JSON; headings never break inside a word."""

from __future__ import annotations

import datetime as dt
import re

import pypdf
from reportlab.pdfbase.pdfmetrics import stringWidth

from exports import pdf
from qatt import reports
from tests import report_factories as f

APR_MAY = reports.ReportFilter("2024-04", "2024-05")


def test_the_methodology_annex_prints_parameters_as_words(db, tmp_path):
    f.standard_data()
    target = tmp_path / "monthly.pdf"
    pdf.export_monthly(reports.monthly_report(APR_MAY, actor="lead", today=dt.date(2024, 6, 1)), target, actor="lead",
                       purpose="Board", recipient="Board")
    whole = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in pypdf.PdfReader(str(target)).pages))
    assert "algorithm" in whole  # the annex is there
    assert '{"' not in whole and '": ' not in whole  # and carries no JSON


def test_readable_parameters():
    assert pdf.readable_parameters({"size": 30, "strata": ["area", "team"], "with_replacement": False}) == \
        "size 30; strata: area, team; with replacement no"
    # A draw's stratification names the case fields by their labels, and an extract's column by its header.
    assert pdf.readable_parameters({"per_stratum": 5, "stratify": ["officer", "Beat code"], "size": None}) == \
        "per stratum 5; stratified by: Officer in case, Beat code"  # and an unused parameter is left out


def test_heading_words_fit_their_columns_even_when_the_widths_asked_are_narrow():
    header = ["Area", "Reviews", "Requires improvement", "Inadequate"]
    widths = pdf.header_safe_widths(header, [200, 10, 10, 10])
    assert abs(sum(widths) - 230) < 0.01  # the table keeps its width
    style = pdf.STYLES["cell"]
    for heading, width in zip(header, widths):
        for word in heading.split():
            assert stringWidth(word, style.fontName, style.fontSize) < width - 6, (word, width)


def test_the_calibration_block_says_1_case_not_1_cases():
    from qatt import stats
    from qatt.reporting.figures import Calibration

    categories = ["good", "requires_improvement", "inadequate"]
    agreement = stats.agreement([("good", "good"), ("good", "requires_improvement")], categories)
    block = pdf.calibration_block([Calibration("f", "Form F", ["Good", "Requires improvement", "Inadequate"],
                                               agreement)])
    words = " ".join(p.getPlainText() for p in block if hasattr(p, "getPlainText"))
    assert "Form F: 2 cases graded twice" in words
    assert re.search(r"\b1 case\b", words) and "1 cases" not in words
