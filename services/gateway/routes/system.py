"""Operations and integration: health and the published JSON Schemas of the integration events.

The gateway's /metrics is not here: it is served on METRICS_PORT, never on the public port (service.create_app)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pymongo.errors import PyMongoError

from services.gateway.deps import GatewayDep
from services.gateway.errors import ApiError
from shared.language.integration.catalog import EVENT_TYPES, WITHDRAWN, schema_documents
from shared.language.integration.envelope import schema_base_url
from shared.language.readmodels import CaseView

router = APIRouter(tags=["system"])


@router.get("/healthz")
def healthz(gw: GatewayDep) -> JSONResponse:
    """Readiness: can this gateway register petitions (intake) and show their status (read models)?"""
    checks: dict[str, str] = {}
    try:
        CaseView._get_db().command("ping")
        checks["read_models"] = "ok"
    except PyMongoError as error:
        checks["read_models"] = f"unavailable: {type(error).__name__}"
    checks["intake"] = "ok" if gw.intake.healthy() else "unavailable"
    healthy = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ok" if healthy else "degraded", "checks": checks},
                        status_code=200 if healthy else 503)


@router.get("/api/v1/schemas", tags=["integration"])
def list_schemas() -> dict[str, Any]:
    """The integration event types (CloudEvents `type`) with their `dataschema` (the URL their data schema is served
    at) and that schema's `$id`; and every schema document with its `$id` and URL, `_common.json` included, so a
    JSON Schema registry built from this answer alone resolves each `$ref` (the `$id`s are URNs)."""
    base = schema_base_url()
    return {
        "event_types": [{"type": t.type, "dataschema": t.dataschema_at(base), "schema_id": t.schema_id,
                         "schema": f"/api/v1/schemas/{t.schema_file}", "published": t not in WITHDRAWN}
                        for t in EVENT_TYPES.values()],
        "documents": [{"id": document["$id"], "url": f"{base}/{name}", "schema": f"/api/v1/schemas/{name}"}
                      for name, document in schema_documents().items()],
    }


@router.get("/api/v1/schemas/{file_name}", tags=["integration"])
def get_schema(file_name: str) -> dict[str, Any]:
    """One JSON Schema document (draft 2020-12)."""
    documents = schema_documents()
    if file_name not in documents:
        raise ApiError(404, "not_found", "没有这个数据模式")
    return documents[file_name]
