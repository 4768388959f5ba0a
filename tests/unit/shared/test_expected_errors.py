"""Expected conditions are never logged as errors: the integration-event entrypoint declares what it deals with
itself as expected, and nameko's record of an expected exception keeps no traceback (or is dropped where the
entrypoint logs the outcome itself)."""

from __future__ import annotations

import inspect
import logging
import sys
from types import SimpleNamespace

import nameko.containers
import psycopg

from services.supervision.application import CaseNotOpenedYet
from shared.language.integration.envelope import InvalidIntegrationEvent
from shared.runtime.callers import CallerRefused
from shared.runtime.messaging.consumer import IntegrationEventConsumer
from shared.runtime.nameko_support import EXPECTED_ERROR_RECORD, QuietExpectedErrors


def nameko_record(entrypoint: object, error: Exception) -> logging.LogRecord:
    try:
        raise error
    except Exception:  # noqa: BLE001 - the record carries it, as nameko's does
        exc_info = sys.exc_info()
    worker_ctx = SimpleNamespace(entrypoint=entrypoint)
    return logging.LogRecord("nameko.containers", logging.WARNING, __file__, 1, EXPECTED_ERROR_RECORD,
                             (worker_ctx, error), exc_info)


def test_the_record_is_the_one_nameko_writes():
    # nameko's wording is what the filter recognises: an upgrade that changes it must fail here.
    assert f"'{EXPECTED_ERROR_RECORD}'" in inspect.getsource(nameko.containers.ServiceContainer._run_worker)


def test_the_consumer_expects_passing_conditions_and_refused_messages_and_what_a_handler_declares():
    class Declared(Exception):
        pass

    expected = IntegrationEventConsumer(expected_exceptions=Declared).expected_exceptions

    for error in (CaseNotOpenedYet("p"), psycopg.OperationalError("down"), ConnectionError(),
                  InvalidIntegrationEvent("refused"), Declared()):
        assert isinstance(error, expected)
    assert not isinstance(KeyError("organ"), expected)
    assert not isinstance(ValueError(), IntegrationEventConsumer().expected_exceptions)


def test_a_consumers_expected_error_is_left_to_the_consumers_own_log():
    record = nameko_record(IntegrationEventConsumer(), CaseNotOpenedYet("p"))

    assert not QuietExpectedErrors().filter(record)


def test_another_entrypoints_expected_error_is_one_line_naming_its_class():
    record = nameko_record(SimpleNamespace(), CallerRefused("caller assertion refused: 13800138000"))

    assert QuietExpectedErrors().filter(record)
    assert record.exc_info is None and record.exc_text is None
    assert record.getMessage().endswith(": CallerRefused")  # the class, never the message


def test_other_records_pass_untouched():
    unexpected = logging.LogRecord("nameko.containers", logging.ERROR, __file__, 1, "error handling worker %s: %s",
                                   (SimpleNamespace(), KeyError("organ")), None)

    assert QuietExpectedErrors().filter(unexpected)
    assert unexpected.args[1].args == ("organ",)
