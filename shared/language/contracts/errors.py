"""Turning validation errors into messages for people (Chinese), with machine fields in English.

    {"field": "petitioner.id_number", "label": "身份证号码", "code": "invalid_id_number",
     "message": "身份证号码校验位不正确，请核对后重新填写"}

Where a field's label comes from: the model's own `Field(title=...)` when the model is known (every lifecycle
command labels each of its fields so: shared/language/contracts/lifecycle.py, where "理由" is the extension's
延期理由 in one command and the objection's 异议理由 in another), otherwise FIELD_LABELS by the field's path (the
registration, query parameters, and any body field found before its model is known, e.g. a key given twice).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

# The public form's fields are named as issue 16 mandates their labels (姓名, 联系地址, 诉求, 问题类别, 问题发生地 ...):
# the console's online form takes its labels from here (services/gateway/console/labels.py PUBLIC_LABELS), so the
# API's errors and the form say the same words.
FIELD_LABELS = {
    "channel": "信访渠道",
    "petitioner": "信访人信息",
    "petitioner.name": "姓名",
    "petitioner.id_number": "身份证号码",
    "petitioner.phone": "手机号码",
    "petitioner.landline": "固定电话",
    "petitioner.address": "联系地址",
    "petitioner.email": "电子邮箱",
    "petitioner.agent": "代理人",
    "petitioner.agent.name": "代理人姓名",
    "petitioner.agent.id_number": "代理人身份证号码",
    "petitioner.agent.phone": "代理人手机号码",
    "petitioner.agent.relation": "代理人与信访人关系",
    "anonymous": "匿名",
    "accused": "被反映人",
    "accused.name": "被反映人姓名或者单位名称",
    "accused.organisation": "被反映人所在单位",
    "accused.position": "被反映人职务",
    "representatives": "代表",
    "representatives.name": "代表姓名",
    "representatives.id_number": "代表身份证号码",
    "representatives.phone": "代表手机号码",
    "joint_signers": "联名人",
    "joint_signers.name": "联名人姓名",
    "joint_signers.id_number": "联名人身份证号码",
    "joint_signers.phone": "联名人手机号码",
    "title": "标题",
    "request": "诉求",
    "facts_and_reasons": "事实和理由",
    "category": "信访类别",
    "topic": "问题类别",
    "place_code": "问题发生地",
    "people_count": "涉及人数",
    "attachments": "附件",
    "attachments.file_name": "附件文件名",
    "attachments.size": "附件大小",
    "attachments.sha256": "附件SHA-256摘要",
    "attachments.content_type": "附件文件类型",
    "attachments.upload_token": "附件上传凭证",
    # At the counter (clerks and admin only)
    "received_at": "收到时间",
    "window": "接待窗口",
    "note": "登记备注",
    "body": "请求内容",
    # Officer sign-in (OAuth2 form) and the auditors' list of sign-in lock-outs (query parameters)
    "username": "用户名",
    "password": "密码",
    "query.since": "起始时间",
    "query.limit": "条数",
    # The auditors' list of officer views of personal data (query parameters)
    "query.petition_id": "信访事项编号",
    "query.user": "用户名",
    "query.until": "截止时间",
    "query.offset": "起始位置",
    # Lifecycle commands: each command labels its own fields (Field(title=...), shared/language/contracts/
    # lifecycle.py); these general words serve only where the command is not known (a key given twice).
    "organ_code": "机关代码",
    "joining_organ_codes": "配合办理机关代码",
    "basis": "依据",
    "report_due": "报告期限",
    "reasons": "理由",
    "reason": "理由",
    "where_to_go": "告知的有权机关或者途径",
    "suggested_organ_code": "建议的承办机关代码",
    "upheld": "异议是否成立",
    "procedure": "办理程序",
    "notes": "备注",
    "reason_code": "不予受理理由",
    "explanation": "说明",
    "earlier_petition_id": "此前信访事项编号",
    "new_facts": "新的事实和理由",
    "item": "法定程序项",
    "kind": "办理方式",
    "summary": "办理情况",
    "days": "延长天数",
    "approved_by": "批准人",
    "outcome": "处理结论",
    "opinion": "意见",
    "opinion_basis": "处理依据",
    "rating": "满意度评价",
    "comment": "评价意见",
    "return_visit_channel": "回访方式",
    # supervision (督查督办)
    "order_level": "督办方式", "trigger": "督办事由", "demand": "督办要求", "respond_by": "答复期限", "scope": "督办类型",
    "method": "督查方式", "answer": "办理情况报告", "accepted": "是否认可", "failing": "追责事由",
    "responsible": "责任单位或者责任人", "grounds": "事实和依据", "leader": "包案领导", "leader_title": "包案领导职务",
    "team": "工作专班成员", "plan": "化解方案", "due": "期限", "progress": "化解进展", "resolved": "是否已化解",
    "query.state": "督办状态", "query.resolved": "是否已化解", "query.kind": "预警类型", "query.by": "统计维度",
    "query.month": "报告月份",
    # The petitioner's second factor at the public lifecycle endpoints (docs/security.md)
    "id_number_tail": "身份证号码后六位",
    # Work lists (GET /api/v1/cases, query parameters) and the bureau's search (POST /api/v1/cases/search)
    "query.group": "状态分组",
    "query.status": "办理状态",
    "query.within_days": "到期天数",
    "query.organ": "机关代码",
    "query.topic": "问题类别",
    "query.town": "乡镇（街道）代码",
    "query.channel": "信访渠道",
    "query.category": "信访类别",
    "query.registered_from": "登记日期起",
    "query.registered_to": "登记日期止",
    "query.deadline_before": "办理期限早于",
    "query.sort": "排序方式",
    "query.cursor": "翻页游标",
    "by": "查找方式",
    "value": "查找内容",
}

ENUM_LABELS = {
    "channel": "online（网上）、letter（来信）、visit（来访）、phone（来电）、provincial_transfer（上级转送）",
    "category": "suggestion（建议意见）、report（检举控告）、appeal（申诉求决）",
    "rating": "satisfied（满意）、basically_satisfied（基本满意）、dissatisfied（不满意）",
    "return_visit_channel": "phone（电话回访）、visit（走访）、letter（信函）",
    # Work lists and the bureau's search
    "query.group": ("new（待分流）、awaiting_acceptance（待受理）、in_handling（办理中）、replied（已出具意见）、"
                    "in_review（复查复核中）、concluded（已办结）、open（未办结）、due_soon（即将到期）、overdue（已超期）"),
    "query.status": "见 /api/v1/reference/statuses",
    "query.topic": "见 /api/v1/reference/topics",
    "query.channel": "online（网上）、letter（来信）、visit（来访）、phone（来电）、provincial_transfer（上级转送）",
    "query.category": "suggestion（建议意见）、report（检举控告）、appeal（申诉求决）",
    "query.sort": "next_deadline（按办理期限）、registered_at（按登记时间先后）、-registered_at（按登记时间倒序）",
    "by": "query_code（查询码）、name（信访人姓名）、phone（电话号码）、id_number（身份证号码）",
}


def _field_path(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc if p != "body"]
    return ".".join(parts) if parts else "body"


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The models an annotation holds (through Optional, list, Annotated ...)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if typing.get_origin(annotation) is None and not isinstance(annotation, types.UnionType):
        return []
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def model_field(model: type[BaseModel] | None, path: str) -> FieldInfo | None:
    """The field of `model` a dotted error path ("petitioner.agent.phone", "joining_organ_codes.0") names."""
    found = None
    for part in (p for p in path.split(".") if not p.isdigit()):
        if model is None or (found := model.model_fields.get(part)) is None:
            return None
        model = next(iter(_models_in(found.annotation)), None)
    return found


def _label(path: str, model: type[BaseModel] | None = None) -> str:
    generic = ".".join(p for p in path.split(".") if not p.isdigit())
    indexes = [p for p in path.split(".") if p.isdigit()]
    field = model_field(model, path)
    if field is not None and field.title:
        return f"第{int(indexes[0]) + 1}个{field.title}" if indexes else field.title
    label = FIELD_LABELS.get(generic, path)
    listed = ("attachments.", "representatives.", "joint_signers.")
    return f"第{int(indexes[0]) + 1}个{label}" if indexes and generic.startswith(listed) else label


def choices(field: FieldInfo | None) -> str | None:
    """A field's values with their Chinese words (its `x-choices`), e.g. "support（支持）、explain（解释说明）"."""
    extra = field.json_schema_extra if field is not None and isinstance(field.json_schema_extra, dict) else {}
    labels = extra.get("x-choices")
    return "、".join(f"{value}（{text}）" for value, text in labels.items()) if isinstance(labels, dict) else None


