"""A paging responder for ``wire_server.RecordingServer``: big collections in all three styles.

``PagingResponder`` serves a list of items the way Losant pages it, chosen by path:

* ``.../devices`` (and any other GET): ``page``/``perPage`` -> ``totalCount``, ``count``,
  ``page``, ``perPage``, ``items``;
* ``.../rows`` and POST ``.../rows/query``: ``limit``/``offset`` -> ``totalCount``,
  ``count``, ``limit``, ``offset``, ``items``;
* ``.../sandboxes``: ``startingAfterId``/``limit`` -> ``hasMore``, ``count``, ``items``.

It can sleep before every answer (``latency``, seconds) and fail chosen requests once
(``fail_once``: 1-based request numbers answered with a 500); ``omit`` names members left
out of every page (``{"totalCount"}``, ``{"hasMore"}``) to test the other end conditions.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from wire_server import Recorded, Reply, json_reply

APP = "5" * 24
TABLE = "7" * 24
INSTANCE = "9" * 24


def object_id(number: int) -> str:
    """A 24-hex-digit id, as Losant's, for item ``number``."""
    return f"{number:024x}"


def device(number: int) -> dict[str, Any]:
    """Item ``number`` of the device list."""
    return {"id": object_id(number), "deviceId": object_id(number), "name": f"device-{number}"}


def row(number: int) -> dict[str, Any]:
    """Item ``number`` of the data table."""
    return {"id": object_id(number), "n": number, "label": f"row-{number}"}


def sandbox(number: int) -> dict[str, Any]:
    """Item ``number`` of the sandbox list (``id`` and ``instanceSandboxId`` are equal)."""
    ident = object_id(number + 1)  # ids start at 1: 0 would be a poor cursor
    return {"id": ident, "instanceSandboxId": ident, "email": f"user{number}@example.com"}


@dataclass
class PagingResponder:
    """Answers page requests over ``total`` items; counts and can fail requests."""

    total: int = 5000
    latency: float = 0.0
    fail_once: set[int] = field(default_factory=set)
    omit: set[str] = field(default_factory=set)
    calls: int = 0

    def __call__(self, record: Recorded) -> Reply:
        self.calls += 1
        if self.latency:
            time.sleep(self.latency)
        if self.calls in self.fail_once:
            self.fail_once.discard(self.calls)
            return json_reply(500, {"type": "ServerError", "message": "page failed"})
        query = dict(record.query_pairs)
        if record.path.endswith("/sandboxes"):
            page = self._by_cursor(query)
        elif record.path.endswith(("/rows", "/rows/query")):
            page = self._by_offset(query)
        else:
            page = self._by_page(query)
        for name in self.omit:
            page.pop(name, None)
        return json_reply(200, page)

    def _by_page(self, query: dict[str, str]) -> dict[str, Any]:
        per_page = min(int(query.get("perPage", 100)), 1000)
        page = int(query.get("page", 0))
        numbers = range(page * per_page, min((page + 1) * per_page, self.total))
        items = [device(n) for n in numbers]
        return {
            "items": items, "count": len(items), "totalCount": self.total,
            "perPage": per_page, "page": page,
        }

    def _by_offset(self, query: dict[str, str]) -> dict[str, Any]:
        limit = int(query.get("limit", 1000))
        offset = int(query.get("offset", 0))
        items = [row(n) for n in range(offset, min(offset + limit, self.total))]
        return {
            "items": items, "count": len(items), "totalCount": self.total,
            "limit": limit, "offset": offset,
        }

    def _by_cursor(self, query: dict[str, str]) -> dict[str, Any]:
        limit = int(query.get("limit", 100))
        after = query.get("startingAfterId")
        start = int(after, 16) if after else 0  # sandbox n has id n + 1
        numbers = range(start, min(start + limit, self.total))
        items = [sandbox(n) for n in numbers]
        return {
            "items": items, "count": len(items), "limit": limit,
            "hasMore": start + len(items) < self.total,
        }


def body_of(record: Recorded) -> Any:
    """The JSON body of a recorded request (None when empty)."""
    return json.loads(record.body) if record.body else None
