"""The like-for-like inspection comparison, on the demo data and in the pack's PDF: independent
grades against the inspectorate's, the force's first reviews against its own independent grades,
and the 2022 headline table with its marginals; never a change between first reviews and the
inspectorate's grades."""

from __future__ import annotations

import re

import pypdf
import pytest

from exports import pdf
from qatt import demo, reports
from qatt.storage import db as dbmod
from qatt.storage import models as m
from tests.conftest import DEMO_ACTOR, demo_copy

ACTOR = DEMO_ACTOR

# One worker loads the demo database once for this module and test_demo_reviews (see demo_template).
pytestmark = pytest.mark.xdist_group("demo_template")


@pytest.fixture(scope="module")
def demo_url(demo_template, tmp_path_factory):
    return demo_copy(demo_template, tmp_path_factory.mktemp("demo"))


@pytest.fixture
def demo_db(demo_url):
    database = dbmod.open_database(demo_url)
    yield database
    database.close()


YEAR = reports.ReportFilter("2023-04", "2024-03")


def test_the_pack_compares_independent_grades_with_the_inspectorate(demo_db):
    pack = reports.inspection_pack(YEAR, actor=ACTOR)
    comparison = pack.comparison
    seconds = reports.overall_distribution(YEAR, reports.Vocabulary.load(), role="second")
    assert seconds.total > 0 and comparison.independent.total == seconds.total
    overall = [s for s in comparison.against_inspectorate if not s.trend.area]
    assert {s.trend.baseline for s in overall} == {"2021 inspection", "2022 inspection"}
    graded_g3 = sum(seconds.count(g) for g in ("good", "requires_improvement", "inadequate"))
    assert all(s.trend.current_total == graded_g3 for s in overall)  # the second reviews, not the first
    assert all(s.trend.grades == "the force's independent second reviews" for s in comparison.against_inspectorate)
    assert pack.trends == [s.trend for s in comparison.against_inspectorate]
    # Self against independent: on the cases graded twice.
    pairs = reports.grade_pairs(YEAR)
    assert sum(c.agreement.n for c in comparison.self_against_independent) == len(pairs) > 0
    assert comparison.bias_statements and all("graded twice" in s for s in comparison.bias_statements)


def test_the_2022_headline_table_is_printed_with_its_marginals(demo_db):
    headline = reports.headline_table(reports.Vocabulary.load())
    assert headline.rows == [["Force self-assessment", 19, 12, 3, 34], ["Inspectorate, same cases", 8, 16, 10, 34],
                             ["Both gradings", 27, 28, 13, 68]]
    assert headline.bounds.max_agreement.count == 8 + 12 + 3
    assert headline.bounds.min_higher == 11  # 19 good against 8: at least 11 cases graded kinder by the force
    assert "kinder" in headline.statements[0]


def test_the_pack_pdf_prints_the_baseline_and_no_change_from_first_reviews(demo_db, tmp_path):
    pack = reports.inspection_pack(YEAR, actor=ACTOR)
    target = tmp_path / "pack.pdf"
    pdf.export_pack(pack, target, actor=ACTOR)
    whole = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in pypdf.PdfReader(str(target)).pages))
    assert "Baseline: the 2022 re-inspection of the force's own sample" in whole
    assert "Force self-assessment 19 12 3 34" in whole and "Inspectorate, same cases 8 16 10 34" in whole
    assert "Both gradings 27 28 13 68" in whole
    assert "The force's first reviews are never compared with the inspectorate's grades" in whole
    # The lenient statement of issue 12 came from the first reviews' share of Good against 2022's.
    first = reports.overall_distribution(YEAR, reports.Vocabulary.load())
    g3_total = sum(first.count(g) for g in ("good", "requires_improvement", "inadequate"))
    lenient = f"Good rose from 41.4% to {100 * first.count('good') / g3_total:.1f}%"
    assert lenient not in whole
    # Every change stated in the pack is one of the independent-grade comparisons, and nothing else.
    independent = [c.statement for s in pack.comparison.against_inspectorate for c in s.trend.comparisons]
    stated = len(re.findall(r"\b(?:rose|fell) from \d", whole))
    assert stated == sum(1 for s in independent if " rose from " in s or " fell from " in s) > 0
    assert whole.count("grades from the force's independent second reviews") >= 2
