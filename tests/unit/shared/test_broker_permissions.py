"""The broker users' permissions (shared/runtime/messaging/permissions.py) match what the code does: every RPC call the
code makes is allowed to its caller, every regex is anchored and escapes the namespace, and deploy/rabbitmq/users.sh
is the generator's current output. (The broker's own enforcement: tests/security/test_broker_permissions.py.)"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from deploy.rabbitmq import users as broker_users
from shared.runtime.messaging import permissions, topology

ROOT = Path(__file__).resolve().parents[3]


def _all_regexes(user: permissions.BrokerUser) -> list[str]:
    return [user.configure, user.write, user.read, *(r for t in user.topics for r in (t.write, t.read))]


@pytest.mark.parametrize("user", [*permissions.service_users("xinfang"), permissions.integrator_user("xinfang", "zj")],
                         ids=lambda u: u.name)
def test_every_regex_is_anchored(user):
    for regex in _all_regexes(user):
        assert regex.startswith("^") and regex.endswith("$"), regex
        re.compile(regex)


def test_the_namespace_is_escaped():
    # "x.y" unescaped would also match "xzy.events"
    user = permissions.service_user("x.y", "intake")
    assert re.fullmatch(user.configure, "x.y.events")
    assert not re.fullmatch(user.configure, "xzy.events")


def test_each_service_publishes_only_its_own_event_types():
    allowed = {s: permissions.service_user("ns", s).topics[0].write for s in permissions.SERVICES}
    assert re.fullmatch(allowed["intake"], "cn.xinfang.petition.registered.v2")
    assert re.fullmatch(allowed["routing"], "cn.xinfang.petition.routed.v2")
    assert re.fullmatch(allowed["supervision"], "cn.xinfang.case.accepted.v2")
    assert re.fullmatch(allowed["notification"], "cn.xinfang.notice.delivered.v1")
    for service, regex in allowed.items():
        others = {"intake": "cn.xinfang.petition.registered.v2", "routing": "cn.xinfang.petition.routed.v2",
                  "supervision": "cn.xinfang.case.accepted.v2", "notification": "cn.xinfang.notice.delivered.v1"}
        for owner, key in others.items():
            assert bool(re.fullmatch(regex, key)) == (owner == service), (service, key)


def test_a_service_reads_only_the_queues_it_consumes():
    for subscription in topology.SUBSCRIPTIONS:
        queue = topology.queue_name("ns", subscription.service, subscription.handler)
        for service in permissions.SERVICES:
            readable = bool(re.fullmatch(permissions.service_user("ns", service).read, queue))
            assert readable == (service == subscription.service), (service, queue)


def _served() -> dict[str, set[str]]:
    from nameko.rpc import Rpc  # noqa: PLC0415

    from services.audit.service import AuditService  # noqa: PLC0415
    from services.intake.service import IntakeService  # noqa: PLC0415
    from services.notification.service import NotificationService  # noqa: PLC0415
    from services.supervision.service import SupervisionService  # noqa: PLC0415

    served = {}
    for cls in (IntakeService, SupervisionService, NotificationService, AuditService):
        served[cls.name] = {name for name, member in inspect.getmembers(cls)
                            if any(isinstance(e, Rpc) for e in getattr(member, "nameko_entrypoints", ()))}
    return served


def test_the_rpc_tables_match_the_services():
    assert {s: set(m) for s, m in permissions.RPC_SERVES.items()} == _served()


def _calls_in_code() -> dict[str, set[str]]:
    calls: dict[str, set[str]] = {}
    for path in (ROOT / "services" / "gateway").rglob("*.py"):
        for service, method in re.findall(r"rpc\.call\(\s*\"(\w+)\",\s*\"(\w+)\"", path.read_text()):
            calls.setdefault("gateway", set()).add(f"{service}.{method}")
    for service in ("routing", "supervision", "notification"):
        text = (ROOT / "services" / service / "service.py").read_text()
        for proxy, target in re.findall(r"(\w+) = BoundedRpcProxy\(\"(\w+)\"\)", text):
            for method in re.findall(rf"self\.{proxy}\.(\w+)\(", text):
                calls.setdefault(service, set()).add(f"{target}.{method}")
    # The audit service asks its peers through services/audit/peers.py (its RpcProxy or a standalone proxy).
    peers = (ROOT / "services" / "audit" / "peers.py").read_text()
    for target, method in re.findall(r"self\._(\w+)\.(\w+)\(", peers):
        calls.setdefault("audit", set()).add(f"{target}.{method}")
    return calls


def test_every_rpc_call_the_code_makes_is_allowed_to_its_caller():
    allowed = {s: set(c) for s, c in permissions.RPC_CALLS.items()}
    for caller, calls in _calls_in_code().items():
        assert calls <= allowed[caller], f"{caller} calls {calls - allowed[caller]}: add to RPC_CALLS"
        for call in calls:
            rpc = next(t for t in permissions.service_user("ns", caller).topics if t.exchange == "nameko-rpc")
            assert re.fullmatch(rpc.write, call)


def test_integrators_write_on_no_exchange():
    user = permissions.integrator_user("xinfang", "zj-province")
    for exchange in ("xinfang.events", "xinfang.dead-letter", "nameko-rpc", "amq.default", "amq.topic"):
        assert not re.fullmatch(user.write, exchange)
    assert re.fullmatch(user.configure, "xinfang.integrator.zj-province.cases")
    assert not re.fullmatch(user.configure, "xinfang.integrator.zj-provincex.cases")
    assert not re.fullmatch(user.read, "rpc-intake")
    with pytest.raises(ValueError):
        permissions.integrator_user("xinfang", "a.b")


def _topic(user: permissions.BrokerUser, exchange: str) -> permissions.TopicPermission:
    return next(t for t in user.topics if t.exchange == exchange)


def test_a_province_sends_matters_only_and_reads_the_answers_only_it_may():
    province = permissions.integrator_user("xinfang", "zj", province=True)
    plain = permissions.integrator_user("xinfang", "stats")
    assert re.fullmatch(province.write, "xinfang.province.inbound")
    assert re.fullmatch(_topic(province, "xinfang.province.inbound").write, "cn.xinfang.province.matter_sent.v1")
    # Not the county's own answers, nor the county's events, on any exchange
    assert not re.fullmatch(_topic(province, "xinfang.province.inbound").write, "cn.xinfang.province.matter_decided.v1")
    assert not re.fullmatch(province.write, "xinfang.province.outbound")
    assert not re.fullmatch(province.write, "xinfang.events")
    assert re.fullmatch(province.read, "xinfang.province.outbound")
    assert re.fullmatch(_topic(province, "xinfang.province.outbound").read, "cn.xinfang.province.matter_completed.v1")
    # A plain integrator neither sends matters nor reads the answers (they may hold a province's words)
    assert not re.fullmatch(plain.write, "xinfang.province.inbound")
    assert not re.fullmatch(plain.read, "xinfang.province.outbound")
    assert _topic(plain, "xinfang.province.outbound").read == "^$"


def test_replayed_events_reach_only_the_integrator_they_are_for():
    zj = permissions.integrator_user("xinfang", "zj")
    replay = _topic(zj, "xinfang.replay")
    assert re.fullmatch(replay.read, "xinfang.integrator.zj.cases")
    assert not re.fullmatch(replay.read, "xinfang.integrator.zjx.cases")
    assert not re.fullmatch(replay.read, "#") and replay.write == "^$"
    gateway = _topic(permissions.service_user("xinfang", "gateway"), "xinfang.replay")
    assert re.fullmatch(gateway.write, "xinfang.integrator.zj.cases")
    assert not re.fullmatch(gateway.write, "xinfang.intake.handle_matter_sent")


def test_intake_takes_matters_from_the_inbound_exchange_and_answers_on_the_outbound():
    intake = permissions.service_user("xinfang", "intake")
    assert re.fullmatch(intake.read, "xinfang.province.inbound")
    assert re.fullmatch(intake.read, "xinfang.intake.handle_matter_sent")
    assert not re.fullmatch(intake.write, "xinfang.province.inbound")  # it cannot forge a province's matter
    assert re.fullmatch(_topic(intake, "xinfang.province.outbound").write, "cn.xinfang.province.matter_received.v1")
    for service in ("routing", "notification", "supervision"):
        assert not re.fullmatch(permissions.service_user("xinfang", service).read, "xinfang.province.inbound")


def test_the_committed_script_is_current():
    expected = broker_users.script(permissions.service_users("xinfang"), "/")
    assert (ROOT / "deploy" / "rabbitmq" / "users.sh").read_text() == expected, \
        "regenerate: python -m deploy.rabbitmq.users script > deploy/rabbitmq/users.sh"


def test_service_uris_keep_host_port_and_vhost():
    uris = broker_users.service_uris("amqp://admin:x@rabbitmq:5672/county%2Fa", "xinfang",
                                     {permissions.user_name("xinfang", s): "p w" for s in permissions.SERVICES})
    assert uris["AMQP_URI_ROUTING"] == "amqp://xinfang-routing:p%20w@rabbitmq:5672/county%2Fa"
    assert broker_users.vhost_of(uris["AMQP_URI_ROUTING"]) == "county/a"
    assert broker_users.vhost_of("amqp://guest:guest@127.0.0.1:5672/") == "/"
