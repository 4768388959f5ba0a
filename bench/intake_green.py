"""Registrations through intake's application as intake runs them in production: on eventlet green threads
(what `nameko run` does), with psycopg's wait_select. Run as a child process; prints one JSON line.

    python -m bench.intake_green <schema-prefix> <seconds> <callers> [unsealed]

`unsealed`: without the audit ledger's sealing trigger, to measure what sealing adds to the write path.
"""

import eventlet

eventlet.monkey_patch()  # first, as nameko does, before anything imports socket, threading or psycopg

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

from prometheus_client import REGISTRY  # noqa: E402

from services.intake.application import IntakeApplication  # noqa: E402
from services.intake.bootstrap import build_application  # noqa: E402
from services.intake.settings import IntakeSettings  # noqa: E402
from shared.language.contracts.registration import RegisterPetition  # noqa: E402
from tests.support import samples  # noqa: E402


def batch_size(part: str) -> float:
    """The group committer's own histogram (registrations per transaction), `count` or `sum`."""
    return REGISTRY.get_sample_value(f"xinfang_group_commit_batch_size_{part}", {"store": "intake"}) or 0.0


def main(prefix: str, seconds: float, callers: int, sealed: bool = True) -> None:
    settings = IntakeSettings(EVENT_STORE="postgres", POSTGRES_SCHEMA_PREFIX=prefix, XINFANG_ENV="test")
    if sealed:
        app = build_application(settings)
    else:
        IntakeApplication.sealed = False
        app = build_application(settings)
    # Distinct petitioners, as in life (one person's petitions are checked against each other: the repeat check).
    commands = [RegisterPetition.model_validate(samples.petition()) for _ in range(int(seconds * 3000) + 1)]
    app.register_petition(commands.pop())  # warm up the pool and the committer
    transactions_before, registrations_before = batch_size("count"), batch_size("sum")
    count = 0
    stopping = False

    def caller() -> None:
        nonlocal count
        while not stopping:
            app.register_petition(commands.pop() if commands else RegisterPetition.model_validate(samples.petition()))
            count += 1

    pool = [eventlet.spawn(caller) for _ in range(callers)]
    started = time.perf_counter()
    eventlet.sleep(seconds)
    stopping = True
    for green in pool:
        green.wait()
    elapsed = time.perf_counter() - started
    app.close()
    transactions = batch_size("count") - transactions_before
    registrations = batch_size("sum") - registrations_before
    print(json.dumps({"per_s": count / elapsed, "per_transaction": registrations / max(transactions, 1)}))


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sealed=sys.argv[4:] != ["unsealed"])
