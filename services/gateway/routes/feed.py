"""Catching up (docs/integration-events.md, "Catching up"): the integration feed, every integration event the county
published by global position (shared/runtime/feed.py), and a replay of it to an integrator's own queue.

- `GET /api/v1/integration/feed?after=&limit=&type=`: a page of events after a position, in order, as `$all` in an
  event store; `next` is the `after` of the next page, `head` the latest position.
- `POST /api/v1/integration/feed/republish`: the same events, published again with publisher confirms to the topic
  exchange `<ns>.replay` with the integrator's queue name as routing key; the integrator binds its queue there.

For integrator accounts only (role `integrator`, services/gateway/users.py): officers are refused (403). An
integrator sees what the events exchange carries; one given `sources` (provinces) also sees the county's answers to
those provinces (the `province.outbound` types whose `recipient` is one of them), and nothing else.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from kombu import Connection, Producer
from prometheus_client import Counter
from pydantic import BaseModel, ConfigDict, Field

from services.gateway.deps import GatewayDep, account_principal
from services.gateway.errors import ApiError
from services.gateway.schemas import Problem
from services.gateway.security import Principal, Role
from shared.language.integration.catalog import EVENT_TYPES
from shared.language.integration.envelope import IntegrationEvent, InvalidIntegrationEvent
from shared.runtime.feed import MAX_LIMIT, IntegrationFeed
from shared.runtime.messaging import topology
from shared.runtime.messaging.publisher import CONFIRM_TIMEOUT_SECONDS, Confirms

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/integration", tags=["integration"])
RESPONSES: dict[int | str, dict[str, Any]] = {401: {"model": Problem}, 403: {"model": Problem},
                                              422: {"model": Problem}, 503: {"model": Problem}}
DEFAULT_LIMIT = 200
MAX_POSITION = 2**63 - 1  # a position is a PostgreSQL bigint
MAX_REPLAY = 10_000
# Every integrator reads the events exchange's types; a province's integrator also the answers addressed to it.
PUBLIC_TYPES = frozenset(t.type for t in EVENT_TYPES.values() if t.exchange == "events")
PROVINCE_TYPES = frozenset(t.type for t in EVENT_TYPES.values() if t.exchange == "province.outbound")

FEED_EVENTS = Counter("xinfang_integration_feed_events_total",
                      "Integration-feed events served to integrators, by integrator and how (read, replayed)",
                      ["integrator", "operation"])


class FeedEntry(BaseModel):
    position: int
    event: dict[str, Any] = Field(description="the structured-mode CloudEvent as published")


class FeedPageView(BaseModel):
    events: list[FeedEntry]
    next: int = Field(description="the `after` of the next page")
    head: int = Field(description="the latest position of the feed when this page was read")


class ReplayRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    after: int = Field(ge=0, le=MAX_POSITION, description="replay the events after this position")
    queue: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._:-]+$",
                       description="your queue: `<ns>.integrator.<your account>.<any suffix>`")
    limit: int = Field(1000, ge=1, le=MAX_REPLAY)
    types: list[str] | None = Field(None, max_length=50, description="types or prefixes (as `type` of the feed)")


class ReplayReceipt(BaseModel):
    published: int
    next: int = Field(description="the `after` of the next replay")


async def integrator(principal: Annotated[Principal | None, Depends(account_principal)]) -> Principal:
    if principal is None:
        raise ApiError(401, "unauthorized", "请先登录", headers={"WWW-Authenticate": "Bearer"})
    if principal.role is not Role.INTEGRATOR:
        raise ApiError(403, "forbidden", "集成事件订阅源仅供集成方账号使用")
    return principal


Integrator = Annotated[Principal, Depends(integrator)]
_opening = threading.Lock()


def feed_of(request: Request) -> IntegrationFeed:
    """The feed's store, opened on first use by this application (read and written by the relays)."""
    state = request.app.state
    with _opening:
        if getattr(state, "integration_feed", None) is None:
            state.integration_feed = IntegrationFeed(request.app.state.gateway.settings, pool_size=2)
        return state.integration_feed


def selected_types(principal: Principal, asked: list[str] | None) -> set[str]:
    """The types `principal` may see, narrowed to those asked for (a type, or a prefix ending in `.`)."""
    visible = PUBLIC_TYPES | (PROVINCE_TYPES if principal.sources else frozenset())
    if not asked:
        return set(visible)
    chosen: set[str] = set()
    for wanted in asked:
        matching = {t for t in EVENT_TYPES if t == wanted or (wanted.endswith(".") and t.startswith(wanted))}
        if not matching:
            raise ApiError(422, "unknown_event_type", f"未知的事件类型：{wanted[:100]}", extra={"type": wanted[:100]})
        chosen |= matching
    return chosen & visible


def may_see(principal: Principal, event: dict[str, Any]) -> bool:
    kind = event.get("type")
    return kind in PUBLIC_TYPES or (kind in PROVINCE_TYPES and event.get("recipient") in principal.sources)


def _page(feed: IntegrationFeed, principal: Principal, after: int, limit: int,
          types: set[str]) -> tuple[list[tuple[int, dict[str, Any]]], int, int]:
    page = feed.read(after, limit, types)
    return [(p, e) for p, e in page.events if may_see(principal, e)], page.next, page.head


