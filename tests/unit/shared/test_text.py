"""The text types every request model uses (shared/language/contracts/text.py) and the refusal of repeated JSON keys
(shared/language/contracts/jsonkeys.py), with the Chinese messages a client sees."""

from __future__ import annotations

import json
from typing import Annotated

import pytest
from pydantic import BaseModel, Field, ValidationError

from shared.language.contracts.errors import validation_problem
from shared.language.contracts.jsonkeys import DuplicateKey, check_unique_keys
from shared.language.contracts.text import FreeText, Line, blank, body_lines, one_line, unsafe_character


class Sample(BaseModel):
    title: Annotated[Line, Field(min_length=1, max_length=10)]
    note: Annotated[Line, Field(max_length=10)] = ""
    request: Annotated[FreeText, Field(min_length=1, max_length=20)] = "请求"


def refusal(**fields: str) -> tuple[str, str, str]:
    with pytest.raises(ValidationError) as caught:
        Sample(**fields)
    [error] = validation_problem(caught.value.errors())["errors"]
    return error["field"], error["code"], error["message"]


@pytest.mark.parametrize(
    ("value", "code"),
    [
        pytest.param("a\r\n\r\n,probe-extra@example.cn", "line_break", id="CRLF (the header injection)"),
        pytest.param("x\nBcc: a@example.cn", "line_break", id="LF"),
        pytest.param("x\ry", "line_break", id="CR"),
        pytest.param("x\u2028y", "line_break", id="line separator"),
        pytest.param("x\x85y", "line_break", id="NEL"),
        pytest.param("a\x00b", "control_character", id="NUL"),
        pytest.param("a\x1b[31mb", "control_character", id="ESC (terminal escape)"),
        pytest.param("a\tb", "control_character", id="tab"),
        pytest.param("a\x7fb", "control_character", id="DEL"),
        pytest.param("a\x9bb", "control_character", id="C1 CSI"),
        pytest.param("invoice\u202egpj.exe", "bidi_control", id="right-to-left override"),
        pytest.param("a\u2066b\u2069", "bidi_control", id="isolate"),
        pytest.param("a\u200fb", "bidi_control", id="right-to-left mark"),
        pytest.param("a\u061cb", "bidi_control", id="Arabic letter mark"),
        pytest.param("a\ud800b", "string_unicode", id="lone surrogate (pydantic's own check)"),
        pytest.param("\u200b", "invisible_only", id="zero-width space only"),
        pytest.param(" \u200b\u200d\u2060\ufeff\u3000", "invisible_only", id="zero-width and blanks"),
    ],
)
def test_a_single_line_refuses_control_bidi_and_invisible_only_values(value: str, code: str) -> None:
    field, found, message = refusal(title=value)

    assert (field, found) == ("title", code)
    assert message.startswith("标题")  # the label errors.py knows for a field named "title"


def test_free_text_keeps_line_breaks_and_tabs_and_makes_every_line_ending_lf() -> None:
    sample = Sample(title="t", request="第一段\r\n第二段\r第三段\u2028\t第四段")

    assert sample.request == "第一段\n第二段\n第三段\n\t第四段"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        pytest.param("a\x00b", "control_character", id="NUL"),
        pytest.param("a\x0bb", "control_character", id="vertical tab"),
        pytest.param("a\x85b", "control_character", id="NEL (C1)"),
        pytest.param("a\u202eb", "bidi_control", id="bidi override"),
        pytest.param("\u200b\n\u200c", "invisible_only", id="invisible only"),
    ],
)
def test_free_text_refuses_other_control_and_bidi_characters(value: str, code: str) -> None:
    assert refusal(title="t", request=value)[:2] == ("request", code)


def test_text_is_nfc_normalised_and_stripped_of_surrounding_blanks_and_invisibles() -> None:
    sample = Sample(title=" \u200bCafe\u0301\ufeff ", request="\u3000e\u0301\u200b")

    assert sample.title == "Café" == "Caf\u00e9"
    assert sample.request == "\u00e9"


def test_invisible_characters_inside_a_value_are_kept() -> None:
    family = "\U0001F468\u200d\U0001F469\u200d\U0001F467"  # ZWJ joins an emoji sequence

    assert Sample(title=family).title == family


def test_an_optional_empty_value_stays_empty_and_whitespace_only_is_empty() -> None:
    assert Sample(title="t", note="").note == ""
    assert Sample(title="t", note="   ").note == ""
    assert refusal(title="  ")[1] == "string_too_short"


def test_length_errors_on_text_keep_the_string_codes_and_messages() -> None:
    assert refusal(title="题" * 11) == ("title", "string_too_long", "标题不能超过10个字")
    assert refusal(title="") == ("title", "string_too_short", "标题不能为空")


