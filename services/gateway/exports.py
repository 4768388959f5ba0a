"""Exports for officers (issue 18): the assessment rates and the overdue list as CSV and as an Excel workbook
(docs/api.md §"Exports"). Each export is a `Table` — a Chinese title, a header block (the period or the day, the
settings used, the time generated in China), then one or more sections of columns and rows — written by `to_csv`
(UTF-8 with a BOM: Excel on Chinese Windows opens it as UTF-8, not GBK) or `to_xlsx` (openpyxl).

Only what the officer's JSON shows goes in, and less: no petitioner's name and no query code in any export (a
file leaves the platform, and nothing in it is recorded as a view of personal data), so none is recorded. The
overdue list carries each case's title, which is free text the petitioner wrote: a cell that begins with `=`, `+`,
`-`, `@`, a tab or a carriage return would be read as a formula by a spreadsheet (CSV injection), so every text
cell that does is written with a leading `'` (`neutral`), in both formats.

The backlog ledger (积案台账, services/gateway/supervision.py `backlog`) is exported the same way (`ledger_table`;
its routes beside the ledger's own, services/gateway/routes/supervision.py).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from fastapi import Response
from openpyxl import Workbook
from openpyxl.styles import Font

from shared.language.chinatime import CHINA

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MAX_OVERDUE_ROWS = 50_000  # a county's overdue list is a few thousand at most; past this the export says it stops

RATE_NAMES = {"timely_acceptance": "及时受理率", "on_time_reply": "按期答复率", "participation": "参评率",
              "satisfaction": "满意率"}
PART_NAMES = {
    "timely_acceptance": {"on_time": "按期作出受理决定", "late": "逾期作出受理决定",
                          "overdue_undecided": "超期未作出受理决定", "not_yet_due": "未到期未作出受理决定"},
    "on_time_reply": {"on_time": "按期出具处理意见", "late": "逾期出具处理意见",
                      "overdue_unanswered": "超期未出具处理意见", "not_yet_due": "未到期未出具处理意见"},
    "participation": {},
    "satisfaction": {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意"},
}


def neutral(value: Any) -> Any:
    """A text cell a spreadsheet will not take for a formula: one that begins with = + - @ tab or CR gets a leading
    single quote. Numbers and empty cells are left as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def yes_no(value: bool) -> str:
    return "是" if value else "否"


def generated_at(now: datetime | None = None) -> str:
    return (now or datetime.now(CHINA)).astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S") + "（北京时间）"


@dataclass
class Section:
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    title: str | None = None  # a line above the columns


@dataclass
class Table:
    title: str  # the first line, and the sheet's name (shortened)
    sheet: str
    header: list[tuple[str, str]]  # (label, value): the period, the scope, the settings, the time generated
    sections: list[Section]
    file_stem: str  # ASCII, e.g. "assessment-rates_2026-11-01_2026-11-30"
    file_title: str  # the Chinese file name without its extension

    def lines(self) -> list[list[Any]]:
        """The table as rows of cells, as both formats write it (text cells neutralized)."""
        out: list[list[Any]] = [[self.title]]
        out += [[label, value] for label, value in self.header]
        for section in self.sections:
            out.append([])
            if section.title:
                out.append([section.title])
            out.append(list(section.columns))
            out += [list(row) for row in section.rows]
        return [[neutral(cell) for cell in row] for row in out]


def to_csv(table: Table) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    for row in table.lines():
        writer.writerow(["" if cell is None else cell for cell in row])
    return ("\ufeff" + text.getvalue()).encode("utf-8")


def to_xlsx(table: Table) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = table.sheet
    widths: dict[int, int] = {}
    for row in table.lines():
        sheet.append(row)
        for column, cell in enumerate(row, 1):
            if isinstance(cell, str) and len(row) > 2:  # the header block's long values do not widen a column
                widths[column] = max(widths.get(column, 8), min(60, 2 * len(cell) + 2))
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text, never a formula (neutral() has already quoted those that look like one)
    sheet["A1"].font = Font(bold=True, size=14)
    for column, width in widths.items():
        sheet.column_dimensions[sheet.cell(row=1, column=column).column_letter].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def download(table: Table, kind: str) -> Response:
    """The answer carrying `table` as a file: `kind` csv or xlsx, named in ASCII and in Chinese, never cached."""
    body, media_type = (to_csv(table), CSV_TYPE) if kind == "csv" else (to_xlsx(table), XLSX_TYPE)
    return Response(body, media_type=media_type, headers={
        "Content-Disposition": content_disposition(table.file_stem, table.file_title, kind), "Cache-Control": "no-store"})


def content_disposition(stem: str, title: str, extension: str) -> str:
    """`attachment` with an ASCII `filename` for every client and the Chinese name as RFC 5987's `filename*`."""
    return (f"attachment; filename=\"{stem}.{extension}\"; "
            f"filename*=UTF-8''{quote(f'{title}.{extension}', safe='')}")


# --- the assessment rates ------------------------------------------------------------------------------------------
def _scope_text(scope: dict[str, Any]) -> str:
    organ, town = scope.get("organ"), scope.get("town")
    text = f"{organ['name']}（{organ['code']}）" if organ else "全县（信访部门）"
    return text + (f"；乡镇（街道）：{town['name'] or town['code']}（{town['code']}）" if town else "")


