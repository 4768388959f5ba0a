"""Issue 14 §6: an unexpected error in the gateway is logged by where it happened, never by what it said.

An exception's message may quote the request's data (pydantic quotes input values). The gateway's 500 handler
logs the route and the frames; Starlette then raises the error again for the server to log, and uvicorn's own
handlers would print it with its message. The gateway is served as `python -m services.gateway` serves it
(services/gateway/__main__.config), in this process, with a route that fails quoting a marker."""

from __future__ import annotations

import io
import logging
import threading
import time

import httpx
import pytest
import uvicorn

from services.gateway import __main__ as serving
from services.gateway.service import create_app
from services.gateway.settings import GatewaySettings
from tests.support.servers import free_port

MARKER = "泄露Mk9王秀兰13800138000"


@pytest.fixture
def failing_gateway(read_models, monkeypatch):
    def app_with_a_failing_route(settings: GatewaySettings):
        app = create_app(settings)

        @app.get("/api/v1/fail/{text}")
        def fail(text: str) -> None:
            raise ValueError(f"cannot handle {text!r}")

        return app

    monkeypatch.setattr(serving, "create_app", app_with_a_failing_route)
    port = free_port()
    settings = GatewaySettings(XINFANG_ENV="test", MONGODB_URI=read_models,
                               INTAKE_URLS=f"http://127.0.0.1:{free_port()}", GATEWAY_JWT_SECRET="s" * 40)
    server = uvicorn.Server(serving.config("127.0.0.1", port, settings))
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    for name in ("", "uvicorn"):  # the root, and uvicorn's own loggers (which do not propagate to the root)
        logging.getLogger(name).addHandler(handler)
    serving.install_redaction()  # as every handler of the process has it
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    def stop() -> str:
        """Everything logged, once the server has stopped (so nothing it logs late is missed)."""
        server.should_exit = True
        thread.join(timeout=10)
        return captured.getvalue()

    yield f"http://127.0.0.1:{port}", stop
    stop()
    for name in ("", "uvicorn"):
        logging.getLogger(name).removeHandler(handler)


def test_an_unexpected_error_is_answered_in_chinese_and_logged_without_the_requests_data(failing_gateway, capfd):
    url, stop = failing_gateway

    response = httpx.get(f"{url}/api/v1/fail/{MARKER}", timeout=10)

    assert response.status_code == 500
    assert response.json()["error"] == "internal_error" and "系统内部错误" in response.json()["message"]
    logged = stop() + "".join(capfd.readouterr())
    assert "unexpected error on GET /api/v1/fail/{text}: ValueError" in logged
    assert "raise ValueError" in logged  # the frames are there for the operator
    for leak in (MARKER, "王秀兰", "13800138000", "Mk9"):
        assert leak not in logged
