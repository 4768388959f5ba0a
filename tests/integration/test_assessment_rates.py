"""The assessment rates from the record (docs/assessment.md): cases driven through supervision's real application on
a real store with a fixed clock, their events projected by the real assessment projection into a real SecantusDB,
the rates computed by the gateway's real route and compute function — figures counted by hand. Later events (in
the next period) must not change a closed period's figures; a rebuild gives the same facts.

The cases (all registered in November 2026; acceptance: 15 days from the routing day; simplified handling: 10
working days from acceptance; handling: 60 days):

| case | organ  | registered, routed | acceptance (due)        | opinion (due)                 | rating                      |
|------|--------|--------------------|-------------------------|-------------------------------|-----------------------------|
| a    | town   | 11-02              | accepted 11-05 (11-17)  | 11-20 (2027-01-04): in time   | satisfied online, 12-02     |
| b    | town   | 11-02              | declined 11-20 (11-17)  | —                             | —                           |
| c    | town   | 11-03              | none by 11-30 (11-18)   | —                             | —                           |
| d    | town   | 11-25              | none by 11-30 (12-10)   | —                             | —                           |
| e    | labour | 11-04              | simplified 11-05 (11-19)| 11-23 (11-19): late           | basically, return visit 11-24|
| f    | town   | 11-05              | accepted 11-06 (11-20)  | none by 11-30 (2027-01-05)    | —                           |

Later, in December: c declined (12-02), d accepted (12-03), a rated (12-02), a new case g registered 12-01.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
from datetime import date
from typing import Any

import openpyxl
import pytest

from services.gateway import assessment
from services.supervision.assessment import FILLED, AssessmentProjection, entry_of
from services.supervision.bootstrap import build_application
from services.supervision.settings import SupervisionSettings
from shared.language.readmodels import AssessmentCase, AssessmentDay
from shared.runtime.projector import Projector, rebuild
from tests.support import samples
from tests.support.clock import MovableClock
from tests.support.gateway_app import CLERK, LABOUR, PETITIONER, TOWN, headers

NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}
TODAY = date(2026, 12, 20)  # November is over (the route counts from the real day, later still)


def officer(organ: str) -> dict[str, Any]:
    return {"role": "organ_officer", "user": f"officer-{organ}", "organ": organ}


class County:
    def __init__(self, supervision: Any, clock: MovableClock, settings: Any) -> None:
        self.supervision, self.clock = supervision, clock
        self.projector = Projector(settings, "supervision", supervision, AssessmentProjection(supervision))
        self._sequence = itertools.count(1)

    def register(self, day: str, organ: str | None = None, *, place_code: str = "330106001") -> str:
        self.clock.set(day)
        event = samples.registered_event(next(self._sequence), registered_at=self.clock.now.isoformat(),
                                         place_code=place_code)
        self.supervision.open_case(event, samples.particulars(event))
        if organ:
            self.supervision.record_routing(samples.routed_event(
                next(self._sequence), event.subject, organ_code=organ, organ_name="机关", routed_at=self.clock.now))
        return event.subject

    def act(self, day: str, pid: str, action: str, actor: dict[str, Any], **payload: Any) -> None:
        self.clock.set(day)
        self.supervision.perform(pid, action, payload, actor)

    def project(self) -> None:
        while self.projector.follower.run_once():
            pass

    def close(self) -> None:
        self.projector.close()


@pytest.fixture
def county(settings_for, closing, read_models) -> County:
    settings = settings_for(SupervisionSettings, store="sqlite")
    clock = MovableClock()
    built = closing(County(closing(build_application(settings, clock=clock)), clock, settings))
    built.settings = settings
    town, labour = officer(TOWN), officer(LABOUR)
    built.a = built.register("2026-11-02", TOWN)
    built.act("2026-11-05", built.a, "accept", town, procedure="ordinary")
    built.act("2026-11-20", built.a, "reply", town, outcome="support", opinion="予以支持")
    built.b = built.register("2026-11-02", TOWN)
    built.act("2026-11-20", built.b, "decline", town, reason_code="out_of_scope", explanation="不属于受理范围")
    built.c = built.register("2026-11-03", TOWN)
    built.d = built.register("2026-11-25", TOWN)
    built.e = built.register("2026-11-04", LABOUR, place_code="330106002")
    built.act("2026-11-05", built.e, "accept", labour, procedure="simplified")
    built.act("2026-11-23", built.e, "reply", labour, outcome="explain", opinion="已作解释")
    built.act("2026-11-24", built.e, "evaluate", CLERK, rating="basically_satisfied", return_visit_channel="phone")
    built.f = built.register("2026-11-05", TOWN)
    built.act("2026-11-06", built.f, "accept", town, procedure="ordinary")
    built.project()
    return built


def later_events(county: County) -> None:
    """December: what happens after November's cut-off."""
    county.act("2026-12-02", county.c, "decline", officer(TOWN), reason_code="out_of_scope", explanation="不属于受理范围")
    county.act("2026-12-03", county.d, "accept", officer(TOWN), procedure="ordinary")
    county.act("2026-12-02", county.a, "evaluate", PETITIONER, rating="satisfied")
    county.g = county.register("2026-12-01", TOWN)
    county.project()


