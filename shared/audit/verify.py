"""Checking a ledger against the stored events it seals: the core of the offline verifier (standard library only).

Given the ledger rows (leaf index, entry bytes, leaf hash) and the stored events (aggregate id, version, topic,
stored bytes), it checks that the leaves are gapless and each hashes its own entry; that each entry names a stored
event whose topic and bytes it commits to; that each aggregate's events chain from version 1 through the previous
leaf's index and hash; that recording times never go back; and that no stored event is left unsealed. The verdict
names the first event that fails and why. The Merkle root over the leaf hashes (shared/audit/merkle.py) then ties
the whole ledger to a signed checkpoint.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from uuid import UUID

from shared.audit.entries import NO_PREVIOUS_HASH, NO_PREVIOUS_INDEX, Entry, payload_hash
from shared.audit.merkle import leaf_hash, root


@dataclass(frozen=True)
class Leaf:
    leaf_index: int
    entry: bytes
    leaf_hash: bytes


@dataclass(frozen=True)
class StoredEvent:
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes


@dataclass
class Verdict:
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    root: bytes = b""

    @property
    def ok(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        if self.ok:
            return f"VERIFIED: {self.checked} events, root {self.root.hex()}"
        return f"FAILED after {self.checked} events: {self.problems[0]}"


def verify_ledger(leaves: Iterable[Leaf], events: Iterable[StoredEvent]) -> Verdict:
    stored = {(e.originator_id, e.originator_version): e for e in events}
    verdict = Verdict()
    heads: dict[UUID, tuple[int, int, bytes]] = {}  # aggregate -> (version, leaf index, leaf hash)
    sealed: set[tuple[UUID, int]] = set()
    last_at = 0
    hashes = []
    for position, leaf in enumerate(sorted(leaves, key=lambda item: item.leaf_index)):
        where = f"leaf {leaf.leaf_index}"
        if leaf.leaf_index != position:
            verdict.problems.append(f"{where}: expected leaf {position} (a leaf is missing or out of order)")
            break
        if leaf_hash(leaf.entry) != leaf.leaf_hash:
            verdict.problems.append(f"{where}: the leaf hash does not hash its entry (entry or hash changed)")
            break
        try:
            entry = Entry.decode(leaf.entry)
        except ValueError as error:
            verdict.problems.append(f"{where}: {error}")
            break
        key = (entry.originator_id, entry.originator_version)
        where = f"{where} (aggregate {entry.originator_id} version {entry.originator_version})"
        if entry.leaf_index != leaf.leaf_index:
            verdict.problems.append(f"{where}: the entry says leaf {entry.leaf_index}")
            break
        event = stored.get(key)
        if event is None:
            verdict.problems.append(f"{where}: the sealed event is missing from the store (deleted)")
            break
        if event.topic != entry.topic or payload_hash(event.state) != entry.payload_hash:
            verdict.problems.append(f"{where}: the stored event differs from what was sealed (its bytes were changed)")
            break
        previous = heads.get(entry.originator_id)
        expected = (NO_PREVIOUS_INDEX, NO_PREVIOUS_HASH, 1) if previous is None else (
            previous[1], previous[2], previous[0] + 1)
        if (entry.prev_leaf_index, entry.prev_leaf_hash, entry.originator_version) != expected:
            verdict.problems.append(f"{where}: breaks the aggregate's chain (an event was removed, reordered or "
                                    "rewritten)")
            break
        if entry.recorded_at_us < last_at:
            verdict.problems.append(f"{where}: recorded before the leaf preceding it")
            break
        heads[entry.originator_id] = (entry.originator_version, leaf.leaf_index, leaf.leaf_hash)
        sealed.add(key)
        last_at = entry.recorded_at_us
        hashes.append(leaf.leaf_hash)
        verdict.checked += 1
    if verdict.ok:
        unsealed = sorted(set(stored) - sealed, key=lambda k: (str(k[0]), k[1]))
        if unsealed:
            aggregate, version = unsealed[0]
            verdict.problems.append(f"aggregate {aggregate} version {version}: stored but not sealed (inserted "
                                    "around the ledger)")
        verdict.root = root(hashes)
    return verdict
