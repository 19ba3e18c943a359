"""Identifiers and timestamps shaped like Losant's (24-hex ids, ISO-8601 UTC times)."""

from __future__ import annotations

import os
import secrets
import time
from datetime import datetime, timezone

_counter = int.from_bytes(os.urandom(3), "big")


def new_id() -> str:
    """A fresh 24-hex-character id, increasing with time like a MongoDB ObjectId."""
    global _counter
    _counter = (_counter + 1) % 0xFFFFFF
    stamp = int(time.time()).to_bytes(4, "big").hex()
    return stamp + secrets.token_hex(5) + f"{_counter:06x}"


def now_ms() -> int:
    """The current time in milliseconds since the epoch."""
    return int(time.time() * 1000)


def iso(ms: float) -> str:
    """Milliseconds since the epoch as ``2024-01-02T03:04:05.678Z``."""
    moment = datetime.fromtimestamp(ms / 1000.0, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ms) % 1000:03d}Z"


def now_iso() -> str:
    """The current time as an ISO-8601 UTC string."""
    return iso(now_ms())


def parse_time(value: object, default_ms: int | None = None) -> int:
    """Read a time given as epoch milliseconds, an ISO string or ``{"$date": ...}``.

    Raises ``ValueError`` when the value cannot be read and no default is given.
    """
    if isinstance(value, dict) and "$date" in value:
        value = value["$date"]
    if value is None:
        if default_ms is None:
            raise ValueError("missing time")
        return default_ms
    if isinstance(value, bool):
        raise ValueError("a boolean is not a time")
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(float(text))
        except ValueError:
            pass
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return int(moment.timestamp() * 1000)
    raise ValueError(f"cannot read a time from {value!r}")


def token_string() -> str:
    """An opaque bearer token (three dot-separated parts, like a JWT)."""
    return ".".join(secrets.token_urlsafe(n) for n in (12, 32, 24))