def rates(answer: dict[str, Any]) -> dict[str, tuple[int, int, float | None]]:
    return {name: (r["numerator"], r["denominator"], r["rate"]) for name, r in answer["rates"].items()}


COUNTY_NOVEMBER = {"timely_acceptance": (3, 5, 0.6),  # a e f in time; b late; c overdue; d not yet due (left out)
                   "on_time_reply": (1, 2, 0.5),  # a in time; e late; f not yet due (left out)
                   "participation": (1, 2, 0.5),  # a and e eligible; e rated (a only in December)
                   "satisfaction": (1, 1, 1.0)}  # e: basically satisfied counts
TOWN_NOVEMBER = {"timely_acceptance": (2, 4, 0.5), "on_time_reply": (1, 1, 1.0), "participation": (0, 1, 0.0),
                 "satisfaction": (0, 0, None)}
LABOUR_NOVEMBER = {"timely_acceptance": (1, 1, 1.0), "on_time_reply": (0, 1, 0.0), "participation": (1, 1, 1.0),
                   "satisfaction": (1, 1, 1.0)}


def report(**kwargs: Any) -> dict[str, Any]:
    return assessment.report(date(2026, 11, 1), date(2026, 11, 30), TODAY, assessment.Choices(), **kwargs)


def test_the_projected_facts_are_dated_as_the_steps_were_taken(county):
    facts = AssessmentCase._get_collection().find_one({"_id": county.e})
    assert facts["registered_on"] == "2026-11-04" and facts["town"] == "330106002" and facts["repeat_of"] is None
    assert facts["holders"] == [{"on": "2026-11-04", "organ": LABOUR}] and facts["organs"] == [LABOUR]
    assert [(x["on"], x.get("clock") or x.get("decided")) for x in facts["acceptance"]] == [
        ("2026-11-04", "triage"), ("2026-11-04", "acceptance"), ("2026-11-05", "accepted")]
    assert facts["handling"] == [{"on": "2026-11-05", "clock": "simplified_handling", "due": "2026-11-19"},
                                 {"on": "2026-11-23", "replied": True, "outcome": "explain"}]
    assert facts["ratings"] == [{"on": "2026-11-24", "level": "reply", "rating": "basically_satisfied",
                                 "taken_by": "return_visit", "channel": "phone"}]
    b = AssessmentCase._get_collection().find_one({"_id": county.b})
    assert b["acceptance"][1] == {"on": "2026-11-02", "clock": "acceptance", "due": "2026-11-17"}
    assert b["acceptance"][-1] == {"on": "2026-11-20", "decided": "declined"}


