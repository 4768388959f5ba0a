"""The catalogue of integration event types: the platform's published language.

A type never changes once published: a breaking change is a new version (a new entry and a new schema file),
published beside the old one during a deprecation window (docs/integration-events.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from typing import Any

import jsonschema_rs

from shared.language.contracts.lifecycle import published_steps

TYPE_PREFIX = "cn.xinfang."


@dataclass(frozen=True)
class EventType:
    name: str  # e.g. "petition.registered"
    version: int
    schema_name: str | None = None  # several types may share one schema (the case steps); default: `name`
    # Where it travels (shared/runtime/messaging/topology.py): `events`, the county's exchange every integrator may
    # read (no personal data, no free text); `province.inbound`, what a province sends the county (read by intake
    # only); `province.outbound`, the county's answers to the provinces (read by their users only).
    exchange: str = "events"

    @property
    def type(self) -> str:
        """The CloudEvents `type`, also the AMQP routing key."""
        return f"{TYPE_PREFIX}{self.name}.v{self.version}"

    @property
    def schema_file(self) -> str:
        return f"{self.schema_name or self.name}.v{self.version}.json"

    @property
    def schema_id(self) -> str:
        """The schema document's `$id`: a URN naming it wherever it is served (its `$ref`s use such names)."""
        return f"urn:xinfang:schema:{self.schema_name or self.name}:{self.version}"

    def dataschema_at(self, base_url: str) -> str:
        """The CloudEvents `dataschema`: the URL the schema is served at under `base_url` (the gateway's
        `/api/v1/schemas`; shared/language/integration/envelope.py `dataschema_url` reads the configured one)."""
        return f"{base_url.rstrip('/')}/{self.schema_file}"

    @cached_property
    def schema(self) -> dict[str, Any]:
        return _load_schema(self.schema_file)

    @cached_property
    def validator(self) -> jsonschema_rs.Draft202012Validator:
        # jsonschema-rs (compiled, draft 2020-12): ~2 us per event where the pure-Python jsonschema took ~170 us,
        # which was a tenth of every consumer's CPU. The published schema refers to shared definitions in
        # _common.json; validating against a copy with them inlined needs no registry. Formats are asserted, not
        # just annotated: an unparseable timestamp is refused at the door.
        return jsonschema_rs.Draft202012Validator(_inline_common(self.schema), validate_formats=True)

    def __hash__(self) -> int:
        return hash((self.name, self.version))


# v1 carried the petitioner's contact details, free text and the query code to every queue on the exchange; v2
# carries neither (issue 14; docs/integration-events.md). v1 is no longer published; its schema stays listed.
PETITION_REGISTERED_V1 = EventType("petition.registered", 1)
PETITION_REGISTERED = EventType("petition.registered", 2)
# v1 (transfer and assign only) was replaced by v2 before the first county release; its schema stays published.
PETITION_ROUTED_V1 = EventType("petition.routed", 1)
PETITION_ROUTED = EventType("petition.routed", 2)
CASE_OPENED = EventType("case.opened", 1)
NOTICE_DELIVERED = EventType("notice.delivered", 1)
# A notice posted by registered mail (挂号信): from then its receipt may be presumed (supervision's clocks).
NOTICE_POSTED = EventType("notice.posted", 1)
# An early warning (信访信息预警) supervision raised (services/supervision/warnings.py): codes, counts, dates and case ids.
# Published under `case.`, supervision's own prefix (on the broker too: shared/runtime/messaging/permissions.py).
WARNING_RAISED = EventType("case.warning_raised", 1, "warning.raised")
# A typical-problem circular (通报) a supervisor issued to organs (services/supervision/circulars.py): codes, dates,
# organ codes and case ids; the title, problems and demands stay in supervision (notification asks for them by RPC).
CIRCULAR_ISSUED = EventType("case.circular_issued", 1, "circular.issued")

