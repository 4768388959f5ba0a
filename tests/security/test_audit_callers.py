"""Issue 15 §1: the audit service and the services' answers to it believe only signed callers (as every RPC since
issue 14 §4). With the broker's credentials alone nobody gets a case bundle (the stored events whole, personal
data included), a case's history or its past state; the services answer their part of a case to the audit
service only; and the audit service answers the gateway for an auditing role only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy

from services.notification.application import CHANNELS, NOTICE_KINDS
from shared.runtime.callers import AUDIT, GATEWAY, CallerAssertions
from tests.support import samples
from tests.support.platform import TestPlatform, running_platform
from tests.support.waiting import wait_for

AUDITOR = {"role": "auditor", "user": "auditor", "organ": "330106-XFJ"}
CLERK = {"role": "clerk", "user": "clerk", "organ": "330106-XFJ"}


@pytest.fixture(scope="module")
def platform(tmp_path_factory, secantus, smtp_sink) -> Iterator[TestPlatform]:
    with running_platform(tmp_path_factory.mktemp("audit-callers"), secantus, smtp_sink.port,
                          "intake", "intake-relay", "supervision", "notification", "audit") as running:
        yield running


@pytest.fixture(scope="module")
def petition_id(platform) -> str:
    with ClusterRpcProxy({"AMQP_URI": platform.env["AMQP_URI"]}, timeout=10) as rpc:
        receipt = rpc.intake.register_petition(samples.petition(),
                                               caller=platform.gateway_assertion("intake", "register_petition"))
    return receipt["id"]


def call(platform: TestPlatform, service: str, method: str, *args, **kwargs):  # noqa: ANN201
    with ClusterRpcProxy({"AMQP_URI": platform.env["AMQP_URI"]}, timeout=20) as rpc:
        return getattr(getattr(rpc, service), method)(*args, **kwargs)


def refused(platform: TestPlatform, service: str, method: str, *args, **kwargs) -> None:
    with pytest.raises(RemoteError) as error:
        call(platform, service, method, *args, **kwargs)
    assert error.value.exc_type == "CallerRefused"


def as_audit(platform: TestPlatform, service: str, method: str) -> str:
    return CallerAssertions(platform.env["PLATFORM_RPC_SECRET"], AUDIT).assertion(service, method)


def test_the_services_answer_their_part_of_a_case_to_the_audit_service_only(platform, petition_id):
    moment = "2030-01-01T00:00:00+08:00"
    refused(platform, "notification", "case_aggregates", petition_id)
    refused(platform, "notification", "case_aggregates", petition_id,
            caller=platform.gateway_assertion("notification", "case_aggregates"))
    refused(platform, "supervision", "case_as_of", petition_id, moment)
    refused(platform, "supervision", "case_as_of", petition_id, moment,
            caller=platform.gateway_assertion("supervision", "case_as_of"))
    # An assertion of the audit service for another service or method is not one for this one.
    refused(platform, "supervision", "case_as_of", petition_id, moment,
            caller=as_audit(platform, "notification", "case_aggregates"))
    refused(platform, "supervision", "case_as_of", petition_id, moment,
            caller=as_audit(platform, "supervision", "get_case"))

    # Each notice of the petition, and its delivery on every channel.
    assert len(call(platform, "notification", "case_aggregates", petition_id,
                    caller=as_audit(platform, "notification", "case_aggregates"))) == (
        len(NOTICE_KINDS) * (1 + len(CHANNELS)))
    state = wait_for(lambda: call(platform, "supervision", "case_as_of", petition_id, moment,
                                  caller=as_audit(platform, "supervision", "case_as_of")),
                     what="the case opened in supervision")
    assert state["id"] == petition_id and "allowed_actions" not in state


def test_the_audit_service_answers_the_gateway_only_and_for_auditing_roles(platform, petition_id):
    refused(platform, "audit", "case_bundle", petition_id)
    refused(platform, "audit", "history", petition_id,
            caller=CallerAssertions("guessed-" + "x" * 40, GATEWAY).assertion("audit", "history", AUDITOR))
    # A service cannot ask on its own account: only the gateway, for an officer.
    refused(platform, "audit", "history", petition_id,
            caller=CallerAssertions(platform.env["PLATFORM_RPC_SECRET"], "supervision").assertion("audit", "history"))

    for method in ("history", "case_bundle"):
        answer = call(platform, "audit", method, petition_id,
                      caller=platform.gateway_assertion("audit", method, CLERK))
        assert (answer["ok"], answer["http_status"], answer["problem"]["error"]) == (False, 403, "forbidden")
    history = wait_for(lambda: (a := call(platform, "audit", "history", petition_id,
                                          caller=platform.gateway_assertion("audit", "history", AUDITOR)))["ok"]
                       and a, what="the petition's history")
    assert history["events"][0]["event"] == "Petition.Registered"
