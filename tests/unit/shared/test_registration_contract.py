"""The registration command (RegisterPetition) and the messages a petitioner sees when it is refused.

Every refusal is checked the way a client sees it: through `validation_problem`, one entry per bad field, with
the field path and code in English and the message in Chinese.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from shared.language.contracts.errors import explain, validation_problem
from shared.language.contracts.registration import (
    MAX_ATTACHMENT_BYTES,
    MAX_ATTACHMENTS,
    MAX_FACTS_AND_REASONS,
    MAX_REQUEST,
    MAX_TITLE,
    Channel,
    RegisterPetition,
)

VALID_ID = "11010519491231002X"
BAD_CHECKSUM_ID = "110105194912310021"  # VALID_ID with its check character changed
AGENT_ID = "110105198001010032"

Mutation = Callable[[dict[str, Any]], None]


def example() -> dict[str, Any]:
    """A deep copy of the model's own documented example."""
    return copy.deepcopy(RegisterPetition.model_json_schema()["examples"][0])


def mutated(mutation: Mutation) -> dict[str, Any]:
    document = example()
    mutation(document)
    return document


def problem_for(document: dict[str, Any]) -> dict[str, Any]:
    with pytest.raises(ValidationError) as caught:
        RegisterPetition.model_validate(document)
    return validation_problem(caught.value.errors())


def set_field(path: str, value: Any) -> Mutation:
    """A mutation setting a dotted path (list indexes as numbers), e.g. "attachments.0.size"."""

    def mutate(document: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = document
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value

    return mutate


def drop_field(path: str) -> Mutation:
    def mutate(document: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = document
        for part in parents:
            target = target[part]
        del target[last]

    return mutate


def attachment(**overrides: Any) -> dict[str, Any]:
    return {**example()["attachments"][0], **overrides}


ID_LENGTH_MESSAGE = "身份证号码应为18位"
ID_CHECKSUM_MESSAGE = "身份证号码校验位不正确，请核对后重新填写"
MOBILE_MESSAGE = "手机号码格式不正确，请填写11位大陆手机号码"
PLACE_MESSAGE = "问题发生地代码应为6位（县）、9位（乡镇）或12位（村）数字"


# ---------------------------------------------------------------------------------------------------------------
# Accepted input and its normal form
# ---------------------------------------------------------------------------------------------------------------


def test_the_documented_example_is_a_valid_registration() -> None:
    command = RegisterPetition.model_validate(example())

    assert command.channel is Channel.ONLINE
    assert command.petitioner.id_number == VALID_ID
    assert command.place_code == "330106001"
    assert len(command.attachments) == 1


@pytest.mark.parametrize(
    ("mutation", "read_back", "expected"),
    [
        pytest.param(set_field("petitioner.id_number", "11010519491231002x"),
                     lambda c: c.petitioner.id_number, VALID_ID, id="lower-case x in the ID number becomes X"),
        pytest.param(set_field("petitioner.id_number", f"  {VALID_ID}  "),
                     lambda c: c.petitioner.id_number, VALID_ID, id="spaces around the ID number are dropped"),
        pytest.param(set_field("petitioner.phone", "+86 138 0013 8000"),
                     lambda c: c.petitioner.phone, "13800138000", id="international mobile becomes 11 digits"),
        pytest.param(set_field("petitioner.phone", "138-0013-8000"),
                     lambda c: c.petitioner.phone, "13800138000", id="hyphenated mobile becomes 11 digits"),
        pytest.param(set_field("attachments.0.sha256", "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"),
                     lambda c: c.attachments[0].sha256,
                     "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                     id="upper-case sha256 becomes lower case"),
        pytest.param(set_field("title", "  小区污水外溢  "), lambda c: c.title, "小区污水外溢",
                     id="text is stripped of surrounding whitespace"),
        pytest.param(set_field("petitioner.agent", {"name": "李四", "phone": "13900139000", "id_number": AGENT_ID}),
                     lambda c: (c.petitioner.agent.name, c.petitioner.agent.phone), ("李四", "13900139000"),
                     id="an agent with name and phone is accepted"),
    ],
)
def test_accepted_values_are_normalised(mutation: Mutation, read_back: Callable[[RegisterPetition], Any],
                                        expected: Any) -> None:
    command = RegisterPetition.model_validate(mutated(mutation))

    assert read_back(command) == expected


@pytest.mark.parametrize("code", ["330106", "330106001", "330106001002"])
def test_place_codes_of_county_town_and_village_length_are_accepted(code: str) -> None:
    command = RegisterPetition.model_validate(mutated(set_field("place_code", code)))

    assert command.place_code == code


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "题" * MAX_TITLE),
        ("request", "求" * MAX_REQUEST),
        ("facts_and_reasons", "事" * MAX_FACTS_AND_REASONS),
        ("people_count", 100_000),
        ("attachments", [attachment()] * MAX_ATTACHMENTS),
        ("attachments.0.size", MAX_ATTACHMENT_BYTES),
        ("attachments.0.size", 0),
    ],
)
def test_values_exactly_at_a_limit_are_accepted(field: str, value: Any) -> None:
    document = mutated(set_field(field, value))
    if field == "people_count":  # a group petition elects representatives
        document["representatives"] = [{"name": "李四", "phone": "13900139000"}]
    RegisterPetition.model_validate(document)


