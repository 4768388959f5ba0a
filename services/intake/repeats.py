"""Repeat petitions (重复信访): "same person + same matter" (同人+同事; docs/domain.md §"Repeats and finality").

Same person: at least one identical person — the petitioner (for an agent, the principal), a representative or a
joint signer — by ID number, or by name and phone; for an anonymous report, the same accused party.
Same matter: the request and the facts substantially the same, measured with rapidfuzz on character bigrams
(Chinese has no spaces between words, so words are approximated by overlapping character pairs; the set ratio
ignores order and repetition, so a rephrased or re-ordered letter still matches).

Person keys are turned into petitioner-file ids with a keyed hash (HMAC-SHA256): an id in the store or in a log
does not let anyone test whether a given ID number has petitioned.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass
from uuid import UUID

from rapidfuzz import fuzz

from shared.language.contracts.registration import Person, RegisterPetition

_NOT_TEXT = re.compile(r"[\W_]+")


def person_keys(command: RegisterPetition) -> list[str]:
    """Every identity this petition is filed under, most specific first, without duplicates."""
    keys: list[str] = []
    people: list[Person | object] = []
    if command.petitioner is not None:
        people.append(command.petitioner)
    people.extend(command.representatives)
    people.extend(command.joint_signers)
    for person in people:
        id_number = getattr(person, "id_number", None)
        if id_number:
            keys.append(f"id:{id_number.upper()}")
        name, phone = getattr(person, "name", None), getattr(person, "phone", None)
        if name and phone:
            keys.append(f"name+phone:{_plain(name)}|{phone}")
    if command.anonymous and command.accused is not None:
        accused = command.accused
        keys.append(f"accused:{_plain(accused.name)}|{_plain(accused.organisation or '')}")
    return list(dict.fromkeys(keys))


def file_id(key: str, secret: bytes) -> UUID:
    return UUID(bytes=hmac.new(secret, key.encode(), hashlib.sha256).digest()[:16], version=4)


def _plain(text: str) -> str:
    """Compatibility-normalised (full-width → half-width), without punctuation or spaces, lower case."""
    return _NOT_TEXT.sub("", unicodedata.normalize("NFKC", text)).lower()


def _bigrams(text: str) -> str:
    plain = _plain(text)
    return " ".join(plain[i:i + 2] for i in range(len(plain) - 1)) or plain


def matter_text(request: str, facts_and_reasons: str) -> str:
    return f"{request}。{facts_and_reasons}"


@dataclass(frozen=True)
class SameMatterTest:
    """`threshold`: the bigram set ratio (0-100) from which two petitions are the same matter."""

    threshold: float = 60.0

    def similarity(self, text: str, earlier_text: str) -> float:
        return round(fuzz.token_set_ratio(_bigrams(text), _bigrams(earlier_text)), 1)

    def same_matter(self, text: str, earlier_text: str) -> tuple[bool, float]:
        score = self.similarity(text, earlier_text)
        return score >= self.threshold, score
