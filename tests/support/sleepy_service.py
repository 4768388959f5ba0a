"""A nameko service for the runtime test: each RPC call holds a PostgreSQL query open through the same
eventsourcing datastore the real services use, and reports when it started and finished."""

from __future__ import annotations

import os

from nameko.rpc import rpc  # noqa: E402  (after shared/, on purpose)

from shared.runtime.eventstore import ServiceApplication  # imports shared/ first, as every real service does
from shared.runtime.nameko_support import ApplicationProvider
from shared.runtime.settings import PlatformSettings


class SleepyStore(ServiceApplication):
    name = "Sleepy"
    service_name = "sleepy"


def build() -> SleepyStore:
    return SleepyStore(PlatformSettings())


class SleepyService:
    name = os.environ["SLEEPY_SERVICE_NAME"]

    store = ApplicationProvider(build)

    @rpc
    def sleep_in_postgres(self, seconds: float) -> tuple[float, float]:
        """When the server ran the query (its own clock, so client-side scheduling cannot blur it)."""
        with self.store.recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                "SELECT extract(epoch FROM clock_timestamp()) AS started, pg_sleep(%s),"
                " extract(epoch FROM clock_timestamp()) AS ended", (seconds,))
            row = cursor.fetchone()
        return float(row["started"]), float(row["ended"])

    @rpc
    def wait_function(self) -> str:
        import psycopg.waiting

        return os.environ.get("PSYCOPG_WAIT_FUNC", "") + ":" + psycopg.waiting.wait.__name__
