"""RFC 9162 (Certificate Transparency v2, as RFC 6962 §2.1) Merkle tree hashing, inclusion and consistency proofs.

Pure functions over leaf hashes, shared by the checkpointer, the exporter and the offline verifier (standard library
only). The shapes follow RFC 9162 §2.1.3-2.1.4; the tests check them against the published transparency-dev / RFC
6962 test vectors and every (index, size) pair of small trees.

    leaf_hash(d)  = SHA-256(0x00 || d)
    node_hash(l,r) = SHA-256(0x01 || l || r)
    root([])      = SHA-256("")
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable, Sequence

Hash = bytes
EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof that does not fit its tree sizes (too short, too long, out of range)."""


def leaf_hash(data: bytes) -> Hash:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: Hash, right: Hash) -> Hash:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(n: int) -> int:
    """The largest power of two strictly less than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaf_hashes: Iterable[Hash]) -> Hash:
    """The tree head over leaf hashes in order, streaming: O(log n) memory."""
    stack: list[tuple[int, Hash]] = []  # perfect subtrees, sizes strictly decreasing
    for h in leaf_hashes:
        size = 1
        while stack and stack[-1][0] == size:
            h = node_hash(stack.pop()[1], h)
            size *= 2
        stack.append((size, h))
    if not stack:
        return EMPTY_ROOT
    r = stack.pop()[1]
    while stack:
        r = node_hash(stack.pop()[1], r)
    return r


Subtree = Callable[[int, int], Hash]  # hash of leaves [lo, hi)


def subtree_of(leaf_hashes: Sequence[Hash]) -> Subtree:
    """Subtree hashes computed from the leaf hashes themselves (the server side may use stored nodes instead)."""

    @functools.lru_cache(maxsize=4096)
    def subtree(lo: int, hi: int) -> Hash:
        if hi - lo == 1:
            return leaf_hashes[lo]
        k = split(hi - lo)
        return node_hash(subtree(lo, lo + k), subtree(lo + k, hi))

    return subtree


def inclusion_proof(index: int, size: int, subtree: Subtree) -> list[Hash]:
    """The audit path of leaf `index` in the tree of `size` leaves, ordered leaf → root."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size}")

    def path(m: int, lo: int, hi: int) -> list[Hash]:
        if hi - lo == 1:
            return []
        k = split(hi - lo)
        if m < lo + k:
            return [*path(m, lo, lo + k), subtree(lo + k, hi)]
        return [*path(m, lo + k, hi), subtree(lo, lo + k)]

    return path(index, 0, size)


def root_from_inclusion(index: int, size: int, leaf: Hash, proof: Sequence[Hash]) -> Hash:
    """The root that `proof` leads to from `leaf` at `index` (RFC 9162 §2.1.3.2); raises ProofError if the proof
    cannot belong to a tree of `size`."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size}")
    pos, last, acc = index, size - 1, leaf
    for sibling in proof:
        if last == 0:
            raise ProofError("inclusion proof too long")
        if pos % 2 == 1 or pos == last:
            acc = node_hash(sibling, acc)
            while pos % 2 == 0 and pos != 0:  # a lone right-border node is promoted unchanged
                pos >>= 1
                last >>= 1
        else:
            acc = node_hash(acc, sibling)
        pos >>= 1
        last >>= 1
    if last != 0:
        raise ProofError("inclusion proof too short")
    return acc


def verify_inclusion(index: int, size: int, leaf: Hash, proof: Sequence[Hash], expected_root: Hash) -> bool:
    try:
        return root_from_inclusion(index, size, leaf, proof) == expected_root
    except ProofError:
        return False


def consistency_proof(old_size: int, new_size: int, subtree: Subtree) -> list[Hash]:
    """Proof that the tree of `new_size` leaves extends the tree of `old_size` (RFC 9162 §2.1.4.1)."""
    if not 0 < old_size <= new_size:
        raise ProofError(f"no consistency proof from {old_size} to {new_size}")
    if old_size == new_size:
        return []

    def sub(m: int, lo: int, hi: int, whole: bool) -> list[Hash]:
        if m == hi - lo:
            return [] if whole else [subtree(lo, hi)]
        k = split(hi - lo)
        if m <= k:
            return [*sub(m, lo, lo + k, whole), subtree(lo + k, hi)]
        return [*sub(m - k, lo + k, hi, False), subtree(lo, lo + k)]

    return sub(old_size, 0, new_size, True)


def verify_consistency(old_size: int, new_size: int, old_root: Hash, new_root: Hash, proof: Sequence[Hash]) -> bool:
    """True if `proof` shows the tree (`new_size`, `new_root`) extends (`old_size`, `old_root`) (RFC 9162
    §2.1.4.2): nothing in the first `old_size` leaves was changed, removed or reordered."""
    if old_size <= 0 or old_size > new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is itself a node of the new tree
        path = [old_root, *path]
    a, b = old_size - 1, new_size - 1
    while a % 2 == 1:
        a >>= 1
        b >>= 1
    old = new = path[0]
    for c in path[1:]:
        if b == 0:
            return False
        if a % 2 == 1 or a == b:
            old, new = node_hash(c, old), node_hash(c, new)
            while a % 2 == 0 and a != 0:
                a >>= 1
                b >>= 1
        else:
            new = node_hash(new, c)
        a >>= 1
        b >>= 1
    return b == 0 and old == old_root and new == new_root
