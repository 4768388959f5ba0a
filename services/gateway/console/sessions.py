"""The console's cookies: the officer's session and the CSRF token of every form.

- **The officer's session is the API's bearer token**, kept in an HttpOnly cookie (`xf_session`, path /console,
  SameSite=Strict, Secure behind TLS): the same signed JWT that POST /api/v1/auth/token issues (TokenService), read
  back through the API's own dependency (`deps.optional_principal`), so an expired, signed-out (revoked `jti`),
  removed, re-roled or re-passworded account is refused here exactly as at the API. Signing out revokes it.
- **CSRF**: every form carries `csrf_token`, an HMAC of an anchor the browser holds in a SameSite=Strict cookie:
  for an officer the session token's id (`jti`), for everyone else a random value in `xf_csrf` (set with the
  first page). A POST whose token does not match its cookie is refused (403) before anything is done; a page on
  another site can read neither.
- **The petitioner's query code** the status page looks at is kept in `xf_code` (HttpOnly, SameSite=Strict, path
  /status, no expiry: it ends with the browser), so that it never appears in a URL, a browser history or a log.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from fastapi import Request, Response

from services.gateway.deps import Gateway, optional_principal
from services.gateway.errors import ApiError
from services.gateway.security import Principal

SESSION_COOKIE = "xf_session"
CSRF_COOKIE = "xf_csrf"
CODE_COOKIE = "xf_code"
CSRF_FIELD = "csrf_token"


class CsrfRefused(Exception):
    """A form posted without the token of the browser that was given it."""


def secure_cookies(request: Request, gw: Gateway) -> bool:
    """GATEWAY_SECURE_COOKIES: `true` / `false`, or `auto` (the default): Secure when the request came over TLS (the
    scheme, as a trusted proxy's X-Forwarded-Proto sets it; GATEWAY_TRUSTED_PROXIES)."""
    setting = gw.settings.secure_cookies
    return request.url.scheme == "https" if setting == "auto" else setting == "true"


def _set(response: Response, request: Request, gw: Gateway, name: str, value: str, *, path: str,
         max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, path=path, httponly=True, samesite="strict",
                        secure=secure_cookies(request, gw))


class Sessions:
    def __init__(self, secret: str) -> None:
        # A key of the console's own, derived from the gateway's secret (never the token-signing key itself).
        self._key = hmac.new(secret.encode(), b"xinfang:console-csrf", hashlib.sha256).digest()

    # --- officers -------------------------------------------------------------------------------------------
    async def officer(self, request: Request, gw: Gateway) -> Principal | None:
        """The signed-in officer, checked by the API's own dependency; None when there is no valid session."""
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            return None
        try:
            return await optional_principal(gw, token)
        except ApiError:  # expired, signed out, account changed
            return None

    @staticmethod
    def open(response: Response, request: Request, gw: Gateway, token: str) -> None:
        _set(response, request, gw, SESSION_COOKIE, token, path="/console", max_age=gw.tokens.ttl_seconds)

    @staticmethod
    def close(response: Response, request: Request, gw: Gateway) -> None:
        response.delete_cookie(SESSION_COOKIE, path="/console", httponly=True, samesite="strict",
                               secure=secure_cookies(request, gw))

    # --- CSRF -----------------------------------------------------------------------------------------------
    def _token(self, anchor: str) -> str:
        return hmac.new(self._key, anchor.encode(), hashlib.sha256).hexdigest()

    def csrf_token(self, request: Request, principal: Principal | None) -> tuple[str, str | None]:
        """The form token for this browser, and a new `xf_csrf` value to set when it had none."""
        if principal is not None and principal.token_id:
            return self._token(f"officer:{principal.token_id}"), None
        anchor = request.cookies.get(CSRF_COOKIE)
        fresh = None
        if not anchor or len(anchor) < 32:
            anchor = fresh = secrets.token_urlsafe(32)
        return self._token(f"public:{anchor}"), fresh

    def check(self, request: Request, form: Any, principal: Principal | None) -> None:
        sent = str(form.get(CSRF_FIELD) or "")
        anchors = []
        if principal is not None and principal.token_id:
            anchors.append(f"officer:{principal.token_id}")
        if request.cookies.get(CSRF_COOKIE):
            anchors.append(f"public:{request.cookies[CSRF_COOKIE]}")
        if not sent or not any(hmac.compare_digest(sent, self._token(a)) for a in anchors):
            raise CsrfRefused

    @staticmethod
    def give_csrf_cookie(response: Response, request: Request, gw: Gateway, value: str) -> None:
        _set(response, request, gw, CSRF_COOKIE, value, path="/")

    # --- the petitioner's query code --------------------------------------------------------------------------
    @staticmethod
    def remember_code(response: Response, request: Request, gw: Gateway, code: str) -> None:
        _set(response, request, gw, CODE_COOKIE, code, path="/status")

    @staticmethod
    def forget_code(response: Response, request: Request, gw: Gateway) -> None:
        response.delete_cookie(CODE_COOKIE, path="/status", httponly=True, samesite="strict",
                               secure=secure_cookies(request, gw))
