"""Dates typed by users in options and forms: ISO (YYYY-MM-DD) only, so 03/04 is never ambiguous.

(Case-list extracts are different: their day-first formats are read by qatt.intake.importing.parse_date.)
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from qatt.errors import QattError


def iso_date(value: Any, what: str) -> Optional[dt.date]:
    """A date from a date, a datetime or YYYY-MM-DD text; None when empty; QattError naming `what` otherwise."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise QattError(f"{what} {value!r} is not a date; write it as YYYY-MM-DD, e.g. 2024-03-31.") from None
