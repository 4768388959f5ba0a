"""Officer authentication (argon2 password hashes, JWT bearer tokens, the users file) and the gateway's refusal
to run outside development with a guessable token secret."""

from __future__ import annotations

import base64
import json
import os
from datetime import UTC, datetime, timedelta
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
from services.gateway.signin import SignInThrottle
from services.gateway.users import add_user, remove_user, set_password

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
                       "exp": 4_000_000_000, "jti": "f" * 32, **claims}, SECRET, algorithm="HS256")


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
    pytest.param(lambda: jwt.encode({"sub": "admin", "role": "admin", "iss": ISSUER, "iat": 1_700_000_000,
                                     "exp": 4_000_000_000}, SECRET, algorithm="HS256"),
                 id="no token id (could not be signed out)"),
    pytest.param(lambda: _forged(jti=""), id="an empty token id"),
    pytest.param(lambda: _forged(jti=5), id="a token id that is not a string"),
]


@pytest.mark.parametrize("make_token", REFUSED_TOKENS)
def test_a_token_that_was_not_issued_as_is_and_in_time_is_refused(make_token: Any) -> None:
    with pytest.raises(TokenError):
        TokenService(SECRET, ttl_minutes=30).verify(make_token())


def test_a_well_formed_token_signed_with_the_secret_is_accepted_unlike_its_altered_copies() -> None:
    assert TokenService(SECRET, 30).verify(_forged()) == Principal("admin", Role.ADMIN, None)


def test_each_token_has_its_own_id_and_carries_its_expiry_and_credential(directory: UserDirectory) -> None:
    tokens = TokenService(SECRET, ttl_minutes=30)
    signed_in = directory.authenticate("clerk", PASSWORD)

    first, second = tokens.verify(tokens.issue(signed_in)), tokens.verify(tokens.issue(signed_in))

    assert first.token_id and second.token_id and first.token_id != second.token_id
    assert first.credential == signed_in.credential
    assert first.token_expires is not None
    assert 1790 <= (first.token_expires - datetime.now(UTC)).total_seconds() <= 1800


# ---------------------------------------------------------------------------------------------------------------
# Account changes end the tokens issued before them; the users file is re-read when it changes
# ---------------------------------------------------------------------------------------------------------------


def test_a_token_holds_while_the_account_is_unchanged(directory: UserDirectory) -> None:
    tokens = TokenService(SECRET, ttl_minutes=30)
    assert directory.still_holds(tokens.verify(tokens.issue(directory.authenticate("clerk", PASSWORD))))


def test_a_token_without_the_accounts_current_credential_does_not_hold(directory: UserDirectory) -> None:
    # e.g. a token signed with the secret but never issued by sign-in, or issued before a password change
    assert not directory.still_holds(TokenService(SECRET, 30).verify(_forged(sub="clerk", role="clerk",
                                                                             organ="330106-XFJ")))


def _write_users(path: Path, *records: UserRecord) -> None:
    path.write_text(json.dumps({"users": [r.model_dump(mode="json") for r in records]}), encoding="utf-8")


def _bump(path: Path, seconds: int) -> None:
    """Move the file's modification time on, as a later edit would (the check is by time, size and inode)."""
    status = path.stat()
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns + seconds * 1_000_000_000))


def test_a_changed_users_file_is_read_again_and_ends_the_tokens_of_changed_accounts(
        tmp_path: Path, password_hash: str) -> None:
    path = tmp_path / "users.json"
    clerk = UserRecord(username="clerk", role=Role.CLERK, organ_code="330106-XFJ", password_hash=password_hash)
    officer_record = UserRecord(username="officer-rsj", role=Role.ORGAN_OFFICER, organ_code="330106-RSJ",
                                password_hash=password_hash)
    _write_users(path, clerk, officer_record)
    directory = UserDirectory.load(path, reload_seconds=0)
    clerk_token, officer_token = directory.authenticate("clerk", PASSWORD), directory.authenticate("officer-rsj",
                                                                                                   PASSWORD)

    # The officer is removed; the clerk becomes a supervisor.
    _write_users(path, clerk.model_copy(update={"role": Role.SUPERVISOR}))
    _bump(path, 1)

    assert not directory.still_holds(officer_token)
    assert not directory.still_holds(clerk_token)
    assert directory.authenticate("officer-rsj", PASSWORD) is None
    assert directory.authenticate("clerk", PASSWORD).role is Role.SUPERVISOR


