"""Compatibility name for qatt.reporting, where the report data now lives (one module per report
and one for the shared figures). New code imports `qatt.reporting` or its parts."""

from qatt.reporting import *  # noqa: F401,F403
from qatt.reporting import (  # noqa: F401
    _answers, _distribution, _filtered, _form_versions, _header, _review_notes, _review_sheet, _where)
