"""The work lists (GET /api/v1/cases), the bureau's search (POST /api/v1/cases/search) and the reference data
(GET /api/v1/reference/...): the real gateway application in-process on a real SecantusDB, reading the rows that
supervision's real work-list projection writes from a real supervision store, with intake's real application (its
store, its search index projection) answering the RPC port as its service does. Only the broker is left out."""

from __future__ import annotations

import collections
import itertools
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.intake import search
from services.intake.bootstrap import build_application as build_intake
from services.intake.settings import IntakeSettings
from services.intake.translate import to_integration_event
from services.supervision import worklists as worklists_projection
from services.supervision.bootstrap import build_application as build_supervision
from services.supervision.settings import SupervisionSettings
from services.supervision.worklists import CaseRowProjection
from shared.language.contracts.registration import RegisterPetition
from shared.language.contracts.worklists import count_keys
from shared.language.readmodels import CaseCount, CaseRow
from shared.runtime.projector import Projector, rebuild
from tests.support import samples
from tests.support.gateway_app import CLERK, COUNTY, DISCIPLINE, LABOUR, PETITIONER, TOWN, headers, views_of


def officer(organ: str) -> dict[str, Any]:
    return {"role": "organ_officer", "user": "officer", "organ": organ}


class Services:
    """The RPC port, answered by the real applications as their nameko services answer it."""

    def __init__(self, intake: Any, supervision: Any) -> None:
        self.intake, self.supervision, self.down = intake, supervision, False

    def call(self, service: str, method: str, *args: Any, actor: dict[str, Any]) -> Any:
        from services.gateway.clients import ServiceUnavailable

        if self.down:
            raise ServiceUnavailable("intake did not answer")
        if (service, method) == ("intake", "petitioner_names"):
            return search.names(self.intake, *args, actor)
        if (service, method) == ("intake", "search_petitions"):
            return search.search(self.intake, self.intake.settings.person_key_secret.encode(), *args, actor)
        if (service, method) == ("supervision", "get_case"):
            return self.supervision.get_case(args[0], actor)
        raise AssertionError(f"unexpected RPC {service}.{method}")

    def close(self) -> None:
        pass


class County:
    """Petitions registered at intake and their cases driven in supervision, listed as the projector lists them."""

    def __init__(self, intake: Any, supervision: Any, settings: tuple[Any, Any]) -> None:
        self.intake, self.supervision = intake, supervision
        self._sequence = itertools.count(1)
        self.rows = Projector(settings[1], "supervision", supervision, CaseRowProjection(supervision))
        self.index = Projector(settings[0], "intake", intake, search.SearchIndexProjection(
            intake.settings.person_key_secret.encode()))
        self.petitions: dict[str, dict[str, Any]] = {}

    def register(self, *, days_ago: int = 0, actor: dict[str, Any] = PETITIONER, **fields: Any) -> str:
        body = samples.petition(**fields)
        receipt = self.intake.register_petition(RegisterPetition.model_validate(body),
                                                actor=_actor(actor))
        pid = receipt["id"]
        [registered] = self.intake.events.get(uuid.UUID(pid))
        event = to_integration_event(registered, next(self._sequence), "urn:xinfang:330106:intake")
        if days_ago:  # registered (and received) that many days ago: its triage clock has run that long
            at = (datetime.now(UTC) - timedelta(days=days_ago)).isoformat()
            event = replace(event, data={**event.data, "registered_at": at})
        self.supervision.open_case(event, self.intake.particulars(pid, "case"))
        self.petitions[pid] = {**body, **receipt}
        return pid

    def route(self, pid: str, organ: str, name: str) -> None:
        self.supervision.record_routing(samples.routed_event(next(self._sequence), pid, organ_code=organ,
                                                             organ_name=name))

    def act(self, pid: str, action: str, payload: dict[str, Any], actor: dict[str, Any]) -> None:
        self.supervision.perform(pid, action, payload, actor)

    def project(self) -> None:
        while self.rows.follower.run_once():
            pass
        while self.index.follower.run_once():
            pass

    def close(self) -> None:
        self.rows.close()
        self.index.close()