def test_the_rates_are_counted_from_the_record_and_a_closed_period_never_changes(county, settings_for):
    assert report()["cases"] == 6
    assert rates(report()) == COUNTY_NOVEMBER
    assert rates(report(organ=TOWN)) == TOWN_NOVEMBER
    assert rates(report(organ=LABOUR)) == LABOUR_NOVEMBER
    assert rates(report(town="330106002")) == LABOUR_NOVEMBER  # e arose in the second town
    before = report()

    later_events(county)
    assert report() == before  # December's decisions, acceptance, rating and case change nothing in November
    assert rates(report(organ=TOWN)) == TOWN_NOVEMBER
    # Counted to the end of December instead, they count: c declined late, d accepted in time, a rated, g pending
    december = assessment.report(date(2026, 11, 1), date(2026, 12, 31), date(2027, 1, 10), assessment.Choices())
    assert december["cases"] == 7
    assert december["rates"]["timely_acceptance"]["late"] == 2 and december["rates"]["participation"]["numerator"] == 2

    # The facts rebuilt from the store are the facts projected as the events came
    stored = {d["_id"]: {k: v for k, v in d.items() if k != "updated_at"} for d in AssessmentCase._get_collection().find()}
    county.close()
    rebuild(county.settings, "supervision", county.supervision, AssessmentProjection(county.supervision))
    rebuilt = {d["_id"]: {k: v for k, v in d.items() if k != "updated_at"} for d in AssessmentCase._get_collection().find()}
    assert rebuilt == stored
    assert report() == before


def test_a_replay_changes_nothing(county, settings_for):
    stored = {d["_id"]: d for d in AssessmentCase._get_collection().find()}
    # A fresh worker (nothing remembered) reads the whole store again from position 0: every write is refused by
    # its version guard, or finds the same facts.
    replay = Projector(county.settings, "supervision", county.supervision, AssessmentProjection(county.supervision))
    replayed = 0
    try:
        replay.position.reset()
        while handled := replay.follower.run_once():
            replayed += handled
    finally:
        replay.close()
    assert replayed == county.supervision.recorder.max_notification_id() > 0
    assert {d["_id"]: d for d in AssessmentCase._get_collection().find()} == stored


@pytest.fixture
def client(gateway_for, county):
    return gateway_for(object())  # the route asks no service: it reads the read model


