"""Signed case heads (shared/audit/heads.py): they round-trip, refuse malformed or foreign notes, can never be read
as a checkpoint nor a checkpoint as them, and a log that holds a later event refutes them."""

from __future__ import annotations

import hashlib
from uuid import uuid4

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.audit import checkpoint, heads
from shared.audit.checkpoint import Checkpoint, CheckpointError, raw_public_key

ORIGIN = "xinfang.330106/supervision/audit/v1"
KEY = Ed25519PrivateKey.generate()
PUBLIC = raw_public_key(KEY.public_key())
CASE, NOTICE = uuid4(), uuid4()
DIGEST = hashlib.sha256(b"leaf").digest()


def stated(**changes) -> heads.CaseHeads:
    values = {"origin": ORIGIN, "size": 40, "petition_id": CASE, "heads": {CASE: (7, DIGEST), NOTICE: (0, None)}}
    return heads.CaseHeads(**{**values, **changes})


def test_signed_case_heads_read_back_as_they_were_signed():
    assert heads.verify(heads.sign(stated(), KEY), ORIGIN, PUBLIC) == stated()


@pytest.mark.parametrize("body", [
    f"{ORIGIN}\ncase-heads/v1\n40\n{CASE}\n{CASE} 7\n",                     # a head without its hash
    f"{ORIGIN}\ncase-heads/v1\n40\n{CASE}\n{CASE} 0 AAAA\n",                # version 0 with a hash
    f"{ORIGIN}\ncase-heads/v1\n40\n{CASE}\n{CASE} 3 AAAA\n",                # a hash that is not 32 bytes
    f"{ORIGIN}\ncase-heads/v1\n40\nnot-a-uuid\n",                           # no case id
    f"{ORIGIN}\ncase-heads/v1\n040\n{CASE}\n",                              # a size with a leading zero
    f"other.origin\ncase-heads/v1\n40\n{CASE}\n",                           # another log's
])
def test_malformed_case_heads_are_refused(body):
    with pytest.raises(CheckpointError):
        heads.verify(checkpoint.sign_note(body, ORIGIN, KEY), ORIGIN, PUBLIC)


def test_case_heads_and_checkpoints_cannot_be_taken_for_each_other():
    signed_heads = heads.sign(stated(), KEY)
    signed_checkpoint = checkpoint.sign(Checkpoint(ORIGIN, 40, DIGEST), KEY)

    with pytest.raises(CheckpointError):
        checkpoint.verify(signed_heads, ORIGIN, PUBLIC)
    with pytest.raises(CheckpointError):
        heads.verify(signed_checkpoint, ORIGIN, PUBLIC)


def test_a_log_holding_a_later_event_refutes_the_heads():
    later = hashlib.sha256(b"later").digest()

    assert heads.refutation(stated(), {CASE.bytes: (7, DIGEST)}) is None
    assert "holds version 8" in heads.refutation(stated(), {CASE.bytes: (8, later)})
    assert "holds version 1" in heads.refutation(stated(), {CASE.bytes: (7, DIGEST), NOTICE.bytes: (1, later)})
