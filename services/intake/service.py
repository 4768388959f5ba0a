"""intake's nameko service: `nameko run --config deploy/nameko.yml services.intake.service`.

A province's matters arrive as events (`handle_matter_sent`, services/intake/provincial.py).
RPC (`register_petition`, `get_petition`, `find_by_query_code`, and for the work lists `petitioner_names` and
`search_petitions` (services/intake/search.py), for the gateway; `petition_particulars` for supervision,
notification and routing). Every RPC requires a signed caller assertion (shared/runtime/callers.py): the
broker is not a trust boundary, and these answers hold personal data. The gateway's use cases are also served over
HTTP (guarded by INTAKE_INTERNAL_TOKEN), because registering a petition must not depend on the broker: with
RabbitMQ down a petitioner still gets a query code, and the outbox relay publishes once the broker is back.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from nameko.rpc import rpc
from nameko.web.handlers import http
from pydantic import BaseModel, ConfigDict, ValidationError
from werkzeug.wrappers import Request, Response

from services.intake import provincial, search
from services.intake.application import (
    PARTICULARS_PURPOSES,
    CounterFieldsRefused,
    IdempotencyKeyReused,
    IntakeApplication,
    PetitionNotFound,
)
from services.intake.bootstrap import build_application
from shared.language.contracts.actor import PETITIONER, Actor, CorrelationId
from shared.language.contracts.errors import validation_problem
from shared.language.contracts.jsonkeys import DuplicateKey, check_unique_keys
from shared.language.contracts.lifecycle import IdNumberTail
from shared.language.contracts.registration import RegisterPetition
from shared.language.integration.envelope import IntegrationEvent, InvalidIntegrationEvent
from shared.runtime.callers import GATEWAY, CallerRefused
from shared.runtime.eventstore import PROCESSED
from shared.runtime.messaging.consumer import integration_event_handler
from shared.runtime.nameko_support import ApplicationProvider, CallerCheck, MetricsEndpoint, ServiceCallers

log = logging.getLogger(__name__)


INTERNAL_TOKEN_HEADER = "X-Internal-Token"  # noqa: S105 - a header's name
# Which service may ask for which particulars (data minimisation: each gets what its purpose needs).
PARTICULARS_CALLERS = {"case": {"supervision"}, "notice": {"notification"}, "routing": {"routing"}}
if set(PARTICULARS_CALLERS) != PARTICULARS_PURPOSES:  # a purpose the application answers must have its caller
    raise ImportError("intake's particulars: the purposes and their callers disagree")


class InvalidPetition(ValueError):
    """The petition failed validation; args[0] is the problem document (field, code, Chinese message)."""


class SecondFactorCheck(BaseModel):
    """What the gateway asks about a query code: the last six characters of the petitioner's ID number."""

    model_config = ConfigDict(extra="forbid")

    id_number_tail: IdNumberTail


class InternalRegistration(BaseModel):
    """What the gateway sends: the petition, who registers it, and the request's correlation id."""

    model_config = ConfigDict(extra="forbid")

    petition: RegisterPetition
    actor: Actor = PETITIONER
    correlation_id: CorrelationId | None = None
    # The caller's Idempotency-Key (the gateway checks its form): a retry with it returns the first receipt.
    idempotency_key: CorrelationId | None = None


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")