# ---------------------------------------------------------------------------------------------------------------
# Refusals: one entry per bad field
# ---------------------------------------------------------------------------------------------------------------


REFUSALS = [
    # (mutation, field, code, message)
    pytest.param(drop_field("title"), "title", "missing", "请填写标题", id="missing title"),
    pytest.param(drop_field("petitioner"), "petitioner", "invalid_petitioner", "请填写信访人信息（仅匿名检举控告可不填写）",
                 id="missing petitioner"),
    pytest.param(drop_field("petitioner.name"), "petitioner.name", "missing", "请填写姓名",
                 id="missing petitioner name"),
    pytest.param(set_field("title", ""), "title", "string_too_short", "标题不能为空", id="empty title"),
    pytest.param(set_field("request", "   \t "), "request", "string_too_short", "诉求不能为空",
                 id="whitespace-only request"),
    pytest.param(set_field("petitioner.address", "  "), "petitioner.address", "string_too_short", "联系地址不能为空",
                 id="whitespace-only address"),
    pytest.param(set_field("title", "题" * (MAX_TITLE + 1)), "title", "string_too_long", "标题不能超过100个字",
                 id="title over 100 characters"),
    pytest.param(set_field("request", "求" * (MAX_REQUEST + 1)), "request", "string_too_long",
                 "诉求不能超过2000个字", id="request over 2000 characters"),
    pytest.param(set_field("facts_and_reasons", "事" * (MAX_FACTS_AND_REASONS + 1)), "facts_and_reasons",
                 "string_too_long", "事实和理由不能超过20000个字", id="facts over 20000 characters"),
    pytest.param(set_field("petitioner.id_number", BAD_CHECKSUM_ID), "petitioner.id_number", "invalid_id_number",
                 ID_CHECKSUM_MESSAGE, id="ID number with a wrong check character"),
    pytest.param(set_field("petitioner.id_number", VALID_ID[:-2]), "petitioner.id_number", "invalid_id_number",
                 ID_LENGTH_MESSAGE, id="ID number of 16 characters"),
    pytest.param(set_field("petitioner.id_number", VALID_ID + "1"), "petitioner.id_number", "invalid_id_number",
                 ID_LENGTH_MESSAGE, id="ID number of 19 characters"),
    pytest.param(set_field("petitioner.phone", "12345678901"), "petitioner.phone", "invalid_mobile", MOBILE_MESSAGE,
                 id="11 digits that are no mobile number"),
    pytest.param(set_field("petitioner.phone", "1380013800"), "petitioner.phone", "invalid_mobile", MOBILE_MESSAGE,
                 id="mobile number one digit short"),
    pytest.param(set_field("petitioner.phone", "01012345678"), "petitioner.phone", "invalid_mobile", MOBILE_MESSAGE,
                 id="Beijing landline is not a mobile"),
    pytest.param(set_field("petitioner.phone", "+852 6123 4567"), "petitioner.phone", "invalid_mobile",
                 MOBILE_MESSAGE, id="Hong Kong mobile is not a mainland mobile"),
    pytest.param(set_field("petitioner.email", "not-an-email"), "petitioner.email", "value_error", "电子邮箱格式不正确",
                 id="invalid e-mail"),
    pytest.param(set_field("place_code", "3301"), "place_code", "invalid_place_code", PLACE_MESSAGE,
                 id="place code of 4 digits"),
    pytest.param(set_field("place_code", "3301060"), "place_code", "invalid_place_code", PLACE_MESSAGE,
                 id="place code of 7 digits"),
    pytest.param(set_field("place_code", "3301060010020"), "place_code", "invalid_place_code", PLACE_MESSAGE,
                 id="place code of 13 digits"),
    pytest.param(set_field("place_code", "33010A"), "place_code", "invalid_place_code", PLACE_MESSAGE,
                 id="place code with a letter"),
    pytest.param(set_field("place_code", "330-106"), "place_code", "invalid_place_code", PLACE_MESSAGE,
                 id="place code with a hyphen"),
    # str.isdigit() accepts these; the published schema (and routing) only knows 0-9.
    pytest.param(set_field("place_code", "３３０１０６００１"), "place_code", "invalid_place_code", PLACE_MESSAGE,
                 id="place code in full-width digits"),
    pytest.param(set_field("place_code", "٣٣٠١٠٦"), "place_code", "invalid_place_code", PLACE_MESSAGE,
                 id="place code in Arabic-Indic digits"),
    pytest.param(set_field("petitioner.id_number", "١١٠١٠٥١٩٤٩١٢٣١٠٠٢X"), "petitioner.id_number",
                 "invalid_id_number", "身份证号码格式不正确（出生日期或字符有误）", id="ID number in Arabic-Indic digits"),
    pytest.param(set_field("petitioner.id_number", "1101051949123100²X"), "petitioner.id_number",
                 "invalid_id_number", "身份证号码格式不正确（出生日期或字符有误）", id="ID number with a superscript digit"),
    pytest.param(set_field("people_count", 0), "people_count", "greater_than_equal", "涉及人数不能小于1",
                 id="nobody involved"),
    pytest.param(set_field("people_count", 100_001), "people_count", "less_than_equal", "涉及人数不能大于100000",
                 id="more than 100000 people"),
    pytest.param(set_field("people_count", "many"), "people_count", "int_parsing", "涉及人数应为整数",
                 id="people count that is not a number"),
    pytest.param(set_field("attachments", [attachment()] * (MAX_ATTACHMENTS + 1)), "attachments", "too_long",
                 "附件不能超过20项", id="21 attachments"),
    pytest.param(set_field("attachments.0.size", -1), "attachments.0.size", "greater_than_equal",
                 "第1个附件大小不能小于0", id="negative attachment size"),
    pytest.param(set_field("attachments.0.size", MAX_ATTACHMENT_BYTES + 1), "attachments.0.size", "less_than_equal",
                 f"第1个附件大小不能大于{MAX_ATTACHMENT_BYTES}", id="attachment over 100 MiB"),
    pytest.param(set_field("attachments.0.sha256", "xyz"), "attachments.0.sha256", "string_pattern_mismatch",
                 "附件SHA-256摘要应为64位十六进制字符", id="sha256 that is not hex"),
    pytest.param(set_field("attachments", [attachment(), attachment(sha256="g" * 64)]), "attachments.1.sha256",
                 "string_pattern_mismatch", "附件SHA-256摘要应为64位十六进制字符",
                 id="bad sha256 of the second attachment"),
    pytest.param(set_field("priority", "urgent"), "priority", "extra_forbidden", "不支持的字段：priority",
                 id="unknown top-level field"),
    pytest.param(set_field("petitioner.nickname", "小王"), "petitioner.nickname", "extra_forbidden",
                 "不支持的字段：petitioner.nickname", id="unknown petitioner field"),
    pytest.param(set_field("petitioner.agent", {"name": "李四"}), "petitioner.agent.phone", "missing",
                 "请填写代理人手机号码", id="agent without a phone"),
    pytest.param(set_field("petitioner.agent", {"name": "李四", "phone": "13900139000", "id_number": BAD_CHECKSUM_ID}),
                 "petitioner.agent.id_number", "invalid_id_number", ID_CHECKSUM_MESSAGE,
                 id="agent with a bad ID number"),
]


