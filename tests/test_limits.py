"""Losant's limits as data (`losant_fluent.limits`) and the limiter that keeps under them."""

from __future__ import annotations

import threading
from collections import defaultdict

import pytest

from losant_fluent import _catalog, limits
from losant_fluent._limiter import Limiter, throttles_from_option
from losant_fluent.limits import Throttle

STATE = "/applications/{applicationId}/devices/{deviceId}/state"
EVENTS = "/applications/{applicationId}/events"


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _starts(limiter: Limiter, clock: FakeClock, count: int, path: str,
            endpoint: str = "device.sendState", template: str = STATE) -> list[float]:
    starts = []
    for _ in range(count):
        reservation = limiter.reserve(endpoint, template, path)
        assert reservation is not None
        starts.append(clock.now + reservation.delay)
    return starts


def _most_in_any_window(starts: list[float], window: float) -> int:
    ordered = sorted(starts)
    return max(sum(1 for t in ordered if s <= t < s + window) for s in ordered)


def test_every_limit_names_real_endpoints_and_a_path_parameter_of_each() -> None:
    catalog = _catalog.endpoints()
    rows: list[tuple[frozenset[str], str]] = [(t.endpoints, t.per) for t in limits.THROTTLES]
    rows += [(o.endpoints, o.per) for o in limits.ONE_AT_A_TIME]
    for endpoint_ids, per in rows:
        for endpoint_id in endpoint_ids:
            assert endpoint_id in catalog, endpoint_id
            assert "{" + per + "}" in catalog[endpoint_id].path, (endpoint_id, per)


def test_every_number_says_where_it_comes_from() -> None:
    assert all(t.source.startswith("https://") for t in limits.THROTTLES)
    assert all(o.source for o in limits.ONE_AT_A_TIME)
    for name in ("TIME_SERIES_ANSWER_BYTES", "DATA_TABLE_ROWS_ANSWER_BYTES",
                 "UPLOAD_BODY_BYTES", "DEVICE_IDS_PER_CALL", "STATES_PER_CALL"):
        assert isinstance(getattr(limits, name), int)
        assert limits.SOURCES[name]


def test_the_device_id_cap_is_the_schemas_max_items() -> None:
    query = _catalog.endpoint("data.timeSeriesQuery")
    assert query.body_param is not None
    import json
    from pathlib import Path
    schema = json.loads((Path(__file__).resolve().parents[1] / "reference" / "schemas"
                         / f"{query.body_param.schema}.json").read_text())
    assert schema["properties"]["deviceIds"]["maxItems"] == limits.DEVICE_IDS_PER_CALL


def test_path_value_reads_the_parameter_from_the_concrete_path() -> None:
    assert limits.path_value(STATE, "/applications/a1/devices/d7/state", "deviceId") == "d7"
    assert limits.path_value(STATE, "/applications/a1/devices/d7/state?x=1",
                             "applicationId") == "a1"
    assert limits.path_value(STATE, "/applications/a1/devices", "deviceId") is None


def test_thirty_state_posts_go_at_once_and_the_next_waits_a_window() -> None:
    clock = FakeClock()
    limiter = Limiter(clock=clock, margin=0.25)
    starts = _starts(limiter, clock, 31, "/applications/a/devices/d/state")
    assert starts[:30] == [clock.now] * 30
    assert starts[30] == pytest.approx(clock.now + 15.25)


def test_a_hundred_posts_never_put_more_than_thirty_in_any_window() -> None:
    clock = FakeClock()
    limiter = Limiter(clock=clock, margin=0.0)
    starts = []
    for i in range(100):
        clock.now += 0.01 * (i % 3)          # the caller's own pace, faster than allowed
        starts += _starts(limiter, clock, 1, "/applications/a/devices/d/state")
    assert _most_in_any_window(starts, 15.0) == 30
    # and no slower than the limit implies: 100 calls need three full windows.
    assert max(starts) - min(starts) == pytest.approx(45.0, abs=0.1)


def test_each_device_and_each_application_has_its_own_budget() -> None:
    clock = FakeClock()
    limiter = Limiter(clock=clock)
    for device in ("d1", "d2", "d3"):
        delays = _starts(limiter, clock, 30, f"/applications/a/devices/{device}/state")
        assert delays == [clock.now] * 30
    events = _starts(limiter, clock, 16, "/applications/a/events", "events.post", EVENTS)
    assert events[:15] == [clock.now] * 15 and events[15] > clock.now + 15
    other = _starts(limiter, clock, 1, "/applications/b/events", "events.post", EVENTS)
    assert other == [clock.now]


