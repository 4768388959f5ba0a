"""Typical-problem circulars (典型问题通报, 通报批评) in the platform's language (docs/domain.md §"Supervision"): the
command a supervisor issues one with, its kinds and their Chinese names, and its document number.

A circular is not about one case: the bureau circulates the typical problems it found across cases (or criticises
an organ's handling of them) to one or more organs, with its demands and, optionally, a day by which each organ
reports its rectification in writing (《信访工作条例》第三十九条、第四十条; in practice monthly circulars on group and
repeat visits, copied to the organs concerned). One model serves the gateway (the request body, its 422s in Chinese)
and supervision (it validates the RPC payload again); what needs the store or the clock (the organs in the
directory, the cases cited, the day after today) is supervision's to check (services/supervision/circulars.py).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, Field

from shared.language.contracts.lifecycle import OrganCode, Text, _Command, label
from shared.language.contracts.text import Line

CIRCULAR_KINDS = {"typical_problem": "典型问题通报", "criticism": "通报批评"}
MAX_ORGANS = 50
MAX_CASES = 50


def _distinct(values: list) -> list:  # type: ignore[type-arg]
    """The values in their order, each once (an organ named twice is told once)."""
    return list(dict.fromkeys(values))


class IssueCircular(_Command):
    """通报: a title, the typical problems, the demands (整改要求), the organs it is addressed to, the cases it cites and
    optionally the day to report the rectification by."""

    title: Annotated[Line, Field(min_length=1, max_length=100), label("通报标题")]
    kind: Annotated[Literal["typical_problem", "criticism"], label("通报类型", CIRCULAR_KINDS)] = "typical_problem"
    problems: Annotated[Text, label("典型问题")]
    demands: Annotated[Text, label("整改要求")]
    report_due: Annotated[date | None, label("整改情况报告期限")] = None
    organ_codes: Annotated[list[OrganCode], Field(min_length=1, max_length=MAX_ORGANS), AfterValidator(_distinct),
                           label("通报对象机关")]
    petition_ids: Annotated[list[uuid.UUID], Field(max_length=MAX_CASES), AfterValidator(_distinct),
                            label("所涉信访事项")] = []


def circular_number(issued_on: date, circular_id: UUID | str) -> str:
    """The circular's document number (文号), 督通〔YYYY〕N号: the year it was issued (China) and, for N, the first six
    hex digits of its id. Not a running count per year: a counter would need one writer (or a lock) across every
    supervision instance, and a number taken by a request that then failed would leave a gap; the id is unique
    already (uuid4, or uuid5 of the issuer and the request's Idempotency-Key), and six hex digits make two circulars
    of one year sharing a number vanishingly unlikely at a county's few dozen a year."""
    return f"督通〔{issued_on.year}〕{UUID(str(circular_id)).hex[:6]}号"