def _actor(actor: dict[str, Any]) -> Any:
    from shared.language.contracts.actor import Actor

    return Actor.model_validate(actor)


@pytest.fixture
def county(settings_for, closing, read_models) -> County:
    intake_settings = settings_for(IntakeSettings, store="sqlite")
    supervision_settings = settings_for(SupervisionSettings, store="sqlite")
    intake = closing(build_intake(intake_settings))
    supervision = closing(build_supervision(supervision_settings))
    built = closing(County(intake, supervision, (intake_settings, supervision_settings)))
    p = built.petitions
    built.handling = built.register(name="王秀兰")  # the town's, accepted
    built.route(built.handling, TOWN, "示例县城关镇人民政府")
    built.act(built.handling, "accept", {"procedure": "ordinary"}, officer(TOWN))
    built.joined = built.register(name="李四", topic="labour_wages", place_code="330106002003")
    built.act(built.joined, "transfer", {"organ_code": LABOUR, "joining_organ_codes": [TOWN]}, CLERK)
    built.late = built.register(name="张三", days_ago=30, channel="letter", actor=CLERK)  # triage overdue
    built.report = built.register(category="report", anonymous=True, topic=None,
                                  accused={"name": "某某", "organisation": "某公司"}, petitioner=None)
    built.route(built.report, DISCIPLINE, "示例县纪委监委")
    built.declined = built.register(name="赵六")
    built.route(built.declined, TOWN, "示例县城关镇人民政府")
    built.act(built.declined, "decline", {"reason_code": "out_of_scope", "explanation": "不属于受理范围"}, officer(TOWN))
    built.reviewed = built.register(name="钱七")
    built.route(built.reviewed, TOWN, "示例县城关镇人民政府")
    built.act(built.reviewed, "accept", {"procedure": "ordinary"}, officer(TOWN))
    built.act(built.reviewed, "reply", {"outcome": "explain", "opinion": "已作解释"}, officer(TOWN))
    built.act(built.reviewed, "open_review", {"organ_code": COUNTY}, CLERK)
    built.group = built.register(name="孙八", people_count=6,
                                 representatives=[{"name": "周九", "phone": samples.mobile()}])
    built.project()
    assert len(p) == 7
    return built


@pytest.fixture
def client(gateway_for, county) -> TestClient:
    return gateway_for(Services(county.intake, county.supervision), GATEWAY_PUBLIC_RATE_LIMIT="1000/minute")


def listed(client: TestClient, username: str, **params: Any) -> dict[str, Any]:
    answer = client.get("/api/v1/cases", params=params, headers=headers(client, username))
    assert answer.status_code == 200, answer.text
    return answer.json()


def ids(page: dict[str, Any]) -> set[str]:
    return {row["id"] for row in page["cases"]}


def test_the_bureau_lists_the_countys_cases_and_an_organ_officer_its_organs(client, county):
    everything = set(county.petitions)
    for who in ("clerk", "supervisor", "admin", "auditor"):
        assert ids(listed(client, who, limit=100)) == everything, who
    assert ids(listed(client, "town")) == {county.handling, county.joined, county.declined, county.reviewed}
    assert ids(listed(client, "labour")) == {county.joined}
    assert ids(listed(client, "county")) == {county.reviewed}  # reviewing it now
    assert ids(listed(client, "supervisor", organ=LABOUR)) == {county.joined}
    assert ids(listed(client, "supervisor", organ=TOWN)) == ids(listed(client, "town"))
    refused = client.get("/api/v1/cases", params={"organ": LABOUR}, headers=headers(client, "town"))
    assert refused.status_code == 403 and refused.json()["error"] == "not_your_organ"
    assert client.get("/api/v1/cases").status_code == 401


