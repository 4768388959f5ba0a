"""What the other services answer the audit service, each for its own aggregates (over nameko RPC, each call
carrying the audit service's signed caller assertion: shared/runtime/callers.py):

- notification: which of its aggregates (notices, deliveries) belong to a petition (`case_aggregates`);
- supervision: the case as it stood at a moment (`case_as_of`, services/supervision/history.py).

The audit service (services/audit/service.py) asks through its nameko RpcProxy dependencies; the operator's
commands (services/audit/cli.py `bundle`, services/audit/replay.py) through a standalone proxy.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from shared.runtime.callers import AUDIT, caller_assertions
from shared.runtime.settings import PlatformSettings


class PeerUnavailable(RuntimeError):
    """A service did not answer in time (or at all): the audit service answers 503 rather than wait."""


class Peers:
    def __init__(self, notification: Any, supervision: Any, assertion: Callable[[str, str], str],
                 within: Callable[[], contextlib.AbstractContextManager[Any]] = contextlib.nullcontext) -> None:
        """`notification`, `supervision`: RPC proxies of the two services; `assertion(service, method)`: the audit
        service's assertion for one call; `within()`: the time limit of one call (the nameko service's eventlet
        timeout; a standalone proxy has its own)."""
        self._notification, self._supervision, self._assertion = notification, supervision, assertion
        self._within = within

    def notification_aggregates(self, petition_id: UUID, step_event_ids: Sequence[str] = ()) -> list[UUID]:
        """The petition's notices and deliveries, as notification names them: the receipt's, and those of the steps
        published as `step_event_ids` (replay.step_event_ids)."""
        with self._limited("notification"):
            found = self._notification.case_aggregates(
                str(petition_id), caller=self._assertion("notification", "case_aggregates"),
                step_event_ids=list(step_event_ids))
        return [UUID(aggregate_id) for aggregate_id in found]

    def case_as_of(self, petition_id: UUID, moment: datetime) -> dict[str, Any] | None:
        """The case as it stood at `moment` (which has a time zone); None if it was not opened yet."""
        with self._limited("supervision"):
            return self._supervision.case_as_of(
                str(petition_id), moment.isoformat(), caller=self._assertion("supervision", "case_as_of"))

    @contextlib.contextmanager
    def _limited(self, service: str) -> Iterator[None]:
        try:
            with self._within():
                yield
        except TimeoutError as error:  # eventlet's Timeout is not one: the service's `within` raises this
            raise PeerUnavailable(service) from error


@contextlib.contextmanager
def standalone_peers(settings: PlatformSettings, timeout: float = 30) -> Iterator[Peers]:
    """Peers reached from a command beside a running platform (AMQP_URI; PLATFORM_RPC_SECRET signs the calls)."""
    from nameko.standalone.rpc import ClusterRpcProxy  # noqa: PLC0415 - nameko imports eventlet

    assertions = caller_assertions(settings, AUDIT)
    with ClusterRpcProxy({"AMQP_URI": settings.amqp_uri}, timeout=timeout) as rpc:
        yield Peers(rpc.notification, rpc.supervision,
                    lambda service, method: assertions.assertion(service, method))
