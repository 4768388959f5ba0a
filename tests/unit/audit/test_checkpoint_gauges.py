"""The checkpointer exports, per log, its size when last read and the size and time of the last checkpoint it signed
and kept (services/audit/checkpointer.py): the alerts XinfangAuditCheckpointStale and XinfangAuditCheckpointBehind
(deploy/prometheus/alerts.yml) read them. A refused ledger leaves the checkpoint's gauges where they were."""

from __future__ import annotations

from types import SimpleNamespace

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from prometheus_client import REGISTRY

from services.audit.checkpointer import Checkpointer
from shared.audit.merkle import leaf_hash

ORIGIN = "xinfang.330106/routing/audit/v1"


class Ledger:
    """The ledger port as the checkpointer uses it, without witnesses."""

    def __init__(self, entries: list[bytes]) -> None:
        self.entries = entries
        self.kept: list[tuple[int, bytes, str]] = []

    def leaves(self) -> list[SimpleNamespace]:
        return [SimpleNamespace(leaf_hash=leaf_hash(entry)) for entry in self.entries]

    def latest_signed(self) -> tuple[int, bytes] | None:
        return self.kept[-1][:2] if self.kept else None

    def store_checkpoint(self, size: int, tree_root: bytes, note: str) -> None:
        self.kept.append((size, tree_root, note))


def gauge(name: str) -> float | None:
    return REGISTRY.get_sample_value(name, {"log": ORIGIN})


def test_a_kept_checkpoint_sets_its_size_and_time_and_a_refused_one_does_not():
    ledger = Ledger([b"a", b"b", b"c"])
    checkpointer = Checkpointer(ledger, ORIGIN, Ed25519PrivateKey.generate(), [])
    assert checkpointer.run_once()
    assert (gauge("xinfang_audit_log_leaves"), gauge("xinfang_audit_checkpoint_size")) == (3, 3)
    signed_at = gauge("xinfang_audit_checkpoint_timestamp_seconds")
    assert signed_at and signed_at > 1.7e9

    ledger.entries = [b"a", b"x", b"c", b"d"]  # rewritten history: never signed
    assert checkpointer.run_once() == ""
    assert (gauge("xinfang_audit_log_leaves"), gauge("xinfang_audit_checkpoint_size")) == (4, 3)
    assert gauge("xinfang_audit_checkpoint_timestamp_seconds") == signed_at