def test_ordinary_chinese_text_is_taken_as_typed() -> None:
    text = "城关镇人民路1号（北门）——“污水”问题，¥500；Ａ栋"

    assert Sample(title="t", request=text[:20]).request == text[:20]


def test_one_line_turns_anything_unsafe_in_a_line_into_spaces() -> None:
    assert one_line("a\r\n\r\n,probe-extra@example.cn") == "a    ,probe-extra@example.cn"
    assert one_line("x\u202ey\x00") == "x y "
    assert one_line("王秀兰") == "王秀兰"


def test_body_lines_keep_the_line_breaks_of_a_text_and_nothing_else_unsafe() -> None:
    assert body_lines("甲\r\n乙\r丙\u2028丁\u2029戊\x0b己\x0c庚\x85辛") == list("甲乙丙丁戊己庚辛")
    assert body_lines(" 第一段\u202e反转\t制表 \n\n\u200b\n  第二段\x1b[0m ") == ["第一段 反转 制表", "第二段 [0m"]
    assert body_lines("\n \u3000\n") == []


def test_blank_is_empty_or_only_invisible() -> None:
    assert blank("") and blank(" \u3000\u200b\n") and not blank("x")
    assert unsafe_character("王秀兰") is None
    assert unsafe_character("a\r\nb") == "\r"
    assert unsafe_character("a\ud800") == "\ud800"  # what pydantic refuses first, refused here too


# ---------------------------------------------------------------------------------------------------------------
# Repeated JSON keys
# ---------------------------------------------------------------------------------------------------------------


def test_a_body_with_unique_keys_passes() -> None:
    check_unique_keys(json.dumps({"category": "appeal", "petitioner": {"name": "王秀兰"}, "list": [{"a": 1}]}))


@pytest.mark.parametrize(
    ("body", "path"),
    [
        pytest.param(b'{"category": "appeal", "title": "t", "category": "report"}', ("category",), id="top level"),
        pytest.param(b'{"petitioner": {"name": "a", "name": "b"}}', ("petitioner", "name"), id="nested"),
        pytest.param(b'{"attachments": [{"size": 1}, {"size": 1, "size": 2}]}', ("attachments", 1, "size"),
                     id="in a list"),
        pytest.param('{"标题": 1, "标题": 2}'.encode(), ("标题",), id="non-ASCII key"),
    ],
)
def test_a_key_given_twice_is_refused_with_its_path(body: bytes, path: tuple[str | int, ...]) -> None:
    with pytest.raises(DuplicateKey) as caught:
        check_unique_keys(body)

    assert caught.value.path == path


@pytest.mark.parametrize("body", [b"", b"{", b"\xff\xfe", b"[" * 100_000, b'{"a": 1} trailing'])
def test_a_body_that_is_not_json_is_left_to_the_parser(body: bytes) -> None:
    check_unique_keys(body)  # no exception: FastAPI or pydantic report the syntax error


def test_a_repeated_key_is_explained_in_chinese_with_the_field_label() -> None:
    with pytest.raises(DuplicateKey) as caught:
        check_unique_keys(b'{"category": "appeal", "category": "report"}')

    [error] = validation_problem([caught.value.error("body")])["errors"]

    assert error == {"field": "category", "label": "信访类别", "code": "duplicate_key",
                     "message": "信访类别（category）在请求内容中重复出现，同一字段只能填写一次"}


# ---------------------------------------------------------------------------------------------------------------
# Every text field of every request model is checked
# ---------------------------------------------------------------------------------------------------------------


def _unchecked_strings(node: object, parent: dict | None = None) -> list[dict]:
    """The str schemas in a pydantic core schema that neither our text validators nor a strict format (ID number,
    phone, place code, e-mail address, a pattern) check."""
    from pydantic import EmailStr

    from shared.language.contracts import identity, text

    checked = {text.single_line, text.free_text, identity.resident_id_number, identity.mainland_mobile,
               identity.landline, identity.place_code}
    found: list[dict] = []
    if isinstance(node, dict):
        if node.get("type") == "str" and not node.get("pattern"):
            function = (parent or {}).get("function", {}).get("function") if parent else None
            if not (function in checked or getattr(function, "__self__", None) is EmailStr):
                found.append(node)
        for value in node.values():
            found += _unchecked_strings(value, node)
    elif isinstance(node, list):
        for value in node:
            found += _unchecked_strings(value, parent)
    return found


def test_every_text_field_of_every_request_model_is_a_checked_type() -> None:
    from shared.language.contracts.lifecycle import COMMANDS
    from shared.language.contracts.registration import RegisterPetition

    for model in {RegisterPetition, *COMMANDS.values()}:
        assert _unchecked_strings(model.__pydantic_core_schema__) == [], model.__name__
