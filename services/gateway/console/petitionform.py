"""The petition form: online (the public page) and at the counter (the clerk's registration of letters, visits and
calls). Its fields are the registration command's (shared/language/contracts/registration.py RegisterPetition),
posted to the same function as POST /api/v1/petitions and validated by the same model.

The counter's form also shows every further scalar field the command and its petitioner declare (e.g. the date a
letter arrived, the receiving window, a clerk's note, a fixed-line number), labelled by the API's FIELD_LABELS: a
field added to the command appears at the counter without a change here.
"""

from __future__ import annotations

import types
import typing
from datetime import date, datetime
from typing import Any

from services.gateway.console import labels
from services.gateway.console.forms import FormField, is_free_text, limit, metadata_of, unwrap
from services.gateway.console.reference import Reference
from shared.language.contracts.registration import Channel, Petitioner, RegisterPetition

COUNTER_CHANNELS = [(c.value, labels.CHANNELS[c.value]) for c in Channel if c is not Channel.ONLINE]
# Fields the forms lay out themselves, and the ones that are lists or parties of their own (not on these forms yet).
LAID_OUT = {"channel", "category", "anonymous", "petitioner", "accused", "title", "request", "facts_and_reasons",
            "topic", "place_code", "people_count", "joint_signers", "representatives", "attachments"}
PETITIONER_LAID_OUT = {"name", "id_number", "phone", "address", "email", "agent"}


def _text(name: str, required: bool = True, widget: str = "text", max_length: int | None = None) -> FormField:
    return FormField(name=name, label=labels.PUBLIC_LABELS[name], widget=widget, required=required,
                     max_length=max_length)


def petitioner_fields(online: bool = True) -> list[FormField]:
    """Online, the mobile number is asked for (notices reach the petitioner's account by it); at the counter a
    petitioner without one may give a fixed line instead, when the command declares one (counter_fields)."""
    mobile_required = online or Petitioner.model_fields["phone"].is_required()
    return [_text("petitioner.name", max_length=50), _text("petitioner.id_number", max_length=18),
            FormField("petitioner.phone", labels.PUBLIC_LABELS["petitioner.phone"], "tel", mobile_required,
                      max_length=20),
            _text("petitioner.address", max_length=200),
            FormField("petitioner.email", labels.PUBLIC_LABELS["petitioner.email"], "email", False, max_length=254)]


def matter_fields(reference: Reference) -> list[FormField]:
    return [
        _text("title", max_length=100),
        _text("request", widget="textarea", max_length=2_000),
        _text("facts_and_reasons", widget="textarea", max_length=20_000),
        FormField("category", labels.PUBLIC_LABELS["category"], "select", True, reference.categories()),
        FormField("topic", labels.PUBLIC_LABELS["topic"], "select", False, [("", "（不确定）"), *reference.topics()]),
        FormField("place_code", labels.PUBLIC_LABELS["place_code"], "select", True, reference.places()),
        FormField("people_count", labels.PUBLIC_LABELS["people_count"], "number", True, default="1", minimum=1,
                  maximum=100_000),
    ]


def _extra(prefix: str, model: Any, laid_out: set[str]) -> list[FormField]:
    """Scalar fields of `model` the form does not lay out itself (see the module's docstring)."""
    fields = []
    for name, info in model.model_fields.items():
        if name in laid_out:
            continue
        annotation, _ = unwrap(info.annotation)
        if typing.get_origin(annotation) is list or isinstance(annotation, type) and hasattr(annotation, "model_fields"):
            continue
        full = f"{prefix}{name}"
        common = {"name": full, "label": info.title or labels.field_label(full), "required": info.is_required()}
        kinds = set(typing.get_args(annotation)) if typing.get_origin(annotation) in (typing.Union, types.UnionType) \
            else {annotation}
        if kinds & {date} or annotation is date:  # a day (a letter's arrival); deadlines count days
            fields.append(FormField(widget="date", **common))
        elif annotation is datetime:
            fields.append(FormField(widget="datetime-local", **common))
            fields.append(FormField(widget="date", **common))
        elif annotation is int:
            fields.append(FormField(widget="number", **common))
        elif typing.get_origin(annotation) is typing.Literal:
            fields.append(FormField(widget="select", options=[("", "（未填写）")] * (not info.is_required()) + [
                (str(v), str(v)) for v in typing.get_args(annotation)], **common))
        elif annotation is not bool:
            metadata = metadata_of(info)
            widget = "textarea" if is_free_text(metadata) else "text"
            fields.append(FormField(widget=widget, max_length=limit(metadata, "max_length"), **common))
    return fields


def counter_fields() -> list[FormField]:
    """The counter's further fields as the command declares them: today the fixed line (`petitioner.landline`), the
    day a letter arrived or a visit took place (`received_at`), the window and the clerk's note."""
    return _extra("petitioner.", Petitioner, PETITIONER_LAID_OUT) + _extra("", RegisterPetition, LAID_OUT)


def petition_body(form: Any, fields: list[FormField], channel: str) -> dict[str, Any]:
    """The posted form as the JSON body of POST /api/v1/petitions (empty optional fields left out)."""
    body: dict[str, Any] = {"channel": channel}
    for field in fields:
        value = str(form.get(field.name, "")).strip()
        if not value and not field.required:
            continue
        if field.widget == "number" and value.isdigit():
            parsed: Any = int(value)
        elif field.widget == "datetime-local" and value:
            parsed = f"{value}:00+08:00" if len(value) == 16 else value  # as read on a clock in China
        else:
            parsed = value
        target = body
        *parents, leaf = field.name.split(".")
        for part in parents:
            target = target.setdefault(part, {})
        target[leaf] = parsed
    return body


def field_errors(problem: dict[str, Any]) -> dict[str, str]:
    """The API's 422 as {field: Chinese message}; what is about no one field goes under ''."""
    errors: dict[str, str] = {}
    for error in problem.get("errors") or []:
        field = str(error.get("field", ""))
        errors.setdefault(field if field != "body" else "", error.get("message", ""))
    if not errors:
        errors[""] = problem.get("message", "提交的信息有误")
    return errors
