"""The calibration part of the workbook and the packs: reviewer profiles (coded unless the force has chosen
to name reviewers in exports) and the corrected estimate, as plain data for exports/calibration_export.py.

What goes in depends on who exports, by the same rules as on screen: profiles of everyone only for a QA
lead or administrator, the estimate only for a moderator or above; otherwise the section says why not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from qatt.trust import users
from qatt.agreement.calibration import CalibrationReport, may_see_profile, reviewer_profiles
from qatt.agreement.corrected_estimate import PeriodEstimate, estimate_for_period
from qatt.errors import QattError

NAMES_SETTING = "calibration_names_in_exports"
EXPORT_REPLICATES = 1000


@dataclass
class CalibrationSection:
    profiles: Optional[CalibrationReport]
    profiles_withheld: str  # why there are no profiles ('' when there are)
    estimate: Optional[PeriodEstimate]
    estimate_withheld: str


def names_in_exports() -> bool:
    """Whether exports name reviewers (the force's choice); by default they are coded."""
    from qatt.storage import models as m

    setting = m.Setting.get_or_none(m.Setting.key == NAMES_SETTING)
    return bool(setting is not None and setting.value)


def set_names_in_exports(actor: str, named: bool) -> None:
    """A QA lead's or administrator's choice, for the whole force; audited."""
    from qatt.trust import audit
    from qatt.storage import models as m
    from qatt.storage.db import database_proxy, write_transaction

    users.require_role(actor, "qa_lead", "choose whether exports name reviewers")
    with write_transaction(database_proxy.obj):
        old = names_in_exports()
        m.Setting.insert(key=NAMES_SETTING, value=bool(named)).on_conflict(
            conflict_target=[m.Setting.key], update={m.Setting.value: bool(named)}).execute()
        audit.record(actor, audit.ALTERATION, "setting", NAMES_SETTING, {"old": old, "new": bool(named)})


def calibration_section(flt, actor: str, *, coded: Optional[bool] = None, vocab=None,
                        replicates: int = EXPORT_REPLICATES) -> CalibrationSection:
    if coded is None:
        coded = not names_in_exports()
    profiles, profiles_withheld = None, ""
    if may_see_profile(actor, None):
        profiles = reviewer_profiles(flt, actor, coded=coded, vocab=vocab)
    else:
        profiles_withheld = ("Reviewer profiles are included only when a QA lead or administrator produces the "
                             "file.")
    estimate, estimate_withheld = None, ""
    if users.has_role(actor, "moderator"):
        try:
            estimate = estimate_for_period(flt, actor, vocab=vocab, replicates=replicates)
        except QattError as exc:
            estimate_withheld = str(exc)
    else:
        estimate_withheld = "The corrected estimate is included only when a moderator or above produces the file."
    return CalibrationSection(profiles, profiles_withheld, estimate, estimate_withheld)