def test_each_role_sees_query_codes_and_names_as_the_privacy_rules_say_and_each_view_is_recorded(client, county):
    codes = {pid: p["query_code"] for pid, p in county.petitions.items()}
    rows = {r["id"]: r for r in listed(client, "clerk", limit=100)["cases"]}
    assert all(rows[pid]["query_code"] == codes[pid] for pid in codes)
    assert rows[county.handling]["petitioner"] == {"name": "王秀兰", "identified": True, "anonymous": False}
    assert rows[county.report]["petitioner"] == {"name": "匿名", "identified": False, "anonymous": True}
    assert "anonymous" in rows[county.report]["flags"] and "group" in rows[county.group]["flags"]

    supervisor = {r["id"]: r for r in listed(client, "supervisor", limit=100)["cases"]}
    assert all(r["query_code"] is None for r in supervisor.values())
    assert supervisor[county.joined]["petitioner"]["name"] == "李四"

    town = {r["id"]: r for r in listed(client, "town")["cases"]}
    assert town[county.handling]["petitioner"] == {"name": "王秀兰", "identified": True, "anonymous": False}
    assert town[county.joined]["petitioner"] == {"name": "李**", "identified": False, "anonymous": False}  # joining
    county_rows = listed(client, "county")["cases"]
    assert county_rows[0]["petitioner"]["name"] == "钱七"  # reviewing it now

    auditor = listed(client, "auditor", limit=100)
    assert all(r["query_code"] is None and not r["petitioner"]["identified"] for r in auditor["cases"])
    assert {r["petitioner"]["name"] for r in auditor["cases"]} >= {"王**", "李**", "匿名"}
    for value in ("王秀兰", "李四", *codes.values()):
        assert value not in str(auditor)

    recorded = {(v["username"], v["petition_id"]): v["fields"] for v in views_of(client, limit=1000)}
    assert recorded[("clerk", county.handling)] == ["list.query_code", "list.petitioner.name"]
    assert recorded[("clerk", county.report)] == ["list.query_code"]  # no name to show
    assert recorded[("supervisor", county.joined)] == ["list.petitioner.name"]
    assert ("town", county.handling) in recorded and ("town", county.joined) not in recorded
    assert not any(user == "auditor" for user, _ in recorded)


@pytest.mark.parametrize("params, expected", [
    ({"group": "new"}, {"late", "group"}),
    ({"group": "awaiting_acceptance"}, {"joined", "report"}),
    ({"status": "handling"}, {"handling"}),
    ({"group": "in_review"}, {"reviewed"}),
    ({"group": "concluded"}, {"declined"}),
    ({"group": "overdue"}, {"late"}),
    ({"topic": "labour_wages"}, {"joined"}),
    ({"town": "330106002"}, {"joined"}),
    ({"channel": "letter"}, {"late"}),
    ({"category": "report"}, {"report"}),
])
def test_filters(client, county, params, expected):
    assert ids(listed(client, "clerk", limit=100, **params)) == {getattr(county, name) for name in expected}


def test_deadline_and_registration_filters_count_days_in_china(client, county):
    today = datetime.fromisoformat(listed(client, "clerk")["today"]).date()
    long_ago = (today - timedelta(days=10)).isoformat()
    assert ids(listed(client, "clerk", registered_to=long_ago)) == {county.late}
    assert county.late not in ids(listed(client, "clerk", registered_from=(today - timedelta(days=1)).isoformat(),
                                         limit=100))
    assert ids(listed(client, "clerk", deadline_before=today.isoformat())) == {county.late}
    due_soon = listed(client, "clerk", group="due_soon", within_days=90, limit=100)
    assert county.late not in ids(due_soon) and county.declined not in ids(due_soon)
    assert all(0 <= r["next_deadline"]["days_left"] <= 90 for r in due_soon["cases"])
    late = listed(client, "clerk", group="overdue")["cases"][0]["next_deadline"]
    assert late["kind"] == "triage" and late["overdue"] and late["days_left"] < 0


