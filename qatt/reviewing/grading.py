"""Suggested grades and compliance, from a form's grading rules and a review's answers.

The suggestion follows DOMAIN §1.3: a failed critical item caps it at the lowest grade; otherwise
either the share of "no" answers picks a band (`no_share`) or the 2007 SGC tiers apply (`tiers`).
Compliance is yes ÷ (yes + no): N/A, unanswered and hidden questions are left out. Reviewers may
override the suggestion with a rationale; that lives in the review engine, not here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from qatt.reviewing.forms import Form, Question, effective_answers, visible_questions

CHECKLIST_TYPES = ("yes_no", "yes_no_na")


@dataclass(frozen=True)
class Suggestion:
    grade: Optional[str]
    reasons: List[str] = field(default_factory=list)


@dataclass
class Compliance:
    """Counts of yes / no / N/A answers; `rate` is yes ÷ (yes + no + na_refused), None when nothing counted.

    `na_refused` counts N/A answers the form does not allow where they were given (e.g. M4 left
    N/A on an exception, in a review submitted before the rule existed): the item applied, so it
    stays in the denominator as not met, and is shown apart rather than hidden among the N/As."""

    yes: int = 0
    no: int = 0
    na: int = 0
    na_refused: int = 0

    @property
    def counted(self) -> int:
        return self.yes + self.no + self.na_refused

    @property
    def rate(self) -> Optional[float]:
        return self.yes / self.counted if self.counted else None

    def add(self, answer: Any, na_refused: bool = False) -> None:
        if answer == "na" and na_refused:
            self.na_refused += 1
        elif answer in ("yes", "no", "na"):
            setattr(self, answer, getattr(self, answer) + 1)

    def as_dict(self) -> Dict[str, Any]:
        return {"yes": self.yes, "no": self.no, "na": self.na, "na_refused": self.na_refused, "rate": self.rate}


@dataclass
class ItemCompliance(Compliance):
    """Compliance of one checklist question across many reviews."""

    question_id: str = ""
    text: str = ""

    def as_dict(self) -> Dict[str, Any]:
        return dict(super().as_dict(), question_id=self.question_id, text=self.text)


def _checklist_answers(form: Form, answers: Mapping[str, Any], *, counted_only: bool = True
                       ) -> List[Tuple[Question, Any, bool]]:
    """(question, answer, N/A refused) for the visible yes/no questions of one review; items the
    form records without counting (`counts_toward_compliance: false`, e.g. M19) are left out."""
    effective = effective_answers(form, answers)
    return [(q, effective.get(q.id), q.na_refused(effective)) for q in visible_questions(form, answers)
            if q.type in CHECKLIST_TYPES and (q.counts_toward_compliance or not counted_only)]


def compliance(form: Form, answers: Mapping[str, Any]) -> Compliance:
    """One review's compliance over its visible yes/no questions that count toward compliance."""
    result = Compliance()
    for _, answer, refused in _checklist_answers(form, answers):
        result.add(answer, refused)
    return result


def item_compliance(reviews: Iterable[Tuple[Form, Mapping[str, Any]]]) -> List[ItemCompliance]:
    """Compliance per checklist question over (form, answers) pairs, merged by question id so
    reviews made against different versions of a form count together. In first-seen form order.

    A question counts only in the reviews where it was shown (M4 only on the exceptions), so its
    rate is over the cases it applied to; an N/A the form refuses there counts as not met."""
    items: Dict[str, ItemCompliance] = {}
    for form, answers in reviews:
        for question, answer, refused in _checklist_answers(form, answers):
            item = items.setdefault(question.id, ItemCompliance(question_id=question.id, text=question.text))
            item.add(answer, refused)
    return list(items.values())


def refused_na(form: Form, answers: Mapping[str, Any]) -> List[Tuple[Question, List[str]]]:
    """Visible questions answered N/A where the form does not allow it, each with the reason in
    the reviewer's words (question texts and answer labels, never ids)."""
    effective = effective_answers(form, answers)
    return [(q, describe_condition(form, q.na_not_allowed_if, effective))
            for q in visible_questions(form, answers)
            if effective.get(q.id) == "na" and q.na_refused(effective)]


def describe_condition(form: Form, condition: Any, answers: Mapping[str, Any]) -> List[str]:
    """The parts of a condition that hold for these answers, in words: ['“Unannounced” is No']."""
    from qatt.reviewing import forms as f

    if isinstance(condition, (f.All, f.Any_)):
        return [text for part in condition.conditions if part.holds(answers)
                for text in describe_condition(form, part, answers)]
    if isinstance(condition, f.Not):
        return [f"not ({'; '.join(describe_condition(form, condition.condition, {}) or ['the condition'])})"]
    question = form.question(condition.questions()[0])
    return [f"“{question.text}” is {answer_label(question, answers.get(question.id))}"]


