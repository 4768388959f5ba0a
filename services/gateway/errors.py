"""Error responses: a machine `error` code and a Chinese `message`; validation errors name each bad field."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

import psycopg
from eventsourcing.persistence import InterfaceError as StoreInterfaceError
from eventsourcing.persistence import OperationalError as StoreOperationalError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from pymongo.errors import PyMongoError
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.gateway.clients import ServiceUnavailable
from shared.language.contracts.errors import validation_problem
from shared.runtime.observability import describe_error

log = logging.getLogger(__name__)

HTTP_MESSAGES = {
    400: ("bad_request", "请求格式不正确"),
    401: ("unauthorized", "请先登录"),
    403: ("forbidden", "无权执行此操作"),
    404: ("not_found", "未找到请求的资源"),
    405: ("method_not_allowed", "不支持的请求方法"),
    413: ("payload_too_large", "提交的内容过大"),
    415: ("unsupported_media_type", "请以JSON格式提交"),
}


# What FastAPI (pinned) says when a body cannot even be decoded; tests/integration/test_gateway_edge.py covers it.
FASTAPI_BODY_PARSE_ERROR = "There was an error parsing the body"


class ApiError(Exception):
    def __init__(self, status: int, error: str, message: str, headers: dict[str, str] | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.error, self.message, self.headers = status, error, message, headers
        self.extra = extra or {}  # further machine fields, e.g. the current status and the allowed actions


def problem(http_status: int, error: str, message: str, /, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": error, "message": message, **extra}, status_code=http_status)


def body_model(request: Request) -> type[BaseModel] | None:
    """The model the route validates its JSON body with (its fields' titles label the 422), if it has one."""
    params = getattr(getattr(request.scope.get("route"), "dependant", None), "body_params", None) or []
    annotation = params[0].field_info.annotation if len(params) == 1 else None
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


# A page for a browser instead of the JSON problem, or None (the console's: services/gateway/console/web.py).
Page = Callable[[Request, int], Response | None]


def install(app: FastAPI, page: Page | None = None) -> None:
    """The error handlers; `page` answers a browser's request the router refused (an unknown address) with a page."""
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        response = problem(exc.status, exc.error, exc.message, **exc.extra)
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(validation_problem(exc.errors(), body_model(request)), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400 and exc.detail == FASTAPI_BODY_PARSE_ERROR:
            # e.g. bytes that are not UTF-8: to the client, just malformed JSON.
            return JSONResponse(validation_problem([{"type": "json_invalid", "loc": ("body",)}]), status_code=422)
        error, message = HTTP_MESSAGES.get(exc.status_code, ("error", "请求无法处理"))
        response = (page(request, exc.status_code) if page else None) or problem(exc.status_code, error, message)
        response.headers.update(getattr(exc, "headers", None) or {})
        return response

    @app.exception_handler(ServiceUnavailable)
    @app.exception_handler(PyMongoError)  # the read models
    # The integration feed's store, which the gateway reads itself (shared/runtime/feed.py): the database down or
    # restarting is an outage, not a fault of the gateway (the library's errors once the store is open, psycopg's
    # while opening it). Programming and data errors stay 500.
    @app.exception_handler(StoreOperationalError)
    @app.exception_handler(StoreInterfaceError)
    @app.exception_handler(psycopg.OperationalError)
    @app.exception_handler(psycopg.InterfaceError)
    async def _unavailable(_request: Request, exc: Exception) -> JSONResponse:
        log.warning("service unavailable: %s", describe_error(exc))  # the class: messages may quote a URL
        return problem(503, "service_unavailable", "服务暂时无法访问，请稍后重试")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The route's template, not the path: a path may hold a query code (/status/{query_code}).
        route = getattr(request.scope.get("route"), "path", "(no route)")
        # Where it failed (the frames), not what it said: an exception's message may quote the request's data.
        log.error("unexpected error on %s %s: %s\n%s", request.method, route, describe_error(exc),
                  "".join(traceback.format_tb(exc.__traceback__)).rstrip())
        return problem(500, "internal_error", "系统内部错误，请稍后重试；如持续出现请联系信访部门")
