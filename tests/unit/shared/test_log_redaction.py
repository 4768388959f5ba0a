"""The log redaction filter (shared/runtime/observability.py): the second line of defence that keeps e-mail addresses,
resident ID numbers, mobile numbers and query codes out of every log line, whatever a log call passed."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from shared.language.contracts import querycode
from shared.runtime.observability import RedactPersonalData, install_redaction, redact

CODE = "7ZK3-Q9M2-C4VX-8B1N"


@pytest.mark.parametrize(("text", "expected"), [
    (f"GET /internal/v1/query-codes/{CODE} HTTP/1.1", "GET /internal/v1/query-codes/[query_code] HTTP/1.1"),
    (f"/api/v1/status/{CODE.lower()}", "/api/v1/status/[query_code]"),
    ("/api/v1/status/7ZK3Q9M2C4VX8B1N", "/api/v1/status/[query_code]"),
    ("查询码ABCD-EFGH-JKMN-PQRS已发送", "查询码[query_code]已发送"),
    ("电话13800138000，身份证33010619900101123X", "电话[phone]，身份证[id_number]"),
    ("old id 330106900101123", "old id [id_number]"),
    ("+86 138 0013 8000 / 138-0013-8000", "[phone] / [phone]"),
    ("{'marker-xyz@example.cn': (550, b'5.1.1 <marker-xyz@example.cn> rejected')}",
     "{'[email]': (550, b'5.1.1 <[email]> rejected')}"),
    ("to 王秀兰@example.cn", "to [email]"),
])
def test_personal_data_is_replaced_by_what_it_was(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize("text", [
    "notice 0b4d1f1e-8c55-4d9a-9f6e-2f5a3c1b7e10: email delivery refused for good",
    "2024-05-01 12:00:00,123 batch of 20 in 0.0123s",
    "已发送至w***@example.cn",  # a masked address is what records and logs may show
    "group commit of 12 refused (IntegrityError); saving one by one",
    "sha256 " + "ab" * 32,
    "responsibilities of the intake relay",  # 16 letters, no digit: not a query code typed without dashes
    "place 330106001, organ 330106001-ZF, port 8101",
])
def test_ordinary_log_text_is_left_alone(text: str) -> None:
    assert redact(text) == text


def test_every_issued_query_code_is_redacted() -> None:
    for _ in range(500):
        code = querycode.issue()
        assert redact(f"status {code}") == "status [query_code]"
        compact = code.replace("-", "")
        # Without its dashes, only with a digit (all but 0.25% of codes): else English words would go too.
        assert redact(compact) == ("[query_code]" if any(c.isdigit() for c in compact) else compact)


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(RedactPersonalData())
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    yield logger, stream
    logger.removeHandler(handler)


def test_arguments_of_any_type_are_redacted_for_percent_s_r_and_d(captured) -> None:
    logger, stream = captured
    logger.warning("notice %s to %s: %r", "n1", "marker-xyz@example.cn", {"phone": 13800138000})
    logger.warning("phone %d", 13800138000)
    logger.warning("code in the format string %s", CODE)
    assert stream.getvalue().splitlines() == [
        "notice n1 to [email]: {'phone': [phone]}",
        "phone [phone]",
        "code in the format string [query_code]",
    ]


def test_a_record_with_nothing_to_redact_keeps_its_arguments(captured) -> None:
    logger, _stream = captured
    records: list[logging.LogRecord] = []
    logger.addFilter(lambda record: records.append(record) or True)
    logger.info("petition %s routed to %s", "0b4d1f1e", "330106-JTJ")
    logger.handlers[0].filter(records[0])
    assert records[0].msg == "petition %s routed to %s" and records[0].args == ("0b4d1f1e", "330106-JTJ")


def test_a_formatter_that_reads_the_arguments_still_works(captured) -> None:
    """uvicorn's access formatter unpacks record.args: redacted arguments keep their places."""
    logger, _stream = captured
    records: list[logging.LogRecord] = []
    logger.addFilter(lambda record: records.append(record) or True)
    logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", f"/api/v1/status/{CODE}", "1.1", 200)
    logger.handlers[0].filter(records[0])
    assert records[0].args == ("127.0.0.1:5000", "GET", "/api/v1/status/[query_code]", "1.1", 200)


def test_tracebacks_and_stacks_are_redacted(captured) -> None:
    logger, stream = captured
    try:
        raise ValueError("refused <marker-xyz@example.cn> for 33010619900101123X")
    except ValueError:
        logger.exception("delivery failed")
    logger.warning("here", stack_info=True)
    text = stream.getvalue()
    assert "ValueError: refused <[email]> for [id_number]" in text
    assert "marker-xyz" not in text and "Stack (most recent call last)" in text


def test_a_malformed_record_is_left_to_the_handler(captured) -> None:
    logger, _stream = captured
    record = logger.makeRecord(logger.name, logging.INFO, __file__, 1, "two %s %s", ("only one",), None)
    assert RedactPersonalData().filter(record) is True
    assert record.args == ("only one",)


def test_install_redaction_puts_the_filter_on_every_handler_once() -> None:
    handler = logging.StreamHandler(io.StringIO())
    logger = logging.getLogger("tests.redaction.uvicorn_like")
    logger.addHandler(handler)
    try:
        install_redaction()
        install_redaction()
        assert sum(isinstance(f, RedactPersonalData) for f in handler.filters) == 1
    finally:
        logger.removeHandler(handler)
        for each in [f for f in logging.getLogger().handlers]:
            each.filters = [f for f in each.filters if not isinstance(f, RedactPersonalData)]
