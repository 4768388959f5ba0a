"""(a) Durable registrations per second through intake's application (group commit, concurrent callers on green
threads, as in the intake service), beside the eventsourcing library's plain `Application.save()` loop for the same
aggregates, on the same PostgreSQL, rounds interleaved."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from eventsourcing.application import Application

from services.intake.domainmodel import Petition
from services.intake.settings import IntakeSettings
from shared.language.contracts import querycode
from shared.language.contracts.actor import PETITIONER
from shared.language.contracts.registration import RegisterPetition
from shared.runtime.eventstore import creating_store, store_env
from tests.support import samples

ROOT = Path(__file__).resolve().parents[1]


class PlainApplication(Application):
    """The library's Application, no additions: what a straightforward implementation would do."""

    name = "Plain"


def settings_for(prefix: str) -> IntakeSettings:
    return IntakeSettings(EVENT_STORE="postgres", POSTGRES_SCHEMA_PREFIX=prefix, XINFANG_ENV="test")


def plain_loop(settings: IntakeSettings, seconds: float) -> float:
    """One registration = the same aggregate intake saves, saved the library's plain way: one save() each."""
    with creating_store(settings, "plain"):
        app = PlainApplication(env=store_env(settings, "plain"))
    command = RegisterPetition.model_validate(samples.petition())
    count, deadline = 0, time.perf_counter() + seconds
    started = time.perf_counter()
    while time.perf_counter() < deadline:
        code = querycode.issue()
        petition = Petition.register(command, query_code=code, actor=PETITIONER, correlation_id="bench")
        app.save(petition)
        count += 1
    elapsed = time.perf_counter() - started
    app.close()
    return count / elapsed


def intake_green(prefix: str, seconds: float, callers: int, *, sealed: bool = True) -> tuple[float, float]:
    """(registrations per second, mean registrations per transaction) through intake's application, measured
    in a child process on eventlet green threads, as the intake service runs it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"}
    env.pop("PSYCOPG_WAIT_FUNC", None)  # shared/ picks wait_select under eventlet, as in the service
    arguments = [prefix, str(seconds), str(callers), *([] if sealed else ["unsealed"])]
    output = subprocess.run([sys.executable, "-m", "bench.intake_green", *arguments],
                            cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout
    measured = json.loads(output.strip().splitlines()[-1])
    return measured["per_s"], measured["per_transaction"]


def run(prefix: str, seconds: float = 4.0, rounds: int = 3, callers: int = 64) -> dict[str, float]:
    settings = settings_for(prefix)
    plain, grouped, unsealed, batch_sizes = [], [], [], []
    for _ in range(rounds):  # interleaved, so drift on a noisy machine hits all alike
        plain.append(plain_loop(settings, seconds))
        rate, batch = intake_green(prefix, seconds, callers)
        grouped.append(rate)
        batch_sizes.append(batch)
        unsealed.append(intake_green(f"{prefix}u", seconds, callers, sealed=False)[0])
    result = {
        "plain_save_loop_per_s": statistics.median(plain),
        "intake_group_commit_per_s": statistics.median(grouped),
        "mean_registrations_per_transaction": statistics.median(batch_sizes),
        "intake_unsealed_per_s": statistics.median(unsealed),
        "callers": callers,
    }
    result["ratio"] = result["intake_group_commit_per_s"] / result["plain_save_loop_per_s"]
    result["sealing_cost"] = 1 - result["intake_group_commit_per_s"] / result["intake_unsealed_per_s"]
    return result
