"""Notice templates (Chinese, one file per kind of notice, filled with `string.Template`)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from string import Template

from shared.language.contracts.text import one_line

TITLES = {"registration_receipt": "信访事项登记回执"}


@cache
def _template(kind: str) -> Template:
    return Template(resources.files("services.notification").joinpath("templates", f"{kind}.txt").read_text("utf-8"))


def render(kind: str, **values: str) -> tuple[str, str]:
    """(title, body) of a notice of `kind`; a missing value is an error, never a blank in a legal notice.

    Every value fills a place within a line (a name, a title, a date), so line breaks and other control or bidi
    characters in it become spaces: whatever a value holds (validation refuses them, but a notice must not rely
    on it), it cannot add lines to an official notice (issue 14)."""
    return TITLES[kind], _template(kind).substitute({name: one_line(str(value)) for name, value in values.items()})