@pytest.mark.parametrize(("mutation", "field", "code", "message"), REFUSALS)
def test_a_bad_field_is_reported_once_with_its_path_code_and_chinese_message(
    mutation: Mutation, field: str, code: str, message: str
) -> None:
    problem = problem_for(mutated(mutation))

    reported = [(e["field"], e["code"], e["message"]) for e in problem["errors"]]
    assert reported == [(field, code, message)]


def test_an_id_number_checksum_error_tells_the_petitioner_it_is_the_check_character() -> None:
    [error] = problem_for(mutated(set_field("petitioner.id_number", BAD_CHECKSUM_ID)))["errors"]

    assert "校验位" in error["message"]
    assert error["label"] == "身份证号码"


@pytest.mark.parametrize(
    ("field", "value", "allowed"),
    [
        ("channel", "fax", [c.value for c in Channel]),
        ("category", "complaint", ["suggestion", "report", "appeal"]),
    ],
)
def test_an_unknown_choice_is_refused_with_the_list_of_allowed_values(field: str, value: str,
                                                                      allowed: list[str]) -> None:
    [error] = problem_for(mutated(set_field(field, value)))["errors"]

    assert (error["field"], error["code"]) == (field, "enum")
    assert "取值无效，可选值：" in error["message"]
    assert all(choice in error["message"] for choice in allowed)


