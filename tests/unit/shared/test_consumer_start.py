"""The integration-event consumer starts consuming only once the service's other queue consumers are ready: nameko's
declares the RPC reply queue, and a reply published before that queue exists is lost (its worker would wait for
it, holding its message). Checked on the supervision service's own container, which is built but not started."""

from __future__ import annotations

import nameko.messaging
from nameko.containers import ServiceContainer

from services.supervision.service import SupervisionService
from shared.runtime.messaging.consumer import EventQueueConsumer


def test_the_event_consumer_starts_after_the_rpc_reply_consumer(monkeypatch):
    container = ServiceContainer(SupervisionService, {"AMQP_URI": "amqp://guest:guest@127.0.0.1:5672/"})
    started: list[str] = []
    monkeypatch.setattr(nameko.messaging.QueueConsumer, "start", lambda self: started.append(type(self).__name__))
    [events] = [e for e in container.subextensions if isinstance(e, EventQueueConsumer)]

    events.start()

    assert started == ["QueueConsumer", "EventQueueConsumer"]
