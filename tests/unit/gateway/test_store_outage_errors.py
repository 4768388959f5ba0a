"""A store the gateway reads itself (the integration feed's) being down is an outage: 503 with a Chinese message,
never 500 (issue 20: the feed answered 500 while PostgreSQL restarted). A bug stays a 500."""

from __future__ import annotations

import psycopg
import psycopg_pool
import pytest
from eventsourcing.persistence import InterfaceError, OperationalError, ProgrammingError
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.gateway import errors

OUTAGES = {
    # What the library raises once the store is open (e.g. no connection within its timeout) ...
    "library-operational": OperationalError("couldn't get a connection after 30.00 sec"),
    "library-interface": InterfaceError("the connection is closed"),
    # ... and psycopg while the store is being opened, or the pool while waiting for a connection.
    "psycopg-operational": psycopg.OperationalError("connection refused"),
    "psycopg-interface": psycopg.InterfaceError("the connection is lost"),
    "pool-timeout": psycopg_pool.PoolTimeout("couldn't get a connection"),
}


def app_raising(error: Exception) -> TestClient:
    app = FastAPI()
    errors.install(app)

    @app.get("/feed")
    def read() -> None:
        raise error

    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize("name", sorted(OUTAGES))
def test_a_store_outage_is_a_503_in_chinese(name):
    response = app_raising(OUTAGES[name]).get("/feed")

    assert response.status_code == 503
    assert response.json() == {"error": "service_unavailable", "message": "服务暂时无法访问，请稍后重试"}


def test_a_programming_error_is_still_a_500():
    response = app_raising(ProgrammingError("relation does not exist")).get("/feed")

    assert response.status_code == 500 and response.json()["error"] == "internal_error"
