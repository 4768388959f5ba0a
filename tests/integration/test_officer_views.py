"""What each officer sees of a petition (GET /api/v1/petitions/{id}) and the record of every view of personal data
(GET /api/v1/audit/personal-data-views): the real gateway application in-process on a real SecantusDB read model,
its case views and inbox written directly as supervision's projector and notification's inbox would. The services
behind the RPC port answer from dictionaries shaped as intake's `get_petition` and supervision's `get_case` do."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pymongo.errors import ServerSelectionTimeoutError

from services.gateway import access_records
from shared.language.contracts import querycode
from tests.support import samples
from tests.support.gateway_app import (
    COUNTY,
    LABOUR,
    ORGAN_NAMES,
    POLITICAL_LEGAL,
    TOWN,
    RecordedServices,
    headers,
    officer_view,
    save_case_view,
    save_receipt,
    views_of,
)


@pytest.fixture
def services() -> RecordedServices:
    return RecordedServices()


@pytest.fixture
def client(gateway_for, services) -> TestClient:
    return gateway_for(services)


def petition(services: RecordedServices, *, status: str, organ: str | None, involved: list[str],
             category: str = "appeal", review_organ: str | None = None) -> dict[str, Any]:
    """A petition as intake holds it and its case view as supervision projects it, with a registration receipt
    in the inbox (whose body, like the real one, names the petitioner and holds the query code)."""
    body = samples.petition(category=category, representatives=[], joint_signers=[])
    if category == "report":
        body["accused"] = {"name": "被反映人甲", "organisation": "某物业公司", "position": "经理"}
    body["petitioner"]["agent"] = {"name": "代理人乙", "phone": samples.mobile(), "relation": "儿子"}
    pid, code = str(uuid.uuid4()), querycode.issue()
    now = datetime.now(UTC)
    services.petitions[pid] = {
        "id": pid, "query_code": code, "status": "registered", "registered_at": now.isoformat(),
        "anonymous": False, "accused": body.get("accused"), "flags": [], "repeat_of": None,
        "similar_petitions": [{"petition_id": str(uuid.uuid4()), "registered_at": now.isoformat(),
                               "similarity": 0.9, "same_person_by": ["id_number"]}],
        "registered_by": {"role": "petitioner", "user": None, "organ": None},
        **{k: body[k] for k in ("channel", "petitioner", "representatives", "joint_signers", "title", "request",
                                "facts_and_reasons", "category", "topic", "place_code", "people_count",
                                "attachments")}}
    save_case_view(pid, code, organ=organ, involved=involved, status=status, category=category, title=body["title"],
                   place_code=body["place_code"], version=3, registered_at=now)
    save_receipt(pid, code, body["petitioner"]["name"], now)
    if review_organ:
        services.cases[pid] = {"id": pid, "status": status, "organ": {"code": organ, "name": ORGAN_NAMES[organ]},
                               "review_organ": {"code": review_organ, "name": ORGAN_NAMES[review_organ]}}
    return services.petitions[pid]


def personal_values(record: dict[str, Any]) -> list[str]:
    person = record["petitioner"]
    return [record["query_code"], person["name"], person["id_number"], person["phone"], person["address"],
            person["email"], person["agent"]["name"], person["agent"]["phone"]]


def test_the_handling_organ_sees_the_petitioner_but_never_the_query_code(client, services):
    record = petition(services, status="handling", organ=TOWN, involved=[TOWN])
    shown = officer_view(client, "town", record["id"])

    assert shown["petitioner"]["id_number"] == record["petitioner"]["id_number"]
    assert shown["identity_withheld"] is False
    assert shown["query_code"] is None
    assert [n["body"] for n in shown["notices"]] == [None] and shown["notices"][0]["title"] == "信访事项登记回执"
    assert record["query_code"] not in client.get(f"/api/v1/petitions/{record['id']}",
                                                  headers=headers(client, "town")).text
    assert shown["withheld"] == ["query_code", "notices.body"]


def test_the_clerk_who_hands_out_query_codes_sees_them_and_the_receipt(client, services):
    record = petition(services, status="handling", organ=TOWN, involved=[TOWN])
    shown = officer_view(client, "clerk", record["id"])

    assert shown["query_code"] == record["query_code"]
    assert record["query_code"] in shown["notices"][0]["body"]
    assert shown["withheld"] == []
    [entry] = views_of(client, record["id"])
    assert "query_code" in entry["fields"] and "notices.body" in entry["fields"]


@pytest.mark.parametrize("who, status, organ, involved", [
    ("labour", "awaiting_acceptance", TOWN, [TOWN, LABOUR]),  # a joining organ (配合机关)
    ("town", "awaiting_acceptance", LABOUR, [TOWN, LABOUR]),  # re-routed away from it after its objection
    ("town", "rerouting", TOWN, [TOWN]),  # objection upheld, the bureau routes it again: no organ holds it
    ("county", "reviewed", TOWN, [TOWN, COUNTY]),  # reviewed it; the review is over
])
def test_organs_not_responsible_now_see_the_record_without_identity(client, services, who, status, organ, involved):
    record = petition(services, status=status, organ=organ, involved=involved)
    answer = client.get(f"/api/v1/petitions/{record['id']}", headers=headers(client, who))

    assert answer.status_code == 200
    shown = answer.json()
    assert shown["petitioner"] is None and shown["identity_withheld"] is True
    assert shown["similar_petitions"] == [] and shown["representatives"] == [] and shown["joint_signers"] == []
    assert shown["request"] == record["request"]  # the matter itself: what they need to do their part
    assert set(shown["withheld"]) >= {"query_code", "petitioner", "similar_petitions"}
    for value in personal_values(record):
        assert value not in answer.text
    assert views_of(client, record["id"]) == []  # nothing personal shown: nothing to record


def test_the_reviewing_organ_sees_the_petitioner_while_it_reviews(client, services):
    record = petition(services, status="under_review", organ=TOWN, involved=[TOWN, COUNTY], review_organ=COUNTY)
    assert officer_view(client, "county", record["id"])["petitioner"]["name"] == record["petitioner"]["name"]
    assert officer_view(client, "town", record["id"])["petitioner"] is not None  # its opinion is under review
    assert client.get(f"/api/v1/petitions/{record['id']}", headers=headers(client, "labour")).status_code == 403


def test_a_report_shows_the_reporter_and_the_accused_only_to_the_bureau_and_the_handling_organ(client, services):
    record = petition(services, status="under_review", organ=POLITICAL_LEGAL, category="report",
                      involved=[POLITICAL_LEGAL, TOWN, COUNTY], review_organ=COUNTY)

    for who in ("zfw", "clerk", "supervisor", "admin"):
        shown = officer_view(client, who, record["id"])
        assert shown["petitioner"]["name"] == record["petitioner"]["name"], who
        assert shown["accused"]["name"] == "被反映人甲", who
    for who in ("town", "county", "auditor"):  # joining; reviewing (a report: the handling organ only); auditor
        answer = client.get(f"/api/v1/petitions/{record['id']}", headers=headers(client, who))
        assert answer.json()["petitioner"] is None and answer.json()["accused"] is None, who
        assert "被反映人甲" not in answer.text and record["petitioner"]["id_number"] not in answer.text, who


def test_every_view_of_personal_data_is_listed_for_auditors_with_who_when_and_which_fields(client, services):
    record = petition(services, status="handling", organ=TOWN, involved=[TOWN])
    before = datetime.now(UTC) - timedelta(seconds=1)
    officer_view(client, "town", record["id"])
    client.get(f"/api/v1/petitions/{record['id']}",
               headers={**headers(client, "supervisor"), "X-Correlation-ID": "audit-check-1"})

    entries = views_of(client, record["id"])
    assert [e["username"] for e in entries] == ["supervisor", "town"]  # newest first
    supervisor, town = entries
    assert town["role"] == "organ_officer" and town["organ"] == TOWN and town["petition_id"] == record["id"]
    assert {"petitioner.name", "petitioner.id_number", "petitioner.phone", "petitioner.address",
            "petitioner.email", "petitioner.agent.name", "petitioner.agent.phone"} <= set(town["fields"])
    assert "query_code" not in town["fields"]
    assert supervisor["correlation_id"] == "audit-check-1" and supervisor["client"] == "testclient"
    assert datetime.fromisoformat(town["at"]) >= before
    assert [e["username"] for e in views_of(client, record["id"], user="town")] == ["town"]
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    assert views_of(client, record["id"], since=later) == []
    assert len(views_of(client, record["id"], until=later)) == 2


def test_the_list_pages_on(client, services):
    record = petition(services, status="handling", organ=TOWN, involved=[TOWN])
    for _ in range(3):
        officer_view(client, "town", record["id"])
    first = client.get("/api/v1/audit/personal-data-views", params={"petition_id": record["id"], "limit": 2},
                       headers=headers(client, "auditor")).json()
    rest = client.get("/api/v1/audit/personal-data-views",
                      params={"petition_id": record["id"], "limit": 2, "offset": first["next_offset"]},
                      headers=headers(client, "auditor")).json()
    assert len(first["views"]) == 2 and first["next_offset"] == 2
    assert len(rest["views"]) == 1 and rest["next_offset"] is None
    assert len({e["id"] for e in first["views"] + rest["views"]}) == 3


@pytest.mark.parametrize("who", ["clerk", "supervisor", "admin", "town"])
def test_only_auditors_list_the_views(client, who):
    answer = client.get("/api/v1/audit/personal-data-views", headers=headers(client, who))
    assert answer.status_code == 403
    assert client.get("/api/v1/audit/personal-data-views").status_code == 401


def test_bad_filters_get_a_422_naming_the_field_in_chinese(client):
    auditor = headers(client, "auditor")
    bad_id = client.get("/api/v1/audit/personal-data-views", params={"petition_id": "nope"}, headers=auditor)
    assert bad_id.status_code == 422 and bad_id.json()["errors"][0]["label"] == "信访事项编号"
    naive = client.get("/api/v1/audit/personal-data-views", params={"since": "2026-10-01T12:00:00"},
                       headers=auditor)
    assert naive.status_code == 422 and naive.json()["error"] == "timezone_required"
    too_many = client.get("/api/v1/audit/personal-data-views", params={"limit": 5000}, headers=auditor)
    assert too_many.status_code == 422 and too_many.json()["errors"][0]["label"] == "条数"


def test_a_view_that_cannot_be_recorded_shows_nothing(client, services, monkeypatch):
    record = petition(services, status="handling", organ=TOWN, involved=[TOWN])

    class Unreachable:
        def insert_one(self, _document: Any) -> None:
            raise ServerSelectionTimeoutError("read models unreachable")

    monkeypatch.setattr(access_records.PersonalDataView, "_get_collection", classmethod(lambda cls: Unreachable()))
    answer = client.get(f"/api/v1/petitions/{record['id']}", headers=headers(client, "town"))

    assert answer.status_code == 503
    assert answer.json()["error"] == "service_unavailable"
    assert record["petitioner"]["id_number"] not in answer.text and record["petitioner"]["name"] not in answer.text
