"""The review window counted from the recorded receipt, through supervision's application on a real store: the
`notice.delivered` and `notice.posted` events notification publishes recount it once (redelivered: nothing new),
the case summary shows the new due day and its basis, and the sweep neither finalizes a case before the recounted
window passed nor one whose opinion still awaits the post (docs/domain.md §"Deadlines")."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from services.supervision.application import SupervisionApplication
from services.supervision.bootstrap import build_application
from services.supervision.settings import SupervisionSettings
from shared.language.integration.catalog import NOTICE_DELIVERED, NOTICE_POSTED
from shared.language.integration.envelope import IntegrationEvent
from tests.support import samples
from tests.support.clock import MovableClock

SOURCE = "urn:xinfang:330106:notification"


ORGAN = {"role": "organ_officer", "user": "officer1", "organ": "330106001-ZF"}


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


def replied_case(supervision: SupervisionApplication, clock: MovableClock, sequence: int = 1) -> str:
    """Registered and routed on 2026-10-08, accepted the next day, replied on 2026-11-02 (a Monday): the review
    window counts provisionally to 2026-12-02."""
    clock.set("2026-10-08")
    event = samples.registered_event(sequence, registered_at=clock().isoformat())
    supervision.open_case(event, samples.particulars(event))
    supervision.record_routing(samples.routed_event(sequence, event.subject, routed_at=clock()))
    clock.set("2026-10-09")
    supervision.perform(event.subject, "accept", {"procedure": "ordinary"}, ORGAN)
    clock.set("2026-11-02")
    supervision.perform(event.subject, "reply", {"outcome": "not_support", "opinion": "经调查，诉求缺乏依据"}, ORGAN)
    return event.subject


@pytest.fixture
def supervision(settings_for, closing, store, clock) -> SupervisionApplication:
    return closing(build_application(settings_for(SupervisionSettings, store=store), clock=clock))


def notification_event(event_type: Any, sequence: int, petition_id: str, **data: Any) -> IntegrationEvent:
    now = datetime.now(UTC)
    return IntegrationEvent(id=str(uuid.uuid4()), source=SOURCE, event_type=event_type, subject=petition_id,
                            time=now, correlation_id="c", sequence=sequence,
                            data={"petition_id": petition_id, "kind": "opinion", "title": "信访事项处理意见书", **data})


def review_window(supervision: SupervisionApplication, petition_id: str) -> dict[str, Any]:
    return next(d for d in supervision.get_case(petition_id)["deadlines"] if d["kind"] == "review_request")


def test_the_opinions_receipt_by_sms_recounts_the_review_window_once(supervision, clock):
    petition_id = replied_case(supervision, clock)
    notice_id = str(uuid.uuid4())
    assert review_window(supervision, petition_id)["due"] == "2026-12-02"
    listed = notification_event(NOTICE_DELIVERED, 1, petition_id, notice_id=notice_id, channel="inbox",
                                delivered_at="2026-11-02T10:00:05+08:00")
    sms = notification_event(NOTICE_DELIVERED, 2, petition_id, notice_id=notice_id, channel="sms",
                             delivered_at="2026-11-04T09:30:00+08:00")
    email = notification_event(NOTICE_DELIVERED, 3, petition_id, notice_id=notice_id, channel="email",
                               delivered_at="2026-11-05T09:30:00+08:00")

    supervision.record_notice(listed)
    assert review_window(supervision, petition_id)["due"] == "2026-12-02"  # the status page is no receipt
    clock.set("2026-11-04")
    supervision.record_notice(sms)
    version = supervision.get_case(petition_id)["version"]
    supervision.record_notice(sms)  # redelivered
    supervision.record_notice(email)  # a later receipt on another channel

    window = review_window(supervision, petition_id)
    assert (window["start"], window["due"]) == ("2026-11-04", "2026-12-04")
    assert window["basis"] == "自2026年11月4日收到处理意见书（短信送达）起30日内可请求复查（《信访工作条例》第三十五条）"
    assert supervision.get_case(petition_id)["version"] == version
    steps = [e.action for e in supervision.events.get(UUID(petition_id)) if hasattr(e, "action")]
    assert steps.count("count_from_receipt") == 1


def test_a_letter_petitioners_window_runs_from_the_presumed_then_the_recorded_receipt(supervision, clock):
    petition_id = replied_case(supervision, clock)
    notice_id = str(uuid.uuid4())

    clock.set("2026-11-03")
    supervision.record_posting(notification_event(NOTICE_POSTED, 1, petition_id, notice_id=notice_id,
                                                  posted_on="2026-11-03"))
    assert review_window(supervision, petition_id)["due"] == "2026-12-10"  # presumed received 11-10

    clock.set("2026-11-16")
    supervision.record_notice(notification_event(NOTICE_DELIVERED, 2, petition_id, notice_id=notice_id,
                                                 channel="post", delivered_at="2026-11-12T00:00:00+08:00"))
    window = review_window(supervision, petition_id)
    assert (window["start"], window["due"]) == ("2026-11-12", "2026-12-14")
    assert "（邮寄送达）" in window["basis"]

    clock.set("2026-12-14")
    assert supervision.sweep([petition_id]) == {"finalized": 0, "recomputed": 0}
    clock.set("2026-12-15")
    assert supervision.sweep([petition_id]) == {"finalized": 1, "recomputed": 0}


def test_an_answer_sent_to_the_petitioner_is_final_only_once_its_window_counts_from_its_receipt(
        settings_for, closing, clock, read_models):
    """An answer the petitioner has not had — a letter not yet posted, an SMS not delivered — cannot have let its
    window pass: the sweep finalizes such a case only on a window counted from the receipt (delivered, or presumed
    7 days after posting), never on the provisional count from the issuing day; an anonymous report's answer (the
    status page only) is finalized on it as before; while the notice records are being rebuilt (no position),
    nothing is finalized."""
    from services.supervision.sweep import RECORDS, answers_to_receive
    from shared.language.readmodels import MongoPosition, NoticeRecord

    supervision = closing(build_application(settings_for(SupervisionSettings, store="sqlite"), clock=clock))
    unposted, posted, undelivered, delivered, anonymous = (replied_case(supervision, clock, n) for n in range(1, 6))
    channels = {unposted: ["inbox", "post"], posted: ["inbox", "post"], undelivered: ["inbox", "sms"],
                delivered: ["inbox", "sms"], anonymous: ["inbox"]}
    notices = {}
    for petition_id, on in channels.items():
        notices[petition_id] = str(uuid.uuid4())
        NoticeRecord(notice_id=notices[petition_id], petition_id=petition_id, kind="opinion", title="信访事项处理意见书",
                     requested_at=datetime.now(UTC), channels=on, awaiting_post="post" in on).save()
    supervision.record_posting(notification_event(NOTICE_POSTED, 1, posted, notice_id=notices[posted],
                                                  posted_on="2026-11-03"))  # presumed received 11-10
    supervision.record_notice(notification_event(NOTICE_DELIVERED, 2, delivered, notice_id=notices[delivered],
                                                 channel="sms", delivered_at="2026-11-02T10:00:00+08:00"))
    assert review_window(supervision, posted)["due"] == "2026-12-10"

    everyone = list(channels)
    MongoPosition(RECORDS).reset()
    assert answers_to_receive() is None  # being rebuilt: where each answer went is not known now
    clock.set("2026-12-20")  # every provisional count (to 12-02) and the presumed one (to 12-10) passed
    assert supervision.sweep(everyone, to_receive=answers_to_receive()) == {"finalized": 0, "recomputed": 0}
    MongoPosition(RECORDS).set(42)
    assert answers_to_receive() == {unposted, posted, undelivered, delivered}
    assert supervision.sweep(everyone, to_receive=answers_to_receive()) == {"finalized": 3, "recomputed": 0}
    assert [supervision.get_case(p)["status"] for p in everyone] == ["replied", "final", "replied", "final", "final"]
