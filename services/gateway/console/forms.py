"""The officer's action forms, derived from the lifecycle's declaration (shared/language/contracts/lifecycle.py STEPS).

Each step with an officer's endpoint is one form: its title is the step's text, its purpose the endpoint's summary,
its fields the request body's model fields (the API's own Chinese labels; choices in Chinese), and its hint the
statute (STATUTE_HINTS, one line per step; tests/unit/gateway/test_console_forms.py fails when a step has none).
What a form posts is validated by the same model as the API's request body and taken by the same function
(routes/lifecycle.perform), so the form and the endpoint cannot disagree.
"""

from __future__ import annotations

import types
import typing
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel
from pydantic.functional_validators import AfterValidator
from pydantic_core import PydanticUndefined

from services.gateway.console import labels
from services.gateway.console.reference import Reference
from shared.language.contracts.lifecycle import STEPS, Step
from shared.language.contracts.text import free_text

# 《信访工作条例》 unless named otherwise (docs/domain.md gives the articles and marks the unverified ones).
STATUTE_HINTS = {
    "transfer": "第二十二条：信访部门应当自收到信访事项之日起15日内，按照属地管理、分级负责，谁主管、谁负责的原则转送有权处理的机关。",
    "assign": "第二十二条：对重要信访事项可以交办，并要求有权处理的机关在指定期限内报告办理结果。",
    "report_up": "第二十二条、第二十五条：重大、紧急信访事项应当及时报告本级党委和政府。",
    "redirect": "第二十三条：不属于本机关受理范围的，应当告知信访人向有权处理的机关提出。",
    "object": "第二十三条：有权处理的机关对转送、交办有异议的，应当自收到之日起5个工作日内提出。",
    "decide_objection": "第二十三条：信访部门审核异议；异议成立的，重新确定办理机关。",
    "accept": "第二十三条：有权处理的机关应当自收到信访事项之日起15日内决定是否受理，并书面告知信访人；"
              "简易办理应当符合《信访事项简易办理办法》规定的条件。",
    "decline": "第二十三条：不予受理的，应当书面告知信访人并说明理由。",
    "decline_again": "第三十六条：信访事项复核终结后，以同一事实和理由再次提出的，不再受理。",
    "reopen_as_new_matter": "提出新的事实和理由的，不属于重复信访，作为新的信访事项登记办理。",
    "divert": "第三十一条：属于第一至五项情形的，导入相应法定程序处理，并告知信访人。",
    "record_handling": "第三十二条：办理信访事项可以听证、调解、和解或者调查核实，应当听取信访人陈述事实和理由。",
    "convert_to_ordinary": "《信访事项简易办理办法》：不宜简易办理的，转为普通程序办理，办理期限重新计算。",
    "extend": "第三十四条：情况复杂的，经本机关负责人批准，可以适当延长办理期限，延长期限不得超过30日，并告知信访人延期理由。",
    "reply": "第三十二条、第三十四条：应当自受理之日起60日内办结，出具书面处理意见（支持、解释说明或者不予支持）。",
    "evaluate": "信访人对处理意见的满意度评价；信访部门回访取得的评价记为回访评价。",
    "open_review": "第三十五条：信访人对处理意见不服的，可以自收到之日起30日内请求原办理机关的上一级机关复查。",
    "decide_review": "第三十五条：复查机关应当自收到复查请求之日起30日内提出复查意见，并书面答复信访人。",
    "open_re_review": "第三十六条：信访人对复查意见不服的，可以自收到之日起30日内向复查机关的上一级机关请求复核。",
    "start_hearing": "第三十六条：复核机关可以举行听证，听证所需时间不计算在复核期限内。",
    "end_hearing": "第三十六条：听证结束后，复核期限继续计算。",
    "decide_re_review": "第三十六条：复核机关应当自收到复核请求之日起30日内提出复核意见；复核意见为终结意见。",
    "withdraw": "信访人申请撤回信访事项的，经信访部门同意后终止办理。",
    "supervise": "第三十八条、第四十条：对推诿、敷衍、拖延、弄虚作假或者拒不执行处理意见的，信访部门应当及时督办；"
                 "第三十九条：可以约谈、通报、挂牌督办。",
    "answer_order": "第四十条：被督办的机关应当按要求书面报告办理情况。",
    "review_order_answer": "第四十条：信访部门对办理情况报告进行审核，不认可的应当继续督办。",
    "recommend_accountability": "第四十条、第四十四条至第四十六条：造成严重后果的，向有管理权限的机关提出追究责任的建议。",
    "assign_leader": "第十八条：领导干部包案化解信访突出问题；一个问题、一名领导、一个专班、一套方案、限期化解。",
    "record_ownership_progress": "包案领导负责调查、处理和息诉罢访，化解后报信访部门备案销号。",
    "report_progress": "第二十二条第三款：上级交办的信访事项，按照交办机关确定的期限报送办理情况；处理意见出具后自动报送办结报告。",
}


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    widget: str  # text | textarea | select | multiselect | number | date
    required: bool
    options: list[tuple[str, str]] | None = None
    default: str = ""
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None


