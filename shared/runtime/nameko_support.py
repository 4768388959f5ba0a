"""nameko glue: the providers every service uses (its application, its /metrics endpoint, its callers' proof), and
how nameko reports an exception an entrypoint expects."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from typing import Any

import eventlet
from nameko.extensions import DependencyProvider
from nameko.rpc import RpcProxy
from prometheus_client import Counter

from shared.runtime.callers import Caller, CallerAssertions, CallerRefused, caller_assertions
from shared.runtime.observability import describe_error, serve_metrics
from shared.runtime.priority import lower_priority
from shared.runtime.settings import PlatformSettings

log = logging.getLogger(__name__)

CALLERS_REFUSED = Counter("xinfang_rpc_callers_refused_total",
                          "RPC calls refused for a missing, forged or expired caller assertion", ["service", "method"])


# nameko's record of an exception its entrypoint declares expected (nameko/containers.py, `expected_exceptions`).
EXPECTED_ERROR_RECORD = "(expected) error handling worker %s: %s"


class QuietExpectedErrors(logging.Filter):
    """nameko logs an exception its entrypoint declares expected at WARNING with a full traceback; an expected
    condition needs neither (docs/operations.md: expected conditions are never logged as errors).

    An entrypoint that says itself what became of each of them (`reports_expected_exceptions`: the integration-event
    consumer logs every in-process retry and every parked message) has nameko's record dropped. Any other keeps one
    WARNING line naming the error by class only (describe_error: a message may quote personal data), no traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg != EXPECTED_ERROR_RECORD or not isinstance(record.args, tuple) or len(record.args) != 2:
            return True
        worker_ctx, error = record.args
        if getattr(getattr(worker_ctx, "entrypoint", None), "reports_expected_exceptions", False):
            return False
        if isinstance(error, BaseException):
            record.args = (worker_ctx, describe_error(error))
        record.exc_info, record.exc_text = None, None
        return True


def quiet_expected_errors() -> None:
    """Put `QuietExpectedErrors` on nameko's container logger (idempotent; a logger's filters outlive dictConfig)."""
    logger = logging.getLogger("nameko.containers")
    if not any(isinstance(f, QuietExpectedErrors) for f in logger.filters):
        logger.addFilter(QuietExpectedErrors())


class ApplicationProvider(DependencyProvider):
    """Builds the service's application in `setup()` and closes it in `stop()`.

    Closing explicitly matters: left to `__del__`, the PostgreSQL pool raises "greenlet is being finalized" at exit.
    """

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self.application: Any = None

    def setup(self) -> None:
        self.application = self._build()
        lower_priority(self.application.settings.process_niceness)

    def stop(self) -> None:
        if self.application is not None:
            self.application.close()
            self.application = None

    def kill(self) -> None:
        self.stop()

    def get_dependency(self, worker_ctx: Any) -> Any:
        return self.application


class MetricsEndpoint(DependencyProvider):
    """Starts the /metrics endpoint of a nameko process (port from METRICS_PORT in the nameko config)."""

    def setup(self) -> None:
        quiet_expected_errors()  # every service has this provider: its RPCs' and timers' expected errors too
        serve_metrics(int(self.container.config.get("METRICS_PORT") or 0))


class ServiceCallers:
    """What a service's RPC entrypoints use to prove who calls them, and to prove themselves to another service."""

    def __init__(self, assertions: CallerAssertions, service: str) -> None:
        self._assertions = assertions
        self._service = service

    def require(self, token: Any, issuers: Collection[str], method: str) -> Caller:
        try:
            return self._assertions.verify(token, audience=self._service, method=method, issuers=issuers)
        except CallerRefused as refused:
            CALLERS_REFUSED.labels(self._service, method).inc()
            log.warning("%s.%s: %s", self._service, method, refused)
            raise

    def assertion(self, audience: str, method: str) -> str:
        """A token proving this service to `audience`.`method` (a call on its own account, never for an actor)."""
        return self._assertions.assertion(audience, method)


class CallerCheck(DependencyProvider):
    """Injects the service's `ServiceCallers` (PLATFORM_RPC_SECRET; shared/runtime/callers.py)."""

    def setup(self) -> None:
        name = self.container.service_name
        self.callers = ServiceCallers(caller_assertions(PlatformSettings(), issuer=name), name)

    def get_dependency(self, worker_ctx: Any) -> Any:
        return self.callers


class RpcReplyTimeout(TimeoutError):
    """No reply within PLATFORM_RPC_TIMEOUT: a passing condition (the integration-event consumer tries again)."""


class BoundedRpcProxy(RpcProxy):
    """nameko's RpcProxy, whose calls give up after PLATFORM_RPC_TIMEOUT seconds (RpcReplyTimeout).

    nameko 2.14 waits for a reply for ever, and a reply can be lost: published while the caller's reply queue did not
    exist (it expires when its consumer has been away past nameko's RPC_REPLY_QUEUE_TTL), or to a process that was
    stopped meanwhile. A worker waiting for ever holds its message and its worker slot; once every slot is held the
    service handles nothing, and it cannot stop gracefully either."""

    def setup(self) -> None:
        super().setup()
        self.timeout = PlatformSettings().rpc_reply_timeout_seconds

    def get_dependency(self, worker_ctx: Any) -> Any:
        return _BoundedServiceProxy(super().get_dependency(worker_ctx), self.target_service, self.timeout)


class _BoundedServiceProxy:
    def __init__(self, proxy: Any, service: str, timeout: float) -> None:
        self._proxy, self._service, self._timeout = proxy, service, timeout

    def __getattr__(self, method: str) -> Callable[..., Any]:
        target = getattr(self._proxy, method)

        def call(*args: Any, **kwargs: Any) -> Any:
            reply = target.call_async(*args, **kwargs)
            late = RpcReplyTimeout(f"no reply from {self._service}.{method} within {self._timeout:g} s")
            with eventlet.Timeout(self._timeout, late):
                return reply.result()

        return call


def petition_particulars(intake: Any, callers: ServiceCallers, petition_id: str, purpose: str) -> dict[str, Any]:
    """What intake's private RPC answers this service of a petition for `purpose` (docs/integration-events.md):
    what the events exchange may not carry. `intake` is the service's BoundedRpcProxy("intake")."""
    found = intake.petition_particulars(petition_id, purpose, callers.assertion("intake", "petition_particulars"))
    if found is None:  # an event is published only once the petition is stored: intake must know it
        raise LookupError(f"intake does not know petition {petition_id}")
    return found
