"""Text that people type, as every request model takes it: `Line` for one-line fields (names, titles, addresses,
codes) and `FreeText` for the long free-text fields (the request, the facts and reasons, an opinion, reasons).

Both refuse what has no business in a petition and is a known way to attack what the text is later put into:
  - C0 and C1 control characters (NUL, ESC, NEL, ...): a line break in a name or a title ended up as extra
    e-mail headers and lines of an official receipt (issue 14). `FreeText` alone keeps line breaks (any of
    CR LF, CR, U+2028, U+2029 becomes LF) and tabs;
  - Unicode bidi overrides, embeddings, isolates and marks (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F,
    U+061C), which make a text read differently from what it says;
  - lone surrogates (possible in JSON as "\\ud800"), which no store or mail can encode (pydantic's own str check
    refuses them first, as string_unicode; the search here covers `unsafe_character` and `one_line`);
  - a value made only of invisible characters (zero-width space and joiners, word joiner, BOM, fillers) and
    whitespace, which would look blank to an officer and slip past "must not be empty".
Surrounding whitespace and invisible characters are stripped, and the text is NFC-normalised, so that the same
words are stored (and compared for repeats) the same way however the client composed them.

A refusal is a PydanticCustomError whose type shared/language/contracts/errors.py turns into a Chinese message naming the
field. Lengths are the models' to set, e.g. `Annotated[Line, Field(min_length=1, max_length=50)]`.
Cheap on purpose (registration is the hot path): one precompiled regex search per value, and NFC's quick check.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator, StringConstraints
from pydantic_core import PydanticCustomError

_BIDI = r"\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_SURROGATES = r"\ud800-\udfff"
# Everything a one-line value may not contain: C0 (line breaks and tabs included), DEL, C1, the Unicode line and
# paragraph separators, bidi controls and lone surrogates.
_NOT_IN_LINE = re.compile(rf"[\x00-\x1f\x7f-\x9f\u2028\u2029{_BIDI}{_SURROGATES}]")
# The same for free text, less tab and LF (other line breaks are made LF before the search).
_NOT_IN_FREE_TEXT = re.compile(rf"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}{_SURROGATES}]")
_LINE_ENDINGS = re.compile("\r\n?|[\u2028\u2029]")

LINE_BREAKS = frozenset("\n\r\x0b\x0c\x85\u2028\u2029")
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Characters that show nothing: a value made only of these (and whitespace) is refused, and they are stripped
# from both ends. Inside a value they may mean something (ZWJ joins emoji, ZWNJ shapes some scripts).
INVISIBLE = ("\u00ad\u034f\u115f\u1160\u180e\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\u3164\ufeff"
             "\uffa0")
# Every character str.isspace() accepts, plus the invisible ones: what is stripped from both ends.
_BLANK = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
          "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000" + INVISIBLE)


def _refusal(char: str, *, multiline: bool = False) -> PydanticCustomError:
    point = f"U+{ord(char):04X}"
    if char in LINE_BREAKS and not multiline:  # free text takes LF: another line break there is a control
        return PydanticCustomError("line_break", "line breaks are not allowed here ({character})",
                                   {"character": point})
    if char in BIDI_CONTROLS:
        return PydanticCustomError("bidi_control", "Unicode bidi control characters are not allowed ({character})",
                                   {"character": point})
    if "\ud800" <= char <= "\udfff":
        return PydanticCustomError("lone_surrogate", "a lone UTF-16 surrogate is not a character ({character})",
                                   {"character": point})
    return PydanticCustomError("control_character", "control characters are not allowed ({character})",
                               {"character": point})


def _finish(value: str) -> str:
    stripped = value.strip(_BLANK)
    if value and not stripped:
        raise PydanticCustomError("invisible_only", "the value is made only of invisible characters")
    return unicodedata.normalize("NFC", stripped)


def single_line(value: str) -> str:
    """A one-line value, checked, stripped and NFC-normalised (the validator behind `Line`)."""
    bad = _NOT_IN_LINE.search(value)
    if bad:
        raise _refusal(bad.group())
    return _finish(value)


def free_text(value: str) -> str:
    """A multi-line value: line breaks made LF, then checked, stripped and NFC-normalised (behind `FreeText`)."""
    if "\r" in value or "\u2028" in value or "\u2029" in value:
        value = _LINE_ENDINGS.sub("\n", value)
    bad = _NOT_IN_FREE_TEXT.search(value)
    if bad:
        raise _refusal(bad.group(), multiline=True)
    return _finish(value)


def unsafe_character(value: str) -> str | None:
    """The first character that may not stand in a one-line value (e.g. an e-mail header), or None."""
    bad = _NOT_IN_LINE.search(value)
    return bad.group() if bad else None


def one_line(value: str) -> str:
    """`value` with every character a one-line value may not contain replaced by a space: for putting text that
    was validated elsewhere (or long ago) into a line of a notice, whatever it holds."""
    return _NOT_IN_LINE.sub(" ", value)


# Line breaks in text put into the body of a notice: CR LF, CR, LF, VT, FF, NEL and the Unicode separators.
_BODY_LINE_BREAKS = re.compile("\r\n|[\n\r\x0b\x0c\x85\u2028\u2029]")


def body_lines(value: str) -> list[str]:
    """The lines of a multi-line text (an opinion, reasons) for the body of a notice, whatever it holds: every line
    break ends a line, every other character a one-line value may not contain (tabs, control and bidi characters)
    becomes a space, each line is stripped of blank and invisible characters at its ends, and blank lines are
    dropped. The notice decides how the lines are laid out (services/notification/templates.py indents them)."""
    lines = (one_line(line).strip(_BLANK) for line in _BODY_LINE_BREAKS.split(value))
    return [line for line in lines if line]


def blank(value: str) -> bool:
    """Whether `value` is empty or shows nothing (only whitespace and invisible characters)."""
    return not value.strip(_BLANK)


Line = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(single_line)]
FreeText = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(free_text)]
