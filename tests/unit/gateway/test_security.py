"""Officer authentication (argon2 password hashes, JWT bearer tokens, the users file) and the gateway's refusal
to run outside development with a guessable token secret."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import jwt
import pytest

from services.gateway.security import (
    ISSUER,
    Principal,
    Role,
    TokenError,
    TokenService,
    UserDirectory,
    UserRecord,
    UsersFileError,
    hash_password,
)
from services.gateway.settings import DEVELOPMENT_JWT_SECRET, GatewaySettings

SECRET = "k3Jx9-unit-test-secret-of-forty-characters"
OTHER_SECRET = "another-secret-that-is-also-long-enough-1"
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def password_hash() -> str:
    return hash_password(PASSWORD)  # argon2 is deliberately slow: hash once for the module


@pytest.fixture(scope="module")
def directory(password_hash: str) -> UserDirectory:
    return UserDirectory([
        UserRecord(username="clerk", display_name="登记员", role=Role.CLERK, organ_code="330106-XFJ",
                   password_hash=password_hash),
        UserRecord(username="officer-rsj", role=Role.ORGAN_OFFICER, organ_code="330106-RSJ",
                   password_hash=password_hash),
    ])


def officer() -> Principal:
    return Principal("officer-rsj", Role.ORGAN_OFFICER, "330106-RSJ")


# ---------------------------------------------------------------------------------------------------------------
# Passwords and the user directory
# ---------------------------------------------------------------------------------------------------------------


def test_a_password_hash_is_argon2_and_not_the_password(password_hash: str) -> None:
    assert password_hash.startswith("$argon2")
    assert PASSWORD not in password_hash


def test_the_right_password_authenticates_the_officer(directory: UserDirectory) -> None:
    assert directory.authenticate("officer-rsj", PASSWORD) == officer()


@pytest.mark.parametrize(
    ("username", "password"),
    [
        pytest.param("clerk", "correct horse battery stapler", id="wrong password"),
        pytest.param("clerk", "", id="empty password"),
        pytest.param("nobody", PASSWORD, id="unknown user with a password that is right for others"),
        pytest.param("nobody", "not-a-real-password", id="unknown user with the password of the timing decoy"),
    ],
)
def test_a_wrong_password_or_unknown_user_authenticates_nobody(directory: UserDirectory, username: str,
                                                               password: str) -> None:
    assert directory.authenticate(username, password) is None


def test_a_principal_is_recorded_on_events_as_an_actor() -> None:
    assert officer().actor() == {"role": "organ_officer", "user": "officer-rsj", "organ": "330106-RSJ"}


def test_an_organ_officer_without_an_organ_is_refused(password_hash: str) -> None:
    record = UserRecord(username="officer-x", role=Role.ORGAN_OFFICER, password_hash=password_hash)

    with pytest.raises(UsersFileError, match="officer-x.*organ_code"):
        UserDirectory([record])


def _users_file(tmp_path: Path, content: Any) -> Path:
    path = tmp_path / "users.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def test_a_users_file_loads_and_authenticates(tmp_path: Path, password_hash: str) -> None:
    path = _users_file(tmp_path, {"users": [
        {"username": "supervisor", "role": "supervisor", "organ_code": "330106-XFJ", "password_hash": password_hash},
    ]})

    directory = UserDirectory.load(path)

    assert directory.authenticate("supervisor", PASSWORD) == Principal("supervisor", Role.SUPERVISOR, "330106-XFJ")


def test_no_users_file_means_nobody_can_log_in() -> None:
    assert UserDirectory.load(None).authenticate("admin", PASSWORD) is None


HASH = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA"

BAD_USERS_FILES = [
    pytest.param("{not json", id="not JSON"),
    pytest.param({"accounts": []}, id="no users list"),
    pytest.param({"users": [{"username": "x", "role": "mayor", "password_hash": HASH}]}, id="unknown role"),
    pytest.param({"users": [{"username": "x", "role": "clerk", "password_hash": "plain"}]}, id="a password, not a hash"),
    pytest.param({"users": [{"username": "", "role": "clerk", "password_hash": HASH}]}, id="empty username"),
    pytest.param({"users": [{"username": "x", "role": "clerk", "password_hash": HASH, "password": "p"}]},
                 id="an unknown field"),
    pytest.param({"users": [{"username": "x", "role": "organ_officer", "password_hash": HASH}]},
                 id="an organ officer without an organ"),
]


@pytest.mark.parametrize("content", BAD_USERS_FILES)
def test_a_bad_users_file_is_refused(tmp_path: Path, content: Any) -> None:
    with pytest.raises(UsersFileError):
        UserDirectory.load(_users_file(tmp_path, content))


def test_a_missing_users_file_is_refused_with_its_path(tmp_path: Path) -> None:
    with pytest.raises(UsersFileError, match="absent-users.json"):
        UserDirectory.load(tmp_path / "absent-users.json")


# ---------------------------------------------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------------------------------------------


def test_a_token_round_trips_to_the_same_principal() -> None:
    tokens = TokenService(SECRET, ttl_minutes=30)

    assert tokens.verify(tokens.issue(officer())) == officer()
    assert tokens.ttl_seconds == 1800


def test_a_token_of_an_officer_without_organ_round_trips() -> None:
    tokens = TokenService(SECRET, ttl_minutes=30)
    auditor = Principal("auditor", Role.AUDITOR, None)

    assert tokens.verify(tokens.issue(auditor)) == auditor


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _with_claims_changed(token: str, **changes: Any) -> str:
    """The same header and signature over a payload an attacker edited."""
    header, payload, signature = token.split(".")
    claims = {**json.loads(_unb64(payload)), **changes}
    return ".".join([header, _b64(json.dumps(claims).encode()), signature])


def _forged(**claims: Any) -> str:
    return jwt.encode({"sub": "admin", "role": "admin", "iss": ISSUER, "iat": 1_700_000_000,
                       "exp": 4_000_000_000, **claims}, SECRET, algorithm="HS256")


REFUSED_TOKENS = [
    pytest.param(lambda: _with_claims_changed(TokenService(SECRET, 30).issue(officer()), role="admin"),
                 id="role edited to admin"),
    pytest.param(lambda: _with_claims_changed(TokenService(SECRET, 30).issue(officer()), organ="330106-JWJW"),
                 id="organ edited"),
    pytest.param(lambda: TokenService(OTHER_SECRET, 30).issue(officer()), id="signed with another secret"),
    pytest.param(lambda: TokenService(SECRET, ttl_minutes=-1).issue(officer()), id="expired"),
    pytest.param(lambda: jwt.encode({"sub": "admin", "role": "admin", "iss": ISSUER, "iat": 1_700_000_000,
                                     "exp": 4_000_000_000}, None, algorithm="none"), id="unsigned (alg none)"),
    pytest.param(lambda: _forged(iss="someone-else"), id="another issuer"),
    pytest.param(lambda: _forged(role="mayor"), id="an unknown role"),
    pytest.param(lambda: jwt.encode({"sub": "admin", "role": "admin", "iss": ISSUER, "iat": 1_700_000_000},
                                    SECRET, algorithm="HS256"), id="no expiry"),
    pytest.param(lambda: "not-a-token", id="garbage"),
]


@pytest.mark.parametrize("make_token", REFUSED_TOKENS)
def test_a_token_that_was_not_issued_as_is_and_in_time_is_refused(make_token: Any) -> None:
    with pytest.raises(TokenError):
        TokenService(SECRET, ttl_minutes=30).verify(make_token())


def test_a_well_formed_token_signed_with_the_secret_is_accepted_unlike_its_altered_copies() -> None:
    assert TokenService(SECRET, 30).verify(_forged()) == Principal("admin", Role.ADMIN, None)


# ---------------------------------------------------------------------------------------------------------------
# Gateway settings
# ---------------------------------------------------------------------------------------------------------------


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No variable of the machine's environment reaches the settings under test."""
    for field in GatewaySettings.model_fields.values():
        if field.alias:
            monkeypatch.delenv(field.alias, raising=False)
    monkeypatch.setenv("EVENT_STORE", "postgres")  # production also requires an explicit store; not tested here


