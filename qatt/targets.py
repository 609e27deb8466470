"""MOSOVO figures to compare against: the rates the sources reported, and the targets a force sets.

D0 reports that over the six months before April 2024, 86% of MOSOVO visits were unannounced and
84% double-crewed. Those are reported rates, not targets: the sources set no target. A force may
set its own (`targets set m2=0.9`), kept in the shared settings and audited; reports show both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Mapping

from qatt.trust import audit, users
from qatt.errors import QattError
from qatt.storage import models as m
from qatt.storage.db import database_proxy, write_transaction

SETTING = "mosovo_targets"


@dataclass(frozen=True)
class ReportedRate:
    rate: float
    source: str  # where it was reported, in words

    def text(self) -> str:
        return f"{self.rate * 100:.0f}% reported in {self.source}"


# DOMAIN 4.5 (D0): the force's own figures in its response to the coroner.
REPORTED_RATES: Dict[str, ReportedRate] = {
    "m2": ReportedRate(0.86, "D0 for the last six months"),
    "m3": ReportedRate(0.84, "D0 for the last six months"),
}
TARGET_QUESTIONS = {"m1": "Visits within the SOP timescale", "m2": "Visits unannounced",
                    "m3": "Visits double-crewed", "m4": "Exceptions ratified by a supervisor",
                    "m7": "ARMS recorded in line with the ViSOR standards"}


def force_targets() -> Dict[str, float]:
    """{question id: target share} the force has set; empty until a QA lead sets one."""
    setting = m.Setting.get_or_none(m.Setting.key == SETTING)
    return dict(setting.value) if setting is not None and setting.value else {}


def set_force_targets(targets: Mapping[str, float], actor: str) -> Dict[str, float]:
    """Replace the force's MOSOVO targets (QA lead); a share from 0 to 1 per item; audited."""
    users.require_role(actor, "qa_lead", "set the force's MOSOVO targets")
    clean: Dict[str, float] = {}
    for question_id, value in targets.items():
        if question_id not in TARGET_QUESTIONS:
            raise QattError(f"There is no MOSOVO figure {question_id!r}; targets can be set for "
                            f"{', '.join(f'{k} ({v})' for k, v in TARGET_QUESTIONS.items())}.")
        share = float(value)
        if share > 1:
            share /= 100  # "90" means 90%
        if not 0 < share <= 1:
            raise QattError(f"The target for {TARGET_QUESTIONS[question_id]} must be a share of 0-1 or a "
                            f"percentage (got {value!r}).")
        clean[question_id] = round(share, 4)
    with write_transaction(database_proxy.obj):
        old = force_targets()
        setting = m.Setting.get_or_none(m.Setting.key == SETTING)
        if setting is None:
            m.Setting.create(key=SETTING, value=clean)
        else:
            setting.value = clean
            setting.save()
        audit.record(actor, audit.ALTERATION, "setting", SETTING, {"old": old, "new": clean})
    return clean
