"""Logging and the Prometheus endpoint of every process.

Metric names follow Prometheus conventions: prefix `xinfang_`, base units, `_total` for counters; labels never
carry petition ids or personal data.

Logs carry no personal data (docs/operations.md): log lines name petitions, notices and cases by id, and errors
by class. `RedactPersonalData` is the second line of defence: every handler of every process runs it, and it
replaces whatever still looks like an e-mail address, a resident ID number, a mobile number or a query code.
"""

from __future__ import annotations

import logging
import os
import re
import sys

from prometheus_client import start_http_server

from shared.language.contracts.querycode import ALPHABET

_started_ports: set[int] = set()

# Boundaries are ASCII letters and digits, not `\b`: in Chinese text ("电话13800138000") every character is a word
# character, so `\b` would never match there.
_NOT_AFTER = r"(?<![0-9A-Za-z])"
_NOT_BEFORE = r"(?![0-9A-Za-z])"
_CODE_SYMBOL = f"[{ALPHABET}ILO]"  # what querycode.normalize() accepts, in either case (re.IGNORECASE)
# An e-mail address; the local part may be non-ASCII (王秀兰@example.cn). A masked one (w***@…) stays.
_EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")
_NUMBERS_AND_CODES = re.compile(
    # A resident ID number (18 characters, or the old 15 digits).
    rf"(?P<id_number>{_NOT_AFTER}(?:[0-9]{{17}}[0-9Xx]|[0-9]{{15}}){_NOT_BEFORE})"
    # A query code as issued (dashes), or typed without them (then with a digit, so that no English word of 16
    # letters is taken for one).
    rf"|(?P<query_code>{_NOT_AFTER}(?:{_CODE_SYMBOL}{{4}}(?:-{_CODE_SYMBOL}{{4}}){{3}}"
    rf"|(?=[A-Za-z]{{0,15}}[0-9]){_CODE_SYMBOL}{{16}}){_NOT_BEFORE})"
    # A mainland mobile number, optionally +86 and grouped 3-4-4.
    rf"|(?P<phone>{_NOT_AFTER}(?:\+?86[- ]?)?1[3-9][0-9](?:[- ]?[0-9]{{4}}){{2}}{_NOT_BEFORE})",
    re.IGNORECASE,
)
_exception_formatter = logging.Formatter()


def _placeholder(match: re.Match[str]) -> str:
    return f"[{match.lastgroup}]"


def redact(text: str) -> str:
    """`text` with e-mail addresses, ID numbers, query codes and mobile numbers replaced by `[email]` etc."""
    if "@" in text:
        text = _EMAIL.sub("[email]", text)
    return _NUMBERS_AND_CODES.sub(_placeholder, text)


class RedactPersonalData(logging.Filter):
    """Redacts the rendered message, the traceback and the stack of every record (a handler filter: it sees the
    records of every logger that reach the handler, including those propagated from child loggers).

    A record with nothing to redact is left alone. Otherwise each argument is redacted, so that formatters that
    read the arguments themselves (uvicorn's access log) still work; where that cannot give a clean message
    (personal data in the format string, or an argument rendered by %d), the record keeps the redacted rendered
    message and no arguments, so the formatter cannot render the originals again."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record: leave it to the handler's own error handling
            return True
        if redact(message) != message:
            _redact_message(record)
        if record.exc_info and not record.exc_text:
            record.exc_text = _exception_formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def _redact_message(record: logging.LogRecord) -> None:
    if isinstance(record.args, tuple) and isinstance(record.msg, str):
        msg = redact(record.msg)
        args = tuple(_redact_argument(argument) for argument in record.args)
        try:
            clean = redact(rendered := msg % args) == rendered
        except (TypeError, ValueError):
            clean = False
        if clean:
            record.msg, record.args = msg, args
            return
    record.msg, record.args = redact(record.getMessage()), None


def _redact_argument(argument: object) -> object:
    if isinstance(argument, str):
        return redact(argument)
    redacted = _Redacted(argument)
    return argument if redacted.unchanged else redacted


class _Redacted:
    """Stands in for an argument whose str() or repr() held personal data, for %s and %r alike."""

    def __init__(self, argument: object) -> None:
        text, representation = str(argument), repr(argument)
        self._text, self._representation = redact(text), redact(representation)
        self.unchanged = self._text == text and self._representation == representation

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return self._representation


def install_redaction() -> None:
    """Put `RedactPersonalData` on every handler configured so far (the root's and, e.g., uvicorn's own)."""
    loggers = [logging.getLogger(), *logging.root.manager.loggerDict.values()]
    for logger in loggers:
        for handler in getattr(logger, "handlers", ()):  # placeholders of unused parent names have none
            if not any(isinstance(f, RedactPersonalData) for f in handler.filters):
                handler.addFilter(RedactPersonalData())


def describe_error(error: BaseException) -> str:
    """An error for a log line: its class only. Messages may quote the data that caused them (a refused address,
    an invalid value), so they stay out of the log; the record that failed says the rest."""
    return type(error).__qualname__


def configure_logging(process: str) -> None:
    level = os.environ.get("LOG_LEVEL", "INFO").upper()
    logging.basicConfig(
        level=level,
        stream=sys.stderr,
        format=f"%(asctime)s %(levelname)s {process} %(name)s: %(message)s",
    )
    for noisy in ("amqp", "kombu", "pymongo", "httpx", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    install_redaction()


def serve_metrics(port: int) -> None:
    """Expose /metrics on `port` (0 means this process exposes none); idempotent per process."""
    if port and port not in _started_ports:
        start_http_server(port, addr=os.environ.get("METRICS_ADDRESS", "127.0.0.1"))
        _started_ports.add(port)