# A length limit set on a field whose type runs a validator of its own (shared/language/contracts/text.py) is checked
# after it, and pydantic then reports it as a generic too_long/too_short: for text it is the string one, as the
# API has always said.
_STRING_LENGTH_CODES = {"too_long": "string_too_long", "too_short": "string_too_short"}


def _kind(error: Mapping[str, Any]) -> str:
    kind = str(error.get("type", "invalid"))
    if kind in _STRING_LENGTH_CODES and isinstance(error.get("input"), str):
        return _STRING_LENGTH_CODES[kind]
    return kind


def _message(error: Mapping[str, Any], path: str, label: str, model: type[BaseModel] | None = None) -> str:
    kind = _kind(error)
    ctx = error.get("ctx") or {}
    generic = ".".join(p for p in path.split(".") if not p.isdigit())
    if kind in ("missing",):
        return f"请填写{label}"
    if kind in ("string_too_short",) or (kind == "too_short" and ctx.get("min_length") == 1):
        return f"{label}不能为空"
    if kind == "string_too_long":
        return f"{label}不能超过{ctx.get('max_length')}个字"
    if kind == "too_long":
        return f"{label}不能超过{ctx.get('max_length')}项"
    if kind in ("enum", "literal_error"):
        allowed = choices(model_field(model, path)) or ENUM_LABELS.get(generic)
        return f"{label}取值无效，可选值：{allowed}" if allowed else f"{label}取值无效"
    if kind in ("uuid_parsing", "uuid_type", "uuid_version"):
        return f"{label}格式不正确，应为信访事项编号（如 1c637d78-3d97-5488-91e5-aabe96b0557f）"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"{label}应为整数"
    if kind == "greater_than_equal":
        return f"{label}不能小于{ctx.get('ge')}"
    if kind == "less_than_equal":
        return f"{label}不能大于{ctx.get('le')}"
    if kind == "string_pattern_mismatch" and generic == "attachments.sha256":
        return "附件SHA-256摘要应为64位十六进制字符"
    if kind == "value_error" and generic.endswith("email"):
        return "电子邮箱格式不正确"
    if kind == "extra_forbidden":
        return f"不支持的字段：{path}"
    if kind in ("string_type",):
        return f"{label}应为文字"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"{label}格式不正确"
    if kind == "list_type":
        return f"{label}应为列表"
    if kind in ("json_invalid", "json_type"):
        return "请求内容不是有效的JSON，请检查格式"
    # Text that may not be stored as typed (shared/language/contracts/text.py).
    if kind == "line_break":
        return f"{label}不能包含换行符，请在一行内填写"
    if kind == "control_character":
        return f"{label}包含不允许的控制字符（{ctx.get('character')}），请删除后重新填写"
    if kind == "bidi_control":
        return f"{label}包含不允许的文字方向控制字符（{ctx.get('character')}），请删除后重新填写"
    if kind in ("lone_surrogate", "string_unicode"):
        return f"{label}包含无效的字符编码，请重新填写"
    if kind == "invisible_only":
        return f"{label}不能只包含空白或者不可见字符"
    if kind == "duplicate_key":
        named = f"{label}（{path}）" if label != path else f"字段{path}"
        return f"{named}在请求内容中重复出现，同一字段只能填写一次"
    if kind.startswith("invalid_") or kind.endswith("_required"):  # our own messages are in Chinese already
        return str(error.get("msg"))
    return f"{label}格式不正确"


def explain(errors: Iterable[Mapping[str, Any]], model: type[BaseModel] | None = None) -> list[dict[str, str]]:
    """Pydantic (or FastAPI) error dicts → one entry per bad field, in a stable order; `model`, the model that
    was validated, gives each field its own label (its title)."""
    explained: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for error in errors:
        kind = _kind(error)
        # A syntax error is about the whole body; its location is a character offset, not a field.
        path = "body" if kind == "json_invalid" else _field_path(error.get("loc", ()))
        if (path, kind) in seen:
            continue
        seen.add((path, kind))
        label = _label(path, model)
        explained.append({"field": path, "label": label, "code": kind,
                          "message": _message(error, path, label, model)})
    return explained


def validation_problem(errors: Iterable[Mapping[str, Any]], model: type[BaseModel] | None = None) -> dict[str, Any]:
    return {
        "error": "validation_failed",
        "message": "提交的信息有误，请按提示修改后重新提交。",
        "errors": explain(errors, model),
    }
