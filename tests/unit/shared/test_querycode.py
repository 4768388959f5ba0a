"""Query codes (查询码): what is issued, and how forgiving reading one back is."""

from __future__ import annotations

import re

import pytest

from shared.language.contracts import querycode

CODE_PATTERN = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$")


def test_an_issued_code_is_four_groups_of_four_crockford_symbols() -> None:
    for _ in range(200):
        code = querycode.issue()
        assert CODE_PATTERN.fullmatch(code), code


def test_issued_codes_are_distinct() -> None:
    codes = [querycode.issue() for _ in range(2_000)]

    assert len(set(codes)) == len(codes)


def test_issued_codes_use_more_than_a_handful_of_symbols() -> None:
    symbols = set("".join(querycode.issue() for _ in range(200)).replace("-", ""))

    assert symbols == set(querycode.ALPHABET)


def test_an_issued_code_is_already_in_normal_form() -> None:
    code = querycode.issue()

    assert querycode.normalize(code) == code


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        pytest.param("ABCD-EFGH-JKMN-PQRS", "ABCD-EFGH-JKMN-PQRS", id="canonical form is kept"),
        pytest.param("abcd-efgh-jkmn-pqrs", "ABCD-EFGH-JKMN-PQRS", id="lower case"),
        pytest.param("ABCD EFGH JKMN PQRS", "ABCD-EFGH-JKMN-PQRS", id="spaces instead of hyphens"),
        pytest.param("  abcd efgh  jkmn pqrs ", "ABCD-EFGH-JKMN-PQRS", id="extra spaces"),
        pytest.param("ABCDEFGHJKMNPQRS", "ABCD-EFGH-JKMN-PQRS", id="no hyphens"),
        pytest.param("ABCD\tEFGH\tJKMN\tPQRS", "ABCD-EFGH-JKMN-PQRS", id="tabs"),
        pytest.param("AB-CDEF-GHJK-MNPQRS", "ABCD-EFGH-JKMN-PQRS", id="hyphens in the wrong places"),
        pytest.param("IIII-LLLL-iiii-llll", "1111-1111-1111-1111", id="I and L read as one"),
        pytest.param("OOOO-oooo-0000-O0o0", "0000-0000-0000-0000", id="O read as zero"),
    ],
)
def test_normalize_accepts_what_a_person_may_type(typed: str, canonical: str) -> None:
    assert querycode.normalize(typed) == canonical


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param("", id="empty"),
        pytest.param("ABCD-EFGH-JKMN-PQR", id="15 symbols"),
        pytest.param("ABCD-EFGH-JKMN-PQRST", id="17 symbols"),
        pytest.param("ABCD-EFGH-JKMN-PQRU", id="U is not in the alphabet"),
        pytest.param("ABCD.EFGH.JKMN.PQRS", id="dots as separators"),
        pytest.param("ABCD-EFGH-JKMN-PQR!", id="punctuation"),
        pytest.param("ABCD_EFGH_JKMN_PQRS", id="underscores"),
        pytest.param("ABCD-EFGH-JKMN-PQR查", id="a Chinese character"),
    ],
)
def test_normalize_rejects_what_cannot_be_a_code(typed: str) -> None:
    assert querycode.normalize(typed) is None
