"""Officer authentication: accounts from configuration, argon2 password hashes, signed JWT bearer tokens.

Accounts are never in code: production reads them from GATEWAY_USERS_FILE (JSON, see docs/security.md), managed
with `python -m services.gateway.users`. Roles: clerk, organ_officer, supervisor, auditor, admin. The file is
re-read when it changes (checked at most every GATEWAY_USERS_RELOAD_SECONDS), and a token stops working once its
account is removed, moved to another role or organ, or given a new password.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from shared.language.contracts.actor import OFFICER_ROLES, Actor, Role

# Who may have an account: officers, and integrators (the integration feed alone: services/gateway/deps.py).
ACCOUNT_ROLES = (*OFFICER_ROLES, Role.INTEGRATOR)

log = logging.getLogger(__name__)

ISSUER = "xinfang-gateway"
_hasher = PasswordHasher()
# Verified against when the user is unknown, so a wrong user name costs as much time as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class UserRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1)
    display_name: str = ""
    role: Role
    organ_code: str | None = None
    password_hash: str = Field(min_length=20)
    # An integrator's only: the provinces (CloudEvents sources, e.g. urn:xinfang:province:330000) whose answers from
    # the county it may read in the integration feed, besides the events exchange's (services/gateway/routes/feed.py).
    sources: list[str] = []

    @field_validator("role")
    @classmethod
    def _an_officer(cls, role: Role) -> Role:
        if role not in ACCOUNT_ROLES:
            raise ValueError(f"an account's role is one of {', '.join(ACCOUNT_ROLES)}")
        return role


class UsersFile(BaseModel):
    users: list[UserRecord]


class UsersFileError(ValueError):
    pass


@dataclass(frozen=True)
class Principal:
    username: str
    role: Role
    organ_code: str | None
    sources: tuple[str, ...] = ()  # an integrator's provinces (UserRecord.sources)
    # Not part of who the officer is (equality): which password the token was issued under, and the token itself.
    credential: str | None = field(default=None, compare=False)
    token_id: str | None = field(default=None, compare=False)
    token_expires: datetime | None = field(default=None, compare=False)

    def actor(self) -> dict[str, str | None]:
        """How this officer is recorded on the events they cause (an Actor, as it travels in a signed call)."""
        return Actor(role=self.role, user=self.username, organ=self.organ_code).model_dump()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def credential_tag(password_hash: str) -> str:
    """A short fingerprint of the account's password hash, carried in its tokens: a new password (a new hash, even
    for the same password) ends the tokens issued under the old one. Reveals nothing usable about the password."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def _index(users: list[UserRecord]) -> dict[str, UserRecord]:
    for user in users:
        if user.role is Role.ORGAN_OFFICER and not user.organ_code:
            raise UsersFileError(f"organ officer {user.username!r} needs an organ_code")
        if user.sources and user.role is not Role.INTEGRATOR:
            raise UsersFileError(f"only an integrator has sources, not {user.username!r}")
    return {u.username: u for u in users}


def _read_users(path: Path) -> dict[str, UserRecord]:
    try:
        return _index(UsersFile.model_validate(json.loads(Path(path).read_text(encoding="utf-8"))).users)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValidationError, UsersFileError) as error:
        raise UsersFileError(f"cannot load users from {path}: {error}") from None


def _signature(path: Path) -> tuple[int, int, int]:
    status = os.stat(path)
    return status.st_mtime_ns, status.st_size, status.st_ino


class UserDirectory:
    """The accounts, re-read from their file when it changes: the file's modification time, size and inode are
    looked at, at most every `reload_seconds`, on the requests that need an account. A file that cannot be read or
    is invalid keeps the accounts as they were (and is logged as an error) rather than locking everyone out."""

    def __init__(self, users: list[UserRecord], path: Path | None = None, reload_seconds: float = 15.0) -> None:
        self._users = _index(users)
        self._path = path
        self._reload_seconds = reload_seconds
        self._signature: tuple[int, int, int] | None = None
        self._next_check = time.monotonic() + reload_seconds
        self._reloading = threading.Lock()

    @classmethod
    def load(cls, path: Path | None, reload_seconds: float = 15.0) -> UserDirectory:
        if path is None:
            return cls([])
        try:
            signature = _signature(path)  # before reading: a change in between is read again next time
        except OSError as error:
            raise UsersFileError(f"cannot load users from {path}: {error}") from None
        directory = cls([], path, reload_seconds)
        directory._users, directory._signature = _read_users(path), signature
        return directory

    def _current(self) -> dict[str, UserRecord]:
        if self._path is not None and time.monotonic() >= self._next_check:
            self._reload()
        return self._users

    def _reload(self) -> None:
        if not self._reloading.acquire(blocking=False):  # another thread is at it: use the accounts as they are
            return
        try:
            self._next_check = time.monotonic() + self._reload_seconds
            try:
                signature = _signature(self._path)
                if signature == self._signature:
                    return
                users = _read_users(self._path)
            except (OSError, UsersFileError) as error:
                log.error("users file unreadable, keeping the %d accounts loaded before: %s", len(self._users), error)
                return
            self._users, self._signature = users, signature  # one assignment: readers see the old or the new set
            log.info("users file changed: %d accounts loaded from %s", len(users), self._path)
        finally:
            self._reloading.release()

    def exists(self, username: str) -> bool:
        return username in self._current()

    def still_holds(self, principal: Principal) -> bool:
        """The account still exists with the role and organ the token was issued for, and the same password."""
        user = self._current().get(principal.username)
        return (user is not None and user.role is principal.role and user.organ_code == principal.organ_code
                and tuple(user.sources) == principal.sources
                and principal.credential == credential_tag(user.password_hash))

    def authenticate(self, username: str, password: str) -> Principal | None:
        user = self._current().get(username)
        try:
            _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        if user is None:
            return None
        return Principal(user.username, user.role, user.organ_code, tuple(user.sources),
                         credential=credential_tag(user.password_hash))


class TokenError(ValueError):
    pass


class TokenService:
    def __init__(self, secret: str, ttl_minutes: int) -> None:
        self._secret = secret
        self._ttl = timedelta(minutes=ttl_minutes)

    @property
    def ttl_seconds(self) -> int:
        return int(self._ttl.total_seconds())

    def issue(self, principal: Principal) -> str:
        now = datetime.now(UTC)
        # jti: the token's own id, by which sign-out revokes it (services/gateway/signin.py).
        claims = {"sub": principal.username, "role": principal.role.value, "organ": principal.organ_code,
                  "cred": principal.credential, "jti": uuid.uuid4().hex, "iss": ISSUER, "iat": now,
                  "exp": now + self._ttl}
        if principal.sources:
            claims["src"] = list(principal.sources)
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(token, self._secret, algorithms=["HS256"], issuer=ISSUER,
                                options={"require": ["exp", "iat", "sub", "iss", "jti"]})
            if not isinstance(claims["jti"], str) or not claims["jti"]:
                raise ValueError("jti must be a non-empty string")
            sources = claims.get("src", [])
            if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
                raise ValueError("src must be a list of strings")
            return Principal(claims["sub"], Role(claims["role"]), claims.get("organ"), tuple(sources),
                             credential=claims.get("cred"),
                             token_id=claims["jti"],
                             token_expires=datetime.fromtimestamp(claims["exp"], UTC))
        except (jwt.PyJWTError, KeyError, ValueError, TypeError, OverflowError) as error:
            raise TokenError(str(error)) from None
