"""Running log followers (relay, projector, dispatcher) as one OS process: a thread each, stopped cleanly on
SIGINT/SIGTERM so the position of the batch in hand is written before exit."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Sequence
from typing import Protocol

from shared.runtime.observability import configure_logging, serve_metrics
from shared.runtime.priority import lower_priority
from shared.runtime.settings import PlatformSettings

log = logging.getLogger(__name__)


class Worker(Protocol):
    def run(self) -> None: ...
    def stop(self) -> None: ...
    def close(self) -> None: ...


def run_workers(process: str, settings: PlatformSettings, build: Callable[[], Sequence[Worker]]) -> None:
    configure_logging(process)
    lower_priority(settings.process_niceness)
    serve_metrics(settings.metrics_port)
    workers = build()
    stopping = threading.Event()

    def stop(signum: int, _frame: object) -> None:
        log.info("%s: signal %d, stopping", process, signum)
        stopping.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    threads = [threading.Thread(target=w.run, name=f"{process}-{i}", daemon=True) for i, w in enumerate(workers)]
    for thread in threads:
        thread.start()
    log.info("%s: running %d worker(s)", process, len(workers))
    while not stopping.wait(0.5):
        if not any(t.is_alive() for t in threads):
            log.error("%s: every worker exited", process)
            break
    for worker in workers:
        worker.stop()
    for thread in threads:
        thread.join(timeout=15)
    for worker in workers:
        worker.close()
    log.info("%s: stopped", process)
