"""The download flow on its own: every decision of a download (the request, the chunks read
and written, the deadline) made without I/O, checked by driving it with scripted outcomes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from losant_fluent import API, LosantConnectionError, LosantTimeoutError
from losant_fluent._files import Begin, ReadChunk, Write, download_flow
from losant_fluent._flows import Transmit, run
from losant_fluent._wire import WireCall

URL = "http://127.0.0.1:9/bucket/report.csv"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def answer(length: str | None = "6") -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response.url = URL
    if length is not None:
        response.headers["Content-Length"] = length
    return response


def drive(timeout: float | None, reads: list[Any], clock: Clock, *, advance: float = 0.0,
          length: str | None = "6") -> tuple[Any, list[Any]]:
    """Run the flow; each read answers the next scripted outcome (bytes, None, or an
    exception thrown in) and moves the clock by ``advance``. Returns (result, effects)."""
    api = API("http://127.0.0.1:9", token="tok")
    call = WireCall(method="GET", path="/bucket/report.csv", url=URL, timeout=timeout)
    seen: list[Any] = []
    outcomes: Iterator[Any] = iter(reads)

    def perform(effect: Any) -> Any:
        seen.append(effect)
        if type(effect) is Transmit:
            assert effect.stream is True
            return answer(length)
        if type(effect) is ReadChunk:
            clock.now += advance
            outcome = next(outcomes)
            if isinstance(outcome, BaseException):
                raise outcome
            return outcome
        return None

    try:
        return run(download_flow(api._pipeline, call, timeout, clock), perform), seen
    finally:
        api.close()


def test_the_flow_sends_without_the_token_then_reads_and_writes_each_chunk() -> None:
    result, seen = drive(None, [b"abc", b"def", b""], Clock())
    assert result == 6
    transmit = seen[0]
    assert type(transmit) is Transmit
    assert transmit.request.method == "GET" and transmit.request.url == URL
    assert not any(name.lower() == "authorization" for name, _ in transmit.request.headers)
    begin = seen[1]
    assert type(begin) is Begin and begin.total == 6 and begin.seconds is None
    assert [type(e) for e in seen[2:]] == [ReadChunk, Write, ReadChunk, Write, ReadChunk]
    assert [e.chunk for e in seen if type(e) is Write] == [b"abc", b"def"]
    assert all(e.seconds is None for e in seen if type(e) is ReadChunk)


def test_the_deadline_is_the_flows_each_read_gets_what_is_left() -> None:
    clock = Clock()
    result, seen = drive(10.0, [b"ab", b"cd", b""], clock, advance=3.0, length=None)
    assert result == 4
    assert [e.seconds for e in seen if type(e) is ReadChunk] == [10.0, 7.0, 4.0]
    assert next(e for e in seen if type(e) is Begin).total is None


def test_a_read_that_passes_the_deadline_is_late() -> None:
    with pytest.raises(LosantTimeoutError, match="did not finish within 5.0 s") as caught:
        drive(5.0, [b"ab", None], Clock(), advance=1.0)
    assert caught.value.may_have_been_received


def test_the_deadline_passing_between_chunks_stops_before_the_next_read() -> None:
    with pytest.raises(LosantTimeoutError, match="did not finish within 2.0 s"):
        drive(2.0, [b"ab", b"cd", b"ef", b""], Clock(), advance=1.5)


def test_a_body_cut_short_at_the_deadline_is_late_not_complete() -> None:
    clock = Clock()
    with pytest.raises(LosantTimeoutError, match="did not finish"):
        drive(2.0, [b"ab", b""], clock, advance=1.0 + 0.5)  # b"" at 3.0 s: the socket shut


def test_a_break_is_late_after_the_deadline_and_itself_before_it() -> None:
    broke = LosantConnectionError("GET /bucket/report.csv: the download broke (X)",
                                  may_have_been_received=True)
    with pytest.raises(LosantTimeoutError, match="did not finish"):
        drive(1.0, [broke], Clock(), advance=2.0)
    with pytest.raises(LosantConnectionError, match="the download broke") as caught:
        drive(10.0, [broke], Clock(), advance=2.0)
    assert caught.value is broke
