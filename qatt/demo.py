"""A fictional but realistic case population, and a year of reviews of it, for demonstrations,
training and tests.

Deterministic: the same seed always gives the same rows and the same grades. Every name and
summary is invented (summaries start with "[DEMO]"), so the demo can be shown anywhere. The CSV
uses the headers and dd/mm/yyyy dates of a real force extract so that it exercises the importer's
matching. The demo reviews go through the real sampling, assignment and review engines, so they
are audited and verifiable exactly like real work.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

from qatt.fileio import atomic_path
from qatt.progress import CancelToken, ProgressFn, checkpoint, no_progress

DEFAULT_CASES = 3000
DEFAULT_SEED = 20240401
DEMO_POPULATION_NAME = "Demo population"

# Areas of practice (DOMAIN.md section 2) with their share of cases and the risk levels they carry.
AREAS: List[Tuple[str, int, Tuple[str, ...], Tuple[int, ...]]] = [
    ("Investigation (any crime)", 30, ("standard", "medium", "high"), (60, 30, 10)),
    ("Domestic abuse referrals", 20, ("standard", "medium", "high"), (40, 40, 20)),
    ("Other referrals", 12, ("standard", "medium", "high"), (55, 35, 10)),
    ("Section 47 enquiries", 8, ("medium", "high"), (50, 50)),
    ("Missing children", 8, ("standard", "medium", "high"), (30, 50, 20)),
    ("Missing persons (adult)", 7, ("standard", "medium", "high"), (40, 45, 15)),
    ("Child sexual exploitation", 5, ("medium", "high"), (40, 60)),
    ("Section 46 police protection", 3, ("high",), (1,)),
    ("Sex offender management", 4, ("medium", "high", "very high"), (35, 45, 20)),
    ("Children in custody", 3, ("standard", "medium", "high"), (50, 35, 15)),
]

DIVISIONS: Dict[str, Tuple[str, ...]] = {
    "Derby City": ("Derby CID", "Derby Response", "Derby Safeguarding", "Derby Neighbourhood"),
    "North": ("Chesterfield CID", "North Response", "North Safeguarding"),
    "South": ("Ripley CID", "South Response", "South Safeguarding", "Swadlincote Neighbourhood"),
}

# Invented names: common first names paired with place-like surnames.
_FIRST = ("Alex", "Sam", "Jo", "Chris", "Jamie", "Robin", "Kim", "Lee", "Pat", "Dana", "Morgan", "Casey",
          "Taylor", "Jordan", "Ashley", "Charlie", "Frankie", "Drew", "Rowan", "Ellis")
_LAST = ("Ashford", "Brookfield", "Calder", "Dunmore", "Elmwood", "Fernley", "Greystone", "Hollins", "Ivybridge",
         "Kestrel", "Larchmont", "Millbeck", "Northcote", "Oakridge", "Pennine", "Quarry", "Redhill", "Stanwick",
         "Thornby", "Underwood", "Valley", "Whitmoor", "Yarrow")

_SUMMARIES: Dict[str, Tuple[str, ...]] = {
    "Investigation (any crime)": ("burglary of a dwelling, suspect identified on CCTV",
                                  "theft from a vehicle, no lines of enquiry",
                                  "assault in a town-centre bar, victim supports prosecution",
                                  "criminal damage to a shop front, suspect released under investigation"),
    "Domestic abuse referrals": ("verbal argument between partners, children present, DASH completed",
                                 "ex-partner breached a non-molestation order",
                                 "repeat incident at the same address, MARAC referral made"),
    "Other referrals": ("school raised concern about a pupil's home conditions",
                        "neighbour reported children left alone overnight",
                        "PPN for a vulnerable adult found in distress"),
    "Section 47 enquiries": ("strategy discussion held with CSC after an unexplained injury",
                             "joint visit with a social worker to a 7-year-old"),
    "Missing children": ("14-year-old missing from a care home, found next day",
                         "child missing after school, returned home late evening"),
    "Missing persons (adult)": ("adult missing from hospital, located safe",
                                "adult with dementia missing from home, found nearby"),
    "Child sexual exploitation": ("concern about an older adult contacting a 15-year-old online",
                                  "child found with unexplained gifts and a second phone"),
    "Section 46 police protection": ("child taken into police protection from an unsafe address",
                                     "police protection used when a parent was arrested"),
    "Sex offender management": ("home visit to a registered sex offender, new partner with children",
                                "RSO failed to notify a change of address"),
    "Children in custody": ("16-year-old detained overnight, appropriate adult attended",
                            "child arrested for robbery, bail refused, accommodation requested"),
}

# Field -> header in the demo extract, as a force system might name them.
HEADERS: Dict[str, str] = {
    "reference": "Occurrence No",
    "recorded_date": "Date Recorded",
    "area": "Area of practice",
    "division": "Division",
    "team": "Team",
    "officer": "OIC",
    "supervisor": "Supervisor",
    "risk": "Risk",
    "status": "Status",
    "summary": "Summary",
    "source_system": "Source system",
    "victim_age_band": "Victim age band",
}

_AGE_BANDS = ("0-9", "10-15", "16-17", "18-24", "25-44", "45-64", "65+")
_SOURCE_SYSTEMS = ("Niche", "CARE", "COMPACT", "ViSOR")


def _staff(rng: random.Random) -> Dict[str, Tuple[List[str], str]]:
    """About 60 officers spread over the teams; each team has one supervising sergeant."""
    names = [f"{first} {last}" for first in _FIRST for last in _LAST]
    rng.shuffle(names)
    staff: Dict[str, Tuple[List[str], str]] = {}
    collar = 1000
    for teams in DIVISIONS.values():
        for team in teams:
            supervisor = f"DS {names.pop()}" if "CID" in team or "Safeguarding" in team else f"PS {names.pop()}"
            officers = []
            for _ in range(rng.randint(4, 7)):
                collar += rng.randint(1, 40)
                officers.append(f"PC {collar} {names.pop()}")
            staff[team] = (officers, supervisor)
    return staff


def generate_rows(n: int = DEFAULT_CASES, seed: int = DEFAULT_SEED,
                  end_date: Optional[dt.date] = None) -> Iterator[Dict[str, object]]:
    """`n` fictional cases recorded over the 12 months up to `end_date` (default 31 March 2024).

    Keys are the Case fields plus two extra columns (source_system, victim_age_band)."""
    end_date = end_date or dt.date(2024, 3, 31)
    rng = random.Random(seed)
    staff = _staff(rng)
    areas = [a[0] for a in AREAS]
    weights = [a[1] for a in AREAS]
    risks = {a[0]: (a[2], a[3]) for a in AREAS}
    divisions = list(DIVISIONS)
    serial = rng.randint(1000, 9000)
    for _ in range(n):
        area = rng.choices(areas, weights)[0]
        division = rng.choices(divisions, (45, 30, 25))[0]
        team = rng.choice(DIVISIONS[division])
        officers, supervisor = staff[team]
        recorded = end_date - dt.timedelta(days=rng.randrange(365))
        age_days = (end_date - recorded).days
        # Older cases are more likely to be finished.
        finished = rng.random() < min(0.9, 0.2 + age_days / 300)
        status = rng.choice(("finalised", "finalised", "filed")) if finished else "open"
        risk_levels, risk_weights = risks[area]
        serial += rng.randint(1, 3)
        yield {
            "reference": f"DE/{recorded.year % 100:02d}/{serial:06d}",
            "recorded_date": recorded,
            "area": area,
            "division": division,
            "team": team,
            "officer": rng.choice(officers),
            "supervisor": supervisor,
            "risk": rng.choices(risk_levels, risk_weights)[0],
            "status": status,
            "summary": "[DEMO] " + rng.choice(_SUMMARIES[area]),
            "source_system": "ViSOR" if area == "Sex offender management" else rng.choice(_SOURCE_SYSTEMS[:3]),
            "victim_age_band": rng.choice(_AGE_BANDS),
        }


def write_csv(path: Path, n: int = DEFAULT_CASES, seed: int = DEFAULT_SEED,
              end_date: Optional[dt.date] = None) -> Path:
    """Write the demo extract as a UTF-8 CSV with UK dates (atomically)."""
    path = Path(path)
    keys = list(HEADERS)
    with atomic_path(path, ".csv") as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow([HEADERS[k] for k in keys])
            for row in generate_rows(n, seed, end_date):
                row["recorded_date"] = row["recorded_date"].strftime("%d/%m/%Y")  # type: ignore[union-attr]
                writer.writerow([row[k] for k in keys])
    return path


def load_demo(actor: str, cases: int = DEFAULT_CASES, seed: int = DEFAULT_SEED,
              progress: Optional[ProgressFn] = None, cancel: Optional[CancelToken] = None):
    """Import the demo population into the bound database through the real importer.

    A database that held no cases before becomes a training database (qatt.trust.identity): shown as
    such on screen and on every export, and one where people may act as one another."""
    from qatt.trust import identity
    from qatt.intake.importing import import_population
    from qatt.storage import models as m

    fresh = not m.Population.select().exists()
    with tempfile.TemporaryDirectory(prefix="qatt-demo-") as folder:
        path = write_csv(Path(folder) / "demo-extract.csv", cases, seed)
        # Loading the demo twice is a deliberate choice (a fresh copy to practise on), not a mistake.
        result = import_population(path, name=DEMO_POPULATION_NAME, actor=actor, progress=progress, cancel=cancel,
                                   allow_duplicate=True)
    if fresh:
        identity.mark_training(actor, "demonstration data loaded into an empty database")
    return result


def load_demo_with_reviews(actor: str, cases: int = DEFAULT_CASES, seed: int = DEFAULT_SEED,
                           progress: Optional[ProgressFn] = None,
                           cancel: Optional[CancelToken] = None) -> "DemoReviews":
    """The demo population and a year of reviews of it: what a first run shows, so that the
    review, moderation and dashboard pages have something in them."""
    imported = load_demo(actor, cases, seed, progress, cancel)
    return load_demo_reviews(actor, seed, imported.population_id, progress=progress, cancel=cancel)


# --------------------------------------------------------------------------------------------
# A year of demo reviews, made through the real sampling, assignment and review engines. The
# engines are imported where they are used: the CLI imports this module for its defaults on every
# command, so it must stay cheap to import.

DEMO_QA_LEAD = "demo.qa_lead"
# Each division's supervisor does the first reviews of its cases; the moderators do second reviews.
DEMO_SUPERVISORS: Dict[str, str] = {"Derby City": "demo.supervisor1", "North": "demo.supervisor2",
                                    "South": "demo.supervisor3"}
DEMO_MODERATORS = ("demo.moderator1", "demo.moderator2")
# Two built-in forms cover each of these areas, so the review engine asks which; the demo answers.
DEMO_FORMS = {"Investigation (any crime)": "qatt_investigation", "Sex offender management": "mosovo_di_check"}
DEMO_MONTHS = 12
PER_AREA = 2  # cases drawn per area each month: about 240 over the year
SECOND_SHARE = 0.3  # share of the reviewed cases that also get an independent second review
OPEN_FOR_ACTOR = 6  # cases of the latest month waiting for the desktop user
DRAFTS = 2  # cases of the latest month a demo supervisor has started but not submitted

# Case quality as (weight, chance that a checklist item is failed), tuned so that first grades come
# out about 65% good, 25% requires improvement and 10% inadequate, near the force's own 2022
# self-assessment (DOMAIN 4.1: 19, 12 and 3 of 34), and second grades lower, as the inspectorate's were.
_QUALITY = ((48, 0.03), (40, 0.17), (12, 0.33))
_CRITICAL_FACTOR = 0.3  # critical items fail less often: a few critical failures, not many
_NA_SHARE = 0.2
_OVERRIDE_SHARE = 0.1
# Second reviewers are a little stricter than the supervisors grading their own teams' work
# (DOMAIN 4.1: the inspectorate graded the force's 34 self-assessed cases lower).
_STRICTER_SECOND = 0.07
_KINDER_SECOND = 0.04
_ACTION_SHARE = 0.15  # requires-improvement reviews that raise an action (every worst grade does)
_ACTIONS_DONE = 0.6  # share of the actions already done, so the outstanding list is not the whole year
_ACTION_DONE_NOTE = "[DEMO] Done: the briefing was given and recorded on the officer's development log."

_STRENGTHS = ("[DEMO] Prompt response; the child's account captured on body-worn video.",
              "[DEMO] Clear investigation plan, updated after each supervisory review.",
              "[DEMO] PPN submitted the same day with an accurate risk level.",
              "[DEMO] Victim kept informed throughout, in the way they asked.")
_IMPROVEMENTS = ("[DEMO] Record ethnicity and the voice of the child.",
                 "[DEMO] Supervisory reviews should set actions and deadlines.",
                 "[DEMO] Hold the strategy discussion without delay.",
                 "[DEMO] Record the reasons for the risk level given.")
_FEEDBACK = ("[DEMO] Discussed with the officer; good practice shared at the team briefing.",
             "[DEMO] Feedback given in person; learning points agreed.",
             "[DEMO] Feedback sent to the officer by email.")
_KINDER_RATIONALE = "[DEMO] The gaps were in recording only; the child was safeguarded promptly."
_STRICTER_RATIONALE = "[DEMO] The plan was recorded but not acted on; the risk was not reassessed."
_ACTIONS = ("[DEMO] Brief the team on recording the voice of the child.",
            "[DEMO] Supervisor to review the open safeguarding plan with the officer.",
            "[DEMO] Re-submit the PPN with the correct risk level.")


@dataclass
class DemoReviews:
    """What load_demo_reviews made."""

    population_id: int
    samples: List[int]
    first_reviews: int  # submitted
    second_reviews: int  # submitted
    overrides: int  # submitted reviews graded differently from the suggestion, with a rationale
    drafts: int
    assigned_to_actor: int  # not started, waiting for the desktop user
    actions: int

    def as_dict(self) -> Dict[str, Any]:
        return asdict(self)


@dataclass
class _Plan:
    """Who does what to one sampled case."""

    item: Any  # m.SampleItem
    first_reviewer: str
    first: str  # "submit", "draft" or "open" (assigned, not started)
    second_reviewer: str = ""


def load_demo_reviews(actor: str, seed: int = DEFAULT_SEED, population_id: Optional[int] = None,
                      per_area: int = PER_AREA, progress: Optional[ProgressFn] = None,
                      cancel: Optional[CancelToken] = None) -> DemoReviews:
    """A year of monthly samples of the demo population, reviewed by demo users.

    Each month the demo QA lead draws `per_area` cases of every area recorded that month and assigns
    them; each division's supervisor submits the first reviews and a moderator a second review of
    about 30% of them. The latest month is left unfinished: a few drafts, and cases assigned to
    `actor` so the desktop user has work waiting. Sample periods place the reviews in their months
    for the reports. One transaction: cancelled or failed, nothing is kept."""
    from qatt.storage.db import database_proxy, write_transaction

    progress = progress or no_progress
    rng = random.Random(seed)
    with write_transaction(database_proxy.obj):
        population = _demo_population(population_id)
        _ensure_demo_users()
        periods = _demo_periods(population.id)
        progress(0, len(periods), "Drawing the demo samples")
        sample_ids = []
        for index, period in enumerate(periods):
            checkpoint(cancel)
            sample_ids.append(_draw_month(population.id, period, seed * 100 + index, per_area))
        plans = [plan for sample_id in sample_ids
                 for plan in _assign_month(sample_id, actor, rng, latest=sample_id == sample_ids[-1])]
        result = DemoReviews(population.id, sample_ids, 0, 0, 0, 0, 0, 0)
        grader = _Grader(rng)
        for done, plan in enumerate(plans):
            progress(done, len(plans), "Grading the demo cases")
            checkpoint(cancel)
            grader.carry_out(plan, result)
        progress(len(plans), len(plans), "Demo reviews ready")
    return result


def _demo_population(population_id: Optional[int]):
    from qatt.errors import QattError
    from qatt.storage import models as m

    query = m.Population.select().where(m.Population.purged == False)  # noqa: E712 (SQL)
    if population_id is not None:
        query = query.where(m.Population.id == population_id)
    else:
        query = query.where(m.Population.name == DEMO_POPULATION_NAME)
    population = query.order_by(m.Population.id.desc()).first()
    if population is None:
        raise QattError("There is no demo population to review; load it first (`demo`).")
    return population


def _ensure_demo_users() -> None:
    from qatt.trust import users

    users.ensure_user(DEMO_QA_LEAD, "qa_lead", "Demo QA lead")
    for division, name in DEMO_SUPERVISORS.items():
        users.ensure_user(name, "reviewer", f"Demo supervisor ({division})", division)
    for number, name in enumerate(DEMO_MODERATORS, start=1):
        users.ensure_user(name, "moderator", f"Demo moderator {number}")


def _demo_periods(population_id: int) -> List[str]:
    """The last DEMO_MONTHS months in which the population has cases, as YYYY-MM."""
    from qatt.storage import models as m

    dates = m.Case.select(m.Case.recorded_date).where(m.Case.population == population_id).tuples()
    return sorted({str(recorded)[:7] for (recorded,) in dates})[-DEMO_MONTHS:]


def _draw_month(population_id: int, period: str, seed: int, per_area: int) -> int:
    """The month's sample: `per_area` cases of each area recorded in the month."""
    from qatt.selection import assignments, sampling

    request = sampling.SampleRequest(
        population_id=population_id, method="stratified", stratify=["area"], per_stratum=per_area,
        date_from=f"{period}-01", date_to=assignments.end_of_month(period), seed=seed, period=period,
        name=f"Demo monthly sample {period}")
    return sampling.draw_sample(request, DEMO_QA_LEAD).sample_id


