"""One palette for every output: the desktop charts, the workbook charts and the PDF charts take a
grade's colour from here, so a grade looks the same wherever a board reads it.

The colours mean what they say: the best grade of a scale is blue, then green for good / compliant,
amber for requires improvement / partially compliant, red (vermilion) for inadequate / non-compliant.
The shades are the Okabe-Ito set, which stays distinguishable under the common colour-vision
deficiencies; every chart also prints the grade's label beside its colour (legend or axis), so the
colour is never the only cue. No Qt here: the core and the exports import this module too.
"""

from __future__ import annotations

from typing import Dict, Sequence, Tuple

BEST = "#0072B2"   # blue: outstanding, excellent
GOOD = "#009E73"   # bluish green: good, compliant, effective
AMBER = "#E69F00"  # orange-amber: requires improvement, partially compliant, fair, weak
RED = "#D55E00"    # vermilion: inadequate, non-compliant, poor, none
NEUTRAL = "#999999"  # grey: ungraded, carried over, anything off the scales

GRADE_COLOURS: Dict[str, str] = {
    "outstanding": BEST, "excellent": BEST,
    "good": GOOD, "compliant": GOOD, "effective": GOOD,
    "requires_improvement": AMBER, "partially_compliant": AMBER, "fair": AMBER, "weak": AMBER,
    "adequate": AMBER,
    "inadequate": RED, "non_compliant": RED, "poor": RED, "none": RED,
    "ungraded": NEUTRAL, "carried_over": NEUTRAL,
}

# Colours for grades the palette does not know (a custom scale), best first, then by position.
_FALLBACK = (BEST, GOOD, AMBER, RED, "#CC79A7", "#56B4E9", NEUTRAL)

# Text on a coloured status background (the desktop's "verified" / "problem" marks): white on a dark
# green or red, both above the WCAG 2.2 AA 4.5:1 contrast for normal text.
STATUS_TEXT = "#FFFFFF"
STATUS_GOOD = "#1B6E32"
STATUS_BAD = "#A4161A"


def grade_colour(grade: str, position: int = 0) -> str:
    """The '#RRGGBB' colour of a grade id; an unknown grade gets a colour by its position in its scale."""
    return GRADE_COLOURS.get(grade, _FALLBACK[position % len(_FALLBACK)])


def grade_colours(grades: Sequence[str]) -> Dict[str, str]:
    """Each grade of a scale (best first) with its colour."""
    return {grade: grade_colour(grade, i) for i, grade in enumerate(grades)}


def rgb(colour: str) -> Tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def relative_luminance(colour: str) -> float:
    """WCAG 2.2 relative luminance of an sRGB colour."""
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG contrast ratio, 1 to 21; normal text needs at least 4.5 (AA)."""
    a, b = sorted((relative_luminance(foreground), relative_luminance(background)), reverse=True)
    return (a + 0.05) / (b + 0.05)
