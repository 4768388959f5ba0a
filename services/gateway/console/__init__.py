"""The console (issue 16): the petitioner's public pages and the officers' pages, served by the gateway.

Server-rendered (Jinja2, autoescape on) over the gateway's own JSON API, called in-process (console/api.py); one
small script and one style sheet, served by the gateway itself (no CDN, system fonts). docs/console.md describes it.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from services.gateway.console import officers, public
from services.gateway.console.web import STATIC_URL, Console

STATIC = Path(__file__).parent / "static"


def install(app: FastAPI) -> None:
    """The console's routes and assets on the gateway's app (services/gateway/service.py)."""
    app.state.console = Console.build(app.state.gateway)
    app.include_router(public.router)
    app.include_router(officers.router)
    app.mount(STATIC_URL, StaticFiles(directory=STATIC), name="console-assets")
