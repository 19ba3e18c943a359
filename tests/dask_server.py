"""A synthetic Losant on 127.0.0.1 for the Dask tests: big answers made up on the fly.

It answers two endpoints without keeping any state, so answers of any size cost the server
no memory: a device list (``GET /applications/<id>/devices``, ``totalCount`` devices named
by number) and a time-series query (``POST /applications/<id>/data/time-series-query``:
for each device id of the body, one raw point every ``step`` ms of the window). It counts
the requests, how many were being answered at once (``max_in_flight``) and the
``Authorization`` headers seen; ``delay`` seconds pass before each answer.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

APP_ID = "5" * 24


def iso(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


class SyntheticLosant:
    def __init__(self, total: int = 100, delay: float = 0.0, step: int = 1000) -> None:
        self.total = total
        self.delay = delay
        self.step = step
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.authorizations: set[str] = set()
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _enter(self) -> None:
                with owner._lock:
                    owner.requests += 1
                    owner.in_flight += 1
                    owner.max_in_flight = max(owner.max_in_flight, owner.in_flight)
                    owner.authorizations.add(self.headers.get("Authorization", ""))
                if owner.delay:
                    time.sleep(owner.delay)

            def _leave(self) -> None:
                with owner._lock:
                    owner.in_flight -= 1

            def do_GET(self) -> None:
                self._enter()
                try:
                    query = dict(parse_qsl(urlsplit(self.path).query))
                    page, size = int(query.get("page", 0)), int(query.get("perPage", 100))
                    numbers = range(page * size, min(owner.total, (page + 1) * size))
                    items = [{"id": f"{n:024x}", "name": f"device-{n:05d}", "deviceClass":
                              "standalone", "creationDate": iso(1_700_000_000_000 + n)}
                             for n in numbers]
                    self._answer({"items": items, "count": len(items),
                                  "totalCount": owner.total, "perPage": size, "page": page})
                finally:
                    self._leave()

            def do_POST(self) -> None:
                self._enter()
                try:
                    length = int(self.headers.get("Content-Length", 0))
                    body = json.loads(self.rfile.read(length) or b"{}")
                    start, end = int(body["start"]), int(body["end"])
                    first = start + (-start) % owner.step
                    devices = {
                        device_id: {"name": f"n-{device_id[-4:]}", "points": [
                            {"time": iso(t), "data": {"v": f"reading {t % 9973}"}}
                            for t in range(first, end + 1, owner.step)]}
                        for device_id in body.get("deviceIds", [])
                    }
                    self._answer({"start": iso(start), "end": iso(end), "resolution": None,
                                  "aggregation": "NONE", "limit": 1_000_000, "order": "asc",
                                  "devices": devices})
                finally:
                    self._leave()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> SyntheticLosant:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
