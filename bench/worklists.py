"""(d) The read side at a county's scale: 200,000 cases seeded into the read models (`case_views`, `case_codes`,
`case_rows`) of a read-model server started as `make run` starts it (SecantusDB, on disk), then the p50/p95 of
what three pages ask of it — the organ officer's inbox, the supervisor's overview, a petitioner's status page —
each beside a plain fetch of the same documents by id on the same server (the baseline).

The cases are synthetic but shaped as the projections write them: each case view is built as the case view
projection builds one, and its row by the work-list projection's own `row_of`. Eight years of a busy county:
about 25,000 petitions a year, the older ones concluded, the last few months' open in every status group, some of
them overdue. The timings are of the read models' part of each page (the queries the gateway runs); the page adds
the gateway's rendering and, for the lists, one call to intake for the petitioners' names of the page's rows.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import mongoengine as me

from services.gateway import worklists
from services.gateway.security import Principal, Role
from services.supervision.worklists import Tracked, recount, row_of
from shared.language.chinatime import local_date
from shared.language.contracts.lifecycle import STATUS_TEXT, Status
from shared.language.contracts.registration import Category, Channel, Topic
from shared.language.contracts.worklists import GROUPS, ListGroup, StatusGroup
from shared.language.organs import OrganDirectory
from shared.language.places import PlaceDirectory
from shared.language.readmodels import (
    READ_MODELS_ALIAS,
    CaseCode,
    CaseCount,
    CaseRow,
    CaseView,
    Deadline,
    Opinion,
    Organ,
    TimelineEntry,
    case_view_by_query_code,
    connect_read_models,
)
from tests.support.servers import SecantusServer

CASES = 200_000
YEARS = 8
OPEN_DAYS = 120  # cases registered in the last four months or so are open (a few older ones too)
BATCH = 2_000
SAMPLES = 200
SOON_DAYS = 5  # the console's overview: due within five days
OVERVIEW_ROWS = 20
ORGAN_WEIGHTS = {"330106001-ZF": 12, "330106002-ZF": 6, "330106003-ZF": 4, "330106-RSJ": 8, "330106-ZRZYJ": 8,
                 "330106-ZJJ": 9, "330106-HBJ": 4, "330106-JYJ": 4, "330106-WJJ": 4, "330106-GAJ": 6,
                 "330106-NYJ": 4, "330106-JTJ": 3, "330106-MZJ": 4, "330106-ZHZFJ": 6, "330106-JWJW": 3,
                 "330106-ZFW": 2}
# The duty deadline each open status runs against, and its length in days from the step that opened it.
DUTY = {Status.REGISTERED: ("triage", "转送交办期限", 15), Status.REROUTING: ("triage", "转送交办期限", 15),
        Status.REPORTED_UP: ("major_report", "重大紧急事项报告期限", 1),
        Status.AWAITING_ACCEPTANCE: ("acceptance", "受理告知期限", 15),
        Status.OBJECTION_RAISED: ("acceptance", "受理告知期限", 15),
        Status.HANDLING: ("handling", "办理期限", 60), Status.SIMPLIFIED_HANDLING: ("simplified_handling",
                                                                                 "简易办理期限", 14),
        Status.EXTENDED: ("extension", "延长办理期限", 30), Status.UNDER_REVIEW: ("review", "复查期限", 30),
        Status.REVIEW_REQUESTED: ("review", "复查期限", 30), Status.RE_REVIEW_REQUESTED: ("re_review", "复核期限", 30),
        Status.UNDER_RE_REVIEW: ("re_review", "复核期限", 30)}
# How the open cases spread over the statuses (per mille).
OPEN_STATUSES = {Status.REGISTERED: 40, Status.REROUTING: 5, Status.REPORTED_UP: 2, Status.AWAITING_ACCEPTANCE: 120,
                 Status.OBJECTION_RAISED: 8, Status.HANDLING: 420, Status.SIMPLIFIED_HANDLING: 60,
                 Status.EXTENDED: 45, Status.REPLIED: 220, Status.REVIEWED: 20, Status.REVIEW_REQUESTED: 10,
                 Status.UNDER_REVIEW: 30, Status.RE_REVIEW_REQUESTED: 5, Status.UNDER_RE_REVIEW: 15}
CONCLUDED_STATUSES = {Status.FINAL: 700, Status.NOT_ACCEPTED: 80, Status.REDIRECTED: 90, Status.DIVERTED: 80,
                      Status.WITHDRAWN: 40, Status.NOT_ACCEPTED_AGAIN: 10}
OPINION = ("经调查核实，您反映的小区雨污管网改造后路面未恢复的问题属实。我局已责成施工单位于三十日内完成路面修复，"
           "并由街道办事处监督落实。如对本处理意见不服，可以自收到本意见之日起三十日内向上一级机关请求复查。")


def _choose(rng: random.Random, weights: dict[Any, int]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _case(rng: random.Random, number: int, now: datetime, organs: OrganDirectory,
          villages: list[str]) -> tuple[CaseView, Tracked]:
    """One case as the case view projection would hold it after its history, and the work-list projection's
    state of it."""
    petition_id = str(UUID(int=rng.getrandbits(128), version=4))
    age = (rng.random() ** 1.15) * YEARS * 365  # a few more of them lately
    registered_at = now - timedelta(days=age, seconds=rng.randrange(86_400))
    is_open = age < OPEN_DAYS * (0.6 + rng.random() * 0.6) or rng.random() < 0.002
    status = _choose(rng, OPEN_STATUSES if is_open else CONCLUDED_STATUSES)
    organ_code = _choose(rng, ORGAN_WEIGHTS)
    organ = organs.get(organ_code)
    registered = local_date(registered_at)
    deadlines, opinions = [], []
    timeline = [TimelineEntry(at=registered_at, step="registered", text="您的信访事项已登记")]
    if status not in (Status.REGISTERED, Status.REPORTED_UP):
        timeline.append(TimelineEntry(at=registered_at + timedelta(days=3), step="transferred",
                                      text=f"已转送{organ.name}办理"))
    if status in DUTY:  # its period began at most a little more than its length ago: about one in twenty overdue
        kind, label, days = DUTY[status]
        started = local_date(now) - timedelta(days=min(age, rng.random() * days * 1.06))
        deadlines.append(Deadline(kind=kind, label=label, due=(started + timedelta(days=days)).isoformat(),
                                  basis="《信访工作条例》", start=started.isoformat()))
    if status in (Status.REPLIED, Status.REVIEWED, Status.FINAL) or status in GROUPS[StatusGroup.IN_REVIEW]:
        on = registered + timedelta(days=rng.randrange(20, 75))
        opinions.append(Opinion(level="reply", label="处理意见", organ=Organ(code=organ.code, name=organ.name),
                                outcome="supported", outcome_text="支持", opinion=OPINION, on=on.isoformat(),
                                at=datetime.combine(on, datetime.min.time(), tzinfo=UTC)))
        timeline.append(TimelineEntry(at=opinions[-1].at, step="replied", text="已出具处理意见"))
        deadlines.append(Deadline(kind="review_request", label="申请复查期限",
                                  due=(on + timedelta(days=30)).isoformat(), basis="《信访工作条例》第三十五条",
                                  status="open" if status is Status.REPLIED else "met", start=on.isoformat()))
    flags = [flag for flag, chance in (("group", 0.03), ("major_urgent", 0.004), ("joint_signature", 0.01))
             if rng.random() < chance]
    view = CaseView(
        petition_id=petition_id, query_code=f"XF{number:014d}", version=len(timeline) + 2, status=status.value,
        status_text=STATUS_TEXT[status], title=f"关于小区雨污管网改造后路面未恢复的问题（{number}）",
        category=_choose(rng, {Category.APPEAL.value: 7, Category.REPORT.value: 2, Category.SUGGESTION.value: 1}),
        channel=_choose(rng, {Channel.LETTER.value: 3, Channel.VISIT.value: 3, Channel.ONLINE.value: 4,
                              Channel.PHONE.value: 1}),
        place_code=rng.choice(villages), registered_at=registered_at,
        organ=Organ(code=organ.code, name=organ.name) if status not in (Status.REGISTERED,
                                                                        Status.REPORTED_UP) else None,
        flags=flags, involved_organs=[organ.code], deadlines=deadlines,
        next_deadline=min((d for d in deadlines if d.status == "open"), key=lambda d: d.due, default=None),
        timeline=timeline, opinions=opinions)
    review_organ = "330106-ZF" if status in GROUPS[StatusGroup.IN_REVIEW] else None
    return view, Tracked(view=view, topic=rng.choice(list(Topic)).value, review_organ=review_organ,
                         re_review_organ="3301-ZF" if status in (Status.UNDER_RE_REVIEW,) else None)


def cases(count: int, now: datetime) -> Iterator[tuple[CaseView, Tracked]]:
    rng = random.Random(16)
    organs = OrganDirectory.load()
    villages = [village.code for town in PlaceDirectory.load().towns for village in town.villages]
    for number in range(1, count + 1):
        yield _case(rng, number, now, organs, villages)


def seed(count: int, now: datetime) -> tuple[float, str]:
    """Write `count` cases' views, codes and rows; the seconds it took, and the query code of a replied case (the
    status page measured: the largest view, with its opinion)."""
    started = time.perf_counter()
    replied = ""
    views, codes, rows = (c._get_collection() for c in (CaseView, CaseCode, CaseRow))
    CaseRow.ensure_indexes()
    batch: list[tuple[CaseView, Tracked]] = []
    for number, item in enumerate(cases(count, now), 1):
        batch.append(item)
        replied = replied or (item[0].query_code if item[0].status == Status.REPLIED.value else "")
        if len(batch) == BATCH:
            _write(batch, views, codes, rows)
            batch = []
            if number % (count // 10) == 0:
                print(f"      {number:,} cases seeded ({time.perf_counter() - started:.0f} s)", flush=True)
    _write(batch, views, codes, rows)
    return time.perf_counter() - started, replied


def _write(batch: list[tuple[CaseView, Tracked]], views: Any, codes: Any, rows: Any) -> None:
    if not batch:
        return
    now = datetime.now(UTC)
    views.insert_many([{**view.to_mongo().to_dict(), "updated_at": now} for view, _ in batch], ordered=False)
    codes.insert_many([{"_id": view.query_code, "petition_id": view.petition_id} for view, _ in batch],
                      ordered=False)
    rows.insert_many([{**row_of(tracked), "updated_at": now} for _, tracked in batch], ordered=False)


def timed(action: Callable[[], Any], samples: int = SAMPLES) -> dict[str, float]:
    for _ in range(3):  # warm the server's caches and the connection
        action()
    spent = []
    for _ in range(samples):
        started = time.perf_counter()
        action()
        spent.append((time.perf_counter() - started) * 1000)
    spent.sort()
    return {"p50_ms": statistics.median(spent), "p95_ms": spent[int(len(spent) * 0.95) - 1], "samples": samples}


def by_id(ids: list[str], collection: Any) -> Callable[[], Any]:
    return lambda: list(collection.find({"_id": {"$in": ids}}, {"lanes": 0, "updated_at": 0}))


def measure(today: date, code: str) -> dict[str, Any]:
    rows = CaseRow._get_collection()
    busiest = max(ORGAN_WEIGHTS, key=ORGAN_WEIGHTS.__getitem__)
    officer = Principal(username="bench", role=Role.ORGAN_OFFICER, organ_code=busiest)
    supervisor = Principal(username="bench", role=Role.SUPERVISOR, organ_code=None)
    inbox_query = worklists.ListQuery(group=ListGroup.OPEN, sort=worklists.SortOrder.NEXT_DEADLINE)

    def inbox() -> list[dict[str, Any]]:
        return worklists.page(inbox_query, officer, None, 20, today)[0]

    overdue = worklists.ListQuery(group=ListGroup.OVERDUE)
    due_soon = worklists.ListQuery(group=ListGroup.DUE_SOON, within_days=SOON_DAYS)

    def overview() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """What the console's overview asks: the counts, and the first overdue and due soon cases."""
        counted = worklists.counts(today, SOON_DAYS, None)
        return counted, [*worklists.page(overdue, supervisor, None, OVERVIEW_ROWS, today)[0],
                         *worklists.page(due_soon, supervisor, None, OVERVIEW_ROWS, today)[0]]

    shown = [row["_id"] for row in inbox()]
    summary, listed_rows = overview()
    listed = [row["_id"] for row in listed_rows]
    counter_ids = [c["_id"] for c in CaseCount._get_collection().find({}, {"_id": 1})]
    petition_id = CaseCode._get_collection().find_one({"_id": code})["petition_id"]
    views = CaseView._get_collection()
    return {
        "organ": busiest, "inbox_rows": len(shown),
        "inbox_lane_rows": rows.count_documents({"lanes": f"{busiest}|open"}),
        "open_cases": summary["open"], "overdue": summary["overdue"], "due_soon": summary["due_soon"],
        "counters": CaseCount._get_collection().count_documents({}),
        "inbox": timed(inbox), "inbox_by_id": timed(by_id(shown, rows)),
        "overview": timed(overview),
        "overview_by_id": timed(lambda: (list(CaseCount._get_collection().find({"_id": {"$in": counter_ids}})),
                                         by_id(listed, rows)())),
        "status_page": timed(lambda: case_view_by_query_code(code)),
        "status_by_id": timed(lambda: views.find_one({"_id": petition_id})),
    }