def test_the_api_answers_the_rates_for_each_role(client, county):
    answer = client.get("/api/v1/assessment/rates", params=NOVEMBER, headers=headers(client, "supervisor"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert rates(body) == COUNTY_NOVEMBER
    assert body["period"] == {"from": "2026-11-01", "to": "2026-11-30", "time_zone": "Asia/Shanghai",
                              "counted_as_of": "2026-12-01T00:00:00+08:00", "closed": True}
    assert body["settings"] == {"not_yet_due_in_denominator": False, "basically_satisfied_counts_as_satisfied": True,
                                "return_visit_ratings_count": True, "counted_as_of": "2026-12-01T00:00:00+08:00",
                                "overdue_if_due_before": "2026-12-01"}
    assert body["scope"] == {"organ": None, "town": None}
    for who in ("clerk", "admin"):
        shown = client.get("/api/v1/assessment/rates", params={**NOVEMBER, "organ": LABOUR}, headers=headers(client, who))
        assert rates(shown.json()) == LABOUR_NOVEMBER, who
        assert shown.json()["scope"]["organ"] == {"code": LABOUR, "name": "示例县人力资源和社会保障局"}
    # An organ officer sees their own organ's rates, asked for or not, and no other's
    own = client.get("/api/v1/assessment/rates", params=NOVEMBER, headers=headers(client, "town"))
    assert rates(own.json()) == TOWN_NOVEMBER and own.json()["scope"]["organ"]["code"] == TOWN
    named = client.get("/api/v1/assessment/rates", params={**NOVEMBER, "organ": TOWN}, headers=headers(client, "town"))
    assert rates(named.json()) == TOWN_NOVEMBER
    other = client.get("/api/v1/assessment/rates", params={**NOVEMBER, "organ": LABOUR}, headers=headers(client, "town"))
    assert other.status_code == 403 and other.json()["error"] == "not_your_organ"
    audited = client.get("/api/v1/assessment/rates", params=NOVEMBER, headers=headers(client, "auditor"))
    assert audited.status_code == 200 and audited.json()["rates"] == body["rates"]  # auditors check the figures
    assert client.get("/api/v1/assessment/rates", params=NOVEMBER).status_code == 401  # petitioners never


def test_settings_change_the_figures_and_are_shown(gateway_for, county):
    client = gateway_for(object(), ASSESSMENT_NOT_YET_DUE_COUNTS="true", ASSESSMENT_BASICALLY_SATISFIED_COUNTS="false",
                         ASSESSMENT_RETURN_VISITS_COUNT="true")
    body = client.get("/api/v1/assessment/rates", params=NOVEMBER, headers=headers(client, "supervisor")).json()
    assert rates(body)["timely_acceptance"] == (3, 6, 0.5)  # + d, not yet due
    assert rates(body)["on_time_reply"] == (1, 3, 0.3333)  # + f, not yet due
    assert rates(body)["satisfaction"] == (0, 1, 0.0)  # e's 基本满意 is not 满意 here
    assert body["settings"]["not_yet_due_in_denominator"] is True
    assert body["settings"]["basically_satisfied_counts_as_satisfied"] is False
    without_visits = gateway_for(object(), ASSESSMENT_RETURN_VISITS_COUNT="false")
    body = without_visits.get("/api/v1/assessment/rates", params=NOVEMBER,
                              headers=headers(without_visits, "supervisor")).json()
    assert rates(body)["participation"] == (0, 2, 0.0) and rates(body)["satisfaction"] == (0, 0, None)


@pytest.mark.parametrize(("params", "field", "code"), [
    ({"from": "2026-12-01", "to": "2026-11-01"}, "query.to", "invalid_range"),
    ({"from": "2026-11-31", "to": "2026-12-01"}, "query.from", "invalid_date"),
    ({"from": "20261101", "to": "2026-12-01"}, "query.from", "invalid_date"),
    ({"from": "2026-11-01"}, "query.to", "required"),
    ({"from": "2020-01-01", "to": "2026-12-01"}, "query.to", "period_too_long"),
    ({**NOVEMBER, "organ": "330106-NOPE"}, "query.organ", "unknown_organ"),
    ({**NOVEMBER, "town": "330106999"}, "query.town", "unknown_town"),
])
def test_bad_input_is_a_422_naming_the_parameter(client, params, field, code):
    answer = client.get("/api/v1/assessment/rates", params=params, headers=headers(client, "supervisor"))
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["error"] == "validation_failed"
    assert [(e["field"], e["code"]) for e in body["errors"]] == [(field, code)]
    assert all(e["message"] and e["label"] for e in body["errors"])


def days_match_documents() -> bool:
    """Every case's entry in its registration day's document is its document's (services/supervision/assessment.py)."""
    documents = {d["_id"]: d for d in AssessmentCase._get_collection().find()}
    entries = {case_id: (day["_id"], entry) for day in AssessmentDay._get_collection().find({"_id": {"$ne": FILLED}})
               for case_id, entry in day["cases"].items()}
    return entries == {case_id: (d["registered_on"], entry_of(d)) for case_id, d in documents.items()}


def test_the_day_documents_follow_the_case_documents(county):
    assert days_match_documents()
    assert report(plain=True) == report()
    later_events(county)
    assert days_match_documents()
    county.close()
    rebuild(county.settings, "supervision", county.supervision, AssessmentProjection(county.supervision))
    assert days_match_documents()
    assert report(plain=True) == report()


# --- exports (docs/api.md §"Exports") ------------------------------------------------------------------------------
FIGURES = ["指标", "代码", "分子", "分母", "比率"]


def exported(rows: list[list[Any]]) -> tuple[dict[str, str], dict[str, tuple[int, int, float | None]]]:
    """The header block (label: value) and the figures (code: numerator, denominator, rate) of a rates export."""
    cells = [[c for c in row if c not in ("", None)] for row in rows]
    start = cells.index(FIGURES)
    labels = {row[0]: row[1] for row in cells[1:start] if len(row) == 2}
    figures = {}
    for row in rows[start + 1:]:
        if row[1] in ("cases", "", None):
            break
        figures[row[1]] = (int(row[2]), int(row[3]), None if row[4] in ("", None) else float(row[4]))
    return labels, figures


def csv_rows(answer: Any) -> list[list[Any]]:
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/csv; charset=utf-8" and answer.content.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))


def xlsx_rows(answer: Any) -> list[list[Any]]:
    assert answer.status_code == 200, answer.text
    sheet = openpyxl.load_workbook(io.BytesIO(answer.content)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


@pytest.mark.parametrize(("who", "params"), [("supervisor", NOVEMBER), ("clerk", {**NOVEMBER, "organ": LABOUR}),
                                             ("town", NOVEMBER), ("auditor", {**NOVEMBER, "town": "330106002"})])
def test_the_rates_export_as_csv_and_xlsx_with_the_figures_of_the_json(client, county, who, params):
    body = client.get("/api/v1/assessment/rates", params=params, headers=headers(client, who)).json()
    for kind, read in (("csv", csv_rows), ("xlsx", xlsx_rows)):
        answer = client.get(f"/api/v1/assessment/rates.{kind}", params=params, headers=headers(client, who))
        rows = read(answer)
        assert rows[0][0] == "信访工作考核指标（及时受理率、按期答复率、参评率、满意率）"
        labels, figures = exported(rows)
        assert figures == rates(body), kind
        assert labels["统计期间"] == "2026-11-01 至 2026-11-30（登记日期，北京时间）"
        assert "统计期间已结束" in labels["统计截至"]
        assert labels["设置：基本满意计为满意"] == "是" and labels["设置：未到期事项计入及时受理率、按期答复率的分母"] == "否"
        assert labels["生成时间"].endswith("（北京时间）")
        organ = body["scope"]["organ"]
        assert labels["统计范围"].startswith(f"{organ['name']}（{organ['code']}）" if organ else "全县")
        disposition = answer.headers["content-disposition"]
        stem = "assessment-rates_2026-11-01_2026-11-30" + (f"_{organ['code']}" if organ else "")
        assert disposition.startswith(f'attachment; filename="{stem}.{kind}"; filename*=UTF-8\'\''), disposition
        assert disposition.isascii()


def test_the_rates_exports_check_as_the_json_does(client, county):
    for kind in ("csv", "xlsx"):
        other = client.get(f"/api/v1/assessment/rates.{kind}", params={**NOVEMBER, "organ": LABOUR},
                           headers=headers(client, "town"))
        assert other.status_code == 403 and other.json()["error"] == "not_your_organ"
        bad = client.get(f"/api/v1/assessment/rates.{kind}", params={"from": "2026-12-01", "to": "2026-11-01"},
                         headers=headers(client, "supervisor"))
        assert bad.status_code == 422 and bad.json()["errors"][0]["code"] == "invalid_range"
        assert client.get(f"/api/v1/assessment/rates.{kind}", params=NOVEMBER).status_code == 401
    settings = client.get("/api/v1/assessment/rates.csv", params=NOVEMBER, headers=headers(client, "supervisor"))
    assert exported(csv_rows(settings))[0]["设置：回访评价计入"] == "是"