# A province's system sends the county a matter (上级转送 / 交办): the petition in full, with the province's reference
# number and, for an assignment, the day to report by. Read by intake alone (services/intake/provincial.py).
PROVINCE_MATTER_SENT = EventType("province.matter_sent", 1, exchange="province.inbound")
# The county's answers to the province that sent a matter, each tied to its reference number: the receipt
# (intake, on registration), the acceptance or decline, the progress report an assignment demands by its day and the
# completion report (办结报告) with the opinion's outcome (supervision, services/supervision/provincial.py).
PROVINCE_MATTER_RECEIVED = EventType("province.matter_received", 1, exchange="province.outbound")
PROVINCE_MATTER_DECIDED = EventType("province.matter_decided", 1, exchange="province.outbound")
PROVINCE_PROGRESS_REPORTED = EventType("province.progress_reported", 1, exchange="province.outbound")
PROVINCE_MATTER_COMPLETED = EventType("province.matter_completed", 1, exchange="province.outbound")
PROVINCE_TYPES = (PROVINCE_MATTER_SENT, PROVINCE_MATTER_RECEIVED, PROVINCE_MATTER_DECIDED,
                  PROVINCE_PROGRESS_REPORTED, PROVINCE_MATTER_COMPLETED)

# One type per step of the statutory lifecycle (the case.step schema), so an integrator binds exactly the steps it
# needs, e.g. `cn.xinfang.case.accepted.v2` or `cn.xinfang.case.#`. Each step declares the types it publishes
# (shared/language/contracts/lifecycle.py), named after supervision's lifecycle events.
CASE_STEPS = published_steps()
# v2 closes every object and allow-lists `details` (codes, organs, dates): v1's could carry officers' free text.
CASE_STEP_TYPES_V1: dict[str, EventType] = {step: EventType(f"case.{step}", 1, "case.step") for step in CASE_STEPS}
CASE_STEP_TYPES: dict[str, EventType] = {step: EventType(f"case.{step}", 2, "case.step") for step in CASE_STEPS}
CASE_OBJECTION_UPHELD = CASE_STEP_TYPES["objection_upheld"]

# Types no longer published, whose schemas stay listed for the messages integrators may still hold.
WITHDRAWN: frozenset[EventType] = frozenset({PETITION_REGISTERED_V1, PETITION_ROUTED_V1, *CASE_STEP_TYPES_V1.values()})

EVENT_TYPES: dict[str, EventType] = {
    t.type: t for t in (PETITION_REGISTERED_V1, PETITION_REGISTERED, PETITION_ROUTED_V1, PETITION_ROUTED,
                        CASE_OPENED, NOTICE_DELIVERED, NOTICE_POSTED, WARNING_RAISED, CIRCULAR_ISSUED,
                        *PROVINCE_TYPES,
                        *CASE_STEP_TYPES_V1.values(),
                        *CASE_STEP_TYPES.values())
}


def _load_schema(file_name: str) -> dict[str, Any]:
    text = resources.files("shared.language.integration").joinpath("schemas", file_name).read_text(encoding="utf-8")
    return json.loads(text)


def _inline_common(node: Any) -> Any:
    """`node` with every `{"$ref": "<_common.json $id>#/$defs/<name>"}` replaced by that definition."""
    common = _load_schema("_common.json")
    prefix = f"{common['$id']}#/$defs/"

    def inline(item: Any) -> Any:
        if isinstance(item, dict):
            reference = item.get("$ref")
            if isinstance(reference, str) and reference.startswith(prefix) and len(item) == 1:
                return inline(common["$defs"][reference.removeprefix(prefix)])
            return {key: inline(value) for key, value in item.items()}
        if isinstance(item, list):
            return [inline(value) for value in item]
        return item

    return inline(node)


def schema_documents() -> dict[str, dict[str, Any]]:
    """Every schema document by file name, for publishing to integrators."""
    names = ["_common.json", *dict.fromkeys(t.schema_file for t in EVENT_TYPES.values())]
    return {name: _load_schema(name) for name in names}
