"""Dates as case-list extracts write them: whole days (day first) or, in some published extracts,
only a month ("2016-11", "11/2016", "Nov 2016", "November 2016", or "Nov-16" as Excel writes one back).

A month-only date is stored as the first day of its month, and its population records that its
dates have month precision (Population.import_options["date_precision"] == "month"): such a case
belongs to that month, spans the whole of it in date filters, and is shown as "Nov 2016".
An ISO timestamp with an offset or Z is the day it was in the UK (Europe/London). CaseDates adds
what the importer refuses besides unreadable text: placeholder dates outside PLAUSIBLE_FROM to a
year after today, and (with the month precision option) whole dates that are not the 1st.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
from typing import Any, Optional, Tuple

DAY = "day"
MONTH = "month"
PRECISIONS = (DAY, MONTH)
# What the importer's date precision option accepts: "auto" reads it from the values; "month" says the
# column holds months (a workbook's first-of-month dates formatted "mmm-yy", which calamine reads as days).
PRECISION_CHOICES = ("auto", MONTH)

# A date recorded on or before this is a source system's "no date" (0001-01-01 in .NET, 1753-01-01
# and 1900-01-01 in SQL Server, 1899-12-30/31 and 1900-01-01 as Excel's day 0 and 1), not a real one.
LAST_PLACEHOLDER = dt.date(1900, 1, 1)
PLAUSIBLE_FROM = LAST_PLACEHOLDER + dt.timedelta(days=1)
UK_ZONE = "Europe/London"

_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"
                       r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|([+-])(\d{2}):?(\d{2}))?)?")
_UK_DATE = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?:,?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_ISO_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_UK_MONTH = re.compile(r"(\d{1,2})[/.-](\d{4})")
_NAMED_MONTH = re.compile(r"([A-Za-z]+)\.?[\s-]+(\d{4})")
# Excel's month formats "mmm-yy" and "mmmm-yy" ("Nov-16", "November-16"): the name first and a hyphen.
# "16-Nov" is Excel's day-month form and "Nov 16" may be 16 November, so neither is a month.
_NAMED_MONTH_SHORT_YEAR = re.compile(r"([A-Za-z]+)-(\d{2})")
_MONTH_NAMES = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
_MONTH_NAMES.update({name.lower(): number for number, name in enumerate(calendar.month_abbr) if name})
_MONTH_NAMES["sept"] = 9

EXPECTED = {"auto": "dd/mm/yyyy, yyyy-mm-dd or a month such as 2024-03 or Mar 2024",
            "dd/mm/yyyy": "dd/mm/yyyy", "yyyy-mm-dd": "yyyy-mm-dd"}


def _valid_time(hour: Optional[str], minute: Optional[str], second: Optional[str]) -> bool:
    return hour is None or (int(hour) < 24 and int(minute or 0) < 60 and int(second or 0) < 60)


def full_year(two_digits: str) -> int:
    """The POSIX rule for two-digit years: 00-68 are 20xx, 69-99 are 19xx."""
    return (2000 if int(two_digits) < 69 else 1900) + int(two_digits)


@functools.lru_cache(maxsize=1)
def _uk_zone() -> dt.tzinfo:
    from zoneinfo import ZoneInfo  # the system's zone files, else the tzdata package (Windows)

    return ZoneInfo(UK_ZONE)


def _uk_day(year: int, month: int, day: int, hour: str, minute: str, second: Optional[str], zone: str,
            sign: Optional[str], offset_hours: Optional[str], offset_minutes: Optional[str]) -> Optional[dt.date]:
    """The UK date of a timestamp with an offset: 2024-06-30T23:30Z is 00:30 BST on 1 July."""
    if zone == "Z":
        offset = dt.timedelta(0)
    elif int(offset_hours) < 24 and int(offset_minutes) < 60:
        offset = dt.timedelta(hours=int(offset_hours), minutes=int(offset_minutes)) * (-1 if sign == "-" else 1)
    else:
        return None
    moment = dt.datetime(year, month, day, int(hour), int(minute), int(second or 0), tzinfo=dt.timezone(offset))
    try:
        return moment.astimezone(_uk_zone()).date()
    except OverflowError:  # 9999-12-31T23:30-05:00 is in the year 10000
        return None


def parse_day(value: Any, date_format: str = "auto") -> Optional[dt.date]:
    """A whole date from a cell, or None if it is not one. Day first always: 03/04/2024 is 3 April.

    Two-digit years follow the POSIX rule: 00-68 are 20xx, 69-99 are 19xx. An ISO timestamp with an
    offset or Z gives its date in the UK (Europe/London); one without is the date as written."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    try:
        if date_format in ("auto", "yyyy-mm-dd"):
            match = _ISO_DATE.fullmatch(text)
            if match:
                year, month, day, hour, minute, second, zone, *offset = match.groups()
                if not _valid_time(hour, minute, second):
                    return None
                if zone:
                    dt.date(int(year), int(month), int(day))  # ValueError for 2024-02-30T10:00Z
                    return _uk_day(int(year), int(month), int(day), hour, minute, second, zone, *offset)
                return dt.date(int(year), int(month), int(day))
        if date_format in ("auto", "dd/mm/yyyy"):
            match = _UK_DATE.fullmatch(text)
            if match:
                day, _sep, month, year, hour, minute, second = match.groups()
                whole_year = int(year) if len(year) == 4 else full_year(year)
                return dt.date(whole_year, int(month), int(day)) if _valid_time(hour, minute, second) else None
    except ValueError:  # 31/02/2024 and friends
        return None
    return None


