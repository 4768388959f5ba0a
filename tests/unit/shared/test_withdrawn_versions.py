"""A v1 message still queued at an upgrade is read as v2, keeping only what v2 admits (shared/language/integration/upcasting)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from shared.language.integration.catalog import (
    CASE_STEP_TYPES,
    CASE_STEP_TYPES_V1,
    PETITION_REGISTERED,
    PETITION_REGISTERED_V1,
)
from shared.language.integration.envelope import IntegrationEvent
from shared.language.integration.upcasting import current


def v1(event_type, data) -> IntegrationEvent:
    petition_id = data["petition_id"]
    event = IntegrationEvent(id=str(uuid.uuid4()), source="urn:xinfang:330106:intake", event_type=event_type,
                             subject=petition_id, time=datetime.now(UTC), data=data,
                             correlation_id="c", sequence=3)
    return IntegrationEvent.from_json(event.to_json())  # as a consumer receives it


def test_a_queued_petition_registered_v1_is_read_as_v2_without_its_personal_data() -> None:
    petition_id = str(uuid.uuid4())
    old = v1(PETITION_REGISTERED_V1, {
        "petition_id": petition_id, "query_code": "ABCD-EFGH-JKMN-PQRS", "registered_at": "2026-11-30T02:00:00+00:00",
        "channel": "online", "category": "appeal", "topic": "urban_management", "title": "小区污水外溢",
        "request": "请求疏通", "facts_and_reasons": "多次外溢", "place_code": "330106001", "people_count": 1,
        "petitioner": {"name": "王秀兰", "phone": "13800138000", "address": "人民路1号", "email": "w@example.cn"},
        "attachments": [{"file_name": "照片.jpg", "size": 1, "sha256": "ab" * 32}],
        "actor": {"role": "clerk", "user": "clerk1", "organ": "330106-XFJ"}})

    read = current(old)

    assert read.event_type is PETITION_REGISTERED and (read.id, read.sequence) == (old.id, old.sequence)
    assert read.data["attachments_count"] == 1 and read.data["anonymous"] is False
    assert read.data["actor"] == {"role": "clerk", "organ": "330106-XFJ"}
    text = json.dumps(read.data, ensure_ascii=False)
    for private in ("王秀兰", "13800138000", "ABCD-EFGH", "小区污水外溢", "照片", "clerk1"):
        assert private not in text


def test_a_queued_case_step_v1_keeps_only_the_details_v2_admits() -> None:
    petition_id = str(uuid.uuid4())
    old = v1(CASE_STEP_TYPES_V1["objection_upheld"], {
        "petition_id": petition_id, "step": "objection_upheld", "action": "decide_objection",
        "status": "rerouting", "status_text": "异议成立，重新分流", "at": "2026-11-30T02:00:00+00:00",
        "actor": {"role": "clerk", "user": "clerk1", "organ": "330106-XFJ"}, "basis": "《信访工作条例》第二十三条第三款",
        "details": {"upheld": True, "reasons": "张三说不归他管", "excluded_organs": ["330106001-ZF"]},
        "deadlines_opened": [], "deadlines_closed": {}})

    read = current(old)

    assert read.event_type is CASE_STEP_TYPES["objection_upheld"]
    assert read.data["details"] == {"upheld": True, "excluded_organs": ["330106001-ZF"]}


def test_an_event_of_the_published_version_is_left_as_it_is() -> None:
    from tests.support import samples

    event = samples.registered_event(1)

    assert current(event) is event
