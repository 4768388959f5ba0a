"""Hot spots and the monthly report (services/gateway/hotspots.py, GET /api/v1/hotspots, GET /api/v1/reports/monthly)
on a real read-model server (SecantusDB), from a hand-built set of work-list rows and warnings whose figures are
counted by hand:

| month   | 城关镇 (001)                      | 东溪镇 (002)            | 西山乡 (003) |
|---------|-----------------------------------|-------------------------|--------------|
| 2024-11 | 2 education                       |                         |              |
| 2025-10 | 1 education                       | 1 health                |              |
| 2025-11 | 3 education (南门村 ×2, 镇本级 ×1), 1 health | 2 environment, 1 health | 1 transport  |

One November 2025 row is registered at 23:30 on 10-31 UTC, which is 11-01 in China: it counts in November.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from services.gateway import hotspots
from shared.language.contracts.worklists import StatusGroup, lanes
from shared.language.readmodels import CaseRow, WarningRecord
from tests.support.gateway_app import LABOUR, TOWN, headers

CN = timezone(timedelta(hours=8))
_ids = itertools.count(1)
CHENGGUAN, DONGXI, XISHAN = "330106001", "330106002", "330106003"
NANMEN = "330106001003"


def row(at: datetime, topic: str | None, place: str, *, organs: tuple[str, ...] = (), due: str | None = None,
        concluded: bool = False) -> dict[str, Any]:
    petition = f"00000000-0000-4000-8000-{next(_ids):012d}"
    group = StatusGroup.CONCLUDED if concluded else StatusGroup.IN_HANDLING
    utc = at.astimezone(UTC)
    return {"_id": petition, "version": 1, "query_code": "ABCD-EFGH-JKMN-PQRS", "title": "t", "category": "appeal",
            "channel": "online", "topic": topic, "place_code": place, "town": place[:9], "registered_at": utc,
            "status": "handling", "status_text": "办理中", "group": group.value, "organs": list(organs),
            "reviewer": None, "deadline": {"kind": "handling", "label": "办理期限", "due": due} if due else None,
            "flags": [], "lanes": lanes(list(organs), group),
            "by_due": f"{due or '9999-12-31'}|{petition}",
            "by_registered": f"{utc.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}|{petition}"}


@pytest.fixture
def month_set(read_models) -> None:
    day = lambda y, m, d: datetime(y, m, d, 10, tzinfo=CN)  # noqa: E731
    rows = [
        row(day(2024, 11, 5), "education", CHENGGUAN), row(day(2024, 11, 6), "education", CHENGGUAN),
        row(day(2025, 10, 7), "education", CHENGGUAN), row(day(2025, 10, 8), "health", DONGXI),
        row(datetime(2025, 10, 31, 23, 30, tzinfo=UTC), "education", NANMEN),  # 11-01 07:30 in China
        row(day(2025, 11, 3), "education", NANMEN, organs=(TOWN,), due="2025-12-01"),
        row(day(2025, 11, 4), "education", CHENGGUAN, organs=(TOWN,), due="2025-12-02"),
        row(day(2025, 11, 5), "health", CHENGGUAN, organs=(LABOUR,), due="2025-12-03"),
        row(day(2025, 11, 6), "environment", DONGXI, organs=(TOWN,), due="9999-01-01"),  # not overdue
        row(day(2025, 11, 7), "environment", DONGXI, concluded=True),
        row(day(2025, 11, 8), "health", DONGXI),
        row(day(2025, 11, 9), "transport", XISHAN, organs=(LABOUR,), due="2025-12-04"),
        row(day(2025, 12, 1), "education", CHENGGUAN),  # after the month
    ]
    CaseRow._get_collection().insert_many(rows)
    WarningRecord._get_collection().insert_many([
        {"_id": "10000000-0000-4000-8000-000000000001", "kind": "place_spike", "key": CHENGGUAN, "topic": None,
         "town": CHENGGUAN, "window_start": "2025-11-03T00:00:00+08:00", "window_end": "2025-11-04T00:00:00+08:00",
         "count": 12, "threshold": 10, "petitions": ["00000000-0000-4000-8000-000000000001"],
         "raised_at": datetime(2025, 11, 3, 12, tzinfo=UTC), "raised_on": "2025-11-03"},
        {"_id": "10000000-0000-4000-8000-000000000002", "kind": "sensitive", "key": "x", "topic": "environment",
         "town": DONGXI, "window_start": None, "window_end": None, "count": 1, "threshold": None,
         "petitions": ["00000000-0000-4000-8000-000000000002"],
         "raised_at": datetime(2025, 11, 6, 12, tzinfo=UTC), "raised_on": "2025-11-06"},
        {"_id": "10000000-0000-4000-8000-000000000003", "kind": "sensitive", "key": "y", "topic": "environment",
         "town": DONGXI, "window_start": None, "window_end": None, "count": 1, "threshold": None,
         "petitions": ["00000000-0000-4000-8000-000000000003"],
         "raised_at": datetime(2025, 12, 6, 12, tzinfo=UTC), "raised_on": "2025-12-06"},  # December's
    ])


def month(answer: dict[str, Any], code: str | None, which: str) -> dict[str, Any]:
    [item] = [i for i in answer["items"] if i["code"] == code]
    [shown] = [m for m in item["months"] if m["month"] == which]
    return shown


def test_towns_per_month_with_their_trend(month_set):
    answer = hotspots.hotspots("2025-10", "2025-11", "town")

    assert answer["months"] == ["2025-10", "2025-11"]
    assert [(i["code"], i["name"], i["total"]) for i in answer["items"]] == [
        (CHENGGUAN, "城关镇", 5), (DONGXI, "东溪镇", 4), (XISHAN, "西山乡", 1)]
    assert month(answer, CHENGGUAN, "2025-11") == {
        "month": "2025-11", "count": 4, "previous_month": 1, "change": 3, "change_rate": 3.0,
        "same_month_last_year": 2, "year_change": 2, "year_change_rate": 1.0}
    assert month(answer, XISHAN, "2025-11")["change_rate"] is None  # nothing the month before
    assert month(answer, DONGXI, "2025-10") == {
        "month": "2025-10", "count": 1, "previous_month": 0, "change": 1, "change_rate": None,
        "same_month_last_year": 0, "year_change": 1, "year_change_rate": None}
    assert [(t["month"], t["count"], t["previous_month"], t["same_month_last_year"]) for t in answer["total"]] == [
        ("2025-10", 2, 0, 0), ("2025-11", 8, 2, 2)]


def test_villages_and_topics(month_set):
    villages = hotspots.hotspots("2025-11", "2025-11", "village")
    assert [(i["code"], i["name"], i["total"]) for i in villages["items"][:2]] == [
        (DONGXI, "东溪镇", 3), (CHENGGUAN, "城关镇", 2)]  # places named to the town only count as the town
    assert (NANMEN, "城关镇南门村", 2) in [(i["code"], i["name"], i["total"]) for i in villages["items"]]
    topics = hotspots.hotspots("2025-11", "2025-11", "topic")
    assert [(i["code"], i["name"], i["total"]) for i in topics["items"]] == [
        ("education", "教育", 3), ("environment", "生态环境", 2), ("health", "医疗卫生", 2), ("transport", "交通运输", 1)]
    education = month(topics, "education", "2025-11")
    assert (education["previous_month"], education["same_month_last_year"]) == (1, 2)


def test_the_monthly_report(month_set):
    report = hotspots.monthly_report("2025-11", datetime(2026, 1, 10).date(), None)

    assert report["month"] == "2025-11" and report["closed"] is True
    assert (report["registrations"]["count"], report["registrations"]["previous_month"],
            report["registrations"]["same_month_last_year"]) == (8, 2, 2)
    assert [(t["code"], t["change"]) for t in report["rising_topics"]] == [
        ("education", 2), ("environment", 2), ("health", 1), ("transport", 1)]
    assert [(t["code"], t["name"], t["count"], t["change"]) for t in report["rising_towns"]] == [
        (CHENGGUAN, "城关镇", 4, 3), (DONGXI, "东溪镇", 3, 2), (XISHAN, "西山乡", 1, 1)]
    assert report["warnings"]["count"] == 2
    assert report["warnings"]["by_kind"] == [{"kind": "place_spike", "kind_text": "同一地区集中信访", "count": 1},
                                             {"kind": "sensitive", "kind_text": "敏感事项信访", "count": 1}]
    assert [w["raised_on"] for w in report["warnings"]["items"]] == ["2025-11-06", "2025-11-03"]  # the latest first
    assert report["overdue_by_organ"] == [  # as many: by code
        {"code": LABOUR, "name": "示例县人力资源和社会保障局", "overdue": 2},
        {"code": TOWN, "name": "示例县城关镇人民政府", "overdue": 2}]


@pytest.fixture
def client(gateway_for, month_set):
    return gateway_for(object())


def test_the_api_answers_the_bureau_and_refuses_organ_officers(client):
    for who in ("clerk", "supervisor", "admin"):
        answer = client.get("/api/v1/hotspots", params={"from": "2025-10", "to": "2025-11", "by": "topic"},
                            headers=headers(client, who))
        assert answer.status_code == 200, answer.text
        assert answer.json()["items"][0]["code"] == "education"
        report = client.get("/api/v1/reports/monthly", params={"month": "2025-11"}, headers=headers(client, who))
        assert report.status_code == 200 and report.json()["registrations"]["count"] == 8
    by_town = client.get("/api/v1/hotspots", params={"from": "2025-11", "to": "2025-11"},
                         headers=headers(client, "supervisor")).json()
    assert by_town["by"] == "town" and by_town["items"][0]["code"] == CHENGGUAN
    for who in ("town", "labour", "auditor"):
        assert client.get("/api/v1/hotspots", params={"from": "2025-11", "to": "2025-11"},
                          headers=headers(client, who)).status_code == 403
        assert client.get("/api/v1/reports/monthly", params={"month": "2025-11"},
                          headers=headers(client, who)).status_code == 403


@pytest.mark.parametrize(("path", "params", "field", "code"), [
    ("/api/v1/hotspots", {"to": "2025-11"}, "query.from", "required"),
    ("/api/v1/hotspots", {"from": "2025-13", "to": "2025-11"}, "query.from", "invalid_month"),
    ("/api/v1/hotspots", {"from": "2025-11", "to": "2025-10"}, "query.to", "invalid_range"),
    ("/api/v1/hotspots", {"from": "2022-01", "to": "2025-11"}, "query.to", "period_too_long"),
    ("/api/v1/hotspots", {"from": "2025-10", "to": "2025-11", "by": "organ"}, "query.by", "invalid_choice"),
    ("/api/v1/reports/monthly", {}, "query.month", "required"),
    ("/api/v1/reports/monthly", {"month": "2025-1"}, "query.month", "invalid_month"),
    ("/api/v1/reports/monthly", {"month": "2999-01"}, "query.month", "future_month"),
])
def test_bad_parameters_are_a_422_naming_them(client, path, params, field, code):
    answer = client.get(path, params=params, headers=headers(client, "supervisor"))
    assert answer.status_code == 422, answer.text
    assert [(e["field"], e["code"]) for e in answer.json()["errors"]] == [(field, code)]
    assert all(e["label"] and e["message"] for e in answer.json()["errors"])