def test_unthrottled_endpoints_get_no_reservation() -> None:
    limiter = Limiter()
    assert limiter.reserve("devices.get", "/applications/{applicationId}/devices",
                           "/applications/a/devices") is None


def test_threads_never_share_a_slot() -> None:
    clock = FakeClock()
    limiter = Limiter(clock=clock, margin=0.0)
    starts: dict[int, list[float]] = defaultdict(list)

    def worker(n: int) -> None:
        for _ in range(25):
            reservation = limiter.reserve("device.sendState", STATE,
                                          "/applications/a/devices/d/state")
            assert reservation is not None
            starts[n].append(clock.now + reservation.delay)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [t for ts in starts.values() for t in ts]
    assert len(every) == 400
    assert _most_in_any_window(every, 15.0) == 30


def test_a_refusal_spends_the_budget_for_a_whole_window() -> None:
    clock = FakeClock()
    limiter = Limiter(clock=clock, margin=0.5)
    path = "/applications/a/devices/d/state"
    assert limiter.refused("device.sendState", STATE, path) == pytest.approx(15.5)
    reservation = limiter.reserve("device.sendState", STATE, path)
    assert reservation is not None and reservation.delay == pytest.approx(15.5)
    assert "device state limit (30 per 15 s per deviceId d)" in reservation.describe()
    assert limiter.refused("devices.get", "/applications/{applicationId}/devices",
                           "/applications/a/devices") is None


def test_throttle_option_turns_off_replaces_and_drops() -> None:
    assert throttles_from_option(None) == limits.THROTTLES
    assert throttles_from_option(False) == ()
    changed = {t.name: t for t in throttles_from_option({"device state": {"calls": 5}})}
    assert changed["device state"].calls == 5 and changed["device state"].window == 15.0
    assert "event creation" not in {t.name for t in throttles_from_option({"event creation": None})}
    mine = Throttle("mine", frozenset({"devices.get"}), 1, 1.0, "applicationId", "test")
    assert throttles_from_option([mine]) == (mine,)


@pytest.mark.parametrize(("option", "error", "text"), [
    ({"device sate": None}, ValueError, "no published limit is named 'device sate'"),
    ({"device state": 5}, TypeError, "throttle['device state']"),
    ({"device state": {"calls": 0}}, ValueError, "calls must be >= 1"),
    ({"device state": {"window": float("inf")}}, ValueError, "finite number of seconds"),
    ("off", TypeError, "give True, False"),
    (0, TypeError, "throttle: give True, False, a dict by limit name, or Throttle objects "
                   "(got int)"),
    ([1], TypeError, "is not a Throttle"),
])
def test_bad_throttle_options_say_what_is_wrong(option: object, error: type[Exception],
                                                text: str) -> None:
    with pytest.raises(error) as raised:
        throttles_from_option(option)  # type: ignore[arg-type]
    assert text in str(raised.value)


# Splitting queries over more devices than one call takes (losant_fluent._splitting).

def _ids(n: int) -> list[str]:
    return [f"{i:024x}" for i in range(n)]


def test_a_time_series_query_over_2500_devices_becomes_three_under_the_cap() -> None:
    from losant_fluent._splitting import device_chunks
    body = {"deviceIds": _ids(2500), "attributes": ["t"], "start": -3600000, "end": 0}
    parts = device_chunks("data.timeSeriesQuery", body)
    assert parts is not None
    assert [len(p["deviceIds"]) for p in parts] == [1000, 1000, 500]
    assert [i for p in parts for i in p["deviceIds"]] == body["deviceIds"]
    assert all({k: v for k, v in p.items() if k != "deviceIds"} ==
               {"attributes": ["t"], "start": -3600000, "end": 0} for p in parts)
    assert body["deviceIds"] == _ids(2500)          # the caller's body is left as it was


def test_small_queries_and_calls_that_must_not_split_are_left_alone() -> None:
    from losant_fluent._splitting import device_chunks
    assert device_chunks("data.timeSeriesQuery", {"deviceIds": _ids(1000)}) is None
    assert device_chunks("experienceGroups.post", {"deviceIds": _ids(2500)}) is None
    assert device_chunks("devices.patch", {"deviceIds": _ids(2500)}) is None
    assert device_chunks("data.lastValueQuery", {"deviceQuery": {}}) is None