def _assign_month(sample_id: int, actor: str, rng: random.Random, latest: bool) -> List[_Plan]:
    """Decide who reviews each case of the sample and record the assignments."""
    from qatt.selection import assignments
    from qatt.storage import models as m

    items = list(m.SampleItem.select(m.SampleItem, m.Case, m.Sample).join(m.Case)
                 .switch(m.SampleItem).join(m.Sample)
                 .where(m.SampleItem.id.in_(assignments.items_to_review(sample_id)))
                 .order_by(m.SampleItem.position))
    plans = [_Plan(item, DEMO_SUPERVISORS[item.case.division], "submit") for item in items]
    if latest:
        held_back = plans[max(0, len(plans) - OPEN_FOR_ACTOR - DRAFTS):]
        drafts = len(held_back) - min(OPEN_FOR_ACTOR, len(held_back))
        for number, plan in enumerate(held_back):
            if number < drafts:
                plan.first = "draft"
            else:
                plan.first, plan.first_reviewer = "open", actor
    for plan in plans:
        if plan.first == "submit" and rng.random() < SECOND_SHARE:
            plan.second_reviewer = rng.choice(DEMO_MODERATORS)
    due = assignments.end_of_month(items[0].sample.period) if items else None
    for role, holder in (("first", "first_reviewer"), ("second", "second_reviewer")):
        by_reviewer: Dict[str, List[int]] = {}
        for plan in plans:
            if getattr(plan, holder):
                by_reviewer.setdefault(getattr(plan, holder), []).append(plan.item.id)
        for reviewer, item_ids in sorted(by_reviewer.items()):
            # The demo months are in the past: a due date would make the desktop user's work overdue at once.
            assignments.assign(item_ids, reviewer, DEMO_QA_LEAD, role=role, due_date=None if reviewer == actor else due)
    return plans


