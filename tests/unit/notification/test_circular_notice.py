"""Each organ's notice of a circular (shared/language/contracts/notices.py CIRCULAR_NOTICE), without a store:
notification reads `case.circular_issued` from a queue of its own, believing supervision only, and asks supervision
for the circular's text; the notice's values are the circular's own (no petitioner's data, no query code); one per
organ and circular; never published as the petitioner's receipt, nor looked for among a petition's notices."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from services.notification.application import STEP_NOTICE_KINDS, circular_notice_values
from services.notification.domainmodel import Delivery, circular_notice_id
from services.notification.service import NotificationService
from services.notification.templates import render
from services.notification.translate import IssuedCircular, to_integration_event
from shared.language.contracts.notices import NOTICES, PETITIONER_NOTICES, NoticeKind
from shared.language.integration.catalog import CIRCULAR_ISSUED
from shared.language.integration.envelope import IntegrationEvent
from shared.runtime.messaging import topology

CIRCULAR_ID = "3f9a1c7e-9b8f-4e4d-a3c2-b1f0e9d8c7b6"
TOWN, LABOUR = "330106001-ZF", "330106-RSJ"
PETITIONS = ["0f8e4c1a-3b2d-4e5f-8a9b-1c2d3e4f5a6b", "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"]
TEXT = {"title": "关于11月份重复信访问题的通报", "problems": "一是答复意见未载明复查权利。\n二是办结报告超期报送。",
        "demands": "对照检查，逐件整改。"}


def issued(**data: object) -> IntegrationEvent:
    payload = {"circular_id": CIRCULAR_ID, "number": "督通〔2026〕3f9a1c号", "kind": "typical_problem",
               "issued_at": "2026-12-04T10:00:00+08:00", "issued_on": "2026-12-04", "report_due": "2026-12-31",
               "organs": [TOWN, LABOUR], "petitions": PETITIONS, **data}
    return IntegrationEvent(id=str(uuid.uuid4()), source="urn:xinfang:330106:supervision",
                            event_type=CIRCULAR_ISSUED, subject=CIRCULAR_ID, time=datetime.now(UTC), data=payload,
                            correlation_id=str(uuid.uuid4()), sequence=3)


def test_notification_reads_the_circulars_from_supervision_on_a_queue_of_its_own() -> None:
    subscription = topology.subscription_for("notification", "handle_circular_issued")
    assert subscription.event_types == (CIRCULAR_ISSUED,) and subscription.publisher == "supervision"
    assert CIRCULAR_ISSUED.type == "cn.xinfang.case.circular_issued.v1"
    assert callable(NotificationService.handle_circular_issued)
    issued().validate()
    issued(report_due=None, petitions=[]).validate()


def test_the_notice_says_the_circular_in_chinese_with_the_bureaus_own_text() -> None:
    circular = IssuedCircular.of(issued(), TEXT)
    given = circular_notice_values(circular, organ_name="示例县城关镇人民政府", bureau_name="示例县信访局",
                                   issued_on="2026年12月4日", console_url="https://xinfang.example.gov.cn")
    assert set(given) == set(NOTICES[NoticeKind.CIRCULAR_NOTICE].values)
    assert (given["report_due"], given["case_count"], given["circular_number"]) == ("2026年12月31日", "2", "督通〔2026〕3f9a1c号")
    body = render(NoticeKind.CIRCULAR_NOTICE.value, **given).body
    assert "典型问题通报《关于11月份重复信访问题的通报》（督通〔2026〕3f9a1c号）" in body
    assert "二是办结报告超期报送。" in body and "对照检查，逐件整改。" in body and "本通报涉及信访事项2件" in body
    assert "2026年12月31日前将整改情况书面报告" in body
    for petition in PETITIONS:  # the cases by their count: an e-mail leaves the platform
        assert petition not in body
    bare = circular_notice_values(IssuedCircular.of(issued(report_due=None, petitions=[], kind="criticism"), TEXT),
                                  organ_name="x", bureau_name="y", issued_on="z", console_url="")
    assert (bare["report_due"], bare["case_count"], bare["circular_kind"]) == ("", "", "criticism")


def test_an_organ_named_twice_is_told_once() -> None:
    assert IssuedCircular.of(issued(organs=[TOWN, LABOUR, TOWN]), TEXT).organs == (TOWN, LABOUR)


def test_the_notice_is_one_per_organ_and_circular_and_never_the_petitioners() -> None:
    circular = uuid.UUID(CIRCULAR_ID)
    assert circular_notice_id(circular, TOWN) == circular_notice_id(circular, TOWN)
    assert circular_notice_id(circular, TOWN) != circular_notice_id(circular, LABOUR)
    assert circular_notice_id(circular, TOWN) != circular_notice_id(uuid.uuid4(), TOWN)
    assert NoticeKind.CIRCULAR_NOTICE not in PETITIONER_NOTICES and NoticeKind.CIRCULAR_NOTICE not in STEP_NOTICE_KINDS
    delivered = Delivery(notice_id=circular_notice_id(circular, TOWN), channel="email", outcome="delivered",
                         at="2026-12-04T10:01:00+08:00", detail="3***@example.gov.cn", petition_id=CIRCULAR_ID,
                         kind="circular_notice", title="信访工作通报", correlation_id=str(uuid.uuid4()))
    [concluded] = delivered.collect_events()
    assert to_integration_event(concluded, 1, "urn:xinfang:330106:notification") is None  # not a receipt
