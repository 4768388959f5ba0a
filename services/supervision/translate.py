"""supervision's domain events → the published language."""

from __future__ import annotations

import re
from typing import Any

from services.supervision.domainmodel import ASSIGN_BASIS, REPORT_UP_BASIS, TRANSFER_BASIS, Case
from services.supervision.lifecycle import STATUS_TEXT, Status
from shared.language.integration.catalog import CASE_OPENED, CASE_STEP_TYPES
from shared.language.integration.envelope import IntegrationEvent, event_id, published_actor


def _step_name(event_class: type) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", event_class.__name__).lower()


# Every lifecycle event class, by the step name its integration type carries (ReReviewDecided -> re_review_decided).
STEP_CLASSES = {_step_name(c): c for c in Case.Transitioned.__subclasses__()}
if set(STEP_CLASSES) != set(CASE_STEP_TYPES):
    raise ImportError("the case.* catalogue and the lifecycle events disagree")

# What a step's `details` may publish: codes, organs, dates and numbers (case.step.v2's closed schema lists
# them). An allow-list, not a deny-list: a step that records something new publishes nothing of it until it is
# added here and to the schema. Free text written by officers or petitioners (opinions, reasons, explanations,
# comments, approvers, where-to-go advice) may name people: it stays in supervision and its views (Art. 30).
PUBLISHED_DETAILS = frozenset({
    "disposition", "rule_id", "rules_version", "organ", "joining_organs", "review_organ", "re_review_organ",
    "organ_code", "excluded_organs", "received_on", "accepted_on", "requested_on", "on", "started_on",
    "previous_due", "window_due", "upheld", "procedure", "reason_code", "earlier_petition_id", "repeat_check",
    "item", "kind", "days", "paused_days", "level", "outcome", "outcome_text", "rating", "rating_text", "window",
    "previous", "taken_by", "channel",
})
# An evaluation recorded before ratings said who took them was the petitioner's, online: published as such, so
# that rates can always tell the petitioner's own ratings from those taken on return visits (回访).
EVALUATION_DEFAULTS = {"taken_by": "petitioner", "channel": "online"}
# Steps whose basis an officer may have written or added to (a clerk's own routing basis, the reasons appended to
# a report up): they publish the statutory basis alone.
STATUTORY_BASIS = {"transferred": TRANSFER_BASIS, "assigned": ASSIGN_BASIS, "reported_up": REPORT_UP_BASIS}

# The domain events this module publishes (the relay skips every other event without decoding it).
TRANSLATED = (Case.Opened, *STEP_CLASSES.values())


def to_integration_event(domain_event: Any, sequence: int, source: str) -> IntegrationEvent | None:
    if isinstance(domain_event, Case.Transitioned):
        return _step(domain_event, sequence, source)
    if not isinstance(domain_event, Case.Opened):
        return None
    petition_id = str(domain_event.originator_id)
    return IntegrationEvent(
        id=event_id(source, domain_event.originator_id, domain_event.originator_version),
        source=source,
        event_type=CASE_OPENED,
        subject=petition_id,
        time=domain_event.timestamp,
        data={
            "petition_id": petition_id,
            "opened_at": domain_event.timestamp.isoformat(),
            "deadlines": [
                {k: d[k] for k in ("kind", "due", "basis", "provisional")} for d in domain_event.deadlines
            ],
        },
        correlation_id=domain_event.correlation_id,
        causation_id=domain_event.causation_id,
        sequence=sequence,
    )


def _step(e: Case.Transitioned, sequence: int, source: str) -> IntegrationEvent:
    petition_id = str(e.originator_id)
    step = _step_name(type(e))
    return IntegrationEvent(
        id=event_id(source, e.originator_id, e.originator_version),
        source=source,
        event_type=CASE_STEP_TYPES[step],
        subject=petition_id,
        time=e.timestamp,
        data={
            "petition_id": petition_id, "step": step, "action": e.action, "status": e.status,
            "status_text": STATUS_TEXT[Status(e.status)], "at": e.at,
            "actor": published_actor(e.actor), "basis": _published_basis(step, e),
            "details": _published_details(step, e),
            "deadlines_opened": [{k: d[k] for k in ("kind", "label", "due", "basis", "provisional") if k in d}
                                 for d in e.opened],
            "deadlines_closed": e.closed,
        },
        correlation_id=e.correlation_id,
        causation_id=e.causation_id,
        sequence=sequence,
    )


def _published_details(step: str, e: Case.Transitioned) -> dict[str, Any]:
    details = {k: v for k, v in e.details.items() if k in PUBLISHED_DETAILS}
    if step == "evaluated":
        details = {**EVALUATION_DEFAULTS, **details}
    return details


def _published_basis(step: str, e: Case.Transitioned) -> str:
    statutory = STATUTORY_BASIS.get(step)
    if statutory is None or e.actor.get("role") == "system":
        return e.basis  # a constant of the domain model, a reason table's, or the routing rules' (data files)
    return statutory
