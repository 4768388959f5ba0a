"""Officer authentication: accounts from configuration, argon2 password hashes, signed JWT bearer tokens.

Accounts are never in code: production reads them from GATEWAY_USERS_FILE (JSON, see docs/security.md), managed
with `python -m services.gateway.users`. Roles: clerk, organ_officer, supervisor, auditor, admin.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from pathlib import Path

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

ISSUER = "xinfang-gateway"
_hasher = PasswordHasher()
# Verified against when the user is unknown, so a wrong user name costs as much time as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class Role(StrEnum):
    CLERK = "clerk"  # 登记员: registers letters, visits and calls
    ORGAN_OFFICER = "organ_officer"  # 有权处理机关工作人员: sees only petitions routed to their organ
    SUPERVISOR = "supervisor"  # 督查督办
    AUDITOR = "auditor"  # 审计
    ADMIN = "admin"


class UserRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1)
    display_name: str = ""
    role: Role
    organ_code: str | None = None
    password_hash: str = Field(min_length=20)


class UsersFile(BaseModel):
    users: list[UserRecord]


class UsersFileError(ValueError):
    pass


@dataclass(frozen=True)
class Principal:
    username: str
    role: Role
    organ_code: str | None

    def actor(self) -> dict[str, str | None]:
        """How this officer is recorded on the events they cause."""
        return {"role": self.role.value, "user": self.username, "organ": self.organ_code}


def hash_password(password: str) -> str:
    return _hasher.hash(password)


class UserDirectory:
    def __init__(self, users: list[UserRecord]) -> None:
        self._users = {u.username: u for u in users}
        for user in users:
            if user.role is Role.ORGAN_OFFICER and not user.organ_code:
                raise UsersFileError(f"organ officer {user.username!r} needs an organ_code")

    @classmethod
    def load(cls, path: Path | None) -> UserDirectory:
        if path is None:
            return cls([])
        try:
            return cls(UsersFile.model_validate(json.loads(Path(path).read_text(encoding="utf-8"))).users)
        except (OSError, json.JSONDecodeError, ValidationError) as error:
            raise UsersFileError(f"cannot load users from {path}: {error}") from None

    def still_holds(self, principal: Principal) -> bool:
        """The account still exists with the role and organ the token was issued for."""
        user = self._users.get(principal.username)
        return user is not None and user.role is principal.role and user.organ_code == principal.organ_code

    def authenticate(self, username: str, password: str) -> Principal | None:
        user = self._users.get(username)
        try:
            _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        if user is None:
            return None
        return Principal(user.username, user.role, user.organ_code)


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
        now = datetime.now(timezone.utc)
        claims = {"sub": principal.username, "role": principal.role.value, "organ": principal.organ_code,
                  "iss": ISSUER, "iat": now, "exp": now + self._ttl}
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(token, self._secret, algorithms=["HS256"], issuer=ISSUER,
                                options={"require": ["exp", "iat", "sub", "iss"]})
            return Principal(claims["sub"], Role(claims["role"]), claims.get("organ"))
        except (jwt.PyJWTError, KeyError, ValueError) as error:
            raise TokenError(str(error)) from None
