"""The signed caller assertions that services believe instead of what an RPC message claims (shared/runtime/callers.py)."""

from __future__ import annotations

import time

import pytest

from shared.runtime.callers import GATEWAY, CallerAssertions, CallerRefused, caller_assertions
from shared.runtime.settings import DEVELOPMENT_RPC_SECRET, PlatformSettings

SECRET = "s" * 40
CLERK = {"role": "clerk", "user": "clerk1", "organ": "330106-XFJ"}


def gateway(secret: str = SECRET, ttl: float = 60) -> CallerAssertions:
    return CallerAssertions(secret, GATEWAY, ttl)


def test_the_gateway_asserts_the_actor_and_the_callee_believes_it() -> None:
    token = gateway().assertion("supervision", "perform", CLERK)

    caller = CallerAssertions(SECRET, "supervision").verify(token, audience="supervision", method="perform",
                                                            issuers={GATEWAY})

    assert (caller.issuer, caller.actor) == (GATEWAY, CLERK)


def test_a_service_asserts_only_itself() -> None:
    token = CallerAssertions(SECRET, "notification").assertion("intake", "petition_particulars")

    caller = CallerAssertions(SECRET, "intake").verify(token, audience="intake", method="petition_particulars",
                                                       issuers={"notification"})

    assert (caller.issuer, caller.actor) == ("notification", None)


@pytest.mark.parametrize("token", [
    None,
    {"role": "admin"},  # an actor merely claimed, as an old caller sent it
    "not-a-token",
    CallerAssertions("x" * 40, GATEWAY).assertion("supervision", "perform", {"role": "admin"}),  # another key
    gateway().assertion("intake", "perform", CLERK),  # meant for another service
    gateway().assertion("supervision", "get_case", CLERK),  # meant for another method: no replay
    CallerAssertions(SECRET, "notification").assertion("supervision", "perform"),  # not an issuer it serves
    CallerAssertions(SECRET, "routing", 60).assertion("supervision", "perform"),
], ids=["none", "plain actor", "garbage", "forged", "wrong audience", "wrong method", "wrong issuer",
        "another service"])
def test_anything_but_a_valid_assertion_for_this_callee_is_refused(token) -> None:
    with pytest.raises(CallerRefused):
        CallerAssertions(SECRET, "supervision").verify(token, audience="supervision", method="perform",
                                                       issuers={GATEWAY})


def test_an_expired_assertion_is_refused() -> None:
    import jwt

    issued = time.time() - 120  # a minute's life, ended a minute ago: past the leeway allowed for clocks
    token = jwt.encode({"iss": GATEWAY, "aud": "supervision", "rpc": "perform", "iat": issued, "exp": issued + 60,
                        "act": CLERK}, SECRET, algorithm="HS256")

    with pytest.raises(CallerRefused, match="Expired"):
        CallerAssertions(SECRET, "supervision").verify(token, audience="supervision", method="perform",
                                                       issuers={GATEWAY})


def test_a_service_cannot_assert_an_actor_and_the_gateway_must() -> None:
    import jwt

    now = time.time()
    service_with_actor = jwt.encode({"iss": "routing", "aud": "intake", "rpc": "get_petition", "iat": now,
                                     "exp": now + 60, "act": {"role": "admin"}}, SECRET, algorithm="HS256")
    gateway_without = jwt.encode({"iss": GATEWAY, "aud": "intake", "rpc": "get_petition", "iat": now,
                                  "exp": now + 60}, SECRET, algorithm="HS256")
    verifier = CallerAssertions(SECRET, "intake")

    for token in (service_with_actor, gateway_without):
        with pytest.raises(CallerRefused):
            verifier.verify(token, audience="intake", method="get_petition", issuers={GATEWAY, "routing"})


def test_production_refuses_the_development_secret() -> None:
    production = PlatformSettings(XINFANG_ENV="production", EVENT_STORE="postgres")
    assert production.rpc_secret == DEVELOPMENT_RPC_SECRET

    with pytest.raises(ValueError, match="PLATFORM_RPC_SECRET"):
        caller_assertions(production, GATEWAY)
    assert caller_assertions(production.model_copy(update={"rpc_secret": SECRET}), GATEWAY).issuer == GATEWAY
