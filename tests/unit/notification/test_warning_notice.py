"""The supervisors' notice of an early warning (shared/language/contracts/notices.py WARNING_NOTICE), without a store:
notification reads `case.warning_raised` from a queue of its own, believing supervision only; the notice's values
are the warning's codes in Chinese, with no personal data; it is never published as the petitioner's receipt, nor
looked for among a petition's notices."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from services.notification.application import STEP_NOTICE_KINDS, warning_notice_values
from services.notification.domainmodel import Delivery, notice_id
from services.notification.service import NotificationService
from services.notification.templates import render
from services.notification.translate import RaisedWarning, to_integration_event
from shared.language.contracts.notices import NOTICES, PETITIONER_NOTICES, NoticeKind
from shared.language.integration.catalog import WARNING_RAISED
from shared.language.integration.envelope import IntegrationEvent, InvalidIntegrationEvent
from shared.runtime.messaging import topology

WARNING_ID = "7d1e0c3a-9b8f-5e4d-a3c2-b1f0e9d8c7b6"
PETITIONS = ["0f8e4c1a-3b2d-4e5f-8a9b-1c2d3e4f5a6b", "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"]


def raised(**data: object) -> IntegrationEvent:
    payload = {"warning_id": WARNING_ID, "kind": "place_spike", "key": "330106002", "topic": None,
               "town": "330106002", "window": {"start": "2026-11-02T00:00:00+08:00", "end": "2026-11-09T00:00:00+08:00"},
               "count": 14, "threshold": 10, "petitions": PETITIONS, "raised_at": "2026-11-04T15:30:00+08:00", **data}
    return IntegrationEvent(id=str(uuid.uuid4()), source="urn:xinfang:330106:supervision", event_type=WARNING_RAISED,
                            subject=WARNING_ID, time=datetime.now(UTC), data=payload,
                            correlation_id=str(uuid.uuid4()), sequence=7)


def test_notification_reads_the_warnings_from_supervision_on_a_queue_of_its_own() -> None:
    subscription = topology.subscription_for("notification", "handle_warning_raised")
    assert subscription.event_types == (WARNING_RAISED,) and subscription.publisher == "supervision"
    assert WARNING_RAISED.type == "cn.xinfang.case.warning_raised.v1"
    assert callable(NotificationService.handle_warning_raised)


def test_the_published_warning_is_checked_against_its_closed_schema() -> None:
    raised().validate()


@pytest.mark.parametrize("bad", [{"kind": "rumour"}, {"name": "王秀兰"}, {"petitions": []}, {"town": "城关镇"},
                                 {"key": "王秀兰"}])
def test_a_warning_with_anything_else_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises(InvalidIntegrationEvent):
        raised(**bad).validate()


def test_the_notice_says_the_warning_in_chinese_and_nothing_personal() -> None:
    warning = RaisedWarning.of(raised())
    given = warning_notice_values(warning, addressee="督查督办科", bureau_name="示例县信访局", issued_on="2026年11月4日",
                                  console_url="")
    assert set(given) == set(NOTICES[NoticeKind.WARNING_NOTICE].values)
    assert (given["warning_kind"], given["place_name"], given["topic_label"]) == ("place_spike", "东溪镇", "")
    assert given["window"] == "2026年11月2日0时至2026年11月9日0时" and given["raised_on"] == "2026年11月4日"
    assert (given["count"], given["threshold"], given["petition_refs"]) == ("14", "10", "\n".join(PETITIONS))
    body = render(NoticeKind.WARNING_NOTICE.value, **given).body
    assert "同一地区集中信访" in body and "发生地：东溪镇" in body and "信访事项数：14（预警阈值：10）。" in body
    sensitive = RaisedWarning.of(raised(kind="sensitive", topic="land_requisition", window=None, count=1,
                                        threshold=None, petitions=PETITIONS[:1]))
    given = warning_notice_values(sensitive, addressee="督查督办科", bureau_name="示例县信访局",
                                  issued_on="2026年11月4日", console_url="https://xinfang.example.gov.cn")
    assert (given["topic_label"], given["window"], given["threshold"]) == ("征地拆迁", "", "")


def test_the_notice_is_one_per_warning_and_never_the_petitioners() -> None:
    warning = uuid.UUID(WARNING_ID)
    assert notice_id(warning, "warning_notice") == notice_id(warning, "warning_notice")
    assert NoticeKind.WARNING_NOTICE not in PETITIONER_NOTICES and NoticeKind.WARNING_NOTICE not in STEP_NOTICE_KINDS
    delivered = Delivery(notice_id=notice_id(warning, "warning_notice"), channel="email", outcome="delivered",
                         at="2026-11-04T15:31:00+08:00", detail="d***@example.gov.cn", petition_id=WARNING_ID,
                         kind="warning_notice", title="信访信息预警通知", correlation_id=str(uuid.uuid4()))
    [concluded] = delivered.collect_events()
    assert to_integration_event(concluded, 1, "urn:xinfang:330106:notification") is None  # not a receipt
