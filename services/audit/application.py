"""audit's use cases: a petition's history replayed from the services' event stores, and its case bundle from
their ledgers, signed with the logs' keys (docs/audit.md). What only another service can answer — which notices
belong to a petition, the case as of a moment — the caller asks that service for (services/audit/peers.py) and
passes in: nothing here loads another service's code."""

from __future__ import annotations

import contextlib
from typing import Any
from uuid import UUID

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.audit import replay
from services.audit.bundle import BundleProvesNothing, case_bundle
from services.audit.ledger import ledger_of
from services.audit.settings import AuditSettings
from services.audit.stores import SERVICES, EventStores
from shared.audit.checkpoint import load_private_key
from shared.runtime.eventstore import postgres_conninfo


class CaseUnknown(LookupError):
    """No service's log holds an event of this petition."""


class AuditApplication:
    def __init__(self, settings: AuditSettings) -> None:
        self.settings = settings
        self.stores = EventStores(settings.for_follower())  # read-only; a small pool per store

    def step_event_ids(self, petition_id: UUID) -> list[str]:
        """What notification needs to name the notices of the case's steps (replay.step_event_ids)."""
        return replay.step_event_ids(self.stores, self.settings, petition_id)

    def history(self, petition_id: UUID, notification_ids: list[UUID]) -> list[dict[str, Any]]:
        """Every event of the petition from every service's store, in recorded order ([] if none holds any)."""
        aggregates = replay.case_aggregates(petition_id, notification_ids)
        return [step.as_dict() for step in replay.history(self.stores, self.settings, aggregates)]

    def bundle(self, petition_id: UUID, notification_ids: list[UUID]) -> dict[str, Any]:
        """The case bundle, its case heads signed with the logs' keys (AUDIT_KEYS_DIR). Raises CaseUnknown,
        BundleProvesNothing (no checkpoint covers any of its events yet) or CheckpointError (a key is missing)."""
        aggregates = replay.case_aggregates(petition_id, notification_ids)
        with contextlib.ExitStack() as stack:
            conn = None
            if self.settings.event_store == "postgres":
                conn = stack.enter_context(psycopg.connect(postgres_conninfo(self.settings), autocommit=True))
            ledgers = {service: ledger_of(self.settings, service, conn) for service in SERVICES}
            for ledger in ledgers.values():
                stack.callback(ledger.close)
            try:
                return case_bundle(ledgers, self.settings.county_code, petition_id, aggregates, self.signing_keys())
            except BundleProvesNothing as nothing:
                if nothing.recorded == 0:
                    raise CaseUnknown(str(petition_id)) from None
                raise

    def signing_keys(self) -> dict[str, Ed25519PrivateKey]:
        """The logs' keys found in the keys folder, read on each bundle (the checkpointer may make them after this
        service started, under `make run`); case_bundle names a log whose key is missing."""
        folder = self.settings.keys_folder()
        return {service: load_private_key(folder / f"{service}.key") for service in SERVICES
                if (folder / f"{service}.key").exists()}

    def close(self) -> None:
        self.stores.close()
