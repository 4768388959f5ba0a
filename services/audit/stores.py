"""Read-only, generic access to the services' event stores: the raw stored events (topic and state) of given
aggregates, decoded as the library stored them — never the services' domain classes.

A service's application writes its events through eventsourcing's JSON transcoder with the library's default
transcodings (UUIDs as hex, decimals as strings, datetimes as ISO 8601: shared/runtime/eventstore.py registers no
other, and configures neither compression nor a cipher; a store that did would say so in its environment, which
is honoured here too). Decoding needs no domain class, so the audit service imports none: each service answers
for its own aggregates over RPC (services/audit/peers.py), and the stores are only read.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    ApplicationRecorder,
    DatetimeAsISO,
    DecimalAsStr,
    InfrastructureFactory,
    JSONTranscoder,
    Mapper,
    OperationalError,
    ProgrammingError,
    UUIDAsHex,
)
from eventsourcing.utils import Environment

from shared.runtime.eventstore import store_env
from shared.runtime.settings import PlatformSettings

SERVICES = ("intake", "routing", "supervision", "notification")


@dataclass(frozen=True)
class RawEvent:
    """One stored event, decoded generically: its topic (`module:Class.Event`) and its state as plain values."""

    originator_id: UUID
    originator_version: int
    topic: str
    state: dict[str, Any]

    @property
    def name(self) -> str:
        """The event's qualified name, e.g. `Case.Replied` (from the topic: no class is loaded)."""
        return self.topic.partition(":")[2] or self.topic

    @property
    def timestamp(self) -> datetime:
        return self.state["timestamp"]


def transcoder() -> JSONTranscoder:
    """The transcoder every service's application uses (the library's defaults: Application.register_transcodings)."""
    coder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        coder.register(transcoding)
    return coder


class EventStores:
    """The four services' stores, opened read-only (no table is created) on first use."""

    def __init__(self, settings: PlatformSettings) -> None:
        self.settings = settings
        self._opened: dict[str, tuple[InfrastructureFactory, ApplicationRecorder, Mapper]] = {}
        self._opening = threading.Lock()

    def _store(self, service: str) -> tuple[ApplicationRecorder, Mapper]:
        if service not in SERVICES:
            raise ValueError(f"unknown service {service!r}")
        with self._opening:
            if service not in self._opened:
                # The events table the service's application writes: <service>_events (its Application's name).
                env = Environment(name=service.capitalize(),
                                  env={**store_env(self.settings, service), "CREATE_TABLE": "false"})
                factory = InfrastructureFactory.construct(env)
                self._opened[service] = (factory, factory.application_recorder(), factory.mapper(transcoder()))
        _factory, recorder, mapper = self._opened[service]
        return recorder, mapper

    def events(self, service: str, aggregate_id: UUID) -> list[RawEvent]:
        """Every stored event of one aggregate of `service`, in version order ([] if the store holds none)."""
        recorder, mapper = self._store(service)
        try:
            stored = recorder.select_events(aggregate_id)
        except (ProgrammingError, OperationalError) as error:
            if "does not exist" in str(error) or "no such table" in str(error):
                return []  # this service's store was never written: nothing of the case is in it
            raise
        return [RawEvent(UUID(str(s.originator_id)), s.originator_version, s.topic, decode(mapper, s.state))
                for s in stored]

    def close(self) -> None:
        for factory, _recorder, _mapper in self._opened.values():
            with contextlib.suppress(Exception):
                factory.close()
        self._opened.clear()


def decode(mapper: Mapper, state: bytes) -> dict[str, Any]:
    """Stored bytes → plain values, undoing a cipher and compression when the store is configured with them."""
    data = bytes(state)
    if mapper.cipher is not None:
        data = mapper.cipher.decrypt(data)
    if mapper.compressor is not None:
        data = mapper.compressor.decompress(data)
    return mapper.transcoder.decode(data)
