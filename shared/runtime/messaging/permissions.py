"""Who may do what on the broker: one RabbitMQ user per service and one per integrator, declared in one place.

RabbitMQ checks three regexes per user and vhost (configure: declare/delete; write: publish, and be the
destination of a binding; read: consume, and be the source of a binding), and, per topic exchange, two more on
the routing key (write: publish; read: bind). A user without topic permissions on an exchange may use every key,
so every user gets them on both topic exchanges, even where its write regex already keeps it off the exchange.

- A service publishes only its own event types on `<ns>.events`, and only the RPC calls it makes
  (`<service>.<method>`) plus replies (uuids) on `nameko-rpc`.
- A service consumes only its own queues. Its outbox relay (re)declares the queues its events feed (so they are
  never unroutable): it has configure and write on them, not read, so it can neither consume nor create them
  (RabbitMQ asks for read on a queue when it is created with a dead-letter exchange); the broker set-up and the
  consuming service create them.
- An integrator declares, binds (from `<ns>.events`, and from `<ns>.replay` with its own queues' names as keys, to
  be sent what it missed: shared/runtime/feed.py) and reads only queues named `<ns>.integrator.<name>.*`, and writes
  on no exchange at all; `nameko-rpc` and the `rpc-*` queues are out of its reach.
- A province is an integrator that may also publish its matters on `<ns>.province.inbound` (that type's key alone)
  and bind from `<ns>.province.outbound`, where the county answers it.
- The gateway re-publishes an integrator's missed events on `<ns>.replay`, with integrators' queue names as keys.

deploy/rabbitmq/users.py applies these with rabbitmqctl; docs/security.md ("Broker users") explains them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from shared.language.integration.catalog import TYPE_PREFIX
from shared.runtime.messaging import topology

SERVICES = ("intake", "routing", "supervision", "notification", "audit", "gateway")
RPC_EXCHANGE = "nameko-rpc"  # nameko's default (nameko.rpc.get_rpc_exchange)
STANDALONE_PROXY = "standalone_rpc_proxy"  # the service name nameko gives a ClusterRpcProxy's reply queue
# nameko binds a caller's reply queue, and a server publishes its reply, with a uuid4 as routing key.
_UUID = "[0-9a-f]+-[0-9a-f]+-[0-9a-f]+-[0-9a-f]+-[0-9a-f]+"
_PREFIX = re.escape(TYPE_PREFIX)

# The event types each service publishes (the CloudEvents type is the routing key), by exchange (EventType.exchange),
# as unanchored regexes.
PUBLISHES: dict[str, dict[str, str]] = {
    "intake": {"events": _PREFIX + r"petition\.registered\.v[0-9]+",
               "province.outbound": _PREFIX + r"province\.matter_received\.v[0-9]+"},
    "routing": {"events": _PREFIX + r"petition\.routed\.v[0-9]+"},
    "supervision": {"events": _PREFIX + r"case\.[a-z_]+\.v[0-9]+",
                    "province.outbound": _PREFIX + r"province\.(matter_decided|progress_reported|matter_completed)"
                                                   r"\.v[0-9]+"},
    "notification": {"events": _PREFIX + r"notice\.[a-z_]+\.v[0-9]+"},
}
PROVINCE_SENDS = _PREFIX + r"province\.matter_sent\.v[0-9]+"  # what a province may publish on its inbound exchange
REPLAY = "replay"  # the exchange the gateway re-publishes an integrator's missed events on (shared/runtime/feed.py)
# The nameko RPC methods each service answers, and those each service calls. A call not listed here is refused
# by the broker (ACCESS_REFUSED, the caller's channel closed): add it here when the code starts making it.
RPC_SERVES: dict[str, tuple[str, ...]] = {
    "intake": ("register_petition", "get_petition", "petition_particulars", "find_by_query_code",
               "petitioner_names", "search_petitions"),
    "supervision": ("perform", "get_case", "case_as_of", "step_particulars", "issue_circular", "circular_particulars"),
    "notification": ("case_aggregates", "record_posting", "record_postal_receipt", "resend"),
    "audit": ("history", "state_as_of", "case_bundle"),
}
RPC_CALLS: dict[str, tuple[str, ...]] = {
    "routing": ("intake.petition_particulars",),
    "supervision": ("intake.petition_particulars",),
    "notification": ("intake.petition_particulars", "supervision.step_particulars", "supervision.circular_particulars"),
    "audit": ("notification.case_aggregates", "supervision.case_as_of"),
    "gateway": ("intake.get_petition", "supervision.get_case", "supervision.perform", "audit.history",
                "audit.state_as_of", "audit.case_bundle", "intake.petitioner_names", "intake.search_petitions",
                "notification.record_posting", "notification.record_postal_receipt", "notification.resend",
                "supervision.issue_circular"),
}
# Callers whose calls go through nameko's standalone proxy (reply queue `rpc.reply-standalone_rpc_proxy-<uuid>`)
# rather than a service's RpcProxy (`rpc.reply-<service>-<uuid>`): the gateway; and the audit service's commands
# (services/audit/cli.py bundle, services/audit/replay.py), run with its user beside its service.
STANDALONE_CALLERS: dict[str, tuple[str, ...]] = {"gateway": (STANDALONE_PROXY,),
                                                  "audit": ("audit", STANDALONE_PROXY)}
_INTEGRATOR_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")


@dataclass(frozen=True)
class TopicPermission:
    exchange: str
    write: str
    read: str


@dataclass(frozen=True)
class BrokerUser:
    name: str
    service: str  # a platform service, or "integrator"
    configure: str
    write: str
    read: str
    topics: tuple[TopicPermission, ...] = field(default=())


def user_name(namespace: str, service: str) -> str:
    """`xinfang-intake` for the default namespace: users are per broker, so each deployment names its own."""
    return f"{namespace}-{service}"


def _anchored(alternatives: list[str]) -> str:
    # `^$` matches no exchange, queue or routing key the platform uses: nothing.
    return "^(" + "|".join(alternatives) + ")$" if alternatives else "^$"


def service_user(namespace: str, service: str) -> BrokerUser:
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}: one of {', '.join(SERVICES)}")
    ns = re.escape(namespace)
    consumed = [s for s in topology.SUBSCRIPTIONS if s.service == service]
    fed = [s for s in topology.SUBSCRIPTIONS if s.publisher == service and s not in consumed]
    declared = consumed + fed

    def queues(subscriptions: list[topology.Subscription], *, dead_letter: bool) -> list[str]:
        suffix = r"(\.dead-letter)?" if dead_letter else ""
        return [re.escape(topology.queue_name(namespace, s.service, s.handler)) + suffix for s in subscriptions]

    dead_letter = ns + r"\.dead-letter"
    published = PUBLISHES.get(service, {})
    # The exchanges its queues bind from (events, and province.inbound for intake's matters) and those it publishes on
    sources = list(dict.fromkeys(["events", *(t.exchange for s in declared for t in s.event_types)]))
    exchanges = [ns + r"\." + re.escape(name) for name in dict.fromkeys([*sources, *published])]
    serves, calls = RPC_SERVES.get(service, ()), RPC_CALLS.get(service, ())
    repliers = STANDALONE_CALLERS.get(service, (service,))
    reply_queue = rf"rpc\.reply-({'|'.join(re.escape(r) for r in repliers)})-{_UUID}" if len(repliers) > 1 else \
        rf"rpc\.reply-{re.escape(repliers[0])}-{_UUID}"
    rpc_names: list[str] = []
    if serves:
        rpc_names.append(re.escape(f"rpc-{service}"))
    if calls:
        rpc_names.append(reply_queue)
    rpc = [re.escape(RPC_EXCHANGE), *rpc_names] if rpc_names else []

    source_names = [ns + r"\." + re.escape(name) for name in sources]
    topology_names = [*exchanges, dead_letter, *queues(declared, dead_letter=True)] if declared else \
        [ns + r"\." + re.escape(name) for name in published]
    publishes = [ns + r"\." + re.escape(name) for name in published]
    replays = [ns + r"\." + REPLAY] if service == "gateway" else []
    topic_exchanges = list(dict.fromkeys(["events", *sources, *published, *([REPLAY] if service == "gateway" else [])]))
    return BrokerUser(
        name=user_name(namespace, service),
        service=service,
        configure=_anchored(topology_names + replays + rpc),
        write=_anchored(publishes + replays + (
            [dead_letter, *queues(declared, dead_letter=True)] if declared else []) + rpc),
        read=_anchored(([*source_names, dead_letter, *queues(consumed, dead_letter=False)] if declared else []) + rpc),
        topics=(
            *(TopicPermission(
                f"{namespace}.{exchange}",
                write=_anchored([published[exchange]] if exchange in published else [
                    re.escape(f"{namespace}.integrator.") + r"[a-z0-9_-]+\..+"] if exchange == REPLAY else []),
                read=_anchored(sorted({re.escape(t.type) for s in declared for t in s.event_types
                                       if t.exchange == exchange})),
            ) for exchange in topic_exchanges),
            TopicPermission(
                RPC_EXCHANGE,
                write=_anchored([re.escape(call) for call in calls] + ([_UUID] if serves else [])),
                read=_anchored(([re.escape(f"{service}.*")] if serves else []) + ([_UUID] if calls else [])),
            ),
        ),
    )


def service_users(namespace: str) -> list[BrokerUser]:
    return [service_user(namespace, service) for service in SERVICES]


def integrator_queue_prefix(namespace: str, integrator: str) -> str:
    return f"{namespace}.integrator.{integrator}."


def integrator_user(namespace: str, integrator: str, *, province: bool = False) -> BrokerUser:
    """A provincial or third-party system: it reads integration events into queues of its own, nothing more; a
    `province` also sends the county its matters and reads the county's answers to them."""
    if not _INTEGRATOR_NAME.fullmatch(integrator):
        raise ValueError("an integrator's name is 1-40 lower-case letters, digits, '-' or '_'")
    own_prefix = re.escape(integrator_queue_prefix(namespace, integrator))
    own = own_prefix + ".+"
    inbound, outbound = f"{namespace}.province.inbound", f"{namespace}.province.outbound"
    provincial = [re.escape(inbound)] if province else []  # a queue.bind needs write on its queue; and a publish
    return BrokerUser(
        name=user_name(namespace, f"integrator-{integrator}"),
        service="integrator",
        configure=_anchored([own]),
        write=_anchored([own, *provincial]),
        read=_anchored([re.escape(f"{namespace}.events"), re.escape(f"{namespace}.{REPLAY}"),
                        *([re.escape(outbound)] if province else []), own]),
        topics=(
            TopicPermission(f"{namespace}.events", write="^$", read="^" + _PREFIX + ".+$"),
            # Missed events, re-published with its own queues' names as keys: it may bind only those.
            TopicPermission(f"{namespace}.{REPLAY}", write="^$", read="^" + own + "$"),
            TopicPermission(inbound, write="^" + PROVINCE_SENDS + "$" if province else "^$", read="^$"),
            TopicPermission(outbound, write="^$", read="^" + _PREFIX + r"province\..+$" if province else "^$"),
            TopicPermission(RPC_EXCHANGE, write="^$", read="^$"),
        ),
    )