@dataclass(frozen=True)
class StepForm:
    action: str
    title: str
    summary: str
    hint: str
    model: type[BaseModel]
    fields: list[FormField]


def officer_steps() -> list[Step]:
    return [step for step in STEPS.values() if step.endpoint is not None and step.command is not None]


def unwrap(annotation: Any) -> tuple[Any, bool]:
    """The annotation without `| None`, and whether None was allowed."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        inner = args[0] if len(args) == 1 else annotation
        return (typing.get_args(inner)[0] if typing.get_origin(inner) is typing.Annotated else inner), True
    return annotation, False


def metadata_of(info: Any) -> list[Any]:
    """A field's constraints and validators, also when they sit inside `Annotated[...] | None`."""
    found = list(info.metadata)
    for arg in typing.get_args(info.annotation):
        if typing.get_origin(arg) is typing.Annotated:
            for item in arg.__metadata__:
                found += [item, *getattr(item, "metadata", [])]
    return found


def is_free_text(metadata: list[Any]) -> bool:
    return any(isinstance(m, AfterValidator) and m.func is free_text for m in metadata)


def limit(metadata: list[Any], attribute: str) -> int | None:
    return next((getattr(m, attribute) for m in metadata if hasattr(m, attribute)), None)


def form_field(step: str, name: str, info: Any, reference: Reference) -> FormField:
    annotation, _optional = unwrap(info.annotation)
    label = info.title or labels.field_label(name)  # the command's own label of the field, else the API's word
    required = info.is_required()
    default = "" if info.default in (None, PydanticUndefined) or isinstance(info.default, list) else str(info.default)
    common = {"name": name, "label": label, "required": required, "default": default}
    choices = reference.options(step, name)
    origin = typing.get_origin(annotation)
    if choices is not None:  # a list of organs, named (the command's label names the organ, not its code)
        if origin is list:
            return FormField(widget="multiselect", options=choices, **common)
        return FormField(widget="select", options=choices if required else [("", "（不选）"), *choices], **common)
    if origin is list:
        return FormField(widget="text", **common)
    if origin is typing.Literal:
        words = labels.STEP_OPTIONS.get((step, name)) or labels.OPTIONS.get(name, {})
        offered = [(str(v), words.get(str(v), str(v))) for v in typing.get_args(annotation)]
        return FormField(widget="select", options=offered if required or default else [("", "（不选）"), *offered],
                         **common)
    if annotation is bool:
        return FormField(widget="select", options=list(labels.OPTIONS.get(name, {"true": "是", "false": "否"}).items()),
                         **common)
    if annotation is int:
        return FormField(widget="number", minimum=limit(info.metadata, "ge"), maximum=limit(info.metadata, "le"),
                         **common)
    if annotation is date:
        return FormField(widget="date", **common)
    if annotation is uuid.UUID:
        return FormField(widget="text", max_length=36, **common)
    metadata = metadata_of(info)
    widget = "textarea" if is_free_text(metadata) else "text"
    return FormField(widget=widget, max_length=limit(metadata, "max_length"), **common)


def step_form(step: Step, reference: Reference) -> StepForm:
    assert step.endpoint is not None  # noqa: S101 - officer_steps() only
    model = step.endpoint.body or step.command
    fields = [form_field(step.name, name, info, reference) for name, info in model.model_fields.items()]
    return StepForm(step.name, step.text, step.endpoint.summary, STATUTE_HINTS.get(step.name, ""), model, fields)


def given(value: Any) -> bool:
    """Whether an input was filled in. Nothing typed, or a list left at 请选择, is not given: it is left out of the
    request body, required or not, so that the API answers "请填写…" (or takes the model's default) instead of judging
    an empty value — as a choice outside the list, which would show the machine codes, or a number "格式不正确"."""
    return value is not None and str(value).strip() != ""


def form_values(form: Any, fields: list[FormField]) -> dict[str, Any]:
    """The posted form as the request body the API takes: what was not given left out (`given`)."""
    body: dict[str, Any] = {}
    for field in fields:
        if field.widget == "multiselect":
            body[field.name] = [v for v in form.getlist(field.name) if v]
            continue
        if field.widget == "text" and field.options is None and field.name.endswith("_codes"):
            body[field.name] = [v.strip() for v in str(form.get(field.name, "")).replace("，", ",").split(",")
                                if v.strip()]
            continue
        value = form.get(field.name)
        if not given(value):
            continue
        if field.options and set(dict(field.options)) == {"true", "false"}:
            body[field.name] = value == "true"
        elif field.widget == "number" and str(value).strip().lstrip("-").isdigit():
            body[field.name] = int(value)
        else:
            body[field.name] = value
    return body
