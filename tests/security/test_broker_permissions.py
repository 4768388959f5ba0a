"""Issue 14 §4: the broker is a trust boundary. With one broker user for everything, an integrator who connects to
bind its queue could publish any event on the events exchange and call any service over nameko RPC, and every
process could publish every other service's events.

Each service now has its own user and each integrator one of its own (shared/runtime/messaging/permissions.py, applied by
deploy/rabbitmq/users.py), here on a vhost of this module's own on the real RabbitMQ; every refusal below is the
broker's (403 ACCESS_REFUSED, the channel closed).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from amqp.exceptions import AccessRefused
from kombu import Connection, Exchange, Producer, Queue
from nameko.standalone.rpc import ClusterRpcProxy

from deploy.rabbitmq import users as broker_users
from shared.runtime.messaging import permissions, topology
from shared.runtime.messaging.publisher import ConfirmingPublisher, PublishFailed
from tests.conftest import reserve_namespace
from tests.support import samples
from tests.support.platform import (
    BROKER_PASSWORD,
    ROOT,
    create_broker_users,
    create_vhost,
    delete_broker_users,
    delete_vhost,
)
from tests.support.waiting import wait_for

INTEGRATOR = "zj-province"
PROVINCE = "zj"  # a province's user: it also sends matters and reads the county's answers
MATTER_SENT = "cn.xinfang.province.matter_sent.v1"
MATTER_COMPLETED = "cn.xinfang.province.matter_completed.v1"
CASE_ACCEPTED = "cn.xinfang.case.accepted.v2"
REGISTERED = "cn.xinfang.petition.registered.v2"
ROUTED = "cn.xinfang.petition.routed.v2"


class Broker:
    def __init__(self, namespace: str, admin: str, uris: dict[str, str]) -> None:
        self.namespace, self.admin, self.uris = namespace, admin, uris
        self.events = f"{namespace}.events"
        self.integrator_queue = permissions.integrator_queue_prefix(namespace, INTEGRATOR) + "cases"

    def uri(self, who: str) -> str:
        if who == "integrator":
            name = permissions.integrator_user(self.namespace, INTEGRATOR).name
            return broker_users.user_uri(self.admin, name, BROKER_PASSWORD)
        if who == "province":
            name = permissions.integrator_user(self.namespace, PROVINCE, province=True).name
            return broker_users.user_uri(self.admin, name, BROKER_PASSWORD)
        return self.uris[f"AMQP_URI_{who.upper()}"]


@pytest.fixture(scope="module")
def broker() -> Iterator[Broker]:
    namespace = reserve_namespace()
    admin = create_vhost(namespace)
    try:
        uris = create_broker_users(namespace, admin, integrators=[INTEGRATOR], provinces=[PROVINCE])
        with Connection(admin) as connection:  # nameko's RPC exchange and intake's queue, as a running intake has
            channel = connection.channel()
            Queue("rpc-intake", Exchange("nameko-rpc", type="topic", durable=True), routing_key="intake.*",
                  durable=True)(channel).declare()
        yield Broker(namespace, admin, uris)
    finally:
        delete_vhost(namespace)
        delete_broker_users(namespace, integrators=[INTEGRATOR], provinces=[PROVINCE])


def as_user(uri: str, action: Callable[[object], object]) -> object:
    with Connection(uri, connect_timeout=5, transport_options={"confirm_publish": True}) as connection:
        return action(connection.channel())


def publish(exchange: str, routing_key: str) -> Callable[[object], object]:
    # confirm_publish: publish() returns once the broker has taken the message, or raises what it refused.
    return lambda channel: Producer(channel).publish({"probe": True}, exchange=exchange, routing_key=routing_key,
                                                     serializer="json", retry=False)


def refused(uri: str, action: Callable[[object], object]) -> str:
    with pytest.raises(AccessRefused) as caught:
        as_user(uri, action)
    assert caught.value.code == 403
    return str(caught.value)


# --- integrators -----------------------------------------------------------------------------------------------
def test_an_integrator_reads_events_into_its_own_queue(broker):
    def bind(channel) -> None:
        channel.queue_declare(broker.integrator_queue, durable=True, auto_delete=False, arguments={"x-queue-type": "quorum"})
        channel.queue_bind(broker.integrator_queue, broker.events, "cn.xinfang.case.#")

    as_user(broker.uri("integrator"), bind)
    as_user(broker.uri("supervision"), publish(broker.events, CASE_ACCEPTED))

    def read(channel):
        return wait_for(lambda: channel.basic_get(broker.integrator_queue, no_ack=True), timeout=10,
                        what="the event in the integrator's queue")

    assert as_user(broker.uri("integrator"), read).delivery_info["routing_key"] == CASE_ACCEPTED


@pytest.mark.parametrize("routing_key", [CASE_ACCEPTED, REGISTERED, "anything"])
def test_an_integrator_cannot_publish_on_the_events_exchange(broker, routing_key):
    assert "ACCESS_REFUSED" in refused(broker.uri("integrator"), publish(broker.events, routing_key))


def test_an_integrator_cannot_call_services_or_read_their_queues(broker):
    integrator = broker.uri("integrator")
    refused(integrator, publish("nameko-rpc", "intake.get_petition"))
    refused(integrator, lambda channel: channel.basic_get("rpc-intake"))
    refused(integrator, lambda channel: channel.basic_get(
        topology.queue_name(broker.namespace, "notification", "handle_petition_registered")))
    # nor call over a reply queue of its own making, nor declare queues outside its prefix
    refused(integrator, lambda channel: channel.queue_declare(f"rpc.reply-standalone_rpc_proxy-{uuid.uuid4()}"))
    refused(integrator, lambda channel: channel.queue_declare(f"{broker.namespace}.integrator.other.cases"))
    refused(integrator, lambda channel: channel.queue_declare(f"{broker.namespace}.routing.stolen"))


# --- provinces -------------------------------------------------------------------------------------------------
def test_a_province_sends_its_matters_to_intake_alone(broker):
    inbound = f"{broker.namespace}.province.inbound"
    as_user(broker.uri("province"), publish(inbound, MATTER_SENT))
    intake_queue = topology.queue_name(broker.namespace, "intake", "handle_matter_sent")
    arrived = as_user(broker.admin, lambda channel: wait_for(lambda: channel.basic_get(intake_queue, no_ack=True),
                                                             timeout=10, what="the matter on intake's queue"))
    assert arrived.delivery_info["routing_key"] == MATTER_SENT
    # Nothing but a matter, and only there: not the county's answers, not the county's events
    refused(broker.uri("province"), publish(inbound, MATTER_COMPLETED))
    refused(broker.uri("province"), publish(f"{broker.namespace}.province.outbound", MATTER_COMPLETED))
    refused(broker.uri("province"), publish(broker.events, REGISTERED))
    # A plain integrator sends no matters; no other service reads them
    refused(broker.uri("integrator"), publish(inbound, MATTER_SENT))
    refused(broker.uri("routing"), lambda channel: channel.basic_get(intake_queue))


def test_only_a_province_reads_the_countys_answers(broker):
    outbound = f"{broker.namespace}.province.outbound"
    queue = permissions.integrator_queue_prefix(broker.namespace, PROVINCE) + "answers"

    def bind(channel) -> None:
        channel.queue_declare(queue, durable=True, auto_delete=False, arguments={"x-queue-type": "quorum"})
        channel.queue_bind(queue, outbound, "cn.xinfang.province.#")

    as_user(broker.uri("province"), bind)
    as_user(broker.uri("supervision"), publish(outbound, MATTER_COMPLETED))
    got = as_user(broker.uri("province"), lambda channel: wait_for(lambda: channel.basic_get(queue, no_ack=True),
                                                                   timeout=10, what="the answer"))
    assert got.delivery_info["routing_key"] == MATTER_COMPLETED
    other = broker.integrator_queue + "-answers"

    def bind_other(channel) -> None:
        channel.queue_declare(other, durable=True, auto_delete=False, arguments={"x-queue-type": "quorum"})
        channel.queue_bind(other, outbound, "cn.xinfang.province.#")

    refused(broker.uri("integrator"), bind_other)
    # intake may answer with its receipt only
    refused(broker.uri("intake"), publish(outbound, MATTER_COMPLETED))


def test_replayed_events_go_to_the_queue_named_and_no_other(broker):
    replay = f"{broker.namespace}.replay"
    own = permissions.integrator_queue_prefix(broker.namespace, INTEGRATOR) + "catch-up"

    def bind(channel) -> None:
        channel.queue_declare(own, durable=True, auto_delete=False, arguments={"x-queue-type": "quorum"})
        channel.queue_bind(own, replay, own)

    as_user(broker.uri("integrator"), bind)
    # another integrator cannot bind its queue to what is replayed for this one
    other = permissions.integrator_queue_prefix(broker.namespace, PROVINCE) + "stolen"

    def steal(channel) -> None:
        channel.queue_declare(other, durable=True, auto_delete=False, arguments={"x-queue-type": "quorum"})
        channel.queue_bind(other, replay, own)

    refused(broker.uri("province"), steal)
    as_user(broker.uri("gateway"), publish(replay, own))
    got = as_user(broker.uri("integrator"), lambda channel: wait_for(lambda: channel.basic_get(own, no_ack=True),
                                                                     timeout=10, what="the replayed event"))
    assert got.delivery_info["routing_key"] == own
    refused(broker.uri("gateway"), publish(replay, topology.queue_name(broker.namespace, "intake",
                                                                       "handle_matter_sent")))


# --- services --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("routing_key", [CASE_ACCEPTED, REGISTERED])
def test_routing_cannot_publish_another_services_events(broker, routing_key):
    message = refused(broker.uri("routing"), publish(broker.events, routing_key))
    assert routing_key in message  # refused for that key: "access to topic '<key>' ... refused"


def test_routing_publishes_its_own_events_through_the_relays_publisher(broker):
    publisher = ConfirmingPublisher(broker.uri("routing"), broker.namespace, "routing")
    try:
        routed = samples.routed_event(1, str(uuid.uuid4()))
        assert routed.type == ROUTED
        assert publisher.publish([routed]) == 1
        # A relay whose user may not publish a type fails loudly and publishes nothing (it keeps its position).
        registered = samples.registered_event(2)
        with pytest.raises(PublishFailed, match="ACCESS_REFUSED.*permissions"):
            publisher.publish([registered])
    finally:
        publisher.close()


@pytest.mark.parametrize(("service", "queue_of"), [
    ("intake", ("routing", "handle_petition_registered")),       # a queue intake's events feed
    ("routing", ("supervision", "handle_petition_routed")),
    ("notification", ("supervision", "handle_notice_delivered")),
    ("supervision", ("routing", "handle_petition_registered")),
    ("gateway", ("supervision", "handle_petition_registered")),
])
def test_a_service_cannot_consume_another_services_queue(broker, service, queue_of):
    name = topology.queue_name(broker.namespace, *queue_of)
    refused(broker.uri(service), lambda channel: channel.basic_get(name))


def test_a_service_cannot_call_what_it_does_not_need(broker):
    refused(broker.uri("routing"), publish("nameko-rpc", "supervision.perform"))
    refused(broker.uri("notification"), publish("nameko-rpc", "intake.get_petition"))
    refused(broker.uri("gateway"), publish("nameko-rpc", "intake.petition_particulars"))
    refused(broker.uri("gateway"), publish(broker.events, CASE_ACCEPTED))


@pytest.fixture(scope="module")
def supervision_answering(broker, tmp_path_factory) -> Iterator[None]:
    """A nameko service named `supervision` connected as supervision's user (so it may serve and reply)."""
    log = tmp_path_factory.mktemp("echo") / "supervision.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ECHO_SERVICE_NAME": "supervision",
           "AMQP_URI": broker.uri("supervision"), "XINFANG_NAMESPACE": broker.namespace,
           "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
    with open(log, "ab") as output:
        process = subprocess.Popen(["nameko", "run", "--config", "deploy/nameko.yml",
                                    "tests.support.rpc_echo_service"], cwd=ROOT, env=env, stdout=output,
                                   stderr=subprocess.STDOUT)
    try:
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)
        print(log.read_text(errors="replace")[-3000:])


