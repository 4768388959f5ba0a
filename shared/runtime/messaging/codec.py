"""A kombu serializer for `application/cloudevents+json`, and the content types an event consumer accepts.

Decoding returns the text untouched: parsing and validation happen in the consumer entrypoint, where a bad message
can be dead-lettered. A decoder that raised would instead break kombu's consume loop for every message behind it.

A message in the binary mode of the CloudEvents RabbitMQ binding (a province may send one) is `application/json`:
that is kombu's own JSON serializer, which nameko's RPC uses, so it is not replaced here. kombu decodes such a body
as JSON first (a body that is not JSON is dead-lettered by the consumer's `on_decode_error`); the consumer then parses
the raw body with the `ce-` headers (`IntegrationEvent.from_amqp`), never kombu's decoded value.
"""

from __future__ import annotations

from kombu.serialization import register, registry

from shared.language.integration.envelope import BINARY_CONTENT_TYPE, CONTENT_TYPE

SERIALIZER_NAME = "cloudevents"
ACCEPTED_CONTENT_TYPES = (CONTENT_TYPE, BINARY_CONTENT_TYPE)  # structured and binary mode


def encode(body: bytes | str) -> bytes | str:
    return body


def decode(body: bytes | str) -> bytes | str:
    return body


def register_codec() -> None:
    if SERIALIZER_NAME not in registry.name_to_type:
        register(SERIALIZER_NAME, encode, decode, content_type=CONTENT_TYPE, content_encoding="utf-8")


register_codec()
