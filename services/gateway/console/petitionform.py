"""The petition form: online (the public page) and at the counter (the clerk's registration of letters, visits and
calls). Its fields are the registration command's (shared/language/contracts/registration.py RegisterPetition),
posted to the same function as POST /api/v1/petitions and validated by the same model.

The counter's form also shows every further scalar field the command and its petitioner declare (e.g. the date a
letter arrived, the receiving window, a clerk's note, a fixed-line number), labelled by the API's FIELD_LABELS: a
field added to the command appears at the counter without a change here.

Both forms lay out the command's parties and lists too (PetitionForm): the agent (`petitioner.agent`, Agent), the
representatives of a group petition (up to MAX_REPRESENTATIVES rows) and the joint signers of a joint letter
(JOINT_SIGNER_ROWS rows; Person), the anonymous report (`anonymous`) with the accused party (`accused`,
AccusedParty), and the attachments (the uploads' answers). Each input is named by its path in the request body
(`representatives.1.phone`), so the API's 422 for that path is shown beside it.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from services.gateway.console import labels
from services.gateway.console.forms import FormField, given, is_free_text, limit, metadata_of, unwrap
from services.gateway.console.reference import Reference
from shared.language.contracts.registration import (
    MAX_REPRESENTATIVES,
    AccusedParty,
    Agent,
    Channel,
    Person,
    Petitioner,
    RegisterPetition,
)

COUNTER_CHANNELS = [(c.value, labels.CHANNELS[c.value]) for c in Channel if c is not Channel.ONLINE]
# Fields the forms lay out themselves (the parties and lists in PetitionForm), not among the counter's further ones.
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


def petition_body(form: Any, fields: list[FormField], channel: str,
                  attachments: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The posted form as the JSON body of POST /api/v1/petitions: what was not filled in left out (forms.given: a
    required field so is asked for, "请填写信访类别"); the rows of a list filled in, in order (an empty row is not
    sent); an anonymous report without its petitioner (the box decides, whatever was typed there), any other with
    it, so that each of its fields left empty is asked for by name; the uploaded `attachments` as the upload
    answered them."""
    body: dict[str, Any] = {"channel": channel}
    for field in fields:
        if field.widget == "checkbox":
            if checked(form.get(field.name)):
                body[field.name] = True
            continue
        value = str(form.get(field.name, "")).strip()
        if not given(value):
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
    for kind in LISTS:  # {"0": {...}, "3": {...}}: the rows given, as the command's list
        if isinstance(body.get(kind), dict):
            body[kind] = [row for _, row in sorted(body[kind].items(), key=lambda item: int(item[0]))]
    if body.get(ANONYMOUS):
        body.pop("petitioner", None)
    elif any(field.name.startswith("petitioner.") for field in fields):
        body.setdefault("petitioner", {})
    if attachments:
        body["attachments"] = attachments
    return body


def field_errors(problem: dict[str, Any]) -> dict[str, str]:
    """The API's 422 as {field: Chinese message}; what is about no one field goes under ''."""
    errors: dict[str, str] = {}
    for error in problem.get("errors") or []:
        field = str(error.get("field", ""))
        if field.startswith(f"{ATTACHMENTS}."):  # 第2个附件…: beside the one file input, every one of them
            message = error.get("message", "")
            errors[ATTACHMENTS] = "；".join(m for m in (errors.get(ATTACHMENTS), message) if m)
            continue
        errors.setdefault(field if field != "body" else "", error.get("message", ""))
    if not errors:
        errors[""] = problem.get("message", "提交的信息有误")
    return errors


# --- the parties and lists: agent, representatives, joint signers, the anonymous report, attachments ---------------
LISTS = ("representatives", "joint_signers")
JOINT_SIGNER_ROWS = 5  # shown; a letter with more signers: the full list goes with it as an attachment
ANONYMOUS = "anonymous"
ATTACHMENTS = "attachments"  # an upload kept from an earlier post of the form: the API's answer, as JSON
FILES = "files"  # the file input (several files at once)
# The sections a page folds away (<details>) until they hold something, by the body paths they lay out.
SECTIONS = {"agent": ("petitioner.agent",), "report": (ANONYMOUS, "accused"), "representatives": ("representatives",),
            "joint_signers": ("joint_signers",)}
_SIZES = {"id_number": 18, "phone": 20}  # a field whose type checks its own length (an ID number, a mobile)


def checked(value: Any) -> bool:
    return str(value or "").strip().lower() in ("true", "on", "1")


def _party(prefix: str, model: type[BaseModel], label: Callable[[str], str]) -> list[FormField]:
    """The inputs of one party (the command's model, field by field), each optional on the form: whether the party
    is needed, and which of its fields, is the API's to say (a half-filled agent is told what it lacks)."""
    fields = []
    for name, info in model.model_fields.items():
        # The first length that is set (a type's StringConstraints may carry none before the field's MaxLen).
        most = next((m.max_length for m in metadata_of(info) if getattr(m, "max_length", None) is not None), None)
        fields.append(FormField(f"{prefix}.{name}", label(name), "tel" if name == "phone" else "text", False,
                                max_length=most or _SIZES.get(name)))
    return fields


