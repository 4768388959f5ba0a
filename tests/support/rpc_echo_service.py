"""A nameko service answering under a real service's name (ECHO_SERVICE_NAME), for the broker-permission tests: it
proves who may call what over `nameko-rpc` without the service's own dependencies. Every method echoes its call."""

from __future__ import annotations

import os

from nameko.rpc import rpc


class EchoService:
    name = os.environ["ECHO_SERVICE_NAME"]

    @rpc
    def perform(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        return {"method": "perform", "args": list(args)}

    @rpc
    def get_case(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        return {"method": "get_case", "args": list(args)}

    @rpc
    def get_petition(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        return {"method": "get_petition", "args": list(args)}

    @rpc
    def find_by_query_code(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        return {"method": "find_by_query_code", "args": list(args)}
