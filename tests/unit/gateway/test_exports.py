"""The export formats (services/gateway/exports.py): CSV in UTF-8 with a BOM, the workbook read back with openpyxl,
text cells that a spreadsheet would take for a formula written with a leading quote, the download's file names.
No I/O beyond bytes in memory."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import openpyxl
import pytest

from services.gateway.exports import (
    Section,
    Table,
    content_disposition,
    generated_at,
    neutral,
    overdue_table,
    rates_table,
    to_csv,
    to_xlsx,
)

ANSWER = {
    "period": {"from": "2026-11-01", "to": "2026-11-30", "time_zone": "Asia/Shanghai",
               "counted_as_of": "2026-12-01T00:00:00+08:00", "closed": True},
    "settings": {"not_yet_due_in_denominator": False, "basically_satisfied_counts_as_satisfied": True,
                 "return_visit_ratings_count": False, "counted_as_of": "2026-12-01T00:00:00+08:00",
                 "overdue_if_due_before": "2026-12-01"},
    "cases": 6,
    "rates": {"timely_acceptance": {"numerator": 3, "denominator": 5, "rate": 0.6, "on_time": 3, "late": 1,
                                    "overdue_undecided": 1, "not_yet_due": 1},
              "on_time_reply": {"numerator": 1, "denominator": 2, "rate": 0.5, "on_time": 1, "late": 1,
                                "overdue_unanswered": 0, "not_yet_due": 1},
              "participation": {"numerator": 0, "denominator": 0, "rate": None},
              "satisfaction": {"numerator": 1, "denominator": 1, "rate": 1.0, "satisfied": 0,
                               "basically_satisfied": 1, "dissatisfied": 0}},
    "scope": {"organ": {"code": "330106-RSJ", "name": "示例县人力资源和社会保障局"}, "town": None},
}
NOW = datetime(2026, 12, 20, 2, 30, tzinfo=UTC)


@pytest.mark.parametrize(("value", "written"), [
    ("=1+1", "'=1+1"), ("+86 138", "'+86 138"), ("-3", "'-3"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
    ("\rx", "'\rx"), ("正常标题", "正常标题"), ("a=b", "a=b"), ("", ""), (-3, -3), (0.5, 0.5), (None, None)])
def test_text_that_looks_like_a_formula_is_quoted(value, written):
    assert neutral(value) == written


def test_the_time_generated_is_in_china():
    assert generated_at(NOW) == "2026-12-20 10:30:00（北京时间）"


def test_the_rates_as_csv_with_a_bom_and_the_header_block():
    data = to_csv(rates_table(ANSWER, NOW))
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["信访工作考核指标（及时受理率、按期答复率、参评率、满意率）"]
    labels = {row[0]: row[1] for row in rows if len(row) == 2}
    assert labels["统计范围"] == "示例县人力资源和社会保障局（330106-RSJ）"
    assert labels["统计期间"] == "2026-11-01 至 2026-11-30（登记日期，北京时间）"
    assert labels["设置：回访评价计入"] == "否" and labels["设置：基本满意计为满意"] == "是"
    assert labels["设置：到期日早于此日仍未办理的为超期"] == "2026-12-01"
    assert labels["生成时间"] == "2026-12-20 10:30:00（北京时间）"
    start = rows.index(["指标", "代码", "分子", "分母", "比率"])
    assert rows[start + 1:start + 6] == [["及时受理率", "timely_acceptance", "3", "5", "0.6"],
                                         ["按期答复率", "on_time_reply", "1", "2", "0.5"],
                                         ["参评率", "participation", "0", "0", ""],  # no denominator: no rate
                                         ["满意率", "satisfaction", "1", "1", "1.0"],
                                         ["登记事项数", "cases", "6", "", ""]]
    assert ["满意率", "基本满意", "basically_satisfied", "1"] in rows
    assert ["及时受理率", "超期未作出受理决定", "overdue_undecided", "1"] in rows


def test_the_workbook_holds_the_same_cells_and_no_formula():
    table = Table(title="测试", sheet="测试", header=[("说明", "=cmd|' /C calc'!A0")],
                  sections=[Section(columns=["标题", "件数"], rows=[["@危险", 3], ["正常", None]])],
                  file_stem="test", file_title="测试")
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx(table))).active
    values = [[v for v in row if v is not None] for row in sheet.iter_rows(values_only=True)]
    assert values == [["测试"], ["说明", "'=cmd|' /C calc'!A0"], [], ["标题", "件数"], ["'@危险", 3], ["正常"]]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert sheet.title == "测试"
    from_csv = list(csv.reader(io.StringIO(to_csv(table).decode("utf-8-sig"))))
    assert from_csv == [["测试"], ["说明", "'=cmd|' /C calc'!A0"], [], ["标题", "件数"], ["'@危险", "3"], ["正常", ""]]


def test_the_overdue_list_names_no_petitioner_and_no_query_code():
    row = {"_id": "c1", "query_code": "XF00000000000001", "title": "=2+3", "status_text": "办理中",
           "organ": {"code": "330106-RSJ", "name": "示例县人力资源和社会保障局"},
           "deadline": {"kind": "handling", "label": "办理期限", "due": "2026-12-01", "provisional": False}}
    table = overdue_table([row], date(2026, 12, 20), None, truncated=False, now=NOW)
    cells = [cell for line in table.lines() for cell in line]
    assert "XF00000000000001" not in cells
    assert ["c1", "'=2+3", "示例县人力资源和社会保障局", "330106-RSJ", "办理期限", "2026-12-01", 19, "办理中"] in table.lines()
    assert table.file_stem == "overdue_2026-12-20"


def test_the_download_names_an_ascii_file_and_the_chinese_one():
    assert content_disposition("assessment-rates_2026-11-01_2026-11-30", "信访工作考核指标_2026-11-01至2026-11-30",
                               "csv") == (
        "attachment; filename=\"assessment-rates_2026-11-01_2026-11-30.csv\"; filename*=UTF-8''"
        "%E4%BF%A1%E8%AE%BF%E5%B7%A5%E4%BD%9C%E8%80%83%E6%A0%B8%E6%8C%87%E6%A0%87_2026-11-01%E8%87%B32026-11-30.csv")
