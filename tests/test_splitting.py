"""Big queries split for you: more than 1,000 deviceIds, time-series answers over the size
cap, state history over 100, and the calls the client refuses to split (and says why).

Device chunks and state history run against the emulator; the size cap is played by a
loopback server that answers 400 "too large" past a number of points, as Losant does past
30 MB, and otherwise answers every point of the window it was asked for.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from fault_server import Action, FaultServer, Received, reply

from losant_fluent import API
from losant_fluent.models import DeviceStates, LastValueData, TimeSeriesData
from losant_fluent.testing import Emulator

T0 = 1_767_225_600_000           # 2026-01-01T00:00:00Z, a multiple of every resolution used


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


def _iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def _sent(caplog: pytest.LogCaptureFixture, path_end: str) -> int:
    return sum(1 for r in caplog.records
               if r.getMessage().startswith("POST ") and path_end in r.getMessage()
               and " -> " in r.getMessage())


def test_a_2500_device_query_is_the_per_chunk_queries_concatenated(
        emu: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    emu.reset()
    ids = emu.seed_devices(2500)
    with emu.store.lock:
        for n, device_id in enumerate(ids):
            emu.store.states[device_id] = [(T0 + k * 60_000, {"temperature": float(n + k)})
                                           for k in range(3)]
    data = API(emu.url, emu.user_token()).applications(emu.application_id).data()
    query = {"start": T0, "end": T0 + 3_600_000, "aggregation": "NONE",
             "attributes": ["temperature"]}
    with caplog.at_level(logging.DEBUG, logger="losant_fluent"):
        whole = data.time_series_query().post({**query, "deviceIds": ids})
    assert _sent(caplog, "/time-series-query") == 3
    assert isinstance(whole, TimeSeriesData)
    assert list(whole.devices) == ids
    parts = [data.time_series_query().post({**query, "deviceIds": ids[at:at + 1000]})
             for at in range(0, 2500, 1000)]
    expected = pd.concat([p.to_pandas() for p in parts], ignore_index=True)
    frame = whole.to_pandas()
    pd.testing.assert_frame_equal(frame.reset_index(drop=True), expected)
    assert len(frame) == 7500

    last = data.last_value_query().post({"deviceIds": ids, "attribute": "temperature"})
    assert isinstance(last, LastValueData) and len(last.root if hasattr(last, "root")
                                                  else last) == 2500


def _points(start: int, end: int, step: int) -> list[int]:
    first = -(-start // step) * step
    return list(range(first, end + 1, step))


class CappedServer:
    """A time-series endpoint with a point every ``every`` ms per device, refusing any answer
    of more than ``cap`` points as too large; aggregated queries answer one point per bucket
    (buckets at multiples of the resolution) holding the bucket's count."""

    def __init__(self, cap: int, every: int = 1000) -> None:
        self.cap, self.every = cap, every
        self.windows: list[tuple[int, int]] = []

    def __call__(self, request: Received, index: int) -> Action:
        body = json.loads(request.body)
        start, end = int(body["start"]), int(body["end"])
        self.windows.append((start, end))
        raw = _points(start, end, self.every)
        if body.get("aggregation", "MEAN") == "NONE":
            points = [{"time": _iso(t), "data": {"n": t // self.every}} for t in raw]
            limit = int(body.get("limit", 1000))
            points = points[:limit] if body.get("order", "asc") == "asc" else \
                list(reversed(points))[:limit]
        else:
            resolution = int(body["resolution"])
            buckets: dict[int, int] = {}
            for t in raw:
                buckets[t - t % resolution] = buckets.get(t - t % resolution, 0) + 1
            points = [{"time": _iso(b), "data": {"n": c}} for b, c in sorted(buckets.items())]
        if len(points) * len(body["deviceIds"]) > self.cap:
            return reply(400, {"type": "Validation", "message":
                               "The requested time series data is too large"})
        return reply(200, {"start": _iso(start), "end": _iso(end), "order": "asc",
                           "devices": {d: {"name": d, "points": points}
                                       for d in body["deviceIds"]}})


DEVICES = [f"{n:024x}" for n in (1, 2)]
ONE = DEVICES[:1]                # time halving is for a part of one device


def test_a_raw_window_over_the_cap_is_split_with_no_point_lost_or_repeated(
        caplog: pytest.LogCaptureFixture) -> None:
    capped = CappedServer(cap=250)
    with FaultServer(capped) as server:
        api = API(server.url, "tok")
        with caplog.at_level(logging.INFO, logger="losant_fluent"):
            answer = api.applications("a" * 24).data().time_series_query().post(
                {"deviceIds": ONE, "start": T0 + 1, "end": T0 + 999_999,
                 "aggregation": "NONE", "limit": 10_000})
    assert isinstance(answer, TimeSeriesData)
    for device in ONE:
        got = [p.data["n"] for p in answer.devices[device].points]
        assert got == [t // 1000 for t in _points(T0 + 1, T0 + 999_999, 1000)]   # 999 points
    # the windows that were answered tile the asked one: no gap, no overlap
    leaves = _leaves(capped.windows)
    assert leaves[0][0] == T0 + 1 and leaves[-1][1] == T0 + 999_999
    assert all(b[0] == a[1] + 1 for a, b in zip(leaves, leaves[1:], strict=False))
    assert len(leaves) > 2 and any("asking in two halves" in r.getMessage() for r in caplog.records)
    assert answer.to_pandas().shape[0] == 999


def _leaves(windows: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The windows that were not halved further (answered), in time order."""
    split = {w for w in windows if any(o != w and w[0] <= o[0] and o[1] <= w[1]
                                       for o in windows)}
    return sorted(w for w in windows if w not in split)


def test_an_aggregated_window_is_split_at_bucket_starts_only() -> None:
    capped = CappedServer(cap=40, every=1000)
    resolution = 60_000
    with FaultServer(capped) as server:
        answer = API(server.url, "tok").applications("a" * 24).data().time_series_query().post(
            {"deviceIds": ONE, "start": T0 + 30_000, "end": T0 + 100 * resolution,
             "aggregation": "COUNT", "resolution": resolution})
    leaves = _leaves(capped.windows)
    assert len(leaves) > 2
    assert all(start % resolution == 0 for start, _ in leaves[1:])     # seams at buckets
    counts = [p.data["n"] for p in answer.devices[DEVICES[0]].points]
    # the first bucket is partial (the window starts 30 s into it), the others whole
    assert counts[0] == 30 and set(counts[1:-1]) == {60} and len(counts) == 101
    assert sum(counts) == len(_points(T0 + 30_000, T0 + 100 * resolution, 1000))


def test_a_descending_raw_query_keeps_its_order_and_limit_across_halves() -> None:
    capped = CappedServer(cap=300)
    with FaultServer(capped) as server:
        answer = API(server.url, "tok").applications("a" * 24).data().time_series_query().post(
            {"deviceIds": ONE, "start": T0, "end": T0 + 999_000, "aggregation": "NONE",
             "order": "desc", "limit": 700})
    got = [p.data["n"] for p in answer.devices[ONE[0]].points]
    assert got == [t // 1000 for t in reversed(_points(T0, T0 + 999_000, 1000))][:700]


def test_one_bucket_over_the_cap_is_refused_as_losant_refused_it() -> None:
    from losant_fluent import BadRequestError

    capped = CappedServer(cap=0)
    with FaultServer(capped) as server:
        with pytest.raises(BadRequestError, match="too large"):
            API(server.url, "tok").applications("a" * 24).data().time_series_query().post(
                {"deviceIds": ONE, "start": T0, "end": T0 + 59_999,
                 "aggregation": "MEAN", "resolution": 60_000})


def test_async_splits_the_same_way() -> None:
    from losant_fluent import AsyncAPI

    capped = CappedServer(cap=2 * 250)      # two devices: halved by device, then in time

    async def main(url: str) -> Any:
        async with AsyncAPI(url, "tok") as api:
            return await api.applications("a" * 24).data().time_series_query().post(
                {"deviceIds": DEVICES, "start": T0, "end": T0 + 999_000,
                 "aggregation": "NONE", "limit": 10_000})

    with FaultServer(capped) as server:
        answer = asyncio.run(main(server.url))
    assert isinstance(answer, TimeSeriesData)
    for device in DEVICES:
        assert [p.data["n"] for p in answer.devices[device].points] == [
            t // 1000 for t in _points(T0, T0 + 999_000, 1000)]
    assert list(answer.devices) == DEVICES


def test_state_history_over_100_is_stepped_through(
        emu: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    emu.reset()
    device = emu.device_id
    # 260 states, three of them in one millisecond right where a step of 100 ends
    moments = [T0 + k * 1000 for k in range(257)] + [T0 + 157_000] * 3
    with emu.store.lock:
        emu.store.states[device] = sorted(((t, {"n": float(i)}) for i, t in enumerate(moments)),
                                          key=lambda entry: entry[0])
        history = list(emu.store.states[device])
    node = API(emu.url, emu.user_token()).applications(emu.application_id).devices(
        device).state()
    with caplog.at_level(logging.DEBUG, logger="losant_fluent"):
        newest = node.get(limit=250)
    steps = [r for r in caplog.records if r.getMessage().startswith("GET ")
             and "/state" in r.getMessage() and " -> " in r.getMessage()]
    assert isinstance(newest, DeviceStates)
    expected = [d["n"] for _, d in reversed(history)][:250]
    assert [s.data["n"] for s in newest] == expected
    assert len(steps) == 3
    oldest_first = node.get(limit=250, sortDirection="asc")
    assert [s.data["n"] for s in oldest_first] == list(reversed(expected))
    assert len(node.get(limit=100)) == 100            # one call, as before
    assert len(newest.to_pandas()) == 250             # one row per state and attribute

    from losant_fluent import AsyncAPI

    async def main() -> Any:
        async with AsyncAPI(emu.url, emu.user_token()) as api:
            return await api.applications(emu.application_id).devices(device).state().get(
                limit=250)

    assert [s.data["n"] for s in asyncio.run(main())] == expected


def test_calls_that_must_not_be_split_say_why_before_sending() -> None:
    with FaultServer(lambda request, index: reply(202, {"jobId": "x"})) as server:
        api = API(server.url, "tok")
        ids = [f"{n:024x}" for n in range(2500)]
        with pytest.raises(ValueError, match="separate export jobs") as raised:
            api.applications("a" * 24).data().export().post({"deviceIds": ids})
        assert "deviceQuery" in str(raised.value) and "2500" in str(raised.value)
        with pytest.raises(ValueError, match="asks to run as a job"):
            api.applications("a" * 24).devices().patch(
                {"deviceIds": ids, "updateFields": {"name": "x"}, "email": "ops@example.com"})
        assert server.received == []
