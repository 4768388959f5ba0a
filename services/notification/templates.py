"""Notice templates (Chinese, one file per kind of notice, filled with `string.Template`)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from string import Template

TITLES = {"registration_receipt": "信访事项登记回执"}


@cache
def _template(kind: str) -> Template:
    return Template(resources.files("services.notification").joinpath("templates", f"{kind}.txt").read_text("utf-8"))


def render(kind: str, **values: str) -> tuple[str, str]:
    """(title, body) of a notice of `kind`; a missing value is an error, never a blank in a legal notice."""
    return TITLES[kind], _template(kind).substitute(**values)

