"""What a lifecycle step tells the petitioner: which notices its declaration sends (Step.notice in
shared/language/contracts/lifecycle.py STEPS) and the values each one's template needs, taken from the step as
supervision recorded it and the petition's particulars (translate.CaseStep). Pure: no store, no clock, no network.

A value nothing records yet is given empty only where the template words its absence as the statute does (the
opinion's basis, the organ one level up that reviews, the status page's address: shared/language/contracts/
notices.py); every other value the step must have recorded, or rendering refuses the notice (templates.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from services.notification.translate import CaseStep
from shared.language.chinatime import chinese_date, chinese_day
from shared.language.contracts.deadlines import DEADLINE_LABELS
from shared.language.contracts.lifecycle import STEPS, SUPERVISION_LEVELS
from shared.language.contracts.notices import HOLDER, NOTICES, TELLS_ORGANS, Issuer, NoticeKind

N = NoticeKind
ORGAN_LIST_SEPARATOR = "、"


class UnknownStep(LookupError):
    """A case.<step> whose action no declared step has: a newer supervision than this notification."""


def notice_kinds(action: str, details: Mapping[str, Any]) -> tuple[NoticeKind, ...]:
    """The notices step `action` sends, in order, as its declaration says for what it recorded (`details`: its
    disposition or outcome, which case.<step> publishes too); none for a step declared silent."""
    declared = STEPS.get(action)
    if declared is None:
        raise UnknownStep(action)
    return declared.notice.for_step(details)


def _organ_name(organ: Any) -> str:
    return str(organ.get("name") or "") if isinstance(organ, Mapping) else ""


def _due(step: CaseStep, *kinds: str) -> str:
    """The due day (Chinese) of the first deadline the step opened of one of `kinds` (any, if none named)."""
    for deadline in step.opened:
        if not kinds or deadline.get("kind") in kinds:
            return chinese_day(deadline["due"])
    return ""


def _day(value: Any) -> str:
    return chinese_day(value) if value else ""


def _routed(step: CaseStep, decider: str) -> dict[str, str]:
    joining = step.details.get("joining_organs") or []
    return {"organ_name": _organ_name(step.details.get("organ")),
            "joining_organ_names": ORGAN_LIST_SEPARATOR.join(_organ_name(o) for o in joining if _organ_name(o)),
            "basis": step.basis}


def _declined(step: CaseStep, decider: str) -> dict[str, str]:
    return {"reason": str(step.details.get("reason", "")), "basis": step.basis,
            "explanation": str(step.details.get("explanation", ""))}


def _opinion(step: CaseStep, decider: str) -> dict[str, str]:
    # The opinion's own basis is what the organ gave with the reply (`opinion_basis`; the step's recorded basis is
    # the statute under which the opinion is issued): without one the template leaves the section out. The
    # reviewing organ is the deciding organ's parent (notice_values' `superior`).
    return {"request": step.request, "facts": step.facts, "opinion": str(step.details.get("opinion", "")),
            "outcome": str(step.details.get("outcome", "")), "basis": str(step.details.get("opinion_basis") or ""),
            "review_organ": ""}


def _review_opinion(step: CaseStep, decider: str) -> dict[str, str]:
    return {"original_organ_name": _organ_name(step.case.get("organ")),
            "requested_on": _day(step.case.get("requested_on")), "opinion": str(step.details.get("opinion", "")),
            "outcome": str(step.details.get("outcome", "")), "re_review_organ": ""}


def _re_review_opinion(step: CaseStep, decider: str) -> dict[str, str]:
    return {"review_organ_name": _organ_name(step.case.get("review_organ")),
            "requested_on": _day(step.case.get("requested_on")), "opinion": str(step.details.get("opinion", "")),
            "outcome": str(step.details.get("outcome", ""))}


def _rating(step: CaseStep, decider: str) -> dict[str, str]:
    # No rating deadline is set by this county's rules: the template says the rating has no closing date.
    return {"level": str(step.details.get("level", "")), "organ_name": decider, "rating_due": ""}


_OWN: dict[NoticeKind, Callable[[CaseStep, str], dict[str, str]]] = {
    N.TRANSFER_NOTICE: _routed,
    N.ASSIGNMENT_NOTICE: _routed,
    N.ACCEPTANCE_NOTICE: lambda s, d: {"accepted_on": _day(s.details.get("accepted_on")),
                                       "procedure": str(s.details.get("procedure", "")),
                                       "handling_due": _due(s, "handling", "simplified_handling")},
    N.NOT_ACCEPTED_NOTICE: _declined,
    N.NOT_ACCEPTED_AGAIN_NOTICE: _declined,
    N.REDIRECT_NOTICE: lambda s, d: {"where_to_go": str(s.details.get("where_to_go") or "")},
    N.DIVERSION_NOTICE: lambda s, d: {"procedure": str(s.details.get("procedure", "")), "basis": s.basis,
                                      "explanation": str(s.details.get("explanation", ""))},
    N.EXTENSION_NOTICE: lambda s, d: {"previous_due": _day(s.details.get("previous_due")),
                                      "days": str(s.details.get("days", "")), "new_due": _due(s, "handling"),
                                      "approved_by": str(s.details.get("approved_by", "")),
                                      "reasons": str(s.details.get("reasons", ""))},
    N.OPINION: _opinion,
    N.REVIEW_OPINION: _review_opinion,
    N.RE_REVIEW_OPINION: _re_review_opinion,
    N.RATING_INVITATION: _rating,
}


def notice_values(kind: NoticeKind, step: CaseStep, *, bureau_name: str, issued_on: str,
                  status_url: str = "", superior: str = "") -> dict[str, str]:
    """The values the template of `kind` needs (exactly those its kind declares) for `step`'s notice. It is issued
    by the bureau, or by the organ that decided (the one whose officer took the step; the bureau when the bureau or
    the platform took it), as the kind declares. `superior`: the name of the deciding organ's parent in the organ
    table (上一级机关), which an opinion names as where to ask for review (Art. 35) and a review opinion as where to
    ask for re-review (Art. 36); empty when the table names none (the template then words it as the statute)."""
    if kind not in _OWN:
        raise ValueError(f"{kind} is not a step's notice")
    spec = NOTICES[kind]
    decider = _organ_name(step.decider) or bureau_name
    values = {
        "name": step.recipient.name if step.recipient else "",
        "title": step.title, "registered_date": step.petitioned_on, "query_code": step.query_code,
        "issuer_name": bureau_name if spec.issuer is Issuer.BUREAU else decider, "issued_on": issued_on,
        **_OWN[kind](step, decider),
    }
    if "status_url" in spec.values:
        values["status_url"] = status_url
    for name in ("review_organ", "re_review_organ"):
        if name in values:
            values[name] = superior
    return values


def organs_told(step: CaseStep) -> list[tuple[dict[str, str], str]]:
    """The organs `step` put the case before, each with the duty asked of it (TELLS_ORGANS), from the case just
    after the step: the lead organ of a routing (assigned when the rules or the bureau assigned it), the joining
    organs, the reviewing organ, the organ an upheld objection names."""
    if step.action == "decide_objection" and not (step.details.get("upheld") and step.details.get("organ")):
        # Rejected: nothing moves. Upheld without a new organ: the case goes back to the rules, whose routing
        # tells the organ they choose (the case's organ is still the one that objected).
        return []
    if step.action == "review_order_answer" and step.details.get("accepted"):
        return []  # the answer accepted closes the order: nothing more is asked of the organ
    told: list[tuple[dict[str, str], str]] = []
    for key, duty in TELLS_ORGANS.get(step.action, ()):
        named = step.details.get("holder") if key == HOLDER else step.case.get(key)
        organs = named if isinstance(named, list) else [named] if named else []
        if key == "organ" and step.details.get("disposition") == "assign":
            duty = "assign"
        told += [(dict(organ), duty) for organ in organs if isinstance(organ, Mapping) and organ.get("code")]
    return told


def organ_notice_values(step: CaseStep, organ: Mapping[str, str], duty: str, *, bureau_name: str, issued_on: str,
                        console_url: str = "") -> dict[str, str]:
    """The values of the notice telling `organ` of the case `step` put before it: the case by its number, the day,
    the duty and the deadline the step opened (no query code, title or personal data: ORGAN_COMMON)."""
    due = _due(step, "review") if duty == "review" else _due(step, "re_review") if duty == "re_review" else \
        _due(step, "acceptance", "assignment_report") if duty in ("transfer", "assign") else \
        _day(step.details.get("due")) if duty in ("reminder", "overdue", "supervision", "answer_rejected") else ""
    watched = duty in ("reminder", "overdue")
    return {"organ_name": str(organ.get("name") or organ.get("code")), "issuer_name": bureau_name,
            "deadline_label": DEADLINE_LABELS.get(str(step.details.get("kind")), "办理期限") if watched else "",
            "days_left": str(step.details.get("days_left", "")) if duty == "reminder" else "",
            "order_level": SUPERVISION_LEVELS.get(str(step.details.get("order_level")), "督办") if duty == "supervision"
            else "",
            "issued_on": issued_on, "duty": duty, "petition_ref": str(step.petition_id),
            "sent_on": chinese_date(step.at),
            "due": due, "case_url": f"{console_url.rstrip('/')}/console/cases/{step.petition_id}" if console_url
            else ""}
