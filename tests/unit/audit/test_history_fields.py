"""What the auditors' history shows of a step: what it said, never the links to a person's other petitions."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from services.audit.replay import step
from services.audit.stores import RawEvent


def recorded(topic: str, **state: object) -> RawEvent:
    return RawEvent(originator_id=uuid4(), originator_version=2, topic=topic,
                    state={"timestamp": datetime(2026, 12, 4, tzinfo=UTC), **state})


def test_a_decline_on_a_repeat_shows_its_reason_but_not_the_earlier_petition() -> None:
    event = recorded("services.supervision.domainmodel:Case.DeclinedAgain", action="decline_again",
                     status="not_accepted_again", actor={"role": "system", "user": "repeat-check", "organ": None},
                     details={"reason_code": "final_same_matter", "reason": "同一事实和理由已终结",
                              "explanation": "复核意见已出具", "earlier_petition_id": str(uuid4()),
                              "repeat_check": {"earlier": str(uuid4())}})

    fields = step("supervision", "urn:test", event).fields

    assert fields["reason"] == "同一事实和理由已终结" and fields["explanation"] == "复核意见已出具"
    assert "earlier_petition_id" not in fields and "repeat_check" not in fields


def test_a_registration_shows_the_matter_but_not_which_petition_it_repeats() -> None:
    event = recorded("services.intake.domainmodel:Petition.Registered", title="道路积水", request="请求修复",
                     repeat_of=str(uuid4()), similar_petitions=[{"petition_id": str(uuid4())}],
                     petitioner={"name": "张三"})

    fields = step("intake", "urn:test", event).fields

    assert fields["title"] == "道路积水"
    assert not {"repeat_of", "similar_petitions", "petitioner"} & set(fields)
