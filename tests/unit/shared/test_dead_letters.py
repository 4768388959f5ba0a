"""Dead letters: the reason a consumer parks a message with (shared/runtime/messaging/deadletter.py), and how the
operators' CLI (deploy/rabbitmq/deadletters.py) reads them and chooses what to republish without reordering one
petition's events. (On a real broker: tests/integration/test_dead_letters.py.)"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from deploy.rabbitmq import deadletters
from deploy.rabbitmq.deadletters import DeadLetter, Refused, choose, earlier_of_same_subject, republished
from shared.language.integration.envelope import InvalidIntegrationEvent
from shared.runtime.messaging import deadletter, permissions, topology
from tests.support import samples

ROUTING = topology.subscription_for("routing", "handle_petition_registered")


def letter(position: int, subject: str | None, message_id: str | None = None, **headers: object) -> DeadLetter:
    attributes = {"ce-subject": subject} if subject else {}
    return DeadLetter(position, delivery_tag=100 + position, body=b"{}",
                      properties={"message_id": message_id or f"id-{position}",
                                  "application_headers": {**attributes, **headers}})


# --- the reason --------------------------------------------------------------------------------------------------
def test_the_reason_of_an_invalid_event_is_its_message() -> None:
    error = InvalidIntegrationEvent("cn.xinfang.petition.registered.v2 data invalid at people_count: 'x' is not "
                                    "of type 'integer'")

    assert deadletter.reason_of(error) == str(error)


def test_any_other_error_is_named_by_its_class() -> None:
    assert deadletter.reason_of(KeyError("subject")) == "KeyError: 'subject'"


def test_the_reason_is_one_line_redacted_and_bounded() -> None:
    reason = deadletter.reason_of(InvalidIntegrationEvent("bad\nphone '13800138000' at\tdata/contact " + "x" * 900))

    assert "\n" not in reason and "\t" not in reason
    assert "13800138000" not in reason and "[phone]" in reason
    assert len(reason) == deadletter.REASON_MAX_CHARS and reason.endswith("…")


def test_a_copy_keeps_the_message_and_adds_why_when_and_where() -> None:
    now = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)
    original = {"content_type": "application/cloudevents+json", "message_id": "e1", "delivery_mode": 2,
                "user_id": "xinfang-integrator-zj", "expiration": "60000",
                "application_headers": {"ce-id": "e1", "x-delivery-count": 3}}

    copy = deadletter.copy_properties(original, "xinfang.intake.handle_matter_sent", "not from an allowed province",
                                      now)

    assert {k: copy[k] for k in ("content_type", "message_id", "delivery_mode")} == {
        "content_type": "application/cloudevents+json", "message_id": "e1", "delivery_mode": 2}
    assert "user_id" not in copy and "expiration" not in copy  # the broker would refuse, or expire, the copy
    assert copy["application_headers"] == {
        "ce-id": "e1",
        deadletter.REASON_HEADER: "not from an allowed province",
        deadletter.AT_HEADER: "2026-12-05T03:00:00.000+00:00",
        deadletter.QUEUE_HEADER: "xinfang.intake.handle_matter_sent",
        deadletter.PUBLISHED_BY_HEADER: "xinfang-integrator-zj",
    }


def test_a_copy_the_broker_does_not_confirm_is_reported_so_the_consumer_rejects_instead() -> None:
    attempts = []

    def unreachable():  # noqa: ANN202
        attempts.append(1)
        raise ConnectionRefusedError("broker down")

    publisher = deadletter.DeadLetterPublisher(unreachable)

    assert publisher.park(b"{}", {}, exchange="xinfang.dead-letter", queue="q", reason="why") is False
    assert len(attempts) == 2  # the cached connection may just have died: one fresh try


def test_every_consuming_service_may_publish_dead_letter_copies() -> None:
    for service in {s.service for s in topology.SUBSCRIPTIONS}:
        assert re.fullmatch(permissions.service_user("xinfang", service).write, "xinfang.dead-letter"), service


# --- reading a dead letter -----------------------------------------------------------------------------------
def test_the_attributes_come_from_the_headers_or_else_a_structured_body() -> None:
    event = samples.registered_event(1)
    from_body = DeadLetter(1, 1, event.to_json(), {"content_type": "application/cloudevents+json"})
    from_headers = DeadLetter(2, 2, b"not json", {"application_headers": event.amqp_headers()})

    for read in (from_body, from_headers):
        assert (read.id, read.type, read.source, read.subject) == (event.id, event.type, event.source,
                                                                   event.subject)
    assert DeadLetter(3, 3, b"\x00", {}).subject is None


def test_our_reason_header_wins() -> None:
    parked = letter(1, "p", **{deadletter.REASON_HEADER: "not from an allowed province",
                               deadletter.AT_HEADER: "2026-12-05T03:00:00.000+00:00"})

    assert parked.reason == "not from an allowed province"
    assert parked.dead_lettered_at == "2026-12-05T03:00:00.000+00:00"


def test_a_message_past_the_delivery_limit_says_so_from_x_death() -> None:
    when = datetime(2026, 12, 5, 3, 0)
    parked = letter(1, "p", **{"x-death": [{"count": 1, "reason": "delivery_limit", "queue": "xinfang.a.b",
                                            "time": when, "exchange": "", "routing-keys": ["k"]}]})

    assert parked.reason.startswith("delivery limit exceeded")
    assert parked.dead_lettered_at == when.isoformat()
    assert "no reason recorded" in letter(2, "p", **{"x-death": [{"count": 1, "reason": "rejected"}]}).reason


# --- choosing what to republish ---------------------------------------------------------------------------------
def test_a_message_is_not_put_before_an_earlier_dead_letter_of_its_subject() -> None:
    letters = [letter(1, "p"), letter(2, "q"), letter(3, "p")]

    with pytest.raises(Refused, match="--subject p") as refused:
        choose(letters, message_id="id-3")
    assert "#1" in str(refused.value) and "--id id-1" in str(refused.value)


def test_the_earliest_of_a_subject_or_another_subject_may_go_alone() -> None:
    letters = [letter(1, "p"), letter(2, "q"), letter(3, "p")]

    assert choose(letters, message_id="id-1") == [letters[0]]
    assert choose(letters, message_id="id-2") == [letters[1]]


def test_a_subject_goes_back_whole_in_queue_order() -> None:
    letters = [letter(1, "p"), letter(2, "q"), letter(3, "p"), letter(4, "p")]

    assert [x.position for x in choose(letters, subject="p")] == [1, 3, 4]
    assert [x.position for x in choose(letters, everything=True)] == [1, 2, 3, 4]


def test_messages_without_a_readable_subject_constrain_nothing() -> None:
    letters = [letter(1, None), letter(2, None)]

    assert choose(letters, message_id="id-2") == [letters[1]]
    assert earlier_of_same_subject(letters, [letters[1]]) == []


def test_copies_of_one_event_go_together() -> None:
    letters = [letter(1, "p", "e"), letter(2, "p", "e")]

    assert choose(letters, message_id="e") == letters


@pytest.mark.parametrize(("asked", "message"), [
    ({"message_id": "nope"}, "no dead letter with id"),
    ({"subject": "nope"}, "no dead letter of subject"),
    ({}, "say which"),
])
def test_asking_for_nothing_that_is_there_is_refused(asked: dict[str, str], message: str) -> None:
    with pytest.raises(Refused, match=message):
        choose([letter(1, "p")], **asked)


# --- what is republished ------------------------------------------------------------------------------------------
def test_a_republished_message_drops_the_record_of_its_dead_lettering() -> None:
    event = samples.registered_event(1)
    parked = DeadLetter(1, 1, event.to_json(), {
        **event.amqp_properties(), "user_id": "xinfang-routing",
        "application_headers": {**event.amqp_headers(), deadletter.REASON_HEADER: "why", "x-death": [{}],
                                "x-first-death-queue": "q", "x-delivery-count": 2}})

    body, properties = republished(parked, ROUTING)

    assert body == event.to_json()
    assert properties["application_headers"] == event.amqp_headers()
    assert "user_id" not in properties and properties["message_id"] == event.id


def test_a_fixed_body_replaces_the_body_and_the_headers_made_from_it() -> None:
    wrong = samples.registered_event(1, source="urn:xinfang:330106:someone-else")
    fixed = replace(wrong, source="urn:xinfang:330106:intake")
    parked = DeadLetter(1, 1, wrong.to_json(), {**wrong.amqp_properties(),
                                                "application_headers": wrong.amqp_headers()})

    body, properties = republished(parked, ROUTING, fixed.to_json())

    assert json.loads(body)["source"] == "urn:xinfang:330106:intake"
    assert properties["application_headers"]["ce-source"] == "urn:xinfang:330106:intake"


def test_a_fixed_body_must_be_a_valid_event_the_queue_takes() -> None:
    parked = letter(1, "p")
    invalid = samples.registered_event(1, people_count="many").to_json()
    other_type = samples.routed_event(1, str(uuid.uuid4())).to_json()

    with pytest.raises(Refused, match="not a valid CloudEvent"):
        republished(parked, ROUTING, invalid)
    with pytest.raises(Refused, match="does not take"):
        republished(parked, ROUTING, other_type)


# --- naming queues ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("given", ["xinfang.intake.handle_matter_sent.dead-letter", "xinfang.intake.handle_matter_sent",
                                   "intake.handle_matter_sent.dead-letter", "intake.handle_matter_sent"])
def test_a_queue_may_be_named_short(given: str) -> None:
    assert deadletters.resolve_queue("xinfang", given) == "xinfang.intake.handle_matter_sent.dead-letter"
    assert deadletters.original_queue(deadletters.resolve_queue("xinfang", given)) == \
        "xinfang.intake.handle_matter_sent"


def test_an_unknown_queue_is_refused_with_the_known_ones() -> None:
    with pytest.raises(Refused, match="xinfang.routing.handle_petition_registered.dead-letter"):
        deadletters.resolve_queue("xinfang", "routing.nothing")


def test_a_fixed_body_without_an_id_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = deadletters.main(["republish", "routing.handle_petition_registered", "--all", "--body-file", "x.json"])

    assert code == 1 and "name it with --id" in capsys.readouterr().err
