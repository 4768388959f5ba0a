"""Signed checkpoints (C2SP signed note, Ed25519)."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.audit.checkpoint import (
    Checkpoint,
    CheckpointError,
    generate_key,
    key_id,
    load_private_key,
    raw_public_key,
    sign,
    verify,
)

ORIGIN = "xinfang.330106/intake/audit/v1"


@pytest.fixture
def key(tmp_path: Path):
    path = tmp_path / "log.key"
    public = generate_key(path)
    return load_private_key(path), public


def test_a_signed_checkpoint_verifies_with_the_published_key(key) -> None:
    private, public = key
    note = sign(Checkpoint(ORIGIN, 8, bytes(range(32))), private)

    assert note.startswith(f"{ORIGIN}\n8\n") and f"\n\n— {ORIGIN} " in note and note.endswith("\n")
    assert verify(note, ORIGIN, public) == Checkpoint(ORIGIN, 8, bytes(range(32)))
    assert len(key_id(ORIGIN, public)) == 4 and raw_public_key(private.public_key()) == public


def test_a_changed_checkpoint_or_another_key_does_not_verify(key, tmp_path: Path) -> None:
    private, public = key
    note = sign(Checkpoint(ORIGIN, 8, bytes(32)), private)
    other = generate_key(tmp_path / "other.key")

    with pytest.raises(CheckpointError, match="does not verify"):
        verify(note.replace("\n8\n", "\n9\n", 1), ORIGIN, public)
    with pytest.raises(CheckpointError, match="no signature"):
        verify(note, ORIGIN, other)
    with pytest.raises(CheckpointError, match="no signature"):
        verify(note, "another/origin", public)