def test_attachment_errors_are_labelled_with_the_attachment_position() -> None:
    [error] = problem_for(mutated(set_field("attachments", [attachment(), attachment(size=-5)])))["errors"]

    assert error["field"] == "attachments.1.size"
    assert error["label"] == "第2个附件大小"


def test_every_bad_field_is_reported_in_one_response_not_only_the_first() -> None:
    document = example()
    document["title"] = ""
    document["petitioner"]["phone"] = "12345678901"
    document["petitioner"]["id_number"] = BAD_CHECKSUM_ID
    document["place_code"] = "3301"
    document["attachments"][0]["size"] = -1

    problem = problem_for(document)

    assert sorted(e["field"] for e in problem["errors"]) == sorted([
        "title", "petitioner.phone", "petitioner.id_number", "place_code", "attachments.0.size",
    ])


def test_the_problem_document_has_a_machine_code_and_a_chinese_summary() -> None:
    problem = problem_for(mutated(drop_field("title")))

    assert problem["error"] == "validation_failed"
    assert problem["message"] == "提交的信息有误，请按提示修改后重新提交。"


# ---------------------------------------------------------------------------------------------------------------
# explain() on raw error dicts (as FastAPI hands them over)
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        pytest.param({"loc": ("body", "title"), "type": "missing"},
                     {"field": "title", "label": "标题", "code": "missing", "message": "请填写标题"},
                     id="the body prefix of a FastAPI location is dropped"),
        pytest.param({"loc": ("body",), "type": "json_invalid"},
                     {"field": "body", "label": "请求内容", "code": "json_invalid",
                      "message": "请求内容不是有效的JSON，请检查格式"},
                     id="a body that is not JSON is reported on the body"),
        pytest.param({"loc": ("topic",), "type": "enum"},
                     {"field": "topic", "label": "问题类别", "code": "enum", "message": "问题类别取值无效"},
                     id="an enum without a documented list has a short message"),
        pytest.param({"loc": ("petitioner", "name"), "type": "string_type"},
                     {"field": "petitioner.name", "label": "姓名", "code": "string_type",
                      "message": "姓名应为文字"},
                     id="a number where text is expected"),
    ],
)
def test_explain_turns_a_raw_error_into_a_field_entry(error: dict[str, Any], expected: dict[str, str]) -> None:
    assert explain([error]) == [expected]


def test_explain_reports_the_same_problem_on_the_same_field_only_once() -> None:
    errors = [{"loc": ("title",), "type": "missing"}, {"loc": ("body", "title"), "type": "missing"}]

    assert [e["field"] for e in explain(errors)] == ["title"]