def agent_fields() -> list[FormField]:
    """代理人 (`petitioner.agent`): 代理人姓名, 代理人身份证号码, 代理人手机号码, 代理人与信访人关系."""
    return _party("petitioner.agent", Agent, lambda name: labels.field_label(f"petitioner.agent.{name}"))


def accused_fields() -> list[FormField]:
    """被检举控告人 (`accused`): the person or unit reported, their unit and position."""
    return _party("accused", AccusedParty, lambda name: labels.field_label(f"accused.{name}"))


def person_rows(kind: str, rows: int) -> list[list[FormField]]:
    """`rows` rows of representatives or joint signers (Person), labelled as the API names them in its errors:
    第2个代表姓名, 第2个代表身份证号码 ..."""
    return [_party(f"{kind}.{row}", Person, lambda name, n=row: f"第{n + 1}个{labels.field_label(f'{kind}.{name}')}")
            for row in range(rows)]


def anonymous_field() -> FormField:
    return FormField(ANONYMOUS, "匿名检举控告", "checkbox", False)


@dataclass(frozen=True)
class PetitionForm:
    """The petition form's inputs, grouped as the page lays them out."""

    petitioner: list[FormField]
    agent: list[FormField]
    matter: list[FormField]
    anonymous: FormField
    accused: list[FormField]
    representatives: list[list[FormField]]
    joint_signers: list[list[FormField]]

    @property
    def fields(self) -> list[FormField]:
        return [*self.petitioner, *self.agent, *self.matter, self.anonymous, *self.accused,
                *itertools.chain(*self.representatives), *itertools.chain(*self.joint_signers)]

    def values(self, form: Any) -> dict[str, str]:
        """What was typed, to show again: the rows of each list filled in moved up in order, as they are sent (so
        that the API's 第1个代表… is the first row shown)."""
        values = {f.name: str(form.get(f.name) or "") for f in self.fields}
        for rows in (self.representatives, self.joint_signers):
            filled = [[values[f.name] for f in row] for row in rows if any(values[f.name].strip() for f in row)]
            filled += [[""] * len(row) for row in rows[len(filled):]]
            values.update({f.name: value for row, typed in zip(rows, filled, strict=True)
                           for f, value in zip(row, typed, strict=True)})
        return values

    def body(self, form: Any, channel: str, attachments: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        return petition_body(form, self.fields, channel, attachments)

    def errors(self, problem: dict[str, Any], values: dict[str, str]) -> dict[str, str]:
        """The API's refusal by field (field_errors); a field this form requires that was left empty is asked for by
        its label, "请填写手机号码": the API's words may point to an input this form does not have (online, a fixed
        line instead of the mobile)."""
        errors = field_errors(problem)
        for field in self.shown(values).fields:
            if field.required and field.name in errors and not given(values.get(field.name)):
                errors[field.name] = f"请填写{field.label}"
        return errors

    def shown(self, values: dict[str, str]) -> PetitionForm:
        """The form as it is shown again: with 匿名 ticked, the petitioner's fields are not required."""
        if not checked(values.get(ANONYMOUS)):
            return self
        return dataclasses.replace(self, petitioner=[dataclasses.replace(f, required=False) for f in self.petitioner])

    @staticmethod
    def opened(values: dict[str, str], errors: dict[str, str]) -> set[str]:
        """The folded sections to show open: those holding something typed or an error (or the report's, for a
        检举控告 item)."""
        def within(name: str, prefixes: tuple[str, ...]) -> bool:
            return any(name == p or name.startswith(f"{p}.") for p in prefixes)

        given = [n for n, v in values.items() if v.strip()] + list(errors)
        opened = {s for s, prefixes in SECTIONS.items() if any(within(n, prefixes) for n in given)}
        return opened | ({"report"} if values.get("category") == "report" else set())


def petition_form(reference: Reference, *, online: bool, counter: list[FormField] | None = None) -> PetitionForm:
    """The online form (online=True) or the counter's, with its further fields (counter_fields()) where they belong:
    the petitioner's (a fixed line) with the petitioner, the rest with the matter."""
    further = counter or []
    return PetitionForm(
        petitioner=petitioner_fields(online) + [f for f in further if f.name.startswith("petitioner.")],
        agent=agent_fields(),
        matter=matter_fields(reference) + [f for f in further if not f.name.startswith("petitioner.")],
        anonymous=anonymous_field(), accused=accused_fields(),
        representatives=person_rows("representatives", MAX_REPRESENTATIVES),
        joint_signers=person_rows("joint_signers", JOINT_SIGNER_ROWS))


def kept_attachments(form: Any) -> list[dict[str, Any]]:
    """The uploads an earlier post of the form kept (boxes still ticked), each the upload's answer as it was given.
    Nothing here is believed: the API checks each entry's upload token against its file (services/gateway/
    attachments.py), so an entry altered in the page is refused by name, never registered."""
    kept = []
    for text in form.getlist(ATTACHMENTS) if hasattr(form, "getlist") else []:
        try:
            entry = json.loads(str(text))
        except ValueError:
            continue
        if isinstance(entry, dict):
            kept.append(entry)
    return kept
