"""The real gateway application in-process with the county's officer accounts, for the integration tests of what
officers see (tests/integration: officer views, case files, work lists, attachments): the accounts and organs, the
client built on a test's read models, signing in, the reads those tests make, and what they write as supervision's
projector and notification's inbox would."""

from __future__ import annotations

import uuid
import weakref
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from services.gateway.security import Role
from services.gateway.service import create_app
from services.gateway.settings import GatewaySettings
from services.gateway.users import add_user
from shared.language.readmodels import CaseView, InboxMessage, Organ
from tests.support.servers import free_port

SECRET = "w" * 40
PASSWORD = "a long enough password"
BUREAU = "330106-XFJ"  # the county's letters and visits bureau
TOWN, LABOUR, COUNTY = "330106001-ZF", "330106-RSJ", "330106-ZF"
POLITICAL_LEGAL, DISCIPLINE = "330106-ZFW", "330106-JWJW"
ORGAN_NAMES = {TOWN: "示例县城关镇人民政府", LABOUR: "示例县人力资源和社会保障局", COUNTY: "示例县人民政府",
               POLITICAL_LEGAL: "中共示例县委政法委员会", DISCIPLINE: "示例县纪委监委"}
# Each account's password is PASSWORD.
ACCOUNTS = {
    "clerk": (Role.CLERK, BUREAU), "supervisor": (Role.SUPERVISOR, BUREAU),
    "auditor": (Role.AUDITOR, BUREAU), "admin": (Role.ADMIN, None),
    "town": (Role.ORGAN_OFFICER, TOWN), "labour": (Role.ORGAN_OFFICER, LABOUR),
    "county": (Role.ORGAN_OFFICER, COUNTY), "zfw": (Role.ORGAN_OFFICER, POLITICAL_LEGAL),
}
# Whom a command names as its actor.
CLERK = {"role": "clerk", "user": "clerk", "organ": BUREAU}
PETITIONER = {"role": "petitioner", "user": None, "organ": None}


def write_accounts(users: Path) -> Path:
    """The users file with ACCOUNTS (left as it is if it is there already)."""
    if not users.exists():
        for username, (role, organ) in ACCOUNTS.items():
            add_user(users, username, role, organ, username, PASSWORD)
    return users


def gateway_client(folder: Path, read_models: str, rpc: Any, *, intake: Any = None, **settings: str) -> TestClient:
    """The gateway application on `read_models`, its accounts in `folder`/users.json, its RPC port (and, if given,
    its intake port) answered by the objects given; `settings` add to or override the test settings."""
    users = write_accounts(folder / "users.json")
    app = create_app(GatewaySettings(**{
        "XINFANG_ENV": "test", "GATEWAY_JWT_SECRET": SECRET, "MONGODB_URI": read_models,
        "GATEWAY_USERS_FILE": str(users), "GATEWAY_LOGIN_RATE_LIMIT": "1000/minute",
        "INTAKE_URLS": f"http://127.0.0.1:{free_port()}", "AMQP_URI": "amqp://guest:guest@127.0.0.1:5672/",
        **settings}))
    if intake is not None:
        app.state.gateway.intake = intake
    app.state.gateway.rpc = rpc
    return TestClient(app, raise_server_exceptions=False)


# One sign-in per account and client (a client's application has its own users file: tokens are not shared).
_TOKENS: weakref.WeakKeyDictionary[TestClient, dict[str, dict[str, str]]] = weakref.WeakKeyDictionary()


def headers(client: TestClient, username: str) -> dict[str, str]:
    """The Authorization header of `username` (one of ACCOUNTS) signed in at `client`."""
    tokens = _TOKENS.setdefault(client, {})
    if username not in tokens:
        answer = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        tokens[username] = {"Authorization": f"Bearer {answer.json()['access_token']}"}
    return tokens[username]


def officer_view(client: TestClient, username: str, pid: str) -> dict[str, Any]:
    """The petition as `username` sees it (GET /api/v1/petitions/{id}, which must answer 200)."""
    answer = client.get(f"/api/v1/petitions/{pid}", headers=headers(client, username))
    assert answer.status_code == 200, answer.text
    return answer.json()


def views_of(client: TestClient, petition_id: str | None = None, **filters: Any) -> list[dict[str, Any]]:
    """The recorded views of personal data (of `petition_id`'s, if given), as an auditor lists them."""
    params = {"petition_id": petition_id} if petition_id is not None else {}
    answer = client.get("/api/v1/audit/personal-data-views", params={**params, **filters},
                        headers=headers(client, "auditor"))
    assert answer.status_code == 200, answer.text
    return answer.json()["views"]


class RecordedServices:
    """The RPC port (RpcPool.call) answered from dictionaries shaped as intake's `get_petition` and (unless
    `supervision` is False: then it must not be asked) supervision's `get_case` answer."""

    def __init__(self, *, supervision: bool = True) -> None:
        self.petitions: dict[str, dict[str, Any]] = {}
        self.cases: dict[str, dict[str, Any]] = {}
        self.supervision = supervision

    def call(self, service: str, method: str, *args: Any, actor: dict[str, Any]) -> Any:
        assert actor["role"]  # every call names whom the gateway acts for (it signs it: shared/runtime/callers.py)
        if (service, method) == ("intake", "get_petition"):
            return self.petitions.get(args[0])
        if self.supervision and (service, method) == ("supervision", "get_case"):
            return self.cases.get(args[0])
        raise AssertionError(f"unexpected RPC {service}.{method}")

    def close(self) -> None:
        pass


def save_case_view(petition_id: str, query_code: str, *, organ: str | None, involved: list[str],
                   status: str = "handling", category: str = "appeal", title: str = "小区污水外溢长期无人处理",
                   place_code: str = "330106001", version: int = 2, registered_at: datetime | None = None) -> None:
    """The case view as supervision's projector writes it once routing has sent the case to `organ` (None: no organ
    holds it now)."""
    CaseView(petition_id=petition_id, query_code=query_code, version=version, status=status, status_text="办理中",
             title=title, category=category, channel="online", place_code=place_code,
             registered_at=registered_at or datetime.now(UTC),
             organ=Organ(code=organ, name=ORGAN_NAMES[organ]) if organ else None, involved_organs=involved,
             routing_basis="属地管理", rules_version="test").save()


def save_receipt(petition_id: str, query_code: str, petitioner_name: str, delivered_at: datetime) -> None:
    """The registration receipt in notification's inbox; its body, like the real one, names the petitioner and holds
    the query code."""
    InboxMessage(notice_id=str(uuid.uuid4()), petition_id=petition_id, query_code=query_code,
                 kind="registration_receipt", title="信访事项登记回执",
                 body=f"{petitioner_name}：\n查询码：{query_code}\n", delivered_at=delivered_at).save()
