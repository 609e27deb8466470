"""The register of recommendations and commitments: inspection recommendations, areas for
improvement, causes of concern, coroner's concerns and review recommendations, each with its source
document, reference, text, owner, due date or timescale (including "immediately"), status, dated
progress notes and links to the evidence (forms, questions, samples, reviews, actions, documents).

Every change is audited. The register goes to and from a spreadsheet (`register export` /
`register import`), the way a QA team keeps one; an import is checked in full (errors name the
row and column) and applied in one transaction, or not at all. The entries shipped below are those
of the source documents (DOMAIN §0), with their own codes and timescales.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import openpyxl

from qatt.loop.actions import CLOSED as CLOSED_ACTIONS, STATUS_LABELS
from qatt.trust import audit, users
from qatt.dates import iso_date
from qatt.errors import QattError
from qatt.fileio import FORMULA_PREFIXES, atomic_path
from qatt.storage import models as m
from qatt.storage.db import database_proxy, write_transaction

STATUSES = m.Recommendation.STATUSES
ACHIEVED = "fully achieved"
KINDS = ("recommendation", "area for improvement", "aim for improvement", "cause of concern",
         "coroner's concern", "review recommendation", "commitment")
EDITOR = "qa_lead"  # who may change the register

D0 = "Chief Constable's response to the coroner's Regulation 28 report (PFD), 11 Apr 2024 (D0)"
D2 = "HMICFRS PEEL 2018/19 Effectiveness, Derbyshire (D2)"
D4_2021 = "HMICFRS National Child Protection Inspection of Derbyshire, Nov 2021, as quoted in the 2022 re-inspection (D4)"
D4 = "HMICFRS National Child Protection Re-inspection of Derbyshire, published Oct 2022 (D4)"
DHR = "Domestic Homicide Review (2017), as quoted in the PFD response (D0)"
D3 = "HMIC Inspection Report, Derbyshire Constabulary, October 2007 (D3)"
HISTORIC_NOTE = ("Shipped for reference from the October 2007 inspection (D3), closed, so that themes that recur "
                 "(home visits, ViSOR records, supervision) can be traced; QATT does not know the force's own "
                 "record of progress on it: reopen it or link the evidence.")
RE_INSPECTION_NOTE = ("2022 re-inspection (D4): the force has made strong progress towards some of the 12 "
                      "recommendations, but none has been fully achieved.")

# (code, kind, source, text, timescale, status, progress note or "")
SHIPPED: Tuple[Tuple[str, str, str, str, str, str, str], ...] = (
    ("2021-R1", "recommendation", D4_2021, "Immediately improve how leaders and managers promote the responsibility "
     "of safeguarding children to all sections of the workforce.", "immediately", "in progress", RE_INSPECTION_NOTE),
    ("2021-R2", "recommendation", D4_2021, "Immediately review missing persons arrangements and practices to ensure "
     "that, throughout the missing incident, there is always an effective response to vulnerable children.",
     "immediately", "in progress", RE_INSPECTION_NOTE),
    ("2021-R3", "recommendation", D4_2021, "Immediately review arrangements and practices so that officers responding "
     "to domestic abuse incidents benefit from good quality information from police systems, and all children "
     "affected are seen and spoken with so that their vulnerability is recorded, fully assessed and acted upon.",
     "immediately", "in progress", RE_INSPECTION_NOTE),
    ("2021-R4", "recommendation", D4_2021, "Immediately review arrangements and practices for incidents of missing "
     "children to align with the national standards in the College of Policing APP.", "immediately", "in progress",
     RE_INSPECTION_NOTE),
    ("2021-R5", "recommendation", D4_2021, "Within three months, engage with safeguarding partners and review "
     "assessment and information-sharing practices so that vulnerable children are identified at the earliest "
     "possible stage and referred without delay to the most appropriate level of support.", "3 months",
     "in progress", RE_INSPECTION_NOTE),
    ("2021-R6", "recommendation", D4_2021, "Within six months, engage with safeguarding partners and review the terms "
     "of reference and practices of all multi-agency risk management meetings, including those for children at "
     "risk of exploitation or domestic abuse, and children missing from home.", "6 months", "in progress",
     RE_INSPECTION_NOTE),
    ("2021-R7", "recommendation", D4_2021, "Immediately improve child protection investigations: effective "
     "supervision with reviews recording further work; timely and comprehensive safeguarding referrals; joint "
     "multi-agency investigations supported; investigations assigned to officers with the skills, capacity and "
     "competence; the quality of practice regularly audited.", "immediately", "in progress", RE_INSPECTION_NOTE),
    ("2021-R8", "recommendation", D4_2021, "Within three months, review policy and practice for incidents where "
     "indecent images of children are present on digital devices (guidance to operational staff, technical "
     "support, support for children and families, responses to child offenders).", "3 months", "in progress",
     RE_INSPECTION_NOTE),
    ("2021-R9", "recommendation", D4_2021, "Within six months, engage with safeguarding partners and review guidance "
     "for when children are taken into police protection: reduce the time before children are found appropriate "
     "accommodation; consistently record information and decisions; regularly review and endorse the use of "
     "protective powers.", "6 months", "in progress", RE_INSPECTION_NOTE),
    ("2021-R10", "recommendation", D4_2021, "Immediately review MOSOVO arrangements and practices so that the risk "
     "from offenders in the community is effectively managed.", "immediately", "in progress", RE_INSPECTION_NOTE),
    ("2021-R11", "recommendation", D4_2021, "Within three months, engage with safeguarding partners (local authority "
     "CSC and the National Probation Service) to develop multi-agency operational activity to protect children at "
     "risk from registered sex offenders.", "3 months", "in progress", RE_INSPECTION_NOTE),
    ("2021-R12", "recommendation", D4_2021, "Engage with safeguarding partners and review the effectiveness of "
     "arrangements for children in police detention.", "", "in progress", RE_INSPECTION_NOTE),
    ("2022-NS1", "commitment", D4, "Provide an updated action plan setting out how the findings of the re-inspection "
     "are incorporated into the work on the recommendations of the November 2021 report.",
     "within 6 weeks of publication", "not started", ""),
    ("2022-AIM1", "aim for improvement", D4, "Better processes to assess and share information with other "
     "organisations to help protect children.", "", "not started", ""),
    ("2022-AIM2", "aim for improvement", D4, "Effective management of the MOSOVO team.", "", "not started", ""),
    ("2022-AIM3", "aim for improvement", D4, "Increased numbers of experienced and fully trained investigators in the "
     "public protection department.", "", "not started", ""),
    ("2022-AIM4", "aim for improvement", D4, "Systems to prioritise and task the arrest of high-risk offenders.", "",
     "not started", ""),
    ("2022-AIM5", "aim for improvement", D4, "Effective multi-agency safeguarding meetings and joint operational "
     "working.", "", "not started", ""),
    ("2022-AIM6", "aim for improvement", D4, "Reduced delays in digital forensic examinations.", "", "not started", ""),
    ("2022-AIM7", "aim for improvement", D4, "Better availability and use of intelligence and problem profiles for "
     "exploited children.", "", "not started", ""),
    ("PEEL-Q2-AFI1", "area for improvement", D2, "Put in place regular and active supervision consistently, and "
     "record it appropriately, to monitor the quality and progress of investigations.", "", "not started", ""),
    ("PEEL-Q2-AFI2", "area for improvement", D2, "Improve how people wanted for arrest and circulated on PNC are "
     "managed.", "", "not started", ""),
    ("PEEL-Q2-AFI3", "area for improvement", D2, "Improve the scrutiny of how suspects are managed during "
     "investigations, including whether decisions to arrest and grant bail are made in the best interests of "
     "victims and witnesses.", "", "not started", ""),
    ("PEEL-Q3-AFI1", "area for improvement", D2, "Continue to enhance the strategic understanding of the nature and "
     "scale of vulnerability in the area through the use of partner data.", "", "not started", ""),
    ("PEEL-Q3-AFI2", "area for improvement", D2, "Understand the reasons for the declining domestic abuse arrest rate "
     "and take appropriate action to address it.", "", "not started", ""),
    ("PEEL-Q3-AFI3", "area for improvement", D2, "Ensure there is sufficient capacity and capability to process the "
     "quantity of referrals made into the referral unit, so that people are appropriately safeguarded.", "",
     "not started", ""),
    ("PFD-C", "coroner's concern", D0, "Police power to arrest where there is reason to believe a person is at risk "
     "of death or serious injury: no specific power exists; referred to the national MOSOVO lead; civil orders "
     "(DVPO, SPO) with powers of arrest used where there is a known victim.", "", "in progress",
     "Response to the coroner, 11 Apr 2024: letter sent to the national policing lead for MOSOVO."),
    ("PFD-G", "coroner's concern", D0, "Over-reliance on self-reporting: MOSOVO training for all the team, a fourth "
     "Detective Sergeant, 10 DI quality assurance checks a month against the SOPs, unannounced and double-crewed "
     "home visits (reported 86% and 84% over six months) with exceptions ratified by a supervisor.", "",
     "in progress", "Response to the coroner, 11 Apr 2024: the changes above reported as made."),
    ("PFD-H", "coroner's concern", D0, "Record keeping: ARMS assessments recorded to the ViSOR operating standards; "
     "SOPs adapted and wrongly recorded assessments rectified; MAPPA minutes scrutinised in learning reviews.", "",
     "in progress", "Response to the coroner, 11 Apr 2024: SOPs revised after HMICFRS feedback."),
    ("PFD-I", "coroner's concern", D0, "Familiarisation of professionals with cultural issues: cultural training for "
     "all new officers and staff, a Cultural Competence intranet page, revised Neighbourhood Profiles.", "",
     "in progress", "Response to the coroner, 11 Apr 2024: training and profiles reported in place."),
    ("DHR-2017-1", "review recommendation", DHR, "Staff to be aware of, and receive information and guidance on, "
     "manipulation by offenders and disguised compliance, so they can further assess the behaviour and intentions "
     "of individuals and mitigate them.", "", "in progress",
     "PFD response, 11 Apr 2024: additional training on self-reporting and disguised compliance."),
    ("2007-NP-AFI1", "area for improvement", D3, "Neighbourhood Policing: Community consultation and engagement are mostly information gathering rather than genuine development of local priorities; there is no process to feed back the results of SNT action or to gain communities' sign-off of outcomes.",
     "", "closed", HISTORIC_NOTE),
    ("2007-NP-AFI2", "area for improvement", D3, 'Neighbourhood Policing: There are no problem-solving or engagement plans linked to local neighbourhood priorities, as the national programme for implementing Neighbourhood Policing sets out.',
     "", "closed", HISTORIC_NOTE),
    ("2007-NP-AFI3", "area for improvement", D3, "Neighbourhood Policing: 'Local' priorities are identified at force level rather than by neighbourhoods; there is no corporate process to involve the community in identifying local priorities at the Safer Neighbourhoods level, nor any overview by SNT management of local priorities.",
     "", "closed", HISTORIC_NOTE),
    ("2007-NP-AFI4", "area for improvement", D3, 'Neighbourhood Policing: Problem solving does not routinely involve communities at neighbourhood level (it is done with partner agencies through tasking and co-ordination), so the sign-off of successful outcomes does not reach communities.',
     "", "closed", HISTORIC_NOTE),
    ("2007-NP-AFI5", "area for improvement", D3, 'Neighbourhood Policing: When response teams are below their minimum staffing level, neighbourhood officers are used to make it up, diverting them from neighbourhood duties and detracting from the effectiveness of SNTs.',
     "", "closed", HISTORIC_NOTE),
    ("2007-NP-AFI6", "area for improvement", D3, 'Neighbourhood Policing: Actual abstraction of SNT staff is significantly higher than the target of no more than 10%; there is no process to reduce it and no agreed definition of an abstraction, so recording and monitoring are inconsistent.',
     "", "closed", HISTORIC_NOTE),
    ("2007-NP-AFI7", "area for improvement", D3, 'Neighbourhood Policing: There is no succession planning for SNT staff, especially beat officers, and beat officer posts are still unfilled.',
     "", "closed", HISTORIC_NOTE),
    ("2007-NP-AFI8", "area for improvement", D3, 'Neighbourhood Policing: Staff who may encounter lesbian, gay, bisexual and transgender issues need training; they seemed unaware of the agreed protocols for liaising with outreach workers.',
     "", "closed", HISTORIC_NOTE),
    ("2007-PM-AFI1", "area for improvement", D3, 'Performance management: Limited performance information is available for support services and protective services; the force has yet to develop a force-wide plan for collecting and using performance data in these areas.',
     "", "closed", HISTORIC_NOTE),
    ("2007-PM-AFI2", "area for improvement", D3, 'Performance management: Not all staff are aware of their individual performance requirements or how they personally contribute to force objectives; the performance development review is seen as the main mechanism.',
     "", "closed", HISTORIC_NOTE),
    ("2007-PM-AFI3", "area for improvement", D3, 'Performance management: Third-party reporting of hate crime is seen as cumbersome and complicated and has not increased reporting as hoped.',
     "", "closed", HISTORIC_NOTE),
    ("2007-PM-AFI4", "area for improvement", D3, 'Performance management: The annual audit plan is not completed in full for lack of resources; ensure auditing is adequately resourced so that findings are processed and action plans developed in a timely manner.',
     "", "closed", HISTORIC_NOTE),
    ("2007-PVP-AFI1", "area for improvement", D3, 'Protecting vulnerable people (overview): The protecting vulnerable people components are not reflected in the force strategic assessment, and so are not identified as force priorities in the NIM process.',
     "", "closed", HISTORIC_NOTE),
    ("2007-PVP-AFI2", "area for improvement", D3, 'Protecting vulnerable people (overview): Protecting vulnerable people is not specifically included in force plans, priorities or the strategic assessment, but only as part of a generic violent crime category.',
     "", "closed", HISTORIC_NOTE),
    ("2007-CA-AFI1", "area for improvement", D3, 'Child abuse: Very limited use is made of initial joint visits, resulting in inappropriate single-agency visits by social services acting in an investigative capacity; in some cases this has contributed to criminal investigations being discontinued.',
     "", "closed", HISTORIC_NOTE),
    ("2007-CA-AFI2", "area for improvement", D3, 'Child abuse: Recording is inconsistent: sometimes no or limited documented evidence that a strategy discussion took place, or too little detail in the CARE record of the decisions made.',
     "", "closed", HISTORIC_NOTE),
    ("2007-CA-AFI3", "area for improvement", D3, "Child abuse: Operational staff are unclear about the criteria for police involvement (the CRU's DS decides which cases the police investigate).",
     "", "closed", HISTORIC_NOTE),
    ("2007-CA-AFI4", "area for improvement", D3, 'Child abuse: Performance information for child abuse investigations is limited to numbers and types of incident, action taken, case conference attendance and workloads; it could include outcomes, to inform service improvement.',
     "", "closed", HISTORIC_NOTE),
    ("2007-DV-AFI1", "area for improvement", D3, "Domestic violence: Compliance with QDV marking of domestic violence incidents is not audited, so the force cannot be confident that all incidents are correctly marked; the CRU's audit found more referral forms than incidents marked as domestic violence.",
     "", "closed", HISTORIC_NOTE),
    ("2007-DV-AFI2", "area for improvement", D3, 'Domestic violence: The force IT systems for domestic violence work do not interface (Guardian cannot stay open beside command and control, Form 621s or PNC), which increases the time lags in receiving and inputting information.',
     "", "closed", HISTORIC_NOTE),
    ("2007-DV-AFI3", "area for improvement", D3, 'Domestic violence: The move to electronic referral created a backlog of about 2,000 incidents awaiting risk assessment; some 1,500 referrals input on CARE between August 2006 and mid-January 2007 have not been risk assessed.',
     "", "closed", HISTORIC_NOTE),
    ("2007-DV-AFI4", "area for improvement", D3, 'Domestic violence: DVOs are expected to contact high-risk victims within seven days, but workloads prevent this in every case.',
     "", "closed", HISTORIC_NOTE),
    ("2007-DV-AFI5", "area for improvement", D3, 'Domestic violence: DVOs are tasked with actions outside their remit, such as taking initial statements of complaint, so some cannot complete core tasks in a timely manner.',
     "", "closed", HISTORIC_NOTE),
    ("2007-DV-AFI6", "area for improvement", D3, 'Domestic violence: Recently recruited DVOs have received no training for the role; the three-day online pack has no protected duty time.',
     "", "closed", HISTORIC_NOTE),
    ("2007-DV-AFI7", "area for improvement", D3, "Domestic violence: DVOs are the CPS's main point of contact for all domestic violence victims, not just their own high-risk cases, and are not always aware of the relevant background.",
     "", "closed", HISTORIC_NOTE),
    ("2007-DV-AFI8", "area for improvement", D3, 'Domestic violence: DVOs used to receive counselling every six months; since the provision moved to Derby some no longer attend.',
     "", "closed", HISTORIC_NOTE),
    ("2007-PP-AFI1", "area for improvement", D3, 'Public protection (sex offender management): Home visits to registered sex offenders are not completed within the timescales in force policy; officers need training in recording visits; visits are not scheduled according to the likelihood of reconviction or risk of harm.',
     "", "closed", HISTORIC_NOTE),
    ("2007-PP-AFI2", "area for improvement", D3, 'Public protection (sex offender management): Officers make home visits alone, sometimes without colleagues or supervisors knowing their whereabouts, the offenders visited or their expected return; they carry no Airwave radios or personal protective equipment.',
     "", "closed", HISTORIC_NOTE),
    ("2007-PP-AFI3", "area for improvement", D3, 'Public protection (sex offender management): The ViSOR structure (two administrators holding all roles) is not consistent with national guidance; offenders are allocated to DPMU officers as a group, so no identifiable offender manager is accountable for a named offender.',
     "", "closed", HISTORIC_NOTE),
    ("2007-PP-AFI4", "area for improvement", D3, 'Public protection (sex offender management): Level 2 MAPPA meetings are rarely instigated by police officers although the force is the lead agency; attendance is restricted to DC or DS level and DCIs do not attend as they should.',
     "", "closed", HISTORIC_NOTE),
    ("2007-PP-AFI5", "area for improvement", D3, 'Public protection (sex offender management): There is no strategic support to DPMU officers from the DI or DCI (three DIs in the last year); divisional DCIs and management teams show a worrying lack of knowledge of public protection and MAPPA.',
     "", "closed", HISTORIC_NOTE),
    ("2007-PP-AFI6", "area for improvement", D3, 'Public protection (sex offender management): Offenders are told to telephone when their annual notification is due and officers count this as a home visit, although the law requires notification in person at a prescribed police station.',
     "", "closed", HISTORIC_NOTE),
    ("2007-PP-AFI7", "area for improvement", D3, 'Public protection (sex offender management): ViSOR is used inconsistently, with gaps in inputting and updating data; the force should audit it to remedy inconsistencies and prepare for the ViSOR national standards.',
     "", "closed", HISTORIC_NOTE),
    ("2007-PP-AFI8", "area for improvement", D3, 'Public protection (sex offender management): Sex offender prevention orders are secured proactively, but their conditions are not effectively enforced and monitored.',
     "", "closed", HISTORIC_NOTE),
    ("2007-MP-AFI1", "area for improvement", D3, 'Missing persons: There is no joint training with partners on missing persons enquiries.',
     "", "closed", HISTORIC_NOTE),
    ("2007-MP-AFI2", "area for improvement", D3, 'Missing persons: Training for front-line officers on vulnerable missing persons enquiries would benefit from specialist input, beyond the remote COMPACT package, to raise awareness of risk and of missing people becoming victims of crime.',
     "", "closed", HISTORIC_NOTE),
)
SHIPPED_CODES = tuple(row[0] for row in SHIPPED)
SHIPPED_NOTE_DATES = {D4_2021: dt.date(2022, 10, 1), D0: dt.date(2024, 4, 11), DHR: dt.date(2024, 4, 11),
                      D3: dt.date(2007, 10, 1)}


def correct_shipped_entries() -> None:
    """Migration 7: bring the shipped register up to its source documents. Rows nobody has edited
    (no updated_at) get their real text, timescale, status and source; missing rows are added; the
    dated progress note from the source is added once. Rows a user has edited are left alone."""
    for code, kind, source, text, timescale, status, note in SHIPPED:
        entry = m.Recommendation.get_or_none(m.Recommendation.code == code)
        if entry is None:
            entry = m.Recommendation.create(code=code, text=text, timescale=timescale, status=status, source=source,
                                            kind=kind)
        elif entry.updated_at is None:
            entry.text, entry.timescale, entry.status, entry.source, entry.kind = text, timescale, status, source, kind
            entry.save()
        if note and not m.RegisterNote.select().where((m.RegisterNote.entry == entry)
                                                      & (m.RegisterNote.text == note)).exists():
            m.RegisterNote.create(entry=entry, noted_on=SHIPPED_NOTE_DATES.get(source, dt.date(2022, 10, 1)),
                                  text=note, recorded_by="QATT (from the source document)")


# --------------------------------------------------------------------------- reading

@dataclass
class Note:
    noted_on: dt.date
    text: str
    recorded_by: str


@dataclass
class Evidence:
    id: int
    kind: str
    ref: str
    note: str  # what the QA lead typed when linking it: never taken as the item's status
    status: str = ""  # for an action: its status now, read from the action ("" when it is no longer in QATT)

    @property
    def status_label(self) -> str:
        if self.kind != "action":
            return ""
        return STATUS_LABELS.get(self.status, self.status).lower() if self.status else "no longer in QATT"

    @property
    def settled(self) -> bool:
        """Nothing to wait for: evidence other than an action, or an action verified or cancelled."""
        return self.kind != "action" or self.status in CLOSED_ACTIONS

    @property
    def label(self) -> str:
        details = ([f"now {self.status_label}"] if self.kind == "action" else []) + (
            [f"note: {self.note}"] if self.note else [])
        return f"{self.kind} {self.ref}" + (f" ({'; '.join(details)})" if details else "")


@dataclass
class Entry:
    code: str
    kind: str
    source: str
    text: str
    owner: str
    timescale: str
    due_date: Optional[dt.date]
    status: str
    evidence_text: str
    notes: List[Note] = field(default_factory=list)
    evidence: List[Evidence] = field(default_factory=list)

    @property
    def latest_note(self) -> str:
        return f"{self.notes[-1].noted_on:%d %b %Y}: {self.notes[-1].text}" if self.notes else ""

    @property
    def warning(self) -> str:
        """Marked fully achieved while a linked action is still to be verified: said, not refused
        (the QA lead may know better), wherever the entry is shown."""
        waiting = [e for e in self.evidence if not e.settled]
        if self.status != ACHIEVED or not waiting:
            return ""
        which = "; ".join(f"action {e.ref} is {e.status_label}" for e in waiting)
        return (f"{self.code} is marked {ACHIEVED}, but {len(waiting)} linked "
                f"action{'s are' if len(waiting) > 1 else ' is'} not verified: {which}.")

    def as_dict(self) -> Dict[str, Any]:
        return {"code": self.code, "kind": self.kind, "source": self.source, "text": self.text, "owner": self.owner,
                "timescale": self.timescale, "due_date": self.due_date.isoformat() if self.due_date else None,
                "status": self.status, "evidence_text": self.evidence_text,
                "notes": [{"noted_on": n.noted_on.isoformat(), "text": n.text, "recorded_by": n.recorded_by}
                          for n in self.notes],
                "evidence": [{"kind": e.kind, "ref": e.ref, "note": e.note, "label": e.label,
                              **({"action_status": e.status or None} if e.kind == "action" else {})}
                             for e in self.evidence],
                "warning": self.warning or None}


def entries(kind: str = "", status: str = "") -> List[Entry]:
    query = m.Recommendation.select().order_by(m.Recommendation.id)
    if kind:
        query = query.where(m.Recommendation.kind == kind)
    if status:
        query = query.where(m.Recommendation.status == status)
    rows = list(query)
    notes: Dict[int, List[Note]] = {}
    for n in m.RegisterNote.select().order_by(m.RegisterNote.noted_on, m.RegisterNote.id):
        notes.setdefault(n.entry_id, []).append(Note(n.noted_on, n.text, n.recorded_by))
    links: Dict[int, List[Evidence]] = {}
    evidence = list(m.RegisterEvidence.select().order_by(m.RegisterEvidence.id))
    action_ids = {int(e.ref) for e in evidence if e.kind == "action" and e.ref.isdigit()}
    # An action's status is read from the action itself, never from the note typed when it was linked.
    action_status = ({str(i): status for i, status in m.Action.select(m.Action.id, m.Action.status)
                      .where(m.Action.id.in_(sorted(action_ids))).tuples()} if action_ids else {})
    for e in evidence:
        links.setdefault(e.entry_id, []).append(
            Evidence(e.id, e.kind, e.ref, e.note, action_status.get(e.ref, "") if e.kind == "action" else ""))
    return [Entry(r.code, r.kind, r.source, r.text, r.owner, r.timescale, r.due_date, r.status, r.evidence,
                  notes.get(r.id, []), links.get(r.id, [])) for r in rows]


def entry(code: str) -> Entry:
    found = [e for e in entries() if e.code == code]
    if not found:
        raise QattError(f"The register has no entry {code!r}; `register list` shows the codes.")
    return found[0]


# --------------------------------------------------------------------------- changes

def _load(code: str) -> m.Recommendation:
    row = m.Recommendation.get_or_none(m.Recommendation.code == code)
    if row is None:
        raise QattError(f"The register has no entry {code!r}; `register list` shows the codes.")
    return row


def _check(kind: Optional[str], status: Optional[str]) -> None:
    if kind is not None and kind not in KINDS:
        raise QattError(f"Unknown kind {kind!r}; use one of: {', '.join(KINDS)}.")
    if status is not None and status not in STATUSES:
        raise QattError(f"Unknown status {status!r}; use one of: {', '.join(STATUSES)}.")


_FIELDS = ("kind", "source", "text", "owner", "timescale", "due_date", "status", "evidence")


def add_entry(actor: str, code: str, text: str, *, kind: str = "recommendation", source: str = "", owner: str = "",
              timescale: str = "", due_date: Any = None, status: str = "not started") -> m.Recommendation:
    users.require_role(actor, EDITOR, "add to the register")
    code, text = (code or "").strip(), (text or "").strip()
    if not code or not text:
        raise QattError("Give the entry a reference (code) and its text.")
    _check(kind, status)
    due = iso_date(due_date, "The due date")
    with write_transaction(database_proxy.obj):
        if m.Recommendation.select().where(m.Recommendation.code == code).exists():
            raise QattError(f"The register already has an entry {code!r}; update it instead.")
        row = m.Recommendation.create(code=code, text=text, kind=kind, source=source, owner=owner,
                                      timescale=timescale, due_date=due, status=status, updated_at=m.utcnow())
        audit.record(actor, audit.ALTERATION, "register", code,
                     {"fields": {name: {"old": None, "new": getattr(row, name)} for name in _FIELDS}})
    return row


def update_entry(actor: str, code: str, **changes: Any) -> m.Recommendation:
    """Change any of kind, source, text, owner, timescale, due_date, status, evidence. None keeps a
    field as it is, except due_date, where None clears it (leave it out to keep it)."""
    users.require_role(actor, EDITOR, "change the register")
    unknown = set(changes) - set(_FIELDS)
    if unknown:
        raise QattError(f"Cannot change {', '.join(sorted(unknown))} of a register entry.")
    _check(changes.get("kind"), changes.get("status"))
    if "due_date" in changes and changes["due_date"] is not None:
        changes["due_date"] = iso_date(changes["due_date"], "The due date")
    with write_transaction(database_proxy.obj):
        row = _load(code)
        changed = {}
        for name, value in changes.items():
            if (value is not None or name == "due_date") and getattr(row, name) != value:
                changed[name] = {"old": getattr(row, name), "new": value}
                setattr(row, name, value)
        if changed:
            row.updated_at = m.utcnow()
            row.save()
            audit.record(actor, audit.ALTERATION, "register", code, {"fields": changed})
    return row


def add_note(actor: str, code: str, text: str, on: Any = None) -> m.RegisterNote:
    users.require_role(actor, EDITOR, "add progress notes to the register")
    text = (text or "").strip()
    if not text:
        raise QattError("Write the progress note.")
    when = iso_date(on, "The note's date") or dt.date.today()
    with write_transaction(database_proxy.obj):
        row = _load(code)
        note = m.RegisterNote.create(entry=row, noted_on=when, text=text, recorded_by=actor)
        row.updated_at = m.utcnow()
        row.save()
        audit.record(actor, audit.ALTERATION, "register", code, {"note": {"noted_on": when, "text": text}})
    return note


def _check_evidence(kind: str, ref: str) -> None:
    if kind not in m.RegisterEvidence.KINDS:
        raise QattError(f"Unknown evidence kind {kind!r}; use one of: {', '.join(m.RegisterEvidence.KINDS)}.")
    if not ref:
        raise QattError("Say which item is the evidence (a form id, form_id:question_id, a number, a title).")
    model = {"sample": m.Sample, "review": m.Review, "action": m.Action}.get(kind)
    if model is not None:
        if not ref.isdigit() or not model.select().where(model.id == int(ref)).exists():
            raise QattError(f"There is no {kind} {ref}; give the {kind}'s number.")
    if kind in ("form", "question"):
        form_id, _, question_id = ref.partition(":")
        if not m.FormVersion.select().where(m.FormVersion.form_id == form_id).exists():
            raise QattError(f"No form {form_id!r} has been used in QATT; give a form id, e.g. mosovo_di_check.")
        if kind == "question" and not question_id:
            raise QattError("Give a question as form_id:question_id, e.g. mosovo_di_check:m2.")


def link_evidence(actor: str, code: str, kind: str, ref: str, note: str = "") -> m.RegisterEvidence:
    users.require_role(actor, EDITOR, "link evidence to the register")
    ref = (ref or "").strip()
    _check_evidence(kind, ref)
    with write_transaction(database_proxy.obj):
        row = _load(code)
        link = m.RegisterEvidence.create(entry=row, kind=kind, ref=ref, note=(note or "").strip(), recorded_by=actor)
        row.updated_at = m.utcnow()
        row.save()
        audit.record(actor, audit.ALTERATION, "register", code, {"evidence": {"kind": kind, "ref": ref}})
    return link


# --------------------------------------------------------------------------- the spreadsheet

COLUMNS = ("Reference", "Kind", "Source document", "Text", "Owner", "Timescale", "Due date", "Status",
           "Evidence", "Progress notes", "Evidence links")
REQUIRED = ("Reference", "Text")


def _text_cell(cell: Any, value: Any) -> None:
    cell.value = value
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        cell.data_type = "s"
        cell.quotePrefix = True


def export_xlsx(path: Path, marking: str = "") -> int:
    """The register as the updated action plan: one row per entry; notes and links as text."""
    from qatt.reporting.filters import protective_marking

    marking = protective_marking(marking or None)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Register"
    ws.oddHeader.center.text = marking
    ws.oddFooter.center.text = marking
    ws.append(list(COLUMNS))
    rows = entries()
    for number, e in enumerate(rows, start=2):
        values = [e.code, e.kind, e.source, e.text, e.owner, e.timescale, e.due_date, e.status, e.evidence_text,
                  "\n".join(f"{n.noted_on.isoformat()}: {n.text}" for n in e.notes),
                  "\n".join(x.label for x in e.evidence) + (f"\nWarning: {e.warning}" if e.warning else "")]
        for column, value in enumerate(values, start=1):
            cell = ws.cell(row=number, column=column)
            _text_cell(cell, value)
            if isinstance(value, dt.date):
                cell.number_format = "yyyy-mm-dd"
    for letter, width in zip("ABCDEFGHIJK", (12, 18, 40, 70, 18, 16, 12, 14, 40, 60, 30)):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
    with atomic_path(Path(path), ".xlsx") as tmp:
        wb.save(tmp)
    return len(rows)


@dataclass
class ImportResult:
    added: List[str]
    updated: List[str]
    notes_added: int
    warnings: List[str] = field(default_factory=list)  # Entry.warning of the entries added or updated

    def as_dict(self) -> Dict[str, Any]:
        return {"added": self.added, "updated": self.updated, "notes_added": self.notes_added,
                "warnings": self.warnings}


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def import_xlsx(path: Path, actor: str) -> ImportResult:
    """Add and update entries from a spreadsheet laid out as `export_xlsx` writes it (columns found by
    their headings; Reference and Text required). Progress-note lines "YYYY-MM-DD: text" not yet in
    the register are added. Evidence links are not imported (link them in QATT, where they are
    checked). All rows are checked first; one bad cell stops the import with nothing changed."""
    users.require_role(actor, EDITOR, "import the register")
    path = Path(path)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (OSError, ValueError, KeyError) as exc:
        raise QattError(f"{path.name} could not be read as an .xlsx workbook ({exc}).") from None
    ws = wb["Register"] if "Register" in wb.sheetnames else wb.worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    wb.close()
    if not rows:
        raise QattError(f"{path.name} is empty; export the register first to see the layout.")
    headings = {_cell_text(h).lower(): i for i, h in enumerate(rows[0]) if h is not None}
    missing = [c for c in REQUIRED if c.lower() not in headings]
    if missing:
        raise QattError(f"{path.name}, sheet {ws.title!r}: no column headed {', '.join(missing)} in row 1.")

    def get(row: Sequence[Any], column: str) -> str:
        index = headings.get(column.lower())
        return _cell_text(row[index]) if index is not None and index < len(row) else ""

    planned = []
    seen = set()
    for number, row in enumerate(rows[1:], start=2):
        if not any(v not in (None, "") for v in row):
            continue
        where = f"{path.name}, sheet {ws.title!r}, row {number}"
        code, text = get(row, "Reference"), get(row, "Text")
        if not code:
            raise QattError(f"{where}, column Reference: the reference is empty.")
        if code in seen:
            raise QattError(f"{where}, column Reference: {code!r} appears twice.")
        seen.add(code)
        if not text:
            raise QattError(f"{where}, column Text: the text is empty.")
        values = {"text": text}
        for column, name in (("Kind", "kind"), ("Source document", "source"), ("Owner", "owner"),
                             ("Timescale", "timescale"), ("Status", "status"), ("Evidence", "evidence")):
            if column.lower() in headings:
                values[name] = get(row, column)
        if values.get("kind") == "":
            values.pop("kind")
        if values.get("status") == "":
            values.pop("status")
        if "kind" in values and values["kind"] not in KINDS:
            raise QattError(f"{where}, column Kind: {values['kind']!r} is not one of {', '.join(KINDS)}.")
        if "status" in values and values["status"] not in STATUSES:
            raise QattError(f"{where}, column Status: {values['status']!r} is not one of {', '.join(STATUSES)}.")
        if "due date" in headings:
            try:
                values["due_date"] = iso_date(get(row, "Due date"), "The due date")
            except QattError as exc:
                raise QattError(f"{where}, column Due date: {exc}") from None
        notes = []
        for line in get(row, "Progress notes").splitlines():
            if not line.strip():
                continue
            day, sep, note = line.partition(":")
            try:
                when = dt.date.fromisoformat(day.strip())
            except ValueError:
                when = None
            if not sep or when is None or not note.strip():
                raise QattError(f"{where}, column Progress notes: write each note as 'YYYY-MM-DD: text' "
                                f"on its own line ({line.strip()[:40]!r}).")
            notes.append((when, note.strip()))
        planned.append((code, values, notes))

    result = ImportResult([], [], 0)
    with write_transaction(database_proxy.obj):
        for code, values, notes in planned:
            row = m.Recommendation.get_or_none(m.Recommendation.code == code)
            if row is None:
                add_entry(actor, code, values.pop("text"), **{k: v for k, v in values.items() if v not in (None, "")})
                row = _load(code)
                result.added.append(code)
            else:
                changes = {k: v for k, v in values.items() if getattr(row, k) != v}
                if changes:
                    update_entry(actor, code, **changes)
                    result.updated.append(code)
            known = {(n.noted_on, n.text) for n in m.RegisterNote.select().where(m.RegisterNote.entry == row)}
            for when, note in notes:
                if (when, note) not in known:
                    add_note(actor, code, note, when)
                    result.notes_added += 1
    touched = set(result.added) | set(result.updated)
    result.warnings = [e.warning for e in entries() if e.code in touched and e.warning]
    return result
