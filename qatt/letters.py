"""Letters for a number as spreadsheet columns are lettered: 0 -> 'A', 25 -> 'Z', 26 -> 'AA'.

Used for a workbook's column names in messages (qatt.intake) and for reviewers' codes in anonymised
calibration profiles ("Reviewer A", qatt.agreement.calibration)."""

from __future__ import annotations


def letters(index: int) -> str:
    """The bijective base-26 letters of `index` (counted from 0)."""
    text = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        text = chr(ord("A") + remainder) + text
    return text
