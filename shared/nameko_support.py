"""nameko glue: the providers every service uses (its application, its /metrics endpoint)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nameko.extensions import DependencyProvider

from shared.observability import serve_metrics
from shared.priority import lower_priority


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
        serve_metrics(int(self.container.config.get("METRICS_PORT") or 0))
