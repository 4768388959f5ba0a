"""A kombu serializer for `application/cloudevents+json`.

Decoding returns the text untouched: parsing and validation happen in the consumer entrypoint, where a bad message
can be dead-lettered. A decoder that raised would instead break kombu's consume loop for every message behind it.
"""

from __future__ import annotations

from kombu.serialization import register, registry

from shared.language.integration.envelope import CONTENT_TYPE

SERIALIZER_NAME = "cloudevents"


def encode(body: bytes | str) -> bytes | str:
    return body


def decode(body: bytes | str) -> bytes | str:
    return body


def register_codec() -> None:
    if SERIALIZER_NAME not in registry.name_to_type:
        register(SERIALIZER_NAME, encode, decode, content_type=CONTENT_TYPE, content_encoding="utf-8")


register_codec()