def test_a_valid_number_is_accepted_even_if_its_birthplace_code_is_unknown_to_the_division_table() -> None:
    # 330106 in 1980 is absent from python-stdnum's table of divisions; the number itself is valid
    # (GB 11643 check digit, real birth date). A stale table must never turn a petitioner away.
    document = mutated(set_field("petitioner.id_number", "330106198001010013"))
    assert RegisterPetition.model_validate(document).petitioner.id_number == "330106198001010013"


# ---------------------------------------------------------------------------------------------------------------
# Group petitions, joint signatures and anonymous reports (docs/domain.md §"Group petitions and representatives")
# ---------------------------------------------------------------------------------------------------------------

REPRESENTATIVE = {"name": "李四", "id_number": AGENT_ID}


def anonymous_report(document: dict[str, Any]) -> None:
    document.update(category="report", anonymous=True, accused={"name": "张某", "organisation": "某村村委会"})
    del document["petitioner"]


GROUP_REFUSALS = [
    pytest.param(set_field("people_count", 5), "representatives", "invalid_representatives",
                 "5人以上共同提出的信访事项，应当推选代表（不超过5人）并填写代表信息", id="group without representatives"),
    pytest.param(lambda d: d.update(people_count=8, representatives=[REPRESENTATIVE] * 6), "representatives",
                 "too_long", "代表不能超过5项", id="six representatives"),
    pytest.param(lambda d: d.update(people_count=8, representatives=[{"name": "李四"}]), "representatives",
                 "invalid_representatives", "每位代表须填写身份证号码或者手机号码", id="representative nobody can find"),
    pytest.param(lambda d: d.update(anonymous=True), "anonymous", "invalid_anonymous",
                 "只有检举控告类事项可以匿名提出", id="anonymous appeal"),
    pytest.param(lambda d: (anonymous_report(d), d.pop("accused")), "accused", "invalid_accused",
                 "匿名检举控告须写明被反映人或者单位", id="anonymous report without the accused"),
    pytest.param(lambda d: d.update(category="report", anonymous=True, accused={"name": "张某"}), "petitioner", "invalid_petitioner",
                 "匿名检举控告不填写信访人信息；如愿署名，请取消匿名", id="anonymous report naming the petitioner"),
    pytest.param(lambda d: d.update(accused={"name": "张某"}), "accused", "invalid_accused",
                 "只有检举控告类事项填写被反映人", id="accused on an appeal"),
]


@pytest.mark.parametrize(("mutation", "field", "code", "message"), GROUP_REFUSALS)
def test_group_and_anonymous_rules_refuse_with_a_chinese_message(mutation: Mutation, field: str, code: str,
                                                                   message: str) -> None:
    problem = problem_for(mutated(mutation))

    assert [(e["field"], e["code"], e["message"]) for e in problem["errors"]] == [(field, code, message)]


@pytest.mark.parametrize(
    ("mutation", "flags"),
    [
        pytest.param(lambda d: None, [], id="one person"),
        pytest.param(lambda d: d.update(people_count=5, representatives=[REPRESENTATIVE]), ["group"], id="five"),
        pytest.param(lambda d: d.update(people_count=30, representatives=[REPRESENTATIVE]), ["group", "major_urgent"],
                     id="thirty"),
        pytest.param(lambda d: d.update(people_count=2, joint_signers=[{"name": "赵六", "phone": "13900139001"}]),
                     ["joint_signature"], id="joint signature"),
        pytest.param(anonymous_report, ["anonymous"], id="anonymous report"),
    ],
)
def test_flags_say_what_the_bureau_must_watch(mutation: Mutation, flags: list[str]) -> None:
    assert RegisterPetition.model_validate(mutated(mutation)).flags == flags


def test_a_joint_letter_of_many_people_names_its_signers_instead_of_representatives() -> None:
    signers = [{"name": f"联名人{i}", "phone": f"1390013{i:04d}"} for i in range(12)]
    letter = mutated(lambda d: d.update(channel="letter", people_count=12, joint_signers=signers))

    assert RegisterPetition.model_validate(letter).flags == ["group", "joint_signature"]
    visit = mutated(lambda d: d.update(channel="visit", people_count=12, joint_signers=signers))
    assert problem_for(visit)["errors"][0]["code"] == "invalid_representatives"
