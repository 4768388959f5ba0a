"""Valid sample petitions and integration events for tests."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from stdnum.cn import ric

from shared.language.integration.catalog import PETITION_REGISTERED, PETITION_ROUTED
from shared.language.integration.envelope import IntegrationEvent

# Numbers drawn in this process: a random one drawn twice would make its petitions one person's, and the same
# sample matter a repeat (同人+同事), declined at once with no organ (the benchmark's thousands of petitions drew a
# repeat in about one run in three: one in ~20 million per ID number).
_DRAWN: set[str] = set()


def _unique(draw: Callable[[], str]) -> str:
    while (number := draw()) in _DRAWN:
        pass
    _DRAWN.add(number)
    return number


def id_number(birth: str | None = None) -> str:
    """A resident ID number with a correct GB 11643 check digit: of a new random person unless the birth date is
    given."""
    if birth is None:
        return _unique(lambda: id_number(
            (date(1940, 1, 1) + timedelta(days=random.randint(0, 65 * 365))).strftime("%Y%m%d")))
    body = f"330106{birth}{random.randint(100, 999)}"
    return body + ric.calc_check_digit(body + "0")  # stdnum expects a placeholder check digit


def mobile() -> str:
    return _unique(lambda: f"138{random.randint(0, 99_999_999):08d}")


def petition(**overrides: Any) -> dict[str, Any]:
    """A petition of a new petitioner each time (a random ID number and phone: no two samples are repeats)."""
    body: dict[str, Any] = {
        "channel": "online",
        "petitioner": {"name": "王秀兰", "id_number": id_number(), "phone": mobile(),
                       "address": "示例县城关镇人民路1号", "email": "wangxl@example.cn"},
        "title": "小区污水外溢长期无人处理",
        "request": "请求有关部门尽快疏通污水管道",
        "facts_and_reasons": "自今年三月起，小区北门污水井多次外溢，多次向物业反映未果。",
        "category": "appeal",
        "topic": "urban_management",
        "place_code": "330106001",
        "people_count": 1,
        "attachments": [{"file_name": "现场照片.jpg", "size": 1234, "sha256": "ab" * 32}],
    }
    for key, value in overrides.items():
        if key in body["petitioner"] and key not in body:
            body["petitioner"][key] = value
        else:
            body[key] = value
    return body


# What intake keeps to itself and serves over its private RPC (`petition_particulars`), by petition id: the
# sample events carry only the published facts (petition.registered.v2).
_PARTICULARS: dict[str, dict[str, Any]] = {}
PRIVATE_FIELDS = ("query_code", "title", "petitioner")


def registered_event(sequence: int, *, source: str = "urn:xinfang:330106:intake", **data: Any) -> IntegrationEvent:
    """A petition.registered.v2 event; `query_code`, `title` and `petitioner` (its contact) go to the particulars
    that `particulars(event, purpose)` returns, as intake's RPC would."""
    petition_id = data.pop("petition_id", str(uuid.uuid4()))
    now = datetime.now(UTC)
    private = {"query_code": "ABCD-EFGH-JKMN-PQRS", "title": "小区污水外溢",
               "petitioner": {"name": "王秀兰", "phone": "13800138000", "email": "wangxl@example.cn"}}
    private.update({k: data.pop(k) for k in PRIVATE_FIELDS if k in data})
    _PARTICULARS[petition_id] = private
    payload = {
        "petition_id": petition_id, "registered_at": now.isoformat(),
        "channel": "online", "category": "appeal", "topic": "urban_management", "place_code": "330106001",
        "people_count": 1, "anonymous": False, "has_agent": False, "representatives_count": 0,
        "joint_signers_count": 0, "attachments_count": 0, "flags": [], "repeat_of": None, "similar_petitions": [],
        "actor": {"role": "petitioner", "user": None, "organ": None},
    }
    payload.update(data)
    return IntegrationEvent(id=str(uuid.uuid4()), source=source, event_type=PETITION_REGISTERED, subject=petition_id,
                            time=now, data=payload, correlation_id=str(uuid.uuid4()), sequence=sequence)


def particulars(event: IntegrationEvent, purpose: str = "case") -> dict[str, Any]:
    """What intake's `petition_particulars` RPC answers for a sample event."""
    private = _PARTICULARS[event.subject]
    shown = {"petition_id": event.subject, "query_code": private["query_code"], "title": private["title"]}
    if purpose == "notice":
        petitioner = private["petitioner"]
        shown["recipient"] = None if petitioner is None else {
            "name": petitioner["name"], "phone": petitioner["phone"], "email": petitioner.get("email")}
    return shown


def routed_event(sequence: int, petition_id: str, *, organ_code: str = "330106001-ZF",
                 organ_name: str = "示例县城关镇人民政府", disposition: str = "transfer",
                 routed_at: datetime | None = None) -> IntegrationEvent:
    now = routed_at or datetime.now(UTC)
    return IntegrationEvent(
        id=str(uuid.uuid4()), source="urn:xinfang:330106:routing", event_type=PETITION_ROUTED, subject=petition_id,
        time=now, correlation_id=str(uuid.uuid4()), sequence=sequence,
        data={"petition_id": petition_id, "organ": {"code": organ_code, "name": organ_name},
              "disposition": disposition, "basis": "属地管理", "rule_id": "chengguan-local",
              "rules_version": "test", "routed_at": now.isoformat(), "joining_organs": [], "where_to_go": None,
              "reason": "registered"},
    )
