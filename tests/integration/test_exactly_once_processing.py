"""Consumers apply each integration event exactly once, on PostgreSQL and on SQLite.

The effect and the tracking record commit together, so a redelivery changes nothing; tracking is multi-row, so
events finished out of order by competing consumers are all kept; a concurrent writer is retried, not lost.
"""

from __future__ import annotations

import uuid
from datetime import UTC

from services.routing.application import RoutingApplication
from services.routing.rules import load_rules
from services.routing.translate import RegisteredPetition
from services.supervision.bootstrap import build_application as build_supervision
from services.supervision.domainmodel import Case
from services.supervision.settings import SupervisionSettings
from shared.language.integration.catalog import NOTICE_DELIVERED
from shared.language.integration.envelope import IntegrationEvent
from shared.runtime.eventstore import DUPLICATE, PROCESSED
from tests.support import samples


def routed_versions(app: RoutingApplication, petition_id: str) -> list[int]:
    return [e.originator_version for e in app.events.get(uuid.UUID(petition_id))]


def test_a_redelivered_event_changes_nothing(settings_for, store, closing):
    app = closing(RoutingApplication(settings_for(store=store), load_rules()))
    event = samples.registered_event(7)

    assert app.route_registered_petition(event, RegisteredPetition.of(event)) == PROCESSED
    assert app.route_registered_petition(event, RegisteredPetition.of(event)) == DUPLICATE

    assert routed_versions(app, event.subject) == [1]
    assert app.is_processed(event.tracking)


def test_events_finished_out_of_order_are_all_applied(settings_for, store, closing):
    # Competing consumers may finish sequence 5 before sequence 4: both must take effect.
    app = closing(RoutingApplication(settings_for(store=store), load_rules()))
    later, earlier = samples.registered_event(5), samples.registered_event(4)

    assert app.route_registered_petition(later, RegisteredPetition.of(later)) == PROCESSED
    assert app.route_registered_petition(earlier, RegisteredPetition.of(earlier)) == PROCESSED

    assert routed_versions(app, later.subject) == [1]
    assert routed_versions(app, earlier.subject) == [1]


def test_the_same_sequence_from_another_source_is_a_different_event(settings_for, store, closing):
    app = closing(RoutingApplication(settings_for(store=store), load_rules()))
    ours = samples.registered_event(1)
    provincial = samples.registered_event(1, source="urn:xinfang:330000:province")

    assert app.route_registered_petition(ours, RegisteredPetition.of(ours)) == PROCESSED
    assert app.route_registered_petition(provincial, RegisteredPetition.of(provincial)) == PROCESSED


def notice_event(sequence: int, petition_id: str, *, notice_id: str | None = None,
                 channel: str = "inbox") -> IntegrationEvent:
    from datetime import datetime

    now = datetime.now(UTC)
    return IntegrationEvent(
        id=str(uuid.uuid4()), source="urn:xinfang:330106:notification", event_type=NOTICE_DELIVERED,
        subject=petition_id, time=now, correlation_id="c", sequence=sequence,
        data={"notice_id": notice_id or str(uuid.uuid4()), "petition_id": petition_id,
              "kind": "registration_receipt", "title": "信访事项登记回执", "channel": channel,
              "delivered_at": now.isoformat()},
    )


def test_supervision_records_when_a_notice_first_reached_the_petitioner_once(settings_for, store, closing):
    app = closing(build_supervision(settings_for(SupervisionSettings, store=store)))
    registered = samples.registered_event(1)
    app.open_case(registered, samples.particulars(registered))
    notice_id = str(uuid.uuid4())

    assert app.record_notice(notice_event(1, registered.subject, notice_id=notice_id, channel="inbox")) == PROCESSED
    assert app.record_notice(notice_event(2, registered.subject, notice_id=notice_id, channel="email")) == PROCESSED

    case = app.repository.get(uuid.UUID(registered.subject))
    assert [n["channel"] for n in case.notices] == ["inbox"]
    assert case.version == 2


def test_a_concurrent_writer_makes_the_handler_decide_again_on_fresh_state(settings_for, store, closing):
    # Without the recent-cases cache, so that the handler reads the case (tests/integration/test_recent_cases.py
    # covers the cached path).
    app = closing(build_supervision(settings_for(SupervisionSettings, store=store, SUPERVISION_RECENT_CASES=0)))
    registered = samples.registered_event(1)
    petition_id = registered.subject
    assert app.open_case(registered, samples.particulars(registered)) == PROCESSED
    routed = samples.routed_event(1, petition_id)
    notice = notice_event(1, petition_id)

    # While the routing event is being applied, another instance of the service saves the notice event.
    other_instance = closing(build_supervision(settings_for(SupervisionSettings, store=store)))
    original_case = app._case_or_not_yet
    interfered = []

    def case_then_interfere(pid: str) -> Case:
        case = original_case(pid)
        if not interfered:
            interfered.append(True)
            assert other_instance.record_notice(notice) == PROCESSED
        return case

    app._case_or_not_yet = case_then_interfere  # type: ignore[method-assign]
    assert app.record_routing(routed) == PROCESSED

    case = app.repository.get(uuid.UUID(petition_id))
    assert case.version == 3
    assert case.organ == {"code": "330106001-ZF", "name": "示例县城关镇人民政府"}
    assert [n["channel"] for n in case.notices] == ["inbox"]


def test_on_processed_runs_once_after_a_save_and_not_for_a_redelivery(settings_for, store, closing):
    app = closing(RoutingApplication(settings_for(store=store), load_rules()))
    event = samples.registered_event(8)
    calls: list[str] = []

    def decide():
        return []  # nothing to save but the tracking record

    first = app.process(event.tracking, decide, key=event.subject, on_processed=lambda: calls.append("saved"))
    again = app.process(event.tracking, decide, key=event.subject, on_processed=lambda: calls.append("again"))

    assert (first, again) == (PROCESSED, DUPLICATE)
    assert calls == ["saved"]
