"""Lifecycle commands: what officers and petitioners send to move a case (xinfang-domain.md §2.2).

One model per action serves the gateway (request bodies, OpenAPI) and supervision (it validates RPC payloads
again), so a command is checked by the same rules whichever way it arrives. State, permission and statutory
rules (windows, limits) are the Case aggregate's to check, not these models'.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.text import FreeText, Line

# Opinions, reasons and the like are free text (line breaks kept); codes and names are one line. Control and bidi
# characters and invisible-only values are refused either way (shared/contracts/text.py).
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
    earlier_petition_id: Annotated[Line, Field(max_length=64)] | None = None


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


class Evaluation(_Command):
    rating: Literal["satisfied", "basically_satisfied", "dissatisfied"]
    comment: ShortText = ""


class ReviewRequest(_Command):
    reasons: Text


# action name -> its command model (the names are lifecycle.ACTIONS' keys).
COMMANDS: dict[str, type[_Command]] = {
    "transfer": Transfer, "assign": Assign, "report_up": ReportUp, "redirect": Redirect, "object": Objection,
    "decide_objection": ObjectionDecision, "accept": Accept, "decline": Decline, "decline_again": Decline,
    "divert": Divert, "record_handling": HandlingStep, "convert_to_ordinary": ConvertToOrdinary, "extend": Extend,
    "reply": Reply, "open_review": OpenReview, "decide_review": ReviewDecision, "open_re_review": OpenReview,
    "start_hearing": Hearing, "end_hearing": Hearing, "decide_re_review": ReReviewDecision, "withdraw": Withdraw,
    "evaluate": Evaluation, "request_review": ReviewRequest, "reopen_as_new_matter": NewMatter,
}
