"""Suggested grades and compliance, from a form's grading rules and a review's answers.

The suggestion follows DOMAIN §1.3: a failed critical item caps it at the lowest grade; otherwise
either the share of "no" answers picks a band (`no_share`) or the 2007 SGC tiers apply (`tiers`).
Compliance is yes ÷ (yes + no): N/A, unanswered and hidden questions are left out. Reviewers may
override the suggestion with a rationale; that lives in the review engine, not here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from qatt.forms import Form, Question, effective_answers, visible_questions

CHECKLIST_TYPES = ("yes_no", "yes_no_na")


@dataclass(frozen=True)
class Suggestion:
    grade: Optional[str]
    reasons: List[str] = field(default_factory=list)


@dataclass
class Compliance:
    """Counts of yes / no / N/A answers; `rate` is yes ÷ (yes + no), None when nothing counted."""

    yes: int = 0
    no: int = 0
    na: int = 0

    @property
    def counted(self) -> int:
        return self.yes + self.no

    @property
    def rate(self) -> Optional[float]:
        return self.yes / self.counted if self.counted else None

    def add(self, answer: Any) -> None:
        if answer in ("yes", "no", "na"):
            setattr(self, answer, getattr(self, answer) + 1)

    def as_dict(self) -> Dict[str, Any]:
        return {"yes": self.yes, "no": self.no, "na": self.na, "rate": self.rate}


@dataclass
class ItemCompliance(Compliance):
    """Compliance of one checklist question across many reviews."""

    question_id: str = ""
    text: str = ""

    def as_dict(self) -> Dict[str, Any]:
        return dict(super().as_dict(), question_id=self.question_id, text=self.text)


def _checklist_answers(form: Form, answers: Mapping[str, Any]) -> List[Tuple[Question, Any]]:
    """(question, answer) for the visible yes/no questions of one review."""
    effective = effective_answers(form, answers)
    return [(q, effective.get(q.id)) for q in visible_questions(form, answers) if q.type in CHECKLIST_TYPES]


def compliance(form: Form, answers: Mapping[str, Any]) -> Compliance:
    """One review's compliance over its visible yes/no questions."""
    result = Compliance()
    for _, answer in _checklist_answers(form, answers):
        result.add(answer)
    return result


def item_compliance(reviews: Iterable[Tuple[Form, Mapping[str, Any]]]) -> List[ItemCompliance]:
    """Compliance per checklist question over (form, answers) pairs, merged by question id so
    reviews made against different versions of a form count together. In first-seen form order."""
    items: Dict[str, ItemCompliance] = {}
    for form, answers in reviews:
        for question, answer in _checklist_answers(form, answers):
            item = items.setdefault(question.id, ItemCompliance(question_id=question.id, text=question.text))
            item.add(answer)
    return list(items.values())


def _critical_failures(form: Form, answers: Mapping[str, Any]) -> List[Question]:
    return [q for q, answer in _checklist_answers(form, answers) if q.critical and answer == "no"]


def _share_text(part: int, whole: int) -> str:
    return f"{part} of {whole} ({100 * part / whole:.0f}%)"


def suggest_grade(form: Form, answers: Mapping[str, Any]) -> Suggestion:
    """The grade the form's rules suggest for these answers, with the reasons in plain words."""
    rules = form.grading
    failed = _critical_failures(form, answers)
    if failed:
        grade = form.scale.lowest() if rules.critical_fail == "lowest" else rules.critical_fail
        reasons = [f"Critical item {q.id} ({q.text}) answered no" for q in failed]
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
    for question, answer in _checklist_answers(form, answers):
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
