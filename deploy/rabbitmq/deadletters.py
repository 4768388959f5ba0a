"""The platform's dead letters: list them, show one, and republish them after a fix.

    python -m deploy.rabbitmq.deadletters list [--queue Q]
    python -m deploy.rabbitmq.deadletters show Q (POSITION | --id ID) [--body]
    python -m deploy.rabbitmq.deadletters republish Q (--id ID | --subject SUBJECT | --all) [--body-file FILE]

Every option may also come before the command: `--amqp-uri` (default: AMQP_ADMIN_URI, else
amqp://guest:guest@127.0.0.1:5672//), a broker administrator of the platform's vhost, not a service's user (it
reads the dead-letter queues and publishes to the consumer queues through the default exchange), and `--namespace`
(default: XINFANG_NAMESPACE, else xinfang).

Q is a dead-letter queue (`xinfang.intake.handle_matter_sent.dead-letter`), or the queue it belongs to, with or
without the namespace (`intake.handle_matter_sent`). POSITION counts from 1 at the head of the queue, as `list`
shows it. The reason comes from the consumer that refused the message (shared/runtime/messaging/deadletter.py) or,
for a message RabbitMQ dead-lettered itself (its handler failed past the queue's delivery limit), from `x-death`.

Bodies are never printed unless `show --body` asks for it: a petition's or a province's matter's may hold
personal data.

`republish` moves messages back to the queue they were refused on, in queue order, each removed from the
dead-letter queue only once the broker has confirmed its copy; what it does not republish stays, in its order.
It refuses to put a message before an earlier dead letter of the same subject (one petition's events keep their
order): republish the earlier one first, or all of that subject with `--subject`. `--body-file` replaces the body
of the one message `--id` names, after checking that the file is a valid CloudEvent (structured mode) of a type
that queue takes: how a malformed message is fixed.

While it runs, the messages it looked at are held (unacknowledged) by its connection: run one at a time. Exit
status: 0 done, 1 refused or failed (the message says why; nothing was lost), 2 a usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any, TextIO

import amqp
from kombu import Connection
from kombu.exceptions import KombuError
from kombu.utils.url import maybe_sanitize_url

from shared.language.integration.envelope import IntegrationEvent, InvalidIntegrationEvent
from shared.runtime.messaging import deadletter, topology

DEFAULT_AMQP_URI = "amqp://guest:guest@127.0.0.1:5672//"
READ_LIMIT = 100_000  # messages read from one dead-letter queue at most
CONFIRM_TIMEOUT_SECONDS = 10
# How often a dead letter has been looked at and put back before RabbitMQ 4's default delivery limit (20) would drop
# it from a dead-letter queue that has none of its own; warned about from here on.
LOOKS_WARNING = 10
# The CloudEvents attributes as headers: the RabbitMQ binding's `ce-`, and the AMQP 1.0 binding's names used before.
_ATTRIBUTE_PREFIXES = ("ce-", "cloudEvents_", "cloudEvents:")
# Dropped from a republished message: the record of its dead-lettering (and the broker's delivery count).
_DEAD_LETTER_HEADERS = (*deadletter.OUR_HEADERS, "x-death", "x-delivery-count")
_DEAD_LETTER_HEADER_PREFIXES = ("x-first-death-", "x-last-death-")
# An administrator may not publish with another user's user_id; an expiration would let the queue drop it.
_DROPPED_PROPERTIES = ("user_id", "expiration")


class Refused(Exception):
    """What the operator asked cannot be done as asked; the message says why and what to do instead."""


@dataclass
class DeadLetter:
    position: int  # 1 at the head of the queue
    delivery_tag: int
    body: bytes | str
    properties: dict[str, Any] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, Any]:
        return self.properties.get("application_headers") or {}

    @cached_property
    def _structured(self) -> dict[str, Any]:
        try:
            parsed = json.loads(self.body)
        except (ValueError, TypeError, RecursionError):
            return {}
        return parsed if isinstance(parsed, dict) else {}

    def attribute(self, name: str) -> str | None:
        """A CloudEvents attribute from the headers, else from a structured body; None if neither has it."""
        for prefix in _ATTRIBUTE_PREFIXES:
            value = self.headers.get(prefix + name)
            if value not in (None, ""):
                return _text(value)
        value = self._structured.get(name)
        return _text(value) if isinstance(value, (str, int)) and value != "" else None

    @property
    def id(self) -> str | None:
        return _text(self.properties["message_id"]) if self.properties.get("message_id") else self.attribute("id")

    @property
    def type(self) -> str | None:
        return self.attribute("type") or (_text(self.properties["type"]) if self.properties.get("type") else None)

    @property
    def source(self) -> str | None:
        return self.attribute("source")

    @property
    def subject(self) -> str | None:
        return self.attribute("subject")

    @property
    def deaths(self) -> list[dict[str, Any]]:
        deaths = self.headers.get("x-death")
        return [d for d in deaths if isinstance(d, dict)] if isinstance(deaths, list) else []

    @property
    def reason(self) -> str:
        ours = self.headers.get(deadletter.REASON_HEADER)
        if ours:
            return _text(ours)
        if not self.deaths:
            return "unknown (no reason header and no x-death record)"
        death = self.deaths[0]
        why, count = _text(death.get("reason", "")), death.get("count", 1)
        if why == "delivery_limit":
            return (f"delivery limit exceeded: its handler failed on every one of {topology.DELIVERY_LIMIT}+ "
                    "deliveries (RabbitMQ dead-lettered it; the service's log says why)")
        if why == "rejected":
            return f"rejected by its consumer with no reason recorded ({count} time(s))"
        return f"{why} (RabbitMQ, {count} time(s))"

    @property
    def dead_lettered_at(self) -> str:
        ours = self.headers.get(deadletter.AT_HEADER)
        if ours:
            return _text(ours)
        when = self.deaths[0].get("time") if self.deaths else None
        return when.isoformat() if isinstance(when, datetime) else (_text(when) if when else "unknown")

    @property
    def looks(self) -> int:
        """How often the dead-letter queue delivered it and had it put back (by this CLI, mostly)."""
        try:
            return int(self.headers.get("x-delivery-count") or 0)
        except (TypeError, ValueError):
            return 0

    @property
    def size(self) -> int:
        return len(self.body.encode("utf-8") if isinstance(self.body, str) else self.body)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


# --- queues ---------------------------------------------------------------------------------------------------
def dead_letter_queues(namespace: str) -> dict[str, topology.Subscription]:
    return {topology.dead_letter_queue(namespace, s).name: s for s in topology.SUBSCRIPTIONS}


def resolve_queue(namespace: str, given: str) -> str:
    known = dead_letter_queues(namespace)
    for candidate in (given, f"{given}.dead-letter", f"{namespace}.{given}", f"{namespace}.{given}.dead-letter"):
        if candidate in known:
            return candidate
    raise Refused(f"{given!r} is not a dead-letter queue of namespace {namespace!r}; `list` shows them all:\n  "
                  + "\n  ".join(known))


def original_queue(dead_letter_queue: str) -> str:
    """The queue whose dead letters `dead_letter_queue` holds (topology.dead_letter_queue: `<queue>.dead-letter`)."""
    return dead_letter_queue.removesuffix(".dead-letter")


# --- choosing what to republish --------------------------------------------------------------------------------
def choose(letters: Sequence[DeadLetter], *, message_id: str | None = None, subject: str | None = None,
           everything: bool = False) -> list[DeadLetter]:
    """The dead letters to republish, in queue order; refused if that would put one before an earlier dead letter
    of the same subject left in the queue."""
    if everything:
        chosen = list(letters)
    elif subject is not None:
        chosen = [letter for letter in letters if letter.subject == subject]
        if not chosen:
            raise Refused(f"no dead letter of subject {subject!r} in this queue")
    elif message_id is not None:
        chosen = [letter for letter in letters if letter.id == message_id]  # several: copies of one event
        if not chosen:
            raise Refused(f"no dead letter with id {message_id!r} in this queue")
    else:
        raise Refused("say which: --id ID, --subject SUBJECT or --all")
    left_behind = earlier_of_same_subject(letters, chosen)
    if left_behind:
        first = left_behind[0]
        positions = ", ".join(f"#{letter.position}" for letter in left_behind)
        raise Refused(
            f"subject {first.subject} has earlier dead letters in this queue ({positions}) that would come after "
            "the message(s) asked for: one petition's events must keep their order. Republish the earliest "
            f"first (--id {first.id}), or all of that subject in queue order (--subject {first.subject}).")
    return chosen


def earlier_of_same_subject(letters: Sequence[DeadLetter], chosen: Iterable[DeadLetter]) -> list[DeadLetter]:
    """Dead letters not chosen that come before a chosen one of the same subject (messages without a readable
    subject constrain nothing)."""
    chosen_tags: set[int] = set()
    last_chosen: dict[str, int] = {}
    for letter in chosen:
        chosen_tags.add(letter.delivery_tag)
        if letter.subject:
            last_chosen[letter.subject] = max(letter.position, last_chosen.get(letter.subject, 0))
    return [letter for letter in letters
            if letter.delivery_tag not in chosen_tags and letter.subject in last_chosen
            and letter.position < last_chosen[letter.subject]]


def republished(letter: DeadLetter, subscription: topology.Subscription,
                body: bytes | None = None) -> tuple[bytes | str, dict[str, Any]]:
    """The body and AMQP properties to republish `letter` with: as it came, without the record of its
    dead-lettering; with `body` instead of its own (a fixed one), the CloudEvents headers and properties made
    from it."""
    properties = {k: v for k, v in letter.properties.items() if k not in _DROPPED_PROPERTIES and v is not None}
    headers = {k: v for k, v in letter.headers.items()
               if k not in _DEAD_LETTER_HEADERS and not k.startswith(_DEAD_LETTER_HEADER_PREFIXES)}
    if body is not None:
        try:
            event = IntegrationEvent.from_json(body)
        except InvalidIntegrationEvent as error:
            raise Refused(f"the new body is not a valid CloudEvent of a known type: {error}") from None
        if event.event_type not in subscription.event_types:
            raise Refused(f"the new body is a {event.type}, which {subscription.service}.{subscription.handler} "
                          f"does not take (it takes {', '.join(t.type for t in subscription.event_types)})")
        headers = {k: v for k, v in headers.items() if not k.startswith(_ATTRIBUTE_PREFIXES)}
        headers.update(event.amqp_headers())
        properties.update(event.amqp_properties())
    properties["application_headers"] = headers
    return (body if body is not None else letter.body), properties


# --- the broker ------------------------------------------------------------------------------------------------
def connect(amqp_uri: str) -> Connection:
    connection = Connection(amqp_uri, heartbeat=0, connect_timeout=5, transport_options={"confirm_publish": True})
    try:
        connection.connect()
    except Exception as error:  # noqa: BLE001 - refused connection, bad credentials, unknown vhost: all said
        raise Refused(f"cannot reach the broker at {maybe_sanitize_url(amqp_uri)}: {error}") from None
    return connection


def message_count(connection: Connection, queue: str) -> int | None:
    channel = connection.channel()
    try:
        _, count, _ = channel.queue_declare(queue=queue, passive=True)
    except amqp.exceptions.NotFound:
        return None  # the failed passive declare closed the channel
    channel.close()
    return count


def read_all(channel: Any, queue: str) -> list[DeadLetter]:
    """Every message of `queue`, head first, held unacknowledged on `channel`: closing the channel puts back the
    ones not acked, at the head of the queue in their order (RabbitMQ 3.10 to 3.13 put a message nacked with
    requeue at the tail of a quorum queue, which is why this CLI never nacks)."""
    try:
        channel.queue_declare(queue=queue, passive=True)
    except amqp.exceptions.NotFound:
        raise Refused(f"{queue} does not exist on this broker (no consumer of it has started yet?)") from None
    letters: list[DeadLetter] = []
    while len(letters) < READ_LIMIT:
        message = channel.basic_get(queue=queue, no_ack=False)
        if message is None:
            break
        letters.append(DeadLetter(len(letters) + 1, message.delivery_tag, message.body, dict(message.properties)))
    return letters


# --- commands --------------------------------------------------------------------------------------------------
def list_queues(connection: Connection, namespace: str, out: TextIO) -> None:
    counts = {name: message_count(connection, name) for name in dead_letter_queues(namespace)}
    width = max(len(name) for name in counts)
    print(f"Dead-letter queues of namespace {namespace}:", file=out)
    for name, count in counts.items():
        print(f"  {name:<{width}}  {'not declared yet' if count is None else count:>6}", file=out)
    total = sum(count or 0 for count in counts.values())
    print(f"{total} dead letter(s) in all." + (" `list --queue NAME` lists a queue's." if total else ""), file=out)


def list_messages(letters: Sequence[DeadLetter], queue: str, out: TextIO) -> None:
    print(f"{queue}: {len(letters)} dead letter(s), head first (bodies not shown: they may hold personal data).",
          file=out)
    for letter in letters:
        print(f"#{letter.position}  id {letter.id or '(none)'}", file=out)
        print(f"    type {letter.type or '(unknown)'}, source {letter.source or '(unknown)'}", file=out)
        print(f"    subject {letter.subject or '(unknown)'}, dead-lettered at {letter.dead_lettered_at}", file=out)
        print(f"    reason: {_shortened(letter.reason, 200)}", file=out)
    _warn_about_looks(letters, out)


def show(letter: DeadLetter, queue: str, with_body: bool, out: TextIO) -> None:
    print(f"Dead letter #{letter.position} of {queue}", file=out)
    print(f"  reason:           {letter.reason}", file=out)
    print(f"  dead-lettered at: {letter.dead_lettered_at}", file=out)
    print(f"  refused on:       {_text(letter.headers.get(deadletter.QUEUE_HEADER) or original_queue(queue))}",
          file=out)
    for death in letter.deaths:
        print(f"  broker's record:  {_text(death.get('reason', '?'))} on {_text(death.get('queue', '?'))}, "
              f"{death.get('count', 1)} time(s), last at {_value(death.get('time'))}", file=out)
    print("Properties:", file=out)
    for name, value in sorted(letter.properties.items()):
        if name != "application_headers":
            print(f"  {name}: {_value(value)}", file=out)
    print("Headers:", file=out)
    for name, value in sorted(letter.headers.items()):
        if name != "x-death":
            print(f"  {name}: {_value(value)}", file=out)
    if not with_body:
        print(f"Body: {letter.size} bytes, not shown: it may hold personal data (--body prints it).", file=out)
        return
    print(f"Body ({letter.size} bytes). It may hold personal data: do not copy it into tickets, chats or e-mail.",
          file=out)
    try:
        print(json.dumps(json.loads(letter.body), ensure_ascii=False, indent=2), file=out)
    except (ValueError, TypeError, RecursionError):
        print(_text(letter.body), file=out)


def republish(connection: Connection, reader: Any, letters: Sequence[DeadLetter], queue: str,
              chosen: Sequence[DeadLetter], body: bytes | None, out: TextIO) -> int:
    """Publish each of `chosen` to its original queue (default exchange, confirmed), acking its dead letter once
    confirmed. Returns how many were moved; raises Refused at the first failure (those before stay moved)."""
    target = original_queue(queue)
    subscription = subscription_of(queue)
    prepared = [(letter, *republished(letter, subscription, body)) for letter in chosen]  # refuse before moving any
    publisher = connection.channel()
    try:
        publisher.queue_declare(queue=target, passive=True)
    except amqp.exceptions.NotFound:
        raise Refused(f"{target} does not exist: start its service once (it declares it), then try again") from None
    moved = 0
    for letter, new_body, properties in prepared:
        try:
            # mandatory: a copy no queue took is returned, which fails the publish (nothing is acked then).
            publisher.basic_publish(amqp.Message(new_body, **properties), exchange="", routing_key=target,
                                    mandatory=True, timeout=CONFIRM_TIMEOUT_SECONDS)
        except Exception as error:  # noqa: BLE001 - reported; the dead letter stays where it is
            raise Refused(f"republishing #{letter.position} (id {letter.id}) failed: {error!r}. {moved} of "
                          f"{len(prepared)} were moved before it; it and the rest are still in {queue}.") from None
        reader.basic_ack(letter.delivery_tag)
        moved += 1
        fixed = " with the new body" if body is not None else ""
        print(f"republished #{letter.position} id {letter.id} ({letter.type}, subject {letter.subject}) to "
              f"{target}{fixed}", file=out)
    left = len(letters) - moved
    print(f"{moved} message(s) republished to {target}; {left} left in {queue}.", file=out)
    return moved


def subscription_of(queue: str) -> topology.Subscription:
    for subscription in topology.SUBSCRIPTIONS:
        if queue.endswith(f".{subscription.service}.{subscription.handler}.dead-letter"):
            return subscription
    raise Refused(f"{queue} is not the dead-letter queue of a subscription")


def _value(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return _text(value)


def _shortened(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _warn_about_looks(letters: Sequence[DeadLetter], out: TextIO) -> None:
    looked = [letter for letter in letters if letter.looks >= LOOKS_WARNING]
    if looked:
        print(f"warning: {len(looked)} dead letter(s) have been looked at {LOOKS_WARNING} times or more; on "
              "RabbitMQ 4 a quorum queue drops a message put back 20 times unless a policy raises its delivery "
              "limit (docs/operations.md, Dead letters).", file=out)


def _pick(letters: Sequence[DeadLetter], position: int | None, message_id: str | None) -> DeadLetter:
    if message_id is not None:
        for letter in letters:
            if letter.id == message_id:
                return letter
        raise Refused(f"no dead letter with id {message_id!r} in this queue")
    if position is None:
        raise Refused("say which: a POSITION (as `list --queue` shows it) or --id ID")
    if not 1 <= position <= len(letters):
        raise Refused(f"no dead letter at position {position}: the queue holds {len(letters)}")
    return letters[position - 1]


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--amqp-uri", default=argparse.SUPPRESS,
                        help="a broker administrator's URI (default: AMQP_ADMIN_URI, else " + DEFAULT_AMQP_URI + ")")
    common.add_argument("--namespace", default=argparse.SUPPRESS,
                        help="the platform's namespace (default: XINFANG_NAMESPACE, else xinfang)")
    main_parser = argparse.ArgumentParser(prog="python -m deploy.rabbitmq.deadletters", parents=[common],
                                          description=__doc__.split("\n")[0])
    commands = main_parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", parents=[common], help="the dead-letter queues, or one queue's messages")
    listing.add_argument("--queue", help="list this queue's dead letters (no bodies)")
    showing = commands.add_parser("show", parents=[common], help="one dead letter's reason, properties and headers")
    showing.add_argument("queue")
    showing.add_argument("position", nargs="?", type=int, help="its position, 1 at the head (as `list` shows)")
    showing.add_argument("--id", dest="message_id", help="its message id (CloudEvents id) instead of a position")
    showing.add_argument("--body", action="store_true", help="print the body too (it may hold personal data)")
    moving = commands.add_parser("republish", parents=[common], help="move dead letters back to their queue")
    moving.add_argument("queue")
    which = moving.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", dest="message_id", help="the message with this id (CloudEvents id)")
    which.add_argument("--subject", help="every message of this subject (petition), in queue order")
    which.add_argument("--all", action="store_true", dest="everything", help="every message, in queue order")
    moving.add_argument("--body-file", type=Path, help="with --id: republish it with this body instead (a fixed "
                                                       "CloudEvent in structured mode)")
    return main_parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = parser().parse_args(argv)
    amqp_uri = getattr(args, "amqp_uri", None) or os.environ.get("AMQP_ADMIN_URI") or DEFAULT_AMQP_URI
    namespace = getattr(args, "namespace", None) or os.environ.get("XINFANG_NAMESPACE") or "xinfang"
    try:
        if args.command == "republish" and args.body_file is not None and args.message_id is None:
            raise Refused("--body-file replaces one message's body: name it with --id")
        body = args.body_file.read_bytes() if getattr(args, "body_file", None) is not None else None
        queue = resolve_queue(namespace, args.queue) if getattr(args, "queue", None) else None
        connection = connect(amqp_uri)
        try:
            if queue is None:
                list_queues(connection, namespace, out)
                return 0
            reader = connection.channel()
            letters = read_all(reader, queue)
            if args.command == "list":
                list_messages(letters, queue, out)
            elif args.command == "show":
                show(_pick(letters, args.position, args.message_id), queue, args.body, out)
            else:
                chosen = choose(letters, message_id=args.message_id, subject=args.subject,
                                everything=args.everything)
                republish(connection, reader, letters, queue, chosen, body, out)
            # Closing the channel puts back what was not acked, at the head of the queue in its order.
            reader.close()
        finally:
            connection.release()
    except Refused as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except (OSError, amqp.exceptions.AMQPError, KombuError) as error:  # the broker or a file: said, nothing lost
        print(f"error: {error!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
