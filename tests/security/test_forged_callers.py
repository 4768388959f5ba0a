"""Issue 14 §4: with the broker's credentials alone, nobody gets a report's full record or acts as someone else.

Before: a plain nameko RPC call returned a report's full record, and `supervision.get_case` believed a forged actor
`{"role": "admin"}`. Now every RPC of intake and supervision requires the signed, short-lived assertion of its
caller (shared/runtime/callers.py). intake and supervision run as their real processes; the attacker is a plain
ClusterRpcProxy with the broker's credentials, as anyone holding them could start one."""

from __future__ import annotations

import time
from collections.abc import Iterator

import jwt
import pytest
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy

from shared.runtime.callers import GATEWAY, CallerAssertions
from tests.support import samples
from tests.support.platform import TestPlatform, metric_value, running_platform

ADMIN = {"role": "admin"}


@pytest.fixture(scope="module")
def platform(tmp_path_factory, secantus, smtp_sink) -> Iterator[TestPlatform]:
    with running_platform(tmp_path_factory.mktemp("callers"), secantus, smtp_sink.port,
                          "intake", "supervision") as running:
        yield running


@pytest.fixture(scope="module")
def report_id(platform) -> str:
    with ClusterRpcProxy({"AMQP_URI": platform.env["AMQP_URI"]}, timeout=10) as rpc:
        receipt = rpc.intake.register_petition(
            samples.petition(category="report", topic=None, accused={"name": "张某", "organisation": "某局"}),
            caller=platform.gateway_assertion("intake", "register_petition"))
    return receipt["id"]


def refused(platform: TestPlatform, service: str, method: str, *args, **kwargs) -> None:
    with ClusterRpcProxy({"AMQP_URI": platform.env["AMQP_URI"]}, timeout=10) as rpc:
        with pytest.raises(RemoteError) as error:
            getattr(getattr(rpc, service), method)(*args, **kwargs)
    assert error.value.exc_type == "CallerRefused"


def forged(audience: str, method: str, *, secret: str = "guessed-" + "x" * 40, issuer: str = GATEWAY) -> str:
    return CallerAssertions(secret, issuer).assertion(audience, method, ADMIN if issuer == GATEWAY else None)


def expired(platform: TestPlatform, audience: str, method: str) -> str:
    issued = time.time() - 600
    return jwt.encode({"iss": GATEWAY, "aud": audience, "rpc": method, "iat": issued, "exp": issued + 60,
                       "act": ADMIN},
                      platform.env["PLATFORM_RPC_SECRET"], algorithm="HS256")


def test_a_plain_rpc_call_gets_no_record_of_a_report(platform, report_id):
    refused(platform, "intake", "get_petition", report_id)
    refused(platform, "intake", "get_petition", report_id, caller=forged("intake", "get_petition"))
    # A genuine assertion for another method of the same service is not one for this method (no replay).
    refused(platform, "intake", "get_petition", report_id,
            caller=platform.gateway_assertion("intake", "find_by_query_code"))
    refused(platform, "intake", "find_by_query_code", "ABCD-EFGH-JKMN-PQRS")
    # A service's own assertion is for its own purpose: supervision may not read the notice particulars.
    supervision = CallerAssertions(platform.env["PLATFORM_RPC_SECRET"], "supervision").assertion(
        "intake", "petition_particulars")
    refused(platform, "intake", "petition_particulars", report_id, "notice", caller=supervision)
    refused(platform, "intake", "petition_particulars", report_id, "case")

    with ClusterRpcProxy({"AMQP_URI": platform.env["AMQP_URI"]}, timeout=10) as rpc:  # the control
        record = rpc.intake.get_petition(report_id, caller=platform.gateway_assertion("intake", "get_petition"))
    assert record["accused"]["name"] == "张某"


def test_what_a_step_recorded_is_told_to_notification_only(platform, report_id):
    """supervision.step_particulars answers the steps' free text (the opinion, the reasons): notification's alone."""
    event_id = "00000000-0000-0000-0000-000000000000"
    refused(platform, "supervision", "step_particulars", report_id, event_id)
    refused(platform, "supervision", "step_particulars", report_id, event_id, caller=forged("supervision",
                                                                                            "step_particulars"))
    refused(platform, "supervision", "step_particulars", report_id, event_id,
            caller=platform.gateway_assertion("supervision", "step_particulars"))
    for service in ("audit", "intake", "routing"):
        refused(platform, "supervision", "step_particulars", report_id, event_id,
                caller=CallerAssertions(platform.env["PLATFORM_RPC_SECRET"], service).assertion(
                    "supervision", "step_particulars"))
    notification = CallerAssertions(platform.env["PLATFORM_RPC_SECRET"], "notification")
    # notification's assertion for another method is not one for this one.
    refused(platform, "supervision", "step_particulars", report_id, event_id,
            caller=notification.assertion("supervision", "case_as_of"))

    with ClusterRpcProxy({"AMQP_URI": platform.env["AMQP_URI"]}, timeout=10) as rpc:  # the control: no such step
        assert rpc.supervision.step_particulars(
            report_id, event_id, caller=notification.assertion("supervision", "step_particulars")) is None


def test_a_forged_or_expired_actor_is_refused(platform, report_id):
    refused(platform, "supervision", "get_case", report_id, ADMIN)  # the attack as it was: an actor merely claimed
    refused(platform, "supervision", "get_case", report_id, forged("supervision", "get_case"))
    refused(platform, "supervision", "get_case", report_id, expired(platform, "supervision", "get_case"))
    refused(platform, "supervision", "get_case", report_id,
            platform.gateway_assertion("intake", "get_case"))  # for another service
    refused(platform, "supervision", "perform", report_id, "withdraw", {"reasons": "撤回"},
            forged("supervision", "perform"))
    refused(platform, "intake", "register_petition", samples.petition(channel="letter"), ADMIN)

    metrics = platform.metrics("supervision")
    assert metric_value(metrics, "xinfang_rpc_callers_refused_total", method="get_case") >= 4
    assert metric_value(metrics, "xinfang_rpc_callers_refused_total", method="perform") >= 1
    # A refused caller is the caller's fault: a warning, not an error of the service (and no token in the log).
    for service in ("supervision", "intake"):
        assert "ERROR nameko.containers" not in platform.log(service)
        assert "(expected) error handling worker" in platform.log(service)
