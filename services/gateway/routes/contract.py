"""The published contract of the integration events: their AsyncAPI 3.0 document (docs/integration-events.md).

Public like the JSON Schemas it embeds (routes/system.py): no personal data, cacheable (headers.PUBLIC_STATIC).
"""

from __future__ import annotations

import json
from functools import lru_cache
from urllib.parse import urlsplit

from fastapi import APIRouter
from fastapi.responses import Response

from services.gateway.deps import GatewayDep
from shared.language.integration import asyncapi, envelope

router = APIRouter(tags=["integration"])

_DEFAULT_PORTS = {"amqp": 5672, "amqps": 5671}


def broker_address(amqp_uri: str) -> tuple[str, str]:
    """(`host:port`, protocol) of the broker the platform uses, without its user or password."""
    parts = urlsplit(amqp_uri)
    protocol = "amqps" if parts.scheme == "amqps" else "amqp"
    host = parts.hostname or "localhost"
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    return f"{host}:{parts.port or _DEFAULT_PORTS[protocol]}", protocol


@lru_cache(maxsize=8)
def _rendered(namespace: str, schema_base_url: str, host: str, protocol: str) -> bytes:
    document = asyncapi.document(namespace, schema_base_url, host=host, protocol=protocol)
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@router.get("/api/v1/asyncapi.json", response_class=Response,
            responses={200: {"content": {"application/json": {}},
                             "description": "An AsyncAPI 3.0.0 document"}})
def asyncapi_document(gw: GatewayDep) -> Response:
    """The AsyncAPI 3.0 document of the integration events: the exchanges (channels), what the county sends and
    receives on each (operations, from the county's point of view), every published event type (messages: the
    CloudEvents body with its data schema, the `ce-` headers) and the AMQP bindings."""
    host, protocol = broker_address(gw.settings.integration_broker_uri or gw.settings.amqp_uri)
    body = _rendered(gw.settings.namespace, envelope.schema_base_url(), host, protocol)
    return Response(body, media_type="application/json")