def test_pages_follow_the_order_asked_and_stay_stable_while_cases_are_registered(client, county):
    seen, cursor, dues = [], None, []
    while True:
        page = listed(client, "clerk", limit=2, **({"cursor": cursor} if cursor else {}))
        seen += [r["id"] for r in page["cases"]]
        dues += [r["next_deadline"]["due"] if r["next_deadline"] else "9999" for r in page["cases"]]
        if len(seen) == 2:  # a petition registered (and listed) between two pages
            county.register(name="吴十")
            county.project()
        cursor = page["next_cursor"]
        if cursor is None:
            break
    # Nothing twice, nothing skipped: the pages went on after the last key shown, wherever the new case fell.
    assert dues == sorted(dues) and len(seen) == len(set(seen))
    assert set(seen) >= {county.handling, county.joined, county.late, county.report, county.declined,
                         county.reviewed, county.group}

    newest = listed(client, "clerk", sort="-registered_at", limit=100)["cases"]
    # As instants, not strings: a time on the whole second is written without its fraction ("…:03Z" sorts after
    # "…:03.019000Z" as text).
    times = [datetime.fromisoformat(r["registered_at"]) for r in newest]
    assert times == sorted(times, reverse=True) and newest[-1]["id"] == county.late
    oldest = listed(client, "clerk", sort="registered_at", limit=1)
    assert oldest["cases"][0]["id"] == county.late
    again = client.get("/api/v1/cases", params={"sort": "-registered_at", "cursor": oldest["next_cursor"]},
                       headers=headers(client, "clerk"))
    assert again.status_code == 422 and again.json()["errors"][0]["label"] == "翻页游标"  # another query's cursor


@pytest.mark.parametrize("params, label", [
    ({"group": "soon"}, "状态分组"), ({"status": "lost"}, "办理状态"), ({"organ": "330106-NOPE"}, "机关代码"),
    ({"town": "33010600"}, "乡镇（街道）代码"), ({"town": "330106009"}, "乡镇（街道）代码"),
    ({"topic": "weather"}, "问题类别"), ({"limit": 500}, "条数"), ({"cursor": "abc.def"}, "翻页游标"),
    ({"registered_from": "yesterday"}, "登记日期起"), ({"sort": "title"}, "排序方式"),
    ({"registered_from": "2026-11-02", "registered_to": "2026-11-01"}, "登记日期止"),
    ({"status": "final", "group": "open"}, "办理状态"), ({"within_days": -1}, "到期天数"),
])
def test_bad_filters_get_a_422_naming_the_field_in_chinese(client, params, label):
    answer = client.get("/api/v1/cases", params=params, headers=headers(client, "clerk"))
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["label"] == label


def test_the_page_is_shown_without_names_when_intake_does_not_answer(client, county):
    client.app.state.gateway.rpc.down = True
    page = listed(client, "supervisor", limit=100)
    assert page["names_unavailable"] is True and len(page["cases"]) == 7
    assert all(r["petitioner"] is None for r in page["cases"])


