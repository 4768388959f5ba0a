"""The work lists' query (one lane, one range of one sort key), their signed cursors, and what each officer sees of
a row (services/gateway/worklists.py). No MongoDB: the query documents themselves."""

from __future__ import annotations

from datetime import date

import pytest

from services.gateway.errors import ApiError
from services.gateway.security import Principal, Role
from services.gateway.worklists import Cursors, ListQuery, SortOrder, check, mongo_query, present, sees_identity
from shared.language.contracts.lifecycle import Status
from shared.language.contracts.registration import Topic
from shared.language.contracts.worklists import ListGroup

TODAY = date(2026, 11, 26)
CLERK = Principal("clerk", Role.CLERK, "330106-XFJ")
SUPERVISOR = Principal("supervisor", Role.SUPERVISOR, "330106-XFJ")
AUDITOR = Principal("auditor", Role.AUDITOR, "330106-XFJ")
TOWN = Principal("town", Role.ORGAN_OFFICER, "330106001-ZF")
COUNTY = Principal("county", Role.ORGAN_OFFICER, "330106-ZF")


def test_the_bureau_lists_the_county_and_an_organ_officer_their_organ() -> None:
    found, field, direction = mongo_query(ListQuery(), CLERK, None, TODAY)
    assert found == {"lanes": "*|all", "by_due": {"$gt": "", "$lt": "~"}} and (field, direction) == ("by_due", 1)
    assert mongo_query(ListQuery(), TOWN, None, TODAY)[0]["lanes"] == "330106001-ZF|all"
    assert mongo_query(ListQuery(organ="330106-RSJ"), SUPERVISOR, None, TODAY)[0]["lanes"] == "330106-RSJ|all"


@pytest.mark.parametrize("query, lane, bounds", [
    (ListQuery(group=ListGroup.IN_HANDLING), "*|in_handling", {"$gt": "", "$lt": "~"}),
    (ListQuery(group=ListGroup.OVERDUE), "*|open", {"$gt": "", "$lt": "2026-11-26"}),
    (ListQuery(group=ListGroup.DUE_SOON, within_days=3), "*|open", {"$gt": "2026-11-26", "$lt": "2026-11-30"}),
    (ListQuery(group=ListGroup.DUE_SOON, within_days=3, deadline_before=date(2026, 11, 28)), "*|open",
     {"$gt": "2026-11-26", "$lt": "2026-11-28"}),
    (ListQuery(status=Status.EXTENDED), "*|in_handling", {"$gt": "", "$lt": "~"}),
])
def test_groups_and_deadlines_are_a_lane_and_a_range_of_the_next_deadline(query, lane, bounds) -> None:
    found, _field, _direction = mongo_query(query, CLERK, None, TODAY)
    assert found["lanes"] == lane and found["by_due"] == bounds


def test_other_filters_sit_beside_the_range_and_registration_dates_are_days_in_china() -> None:
    query = ListQuery(topic=Topic.LABOUR_WAGES, town="330106001", registered_from=date(2026, 11, 1),
                      registered_to=date(2026, 11, 30), sort=SortOrder.REGISTERED_DESC,
                      group=ListGroup.OVERDUE)
    found, field, direction = mongo_query(query, CLERK, None, TODAY)
    assert (field, direction) == ("by_registered", -1)
    assert found["by_registered"] == {"$gt": "2026-10-31T16:00:00.000000Z", "$lt": "2026-11-30T16:00:00.000000Z"}
    assert found["deadline.due"] == {"$lt": "2026-11-26"}
    assert (found["topic"], found["town"]) == ("labour_wages", "330106001")


def test_a_page_starts_after_the_cursors_key_in_the_order_asked() -> None:
    ascending, _, _ = mongo_query(ListQuery(), CLERK, "2026-12-01|abc", TODAY)
    assert ascending["by_due"] == {"$gt": "2026-12-01|abc", "$lt": "~"}
    descending, _, _ = mongo_query(ListQuery(sort=SortOrder.REGISTERED_DESC), CLERK, "2026-11-01T00:00|abc", TODAY)
    assert descending["by_registered"] == {"$gt": "", "$lt": "2026-11-01T00:00|abc"}


def test_a_cursor_is_signed_and_bound_to_its_query() -> None:
    cursors, query = Cursors("s" * 40), ListQuery(group=ListGroup.OPEN)
    token = cursors.issue(query, "2026-12-01|abc")
    assert cursors.read(token, query) == "2026-12-01|abc"
    for bad, asked in [(token, ListQuery(group=ListGroup.OVERDUE)), (token[:-2] + "xx", query),
                       ("not-a-cursor", query), (Cursors("t" * 40).issue(query, "k"), query)]:
        with pytest.raises(ApiError) as refused:
            cursors.read(bad, asked)
        assert refused.value.status == 422 and refused.value.extra["errors"][0]["label"] == "翻页游标"


