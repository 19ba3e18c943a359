"""Shared fixtures: a recording HTTP server on 127.0.0.1 and an API pointed at it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from wire_server import RecordingServer  # noqa: E402

from losant_fluent import API  # noqa: E402


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    with RecordingServer() as recording:
        yield recording


@pytest.fixture
def api(server: RecordingServer) -> Iterator[API]:
    with API(url=server.url, token="tok-SECRET-123") as client:
        yield client


@pytest.fixture(autouse=True)
def _quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries keep their shape (doubling, capped, with jitter) but wait milliseconds."""
    monkeypatch.setattr("losant_fluent._pipeline.INITIAL_RETRY_DELAY", 0.002)
    monkeypatch.setattr("losant_fluent._pipeline.MAX_RETRY_DELAY", 0.016)
