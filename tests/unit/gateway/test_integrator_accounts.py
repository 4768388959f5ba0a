"""Integrator accounts (role `integrator`): they sign in like officers, carry their provinces in their tokens, and
see in the integration feed what the events exchange carries plus the answers to their own provinces
(services/gateway/routes/feed.py)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from services.gateway.errors import ApiError
from services.gateway.routes.feed import PROVINCE_TYPES, PUBLIC_TYPES, may_see, selected_types
from services.gateway.security import (
    Principal,
    Role,
    TokenService,
    UserDirectory,
    UserRecord,
    UsersFileError,
    hash_password,
)
from services.gateway.users import add_user, main

SECRET = "k3Jx9-unit-test-secret-of-forty-characters"
PASSWORD = "correct horse battery staple"
PROVINCE = "urn:xinfang:province:330000"
PLAIN = Principal("city-data", Role.INTEGRATOR, None)
ZHEJIANG = Principal("zj-province", Role.INTEGRATOR, None, (PROVINCE,))


@pytest.fixture(scope="module")
def password_hash() -> str:
    return hash_password(PASSWORD)


def test_an_integrator_signs_in_with_its_provinces_and_its_token_carries_them(password_hash: str) -> None:
    directory = UserDirectory([UserRecord(username="zj-province", role=Role.INTEGRATOR, sources=[PROVINCE],
                                          password_hash=password_hash)])
    principal = directory.authenticate("zj-province", PASSWORD)
    assert principal == ZHEJIANG
    tokens = TokenService(SECRET, 30)
    verified = tokens.verify(tokens.issue(principal))
    assert verified == ZHEJIANG and directory.still_holds(verified)
    # Its provinces changed: the tokens issued before no longer hold.
    changed = UserDirectory([UserRecord(username="zj-province", role=Role.INTEGRATOR, sources=[],
                                        password_hash=password_hash)])
    assert not changed.still_holds(verified)


def test_only_an_integrator_has_sources(password_hash: str) -> None:
    with pytest.raises(UsersFileError, match="only an integrator has sources"):
        UserDirectory([UserRecord(username="clerk", role=Role.CLERK, organ_code="330106-XFJ", sources=[PROVINCE],
                                  password_hash=password_hash)])


def test_the_users_command_adds_an_integrator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    users = tmp_path / "users.json"
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    main(["add", "--file", str(users), "--username", "zj-province", "--role", "integrator", "--source", PROVINCE])
    assert UserDirectory.load(users).authenticate("zj-province", PASSWORD) == ZHEJIANG
    with pytest.raises(SystemExit):
        main(["add", "--file", str(users), "--username", "clerk", "--role", "clerk", "--source", PROVINCE])
    add_user(users, "city-data", Role.INTEGRATOR, None, "", PASSWORD)
    assert UserDirectory.load(users).authenticate("city-data", PASSWORD) == PLAIN


def test_a_plain_integrator_sees_the_events_exchange_and_a_province_also_its_answers() -> None:
    assert selected_types(PLAIN, None) == set(PUBLIC_TYPES)
    assert selected_types(ZHEJIANG, None) == set(PUBLIC_TYPES | PROVINCE_TYPES)
    answer = {"type": "cn.xinfang.province.matter_received.v1", "recipient": PROVINCE}
    assert may_see(ZHEJIANG, answer) and not may_see(PLAIN, answer)
    assert not may_see(ZHEJIANG, {**answer, "recipient": "urn:xinfang:province:320000"})
    assert not may_see(ZHEJIANG, {"type": "cn.xinfang.province.matter_sent.v1"})  # inbound: never in the feed
    assert may_see(PLAIN, {"type": "cn.xinfang.petition.registered.v2"})


def test_types_are_asked_for_by_name_or_prefix() -> None:
    cases = selected_types(PLAIN, ["cn.xinfang.case."])
    assert cases and all(t.startswith("cn.xinfang.case.") for t in cases)
    assert selected_types(PLAIN, ["cn.xinfang.province."]) == set()  # not for it
    assert selected_types(ZHEJIANG, ["cn.xinfang.petition.registered.v2"]) == {"cn.xinfang.petition.registered.v2"}
    for unknown in ("cn.xinfang.nothing.", "cn.xinfang.case", "cn.xinfang.petition.registered.v9"):
        with pytest.raises(ApiError) as refused:
            selected_types(PLAIN, [unknown])
        assert (refused.value.status, refused.value.error) == (422, "unknown_event_type")
