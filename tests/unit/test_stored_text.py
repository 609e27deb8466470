"""Text every backend can store: a NUL character or a value over its column's length is a clear
QattError naming the field, before the database sees it, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import peewee
import pytest

from qatt.selection import sampling
from qatt.errors import QattError
from qatt.selection.sampling import SampleRequest
from qatt.storage import models as m
from tests.factories import make_population, make_user


def all_models():
    pending, found = [m.BaseModel], []
    while pending:
        for model in pending.pop().__subclasses__():
            found.append(model)
            pending.append(model)
    return found


def test_every_text_column_is_a_checked_one():
    unchecked = [f"{model.__name__}.{field.name}" for model in all_models() for field in model._meta.sorted_fields
                 if isinstance(field, (peewee.CharField, peewee.TextField))
                 and not isinstance(field, (m.CharField, m.TextField, m.JSONField))]
    assert unchecked == []


def test_an_overlong_sample_name_is_named_and_nothing_is_drawn(db):
    make_user("lead", "qa_lead")
    population = make_population(5)
    with pytest.raises(QattError, match=r"The sample name is 301 characters long; shorten it to 300 or fewer"):
        sampling.draw_sample(SampleRequest(population.id, size=2, name="x" * 301), actor="lead")
    assert m.Sample.select().count() == 0 and m.SampleItem.select().count() == 0
    drawn = sampling.draw_sample(SampleRequest(population.id, size=2, name="x" * 300), actor="lead")
    assert m.Sample.get_by_id(drawn.sample_id).name == "x" * 300


def test_a_nul_character_is_named_and_the_transaction_can_go_on(db):
    with db.atomic():
        m.User.create(username="kept")
        with pytest.raises(QattError, match="The user display name holds a NUL character"):
            m.User.create(username="refused", display_name="pasted\x00text")
        m.User.create(username="also kept")
    assert sorted(u.username for u in m.User.select()) == ["also kept", "kept"]


def test_a_lookup_with_a_nul_character_is_a_clear_error_not_a_driver_crash(db):
    make_population(2)
    with pytest.raises(QattError, match="case reference holds a NUL"):
        list(m.Case.select().where(m.Case.reference == "REF\x000001"))