def test_merged_answers_equal_the_one_big_answer() -> None:
    from losant_fluent._splitting import merge_device_answers
    a = {"start": "s", "end": "e", "resolution": 60000,
         "devices": {"d1": {"name": "one", "points": []}}}
    b = {"start": "s", "end": "e", "resolution": 60000,
         "devices": {"d2": {"name": "two", "points": [{"time": "t", "data": {"x": 1}}]}}}
    assert merge_device_answers("data.timeSeriesQuery", [a, b]) == {
        "start": "s", "end": "e", "resolution": 60000,
        "devices": {"d1": a["devices"]["d1"], "d2": b["devices"]["d2"]}}
    assert merge_device_answers("data.lastValueQuery", [{"d1": 1}, {"d2": 2}]) == {
        "d1": 1, "d2": 2}
    with pytest.raises(ValueError, match="no answers"):
        merge_device_answers("data.lastValueQuery", [])


# The limiter in the send path, against a loopback server that counts like Losant does.

import asyncio  # noqa: E402
import logging  # noqa: E402
import time  # noqa: E402

from fault_server import Action, FaultServer, Received, reply  # noqa: E402

from losant_fluent import API, RateLimitError  # noqa: E402

APP = "a" * 24
DEV = "d" * 24


class CountingServer:
    """Refuses (429, no Retry-After) a call that would be the ``calls + 1``-th of one path
    in any ``window`` seconds, as Losant's throttle does; records when each arrived."""

    def __init__(self, calls: int, window: float) -> None:
        self.calls, self.window = calls, window
        self.arrivals: dict[str, list[float]] = defaultdict(list)
        self.refused = 0
        self.lock = threading.Lock()

    def __call__(self, request: Received, index: int) -> Action:
        now = time.monotonic()
        with self.lock:
            seen = self.arrivals[request.path]
            if sum(1 for t in seen if t > now - self.window) >= self.calls:
                self.refused += 1
                return reply(429, {"type": "TooManyRequests", "message": "throttled"})
            seen.append(now)
        return reply(200, {"success": True})


def _state(api: API, device: str = DEV) -> object:
    return api.applications(APP).devices(device).state().post({"data": {"t": 1}})


def test_a_loop_of_state_posts_to_one_device_gets_no_429() -> None:
    counting = CountingServer(calls=20, window=0.2)
    with FaultServer(counting) as server:
        api = API(server.url, "tok", max_retries=0,
                  throttle={"device state": {"calls": 20, "window": 0.2}})
        started = time.monotonic()
        for _ in range(100):
            _state(api)
        elapsed = time.monotonic() - started
    assert counting.refused == 0
    assert len(counting.arrivals[f"/applications/{APP}/devices/{DEV}/state"]) == 100
    # 100 calls at 20 per window need four more windows than the first: no faster.
    assert elapsed >= 4 * 0.2
    assert elapsed < 4 * (0.2 + 0.25) + 10          # and not much slower (generous bound)


def test_without_the_limiter_the_same_loop_is_refused() -> None:
    counting = CountingServer(calls=20, window=5.0)
    with FaultServer(counting) as server:
        api = API(server.url, "tok", max_retries=0, throttle=False)
        with pytest.raises(RateLimitError):
            for _ in range(100):
                _state(api)
    assert counting.refused == 1 and len(counting.arrivals[
        f"/applications/{APP}/devices/{DEV}/state"]) == 20


def test_with_options_copies_and_threads_share_one_count() -> None:
    counting = CountingServer(calls=10, window=0.3)
    with FaultServer(counting) as server:
        api = API(server.url, "tok", max_retries=0,
                  throttle={"device state": {"calls": 10, "window": 0.3}})
        apis = [api, api.with_options(timeout=30), api.with_options(max_retry_wait=5)]
        errors: list[BaseException] = []

        def worker(n: int) -> None:
            try:
                for _ in range(10):
                    _state(apis[n % 3])
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == [] and counting.refused == 0
    assert len(counting.arrivals[f"/applications/{APP}/devices/{DEV}/state"]) == 60


def test_the_wait_is_logged_with_the_limit_it_keeps_under(
        caplog: pytest.LogCaptureFixture) -> None:
    with FaultServer(lambda request, index: reply(200, {"success": True})) as server:
        api = API(server.url, "tok", throttle={"device state": {"calls": 2, "window": 0.1}})
        with caplog.at_level(logging.INFO, logger="losant_fluent"):
            for _ in range(3):
                _state(api)
    waits = [r.getMessage() for r in caplog.records if "for room under" in r.getMessage()]
    assert len(waits) == 1
    assert "device state limit (2 per 0.1 s per deviceId " + DEV in waits[0]
    assert "tok" not in waits[0]


