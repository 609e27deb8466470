"""The small tables of the desktop, as column layouts over qatt.browse's row tuples."""

from __future__ import annotations

from typing import Any

import json

from ui.qtmodels.tuple_model import TupleTableModel, show_timestamp, show_yes_no

def show_method(method: Any) -> str:
    """"stratified random", not the stored id "stratified" (imported here: the core loads lazily)."""
    from qatt.selection.sampling import METHOD_LABELS

    return METHOD_LABELS.get(str(method), str(method))


def show_stratum(key: Any) -> str:
    """A stratum is stored as a JSON list of its column values; show them as "North / PC 7"."""
    try:
        values = json.loads(key) if key else []
    except ValueError:
        return str(key)
    return " / ".join(str(v) for v in values) if isinstance(values, list) else str(key)


# Row shapes are documented on the qatt.browse functions that produce them.
POPULATION_COLUMNS = [
    ("Name", 1, None), ("Cases", 2, None), ("Imported", 3, show_timestamp), ("By", 4, None),
    ("File", 5, None), ("Fingerprint", 6, lambda value: (value or "")[:16]),
]
SAMPLE_COLUMNS = [
    ("Sample", 1, None), ("Population", 2, None), ("Method", 3, show_method), ("Period", 4, None),
    ("Cases", 5, None), ("Seed", 6, None), ("Drawn", 7, show_timestamp), ("By", 8, None),
]
SAMPLE_ITEM_COLUMNS = [
    ("#", 0, None), ("Reference", 1, None), ("Area", 2, None), ("Stratum", 3, show_stratum), ("Reserve", 4, show_yes_no),
    ("Replaced", 5, lambda active: "" if active else "replaced"), ("Replaces", 6, None), ("Reason", 7, None),
]


def populations_model(parent: Any = None) -> TupleTableModel:
    return TupleTableModel(POPULATION_COLUMNS, parent=parent)


def samples_model(parent: Any = None) -> TupleTableModel:
    return TupleTableModel(SAMPLE_COLUMNS, parent=parent)


def sample_items_model(parent: Any = None) -> TupleTableModel:
    return TupleTableModel(SAMPLE_ITEM_COLUMNS, parent=parent)
