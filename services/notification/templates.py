"""Notice templates: one Jinja2 file per kind of notice (templates/<kind>.txt.j2), in Chinese, rendered with the
values its kind declares (shared/language/contracts/notices.py NOTICES).

A missing value is an error, never a blank in a legal notice: a value the kind declares and the caller left out (or
gave empty, unless it is optional) is refused before rendering, and the environment's StrictUndefined refuses any
name a template uses that the kind does not declare. Whatever a value holds (validation refuses control and bidi
characters, but a notice must not rely on it), it cannot change the notice's layout, nor run as template code:

- a `line` value fills a place within a line (a name, a title, a date): line breaks and other control or bidi
  characters become spaces (`one_line`, issue 14);
- a `text` value (an opinion, reasons, the request) keeps its line breaks, loses every other control or bidi
  character (`body_lines`), and each of its lines is indented by two ideographic spaces (the Chinese paragraph
  indent), so no value can make a line that looks like the notice's own — its addressee, a heading, its issuer or
  its date, which the templates write flush left;
- values are data to Jinja2, never source: `{{ }}` in a value is printed as it stands. The templates are plain
  text, so nothing is HTML-escaped here; a channel that renders HTML or PDF escapes for its own format. The
  environment is sandboxed, in case a county edits the template files.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from jinja2 import StrictUndefined, Template
from jinja2.sandbox import ImmutableSandboxedEnvironment

from shared.language.contracts.notices import NOTICES, NoticeKind, NoticeSpec, Value
from shared.language.contracts.text import blank, body_lines, one_line

INDENT = "\u3000\u3000"  # two ideographic spaces: the paragraph indent of a Chinese document
TITLES = {kind.value: spec.title for kind, spec in NOTICES.items()}

# Plain-text notices: HTML escaping would corrupt them (the values are never markup here).
_ENVIRONMENT = ImmutableSandboxedEnvironment(  # noqa: S701
    autoescape=False, undefined=StrictUndefined, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)


class UnknownNoticeKind(KeyError):
    """No kind of notice has this name."""


class MissingValue(KeyError):
    """A value the kind's template needs was not given, or given empty (its args: the value's name)."""


@dataclass(frozen=True)
class TemplateIdentity:
    """Which template, in which version, produced a notice: the kind, the version its declaration gives the wording,
    and the first 12 hex digits of the template file's SHA-256 (which changes with any edit of the file)."""

    kind: str
    version: int
    digest: str

    def __str__(self) -> str:
        return f"{self.kind}@v{self.version}+sha256:{self.digest}"


@dataclass(frozen=True)
class Rendered:
    title: str
    body: str
    template: TemplateIdentity


@dataclass(frozen=True)
class _Loaded:
    template: Template
    identity: TemplateIdentity


def template_file(kind: str) -> Any:
    """The template file of `kind` (a Traversable under services/notification/templates)."""
    return resources.files("services.notification").joinpath("templates", f"{kind}.txt.j2")


@cache
def _load(kind: NoticeKind) -> _Loaded:
    source = template_file(kind.value).read_bytes()
    identity = TemplateIdentity(kind.value, NOTICES[kind].version, hashlib.sha256(source).hexdigest()[:12])
    return _Loaded(_ENVIRONMENT.from_string(source.decode("utf-8")), identity)


def _spec(kind: str) -> NoticeSpec:
    try:
        return NOTICES[NoticeKind(kind)]
    except ValueError:
        raise UnknownNoticeKind(kind) from None


def _prepared(spec: NoticeSpec, values: Mapping[str, Any]) -> dict[str, str]:
    unexpected = sorted(set(values) - set(spec.values))
    if unexpected:
        raise TypeError(f"{spec.kind}: no such value: {', '.join(unexpected)}")
    for name in spec.values:
        if name not in values:
            raise MissingValue(name)
    prepared = {name: _cleaned(value, str(values[name])) for name, value in spec.values.items()}
    for name, value in spec.values.items():
        if value.form == "choice" and not blank(prepared[name]) and prepared[name] not in value.choices:
            raise ValueError(f"{spec.kind}: {name} must be one of {', '.join(value.choices)}, not {prepared[name]!r}")
    for name, value in spec.values.items():
        if not blank(prepared[name]):
            continue
        if not (value.optional or (value.unless is not None and prepared[value.unless[0]] == value.unless[1])):
            raise MissingValue(name)
        prepared[name] = ""  # the template leaves its sentence out (or writes 信访人 for a missing name)
    return prepared


def _cleaned(value: Value, text: str) -> str:
    if value.form == "text":
        return "\n".join(INDENT + line for line in body_lines(text))
    return one_line(text)


def render(kind: str, **values: Any) -> Rendered:
    """The title and body of a notice of `kind` filled with `values` (exactly the values its kind declares), and
    the identity of the template that produced it."""
    spec = _spec(kind)
    prepared = _prepared(spec, values)
    loaded = _load(spec.kind)
    return Rendered(spec.title, loaded.template.render(prepared), loaded.identity)


def template_identity(kind: str) -> TemplateIdentity:
    return _load(_spec(kind).kind).identity
