"""Sign-in state shared by every gateway instance, in the platform's MongoDB (the read models' database): per
user name throttling with growing lock-outs, the record of lock-outs for auditors, and revoked tokens.

Collections (the gateway is their only writer):
- `sign_in_throttles`: one document per user name that failed recently, keyed by an HMAC of the normalised name
  (unknown names are throttled too, and no attacker-supplied name is stored); removed by a TTL index a quiet
  `forget_after` after its last failure or lock-out.
- `sign_in_lockouts`: one document per lock-out (time, the account's name if it exists, client address, until).
- `revoked_tokens`: the ids (`jti`) of signed-out tokens until they expire (TTL index).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from mongoengine.connection import get_db
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from services.gateway.metrics import SIGN_IN_LOCKOUTS
from shared.readmodels import READ_MODELS_ALIAS

THROTTLES = "sign_in_throttles"
LOCKOUTS = "sign_in_lockouts"
REVOKED_TOKENS = "revoked_tokens"


def _now() -> datetime:
    return datetime.now(timezone.utc)


class _Collections:
    """The gateway's own collections in the read models' database, indexed on first use in each database."""

    INDEXES: dict[str, list[tuple[list[tuple[str, int]], dict[str, Any]]]] = {
        THROTTLES: [([("expires_at", ASCENDING)], {"expireAfterSeconds": 0})],
        LOCKOUTS: [([("at", DESCENDING)], {})],
        REVOKED_TOKENS: [([("expires_at", ASCENDING)], {"expireAfterSeconds": 0})],
    }

    def __init__(self) -> None:
        self._indexed: set[tuple[str, str]] = set()

    def __call__(self, name: str) -> Collection:
        database = get_db(READ_MODELS_ALIAS)
        collection = database[name]
        if (database.name, name) not in self._indexed:
            for keys, options in self.INDEXES[name]:
                collection.create_index(keys, **options)
            self._indexed.add((database.name, name))
        return collection


@dataclass(frozen=True)
class Lockout:
    until: datetime

    def seconds_left(self, now: datetime | None = None) -> int:
        return max(math.ceil((self.until - (now or _now())).total_seconds()), 1)


class SignInThrottle:
    """After `max_failures` consecutive wrong passwords for one user name, the name is locked for `lockout`; each
    further lock-out doubles it, up to `max_lockout`. A successful sign-in forgets the name's failures and
    lock-outs; so does a quiet `forget_after` (the TTL index removes the document). While locked, no password is
    checked at all (which also spares the CPU of argon2 under attack)."""

    def __init__(self, secret: str, max_failures: int, lockout: timedelta, max_lockout: timedelta,
                 forget_after: timedelta) -> None:
        self._secret = secret.encode()
        self.max_failures = max_failures
        self.lockout, self.max_lockout, self.forget_after = lockout, max_lockout, forget_after
        self._collection = _Collections()

    def key(self, username: str) -> str:
        """The name as people would read it (NFKC, trimmed, case-folded), hashed with the gateway's secret: names
        that differ only in case or width share one throttle, and the database never holds the name itself."""
        normalised = unicodedata.normalize("NFKC", username).strip().casefold()
        return hmac.new(self._secret, normalised.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()

    def locked(self, key: str) -> Lockout | None:
        entry = self._collection(THROTTLES).find_one({"_id": key}, {"locked_until": 1})
        until = entry.get("locked_until") if entry else None
        return Lockout(until) if until is not None and until > _now() else None

    def failed(self, key: str, known_username: str | None, client: str) -> Lockout | None:
        """Count a wrong password; the failure that completes a streak locks the name and is recorded."""
        throttles = self._collection(THROTTLES)
        now = _now()
        update = {"$inc": {"failures": 1}, "$set": {"expires_at": now + self.forget_after},
                  "$setOnInsert": {"lockouts": 0}}
        try:
            entry = throttles.find_one_and_update({"_id": key}, update, upsert=True,
                                                  return_document=ReturnDocument.AFTER)
        except DuplicateKeyError:  # two first failures at once: the other one inserted it
            entry = throttles.find_one_and_update({"_id": key}, update, return_document=ReturnDocument.AFTER)
        if entry is None or entry["failures"] < self.max_failures:
            return None
        duration = min(self.lockout * 2 ** min(entry.get("lockouts", 0), 32), self.max_lockout)
        until = now + duration
        # Only one of several concurrent failures completing the streak takes the lock-out (and records it).
        taken = throttles.update_one(
            {"_id": key, "failures": {"$gte": self.max_failures}},
            {"$set": {"failures": 0, "locked_until": until, "expires_at": until + self.forget_after},
             "$inc": {"lockouts": 1}})
        if taken.modified_count:
            SIGN_IN_LOCKOUTS.inc()
            self._collection(LOCKOUTS).insert_one({
                "at": now, "username": known_username, "known_account": known_username is not None,
                "client": client, "until": until, "duration_seconds": int(duration.total_seconds()),
                "lockout_number": entry.get("lockouts", 0) + 1})
            return Lockout(until)
        return self.locked(key)

    def succeeded(self, key: str) -> None:
        self._collection(THROTTLES).delete_one({"_id": key})

    def lockouts(self, since: datetime | None, limit: int) -> list[dict[str, Any]]:
        """The recorded lock-outs, newest first."""
        query = {"at": {"$gte": since}} if since is not None else {}
        return list(self._collection(LOCKOUTS).find(query, {"_id": 0}).sort("at", DESCENDING).limit(limit))


class RevokedTokens:
    """Tokens signed out before they expire, by id; each entry lives until the token would have expired."""

    def __init__(self) -> None:
        self._collection = _Collections()

    def revoke(self, token_id: str, expires: datetime) -> None:
        self._collection(REVOKED_TOKENS).update_one(
            {"_id": token_id}, {"$set": {"expires_at": expires}}, upsert=True)

    def is_revoked(self, token_id: str) -> bool:
        return self._collection(REVOKED_TOKENS).find_one({"_id": token_id}, {"_id": 1}) is not None