class IntakeService:
    name = "intake"

    intake: IntakeApplication = ApplicationProvider(build_application)
    metrics = MetricsEndpoint()
    callers: ServiceCallers = CallerCheck()

    # --- RPC -------------------------------------------------------------------------------------------------
    @rpc(expected_exceptions=CallerRefused)  # a refused caller is the caller's fault, logged as a warning
    def register_petition(self, payload: dict[str, Any], caller: str | None = None,
                          correlation_id: str | None = None, idempotency_key: str | None = None) -> dict[str, Any]:
        """Register as the actor the gateway asserts in `caller` (a clerk's letter, a petitioner's web form)."""
        actor = self.callers.require(caller, {GATEWAY}, "register_petition").actor
        try:
            envelope = InternalRegistration.model_validate(
                {"petition": payload, "actor": actor, "correlation_id": correlation_id,
                 "idempotency_key": idempotency_key})
        except ValidationError as error:
            raise InvalidPetition(validation_problem(error.errors())) from None
        return self.intake.register_petition(envelope.petition, actor=envelope.actor,
                                             correlation_id=envelope.correlation_id,
                                             idempotency_key=envelope.idempotency_key)

    @rpc(expected_exceptions=CallerRefused)
    def get_petition(self, petition_id: str, caller: str | None = None) -> dict[str, Any] | None:
        """The full record, personal data included: to the gateway only, which decides what an officer sees."""
        self.callers.require(caller, {GATEWAY}, "get_petition")
        return self._petition(petition_id)

    def _petition(self, petition_id: str) -> dict[str, Any] | None:
        try:
            return self.intake.get_petition(petition_id)
        except PetitionNotFound:
            return None

    @rpc(expected_exceptions=CallerRefused)
    def petition_particulars(self, petition_id: str, purpose: str, caller: str | None = None) -> dict[str, Any] | None:
        """The private path for supervision ("case": query code, title, accused organs), notification ("notice":
        the recipient's name and contact) and routing ("routing": accused organs): what the shared events exchange
        must not carry (petition.registered.v2). Each purpose is answered to its own service only."""
        self.callers.require(caller, PARTICULARS_CALLERS.get(purpose, ()), "petition_particulars")
        try:
            return self.intake.particulars(petition_id, purpose)
        except PetitionNotFound:
            return None

    @rpc(expected_exceptions=CallerRefused)
    def find_by_query_code(self, query_code: str, caller: str | None = None) -> dict[str, Any] | None:
        self.callers.require(caller, {GATEWAY}, "find_by_query_code")
        return self.intake.find_by_query_code(query_code)

    # --- work lists and the bureau's search (services/intake/search.py) -----------------------------------------
    @rpc(expected_exceptions=CallerRefused)
    def petitioner_names(self, petition_ids: list[str], identified: list[str],
                         caller: str | None = None) -> dict[str, Any]:
        """The petitioner of each row of a work list's page: full for the rows in `identified` (the gateway decides
        who may see whom; never an auditor), masked otherwise, "匿名" for an anonymous report. To the gateway only."""
        actor = self.callers.require(caller, {GATEWAY}, "petitioner_names").actor or {}
        return search.names(self.intake, petition_ids, identified, actor)

    @rpc(expected_exceptions=CallerRefused)
    def search_petitions(self, by: str, value: str, caller: str | None = None) -> dict[str, Any]:
        """The bureau's search by query code, petitioner name, phone or ID number (clerk, supervisor, admin)."""
        actor = self.callers.require(caller, {GATEWAY}, "search_petitions").actor or {}
        search.connected(self.intake.settings.mongodb_uri)
        return search.search(self.intake, self.intake.settings.person_key_secret.encode(), by, value, actor)

    # --- a province's matters (services/intake/provincial.py) ------------------------------------------------------
    @integration_event_handler(expected_exceptions=InvalidIntegrationEvent)  # parked with its reason, not an error
    def handle_matter_sent(self, event: IntegrationEvent) -> str:
        """A matter transferred or assigned by an allowed province (the consumer checked its source and schema):
        registered once, however often it arrives."""
        provincial.register_matter(self.intake, event, self.intake.settings.county_code)
        return PROCESSED

    # --- HTTP (for the gateway) --------------------------------------------------------------------------------
    @http("POST", "/internal/v1/petitions")
    def register_petition_http(self, request: Request) -> Response:
        if not self._authorised(request):
            return _json(401, {"error": "unauthorized", "message": "internal API: missing or wrong token"})
        body = request.get_data() or b"{}"
        try:
            check_unique_keys(body)  # a key given twice is refused, not read as its last value
            envelope = InternalRegistration.model_validate_json(body)
        except DuplicateKey as duplicate:
            return _json(422, validation_problem([duplicate.error()]))
        except ValidationError as error:
            return _json(422, validation_problem(error.errors()))
        try:
            receipt = self.intake.register_petition(
                envelope.petition, actor=envelope.actor, correlation_id=envelope.correlation_id,
                idempotency_key=envelope.idempotency_key,
            )
        except IdempotencyKeyReused:
            return _json(409, {"error": "idempotency_key_reused"})
        except CounterFieldsRefused as refused:
            return _json(403, {"error": "counter_fields_clerk_only", "fields": list(refused.args)})
        return _json(201, receipt)

    @http("GET", "/internal/v1/petitions/<string:petition_id>")
    def get_petition_http(self, request: Request, petition_id: str) -> Response:
        if not self._authorised(request):
            return _json(401, {"error": "unauthorized", "message": "internal API: missing or wrong token"})
        petition = self._petition(petition_id)
        return _json(200, petition) if petition else _json(404, {"error": "not_found"})

    @http("GET", "/internal/v1/query-codes/<string:query_code>")
    def find_by_query_code_http(self, request: Request, query_code: str) -> Response:
        if not self._authorised(request):
            return _json(401, {"error": "unauthorized", "message": "internal API: missing or wrong token"})
        found = self.intake.find_by_query_code(query_code)
        return _json(200, found) if found else _json(404, {"error": "not_found"})

    @http("POST", "/internal/v1/query-codes/<string:query_code>/verification")
    def verify_petitioner_http(self, request: Request, query_code: str) -> Response:
        """The petitioner's second factor (docs/security.md): {"id_number_tail"} → {"petition_id", "verified",
        "anonymous"}, 404 for an unknown code. Only intake holds ID numbers, so only intake compares them."""
        if not self._authorised(request):
            return _json(401, {"error": "unauthorized", "message": "internal API: missing or wrong token"})
        try:
            check = SecondFactorCheck.model_validate_json(request.get_data() or b"{}")
        except ValidationError as error:
            return _json(422, validation_problem(error.errors()))
        found = self.intake.verify_petitioner(query_code, check.id_number_tail)
        return _json(200, found) if found else _json(404, {"error": "not_found"})

    def _authorised(self, request: Request) -> bool:
        expected = self.intake.settings.internal_token  # read once, when the application was built
        return not expected or hmac.compare_digest(request.headers.get(INTERNAL_TOKEN_HEADER, ""), expected)

    @http("GET", "/healthz")
    def healthz(self, request: Request) -> Response:
        return _json(200, {"status": "ok", "service": self.name})
