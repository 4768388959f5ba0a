"""Credential state shared by every gateway instance, in the platform's MongoDB (the read models' database):
throttling with growing lock-outs of a secret guessed against one key — an officer's password per user name
(scope `sign_in`), a petitioner's second factor per query code (scope `query_code`, docs/security.md) — the
record of lock-outs, and revoked tokens.

Collections (the gateway is their only writer), one pair per scope:
- `<scope>_throttles`: one document per key that failed recently, keyed by an HMAC of the normalised key (unknown
  names are throttled too, and no attacker-supplied name or query code is stored); removed by a TTL index a quiet
  `forget_after` after its last failure or lock-out.
- `<scope>_lockouts`: one document per lock-out (time, client address, until, and what the scope records of whom
  it locked: the account's name if it exists; the petition's id).
- `revoked_tokens`: the ids (`jti`) of signed-out tokens until they expire (TTL index).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from mongoengine.connection import get_db
from prometheus_client import Counter
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from services.gateway.errors import ApiError
from services.gateway.metrics import QUERY_CODE_LOCKOUTS, SIGN_IN_LOCKOUTS
from shared.language.readmodels import READ_MODELS_ALIAS

THROTTLES = "sign_in_throttles"
LOCKOUTS = "sign_in_lockouts"
REVOKED_TOKENS = "revoked_tokens"
_TTL = ([("expires_at", ASCENDING)], {"expireAfterSeconds": 0})


def _now() -> datetime:
    return datetime.now(UTC)


class _Collections:
    """The gateway's own collections in the read models' database, indexed on first use in each database."""

    # By the end of the collection's name (every scope's throttles and lock-outs are indexed alike).
    INDEXES: dict[str, list[tuple[list[tuple[str, int]], dict[str, Any]]]] = {
        "_throttles": [_TTL],
        "_lockouts": [([("at", DESCENDING)], {})],
        REVOKED_TOKENS: [_TTL],
    }

    def __init__(self) -> None:
        self._indexed: set[tuple[str, str]] = set()

    def __call__(self, name: str) -> Collection:
        database = get_db(READ_MODELS_ALIAS)
        collection = database[name]
        if (database.name, name) not in self._indexed:
            [indexes] = [specs for end, specs in self.INDEXES.items() if name.endswith(end)]
            for keys, options in indexes:
                collection.create_index(keys, **options)
            self._indexed.add((database.name, name))
        return collection


@dataclass(frozen=True)
class Attempt:
    key: str
    number: int  # its place in the current streak of unsuccessful attempts, itself included


@dataclass(frozen=True)
class Lockout:
    until: datetime

    def seconds_left(self, now: datetime | None = None) -> int:
        return max(math.ceil((self.until - (now or _now())).total_seconds()), 1)

    def refusal(self, error: str, what: str) -> ApiError:
        """429 with the time to wait, in the header (seconds), the body, and the message (minutes) for people."""
        seconds = self.seconds_left()
        return ApiError(429, error, f"{what}，请{math.ceil(seconds / 60)}分钟后再试",
                        headers={"Retry-After": str(seconds)}, extra={"retry_after": seconds})


class FailureThrottle:
    """After `max_failures` consecutive wrong secrets for one key, the key is locked for `lockout`; each further
    lock-out doubles it, up to `max_lockout`. A success forgets the key's failures and lock-outs; so does a quiet
    `forget_after` (the TTL index removes the document). While locked, the secret is not checked at all (which also
    spares argon2's CPU, or a call to intake, under attack). Keys of different scopes never meet: each scope has its
    own collections and lock-out counter."""

    def __init__(self, secret: str, max_failures: int, lockout: timedelta, max_lockout: timedelta,
                 forget_after: timedelta, *, scope: str, lockouts_metric: Counter) -> None:
        # A key of this scope's own, derived from the gateway's secret (never the token-signing key itself).
        self._secret = hmac.new(secret.encode(), f"xinfang:{scope}-throttle".encode(), hashlib.sha256).digest()
        self.max_failures = max_failures
        self.lockout, self.max_lockout, self.forget_after = lockout, max_lockout, forget_after
        self.throttles, self.lockouts_collection = f"{scope}_throttles", f"{scope}_lockouts"
        self._lockouts_metric = lockouts_metric
        self._collection = _Collections()

    def key(self, text: str) -> str:
        """The key as people would read it (NFKC, trimmed, case-folded), hashed with the gateway's secret: keys
        that differ only in case or width share one throttle, and the database never holds the key itself."""
        normalised = unicodedata.normalize("NFKC", text).strip().casefold()
        return hmac.new(self._secret, normalised.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()

    def locked(self, key: str) -> Lockout | None:
        entry = self._collection(self.throttles).find_one({"_id": key}, {"locked_until": 1})
        until = entry.get("locked_until") if entry else None
        return Lockout(until) if until is not None and until > _now() else None

    def begin(self, key: str) -> Attempt | Lockout:
        """Count an attempt before its secret is checked: concurrent guesses cannot all pass a check made before
        any of them failed. Returns the lock-out that refuses it (then the secret must not be checked), or the
        attempt, to give `failed` or `succeeded` once checked."""
        lockout = self.locked(key)
        if lockout is not None:
            return lockout
        throttles = self._collection(self.throttles)
        now = _now()
        update = {"$inc": {"failures": 1}, "$set": {"expires_at": now + self.forget_after},
                  "$setOnInsert": {"lockouts": 0}}
        # Counted only while the key is not locked: an attempt that found it unlocked a moment ago, and arrives
        # after a concurrent failure locked it, is refused, not counted as the first of a new streak.
        unlocked = {"_id": key, "$or": [{"locked_until": None}, {"locked_until": {"$lte": now}}]}
        try:
            entry = throttles.find_one_and_update(unlocked, update, upsert=True, return_document=ReturnDocument.AFTER)
        except DuplicateKeyError:  # another attempt inserted it meanwhile, or locked it: count again, or refuse
            entry = throttles.find_one_and_update(unlocked, update, return_document=ReturnDocument.AFTER)
        if entry is None:
            return self.locked(key) or Lockout(now + self.lockout)
        if entry["failures"] > self.max_failures:  # past the streak while earlier attempts are being checked
            return self.locked(key) or Lockout(now + self.lockout)
        return Attempt(key, entry["failures"])

    def record_failure(self, attempt: Attempt, client: str, record: dict[str, Any]) -> Lockout | None:
        """The attempt's secret was wrong; the one that completes a streak locks the key and is recorded, with
        `record` (what the scope may store of whom it locked)."""
        if attempt.number < self.max_failures:
            return None
        key, throttles, now = attempt.key, self._collection(self.throttles), _now()
        entry = throttles.find_one({"_id": key}, {"lockouts": 1}) or {}
        duration = min(self.lockout * 2 ** min(entry.get("lockouts", 0), 32), self.max_lockout)
        until = now + duration
        # Only one of several concurrent failures completing the streak takes the lock-out (and records it).
        taken = throttles.update_one(
            {"_id": key, "failures": {"$gte": self.max_failures}},
            {"$set": {"failures": 0, "locked_until": until, "expires_at": until + self.forget_after},
             "$inc": {"lockouts": 1}})
        if taken.modified_count:
            self._lockouts_metric.inc()
            self._collection(self.lockouts_collection).insert_one({
                "at": now, **record, "client": client, "until": until,
                "duration_seconds": int(duration.total_seconds()), "lockout_number": entry.get("lockouts", 0) + 1})
            return Lockout(until)
        return self.locked(key)

    def succeeded(self, key: str) -> None:
        self._collection(self.throttles).delete_one({"_id": key})

    def lockouts(self, since: datetime | None, limit: int) -> list[dict[str, Any]]:
        """The recorded lock-outs, newest first."""
        query = {"at": {"$gte": since}} if since is not None else {}
        return list(self._collection(self.lockouts_collection).find(query, {"_id": 0})
                    .sort("at", DESCENDING).limit(limit))


class SignInThrottle(FailureThrottle):
    """Wrong passwords per user name (unknown names included)."""

    def __init__(self, secret: str, max_failures: int, lockout: timedelta, max_lockout: timedelta,
                 forget_after: timedelta) -> None:
        super().__init__(secret, max_failures, lockout, max_lockout, forget_after, scope="sign_in",
                         lockouts_metric=SIGN_IN_LOCKOUTS)

    def failed(self, attempt: Attempt, known_username: str | None, client: str) -> Lockout | None:
        return self.record_failure(attempt, client, {"username": known_username,
                                                     "known_account": known_username is not None})


class QueryCodeThrottle(FailureThrottle):
    """Wrong second factors (the ID number's last six characters) per query code: a leaked query code gives an
    attacker `max_failures` guesses of a million, then a growing wait (docs/security.md)."""

    def __init__(self, secret: str, max_failures: int, lockout: timedelta, max_lockout: timedelta,
                 forget_after: timedelta) -> None:
        super().__init__(secret, max_failures, lockout, max_lockout, forget_after, scope="query_code",
                         lockouts_metric=QUERY_CODE_LOCKOUTS)

    def failed(self, attempt: Attempt, petition_id: str, client: str) -> Lockout | None:
        return self.record_failure(attempt, client, {"petition_id": petition_id})


class RevokedTokens:
    """Tokens signed out before they expire, by id; each entry lives until the token would have expired."""

    def __init__(self) -> None:
        self._collection = _Collections()

    def revoke(self, token_id: str, expires: datetime) -> None:
        self._collection(REVOKED_TOKENS).update_one(
            {"_id": token_id}, {"$set": {"expires_at": expires}}, upsert=True)

    def is_revoked(self, token_id: str) -> bool:
        return self._collection(REVOKED_TOKENS).find_one({"_id": token_id}, {"_id": 1}) is not None