def test_filters_that_cannot_mean_anything_are_refused() -> None:
    for query, field in [(ListQuery(organ="330106-NOPE"), "query.organ"), (ListQuery(town="330106009"), "query.town"),
                         (ListQuery(status=Status.FINAL, group=ListGroup.OPEN), "query.status"),
                         (ListQuery(status=Status.HANDLING, group=ListGroup.NEW), "query.status"),
                         (ListQuery(registered_from=date(2026, 11, 2), registered_to=date(2026, 11, 1)),
                          "query.registered_to")]:
        with pytest.raises(ApiError) as refused:
            check(query, CLERK, None)
        assert refused.value.status == 422 and refused.value.extra["errors"][0]["field"] == field
    with pytest.raises(ApiError) as refused:
        check(ListQuery(organ="330106-RSJ"), TOWN, None)
    assert refused.value.status == 403
    check(ListQuery(organ="330106001-ZF", status=Status.HANDLING, group=ListGroup.OPEN), TOWN, None)


ROW = {"_id": "p1", "query_code": "ABCD-EFGH-JKMN-PQRS", "title": "t", "status": "handling",
       "status_text": "已受理，办理中", "group": "in_handling", "category": "appeal", "channel": "online",
       "topic": "urban_management", "place_code": "330106001002", "organ": {"code": "330106001-ZF", "name": "城关镇"},
       "reviewer": None, "deadline": {"kind": "handling", "label": "办理期限", "due": "2026-11-24",
                                      "provisional": False}, "flags": ["group", "repeat"], "registered_at": None}


def test_who_sees_the_petitioner_of_a_row() -> None:
    assert sees_identity(CLERK, ROW) and sees_identity(SUPERVISOR, ROW) and sees_identity(TOWN, ROW)
    assert not sees_identity(AUDITOR, ROW) and not sees_identity(COUNTY, ROW)
    assert not sees_identity(TOWN, {**ROW, "status": "rerouting"})  # the bureau triages it again
    reviewing = {**ROW, "status": "under_review", "reviewer": "330106-ZF"}
    assert sees_identity(COUNTY, reviewing)
    assert not sees_identity(COUNTY, {**reviewing, "category": "report"})  # Art. 30: the handling organ only


def test_a_row_shows_the_query_code_to_clerks_only_and_names_what_it_showed() -> None:
    named = {"name": "王秀兰", "identified": True, "anonymous": False}
    shown, fields = present(ROW, CLERK, named, TODAY, "list")
    assert shown["query_code"] == ROW["query_code"] and fields == ["list.query_code", "list.petitioner.name"]
    assert shown["next_deadline"]["days_left"] == -2 and shown["next_deadline"]["overdue"] is True
    assert shown["flag_texts"] == ["集体访", "重复信访"] and shown["place_name"] == "城关镇解放街社区"
    assert (shown["status_group_text"], shown["topic_text"], shown["channel_text"]) == ("办理中", "城市管理", "网上信访")
    shown, fields = present(ROW, SUPERVISOR, {"name": "王**", "identified": False, "anonymous": False}, TODAY, "list")
    assert shown["query_code"] is None and fields == []


class FakeRows:
    """An in-memory `case_rows` answering the queries `page` makes (a lane, a range, equalities beside), and
    counting them."""

    def __init__(self, rows: list[dict]) -> None:
        self.rows, self.queries = rows, 0

    def find(self, query: dict, _projection: dict) -> FakeRows:
        self.queries += 1
        self._found = [r for r in self.rows if all(
            v["$gt"] < r[k] < v["$lt"] if isinstance(v, dict)
            else (v in r[k] if k == "lanes" else r.get(k) == v) for k, v in query.items())]
        return self

    def sort(self, field: str, direction: int) -> FakeRows:
        self._found.sort(key=lambda r: r[field], reverse=direction == -1)
        return self

    def limit(self, n: int) -> list[dict]:
        return self._found[:n]


@pytest.mark.parametrize("query", [ListQuery(), ListQuery(group=ListGroup.OVERDUE),
                                   ListQuery(sort=SortOrder.REGISTERED_DESC), ListQuery(sort=SortOrder.REGISTERED),
                                   ListQuery(group=ListGroup.CONCLUDED), ListQuery(topic=Topic.OTHER)])
def test_paging_in_windows_gives_every_row_once_in_order(monkeypatch, query) -> None:
    import random
    from datetime import UTC, datetime, timedelta

    from services.gateway import worklists
    from shared.language.contracts.worklists import StatusGroup, lanes

    rows = []
    for i in range(300):
        group = random.choice([StatusGroup.IN_HANDLING, StatusGroup.CONCLUDED])
        due = None if group is StatusGroup.CONCLUDED else (TODAY + timedelta(days=random.randint(-400, 400)))
        at = datetime(2026, 11, 26, tzinfo=UTC) - timedelta(hours=random.randint(0, 24 * 800))
        pid = f"p{i:04d}"
        rows.append({"_id": pid, "lanes": lanes([], group), "topic": random.choice(["other", "education"]),
                     "by_due": f"{due.isoformat() if due else '9999-12-31'}|{pid}",
                     "by_registered": f"{at.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}|{pid}"})
    fake = FakeRows(rows)
    monkeypatch.setattr(worklists.CaseRow, "_get_collection", classmethod(lambda cls: fake))
    found, field, direction = mongo_query(query, CLERK, None, TODAY)
    expected = [r["_id"] for r in FakeRows(rows).find(found, {}).sort(field, direction).limit(1000)]
    seen, after = [], None
    while True:
        shown, after = worklists.page(query, CLERK, after, 7, TODAY)
        seen += [r["_id"] for r in shown]
        if after is None:
            break
    assert seen == expected


