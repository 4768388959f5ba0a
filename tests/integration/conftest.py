"""Integration fixtures: service applications on a real store, one per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.runtime.settings import PlatformSettings
from tests.conftest import reserve_namespace
from tests.support.platform import TestPlatform, platform_env


@pytest.fixture(params=["postgres", "sqlite"])
def store(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def settings_for(namespace: str, data_dir: Path, mongodb_uri: str) -> Callable[..., Any]:
    """Build a settings object of any service's settings class for this test's isolated store."""

    def build(settings_class: type[PlatformSettings] = PlatformSettings, *, store: str = "postgres",
              **overrides: Any) -> PlatformSettings:
        values = {"XINFANG_ENV": "test", "XINFANG_NAMESPACE": namespace, "EVENT_STORE": store,
                  "DATA_DIR": str(data_dir), "POSTGRES_SCHEMA_PREFIX": f"{namespace}_",
                  "MONGODB_URI": mongodb_uri, "AMQP_URI": "amqp://guest:guest@127.0.0.1:5672/",
                  **overrides}
        return settings_class(**values)

    return build


@pytest.fixture
def closing() -> Iterator[Callable[[Any], Any]]:
    """Register things with .close() to be closed after the test."""
    resources: list[Any] = []

    def register(resource: Any) -> Any:
        resources.append(resource)
        return resource

    yield register
    for resource in reversed(resources):
        resource.close()


@pytest.fixture
def gateway_for(tmp_path: Path, read_models: str) -> Callable[..., Any]:
    """Build the real gateway application in-process on this test's read models, with the officer accounts of
    tests/support/gateway_app.py (its users file in tmp_path), its RPC port (and, if given, its intake port)
    answered by the objects given; a test may build several, which share the accounts."""
    from tests.support.gateway_app import gateway_client

    def build(rpc: Any, *, intake: Any = None, **settings: str) -> Any:
        return gateway_client(tmp_path, read_models, rpc, intake=intake, **settings)

    return build


@pytest.fixture(scope="module")
def s3() -> Iterator[Any]:
    """A local S3-compatible server (moto's server mode), one per test module."""
    from tests.support.s3 import S3Server

    server = S3Server()
    yield server
    server.stop()


@pytest.fixture
def platform(tmp_path: Path, secantus: Any, smtp_sink: Any) -> Iterator[TestPlatform]:
    """A platform of its own (namespace, vhost, broker users, schemas), not started: each test starts the processes
    it needs (`platform.start("intake", ...)`). A module with a `platform` of its own overrides this one."""
    namespace = reserve_namespace()
    env = platform_env(namespace=namespace, mongodb_uri=secantus.uri(namespace), smtp_port=smtp_sink.port,
                       data_dir=tmp_path / "data")
    running = TestPlatform(env, tmp_path / "logs")
    running.namespace = namespace
    yield running
    running.close()
    print(running.dump_logs())
