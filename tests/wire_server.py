"""A real HTTP server on 127.0.0.1 that records every request byte-for-byte.

Tests point a client at it and assert on what went over the wire: the request line (method,
raw path and query string), the headers and the body bytes. Replies come from a responder
function (default: ``200 {"success": true}``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Recorded:
    """One request as the server received it."""

    method: str
    target: str  # raw request target: path?query exactly as sent
    headers: list[tuple[str, str]]
    body: bytes
    client_port: int = 0

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> str:
        return urlsplit(self.target).query

    @property
    def query_pairs(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query, keep_blank_values=True)

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def json(self) -> Any:
        return json.loads(self.body)


Reply = tuple[int, dict[str, str], bytes]
Responder = Callable[[Recorded], Reply]


def json_reply(status: int, document: Any, headers: dict[str, str] | None = None) -> Reply:
    body = json.dumps(document).encode()
    return status, {"Content-Type": "application/json", **(headers or {})}, body


def _default(_: Recorded) -> Reply:
    return json_reply(200, {"success": True})


@dataclass
class RecordingServer:
    """Start with ``with RecordingServer() as server:``; ``server.url`` is its base URL."""

    responder: Responder = _default
    requests: list[Recorded] = field(default_factory=list)

    def __post_init__(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                record = Recorded(
                    self.command, self.path, list(self.headers.items()), body,
                    self.client_address[1],
                )
                owner.requests.append(record)
                status, headers, payload = owner.responder(record)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def last(self) -> Recorded:
        return self.requests[-1]

    def __enter__(self) -> RecordingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
