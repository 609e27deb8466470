"""No lost updates: two people saving the same review at the same moment, each on their own connection.

peewee gives every thread its own connection, so two threads are two real database sessions."""

import threading

import pytest

from qatt.reviewing import reviews
from qatt.errors import ConflictError
from tests.unit.test_reviews import forms_dir, items, start  # noqa: F401  (fixtures)


def test_two_simultaneous_saves_one_wins_the_other_gets_a_conflict(db, items, forms_dir):  # noqa: F811
    review = start(items[0], forms_dir=forms_dir)
    barrier = threading.Barrier(2)
    outcomes = {}

    def save(name, value):
        barrier.wait()
        try:
            reviews.save_answers(review.id, {"c1": value}, "sup.a", expected_version=1)
            outcomes[name] = "saved"
        except ConflictError as exc:
            outcomes[name] = f"conflict: {exc}"
        finally:
            db.close()  # this thread's connection

    threads = [threading.Thread(target=save, args=("A", "yes")), threading.Thread(target=save, args=("B", "no"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert sorted(o.split(":")[0] for o in outcomes.values()) == ["conflict", "saved"]
    winner = next(name for name, o in outcomes.items() if o == "saved")
    final = reviews.get_review(review.id)
    assert final.version == 2
    assert reviews.answers_of(final) == {"c1": "yes" if winner == "A" else "no"}
    assert "reload" in next(o for o in outcomes.values() if o.startswith("conflict"))
