"""Small text formatting shared by the pages."""

from __future__ import annotations

import datetime as dt
from typing import Optional


def local_time(utc_iso: Optional[str]) -> str:
    """A stored UTC timestamp (ISO text) as the user's local date and time, to the minute."""
    if not utc_iso:
        return ""
    moment = dt.datetime.fromisoformat(utc_iso).replace(tzinfo=dt.timezone.utc).astimezone()
    return f"{moment:%Y-%m-%d %H:%M}"
