"""The witness cosigns only checkpoints signed by the log's key that extend the last one it cosigned."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.audit.checkpoint import Checkpoint, generate_key, load_private_key, sign
from shared.audit.merkle import consistency_proof, leaf_hash, root, subtree_of
from shared.audit.witness import Witness, WitnessRefusal, verify_cosignature

ORIGIN = "xinfang.330106/intake/audit/v1"
LEAVES = [leaf_hash(f"event {i}".encode()) for i in range(20)]


@pytest.fixture
def keys(tmp_path: Path):
    log_public = generate_key(tmp_path / "log.key")
    generate_key(tmp_path / "witness.key")
    return load_private_key(tmp_path / "log.key"), log_public, load_private_key(tmp_path / "witness.key")


def note(log_key, hashes) -> str:
    return sign(Checkpoint(ORIGIN, len(hashes), root(hashes)), log_key)


def test_a_witness_cosigns_a_log_that_only_grows_and_refuses_a_rewritten_one(keys, tmp_path: Path) -> None:
    log_key, log_public, witness_key = keys
    witness = Witness("province", witness_key, {ORIGIN: log_public}, tmp_path / "state.json")

    first = note(log_key, LEAVES[:8])
    line = witness.add_checkpoint(0, [], first)
    assert verify_cosignature(first + line, "province", witness.public_key) is not None

    grown = note(log_key, LEAVES[:13])
    witness.add_checkpoint(8, consistency_proof(8, 13, subtree_of(LEAVES)), grown)

    rewritten = [*LEAVES[:3], leaf_hash(b"forged"), *LEAVES[4:16]]
    with pytest.raises(WitnessRefusal) as refused:
        witness.add_checkpoint(13, consistency_proof(13, 16, subtree_of(rewritten)), note(log_key, rewritten))
    assert refused.value.status == 422

    # It remembers across restarts, and tells a checkpointer that is out of step what it holds.
    again = Witness("province", witness_key, {ORIGIN: log_public}, tmp_path / "state.json")
    with pytest.raises(WitnessRefusal) as stale:
        again.add_checkpoint(8, [], note(log_key, LEAVES[:13]))
    assert (stale.value.status, stale.value.size) == (409, 13)


def test_a_witness_refuses_a_log_it_does_not_know_or_a_note_the_log_key_did_not_sign(keys, tmp_path: Path) -> None:
    log_key, log_public, witness_key = keys
    witness = Witness("province", witness_key, {ORIGIN: log_public}, tmp_path / "state.json")

    with pytest.raises(WitnessRefusal) as unknown:
        witness.add_checkpoint(0, [], sign(Checkpoint("another/log", 1, LEAVES[0]), log_key))
    with pytest.raises(WitnessRefusal) as forged:
        witness.add_checkpoint(0, [], note(witness_key, LEAVES[:4]))  # signed by some other key

    assert (unknown.value.status, forged.value.status) == (403, 403)


def test_a_witness_that_saw_an_empty_log_still_cosigns_its_first_growth(keys, tmp_path: Path) -> None:
    log_key, log_public, witness_key = keys
    witness = Witness("province", witness_key, {ORIGIN: log_public}, tmp_path / "state.json")

    witness.add_checkpoint(0, [], note(log_key, []))
    assert witness.add_checkpoint(0, [], note(log_key, LEAVES[:5]))
