"""Petitioner files in memory: which exist, and the recently used ones, so that registering a first-time petitioner
(most of them) reads nothing from the store.

Safe because every registration *writes* each of its files: the store checks the version it writes. A file this
process does not know of (opened meanwhile by another intake process), or holds at an old version, makes the write
conflict; the registration then forgets those files here and decides again on what the store holds.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.utils import get_topic

from services.intake.domainmodel import PetitionerFile


class PetitionerFiles:
    def __init__(self, app: Any, *, max_cached: int = 50_000) -> None:
        self._app = app
        self._max_cached = max_cached
        self._cache: OrderedDict[UUID, PetitionerFile] = OrderedDict()
        self._existing: set[UUID] = set(self._scan())  # ids only: ~100 bytes per file

    def _scan(self) -> Iterable[UUID]:
        """The ids of every file opened so far (one query at start-up)."""
        recorder = self._app.recorder
        topic = get_topic(PetitionerFile.Opened)
        if self._app.settings.event_store == "postgres":
            query = psycopg.sql.SQL(
                "SELECT originator_id FROM {}.{} WHERE originator_version = 1 AND topic = %s"
            ).format(psycopg.sql.Identifier(recorder.datastore.schema), psycopg.sql.Identifier(recorder.events_table_name))
        else:
            query = f"SELECT originator_id FROM {recorder.events_table_name} WHERE originator_version = 1 AND topic = ?"
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(query, (topic,))
            rows = cursor.fetchall()
        return (UUID(str(row["originator_id"])) for row in rows)

    def get(self, ids: Iterable[UUID]) -> dict[UUID, PetitionerFile | None]:
        """The files as this process knows them (None: not opened yet). The caller may change them (under the
        person's turn) and must then report `saved` or `forget`."""
        found: dict[UUID, PetitionerFile | None] = {}
        for file_id in ids:
            if file_id in self._cache:
                self._cache.move_to_end(file_id)
                found[file_id] = self._cache[file_id]
            elif file_id in self._existing:
                try:
                    found[file_id] = self._remember(self._app.repository.get(file_id))
                except AggregateNotFoundError:  # forgotten after a conflict that was not about this file
                    self._existing.discard(file_id)
                    found[file_id] = None
            else:
                found[file_id] = None
        return found

    def saved(self, files: Iterable[PetitionerFile]) -> None:
        for file in files:
            self._existing.add(file.id)
            self._remember(file)

    def forget(self, ids: Iterable[UUID]) -> None:
        """After a refused write: read these from the store next time."""
        for file_id in ids:
            self._cache.pop(file_id, None)
            self._existing.add(file_id)

    def _remember(self, file: PetitionerFile) -> PetitionerFile:
        self._cache[file.id] = file
        self._cache.move_to_end(file.id)
        while len(self._cache) > self._max_cached:
            self._cache.popitem(last=False)
        return file
