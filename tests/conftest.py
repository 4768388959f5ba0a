"""Fixtures shared by every tier.

Test-tier policy:
- unit: no I/O at all; fakes only of our own ports.
- integration: one real dependency at a time (PostgreSQL on 127.0.0.1:5432, RabbitMQ on 127.0.0.1:5672, a
  SecantusDB server, an aiosmtpd SMTP server), driven in-process.
- e2e and chaos: the platform's real processes, started from deploy/local/Procfile exactly as `make run` does.
Every test gets its own broker namespace, PostgreSQL schemas and read-model database; the session removes them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.platform import delete_topology, drop_schemas, unique_name
from tests.support.servers import SecantusServer, SmtpSink
from tests.support.sms_provider import SmsProvider

RUN = unique_name("t")  # prefix of every namespace and schema this session creates
_namespaces: list[str] = []


@pytest.fixture(scope="session")
def secantus() -> Iterator[SecantusServer]:
    server = SecantusServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    yield sink
    sink.stop()


@pytest.fixture
def smtp(smtp_sink: SmtpSink) -> SmtpSink:
    smtp_sink.clear()
    return smtp_sink


@pytest.fixture(scope="module")
def sms_provider() -> Iterator[SmsProvider]:
    """A real HTTP server standing in for the SMS provider (tests/support/sms_provider.py), one per module."""
    provider = SmsProvider()
    yield provider
    provider.stop()


def reserve_namespace() -> str:
    """A fresh name for exchanges, queues and schemas (all start with the session's RUN; removed at the end)."""
    name = unique_name(RUN + "x")
    _namespaces.append(name)
    return name


@pytest.fixture
def namespace() -> str:
    return reserve_namespace()


@pytest.fixture
def mongodb_uri(secantus: SecantusServer, namespace: str) -> str:
    return secantus.uri(namespace)


@pytest.fixture
def read_models(mongodb_uri: str) -> Iterator[str]:
    from shared.language.readmodels import connect_read_models

    connect_read_models(mongodb_uri)
    yield mongodb_uri


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _namespaces:  # e.g. the unit tier, which must not touch the network
        return
    with contextlib.suppress(Exception):
        drop_schemas(RUN)
    with contextlib.suppress(Exception):
        delete_topology(_namespaces)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    return folder
