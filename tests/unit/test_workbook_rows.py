"""The Reviews sheets of the workbook read answers as plain tuples and decode each stored text once;
every cell must be what the model layer and answer_value give, on demo data, on both backends."""

from __future__ import annotations

import pytest

from qatt import demo, reports
from qatt.trust import users
from qatt.reporting import workbook
from qatt.reporting.filters import FormCatalogue, Vocabulary, answer_value
from qatt.storage import models as m

ACTOR = "desk.user"


def _expected_rows(sheet, questions, vocab):
    """The rows as the model layer gives them: each review and its answers read as model objects."""
    expected = []
    for row in sheet_rows_fixed(sheet):
        answers = {a.question_id: a.value for a in m.Answer.select().where(m.Answer.review == row[0])}
        expected.append(row + [answer_value(q, answers.get(q.id), vocab) for q in questions])
    return expected


def sheet_rows_fixed(sheet):
    return [r[:len(workbook.REVIEW_FIXED_COLUMNS)] for r in sheet.rows()]


@pytest.fixture
def demo_reviews(db):
    users.register_login(ACTOR)
    population = demo.load_demo(ACTOR, cases=200, seed=11)
    demo.load_demo_reviews(ACTOR, seed=11, population_id=population.population_id, per_area=1)


@pytest.mark.parametrize("one_area", [False, True])  # True: the pages' id ranges hold reviews the filter leaves out
def test_review_sheet_cells_equal_the_model_layers_answers(demo_reviews, monkeypatch, one_area):
    # Both cache sizes on the one demo load (loading it is most of the test's cost). 3: the cache is
    # emptied again and again.
    area = m.Case.select(m.Case.area).join(m.SampleItem).join(m.Review).order_by(m.Case.area).first().area
    flt = reports.ReportFilter(areas=[area] if one_area else [])
    for cache_size in (workbook._CELL_CACHE, 3):
        monkeypatch.setattr(workbook, "_CELL_CACHE", cache_size)
        monkeypatch.setattr(workbook, "REVIEW_PAGE", 7)  # several pages, so page edges are crossed
        vocab = Vocabulary.load()
        catalogue = FormCatalogue.for_filter(flt)
        data = reports.workbook_data(flt, actor=ACTOR)
        assert data.review_count > (5 if one_area else 20)
        answered = 0
        for sheet in data.review_sheets:
            questions = catalogue.questions[sheet.form_id]
            rows = list(sheet.rows())
            assert len(rows) == sheet.row_count
            plain = (m.Review.select(m.Review.id).join(m.SampleItem).join(m.Case).switch(m.Review)
                     .join(m.FormVersion)
                     .where((m.Review.status == "submitted") & (m.FormVersion.form_id == sheet.form_id)))
            if one_area:
                plain = plain.where(m.Case.area == area)
            assert [row[0] for row in rows] == [r.id for r in plain.order_by(m.Review.id)]  # the same reviews, in order
            assert rows == _expected_rows(sheet, questions, vocab), cache_size
            answered += sum(cell is not None for row in rows for cell in row[len(workbook.REVIEW_FIXED_COLUMNS):])
        assert answered > (20 if one_area else 100)  # the comparison covered real answers, not empty columns
