"""supervision's recently saved cases, on a real store: the events that follow a case's opening are decided on the
case saved here without reading it back; a case another instance moved on meanwhile is decided again on what is
stored; a decision to do nothing is never taken on a cached case alone; a failed decision leaves nothing behind."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from services.supervision.application import SupervisionApplication
from services.supervision.bootstrap import build_application
from services.supervision.domainmodel import Case
from services.supervision.settings import SupervisionSettings
from shared.runtime.eventstore import PROCESSED
from tests.integration.test_exactly_once_processing import notice_event
from tests.support import samples


@pytest.fixture
def build(settings_for, closing, store):
    def instance() -> SupervisionApplication:
        return closing(build_application(settings_for(SupervisionSettings, store=store)))
    return instance


def counting_reads(app: SupervisionApplication) -> list[Any]:
    reads: list[Any] = []
    original = app.repository.get

    def get(aggregate_id: Any, *args: Any, **kwargs: Any) -> Any:
        reads.append(aggregate_id)
        return original(aggregate_id, *args, **kwargs)

    app.repository.get = get  # type: ignore[method-assign]
    return reads


def stored(app: SupervisionApplication, petition_id: str) -> Case:
    return app.repository.get(uuid.UUID(petition_id))


def test_the_routing_and_the_first_notice_are_decided_on_the_case_saved_here(build):
    app = build()
    registered = samples.registered_event(1)
    assert app.open_case(registered, samples.particulars(registered)) == PROCESSED
    reads = counting_reads(app)

    assert app.record_routing(samples.routed_event(1, registered.subject)) == PROCESSED
    assert app.record_notice(notice_event(1, registered.subject, channel="inbox")) == PROCESSED

    assert reads == [], "the case was not read back from the store"
    case = build().repository.get(uuid.UUID(registered.subject))  # what another instance finds stored
    assert case.version == 3
    assert case.organ == {"code": "330106001-ZF", "name": "示例县城关镇人民政府"}
    assert [n["channel"] for n in case.notices] == ["inbox"]


def test_a_case_another_instance_moved_on_is_decided_again_on_the_stored_case(build):
    app, other_instance = build(), build()
    registered = samples.registered_event(1)
    petition_id = registered.subject
    assert app.open_case(registered, samples.particulars(registered)) == PROCESSED  # cached here at version 1
    assert other_instance.record_notice(notice_event(1, petition_id)) == PROCESSED  # the store is at version 2

    assert app.record_routing(samples.routed_event(1, petition_id)) == PROCESSED

    case = stored(app, petition_id)
    assert case.version == 3
    assert case.organ["code"] == "330106001-ZF"
    assert [n["channel"] for n in case.notices] == ["inbox"], "the other instance's notice is kept"
    routings = [e for e in app.events.get(uuid.UUID(petition_id)) if getattr(e, "action", None) == "route"]
    assert len(routings) == 1


def test_a_decision_to_do_nothing_on_a_cached_case_is_taken_again_on_the_stored_case(build):
    app = build()
    registered = samples.registered_event(1)
    app.open_case(registered, samples.particulars(registered))
    decided_on: list[Case] = []
    notice = notice_event(1, registered.subject)

    def nothing_on_the_cached_case(case: Case) -> list[Case]:
        decided_on.append(case)
        if len(decided_on) == 1:
            return []  # e.g. a stale case that seems to have the notice already
        case.record_notice(notice_id=notice.data["notice_id"], kind="registration_receipt", title="回执",
                           channel="inbox", at=notice.data["delivered_at"], correlation_id="c", causation_id=notice.id)
        return [case]

    assert app._on_case(notice, registered.subject, nothing_on_the_cached_case) == PROCESSED

    assert len(decided_on) == 2
    assert decided_on[0] is not decided_on[1], "the second decision was on the case read from the store"
    assert stored(app, registered.subject).version == 2


def test_a_decision_that_failed_halfway_leaves_no_changed_case_in_memory(build):
    app = build()
    registered = samples.registered_event(1)
    app.open_case(registered, samples.particulars(registered))

    def change_then_fail(case: Case) -> list[Case]:
        case.record_notice(notice_id=str(uuid.uuid4()), kind="registration_receipt", title="回执", channel="inbox",
                           at=registered.data["registered_at"], correlation_id="c", causation_id="x")
        raise RuntimeError("the decision failed after changing the case")

    with pytest.raises(RuntimeError):
        app._on_case(notice_event(1, registered.subject), registered.subject, change_then_fail)
    reads = counting_reads(app)
    assert app.record_routing(samples.routed_event(1, registered.subject)) == PROCESSED

    assert len(reads) == 1, "the case was read from the store, not taken half-changed from memory"
    case = stored(app, registered.subject)
    assert (case.version, case.notices) == (2, [])


def test_an_officers_command_makes_the_next_event_read_the_case(build):
    app = build()
    registered = samples.registered_event(1)
    app.open_case(registered, samples.particulars(registered))
    clerk = {"role": "clerk", "user": "clerk1", "organ": "330106-XFJ"}
    app.perform(registered.subject, "transfer", {"organ_code": "330106001-ZF"}, clerk)
    reads = counting_reads(app)

    assert app.record_routing(samples.routed_event(1, registered.subject)) == PROCESSED

    assert len(reads) == 1
    assert stored(app, registered.subject).version == 2, "the rules' routing came after the clerk's: no change"


def test_a_notice_delivered_on_a_second_channel_is_settled_on_the_cached_case(build):
    # A notice once recorded stays recorded, so the cached case is right that it has it, however stale.
    app = build()
    registered = samples.registered_event(1)
    app.open_case(registered, samples.particulars(registered))
    notice_id = str(uuid.uuid4())
    app.record_notice(notice_event(1, registered.subject, notice_id=notice_id, channel="inbox"))
    reads = counting_reads(app)

    assert app.record_notice(notice_event(2, registered.subject, notice_id=notice_id, channel="email")) == PROCESSED

    assert reads == []
    case = stored(app, registered.subject)
    assert (case.version, [n["channel"] for n in case.notices]) == (2, ["inbox"])
    assert app.is_processed(notice_event(2, registered.subject).tracking), "the event is recorded as processed"
