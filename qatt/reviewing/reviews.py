"""The review lifecycle: a reviewer grades one sampled case against an exact version of a form.

A review is started (draft), saved as the reviewer goes, submitted (then locked) and, if it must
change afterwards, amended with a written reason. Every change is one transaction, carries an
optimistic version check so nothing is silently overwritten, and is written to the audit log as an
"alteration" with the old and new values (DPA 2018 s.62).

Decisions (see docs/reviews.md):
- Drafts keep answers to questions that are currently hidden (so flipping a show_if answer back
  loses nothing); submitting DROPS hidden answers, so what is stored is exactly what was graded.
- A blank overall grade at submission adopts the suggested grade; a different grade needs a
  written rationale.
- Only the review's own reviewer saves and submits it. The reviewer or a QA lead/admin may amend
  a submitted review, always with a reason.
- Blind second review: whoever holds one role's review of a case cannot see the other role's
  review of the same case until they have submitted their own, and whoever has already seen (or
  written) one role's review of a case cannot start the other (qatt.trust.visibility.how_seen).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

import peewee

from qatt.trust import audit, audit_state, users
from qatt.dates import iso_date
from qatt.errors import ConflictError, PermissionDenied, QattError
from qatt.storage import models as m
from qatt.storage.db import database_proxy, is_sqlite, write_transaction

FIRST, SECOND = m.Review.ROLES
DRAFT, SUBMITTED = m.Review.STATUSES
DETAIL_FIELDS = ("strengths", "improvements", "feedback", "feedback_date", "grade", "override_rationale")
_UNSET: Any = object()


class MissingAnswers(QattError):
    """Submission refused: required visible questions are unanswered. `missing` lists them for the GUI."""

    def __init__(self, missing: list) -> None:
        self.missing = missing
        listed = "\n".join(f"• {q.text}" for q in missing)
        many = len(missing) != 1
        super().__init__(f"Answer {'these required questions' if many else 'this required question'} "
                         f"before submitting:\n{listed}")


class RefusedNotApplicable(QattError):
    """Submission refused: N/A given where the form does not allow it. `questions` lists them."""

    def __init__(self, refused: list) -> None:
        self.questions = [q for q, _ in refused]
        listed = "; ".join(f"“{q.text}” cannot be N/A when {' and '.join(reasons)}" for q, reasons in refused)
        super().__init__(f"Answer yes or no before submitting: {listed}.")


# --------------------------------------------------------------------------- loading helpers

def get_review(review_id: int) -> m.Review:
    review = m.Review.get_or_none(m.Review.id == review_id)
    if review is None:
        raise QattError(f"There is no review {review_id}; check the review number.")
    return review


def form_of(review: m.Review):
    """The exact form the review was started with (its stored version, not today's file)."""
    from qatt.reviewing import forms

    return forms.form_from_version(review.form_version)


def answers_of(review: m.Review) -> Dict[str, Any]:
    return {a.question_id: a.value for a in m.Answer.select().where(m.Answer.review == review)}


def _locked_for_update(review_id: int, expected_version: int) -> m.Review:
    """Re-read the review inside the caller's write transaction and check nobody saved since."""
    query = m.Review.select().where(m.Review.id == review_id)
    if not is_sqlite(database_proxy.obj):
        query = query.for_update()
    review = query.get_or_none()
    if review is None:
        raise QattError(f"There is no review {review_id}; check the review number.")
    if review.version != expected_version:
        raise ConflictError(
            f"{_last_saver(review)} saved this review at {_local_hhmm(review.updated_at)} since you opened it; "
            "reload to see their changes."
        )
    return review


def _last_saver(review: m.Review) -> str:
    event = (m.AuditEvent.select(m.AuditEvent.actor)
             .where(m.AuditEvent.object_type == "review", m.AuditEvent.object_id == str(review.id))
             .order_by(m.AuditEvent.id.desc()).first())
    return event.actor if event is not None else review.reviewer


def _local_hhmm(utc_naive: dt.datetime) -> str:
    return utc_naive.replace(tzinfo=dt.timezone.utc).astimezone().strftime("%H:%M")


def _require_own(review: m.Review, actor: str, doing: str) -> None:
    if review.reviewer != actor:
        from qatt.trust import visibility

        raise PermissionDenied(f"Review {review.id} belongs to {visibility.reviewer_named(review, actor)}; "
                               f"only its reviewer may {doing}.")


def _require_draft(review: m.Review) -> None:
    if review.status != DRAFT:
        raise QattError(f"Review {review.id} was submitted and is locked; amend it with a reason instead.")


def _bump(review: m.Review) -> None:
    review.version += 1
    review.updated_at = m.utcnow()


# --------------------------------------------------------------------------- starting

def choose_form_id(sample_item: m.SampleItem, forms_by_id: Dict[str, Any], form_id: Optional[str]) -> str:
    """An explicit form wins, then the sample's form, then the form its population keeps for its area
    (qatt.reviewing.area_forms), then the one form whose area is the case's area."""
    if form_id:
        return form_id
    if sample_item.sample.form_id:
        return sample_item.sample.form_id
    from qatt.reviewing.area_forms import kept_forms

    kept = kept_forms(sample_item.case.population_id).get(sample_item.case.area)  # chosen for its population
    if kept and kept in forms_by_id:
        return kept
    area = _area_key(sample_item.case.area)
    matches = sorted(fid for fid, form in forms_by_id.items() if area and _area_key(form.area) == area)
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise QattError(f"No form covers the area {sample_item.case.area!r} of case {sample_item.case.reference}; "
                        "choose a form for it (on the Review page, in the draw dialog, or with --form).")
    raise QattError(f"Several forms cover the area {sample_item.case.area!r} ({', '.join(matches)}); choose one.")


def _area_key(area: str) -> str:
    # "Sex offender management (MOSOVO)" on a form matches "Sex offender management" in an extract.
    return area.split("(")[0].strip().casefold()


def resolve_form_version(form_id: str, actor: str, forms_dir: Optional[Path] = None,
                         forms_by_id: Optional[Dict[str, Any]] = None) -> m.FormVersion:
    """The current version of a form file, registered if new; else the newest stored version."""
    from qatt.reviewing import forms

    if forms_by_id is None:
        forms_by_id = forms.load_forms(forms_dir or forms.default_forms_dir())
    if form_id in forms_by_id:
        return forms.register_form_version(forms_by_id[form_id], actor)
    stored = (m.FormVersion.select().where(m.FormVersion.form_id == form_id)
              .order_by(m.FormVersion.id.desc()).first())
    if stored is None:
        raise QattError(f"There is no form {form_id!r}; check the forms folder or the form id.")
    return stored


def start_review(sample_item_id: int, actor: str, role: str = FIRST, form_id: Optional[str] = None,
                 forms_dir: Optional[Path] = None, form_version: Optional[m.FormVersion] = None) -> m.Review:
    """Start (or return the actor's existing) review of a sampled case in the given role.

    `form_version` starts it on that exact stored version (the spreadsheet import does this);
    otherwise the form is chosen as choose_form_id says and its current file version is used."""
    from qatt.reviewing import forms

    if role not in m.Review.ROLES:
        raise QattError(f"Unknown review role {role!r}; use 'first' or 'second'.")
    if role == SECOND:
        users.require_role(actor, "moderator", "carry out a second (independent) review")
    item = m.SampleItem.get_or_none(m.SampleItem.id == sample_item_id)
    if item is None:
        raise QattError(f"There is no sample item {sample_item_id}; check the number.")
    if not item.active:
        raise QattError(f"Case {item.case.reference} was replaced in its sample; review its replacement instead.")
    existing = m.Review.get_or_none(m.Review.sample_item == item, m.Review.role == role)
    if existing is not None:
        if existing.reviewer != actor:
            from qatt.trust import visibility

            holder = visibility.reviewer_named(existing, actor)
            raise PermissionDenied(f"{'Someone else' if holder == 'another reviewer' else holder} already holds the "
                                   f"{role} review of case {item.case.reference}.")
        if form_version is not None and existing.form_version_id != form_version.id:
            raise QattError(f"Your review of case {item.case.reference} was started on another version of the "
                            "form; finish it in QATT or export a new template.")
        return existing
    assignment = m.Assignment.get_or_none(m.Assignment.sample_item == item, m.Assignment.role == role)
    if assignment is not None and assignment.reviewer != actor:
        raise PermissionDenied(f"The {role} review of case {item.case.reference} is assigned to "
                               f"{assignment.reviewer}; ask a QA lead to reassign it.")
    from qatt.trust import visibility

    # Blind second review: whoever has already seen the other review of this case cannot do this one.
    visibility.check_independent(item.id, role, actor)
    if form_version is None:
        forms_by_id = forms.load_forms(forms_dir or forms.default_forms_dir())
        chosen = choose_form_id(item, forms_by_id, form_id)
    with write_transaction(database_proxy.obj):
        version = form_version or resolve_form_version(chosen, actor, forms_by_id=forms_by_id)
        try:
            with database_proxy.obj.atomic():  # a savepoint: the race below must not lose the transaction
                review = m.Review.create(sample_item=item, form_version=version, reviewer=actor, role=role)
        except peewee.IntegrityError:
            # Someone started the same review between the check above and this insert.
            raise ConflictError(f"Someone else started the {role} review of case {item.case.reference} just now; "
                                "reload to see who holds it.") from None
        audit.record(actor, audit.COLLECTION, "review", review.id,
                     {"sample_item": item.id, "role": role, "form_id": version.form_id,
                      "form_hash": version.content_hash, "state": audit_state.state_of(review.id)})
        _prefill(review, item, actor)
    return review


def _prefill(review: m.Review, item: m.SampleItem, actor: str) -> None:
    """Fill the form's header questions from the case and the sample (qatt.reviewing.prefill), audited as
    an alteration that names where each answer came from."""
    from qatt.reviewing import prefill

    filled = prefill.prefilled_answers(form_of(review), item, actor)
    if not filled:
        return
    for qid, (value, origin) in filled.items():
        m.Answer.create(review=review, question_id=qid, value=value, origin=origin)
    _record_alteration(actor, review, {qid: {"old": None, "new": value} for qid, (value, _) in filled.items()}, {},
                       prefilled_from={qid: origin for qid, (_, origin) in filled.items()})


def origins_of(review: m.Review) -> Dict[str, str]:
    """{question id: origin} of the answers still as they were prefilled (see qatt.reviewing.prefill)."""
    return {qid: origin for qid, origin in m.Answer.select(m.Answer.question_id, m.Answer.origin)
            .where(m.Answer.review == review, m.Answer.origin != "").tuples()}


# --------------------------------------------------------------------------- saving drafts

def _validated(form, answers: Dict[str, Any]) -> Dict[str, Any]:
    from qatt.reviewing import forms

    clean = {}
    for qid, value in answers.items():
        if not form.has_question(qid):
            raise QattError(f"The form {form.id} has no question {qid!r}.")
        clean[qid] = forms.validate_answer(form.question(qid), value)
    return clean


def _write_answers(review: m.Review, new_answers: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    """Store the answers (None clears one); return {question id: {old, new}} for those that changed."""
    old = answers_of(review)
    changed = {}
    for qid, value in new_answers.items():
        if old.get(qid) == value:
            continue
        changed[qid] = {"old": old.get(qid), "new": value}
        if value is None:
            m.Answer.delete().where(m.Answer.review == review, m.Answer.question_id == qid).execute()
        elif qid in old:  # a changed answer is the reviewer's own: it loses any "from the extract" mark
            m.Answer.update(value=value, origin="").where(m.Answer.review == review,
                                                          m.Answer.question_id == qid).execute()
        else:
            m.Answer.create(review=review, question_id=qid, value=value)
    return changed


def _apply_details(review: m.Review, form, details: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    changed = {}
    for name, value in details.items():
        if value is _UNSET:
            continue
        if name not in DETAIL_FIELDS:
            raise QattError(f"A review has no field {name!r}; use one of {', '.join(DETAIL_FIELDS)}.")
        value = _clean_detail(form, name, value)
        old = getattr(review, name)
        if old != value:
            changed[name] = {"old": old, "new": value}
            setattr(review, name, value)
    return changed


def _clean_detail(form, name: str, value: Any) -> Any:
    if name == "feedback_date":
        return iso_date(value, "The feedback date")
    value = "" if value is None else str(value).strip()
    if name == "grade" and value and value not in form.scale.ids():
        raise QattError(f"{value!r} is not a grade on the {form.scale.title} scale; use one of "
                        f"{', '.join(form.scale.ids())}.")
    return value


def _record_alteration(actor: str, review: m.Review, answers: Dict[str, Any], fields: Dict[str, Any],
                       **extra: Any) -> None:
    details: Dict[str, Any] = {"version": review.version}
    if answers:
        details["answers"] = answers
    if fields:
        details["fields"] = fields
    details.update(extra)
    details["state"] = audit_state.state_of(review.id)  # what `audit verify` compares the review with
    audit.record(actor, audit.ALTERATION, "review", review.id, details)


def save_answers(review_id: int, answers: Dict[str, Any], actor: str, expected_version: int) -> m.Review:
    """Save draft answers (a value of None clears an answer). One transaction; bumps the version."""
    with write_transaction(database_proxy.obj):
        review = _locked_for_update(review_id, expected_version)
        _require_own(review, actor, "change its answers")
        _require_draft(review)
        changed = _write_answers(review, _validated(form_of(review), answers))
        if changed:
            _bump(review)
            review.save()
            _record_alteration(actor, review, changed, {})
    return review


def save_details(review_id: int, actor: str, expected_version: int, *, strengths: Any = _UNSET,
                 improvements: Any = _UNSET, feedback: Any = _UNSET, feedback_date: Any = _UNSET,
                 grade: Any = _UNSET, override_rationale: Any = _UNSET) -> m.Review:
    """Save the overall grade, rationale, strengths, areas for improvement and feedback of a draft."""
    details = dict(strengths=strengths, improvements=improvements, feedback=feedback,
                   feedback_date=feedback_date, grade=grade, override_rationale=override_rationale)
    with write_transaction(database_proxy.obj):
        review = _locked_for_update(review_id, expected_version)
        _require_own(review, actor, "change it")
        _require_draft(review)
        changed = _apply_details(review, form_of(review), details)
        if changed:
            _bump(review)
            review.save()
            _record_alteration(actor, review, {}, changed)
    return review


# --------------------------------------------------------------------------- submitting and amending

def _check_complete(review: m.Review, form) -> str:
    """Raise what would refuse the submission (missing answers, N/A refused, a grade differing from
    the suggested one without a rationale); return the suggested grade. Writes nothing."""
    from qatt.reviewing import forms, grading

    answers = answers_of(review)
    missing = forms.missing_required(form, answers)
    if missing:
        raise MissingAnswers(missing)
    refused = grading.refused_na(form, answers)
    if refused:
        raise RefusedNotApplicable(refused)
    visible = {q.id for q in forms.visible_questions(form, answers)}
    suggested = grading.suggest_grade(form, {k: v for k, v in answers.items() if k in visible}).grade or ""
    grade = review.grade or suggested
    if not grade:
        raise QattError(f"The form “{form.title}” suggests no grade; choose the overall grade before submitting.")
    if suggested and grade != suggested and not review.override_rationale.strip():
        raise QattError(
            f"The grade {form.scale.label(grade)} differs from the suggested "
            f"{form.scale.label(suggested)}; write a rationale for the difference."
        )
    return suggested


def check_submittable(review_id: int, actor: str) -> None:
    """Raise MissingAnswers, RefusedNotApplicable or QattError if submitting the saved draft now
    would be refused, so the desktop can say so before asking the reviewer to confirm the lock."""
    review = get_review(review_id)
    _require_own(review, actor, "submit it")
    _require_draft(review)
    _check_complete(review, form_of(review))


def _finalise(review: m.Review, form) -> Dict[str, Dict[str, Any]]:
    """Check completeness, drop hidden answers, compute the suggested grade and check any override.

    Returns the answers it dropped as {question id: {old, new: None}} for the audit record."""
    from qatt.reviewing import forms

    review.suggested_grade = _check_complete(review, form)
    answers = answers_of(review)
    visible = {q.id for q in forms.visible_questions(form, answers)}
    dropped = _write_answers(review, {qid: None for qid in answers if qid not in visible})
    if not review.grade:
        review.grade = review.suggested_grade
    if review.grade == review.suggested_grade:
        review.override_rationale = ""
    return dropped


def submit_review(review_id: int, actor: str, expected_version: int) -> m.Review:
    """Submit a complete draft: it is graded, stored with both grades, and locked."""
    with write_transaction(database_proxy.obj):
        review = _locked_for_update(review_id, expected_version)
        _require_own(review, actor, "submit it")
        _require_draft(review)
        before = {name: getattr(review, name) for name in ("grade", "suggested_grade", "override_rationale")}
        dropped = _finalise(review, form_of(review))
        fields = {name: {"old": old, "new": getattr(review, name)}
                  for name, old in before.items() if getattr(review, name) != old}
        fields["status"] = {"old": DRAFT, "new": SUBMITTED}
        review.status = SUBMITTED
        review.submitted_at = m.utcnow()
        _bump(review)
        review.save()
        _record_alteration(actor, review, dropped, fields)
    return review


def amend_review(review_id: int, actor: str, changes: Dict[str, Any], reason: str,
                 expected_version: int) -> m.Review:
    """Change a submitted review. `changes` holds detail fields and/or "answers": {question id: value}.

    The review's reviewer or a QA lead (or admin) may amend; the reason is required and audited."""
    if not (reason or "").strip():
        raise QattError("Give a reason for amending a submitted review.")
    unknown = set(changes) - set(DETAIL_FIELDS) - {"answers"}
    if unknown:
        raise QattError(f"A review has no field {sorted(unknown)[0]!r}; use answers or one of {', '.join(DETAIL_FIELDS)}.")
    with write_transaction(database_proxy.obj):
        review = _locked_for_update(review_id, expected_version)
        if review.reviewer != actor:
            users.require_role(actor, "qa_lead", "amend another reviewer's review")
        if review.status != SUBMITTED:
            raise QattError(f"Review {review.id} is still a draft; save it normally.")
        form = form_of(review)
        changed_answers = _write_answers(review, _validated(form, changes.get("answers", {})))
        before = {name: getattr(review, name) for name in ("suggested_grade", "override_rationale")}
        changed_fields = _apply_details(review, form, {k: v for k, v in changes.items() if k != "answers"})
        dropped = _finalise(review, form)
        for name, old in before.items():
            if getattr(review, name) != old and name not in changed_fields:
                changed_fields[name] = {"old": old, "new": getattr(review, name)}
        changed_answers.update(dropped)
        if not changed_answers and not changed_fields:
            raise QattError("The amendment changes nothing; nothing was saved.")
        _bump(review)
        review.save()
        _record_alteration(actor, review, changed_answers, changed_fields, amendment=True, reason=reason.strip())
    return review


# --------------------------------------------------------------------------- actions

def add_action(review_id: int, actor: str, text: str, owner: str = "", due_date: Any = None) -> m.Action:
    """Record an action arising from a review (text, owner, due date or YYYY-MM-DD text; starts open)."""
    if not (text or "").strip():
        raise QattError("Describe the action before adding it.")
    due_date = iso_date(due_date, "The due date")
    with write_transaction(database_proxy.obj):
        review = get_review(review_id)
        _require_reviewer_or(review, actor, "moderator", "add actions to it")
        action = m.Action.create(review=review, text=text.strip(), owner=owner, due_date=due_date)
        audit.record(actor, audit.ALTERATION, "action", action.id,
                     {"review": review.id, "fields": {"text": {"old": None, "new": action.text},
                                                      "owner": {"old": None, "new": owner},
                                                      "due_date": {"old": None, "new": due_date}}})
    return action


def update_action(action_id: int, actor: str, *, text: Any = _UNSET, owner: Any = _UNSET, due_date: Any = _UNSET,
                  status: Any = _UNSET) -> m.Action:
    """Change an action's text, owner, due date, or open / in progress status; its owner may update
    it too. Done, verified and cancelled have their own rules (qatt.loop.actions: a note, a verifier),
    so the owner and status of an action in one of them are not changed here."""
    if status is not _UNSET and status not in m.Action.STATUSES:
        raise QattError(f"Unknown action status {status!r}; use one of {', '.join(m.Action.STATUSES)}.")
    if status is not _UNSET and status not in ("open", "in progress"):
        raise QattError(f"Use `action update` (or the Actions page) to mark an action {status}: it needs a note "
                        "or a verifier.")
    with write_transaction(database_proxy.obj):
        action = m.Action.get_or_none(m.Action.id == action_id)
        if action is None:
            raise QattError(f"There is no action {action_id}; check the number.")
        if action.owner != actor:
            _require_reviewer_or(action.review, actor, "moderator", "change its actions")
        moving = [name for name, value in (("owner", owner), ("status", status))
                  if value is not _UNSET and getattr(action, name) != value]
        if moving and action.status not in ("open", "in progress"):
            # The owner and who marked it done decide who may verify it (qatt.loop.actions).
            raise QattError(f"Action {action.id} is {action.status}; its {' and '.join(moving)} cannot be changed "
                            "here. Use `action update` or the Actions page (a done action is sent back first).")
        changed = {}
        for name, value in (("text", text), ("owner", owner), ("due_date", due_date), ("status", status)):
            if value is not _UNSET and getattr(action, name) != value:
                changed[name] = {"old": getattr(action, name), "new": value}
                setattr(action, name, value)
        if changed:
            action.save()
            audit.record(actor, audit.ALTERATION, "action", action.id, {"review": action.review_id, "fields": changed})
    return action


def _require_reviewer_or(review: m.Review, actor: str, minimum: str, doing: str) -> None:
    if review.reviewer != actor:
        from qatt.trust import visibility

        users.require_role(actor, minimum, f"{doing} (review {review.id} is not yours)")
        visibility.check(review, actor)  # not on a review they are blind to


# --------------------------------------------------------------------------- viewing (blind second review)

@dataclass
class ReviewView:
    """A review as shown to a user who may see it (get_review_view checks that)."""

    id: int
    sample_item_id: int
    case_reference: str
    reviewer: str
    role: str
    status: str
    form_id: str
    form_version: str
    form_hash: str
    version: int
    answers: Dict[str, Any]
    suggested_grade: str
    grade: str
    override_rationale: str
    strengths: str
    improvements: str
    feedback: str
    feedback_date: Optional[str]
    compliance: Dict[str, Any]
    actions: List[Dict[str, Any]] = field(default_factory=list)
    submitted_at: Optional[str] = None
    origins: Dict[str, str] = field(default_factory=dict)  # prefilled answers: question id -> "From the extract (...)"

    def as_dict(self) -> Dict[str, Any]:
        return asdict(self)


def get_review_view(review_id: int, actor: str) -> ReviewView:
    """The review as `actor` may see it. Opening someone else's review is audited as a consultation.

    qatt.trust.visibility decides: a reviewer sees their own reviews; a moderator or above sees others',
    except the blind rule: while they hold the other review of the same case unsubmitted, it is refused."""
    from qatt.trust import visibility

    review = get_review(review_id)
    if review.reviewer != actor:
        visibility.check(review, actor)
        audit.record(actor, audit.CONSULTATION, "review", review.id, {"sample_item": review.sample_item_id})
    return _view(review)


def _view(review: m.Review) -> ReviewView:
    from qatt.reviewing import grading, prefill

    form = form_of(review)
    answers = answers_of(review)
    actions = [{"id": a.id, "text": a.text, "owner": a.owner, "status": a.status,
                "due_date": a.due_date.isoformat() if a.due_date else None}
               for a in m.Action.select().where(m.Action.review == review).order_by(m.Action.id)]
    fv = review.form_version
    return ReviewView(
        id=review.id, sample_item_id=review.sample_item_id, case_reference=review.sample_item.case.reference,
        reviewer=review.reviewer, role=review.role, status=review.status, form_id=fv.form_id,
        form_version=fv.version, form_hash=fv.content_hash, version=review.version, answers=answers,
        suggested_grade=review.suggested_grade, grade=review.grade, override_rationale=review.override_rationale,
        strengths=review.strengths, improvements=review.improvements, feedback=review.feedback,
        feedback_date=review.feedback_date.isoformat() if review.feedback_date else None,
        compliance=grading.compliance(form, answers).as_dict(), actions=actions,
        submitted_at=review.submitted_at.isoformat(timespec="seconds") if review.submitted_at else None,
        origins={qid: prefill.origin_label(origin) for qid, origin in origins_of(review).items()},
    )


@dataclass
class ModerationView:
    """First and second review of one case side by side, with the questions they answered differently."""

    sample_item_id: int
    case_reference: str
    first: Optional[ReviewView]
    second: Optional[ReviewView]
    grades_agree: Optional[bool]
    differing_answers: List[str]

    def as_dict(self) -> Dict[str, Any]:
        return asdict(self)


def moderation_view(sample_item_id: int, actor: str) -> ModerationView:
    """Both submitted reviews of a case; drafts are not shown. Refused while the actor's own is a draft."""
    item = m.SampleItem.get_or_none(m.SampleItem.id == sample_item_id)
    if item is None:
        raise QattError(f"There is no sample item {sample_item_id}; check the number.")
    from qatt.trust import visibility

    reviews = {r.role: r for r in m.Review.select().where(m.Review.sample_item == item)}
    own = [r for r in reviews.values() if r.reviewer == actor]
    if visibility.is_blinded(actor, item.id):
        raise PermissionDenied(f"Submit your review of case {item.case.reference} before comparing it "
                               "(blind second review).")
    if not own:
        users.require_role(actor, "moderator", "compare other people's reviews")
    views = {}
    for role, review in reviews.items():
        if review.status == SUBMITTED and not visibility.reason_hidden(review, actor):
            if review.reviewer != actor:
                audit.record(actor, audit.CONSULTATION, "review", review.id, {"sample_item": item.id})
            views[role] = _view(review)
    first, second = views.get(FIRST), views.get(SECOND)
    agree = differing = None
    if first and second:
        agree = first.grade == second.grade
        differing = sorted(q for q in set(first.answers) | set(second.answers)
                           if first.answers.get(q) != second.answers.get(q))
    return ModerationView(item.id, item.case.reference, first, second, agree, differing or [])
