"""Report data for governance boards and the inspectorate, built from the database as plain dataclasses.

The dashboard, the Excel workbook and the PDF packs all read these structures; nothing here knows
how a figure is drawn. Counting and grouping happen in SQL; only submitted reviews count. Each
proportion carries its Wilson 95% interval, and groups of fewer than 30 reviews are flagged as
small samples so no one reads too much into them.

The parts:
  filters   what a report covers (ReportFilter), the vocabulary, form questions, base queries
  figures   the shared figures: grades, themes, compliance, calibration, actions, trends, samples
  mosovo    the MOSOVO compliance block
  comparison  like-for-like comparison with the inspections (independent grades only)
  loop      feedback acknowledged and where the actions stand
  summary   the monthly report's executive summary
  monthly   the monthly report for the governance boards
  narrative the pack's narrative per area: drafted from the figures, edited and kept in versions
  pack      the inspection self-assessment pack
  feedback  the officer's feedback sheet
  workbook  the Excel workbook's data
  choices   what the desktop's export page offers to pick from

Every public name of the parts is importable from here (`from qatt import reporting`);
`qatt.reports` re-exports the same names for older code.
"""

from qatt.reporting.filters import *  # noqa: F401,F403
from qatt.reporting.figures import *  # noqa: F401,F403
from qatt.reporting.mosovo import *  # noqa: F401,F403
from qatt.reporting.comparison import *  # noqa: F401,F403
from qatt.reporting.loop import *  # noqa: F401,F403
from qatt.reporting.summary import *  # noqa: F401,F403
from qatt.reporting.monthly import *  # noqa: F401,F403
from qatt.reporting.narrative import *  # noqa: F401,F403
from qatt.reporting.pack import *  # noqa: F401,F403
from qatt.reporting.feedback import *  # noqa: F401,F403
from qatt.reporting.workbook import *  # noqa: F401,F403
from qatt.reporting.choices import *  # noqa: F401,F403
from qatt.reporting.filters import _answers, _filtered, _form_versions, _where  # noqa: F401
from qatt.reporting.figures import _distribution, _header  # noqa: F401
from qatt.reporting.pack import _review_notes  # noqa: F401
from qatt.reporting.workbook import _review_sheet  # noqa: F401