def test_a_429_without_retry_after_waits_for_the_limits_window(
        caplog: pytest.LogCaptureFixture) -> None:
    arrivals: list[float] = []

    def script(request: Received, index: int) -> Action:
        arrivals.append(time.monotonic())
        if index == 0:      # someone else (another script, a device) spent the budget
            return reply(429, {"type": "TooManyRequests", "message": "throttled"})
        return reply(200, {"success": True})

    with FaultServer(script) as server:
        api = API(server.url, "tok", max_retries=1,
                  throttle={"device state": {"calls": 30, "window": 1.5}})
        with caplog.at_level(logging.INFO, logger="losant_fluent"):
            _state(api)
    assert len(arrivals) == 2
    # the window (1.5 s) and the margin, not the 0.5 s first backoff
    assert arrivals[1] - arrivals[0] >= 1.5
    assert any("in 1.75 s after 429" in r.getMessage() for r in caplog.records)


def test_an_unthrottled_429_still_backs_off_briefly() -> None:
    arrivals: list[float] = []

    def script(request: Received, index: int) -> Action:
        arrivals.append(time.monotonic())
        return reply(429 if index == 0 else 200, {"items": [], "count": 0})

    with FaultServer(script) as server:
        api = API(server.url, "tok", max_retries=1)
        api.applications(APP).devices().get()
    assert len(arrivals) == 2 and arrivals[1] - arrivals[0] < 1.5


def test_async_state_posts_await_room_under_the_limit() -> None:
    from losant_fluent import AsyncAPI

    counting = CountingServer(calls=20, window=0.2)

    async def main(url: str) -> float:
        async with AsyncAPI(url, "tok", max_retries=0,
                            throttle={"device state": {"calls": 20, "window": 0.2}}) as api:
            started = time.monotonic()
            node = api.applications(APP).devices(DEV).state()
            # all at once: the limiter, not the loop, spaces them
            await asyncio.gather(*(node.post({"data": {"t": 1}}) for _ in range(100)))
            return time.monotonic() - started

    with FaultServer(counting) as server:
        elapsed = asyncio.run(main(server.url))
    assert counting.refused == 0
    assert len(counting.arrivals[f"/applications/{APP}/devices/{DEV}/state"]) == 100
    assert elapsed >= 4 * 0.2


def test_the_limits_benchmark_prints_every_figure() -> None:
    """benchmarks/bench_limits.py still runs (tiny sizes; nothing is timed here)."""
    import re
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_limits.py"
    done = subprocess.run([sys.executable, str(script), "--calls", "20", "--rounds", "1",
                           "--posts", "40", "--scale", "0.01"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    for name in ("GET device, throttle=False", "GET device, throttle on",
                 "Limiter.reserve (device state)"):
        assert re.search(rf"^{re.escape(name)}\s+[\d.]+\s+[\d.]+x$", done.stdout, re.M), \
            done.stdout
    assert re.search(r"^40 state posts, one device, 30 per 0.15 s, no 429: [\d.]+ s wall, "
                     r"0.15 s implied by the limit, [\d.]+x$", done.stdout, re.M), done.stdout


def test_a_call_waits_for_the_one_a_budget_back_to_be_answered() -> None:
    clock = FakeClock()
    limiter = Limiter([Throttle("t", frozenset({"device.sendState"}), 2, 10.0, "deviceId",
                                "test")], clock=clock, margin=0.0)
    path = "/applications/a/devices/d/state"
    first = limiter.reserve("device.sendState", STATE, path)
    second = limiter.reserve("device.sendState", STATE, path)
    assert first is not None and second is not None
    clock.now += 10.0
    third = limiter.reserve("device.sendState", STATE, path)
    assert third is not None and third.delay == 0.0      # planned a window after the first
    # ... but the first is still in flight (queued for a connection): look again shortly
    assert limiter.recheck(third) == pytest.approx(0.05)
    clock.now += 1.0
    limiter.answered(first)                               # answered 11 s in: counted by then
    assert limiter.recheck(third) == pytest.approx(10.0)
    clock.now += 10.0
    assert limiter.recheck(third) == 0.0
    # a call whose driver vanished (cancelled) stops holding others back after a while
    fourth = limiter.reserve("device.sendState", STATE, path)
    assert fourth is not None and fourth.before is second.slot
    clock.now += 200.0
    assert limiter.recheck(fourth) == 0.0
