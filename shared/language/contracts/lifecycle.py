"""Lifecycle commands: what officers and petitioners send to move a case (docs/domain.md §"Lifecycle").

One model per action serves the gateway (request bodies, OpenAPI) and supervision (it validates RPC payloads
again), so a command is checked by the same rules whichever way it arrives. State, permission and statutory
rules (windows, limits) are the Case aggregate's to check, not these models'.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from shared.language.contracts.text import FreeText, Line

# Opinions, reasons and the like are free text (line breaks kept); codes and names are one line. Control and bidi
# characters and invisible-only values are refused either way (shared/language/contracts/text.py).
Text = Annotated[FreeText, Field(min_length=1, max_length=5_000)]
ShortText = Annotated[FreeText, Field(max_length=2_000)]
OrganCode = Annotated[Line, Field(min_length=1, max_length=64)]


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Transfer(_Command):
    """转送 to the competent organ (optionally with organs that join a lead organ)."""

    organ_code: OrganCode
    joining_organ_codes: Annotated[list[OrganCode], Field(max_length=10)] = []
    basis: ShortText = ""


class Assign(Transfer):
    """交办: the result must be reported back by `report_due` (the rule's default when omitted)."""

    report_due: date | None = None


class ReportUp(_Command):
    reasons: Text


class Redirect(_Command):
    where_to_go: Text  # the organ or procedure the petitioner should turn to


class Objection(_Command):
    reasons: Text
    suggested_organ_code: OrganCode | None = None


class ObjectionDecision(_Command):
    upheld: bool
    reasons: Text
    organ_code: OrganCode | None = None  # where to transfer when upheld; omitted: routed again by the rules


class Accept(_Command):
    procedure: Literal["ordinary", "simplified"] = "ordinary"
    notes: ShortText = ""


class Decline(_Command):
    reason_code: Annotated[Line, Field(min_length=1, max_length=64)]
    explanation: ShortText = ""
    # A petition id (UUID): published in case.declined(_again) as one, so no officer's words can ride in it.
    earlier_petition_id: uuid.UUID | None = None


class NewMatter(_Command):
    new_facts: Text  # the new facts or reasons the clerk found


class Divert(_Command):
    item: Annotated[int, Field(ge=1, le=5)]  # Art. 31 item (1)-(5)
    explanation: ShortText = ""


class HandlingStep(_Command):
    kind: Literal["hearing", "mediation", "settlement", "investigation"]
    summary: Text


class ConvertToOrdinary(_Command):
    reason: Text


class Extend(_Command):
    days: Annotated[int, Field(ge=1)]
    reasons: Text
    approved_by: Annotated[Line, Field(min_length=1, max_length=50)]


class Reply(_Command):
    outcome: Literal["support", "explain", "not_support"]
    opinion: Text


class OpenReview(_Command):
    organ_code: OrganCode  # the organ one level above (复查机关 / 复核机关)


class ReviewDecision(_Command):
    outcome: Literal["uphold", "change", "rehandle"]
    opinion: Text


class ReReviewDecision(_Command):
    outcome: Literal["uphold", "change"]
    opinion: Text


class Hearing(_Command):
    pass


class Withdraw(_Command):
    reasons: Text


Rating = Literal["satisfied", "basically_satisfied", "dissatisfied"]
# How the bureau reached the petitioner on a return visit (回访): by telephone, in person, or by letter.
ReturnVisitChannel = Literal["phone", "visit", "letter"]


_ID_NUMBER_TAIL = re.compile(r"[0-9]{5}[0-9X]")


def id_number_tail(value: str) -> str:
    """The last six characters of a resident ID number: five digits, then a digit or X (the check character).
    Full-width characters and a lower-case x, as a phone keyboard may give them, are read as typed on paper."""
    tail = unicodedata.normalize("NFKC", value).strip().upper()
    if not _ID_NUMBER_TAIL.fullmatch(tail):
        raise PydanticCustomError("invalid_id_number_tail", "身份证号码后六位应为6位数字（最后一位可能是X）")
    return tail


IdNumberTail = Annotated[Line, Field(max_length=32), AfterValidator(id_number_tail)]


class _Rating(_Command):
    rating: Rating
    comment: ShortText = ""


class Evaluation(_Rating):
    """满意度评价 as supervision takes it. `return_visit_channel` is for a rating a clerk took on a return visit
    (回访) only; the Case checks it against who acts (the petitioner's own rating is online, without one)."""

    return_visit_channel: ReturnVisitChannel | None = None


class ReturnVisitEvaluation(_Rating):
    """The petitioner's rating as a clerk took it on a return visit (回访): recorded with the clerk as actor. The
    field is not called `channel`: that name (and its label, 信访渠道) is the petition's own channel."""

    return_visit_channel: ReturnVisitChannel


class ReviewRequest(_Command):
    reasons: Text


class _SecondFactor(_Command):
    """What the petitioner adds to the query code at the public endpoints (docs/security.md): the last six
    characters of the ID number on file. The gateway checks it with intake and does not pass it on."""

    id_number_tail: IdNumberTail


class PetitionerEvaluation(_SecondFactor, _Rating):
    """满意度评价 by the petitioner, online, with the query code."""


class PetitionerReviewRequest(_SecondFactor, ReviewRequest):
    """请求复查 or 请求复核 by the petitioner, online, with the query code."""


# action name -> its command model (the names are lifecycle.ACTIONS' keys).
COMMANDS: dict[str, type[_Command]] = {
    "transfer": Transfer, "assign": Assign, "report_up": ReportUp, "redirect": Redirect, "object": Objection,
    "decide_objection": ObjectionDecision, "accept": Accept, "decline": Decline, "decline_again": Decline,
    "divert": Divert, "record_handling": HandlingStep, "convert_to_ordinary": ConvertToOrdinary, "extend": Extend,
    "reply": Reply, "open_review": OpenReview, "decide_review": ReviewDecision, "open_re_review": OpenReview,
    "start_hearing": Hearing, "end_hearing": Hearing, "decide_re_review": ReReviewDecision, "withdraw": Withdraw,
    "evaluate": Evaluation, "request_review": ReviewRequest, "reopen_as_new_matter": NewMatter,
}
