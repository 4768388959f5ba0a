"""Chaos fixtures: platforms whose parts the tests kill, and a RabbitMQ node of their own to stop and start."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from deploy.local.rabbitmq import PrivateNode
from tests.conftest import reserve_namespace
from tests.support.platform import TestPlatform, platform_env


@pytest.fixture
def private_broker(tmp_path) -> Iterator[PrivateNode]:
    node = PrivateNode(tmp_path / "rabbitmq")
    node.start()
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture
def make_platform(request, tmp_path, secantus, smtp) -> Iterator[Callable[..., TestPlatform]]:
    platforms: list[TestPlatform] = []

    def make(amqp_uri: str | None = None, **extra: str) -> TestPlatform:
        namespace = reserve_namespace()
        # On the test's private node, the platform's broker users are made there too (with its rabbitmqctl).
        node = request.getfixturevalue("private_broker") if "private_broker" in request.fixturenames else None
        broker_ctl = node.rabbitmqctl if node is not None and node.amqp_uri == amqp_uri else None
        env = platform_env(namespace=namespace, mongodb_uri=secantus.uri(namespace), smtp_port=smtp.port,
                           data_dir=tmp_path / "data", amqp_uri=amqp_uri, broker_ctl=broker_ctl, **extra)
        running = TestPlatform(env, tmp_path / f"logs-{len(platforms)}")
        running.namespace = namespace
        platforms.append(running)
        return running

    yield make
    for running in platforms:
        running.close()
        print(running.dump_logs())
