"""A small token-issuing server on 127.0.0.1 for the login and OAuth 2.0 tests.

It plays two parts on one port, recording every request (``wire_server.RecordingServer``):

* Losant's login endpoints: ``POST /auth/user`` and ``POST /auth/device`` check credentials
  and issue tokens (``tokenTTL`` seconds honoured on the server's own clock, see
  :meth:`AuthServer.advance`); ``/auth/user/github`` and ``/auth/user/saml`` accept any body.
  A refused login answers 401 and *echoes the request body* in its message, so tests can
  check that the client does not repeat secrets.
* An OAuth 2.0 authorization server: ``GET /authorize`` checks the PKCE ``code_challenge``
  (S256) and redirects with a code; ``POST /token`` checks the ``code_verifier`` and issues
  access and refresh tokens (refresh tokens rotate).

Every other path is a protected resource: it needs ``Authorization: Bearer`` with a live
token, and answers 401 ``{"type": "Unauthorized"}`` otherwise. ``GET /me`` and
``GET /applications/{a}/devices/{d}`` answer with Losant's example documents.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from wire_server import Recorded, RecordingServer, Reply, json_reply

EXAMPLES_FILE = Path(__file__).resolve().parents[1] / "reference" / "examples.json"
USER_ID = "575ed70c7ae143cd83dc4aa9"
APP_ID = "575ec8687ae143cd83dc4a97"
DEVICE_ID = "575ecf887ae143cd83dc4aa2"


def _examples() -> dict[str, Any]:
    return json.loads(EXAMPLES_FILE.read_text())  # type: ignore[no-any-return]


@dataclass
class Issued:
    """One access token the server gave out."""

    kind: str  # "user", "device", "oauth"
    expires_at: float | None  # on the server's clock; None: until expire_all()
    expired: bool = False


class AuthServer:
    """Start with ``with AuthServer() as server:``; ``server.url`` is its base URL."""

    def __init__(
        self,
        *,
        email: str = "ada@example.com",
        password: str = "correct-horse-battery-staple",
        device_key: str = "device-access-key",
        device_secret: str = "device-access-SECRET-s3cr3t",
        client_id: str = "losant-cli",
        client_secret: str | None = None,
        echo_html: bool = False,
    ) -> None:
        self.email, self.password = email, password
        self.device_key, self.device_secret = device_key, device_secret
        self.client_id, self.client_secret = client_id, client_secret
        self.echo_html = echo_html  # refused logins echo as an HTML page instead of JSON
        self.refuse_all_tokens = False  # every protected request answers 401
        self.now = 1_000_000.0
        self.tokens: dict[str, Issued] = {}
        self.codes: dict[str, dict[str, str]] = {}
        self.refresh_tokens: set[str] = set()
        self.gate: threading.Barrier | None = None  # protected requests wait here first
        self._lock = threading.Lock()
        self._serial = itertools.count(1)
        self._examples = _examples()
        self.wire = RecordingServer(responder=self._respond)

    # -- controls ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return self.wire.url

    @property
    def requests(self) -> list[Recorded]:
        return self.wire.requests

    def to(self, method: str, path: str) -> list[Recorded]:
        """The recorded requests with this method and path (query ignored)."""
        return [r for r in self.requests if r.method == method and r.path == path]

    def last_body(self, path: str) -> Any:
        """The JSON body of the last POST to ``path``."""
        return self.to("POST", path)[-1].json()

    def advance(self, seconds: float) -> None:
        """Move the server's clock (tokens with a TTL expire)."""
        with self._lock:
            self.now += seconds

    def expire_all(self) -> None:
        """Make every access token issued so far expired."""
        with self._lock:
            for issued in self.tokens.values():
                issued.expired = True

    def revoke_refresh_tokens(self) -> None:
        with self._lock:
            self.refresh_tokens.clear()

    def __enter__(self) -> AuthServer:
        self.wire.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wire.__exit__(*exc)

    # -- responses -------------------------------------------------------------------------

    def _issue(self, kind: str, ttl: float | None = None) -> str:
        with self._lock:
            token = f"{kind}-token-{next(self._serial)}"
            self.tokens[token] = Issued(kind, self.now + ttl if ttl is not None else None)
        return token

    def _live(self, header: str | None) -> bool:
        if not header or not header.startswith("Bearer "):
            return False
        with self._lock:
            issued = self.tokens.get(header[len("Bearer ") :])
            if issued is None or issued.expired or self.refuse_all_tokens:
                return False
            return issued.expires_at is None or self.now < issued.expires_at

    def _refused_login(self, record: Recorded) -> Reply:
        echoed = record.body.decode()
        if self.echo_html:
            page = f"<html><body>Login refused for {echoed}</body></html>".encode()
            return 401, {"Content-Type": "text/html"}, page
        message = f"Invalid credentials: {echoed}"
        return json_reply(401, {"type": "Unauthorized", "message": message})

    def _respond(self, record: Recorded) -> Reply:
        path = record.path
        if record.method == "POST" and path == "/auth/user":
            body = record.json()
            if body.get("email") != self.email or body.get("password") != self.password:
                return self._refused_login(record)
            token = self._issue("user", body.get("tokenTTL"))
            return json_reply(200, {"userId": USER_ID, "token": token})
        if record.method == "POST" and path == "/auth/device":
            body = record.json()
            if body.get("key") != self.device_key or body.get("secret") != self.device_secret:
                return self._refused_login(record)
            token = self._issue("device", body.get("tokenTTL"))
            answer = {
                "applicationId": APP_ID,
                "deviceId": body["deviceId"],
                "deviceClass": "standalone",
                "token": token,
            }
            return json_reply(200, answer)
        if record.method == "POST" and path in ("/auth/user/github", "/auth/user/saml"):
            return json_reply(200, {"userId": USER_ID, "token": self._issue("user")})
        if record.method == "GET" and path == "/authorize":
            return self._authorize(dict(record.query_pairs))
        if record.method == "POST" and path == "/token":
            return self._token(dict(parse_qsl(record.body.decode())))
        return self._protected(record)

    def _protected(self, record: Recorded) -> Reply:
        gate = self.gate
        if gate is not None:
            gate.wait(timeout=10)
        if not self._live(record.header("Authorization")):
            return json_reply(401, {"type": "Unauthorized", "message": "Token expired"})
        if record.path == "/me":
            return json_reply(200, self._examples["me"])
        if record.path.startswith("/applications/") and "/devices/" in record.path:
            return json_reply(200, self._examples["device"])
        return json_reply(200, {"success": True})

    # -- OAuth 2.0 -------------------------------------------------------------------------

    def _authorize(self, query: dict[str, str]) -> Reply:
        problems = []
        if query.get("response_type") != "code":
            problems.append("response_type")
        if query.get("client_id") != self.client_id:
            problems.append("client_id")
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            problems.append("code_challenge")
        if problems:
            return json_reply(400, {"error": "invalid_request", "bad": problems})
        code = f"code-{next(self._serial)}"
        with self._lock:
            self.codes[code] = {
                "challenge": query["code_challenge"],
                "redirect_uri": query.get("redirect_uri", ""),
                "scope": query.get("scope", ""),
            }
        target = query["redirect_uri"] + "?" + urlencode({"code": code, "state": query["state"]})
        return 302, {"Location": target}, b""

    def _token_error(self, error: str, status: int = 400) -> Reply:
        return json_reply(status, {"error": error, "error_description": f"refused: {error}"})

    def _grant(self, scope: str) -> Reply:
        refresh = f"refresh-{next(self._serial)}"
        with self._lock:
            self.refresh_tokens.add(refresh)
        document = {
            "access_token": self._issue("oauth"),
            "token_type": "Bearer",
            "expires_in": 3600,
            "refresh_token": refresh,
            "scope": scope,
        }
        return json_reply(200, document, {"Cache-Control": "no-store"})

    def _token(self, form: dict[str, str]) -> Reply:
        if form.get("client_id") != self.client_id:
            return self._token_error("invalid_client", 401)
        if self.client_secret is not None and form.get("client_secret") != self.client_secret:
            return self._token_error("invalid_client", 401)
        grant = form.get("grant_type")
        if grant == "authorization_code":
            with self._lock:
                issued = self.codes.pop(form.get("code", ""), None)  # a code works once
            if issued is None or form.get("redirect_uri") != issued["redirect_uri"]:
                return self._token_error("invalid_grant")
            verifier = form.get("code_verifier", "")
            digest = hashlib.sha256(verifier.encode()).digest()
            challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if not verifier or challenge != issued["challenge"]:
                return self._token_error("invalid_grant")
            return self._grant(issued["scope"])
        if grant == "refresh_token":
            with self._lock:
                known = form.get("refresh_token") in self.refresh_tokens
                self.refresh_tokens.discard(form.get("refresh_token", ""))  # rotation
            if not known:
                return self._token_error("invalid_grant")
            return self._grant(form.get("scope", ""))
        return self._token_error("unsupported_grant_type")
