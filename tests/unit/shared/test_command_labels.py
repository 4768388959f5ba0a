"""Every lifecycle command names its fields in Chinese (issue 16): each field's own label (`Field(title=...)`) is what
a 422 says, so "理由" is 延期理由 in an extension and 异议理由 in an objection, and a choice lists its values with
their Chinese words."""

from __future__ import annotations

import typing

import pytest
from pydantic import BaseModel, ValidationError

from shared.language.contracts import lifecycle
from shared.language.contracts.errors import FIELD_LABELS, choices, validation_problem
from shared.language.contracts.lifecycle import COMMANDS, STEPS


def _han(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


# Every model a lifecycle request is validated with: the steps' commands, the officers' endpoint bodies and the
# petitioner's own (with the second factor).
MODELS = sorted({*COMMANDS.values(), *(s.endpoint.body for s in STEPS.values() if s.endpoint and s.endpoint.body),
                 lifecycle.PetitionerEvaluation, lifecycle.PetitionerReviewRequest}, key=lambda m: m.__name__)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_field_of_every_command_has_a_chinese_label(model: type[BaseModel]) -> None:
    for name, field in model.model_fields.items():
        assert field.title and _han(field.title), f"{model.__name__}.{name} has no Chinese label"
        # The general words still serve where the command is not known (a key given twice is found before it is).
        assert name in FIELD_LABELS, f"{name} has no general label"


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_choice_says_each_of_its_values_in_chinese(model: type[BaseModel]) -> None:
    for name, field in model.model_fields.items():
        literal = [a for a in (field.annotation, *typing.get_args(field.annotation))
                   if typing.get_origin(a) is typing.Literal]
        if literal:
            words = (field.json_schema_extra or {}).get("x-choices")  # type: ignore[union-attr]
            assert words is not None and set(words) == set(typing.get_args(literal[0])), f"{model.__name__}.{name}"
            assert all(_han(text) for text in words.values())


@pytest.mark.parametrize(("step", "payload", "field", "label", "message"), [
    ("reply", {"outcome": "support", "opinion": "  "}, "opinion", "处理意见", "处理意见不能为空"),
    ("decide_review", {"outcome": "uphold"}, "opinion", "复查意见", "请填写复查意见"),
    ("decide_re_review", {"outcome": "uphold", "opinion": ""}, "opinion", "复核意见", "复核意见不能为空"),
    ("extend", {"days": 10, "approved_by": "张局长"}, "reasons", "延期理由", "请填写延期理由"),
    ("object", {}, "reasons", "异议理由", "请填写异议理由"),
    ("withdraw", {"reasons": ""}, "reasons", "撤回理由", "撤回理由不能为空"),
    ("decline", {}, "reason_code", "不予受理理由", "请填写不予受理理由"),
    ("decline_again", {}, "reason_code", "不再受理理由", "请填写不再受理理由"),
    ("open_re_review", {}, "organ_code", "复核机关", "请填写复核机关"),
    ("transfer", {"organ_code": "330106-RSJ", "joining_organ_codes": ["330106-ZJJ", ""]}, "joining_organ_codes.1",
     "第2个配合办理机关", "第2个配合办理机关不能为空"),
    ("reply", {"outcome": "agree", "opinion": "同意"}, "outcome", "处理结果",
     "处理结果取值无效，可选值：support（支持）、explain（解释说明）、not_support（不予支持）"),
    ("decide_review", {"outcome": "quash", "opinion": "撤销"}, "outcome", "复查结果",
     "复查结果取值无效，可选值：uphold（维持）、change（变更）、rehandle（撤销并责令重新办理）"),
])
def test_a_refused_command_names_the_field_by_its_own_label(step, payload, field, label, message) -> None:
    model = COMMANDS[step]
    with pytest.raises(ValidationError) as refused:
        model.model_validate(payload)

    [error] = [e for e in validation_problem(refused.value.errors(), model)["errors"] if e["field"] == field]
    assert (error["label"], error["message"]) == (label, message)


def test_without_the_model_the_general_label_is_still_chinese() -> None:
    with pytest.raises(ValidationError) as refused:
        COMMANDS["extend"].model_validate({"days": 10, "approved_by": "张局长"})

    [error] = validation_problem(refused.value.errors())["errors"]
    assert (error["label"], error["message"]) == ("理由", "请填写理由")


def test_the_labels_and_choices_are_in_the_openapi_schema_a_form_can_use() -> None:
    schema = lifecycle.Reply.model_json_schema()

    assert schema["properties"]["opinion"]["title"] == "处理意见"
    assert schema["properties"]["outcome"]["x-choices"] == lifecycle.REPLY_OUTCOMES
    assert choices(lifecycle.Accept.model_fields["procedure"]) == "ordinary（普通程序）、simplified（简易程序）"
