"""Issue 14 §5: /docs loaded Swagger UI from a CDN (blank on a bureau's offline network); in production the API
documentation is off unless enabled; /metrics is not on the public port."""

from __future__ import annotations

import base64
import hashlib
import re

import httpx
import pytest
from fastapi.testclient import TestClient

from services.gateway.security import Role
from services.gateway.service import create_app
from services.gateway.settings import GatewaySettings
from services.gateway.users import add_user
from tests.support.gateway_process import GatewayProcess
from tests.support.platform import metric_value
from tests.support.servers import free_port

REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*["']([^"']+)["']|spec-url=["']([^"']+)["']""")


@pytest.fixture
def gateway(tmp_path, read_models):
    def build(env: str = "test", **overrides: str) -> TestClient:
        users = tmp_path / "users.json"
        if not users.exists():
            add_user(users, "clerk", Role.CLERK, "330106-XFJ", "登记员", "a long enough password")
        settings = GatewaySettings(
            XINFANG_ENV=env, EVENT_STORE="postgres", GATEWAY_JWT_SECRET="x" * 40, PLATFORM_RPC_SECRET="r" * 40,
            MONGODB_URI=read_models,
            GATEWAY_USERS_FILE=str(users), INTAKE_URLS=f"http://127.0.0.1:{free_port()}",
            AMQP_URI="amqp://guest:guest@127.0.0.1:5672/", **overrides)
        return TestClient(create_app(settings), raise_server_exceptions=False)

    return build


def references(html: str) -> list[str]:
    return [next(g for g in match if g) for match in REFERENCE.findall(html)]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_pages_load_everything_from_the_gateway_itself(gateway, page):
    client = gateway()
    response = client.get(page)
    assert response.status_code == 200
    urls = references(response.text)
    assert urls, "the page names its assets"
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), f"{page} loads {url} from elsewhere"
        asset = client.get(url)
        assert asset.status_code == 200, url
        if url.endswith(".js"):
            assert "javascript" in asset.headers["content-type"] and len(asset.content) > 100_000, url
        if url.endswith(".css"):
            assert asset.headers["content-type"].startswith("text/css"), url
    assert "googleapis" not in response.text and "jsdelivr" not in response.text


def test_the_docs_policy_allows_only_the_pages_own_inline_script(gateway):
    response = gateway().get("/docs")
    policy = response.headers["content-security-policy"]
    inline = re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL)
    assert inline
    for script in inline:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";", 1)[0]
    assert "frame-ancestors 'none'" in policy


def test_in_production_the_docs_are_off_unless_enabled(gateway):
    off = gateway("production")
    for path in ("/docs", "/redoc", "/openapi.json", "/static/docs/swagger-ui-bundle.js"):
        assert off.get(path).status_code == 404, path
    assert off.get("/docs").json()["error"] == "not_found"
    on = gateway("production", GATEWAY_API_DOCS="true")
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert on.get(path).status_code == 200, path


def test_metrics_are_not_on_the_public_port(gateway):
    response = gateway().get("/metrics")
    assert response.status_code == 404
    assert "xinfang_http_requests_total" not in response.text


def test_the_gateway_process_serves_metrics_on_its_metrics_port(tmp_path, mongodb_uri):
    process = GatewayProcess(tmp_path, mongodb_uri)
    try:
        assert httpx.get(f"{process.url}/healthz", timeout=10).status_code in (200, 503)
        assert httpx.get(f"{process.url}/metrics", timeout=10).status_code == 404
        metrics = httpx.get(process.metrics_url, timeout=10)
        assert metrics.status_code == 200
        assert metric_value(metrics.text, "xinfang_http_requests_total", route="/healthz", method="GET") >= 1
    finally:
        process.stop()
