"""The bureau's search for a petitioner's petitions (POST /api/v1/cases/search; docs/api.md §"Search"): by query
code, petitioner name, phone or ID number. The gateway validates the request with this model; intake, which keeps
the people and their keyed index (services/intake/search.py), normalises what is searched with the same functions,
so a number typed with spaces, `+86` or a hyphen finds what was filed.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from shared.language.contracts import querycode
from shared.language.contracts.identity import resident_id_number
from shared.language.contracts.text import Line

_NOT_DIGITS = re.compile(r"\D+")


class SearchBy(StrEnum):
    QUERY_CODE = "query_code"  # 查询码
    NAME = "name"  # 信访人姓名
    PHONE = "phone"  # 手机号码或者固定电话
    ID_NUMBER = "id_number"  # 身份证号码


SEARCH_BY_TEXT = {SearchBy.QUERY_CODE: "查询码", SearchBy.NAME: "信访人姓名", SearchBy.PHONE: "电话号码",
                  SearchBy.ID_NUMBER: "身份证号码"}


def phone_digits(text: str) -> str | None:
    """The digits of a mainland number as it is searched and filed: a mobile's 11 (`+86` dropped), a fixed line's
    area code and number (0571-87654321 → 057187654321); None for anything else."""
    digits = _NOT_DIGITS.sub("", text)
    if len(digits) == 13 and digits.startswith("861"):
        digits = digits[2:]
    if len(digits) == 11 and digits.startswith("1"):
        return digits
    if 10 <= len(digits) <= 12 and digits.startswith("0"):
        return digits
    return None


class SearchPetitions(BaseModel):
    """What the bureau searches for. `value` is checked as the kind of key it is and normalised."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    by: SearchBy
    value: Annotated[Line, Field(min_length=1, max_length=50)]

    @field_validator("value")
    @classmethod
    def _a_key_of_its_kind(cls, value: str, info: ValidationInfo) -> str:
        by = info.data.get("by")
        if by is SearchBy.QUERY_CODE:
            code = querycode.normalize(value)
            if code is None:
                raise PydanticCustomError("invalid_query_code", "查询码格式不正确，应为16位字母和数字（如ABCD-EFGH-JKMN-PQRS）")
            return code
        if by is SearchBy.ID_NUMBER:
            return resident_id_number(value)
        if by is SearchBy.PHONE:
            digits = phone_digits(value)
            if digits is None:
                raise PydanticCustomError("invalid_phone", "电话号码格式不正确，请填写11位手机号码或者带区号的固定电话")
            return digits
        return value