def parse_month(value: Any) -> Optional[dt.date]:
    """The first day of the month a month-only cell names ("2016-11", "11/2016", "Nov 2016",
    "November 2016", any case), or None. Years 1000-9999 only: "11/16" is not a month. A month
    named before a hyphen and two digits is Excel's "mmm-yy" ("Nov-16", "November-16": the year by
    the two-digit rule of parse_day); "16-Nov" (Excel's day-month) and "Nov 16" are not months."""
    if isinstance(value, dt.date):
        return None
    text = str(value).strip()
    year = month = None
    match = _ISO_MONTH.fullmatch(text)
    if match:
        year, month = int(match.group(1)), int(match.group(2))
    else:
        match = _UK_MONTH.fullmatch(text)
        if match:
            month, year = int(match.group(1)), int(match.group(2))
        else:
            match = _NAMED_MONTH.fullmatch(text)
            if match and match.group(1).lower() in _MONTH_NAMES:
                month, year = _MONTH_NAMES[match.group(1).lower()], int(match.group(2))
            else:
                match = _NAMED_MONTH_SHORT_YEAR.fullmatch(text)
                if match and match.group(1).lower() in _MONTH_NAMES:
                    month, year = _MONTH_NAMES[match.group(1).lower()], full_year(match.group(2))
    if year is None or not 1 <= month <= 12 or year < 1000:
        return None
    return dt.date(year, month, 1)


def parse_case_date(value: Any, date_format: str = "auto") -> Optional[Tuple[dt.date, str]]:
    """(date, precision) for a date cell, or None. Month-only dates are read with --date-format auto only."""
    day = parse_day(value, date_format)
    if day is not None:
        return day, DAY
    if date_format == "auto":
        month = parse_month(value)
        if month is not None:
            return month, MONTH
    return None


def month_label(value: dt.date) -> str:
    """'Nov 2016': how a month-precision date is shown."""
    return f"{calendar.month_abbr[value.month]} {value.year}"


def show_date(value: Any, precision: Optional[str]) -> str:
    """A recorded date as users see it: ISO for a day, 'Nov 2016' for a month-precision date."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        value = value.date()
    return month_label(value) if precision == MONTH else value.isoformat()


def month_start(value: dt.date) -> dt.date:
    return value.replace(day=1)


def month_end(value: dt.date) -> dt.date:
    return value.replace(day=calendar.monthrange(value.year, value.month)[1])


def a_year_after(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


class CaseDates:
    """How an import reads its date column: the date and precision of each cell, or None when it is
    refused, and the words saying why.

    Refused besides text that is no date: a date on or before LAST_PLACEHOLDER or more than a year
    after today (placeholders for "no date", which would make a case drop out of every period), and,
    with precision "month" (the importer's option), a whole date that is not the first of its month."""

    def __init__(self, date_format: str = "auto", precision: str = "auto", today: Optional[dt.date] = None) -> None:
        self.date_format = date_format
        self.precision = precision
        self.latest = a_year_after(today or dt.date.today())

    def read(self, value: Any) -> Optional[Tuple[dt.date, str]]:
        parsed = parse_case_date(value, self.date_format)
        if parsed is None:
            return None
        day, precision = parsed
        if not PLAUSIBLE_FROM <= day <= self.latest:
            return None
        if self.precision == MONTH and precision == DAY:
            return (day, MONTH) if day.day == 1 else None
        return parsed

    def problem(self, value: Any, shown: str) -> str:
        """Why read(value) refused a cell that is not blank; `shown` is the cell as the user sees it."""
        parsed = parse_case_date(value, self.date_format)
        if parsed is None:
            return f"{shown!r} is not a date (expected {EXPECTED[self.date_format]})"
        if not PLAUSIBLE_FROM <= parsed[0] <= self.latest:
            return (f"{shown!r} looks like a placeholder for a missing date, not a real one (dates are accepted "
                    f"from {PLAUSIBLE_FROM.isoformat()} to {self.latest.isoformat()}, a year after today)")
        return (f"{shown!r} is not the first of a month, but the dates were to be read as months "
                "(--date-precision month); give the month, or import without that option")