def test_the_bureau_searches_by_query_code_name_phone_and_id_number_and_every_search_is_recorded(client, county):
    joined = county.petitions[county.joined]
    person = joined["petitioner"]

    def found(who: str, by: str, value: str) -> dict[str, Any]:
        answer = client.post("/api/v1/cases/search", json={"by": by, "value": value}, headers=headers(client, who))
        assert answer.status_code == 200, answer.text
        return answer.json()

    for by, value in [("name", "李 四"), ("phone", f"+86 {person['phone']}"), ("id_number", person["id_number"]),
                      ("query_code", joined["query_code"].lower().replace("-", " "))]:
        answer = found("clerk", by, value)
        assert [r["id"] for r in answer["cases"]] == [county.joined], by
        assert answer["cases"][0]["query_code"] == joined["query_code"]
        assert answer["cases"][0]["petitioner"]["name"] == "李四" and answer["cases"][0]["status"] == "awaiting_acceptance"
    representative = county.petitions[county.group]["representatives"][0]
    assert [r["id"] for r in found("supervisor", "phone", representative["phone"])["cases"]] == [county.group]
    assert found("supervisor", "name", "李四")["cases"][0]["query_code"] is None
    nobody = found("clerk", "name", "查无此人")
    assert nobody["cases"] == [] and nobody["truncated"] is False

    for who in ("town", "auditor"):
        refused = client.post("/api/v1/cases/search", json={"by": "name", "value": "李四"}, headers=headers(client, who))
        assert refused.status_code == 403, who
    bad = client.post("/api/v1/cases/search", json={"by": "id_number", "value": "123"}, headers=headers(client, "clerk"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["label"] == "查找内容"
    bad = client.post("/api/v1/cases/search", json={"by": "email", "value": "x"}, headers=headers(client, "clerk"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["label"] == "查找方式"

    searches = client.get("/api/v1/audit/personal-data-searches", params={"user": "clerk"},
                          headers=headers(client, "auditor")).json()["searches"]
    assert [s["searched_by"] for s in searches] == ["name", "query_code", "id_number", "phone", "name"]  # newest first
    assert searches[0]["petition_ids"] == [] and searches[1]["petition_ids"] == [county.joined]
    assert searches[4]["value_hash"] != searches[0]["value_hash"] and len(searches[4]["value_hash"]) == 64
    everything = str(searches) + str(views_of(client, limit=1000))
    for value in (person["id_number"], person["phone"], "李四", joined["query_code"]):
        assert value not in everything
    recorded = [v for v in views_of(client, petition_id=county.joined, limit=1000) if v["username"] == "clerk"]
    assert {v["fields"][0] for v in recorded} == {"search.name", "search.phone", "search.id_number",
                                                  "search.query_code"}
    assert all("search.petitioner.name" in v["fields"] and "search.query_code" in v["fields"] for v in recorded)
    assert client.get("/api/v1/audit/personal-data-searches", headers=headers(client, "clerk")).status_code == 403


def test_a_petition_found_before_its_case_is_listed_shows_as_just_registered(client, county):
    pid = county.register(name="郑十一")
    while county.index.follower.run_once():  # indexed by intake; the rows not yet projected
        pass
    answer = client.post("/api/v1/cases/search", json={"by": "name", "value": "郑十一"},
                         headers=headers(client, "clerk")).json()
    assert [(r["id"], r["status"], r["status_text"]) for r in answer["cases"]] == [(pid, "registered", "已登记，正在分流")]


def test_the_rows_are_rebuilt_from_the_store_as_they_were(client, county, settings_for):
    before = {r["_id"]: {k: v for k, v in r.items() if k != "updated_at"} for r in CaseRow._get_collection().find()}
    rebuild(settings_for(SupervisionSettings, store="sqlite"), "supervision", county.supervision,
            CaseRowProjection(county.supervision))
    after = {r["_id"]: {k: v for k, v in r.items() if k != "updated_at"} for r in CaseRow._get_collection().find()}
    assert after == before


def counters() -> dict[str, int]:
    return {c["_id"]: c["count"] for c in CaseCount._get_collection().find()}


def recounted() -> dict[str, int]:
    """The counters as the rows stand, counted here from every row (not the projection's own recount)."""
    return dict(collections.Counter(key for row in CaseRow._get_collection().find() for key in count_keys(row)))


def test_the_counts_are_the_rows_counted_after_every_step_a_replay_and_a_failure_half_way(client, county,
                                                                                         monkeypatch):
    assert counters() == recounted()
    counted = client.get("/api/v1/cases/counts", headers=headers(client, "supervisor")).json()
    assert counted["open"] == 6  # seven petitions, one declined
    assert counted["overdue"] == 1  # the letter received 30 days ago: its 15-day triage deadline has passed
    by_organ = {o["code"]: (o["name"], o["count"]) for o in counted["by_organ"]}
    assert by_organ == {None: ("信访部门（待转送、交办）", 2), TOWN: ("示例县城关镇人民政府", 1),
                        LABOUR: ("示例县人力资源和社会保障局", 1), DISCIPLINE: ("示例县纪委监委", 1),
                        COUNTY: ("示例县人民政府", 1)}  # the reviewing organ, not the one that replied
    assert {s["status"]: s["count"] for s in counted["by_status"]} == {
        "registered": 2, "awaiting_acceptance": 2, "handling": 1, "under_review": 1}

    county.act(county.joined, "accept", {"procedure": "ordinary"}, officer(LABOUR))
    county.act(county.handling, "reply", {"outcome": "support", "opinion": "支持"}, officer(TOWN))
    county.act(county.late, "transfer", {"organ_code": TOWN}, CLERK)
    county.project()
    assert counters() == recounted()
    assert counters()[f"status|{TOWN}|replied"] == 1 and f"status|{TOWN}|handling" not in counters()

    county.rows.position.reset()  # the whole store again, as after a crash before the position was saved
    county.project()
    assert counters() == recounted()

    def fails(_moves: Any) -> None:
        raise ConnectionError("the read-model server went away between the rows and their counters")

    monkeypatch.setattr(worklists_projection, "move_counts", fails)
    county.act(county.group, "transfer", {"organ_code": LABOUR}, CLERK)
    with pytest.raises(ConnectionError):
        county.project()
    assert counters() != recounted()  # the row is written, its counters not
    monkeypatch.undo()
    county.project()  # the batch again: its row is there (refused as a replay), so the worker recounts first
    assert counters() == recounted()
    assert client.get("/api/v1/cases/counts", headers=headers(client, "supervisor")).json()["open"] == 6

    # A counter gone wrong while no worker ran (a crash between a row and its counters): the next worker recounts
    # before its first batch, here one event met again.
    CaseCount._get_collection().update_one({"_id": f"status|{LABOUR}|awaiting_acceptance"}, {"$inc": {"count": 5}})
    restarted = CaseRowProjection(county.supervision)
    restarted.apply_batch([(0, e) for e in county.supervision.events.get(uuid.UUID(county.group))][-1:])
    assert counters() == recounted()


def test_organ_officers_get_no_county_counts(client):
    answer = client.get("/api/v1/cases/counts", headers=headers(client, "town"))
    assert answer.status_code == 403 and answer.json()["message"]


def test_reference_data_with_chinese_labels(client):
    organs = client.get("/api/v1/reference/organs").json()
    assert organs["county"] == {"code": "330106", "name": "示例县"}
    assert {"code": LABOUR, "name": "示例县人力资源和社会保障局"} in organs["items"]
    assert {"code": "litigation", "label": "涉法涉诉"} in client.get("/api/v1/reference/topics").json()["items"]
    reasons = client.get("/api/v1/reference/decline-reasons").json()["items"]
    assert {r["code"] for r in reasons} >= {"out_of_scope", "final_after_re_review"}
    assert len(client.get("/api/v1/reference/diversions").json()["items"]) == 5
    towns = client.get("/api/v1/reference/places").json()["items"]
    assert [(t["code"], t["name"]) for t in towns] == [("330106001", "城关镇"), ("330106002", "东溪镇"),
                                                       ("330106003", "西山乡")]
    statuses = client.get("/api/v1/reference/statuses").json()
    assert {"code": "extended", "text": "已延期，办理中", "group": "in_handling", "group_text": "办理中"} in statuses["items"]
    assert {"code": "overdue", "text": "已超期"} in statuses["groups"]
    unknown = client.get("/api/v1/reference/weather")
    assert unknown.status_code == 404 and unknown.json()["error"] == "not_found"


def test_intake_answers_names_and_searches_from_a_postgres_store(settings_for, closing, read_models):
    settings = settings_for(IntakeSettings, store="postgres")
    intake = closing(build_intake(settings))
    body = samples.petition(name="王秀兰")
    pid = intake.register_petition(RegisterPetition.model_validate(body))["id"]
    index = closing(Projector(settings, "intake", intake, search.SearchIndexProjection(b"k" * 32)))
    while index.follower.run_once():
        pass
    clerk, auditor = {"role": "clerk", "user": "c", "organ": None}, {"role": "auditor", "user": "a", "organ": None}
    assert search.names(intake, [pid, str(uuid.uuid4())], [pid], clerk) == {
        pid: {"name": "王秀兰", "identified": True, "anonymous": False}}
    assert search.names(intake, [pid], [pid], auditor)[pid]["name"] == "王**"  # never a full name to an auditor
    found = search.search(intake, b"k" * 32, "id_number", body["petitioner"]["id_number"], clerk)
    assert [f["petition_id"] for f in found["found"]] == [pid] and found["found"][0]["name"] == "王秀兰"
    assert search.search(intake, b"k" * 32, "name", "王秀兰", {**clerk, "role": "organ_officer"}) == {
        "ok": False, "error": "forbidden"}
