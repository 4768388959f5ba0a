"""The checkpointer: signs the ledger's size and root, and has every configured witness cosign it (docs/audit.md).

For each witness it sends a consistency proof from the size the witness last cosigned. A witness that holds
another size (409) is re-synced once; a witness that refuses the proof (422), or holds more than the log has, means
the log was rewritten or cut: that is logged as a security alert and counted
(`xinfang_audit_witness_refusals_total`), and the checkpoint is kept without that cosignature.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from prometheus_client import Counter, Gauge

from shared.audit.checkpoint import Checkpoint, sign
from shared.audit.merkle import consistency_proof, root, subtree_of, verify_consistency
from shared.audit.witness import request_body

if TYPE_CHECKING:
    from services.audit.ledger import Ledger, WitnessEndpoint

log = logging.getLogger(__name__)

REFUSALS = Counter("xinfang_audit_witness_refusals_total",
                   "Checkpoints a witness refused to cosign (422: the log does not extend what it saw)",
                   ["witness", "status"])
# What the checkpointer last did per log (`log`: its origin). A log whose checkpoint time stops moving is not being
# signed (checkpointer wedged, refusing an inconsistent ledger, or its store unreachable): deploy/prometheus/alerts.yml.
LOG_SIZE = Gauge("xinfang_audit_log_leaves", "Leaves of the audit log when the checkpointer last read it", ["log"])
CHECKPOINT_SIZE = Gauge("xinfang_audit_checkpoint_size", "Leaves covered by the log's last signed checkpoint", ["log"])
CHECKPOINT_TIME = Gauge("xinfang_audit_checkpoint_timestamp_seconds",
                        "Unix time the checkpointer last signed and kept a checkpoint of the log", ["log"])


class Checkpointer:
    def __init__(self, ledger: Ledger, origin: str, key: Ed25519PrivateKey, witnesses: list[WitnessEndpoint],
                 timeout: float = 10.0) -> None:
        self.ledger, self.origin, self._key, self.witnesses, self.timeout = ledger, origin, key, witnesses, timeout

    def run_once(self) -> str:
        """Sign and have cosigned; returns the note ("" when there is nothing to sign or signing was refused)."""
        hashes = [leaf.leaf_hash for leaf in self.ledger.leaves()]
        size, tree_root = len(hashes), root(hashes)
        LOG_SIZE.labels(self.origin).set(size)
        if size == 0:  # an empty log is never signed (a witness would then hold size 0)
            return ""
        subtree = subtree_of(hashes)
        last = self.ledger.latest_signed()
        if last is not None and not (last[0] <= size and verify_consistency(
                last[0], size, last[1], tree_root, consistency_proof(last[0], size, subtree))):
            # The ledger no longer extends what this log last signed: never sign the rewritten history.
            REFUSALS.labels("self", "inconsistent").inc()
            log.error("SECURITY: %s no longer extends its checkpoint of size %d; not signing", self.origin, last[0])
            return ""
        note = sign(Checkpoint(self.origin, size, tree_root), self._key)
        for witness in self.witnesses:
            note += self._cosign(witness, note, size, subtree)
        self.ledger.store_checkpoint(size, tree_root, note)
        CHECKPOINT_SIZE.labels(self.origin).set(size)
        CHECKPOINT_TIME.labels(self.origin).set_to_current_time()
        return note

    def _cosign(self, witness: WitnessEndpoint, note: str, size: int, subtree) -> str:  # noqa: ANN001
        held = self.ledger.witness_size(witness.name)
        for _attempt in range(2):
            if held > size:
                return self._refused(witness, "holds", f"it holds {held} leaves, the log has {size}: the log was cut")
            proof = consistency_proof(held, size, subtree) if 0 < held < size else []
            status, text = self._post(witness, request_body(held, proof, note))
            if status == 0:  # unreachable: no cosignature this time, nothing suspicious
                return ""
            if status == 200:
                self.ledger.set_witness_size(witness.name, size)
                return text
            if status == 409 and text.strip().isdigit():
                held = int(text.strip())  # re-sync once
                continue
            return self._refused(witness, str(status), text.strip())
        return self._refused(witness, "409", "still out of step after re-syncing")

    def _refused(self, witness: WitnessEndpoint, status: str, reason: str) -> str:
        REFUSALS.labels(witness.name, status).inc()
        log.error("SECURITY: witness %s refused checkpoint of %s: %s", witness.name, self.origin, reason)
        return ""

    def _post(self, witness: WitnessEndpoint, body: bytes) -> tuple[int, str]:
        # The witness's URL is the operator's configuration (--witness NAME=URL), never a caller's.
        request = urllib.request.Request(f"{witness.url.rstrip('/')}/add-checkpoint", data=body,  # noqa: S310
                                         method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - configured URL
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()
        except OSError as error:
            log.warning("witness %s unreachable: %s", witness.name, error)
            return 0, str(error)
