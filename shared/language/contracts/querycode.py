"""Query codes (查询码): the petitioner's key to follow a petition without an account.

16 symbols of Crockford's base32 (80 random bits from `secrets`), shown as XXXX-XXXX-XXXX-XXXX. With the
gateway's per-address rate limit, guessing a valid code is out of reach. Input is forgiving: lower case, spaces
and the look-alikes I/L (→1) and O (→0) are accepted.
"""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
_LOOKALIKES = str.maketrans({"I": "1", "L": "1", "O": "0"})
LENGTH = 16


def issue() -> str:
    bits = int.from_bytes(secrets.token_bytes(LENGTH * 5 // 8), "big")  # 80 bits, one call to the OS CSPRNG
    symbols = "".join(ALPHABET[(bits >> (5 * i)) & 31] for i in range(LENGTH))
    return "-".join(symbols[i : i + 4] for i in range(0, LENGTH, 4))


def normalize(text: str) -> str | None:
    """The canonical form of a code as a person typed it, or None if it cannot be one."""
    compact = "".join(ch for ch in text.upper() if ch not in " -\t").translate(_LOOKALIKES)
    if len(compact) != LENGTH or any(ch not in ALPHABET for ch in compact):
        return None
    return "-".join(compact[i : i + 4] for i in range(0, LENGTH, 4))