def test_a_new_password_ends_the_tokens_issued_under_the_old_one(tmp_path: Path, password_hash: str) -> None:
    path = tmp_path / "users.json"
    record = UserRecord(username="clerk", role=Role.CLERK, organ_code="330106-XFJ", password_hash=password_hash)
    _write_users(path, record)
    directory = UserDirectory.load(path, reload_seconds=0)
    before = directory.authenticate("clerk", PASSWORD)

    _write_users(path, record.model_copy(update={"password_hash": hash_password("a brand new password")}))
    _bump(path, 1)

    assert not directory.still_holds(before)
    assert directory.still_holds(directory.authenticate("clerk", "a brand new password"))


def test_the_file_is_not_looked_at_again_before_the_reload_interval(tmp_path: Path, password_hash: str) -> None:
    path = tmp_path / "users.json"
    record = UserRecord(username="clerk", role=Role.CLERK, organ_code="330106-XFJ", password_hash=password_hash)
    _write_users(path, record)
    directory = UserDirectory.load(path, reload_seconds=60)

    path.write_text('{"users": []}', encoding="utf-8")

    assert directory.exists("clerk")


@pytest.mark.parametrize("content", BAD_USERS_FILES)
def test_a_broken_users_file_keeps_the_accounts_loaded_before(tmp_path: Path, password_hash: str, content: Any,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "users.json"
    record = UserRecord(username="clerk", role=Role.CLERK, organ_code="330106-XFJ", password_hash=password_hash)
    _write_users(path, record)
    directory = UserDirectory.load(path, reload_seconds=0)

    _users_file(tmp_path, content)
    _bump(path, 1)

    assert directory.authenticate("clerk", PASSWORD) == Principal("clerk", Role.CLERK, "330106-XFJ")
    assert "users file unreadable, keeping the 1 accounts loaded before" in caplog.text


def test_a_deleted_users_file_keeps_the_accounts_loaded_before(tmp_path: Path, password_hash: str) -> None:
    path = tmp_path / "users.json"
    _write_users(path, UserRecord(username="clerk", role=Role.CLERK, organ_code="330106-XFJ",
                                  password_hash=password_hash))
    directory = UserDirectory.load(path, reload_seconds=0)

    path.unlink()

    assert directory.exists("clerk")


# ---------------------------------------------------------------------------------------------------------------
# The users command: removing an account, changing a password (written atomically, private to its owner)
# ---------------------------------------------------------------------------------------------------------------


def test_the_users_command_removes_an_account_and_changes_a_password(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    add_user(path, "clerk", Role.CLERK, "330106-XFJ", "登记员", PASSWORD)
    add_user(path, "auditor", Role.AUDITOR, None, "审计员", PASSWORD)
    directory = UserDirectory.load(path, reload_seconds=0)
    clerk_before = directory.authenticate("clerk", PASSWORD)

    remove_user(path, "auditor")
    set_password(path, "clerk", "another long password")

    assert directory.authenticate("auditor", PASSWORD) is None
    assert not directory.still_holds(clerk_before)
    assert directory.authenticate("clerk", "another long password") == Principal("clerk", Role.CLERK, "330106-XFJ")
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["users.json"]  # no temporary file left behind


def test_the_users_command_refuses_to_remove_or_change_an_unknown_account(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    add_user(path, "clerk", Role.CLERK, "330106-XFJ", "登记员", PASSWORD)

    with pytest.raises(KeyError):
        remove_user(path, "nobody")
    with pytest.raises(KeyError):
        set_password(path, "nobody", "another long password")


# ---------------------------------------------------------------------------------------------------------------
# Sign-in throttling: which names share a throttle
# ---------------------------------------------------------------------------------------------------------------


def _throttle(secret: str = SECRET) -> SignInThrottle:
    return SignInThrottle(secret, 5, timedelta(minutes=1), timedelta(hours=1), timedelta(days=1))


def test_names_that_read_the_same_share_a_throttle_and_the_name_is_not_stored() -> None:
    key = _throttle().key("Clerk")

    assert _throttle().key(" clerk ") == _throttle().key("ＣＬＥＲＫ") == key  # case, spaces, full width
    assert _throttle().key("clerk2") != key
    assert _throttle(OTHER_SECRET).key("clerk") != key  # keyed: a name cannot be found from its hash alone
    assert "clerk" not in key.lower()


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
    from shared.runtime.settings import PlatformSettings

    for name in ("EVENT_STORE", "XINFANG_ENV"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValueError, match="EVENT_STORE must be set explicitly in production"):
        PlatformSettings()
    assert PlatformSettings(EVENT_STORE="postgres").event_store == "postgres"
    assert PlatformSettings(XINFANG_ENV="development").event_store == "sqlite"