def answer_label(question: Question, value: Any) -> str:
    """An answer as the reviewer sees it: No, N/A, an option's or grade's label."""
    if value is None:
        return "unanswered"
    if question.type in CHECKLIST_TYPES:
        return {"yes": "Yes", "no": "No", "na": "N/A"}.get(value, str(value))
    if question.type == "grade" and question.scale is not None:
        try:
            return question.scale.label(value)
        except KeyError:
            return str(value)
    if question.type == "choice":
        return question.option_label(value)
    return str(value)


def _critical_failures(form: Form, answers: Mapping[str, Any]) -> List[Tuple[Question, Any]]:
    """Visible questions whose answer caps the grade: "no" on a critical item, or one of its
    `critical_answers` (any checklist, choice or grade question)."""
    effective = effective_answers(form, answers)
    return [(q, effective.get(q.id)) for q in visible_questions(form, answers)
            if q.failing_answers and effective.get(q.id) in q.failing_answers]


def _share_text(part: int, whole: int) -> str:
    return f"{part} of {whole} ({100 * part / whole:.0f}%)"


def suggest_grade(form: Form, answers: Mapping[str, Any]) -> Suggestion:
    """The grade the form's rules suggest for these answers, with the reasons in plain words."""
    rules = form.grading
    failed = _critical_failures(form, answers)
    if failed:
        grade = form.scale.lowest() if rules.critical_fail == "lowest" else rules.critical_fail
        reasons = [f"Critical item “{q.text}” answered {answer_label(q, answer)}" for q, answer in failed]
        return Suggestion(grade, reasons + [f"a failed critical item caps the grade at {form.scale.label(grade)}"])
    if rules.no_share:
        return _by_no_share(form, answers)
    if rules.tiers is not None:
        return _by_tiers(form, answers)
    return Suggestion(None, ["this form has no grading rule; choose the grade yourself"])


def _by_no_share(form: Form, answers: Mapping[str, Any]) -> Suggestion:
    counts = compliance(form, answers)
    if not counts.counted:
        return Suggestion(None, ["no yes/no item answered yet (N/A answers do not count)"])
    share = counts.no / counts.counted
    for band in form.grading.no_share:
        if band.up_to is None or share <= band.up_to + 1e-12:
            limit = "above every other band" if band.up_to is None else f"at most {band.up_to:.0%}"
            return Suggestion(band.grade, [f"{_share_text(counts.no, counts.counted)} answered items are 'no' ({limit})"])
    raise AssertionError("validated no_share bands always end with 'otherwise' or up_to: 1")


def _tier_counts(form: Form, answers: Mapping[str, Any], tier: str, significant_only: bool = False) -> Tuple[int, int]:
    """(met, answered) yes/no items of a tier; N/A and unanswered items are left out."""
    met = answered = 0
    for question, answer, _refused in _checklist_answers(form, answers):
        if question.tier != tier or answer not in ("yes", "no") or (significant_only and not question.significant):
            continue
        answered += 1
        met += answer == "yes"
    return met, answered


def _by_tiers(form: Form, answers: Mapping[str, Any]) -> Suggestion:
    tiers = form.grading.tiers
    assert tiers is not None
    # Without any item flagged significant, every Fair item is significant.
    any_significant = any(q.significant for q in form.questions() if q.tier == "fair")
    sig_met, sig_answered = _tier_counts(form, answers, "fair", significant_only=any_significant)
    if sig_met < sig_answered:
        return Suggestion(tiers.fail_grade, [f"significant Fair criteria met: {_share_text(sig_met, sig_answered)}; "
                                             "all must be met for Fair"])
    reasons = [f"all {sig_answered} answered significant Fair criteria met"]
    fair_met, fair_answered = _tier_counts(form, answers, "fair")
    good_met, good_answered = _tier_counts(form, answers, "good")
    if fair_met < fair_answered or not good_answered:
        if fair_met < fair_answered:
            reasons.append(f"Fair criteria met: {_share_text(fair_met, fair_answered)}; Good needs all of them")
        else:
            reasons.append("no Good criterion answered")
        return Suggestion(tiers.fair_all_significant, reasons)
    good_share = good_met / good_answered
    reasons.append(f"Good criteria met: {_share_text(good_met, good_answered)}")
    if good_share < tiers.good_most:
        reasons.append(f"Good needs at least {tiers.good_most:.0%}")
        return Suggestion(tiers.fair_all_significant, reasons)
    excellent_met, excellent_answered = _tier_counts(form, answers, "excellent")
    excellent_ok = not excellent_answered or excellent_met / excellent_answered >= tiers.excellent_most
    if good_share >= tiers.excellent_most and excellent_ok:
        if excellent_answered:
            reasons.append(f"Excellent criteria met: {_share_text(excellent_met, excellent_answered)}")
        reasons.append(f"the vast majority (at least {tiers.excellent_most:.0%}) met")
        return Suggestion(tiers.excellent_grade, reasons)
    return Suggestion(tiers.good_grade, reasons)
