"""The overdue list's exports (GET /api/v1/assessment/overdue.csv and .xlsx; docs/api.md §"Exports"): the work-list
rows of the group `overdue`, written by the work-list projection's own `row_of`, read back from the CSV and from
the workbook (openpyxl): the cases, days overdue and status of each, who may export which organ's, no query code
and no petitioner's name, and a title that looks like a formula written as text."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import openpyxl
import pytest

from services.gateway.worklists import today_in_china
from services.supervision.worklists import Tracked, row_of
from shared.language.contracts.lifecycle import STATUS_TEXT, Status
from shared.language.readmodels import CaseRow, CaseView, Deadline, Organ
from tests.support.gateway_app import LABOUR, ORGAN_NAMES, TOWN, headers

HEADER = ["信访事项编号", "标题", "责任机关", "机关代码", "期限", "到期日", "超期天数", "办理状态"]
INJECTED = "=HYPERLINK(\"http://example.test/x\",\"点此查看\")"


def save_row(number: int, organ: str | None, status: Status, due_in_days: int, title: str) -> dict[str, Any]:
    today = today_in_china()
    due = (today + timedelta(days=due_in_days)).isoformat()
    kind, label = ("triage", "转送交办期限") if organ is None else ("handling", "办理期限")
    view = CaseView(petition_id=f"00000000-0000-4000-8000-{number:012d}", query_code=f"XF{number:014d}",
                    version=3, status=status.value, status_text=STATUS_TEXT[status], title=title, category="appeal",
                    channel="online", place_code="330106001001", registered_at=datetime.now(UTC) - timedelta(days=90),
                    organ=Organ(code=organ, name=ORGAN_NAMES[organ]) if organ else None,
                    involved_organs=[organ] if organ else [],
                    deadlines=[Deadline(kind=kind, label=label, due=due, basis="《信访工作条例》",
                                        start=(today - timedelta(days=60)).isoformat())])
    row = row_of(Tracked(view=view))
    CaseRow._get_collection().insert_one({**row, "updated_at": datetime.now(UTC)})
    return row


@pytest.fixture
def rows(read_models: str) -> dict[str, dict[str, Any]]:
    return {name: save_row(n, organ, status, due, title) for n, (name, organ, status, due, title) in enumerate([
        ("town_old", TOWN, Status.HANDLING, -30, "村道硬化工程拖欠工程款"),
        ("town_injected", TOWN, Status.HANDLING, -2, INJECTED),
        ("labour", LABOUR, Status.HANDLING, -5, "-拖欠工资"),
        ("triage", None, Status.REGISTERED, -1, "+反映噪声扰民"),
        ("town_not_yet", TOWN, Status.HANDLING, 0, "今日到期，尚未超期"),
        ("labour_future", LABOUR, Status.HANDLING, 10, "尚未到期"),
    ], 1)}


@pytest.fixture
def client(gateway_for, rows):
    return gateway_for(object())  # the exports ask no service: they read the read model


def listed(rows: list[list[Any]]) -> list[list[Any]]:
    """The data rows under the column header."""
    start = rows.index(HEADER) + 1
    return [row for row in rows[start:] if row]


def from_csv(answer: Any) -> list[list[Any]]:
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.content.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM
    return list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))


def from_xlsx(answer: Any) -> tuple[list[list[Any]], Any]:
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = openpyxl.load_workbook(io.BytesIO(answer.content)).active
    return [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)], sheet


def test_the_bureau_exports_the_countys_overdue_list(client, rows):
    today = today_in_china()
    answer = client.get("/api/v1/assessment/overdue.csv", headers=headers(client, "supervisor"))
    table = from_csv(answer)
    assert table[0] == ["超期信访事项清单"]
    labels = {row[0]: row[1] for row in table[1:table.index(HEADER)] if len(row) == 2}
    assert labels["统计范围"] == "全县" and labels["统计日"].startswith(today.isoformat())
    assert labels["生成时间"].endswith("（北京时间）") and labels["件数"] == "4"
    assert "不含信访人姓名和查询码" in labels["说明"]
    disposition = answer.headers["content-disposition"]
    assert disposition.startswith(f'attachment; filename="overdue_{today.isoformat()}.csv"; filename*=UTF-8\'\'')
    assert "%E8%B6%85%E6%9C%9F" in disposition  # 超期…, percent-encoded UTF-8
    data = listed(table)
    # the most overdue first; today's due is not overdue yet
    assert [row[0] for row in data] == [rows[n]["_id"] for n in ("town_old", "labour", "town_injected", "triage")]
    old = data[0]
    assert old[2:] == [ORGAN_NAMES[TOWN], TOWN, "办理期限", rows["town_old"]["deadline"]["due"], "30",
                       STATUS_TEXT[Status.HANDLING]]
    assert data[3][2:5] == ["信访部门", "", "转送交办期限"]  # the bureau still triages it
    # free text that a spreadsheet would take for a formula is written as text
    assert data[2][1] == "'" + INJECTED and data[1][1] == "'-拖欠工资" and data[3][1] == "'+反映噪声扰民"
    body = answer.content.decode("utf-8-sig")
    assert all(row["query_code"] not in body for row in rows.values())  # never a query code

    workbook, sheet = from_xlsx(client.get("/api/v1/assessment/overdue.xlsx", headers=headers(client, "supervisor")))
    assert workbook[0][0] == "超期信访事项清单"
    assert [[str(cell) for cell in row] for row in listed(workbook)] == data
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)  # no formula anywhere


def test_an_organ_officer_exports_their_organs_only(client, rows):
    own = listed(from_csv(client.get("/api/v1/assessment/overdue.csv", headers=headers(client, "town"))))
    assert [row[0] for row in own] == [rows["town_old"]["_id"], rows["town_injected"]["_id"]]
    named = client.get("/api/v1/assessment/overdue.xlsx", params={"organ": TOWN}, headers=headers(client, "town"))
    assert [row[0] for row in listed(from_xlsx(named)[0])] == [row[0] for row in own]
    assert f"_{TOWN}.xlsx" in named.headers["content-disposition"]
    other = client.get("/api/v1/assessment/overdue.csv", params={"organ": LABOUR}, headers=headers(client, "town"))
    assert other.status_code == 403 and other.json()["error"] == "not_your_organ"
    # the bureau and auditors may export any organ's
    labour = listed(from_csv(client.get("/api/v1/assessment/overdue.csv", params={"organ": LABOUR},
                                        headers=headers(client, "auditor"))))
    assert [row[0] for row in labour] == [rows["labour"]["_id"]]
    unknown = client.get("/api/v1/assessment/overdue.csv", params={"organ": "330106-NOPE"},
                         headers=headers(client, "clerk"))
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["code"] == "unknown_organ"
    assert client.get("/api/v1/assessment/overdue.csv").status_code == 401  # petitioners never
    assert client.get("/api/v1/assessment/overdue.xlsx").status_code == 401
