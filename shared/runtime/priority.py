"""A process's CPU priority (PROCESS_NICENESS, 0-19).

On a machine that every process of the platform shares (the embedded default, `make run`), the processes that
send notices run behind the path a petition takes to its organ: under a burst the registration, its routing and
the case's deadlines come first, and the receipts follow when the machine has room (the petitioner has the query
code from the registration's answer already). Measured at 50 petitions/s on 2 vCPUs: p99 to the routed organ
in the status view 6.1-9.2 s with every process equal, 0.82-1.53 s with the notification processes at 19, the last
receipt 2.4-7.4 s after the burst (docs/operations.md). With containers, give each its CPU request instead.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

TASKS = Path("/proc/self/task")
AUTOGROUP = Path("/proc/self/autogroup")


def lower_priority(niceness: int) -> None:
    """Run this process (every thread it has and will start) at `niceness`. Where Linux groups processes by
    session for scheduling (autogroups, on by default in most distributions), CPU is shared between sessions
    before niceness counts inside one, and honcho starts each process in a session of its own: so a process that
    leads its session sets its session's niceness too."""
    if niceness <= 0:
        return
    tasks = [int(t) for t in os.listdir(TASKS)] if TASKS.exists() else [0]
    for task in tasks:
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, task, niceness)
    if AUTOGROUP.exists():
        if os.getsid(0) == os.getpid():
            with contextlib.suppress(OSError):
                AUTOGROUP.write_text(str(niceness))
        else:
            log.info("not the leader of its session: the session's CPU share is left as it is")
    log.info("running at niceness %d", niceness)