def test_counts_sum_the_counters_by_organ_status_and_day(monkeypatch) -> None:
    from datetime import timedelta

    from services.gateway import worklists

    counters = [("status|330106001-ZF|handling", 5), ("status|330106001-ZF|awaiting_acceptance", 2),
                ("status|-|registered", 3), ("status|330106-RSJ|handling", 1), ("status|330106-RSJ|extended", 0),
                ("due|" + (TODAY - timedelta(days=1)).isoformat(), 4), ("due|" + TODAY.isoformat(), 2),
                ("due|" + (TODAY + timedelta(days=7)).isoformat(), 3), ("due|" + (TODAY + timedelta(days=8)).isoformat(), 2),
                ("holder_due|330106001-ZF|" + (TODAY - timedelta(days=1)).isoformat(), 3),
                ("holder_due|-|" + (TODAY - timedelta(days=1)).isoformat(), 1),
                ("holder_due|330106001-ZF|" + TODAY.isoformat(), 2),
                ("holder_due|330106001-ZF|" + (TODAY + timedelta(days=8)).isoformat(), 2)]

    class Counters:
        def find(self, query: dict) -> list[dict]:
            assert query == {"count": {"$gt": 0}}
            return [{"_id": key, "count": n} for key, n in counters if n > 0]

    monkeypatch.setattr(worklists.CaseCount, "_get_collection", classmethod(lambda cls: Counters()))
    counted = worklists.counts(TODAY, 7, None)
    assert (counted["open"], counted["overdue"], counted["due_soon"]) == (11, 4, 5)
    assert [(o["code"], o["count"]) for o in counted["by_organ"]] == [("330106001-ZF", 7), (None, 3),
                                                                      ("330106-RSJ", 1)]
    assert [(o["code"], o["overdue"], o["due_soon"]) for o in counted["by_organ"]] == [
        ("330106001-ZF", 3, 2), (None, 1, 0), ("330106-RSJ", 0, 0)]  # by organ: the holder's counters
    assert counted["by_organ"][1]["name"] == "信访部门（待转送、交办）"
    assert counted["by_organ"][0]["name"] == "示例县城关镇人民政府"
    assert [(s["status"], s["count"]) for s in counted["by_status"]] == [
        ("registered", 3), ("awaiting_acceptance", 2), ("handling", 6)]  # the lifecycle's order


def test_the_overview_links_its_counts_to_the_lists_that_name_the_cases() -> None:
    from services.gateway.console import web
    from services.gateway.console.reference import Reference

    env, reference = web._environment(), Reference.load()
    row = {"petition_id": "p1", "title": "<b>路面</b>", "status_text": "已受理，办理中", "organ_name": "示例县城关镇人民政府",
           "next_deadline": {"label": "办理期限", "due": "2026-12-01", "days_left": -3, "overdue": True}}
    summary = {"today": "2026-12-04", "open": 3, "overdue": 2, "due_soon": 1, "overdue_rows": [row],
               "due_soon_rows": [], "by_organ": [{"code": "330106001-ZF", "name": "示例县城关镇人民政府", "count": 2},
                                                 {"code": None, "name": "信访部门（待转送、交办）", "count": 1}],
               "by_status": [{"status": "handling", "status_text": "已受理，办理中", "count": 3}]}
    page = env.get_template("overview.html").render(request=None, officer=None, csrf_token="t", reference=reference,
                                                    summary=summary, soon_days=5)
    assert 'href="/console/cases?organ=330106001-ZF"' in page and 'href="/console/cases?group=new"' in page
    assert 'href="/console/cases?status=handling"' in page
    assert "全部 2 件已超期事项" in page and "&lt;b&gt;路面" in page and "<b>路面" not in page
    listed = env.get_template("cases.html").render(
        request=None, officer=None, csrf_token="t", reference=reference, rows=[row], next_cursor="c.1",
        filters={"group": "overdue", "organ": "330106001-ZF"})
    assert "<h1>示例县城关镇人民政府：已超期的信访事项</h1>" in listed
    by_status = env.get_template("cases.html").render(
        request=None, officer=None, csrf_token="t", reference=reference, rows=[], next_cursor=None,
        filters={"group": "open", "status": "handling"})
    assert "<h1>全县“已受理，办理中”的信访事项</h1>" in by_status
    assert 'href="/console/cases?group=overdue&amp;organ=330106001-ZF&amp;cursor=c.1"' in listed

