"""The Merkle functions against the RFC 6962 / transparency-dev test vectors, and every proof of small trees."""

from __future__ import annotations

import pytest

from shared.audit.merkle import (
    EMPTY_ROOT,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root,
    root_from_inclusion,
    subtree_of,
    verify_consistency,
    verify_inclusion,
)

# RFC 6962 test leaves and roots (transparency-dev/merkle testdata; certificate-transparency merkle_tree_test).
LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                     "606162636465666768696a6b6c6d6e6f")]
ROOTS = [bytes.fromhex(h) for h in (
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
)]
INCLUSION = {  # (index, size) -> audit path
    (0, 1): [],
    (0, 8): ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
             "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
    (5, 8): ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
             "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"],
}
CONSISTENCY = {  # (old size, new size) -> proof
    (1, 1): [],
    (1, 8): ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
             "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
    (6, 8): ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
             "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"],
    (2, 5): ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"],
}
HASHES = [leaf_hash(d) for d in LEAVES]


def test_the_empty_tree_is_the_hash_of_nothing() -> None:
    assert root([]).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" == EMPTY_ROOT.hex()


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_the_rfc_6962_vectors(size: int) -> None:
    assert root(HASHES[:size]) == ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size"), INCLUSION)
def test_inclusion_proofs_match_the_vectors(index: int, size: int) -> None:
    proof = inclusion_proof(index, size, subtree_of(HASHES))

    assert [h.hex() for h in proof] == INCLUSION[index, size]
    assert verify_inclusion(index, size, HASHES[index], proof, ROOTS[size - 1])


@pytest.mark.parametrize(("old", "new"), CONSISTENCY)
def test_consistency_proofs_match_the_vectors(old: int, new: int) -> None:
    proof = consistency_proof(old, new, subtree_of(HASHES))

    assert [h.hex() for h in proof] == CONSISTENCY[old, new]
    assert verify_consistency(old, new, ROOTS[old - 1], ROOTS[new - 1], proof)


TREE = [leaf_hash(i.to_bytes(4, "big")) for i in range(70)]
ROOT_AT = {n: root(TREE[:n]) for n in range(1, 71)}


def test_every_inclusion_proof_of_trees_up_to_70_leaves_verifies_and_is_bound_to_its_index() -> None:
    subtree = subtree_of(TREE)
    for size in range(1, 71):
        for index in range(size):
            proof = inclusion_proof(index, size, subtree)
            assert verify_inclusion(index, size, TREE[index], proof, ROOT_AT[size]), (index, size)
            if size > 1:  # the same proof for a neighbouring index must fail
                other = (index + 1) % size
                assert not verify_inclusion(other, size, TREE[index], proof, ROOT_AT[size]), (index, size)


def test_every_consistency_proof_of_trees_up_to_70_leaves_verifies() -> None:
    subtree = subtree_of(TREE)
    for new in range(1, 71):
        for old in range(1, new + 1):
            proof = consistency_proof(old, new, subtree)
            assert verify_consistency(old, new, ROOT_AT[old], ROOT_AT[new], proof), (old, new)


def test_tampered_truncated_and_extended_proofs_are_rejected() -> None:
    subtree = subtree_of(TREE)
    proof = inclusion_proof(13, 50, subtree)
    flipped = [proof[0][:-1] + bytes([proof[0][-1] ^ 1]), *proof[1:]]

    assert not verify_inclusion(13, 50, TREE[13], flipped, ROOT_AT[50])
    assert not verify_inclusion(13, 50, TREE[13], proof[:-1], ROOT_AT[50])
    assert not verify_inclusion(13, 50, TREE[13], [*proof, proof[0]], ROOT_AT[50])
    assert not verify_inclusion(13, 50, TREE[14], proof, ROOT_AT[50])
    with pytest.raises(ProofError):
        root_from_inclusion(50, 50, TREE[13], proof)

    consistency = consistency_proof(20, 50, subtree)
    assert not verify_consistency(20, 50, ROOT_AT[21], ROOT_AT[50], consistency)  # a rewritten old tree
    assert not verify_consistency(20, 50, ROOT_AT[20], ROOT_AT[49], consistency)
    assert not verify_consistency(20, 50, ROOT_AT[20], ROOT_AT[50], consistency[:-1])
    assert not verify_consistency(0, 50, ROOT_AT[20], ROOT_AT[50], consistency)