class _Grader:
    """Answers and grades demo cases through the review engine, drawing every choice from one
    random generator so that a seed always gives the same reviews."""

    def __init__(self, rng: random.Random) -> None:
        from qatt.reviewing import forms

        self.rng = rng
        self.forms_by_id = forms.load_forms()
        self.versions: Dict[str, Tuple[Any, Any]] = {}  # form id -> (FormVersion, Form)

    def carry_out(self, plan: _Plan, result: DemoReviews) -> None:
        if plan.first == "open":
            result.assigned_to_actor += 1
            return
        quality = self.rng.choices([q for _, q in _QUALITY], [w for w, _ in _QUALITY])[0]
        first = self._review(plan.item, plan.first_reviewer, "first", quality, plan.first == "submit")
        if plan.first == "draft":
            result.drafts += 1
            return
        result.first_reviews += 1
        result.overrides += bool(first.override_rationale)
        result.actions += self._maybe_action(first, plan.item)
        if plan.second_reviewer:
            second = self._review(plan.item, plan.second_reviewer, "second", quality, True, first)
            result.second_reviews += 1
            result.overrides += bool(second.override_rationale)

    def _form(self, item: Any) -> Tuple[Any, Any]:
        """The stored form version the engine would choose for the case (the demo's pick where two fit)."""
        from qatt.reviewing import forms, reviews

        form_id = reviews.choose_form_id(item, self.forms_by_id, DEMO_FORMS.get(item.case.area))
        if form_id not in self.versions:
            version = reviews.resolve_form_version(form_id, DEMO_QA_LEAD, forms_by_id=self.forms_by_id)
            self.versions[form_id] = (version, forms.form_from_version(version))
        return self.versions[form_id]

    def _review(self, item: Any, reviewer: str, role: str, quality: float, submit: bool, first: Any = None) -> Any:
        from qatt.reviewing import reviews

        version, form = self._form(item)
        review = reviews.start_review(item.id, reviewer, role=role, form_version=version)
        # The answers the engine filled in from the extract and the sample are kept, as a reviewer would.
        answers = (self._second_opinion(form, item, reviews.answers_of(first), quality) if first is not None
                   else self._fill(form, item, reviews.answers_of(review), quality, role))
        if not submit:  # a draft: the reviewer got about half way
            answers = dict(list(answers.items())[:len(answers) // 2])
        review = reviews.save_answers(review.id, answers, reviewer, review.version)
        if not submit:
            return review
        grade, rationale = self._grade(form, answers, role)
        period = item.sample.period
        review = reviews.save_details(
            review.id, reviewer, review.version, grade=grade, override_rationale=rationale,
            strengths=self.rng.choice(_STRENGTHS), improvements=self.rng.choice(_IMPROVEMENTS),
            feedback=self.rng.choice(_FEEDBACK), feedback_date=dt.date(int(period[:4]), int(period[5:]), 28))
        review = reviews.submit_review(review.id, reviewer, review.version)
        if review.id % 5:  # most officers have acknowledged their feedback (no random draw: the demo stays the same)
            from qatt.loop import acknowledgement

            seen = review.feedback_date + dt.timedelta(days=review.id % 4)
            acknowledgement.acknowledge(review.id, reviewer, min(seen, dt.date.today()),
                                        "[DEMO] Understood." if review.id % 3 == 0 else "")
        return review

    def _fill(self, form: Any, item: Any, answers: Dict[str, Any], quality: float, role: str) -> Dict[str, Any]:
        """Answer every visible unanswered question; repeat, because answers reveal follow-up questions."""
        from qatt.reviewing import forms, grading

        while True:
            todo = [q for q in forms.visible_questions(form, answers) if q.id not in answers]
            # N/A where the form refuses it (M4 on an exception, M13 after a breach) would not submit:
            # such an item applied, so the demo reviewer answers it yes or no (which may reveal more).
            refused = [q for q, _reasons in grading.refused_na(form, answers)]
            if not todo and not refused:
                return answers
            for question in todo:
                answers[question.id] = self._answer(question, item, quality, role)
            for question in refused:
                fails = quality * (_CRITICAL_FACTOR if question.critical else 1)
                answers[question.id] = "no" if self.rng.random() < fails else "yes"

    def _second_opinion(self, form: Any, item: Any, first: Dict[str, Any], quality: float) -> Dict[str, Any]:
        """The first reviewer's answers as a slightly stricter second reviewer sees them."""
        answers = {}
        for question in form.questions():
            value = first.get(question.id)
            factor = _CRITICAL_FACTOR if question.critical else 1
            if value == "yes" and self.rng.random() < _STRICTER_SECOND * factor:
                value = "no"
            elif value == "no" and self.rng.random() < _KINDER_SECOND:
                value = "yes"
            elif question.id == "reviewer_role":
                value = self._answer(question, item, quality, "second")
            if value is not None:
                answers[question.id] = value
        return self._fill(form, item, answers, quality, "second")

    def _answer(self, question: Any, item: Any, quality: float, role: str) -> Any:
        rng, qtype = self.rng, question.type
        if qtype in ("yes_no", "yes_no_na"):
            if qtype == "yes_no_na" and rng.random() < _NA_SHARE:
                return "na"
            fails = quality * (_CRITICAL_FACTOR if question.critical else 1)
            return "no" if rng.random() < fails else "yes"
        if qtype == "grade":  # e.g. supervision: mostly the best value, the worst now and then
            values = [v.id for v in question.scale.values]
            roll = rng.random()
            if roll < quality / 3:
                return values[-1]
            return values[0] if roll >= 2 * quality else values[min(1, len(values) - 1)]
        if qtype == "choice":
            return self._choice(question, quality, role)
        if qtype == "multi":
            return rng.sample([o.id for o in question.options], k=min(2, len(question.options)))
        if qtype == "themes":
            chosen = rng.sample([o.id for o in question.options], k=min(rng.randint(1, 3), len(question.options)))
            return {theme: "weakness" if rng.random() < min(0.9, 4 * quality) else "strength" for theme in chosen}
        if qtype == "number":
            low = int(question.min or 0)
            high = int(question.max) if question.max is not None else low + 14
            return rng.randint(low, max(low, min(high, low + 14)))
        if qtype == "date":
            recorded = dt.date.fromisoformat(str(item.case.recorded_date)[:10])
            return (recorded + dt.timedelta(days=rng.randint(1, 20))).isoformat()
        return f"[DEMO] Fictional note: {question.text.lower()}."

    def _choice(self, question: Any, quality: float, role: str) -> str:
        ids = [o.id for o in question.options]
        if question.id == "selection_method" and "random" in ids:
            return "random"
        wanted = "supervisor" if role == "first" else "qa_team"
        if question.id == "reviewer_role" and wanted in ids:
            return wanted
        if "good_practice" in ids and "poor_practice" in ids:  # a case-study candidate, now and then
            roll = self.rng.random()
            if roll < 0.08:
                return "good_practice" if quality < 0.1 else "poor_practice"
            return "none" if "none" in ids else ids[0]
        return self.rng.choice(ids)

    def _grade(self, form: Any, answers: Dict[str, Any], role: str) -> Tuple[str, str]:
        """("", "") to adopt the suggested grade; now and then a neighbouring grade with a rationale,
        kinder from first reviewers and stricter from second reviewers."""
        from qatt.reviewing import grading

        suggested = grading.suggest_grade(form, answers).grade
        values = [v.id for v in form.scale.values]
        if suggested not in values or self.rng.random() >= _OVERRIDE_SHARE:
            return "", ""
        step = -1 if role == "first" else 1
        position = values.index(suggested) + step
        if not 0 <= position < len(values):
            return "", ""
        return values[position], _KINDER_RATIONALE if step < 0 else _STRICTER_RATIONALE

    def _maybe_action(self, review: Any, item: Any) -> int:
        """Raise an action on every worst-graded review and some requires-improvement ones."""
        from qatt import reports
        from qatt.loop import actions
        from qatt.reviewing import reviews
        from qatt.selection import assignments

        values = [v.id for v in reviews.form_of(review).scale.values]
        if review.grade not in values[1:] or (review.grade != values[-1] and self.rng.random() >= _ACTION_SHARE):
            return 0
        due = assignments.end_of_month(reports.shift_month(item.sample.period, 1))
        action = reviews.add_action(review.id, review.reviewer, self.rng.choice(_ACTIONS),
                                    owner=item.case.supervisor, due_date=due)
        if self.rng.random() < _ACTIONS_DONE:
            actions.mark_done(action.id, review.reviewer, _ACTION_DONE_NOTE)
            if action.id % 3:  # most done actions already checked; the rest await the QA lead
                actions.verify(action.id, DEMO_QA_LEAD, "[DEMO] Checked on the officer's next case.")
        return 1
