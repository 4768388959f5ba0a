"""The whole platform as real processes (deploy/local/Procfile) on PostgreSQL, RabbitMQ, SecantusDB and a real
SMTP server. One platform per test module; each test uses its own petitions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.gateway.security import Role
from services.gateway.users import add_user
from tests.support.platform import TestPlatform, running_platform
from tests.support.sms_provider import ACCOUNT as SMS_ACCOUNT
from tests.support.sms_provider import SECRET as SMS_SECRET

PASSWORD = "correct horse battery staple"
ACCOUNTS = {
    "clerk": (Role.CLERK, "330106-XFJ"),
    "chengguan": (Role.ORGAN_OFFICER, "330106001-ZF"),
    "rsj": (Role.ORGAN_OFFICER, "330106-RSJ"),
    "zfw": (Role.ORGAN_OFFICER, "330106-ZFW"),  # political-legal
    "auditor": (Role.AUDITOR, "330106-XFJ"),
    "supervisor": (Role.SUPERVISOR, "330106-XFJ"),
    "county": (Role.ORGAN_OFFICER, "330106-ZF"),  # reviews (复查)
    "city": (Role.ORGAN_OFFICER, "3301-ZF"),  # re-reviews (复核)
}


def write_users(path: Path) -> Path:
    for username, (role, organ) in ACCOUNTS.items():
        add_user(path, username, role, organ, username, PASSWORD)
    return path


@pytest.fixture(scope="module")
def platform(tmp_path_factory, secantus, smtp_sink, sms_provider) -> Iterator[TestPlatform]:
    folder = tmp_path_factory.mktemp("platform")
    with running_platform(folder, secantus, smtp_sink.port,
                          GATEWAY_USERS_FILE=str(write_users(folder / "users.json")),
                          SMS_URL=sms_provider.url, SMS_ACCOUNT=SMS_ACCOUNT, SMS_SECRET=SMS_SECRET) as running:
        yield running


@pytest.fixture(scope="module")
def gateway(platform) -> Iterator[httpx.Client]:
    with platform.http() as client:
        yield client


def token_for(gateway: httpx.Client, username: str) -> dict[str, str]:
    response = gateway.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
