"""Checks on who a petitioner is and where a matter arose, with messages a petitioner understands."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from pydantic_core import PydanticCustomError
from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError


def _ascii_digits(text: str) -> bool:
    """0-9 only: str.isdigit() also accepts full-width, Arabic-Indic and superscript digits."""
    return text.isascii() and text.isdigit()


def resident_id_number(value: str) -> str:
    """A mainland resident identity card number (GB 11643-1999: 18 characters, ISO 7064 MOD 11-2 check digit,
    a real birth date).

    The birthplace code is deliberately not checked against stdnum's table of divisions: numbers keep the code of
    the division at birth, and a stale table must never turn a petitioner away.
    """
    try:
        number = ric.compact(value.strip())
        if len(number) != 18:
            raise InvalidLength()
        if not _ascii_digits(number[:-1]) or not (_ascii_digits(number[-1]) or number[-1] == "X"):
            raise InvalidFormat()
        if number[-1] != ric.calc_check_digit(number):
            raise InvalidChecksum()
        ric.get_birth_date(number)  # raises InvalidComponent for an impossible date
        return number
    except InvalidLength:
        raise PydanticCustomError("invalid_id_number", "身份证号码应为18位") from None
    except InvalidChecksum:
        raise PydanticCustomError("invalid_id_number", "身份证号码校验位不正确，请核对后重新填写") from None
    except (InvalidFormat, InvalidComponent):
        raise PydanticCustomError("invalid_id_number", "身份证号码格式不正确（出生日期或字符有误）") from None
    except ValidationError:
        raise PydanticCustomError("invalid_id_number", "身份证号码无效") from None


def mainland_mobile(value: str) -> str:
    """A mainland China mobile number, returned as its 11 national digits."""
    try:
        number = phonenumbers.parse(value.strip(), "CN")
    except phonenumbers.NumberParseException:
        raise PydanticCustomError("invalid_mobile", "手机号码格式不正确，请填写11位大陆手机号码") from None
    if (
        number.country_code != 86
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) not in (phonenumbers.PhoneNumberType.MOBILE,
                                                     phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
    ):
        raise PydanticCustomError("invalid_mobile", "手机号码格式不正确，请填写11位大陆手机号码")
    return str(number.national_number)


# 区号-号码: an area code of 3 or 4 digits beginning with 0 (010, 021, 0571 ...), a hyphen (or a space, or the area
# code in brackets), then the 7 or 8 digits of the local number. Full-width digits and brackets are read as typed.
_LANDLINE = re.compile(r"(?:\((0\d{2,3})\)|(0\d{2,3}))[- ]?(\d{7,8})")
LANDLINE_MESSAGE = "固定电话格式不正确，请填写区号和号码，如0571-87654321"


def landline(value: str) -> str:
    """A mainland fixed-line number with its area code (区号-号码), returned as `0571-87654321`: the area code
    must be a real one and the number's length right for it (phonenumbers' plan of the mainland's numbers)."""
    text = unicodedata.normalize("NFKC", value).strip()
    found = _LANDLINE.fullmatch(text)
    if found is None:
        if mobile_or_none(text) is not None:
            raise PydanticCustomError("invalid_landline", "这是手机号码，请填写在“手机号码”一栏；固定电话请填写区号和号码，"
                                                          "如0571-87654321")
        raise PydanticCustomError("invalid_landline", LANDLINE_MESSAGE)
    digits = (found.group(1) or found.group(2)) + found.group(3)
    try:
        number = phonenumbers.parse(digits, "CN")
    except phonenumbers.NumberParseException:
        raise PydanticCustomError("invalid_landline", LANDLINE_MESSAGE) from None
    if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in (
            phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        raise PydanticCustomError("invalid_landline", LANDLINE_MESSAGE)
    national = str(number.national_number)
    area = phonenumbers.length_of_geographical_area_code(number) or len(found.group(1) or found.group(2)) - 1
    return f"0{national[:area]}-{national[area:]}"


def mobile_or_none(value: str) -> str | None:
    """`value` as a mainland mobile number's 11 digits, or None if it is not one."""
    try:
        return mainland_mobile(value)
    except PydanticCustomError:
        return None


def place_code(value: str) -> str:
    """A statistical division code (统计用区划代码): 6 digits (county), 9 (town) or 12 (village)."""
    value = value.strip()
    if not _ascii_digits(value) or len(value) not in (6, 9, 12):
        raise PydanticCustomError("invalid_place_code", "问题发生地代码应为6位（县）、9位（乡镇）或12位（村）数字")
    return value
