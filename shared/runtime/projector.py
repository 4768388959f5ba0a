"""Projecting a service's events into its MongoDB read models, and rebuilding them from the store.

A rebuild drops the collection and its position and replays the whole store through the same projection code.
It only writes the read model: it publishes nothing and sends no notice. It holds the projector's single-active
lock, so it refuses to run beside a live projector (stop that first).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from tqdm import tqdm

from shared.language.readmodels import MongoPosition, connect_read_models
from shared.runtime.follower import LogFollower, single_active_lock
from shared.runtime.settings import PlatformSettings
from shared.runtime.workers import run_workers

# A gathering projection's batches may hold this many events: what 50 petitions a second bring in a few seconds.
GATHERED_BATCH = 1_000


class Projection(Protocol):
    """A read model kept from a service's events. A projection no one waits on right after a step (a work list,
    the assessment facts, the warnings) may declare `gather_seconds`: under load its follower lets events gather
    that long between batches (shared.runtime.follower.Gathering), fewer and larger writes to the read-model
    server the petitioners' path shares."""

    name: str

    def apply_batch(self, items: Sequence[tuple[int, Any]]) -> None: ...
    def drop(self) -> None: ...
    def prepare(self) -> None:
        """Bring what an earlier version wrote up to date, before following (e.g. a lookup added since)."""


class Projector:
    def __init__(self, settings: PlatformSettings, service: str, application: Any, projection: Projection,
                 *, batch_size: int = 100, topics: Sequence[str] = ()) -> None:
        """`topics`: the only event topics the projection reads (others are skipped undecoded); all when empty."""
        self.position = MongoPosition(projection.name)
        self.lock = single_active_lock(settings, service, f"projection-{projection.name}")
        gather = getattr(projection, "gather_seconds", 0.0)
        self.follower = LogFollower(f"{service}.{projection.name}", application, projection.apply_batch,
                                    self.position, self.lock, poll_interval=settings.follower_poll_interval,
                                    batch_size=max(batch_size, GATHERED_BATCH) if gather else batch_size,
                                    settings=settings, topics=topics, gather=gather,
                                    save_position_every=0.5)  # replaying into version-guarded views is harmless

    def run(self) -> None:
        self.follower.run()

    def stop(self) -> None:
        self.follower.stop()

    def close(self) -> None:
        self.lock.release()


def rebuild(settings: PlatformSettings, service: str, application: Any, projection: Projection) -> int:
    """Drop and replay `projection` from the store; returns how many events were replayed."""
    projector = Projector(settings, service, application, projection, batch_size=500)
    if not projector.lock.try_acquire():
        raise SystemExit(f"a {service} projector for {projection.name} is running; stop it before rebuilding")
    try:
        projection.drop()
        projector.position.reset()
        total = application.recorder.max_notification_id() or 0
        replayed = 0
        with tqdm(total=total, unit="event", desc=f"rebuild {projection.name}") as bar:
            while handled := projector.follower.run_once():
                replayed += handled
                bar.update(handled)
            projector.follower.flush_position()
        return replayed
    finally:
        projector.close()


def main(process: str, settings: PlatformSettings, service: str, build_application: Any,
         build_projection: Callable[[Any], Projection | Sequence[Projection]]) -> None:
    """Command line of a projector process: follow the store, or `--rebuild` the read models and exit. Each
    projection is a worker of its own (its own position and single-active lock), so a slow one holds back no other."""
    parser = argparse.ArgumentParser(prog=f"python -m services.{service}.projector")
    parser.add_argument("--rebuild", action="store_true", help="drop the read models and replay the whole store")
    arguments = parser.parse_args()
    connect_read_models(settings.mongodb_uri)
    application = build_application(settings)
    built = build_projection(application)
    projections = list(built) if isinstance(built, Sequence) else [built]
    try:
        if arguments.rebuild:
            for projection in projections:
                count = rebuild(settings, service, application, projection)
                print(f"rebuilt {projection.name} from {count} stored events")
        else:
            for projection in projections:
                projection.prepare()
            run_workers(process, settings, lambda: [Projector(settings, service, application, projection)
                                                    for projection in projections])
    finally:
        application.close()
