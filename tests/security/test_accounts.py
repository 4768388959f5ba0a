"""Issue 14 §2: the users file was read once at start, so a removed or re-roled account kept working for the
8 hours of its token, and there was no sign-out. Now the file is re-read when it changes (within
GATEWAY_USERS_RELOAD_SECONDS, 1 s here), an account change ends the tokens issued before it, and sign-out revokes
the token presented, on every gateway instance.

The real gateway application in-process, on a real SecantusDB, with no intake behind it: an officer's request for
a petition's record is answered 503 once the token is accepted (no intake answers), 401 when it is not."""

from __future__ import annotations

import json
import time

import pytest
from fastapi.testclient import TestClient

from services.gateway.security import Role
from services.gateway.service import create_app
from services.gateway.settings import GatewaySettings
from services.gateway.users import add_user, remove_user, set_password
from tests.support.servers import free_port
from tests.support.waiting import wait_for

SECRET = "a" * 40
PASSWORD = "an auditor's long password"
OFFICER_ENDPOINT = "/api/v1/petitions/00000000-0000-0000-0000-000000000001"
ACCEPTED = 503  # past the token check, then no service answers (the broker's vhost does not exist)


@pytest.fixture
def users(tmp_path):
    path = tmp_path / "users.json"
    add_user(path, "auditor", Role.AUDITOR, None, "审计员", PASSWORD)
    add_user(path, "auditor-2", Role.AUDITOR, None, "审计员乙", PASSWORD)
    return path


@pytest.fixture
def gateway(users, read_models):
    def build() -> TestClient:
        settings = GatewaySettings(
            XINFANG_ENV="test", GATEWAY_JWT_SECRET=SECRET, MONGODB_URI=read_models, GATEWAY_USERS_FILE=str(users),
            GATEWAY_USERS_RELOAD_SECONDS="1", INTAKE_URLS=f"http://127.0.0.1:{free_port()}",
            AMQP_URI="amqp://guest:guest@127.0.0.1:5672/no-such-vhost")  # no service answers, whatever runs
        return TestClient(create_app(settings), raise_server_exceptions=False)

    return build


def token(client: TestClient, username: str, password: str = PASSWORD) -> str:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def call(client: TestClient, bearer: str, method: str = "GET", path: str = OFFICER_ENDPOINT):
    return client.request(method, path, headers={"Authorization": f"Bearer {bearer}"})


def refused_within_a_few_seconds(client: TestClient, bearer: str) -> dict:
    answer = wait_for(lambda: call(client, bearer).status_code == 401 and call(client, bearer), timeout=10,
                      what="the token to be refused")
    return answer.json()


def test_a_removed_account_is_refused_without_a_restart_and_its_token_stops_working(gateway, users):
    client = gateway()
    removed, kept = token(client, "auditor-2"), token(client, "auditor")
    assert call(client, removed).status_code == ACCEPTED

    remove_user(users, "auditor-2")

    assert refused_within_a_few_seconds(client, removed) == {"error": "invalid_token",
                                                             "message": "账号信息已变更，请重新登录"}
    assert client.post("/api/v1/auth/token", data={"username": "auditor-2", "password": PASSWORD}).status_code == 401
    assert call(client, kept).status_code == ACCEPTED


def test_a_re_roled_account_loses_its_token_and_signs_in_with_the_new_role(gateway, users):
    client = gateway()
    as_auditor = token(client, "auditor-2")

    add_user(users, "auditor-2", Role.CLERK, "330106-XFJ", "登记员", PASSWORD)  # now a clerk

    refused_within_a_few_seconds(client, as_auditor)
    again = client.post("/api/v1/auth/token", data={"username": "auditor-2", "password": PASSWORD})
    assert again.json()["role"] == "clerk"
    assert call(client, again.json()["access_token"], path="/api/v1/audit/sign-in-lockouts").status_code == 403


def test_a_new_password_ends_the_tokens_issued_under_the_old_one(gateway, users):
    client = gateway()
    before = token(client, "auditor-2")

    set_password(users, "auditor-2", "a new long password")

    refused_within_a_few_seconds(client, before)
    assert call(client, token(client, "auditor-2", "a new long password")).status_code == ACCEPTED


def test_a_broken_users_file_keeps_the_accounts_as_they_were(gateway, users):
    client = gateway()
    before = token(client, "auditor")
    original = json.loads(users.read_text(encoding="utf-8"))

    users.write_text('{"users": [{"username": "auditor"', encoding="utf-8")  # half-written by hand
    time.sleep(1.5)  # past the reload interval: the broken file has been looked at

    assert call(client, before).status_code == ACCEPTED
    assert call(client, token(client, "auditor")).status_code == ACCEPTED

    users.write_text(json.dumps({"users": [u for u in original["users"] if u["username"] != "auditor"]}),
                     encoding="utf-8")
    refused_within_a_few_seconds(client, before)


def test_sign_out_revokes_the_token_on_every_gateway_instance_and_no_other(gateway):
    one, other = gateway(), gateway()
    signed_out, same_officer_elsewhere, colleague = token(one, "auditor"), token(one, "auditor"), token(one,
                                                                                                       "auditor-2")

    answer = call(one, signed_out, "POST", "/api/v1/auth/sign-out")

    assert answer.status_code == 204
    for client in (one, other):
        refused = call(client, signed_out)
        assert refused.status_code == 401
        assert refused.json() == {"error": "invalid_token", "message": "您已退出登录，请重新登录"}
        assert call(client, same_officer_elsewhere).status_code == ACCEPTED
        assert call(client, colleague).status_code == ACCEPTED
    assert call(other, signed_out, "POST", "/api/v1/auth/sign-out").status_code == 401


def test_sign_out_without_a_token_is_a_401(gateway):
    answer = gateway().post("/api/v1/auth/sign-out")

    assert answer.status_code == 401
    assert answer.json()["message"] == "请先登录"