def rates_table(answer: dict[str, Any], now: datetime | None = None) -> Table:
    """The answer of GET /api/v1/assessment/rates as a table: each rate's numerator, denominator and rate (empty
    when the denominator is 0), then what each is made of."""
    period, settings = answer["period"], answer["settings"]
    header = [
        ("统计范围", _scope_text(answer["scope"])),
        ("统计期间", f"{period['from']} 至 {period['to']}（登记日期，北京时间）"),
        ("统计截至", f"{period['to']} 24:00（北京时间）；此后发生的事实不计入"
                     + ("；统计期间已结束，数字不再变化" if period["closed"] else "；统计期间尚未结束，数字为临时数")),
        ("设置：未到期事项计入及时受理率、按期答复率的分母", yes_no(settings["not_yet_due_in_denominator"])),
        ("设置：基本满意计为满意", yes_no(settings["basically_satisfied_counts_as_satisfied"])),
        ("设置：回访评价计入", yes_no(settings["return_visit_ratings_count"])),
        ("设置：到期日早于此日仍未办理的为超期", str(settings["overdue_if_due_before"])),
        ("生成时间", generated_at(now)),
    ]
    rates = answer["rates"]
    figures = Section(columns=["指标", "代码", "分子", "分母", "比率"], rows=[
        [RATE_NAMES[name], name, rate["numerator"], rate["denominator"], rate["rate"]]
        for name, rate in rates.items()])
    figures.rows.append(["登记事项数", "cases", answer["cases"], None, None])
    parts = Section(title="构成", columns=["指标", "项目", "代码", "件数"], rows=[
        [RATE_NAMES[name], label, part, rates[name][part]]
        for name in rates for part, label in PART_NAMES[name].items()])
    stem = f"assessment-rates_{period['from']}_{period['to']}"
    organ = (answer["scope"].get("organ") or {}).get("code")
    return Table(title="信访工作考核指标（及时受理率、按期答复率、参评率、满意率）", sheet="考核指标", header=header,
                 sections=[figures, parts], file_stem=stem + (f"_{organ}" if organ else ""),
                 file_title=f"信访工作考核指标_{period['from']}至{period['to']}")


# --- the overdue list ----------------------------------------------------------------------------------------------
OVERDUE_COLUMNS = ["信访事项编号", "标题", "责任机关", "机关代码", "期限", "到期日", "超期天数", "办理状态"]


def overdue_table(rows: Sequence[dict[str, Any]], today: date, scope: dict[str, Any] | None, truncated: bool,
                  now: datetime | None = None) -> Table:
    """The overdue list (work-list rows of the group `overdue`, the most overdue first) as a table: per case its
    number (信访事项编号), title (free text: neutralized), organ, the deadline passed, its due day, the days since
    and the status. No petitioner's name and no query code."""
    header = [
        ("统计范围", f"{scope['name']}（{scope['code']}）" if scope else "全县"),
        ("统计日", f"{today.isoformat()}（北京时间）"),
        ("设置：超期", "下一个履职期限的到期日早于统计日，仍未办结"),
        ("说明", "不含信访人姓名和查询码；标题为信访人填写的内容"
                 + (f"；超过{MAX_OVERDUE_ROWS}件，仅列出最早到期的{MAX_OVERDUE_ROWS}件" if truncated else "")),
        ("件数", str(len(rows))),
        ("生成时间", generated_at(now)),
    ]
    listed = []
    for row in rows:
        deadline = row.get("deadline") or {}
        due = deadline.get("due")
        organ = row.get("organ") or {}
        listed.append([row["_id"], row.get("title") or "", organ.get("name") or "信访部门", organ.get("code") or "",
                       deadline.get("label") or "", due or "",
                       (today - date.fromisoformat(due)).days if due else None, row.get("status_text") or ""])
    return Table(title="超期信访事项清单", sheet="超期清单", header=header,
                 sections=[Section(columns=OVERDUE_COLUMNS, rows=listed)],
                 file_stem=f"overdue_{today.isoformat()}" + (f"_{scope['code']}" if scope else ""),
                 file_title=f"超期信访事项清单_{today.isoformat()}")


# --- the backlog ledger (积案台账) -----------------------------------------------------------------------------------
LEDGER_COLUMNS = ["信访事项编号", "标题", "办理机关", "办理状态", "登记日期", "包案领导", "职务", "包案日期", "化解期限",
                  "化解日期", "建议包案的情形"]


def ledger_table(ledger: dict[str, Any], today: date, resolved: bool | None, now: datetime | None = None) -> Table:
    """The backlog ledger (GET /api/v1/supervision/backlog) as a table: each owned or proposed case with its leader,
    the days set and resolved, with the leader-ownership resolution rate in the header. Titles are free text
    (neutralized); no petitioner's name, no query code."""
    rate = ledger["resolution_rate"]
    header = [
        ("统计日", f"{today.isoformat()}（北京时间）"),
        ("范围", {True: "已化解的包案事项", False: "尚未化解的包案事项和建议包案的事项", None: "全部包案事项和建议包案的事项"}[resolved]),
        ("领导包案化解率", f"{rate:.1%}（{ledger['resolved']}/{ledger['owned']}）" if rate is not None else "—（无包案事项）"),
        ("说明", "不含信访人姓名和查询码；标题为信访人填写的内容"),
        ("件数", str(len(ledger["rows"]))),
        ("生成时间", generated_at(now)),
    ]
    listed = [[row["petition_id"], row.get("title") or "", (row.get("organ") or {}).get("name") or "信访部门",
               row.get("status_text") or "", row.get("registered_on") or "", row.get("leader") or "（建议包案）",
               row.get("leader_title") or "", row.get("since") or "", row.get("due") or "", row.get("resolved_on") or "",
               "、".join(p["text"] for p in row.get("proposed") or [])] for row in ledger["rows"]]
    return Table(title="信访积案台账", sheet="积案台账", header=header, sections=[Section(LEDGER_COLUMNS, listed)],
                 file_stem=f"backlog_{today.isoformat()}", file_title=f"信访积案台账_{today.isoformat()}")