# The read-model server as `make run` starts it, but for its cache: SecantusDB's storage engine (WiredTiger) caches
# 1 GB by default (READMODELS_CACHE_SIZE), and 200,000 cases' views, codes and rows with the oplog of their writes
# take about 2.5 GB: past the cache every request waits on eviction, and the seed stalls at about 190,000 cases
# (docs/operations.md, "The embedded read-model server's cache"). The seed's oplog is kept whole, not pruned.
SERVER_OPTIONS = ("--cache-size", "4G", "--oplog-max-entries", str(10 * CASES), "--oplog-retention-seconds", "86400")


def run(data_dir: Path, count: int = CASES) -> dict[str, Any]:
    server = SecantusServer(str(data_dir / "readmodels"), *SERVER_OPTIONS)
    try:
        connect_read_models(server.uri("bench_worklists"))
        now = datetime.now(UTC)
        seconds, code = seed(count, now)
        started = time.perf_counter()
        recount()  # as the work-list projection does when it starts
        recount_s = time.perf_counter() - started
        print(f"      counted in {recount_s:.1f} s; measuring ...", flush=True)
        figures = measure(local_date(now), code)
        return {"cases": count, "seed_s": seconds, "recount_s": recount_s, **figures}
    finally:
        me.disconnect(READ_MODELS_ALIAS)
        server.stop()