@pytest.mark.usefixtures("clean_environment")
@pytest.mark.parametrize(
    ("env", "secret"),
    [
        pytest.param("production", None, id="production with the default secret"),
        pytest.param("production", DEVELOPMENT_JWT_SECRET, id="production with the default secret given"),
        pytest.param("production", "s" * 31, id="production with a 31-character secret"),
        pytest.param("test", None, id="test with the default secret"),
        pytest.param("test", "short", id="test with a short secret"),
    ],
)
def test_outside_development_a_default_or_short_secret_is_refused(env: str, secret: str | None) -> None:
    values = {"XINFANG_ENV": env, **({"GATEWAY_JWT_SECRET": secret} if secret is not None else {})}

    with pytest.raises(ValueError, match="GATEWAY_JWT_SECRET must be set to a random value of at least 32"):
        GatewaySettings(**values)


@pytest.mark.usefixtures("clean_environment")
def test_the_environment_is_read_too_so_a_default_secret_there_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XINFANG_ENV", "production")
    monkeypatch.setenv("GATEWAY_JWT_SECRET", DEVELOPMENT_JWT_SECRET)

    with pytest.raises(ValueError, match="GATEWAY_JWT_SECRET"):
        GatewaySettings()


@pytest.mark.usefixtures("clean_environment")
def test_the_default_environment_is_production_and_refuses_the_default_secret() -> None:
    with pytest.raises(ValueError, match="GATEWAY_JWT_SECRET"):
        GatewaySettings()


@pytest.mark.usefixtures("clean_environment")
@pytest.mark.parametrize(
    ("env", "secret", "expected"),
    [
        pytest.param("development", None, DEVELOPMENT_JWT_SECRET, id="development with the default secret"),
        pytest.param("development", "short", "short", id="development with a short secret"),
        pytest.param("production", "p" * 32, "p" * 32, id="production with a 32-character secret"),
        pytest.param("test", SECRET, SECRET, id="test with a long secret"),
    ],
)
def test_a_long_secret_or_development_is_accepted(env: str, secret: str | None, expected: str) -> None:
    values = {"XINFANG_ENV": env, **({"GATEWAY_JWT_SECRET": secret} if secret is not None else {})}

    settings = GatewaySettings(**values)

    assert settings.jwt_secret == expected
    assert settings.env == env


@pytest.mark.usefixtures("clean_environment")
def test_intake_urls_are_split_and_trimmed() -> None:
    settings = GatewaySettings(XINFANG_ENV="development", INTAKE_URLS=" http://a:8101/ , ,http://b:8101")

    assert settings.intake_url_list == ["http://a:8101", "http://b:8101"]


def test_production_refuses_to_start_without_an_explicit_event_store(monkeypatch: pytest.MonkeyPatch) -> None:
    from shared.settings import PlatformSettings

    for name in ("EVENT_STORE", "XINFANG_ENV"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValueError, match="EVENT_STORE must be set explicitly in production"):
        PlatformSettings()
    assert PlatformSettings(EVENT_STORE="postgres").event_store == "postgres"
    assert PlatformSettings(XINFANG_ENV="development").event_store == "sqlite"