def test_the_gateway_calls_supervision_but_publishes_no_events(broker, supervision_answering):
    def answered() -> dict | None:
        try:
            with ClusterRpcProxy({"AMQP_URI": broker.uri("gateway")}, timeout=3) as rpc:
                return rpc.supervision.perform("p-1", "accept")
        except Exception:  # noqa: BLE001 - until the service consumes its queue
            return None

    answer = wait_for(answered, timeout=60, interval=0.5, what="supervision.perform to answer the gateway's user")
    assert answer == {"method": "perform", "args": ["p-1", "accept"]}
    refused(broker.uri("gateway"), publish(broker.events, CASE_ACCEPTED))
    refused(broker.uri("gateway"), publish("nameko-rpc", "supervision.find_by_query_code"))


# --- the script operators run (compose, Kubernetes) gives the same users ----------------------------------------
def test_the_operators_script_sets_the_same_permissions(tmp_path):
    namespace = reserve_namespace()
    admin = create_vhost(namespace)
    users = permissions.service_users(namespace)
    try:
        env = {**os.environ, **{broker_users.password_variable(u): "pw" + u.service for u in users}}
        done = subprocess.run(["sh", "-c", broker_users.script(users, namespace)], env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        listed = subprocess.run(["rabbitmqctl", "-q", "list_permissions", "-p", namespace], capture_output=True,
                                text=True, check=True).stdout
        topics = subprocess.run(["rabbitmqctl", "-q", "list_topic_permissions", "-p", namespace],
                                capture_output=True, text=True, check=True).stdout
        for user in users:
            assert f"{user.name}\t{user.configure}\t{user.write}\t{user.read}" in listed
            for topic in user.topics:
                assert f"{user.name}\t{topic.exchange}\t{topic.write}\t{topic.read}" in topics
        with Connection(admin) as connection:
            topology.declare(connection, namespace)
        intake = broker_users.user_uri(admin, users[0].name, "pwintake")
        as_user(intake, publish(f"{namespace}.events", REGISTERED))  # the password the script was given
        refused(intake, publish(f"{namespace}.events", CASE_ACCEPTED))
    finally:
        delete_vhost(namespace)
        delete_broker_users(namespace)