@router.get("/feed", response_model=FeedPageView, responses=RESPONSES)
def read_feed(
    request: Request,
    principal: Integrator,
    after: Annotated[int, Query(ge=0, le=MAX_POSITION, description="the position to read after; 0: from the start")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    kind: Annotated[list[str] | None, Query(alias="type", max_length=50,
                                            description="a CloudEvents type, or a prefix ending in `.` "
                                                        "(e.g. `cn.xinfang.case.`); repeatable")] = None,
) -> Any:
    """The integration events published after position `after`, in order (at most `limit`): what this integrator
    may see, of the types asked for. Read the next page with `after=next`; when `next` equals `head` you are up to
    date. Positions increase but are not consecutive; an event is identified by its `source` and `id`."""
    events, next_after, head = _page(feed_of(request), principal, after, limit, selected_types(principal, kind))
    FEED_EVENTS.labels(principal.username, "read").inc(len(events))
    body = {"events": [{"position": p, "event": e} for p, e in events], "next": next_after, "head": head}
    return JSONResponse(body)


@router.post("/feed/republish", response_model=ReplayReceipt, responses={**RESPONSES, 409: {"model": Problem}})
def republish(request: Request, gw: GatewayDep, principal: Integrator, command: ReplayRequest) -> Any:
    """Publish again, to your own queue, the events after `after` that the feed shows you (at most `limit`), in
    order, on the exchange `<ns>.replay` with your queue's name as routing key: bind your queue there with that
    key first (409 `replay_queue_not_bound` otherwise: nothing was delivered). Returns how many were published
    (each confirmed by the broker) and the `after` of the next replay."""
    namespace = gw.settings.namespace
    prefix = f"{namespace}.integrator.{principal.username}."
    if not command.queue.startswith(prefix) or len(command.queue) == len(prefix):
        raise ApiError(403, "queue_not_yours", f"只能重放到本集成方自己的队列（名称以 {prefix} 开头）",
                       extra={"queue_prefix": prefix})
    feed, types = feed_of(request), selected_types(principal, command.types)
    chosen: list[tuple[int, dict[str, Any]]] = []
    position = command.after
    while len(chosen) < command.limit:
        events, next_after, head = _page(feed, principal, position, MAX_LIMIT, types)
        room = command.limit - len(chosen)
        if len(events) > room:  # the limit falls inside this page: the next replay starts after the last one sent
            chosen.extend(events[:room])
            position = events[room - 1][0]
            break
        chosen.extend(events)
        if next_after <= position:
            break
        position = next_after
        if position >= head:
            break
    try:
        messages = [(json.dumps(event, ensure_ascii=False).encode(), IntegrationEvent.from_json(json.dumps(event)))
                    for _position, event in chosen]
    except InvalidIntegrationEvent as error:  # it was valid when published: never in a correct deployment
        log.error("integration feed: a stored event no longer parses: %s", error)
        raise ApiError(503, "service_unavailable", "重放暂时无法进行，请联系管理员") from None
    replay(gw.settings.amqp_uri, namespace, command.queue, messages)
    FEED_EVENTS.labels(principal.username, "replayed").inc(len(messages))
    log.info("integration feed: replayed %d events after %d to %s", len(messages), command.after, command.queue)
    return JSONResponse({"published": len(messages), "next": position})


def replay(amqp_uri: str, namespace: str, queue: str, events: list[tuple[bytes, IntegrationEvent]]) -> None:
    """Publish `events` (each its body as published, and its envelope for the headers) to `<ns>.replay` with
    routing key `queue`, persistent and mandatory, with the relays' headers and properties; returns once the broker
    confirmed every one. Raises ApiError 409 if the queue is not bound there (the broker returned them: none was
    delivered), 503 if the broker cannot be reached or refuses."""
    if not events:
        return
    returned: list[str] = []
    try:
        with Connection(amqp_uri, connect_timeout=5, heartbeat=0) as connection:
            channel = connection.channel()
            exchange = topology.replay_exchange(namespace)(channel)
            exchange.declare()
            confirms = Confirms()
            channel.events["basic_return"].add(lambda _exc, _exchange, key, _message: returned.append(key))
            confirms.listen(channel)
            producer = Producer(channel)
            for body, event in events:
                producer.publish(body, exchange=exchange.name,
                                 routing_key=queue, headers=event.amqp_headers(), mandatory=True, retry=False,
                                 timeout=CONFIRM_TIMEOUT_SECONDS, **event.amqp_properties())
                confirms.sent()
            confirms.wait(connection, "replayed messages")
    except Exception as error:  # noqa: BLE001 - any broker or socket error: the integrator may ask again
        log.error("integration feed: replay to %s failed: %r", queue, error)
        raise ApiError(503, "broker_unavailable", "消息服务暂时无法使用，请稍后重试") from None
    if returned:
        raise ApiError(409, "replay_queue_not_bound",
                       f"队列未绑定到交换机 {namespace}.replay（绑定键为队列名），事件未送达；请先绑定后重试",
                       extra={"exchange": f"{namespace}.replay", "returned": len(returned)})
