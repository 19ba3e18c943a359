"""The emulator enforces Losant's published limits: throttles (429 without Retry-After),
jobs Losant runs one at a time, answer caps (400) and the deviceIds cap; options replace,
scale or turn them off."""

from __future__ import annotations

import inspect
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from losant_fluent import API, RateLimitError, limits
from losant_fluent.testing import Emulator


class Raw:
    """Plain HTTP with a user token: what goes over the wire, nothing retried."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {emu.user_token()}"
        self.app = f"{emu.url}/applications/{emu.application_id}"

    def post(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        return self.session.post(self.app + path, json=body, timeout=10, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(self.app + path, timeout=10, **kwargs)

    def state(self, device_id: str, value: float) -> requests.Response:
        return self.post(f"/devices/{device_id}/state", {"data": {"temperature": value}})


@pytest.fixture(scope="module")
def shared() -> Iterator[Emulator]:
    # Windows four times Losant's (60 s for state): 100 posts always land in one window.
    with Emulator(time_scale=4) as emu:
        yield emu


@pytest.fixture
def emu(shared: Emulator) -> Emulator:
    shared.reset()
    return shared


def _client(emu: Emulator) -> API:
    """The client with no retries and, where it has one, no limiter of its own."""
    options: dict[str, Any] = {"url": emu.url, "max_retries": 0}
    if "throttle" in inspect.signature(API).parameters:
        options["throttle"] = False
    api = API(**options)
    api.set_token(emu.user_token())
    return api


def _until(predicate: Any, timeout: float = 20.0) -> Any:
    """Poll ``predicate`` until it returns something truthy (a generous deadline)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError(f"not true within {timeout} s")


# -- throttles -------------------------------------------------------------------------


def test_100_state_posts_through_the_client_get_429_beyond_the_limit(emu: Emulator) -> None:
    api = _client(emu)
    state = api.applications(emu.application_id).devices(emu.device_id).state()
    sent = refused = 0
    for n in range(100):
        try:
            state.post({"data": {"temperature": n}})
            sent += 1
        except RateLimitError as err:
            refused += 1
            assert err.type == "TooManyRequests"
            assert err.retry_after is None  # Losant sends no Retry-After
            response = err.http_response()
            assert response is not None and response.status_code == 429
            assert "Retry-After" not in response.headers
    assert (sent, refused) == (30, 70)
    # Only accepted states were stored.
    stored = Raw(emu).get(f"/devices/{emu.device_id}/state", params={"limit": 100}).json()
    assert len(stored) == 30


def test_100_concurrent_state_posts_through_the_async_client(emu: Emulator) -> None:
    import asyncio

    from losant_fluent import AsyncAPI

    options: dict[str, Any] = {"url": emu.url, "max_retries": 0}
    if "throttle" in inspect.signature(AsyncAPI).parameters:
        options["throttle"] = False

    async def go() -> list[str]:
        async with AsyncAPI(**options) as api:
            api.set_token(emu.user_token())
            state = api.applications(emu.application_id).devices(emu.device_id).state()

            async def post(n: int) -> str:
                try:
                    await state.post({"data": {"temperature": n}})
                    return "sent"
                except RateLimitError as err:
                    assert err.retry_after is None
                    return "refused"

            return await asyncio.gather(*(post(n) for n in range(100)))

    outcomes = asyncio.run(go())
    assert (outcomes.count("sent"), outcomes.count("refused")) == (30, 70)


def test_the_clients_limiter_keeps_100_posts_under_the_emulators_limit() -> None:
    # Both halves of issue 21: the emulator enforces 30 per 0.75 s, the client's limiter
    # knows the same window; with max_retries=0 a single 429 would raise.
    with Emulator(time_scale=0.05) as emu:
        window = emu.limits["throttles"]["device state"][1]
        api = API(url=emu.url, token=emu.user_token(), max_retries=0,
                  throttle={"device state": {"window": window}})
        state = api.applications(emu.application_id).devices(emu.device_id).state()
        started = time.monotonic()
        for n in range(100):
            state.post({"data": {"temperature": n}})
        elapsed = time.monotonic() - started
        # 100 posts at 30 per window: the last 10 wait out three windows, no fewer.
        assert elapsed >= 3 * window
        stored = Raw(emu).get(f"/devices/{emu.device_id}/state", params={"limit": 100}).json()
        assert len(stored) == 100


def test_no_429_with_throttle_off() -> None:
    with Emulator(throttle=False) as emu:
        api = _client(emu)
        app = api.applications(emu.application_id)
        state = app.devices(emu.device_id).state()
        for n in range(100):
            state.post({"data": {"temperature": n}})
        for n in range(40):
            app.events().post({"subject": f"event {n}", "level": "info"})
        assert emu.limits["enabled"] is False


def test_429_body_is_losants(emu: Emulator) -> None:
    raw = Raw(emu)
    codes = [raw.state(emu.device_id, n).status_code for n in range(31)]
    assert codes == [200] * 30 + [429]
    refused = raw.state(emu.device_id, 0)
    assert refused.status_code == 429
    assert refused.json()["type"] == "TooManyRequests"
    assert set(refused.json()) == {"type", "message"}
    assert "Retry-After" not in refused.headers


def test_state_is_counted_per_device(emu: Emulator) -> None:
    raw = Raw(emu)
    other = emu.seed_devices(1)[0]
    assert [raw.state(emu.device_id, n).status_code for n in range(31)][-1] == 429
    # Another device has its own budget (Losant counts per device id).
    assert raw.state(other, 1).status_code == 200


def test_commands_and_state_are_separate_budgets(emu: Emulator) -> None:
    raw = Raw(emu)
    assert [raw.state(emu.device_id, n).status_code for n in range(31)][-1] == 429
    command = raw.post(f"/devices/{emu.device_id}/command", {"name": "reboot"})
    assert command.status_code == 200


def test_events_are_limited_per_application(emu: Emulator) -> None:
    raw = Raw(emu)
    codes = [raw.post("/events", {"subject": f"e{n}", "level": "info"}).status_code
             for n in range(16)]
    assert codes == [201] * 15 + [429]
    assert raw.get("/events").json()["count"] == 15


def test_a_window_frees_room_again() -> None:
    # 2 states per 60 s scaled to 3 s: three posts always land in one window, and once it
    # has passed there is room again.
    with Emulator(time_scale=0.05, throttles={"device state": {"calls": 2, "window": 60}},
                  ) as emu:
        raw = Raw(emu)
        codes = [raw.state(emu.device_id, n).status_code for n in range(3)]
        assert codes == [200, 200, 429]
        assert _until(lambda: raw.state(emu.device_id, 1).status_code == 200)
        assert emu.limits["throttles"]["device state"] == (2, 3.0)


def test_throttles_replace_or_drop_numbers() -> None:
    with Emulator(throttles={"device state": (5, 60.0), "events.post": None}) as emu:
        raw = Raw(emu)
        assert [raw.state(emu.device_id, n).status_code for n in range(6)] == [200] * 5 + [429]
        codes = {raw.post("/events", {"subject": f"e{n}", "level": "info"}).status_code
                 for n in range(20)}
        assert codes == {201}
        assert "event creation" not in emu.limits["throttles"]


def test_throttles_take_what_the_client_takes() -> None:
    # The forms of API(throttle=...): partial dicts, Throttle objects, a whole table.
    with Emulator(throttles={"device state": {"calls": 2}}) as emu:
        raw = Raw(emu)
        assert [raw.state(emu.device_id, n).status_code for n in range(3)] == [200, 200, 429]
        assert emu.limits["throttles"]["device state"] == (2, 15.0)
    state = next(t for t in limits.THROTTLES if t.name == "device state")
    custom = limits.Throttle("device state", state.endpoints, 1, 60.0, "deviceId", "test")
    with Emulator(throttles=[custom]) as emu:
        raw = Raw(emu)
        assert [raw.state(emu.device_id, n).status_code for n in range(2)] == [200, 429]
        codes = {raw.post("/events", {"subject": f"e{n}", "level": "info"}).status_code
                 for n in range(20)}
        assert codes == {201}  # the table holds only the state throttle
        assert list(emu.limits["throttles"]) == ["device state"]


def test_state_limit_still_sets_the_state_throttle() -> None:
    with Emulator(state_limit=3) as emu:
        raw = Raw(emu)
        assert [raw.state(emu.device_id, n).status_code for n in range(4)] == [200] * 3 + [429]


@pytest.mark.parametrize(
    ("options", "error", "named"),
    [
        ({"throttles": {"no such limit": (1, 1.0)}}, ValueError, "throttles"),
        ({"throttles": {"device state": (0, 1.0)}}, ValueError, "throttles"),
        ({"throttles": {"device state": 30}}, TypeError, "throttles"),
        ({"throttles": {"device state": {"cals": 3}}}, TypeError, "throttles"),
        ({"throttles": {"device state": {"window": -1}}}, ValueError, "throttles"),
        ({"throttles": ["device state"]}, TypeError, "throttles"),
        ({"throttles": "device state"}, TypeError, "throttles"),
        ({"time_scale": 0}, ValueError, "time_scale"),
        ({"time_scale": float("inf")}, ValueError, "time_scale"),
        ({"time_scale": "fast"}, TypeError, "time_scale"),
        ({"throttle": "off"}, TypeError, "throttle"),
        ({"time_series_answer_bytes": -1}, ValueError, "time_series_answer_bytes"),
        ({"data_table_rows_answer_bytes": 1.5}, TypeError, "data_table_rows_answer_bytes"),
        ({"job_seconds": 0}, ValueError, "job_seconds"),
    ],
)
def test_bad_options_are_refused_by_name(options: dict[str, Any], error: type[Exception],
                                         named: str) -> None:
    with pytest.raises(error, match=named):
        Emulator(**options)


def test_the_command_line_refuses_a_bad_time_scale(capsys: pytest.CaptureFixture[str]) -> None:
    from losant_fluent.testing.__main__ import main

    with pytest.raises(SystemExit) as exited:
        main(["--port", "0", "--time-scale", "0", "--no-throttle"])
    assert exited.value.code == 2
    assert "time_scale" in capsys.readouterr().err


def test_the_table_is_the_clients(emu: Emulator) -> None:
    # The emulator enforces losant_fluent.limits, the same numbers the client reads.
    described = Emulator(throttle=True).limits
    for throttle in limits.THROTTLES:
        assert described["throttles"][throttle.name] == (throttle.calls, throttle.window)
    assert described["time_series_answer_bytes"] == limits.TIME_SERIES_ANSWER_BYTES
    assert described["data_table_rows_answer_bytes"] == limits.DATA_TABLE_ROWS_ANSWER_BYTES
    assert described["device_ids_per_call"] == limits.DEVICE_IDS_PER_CALL


# -- one job at a time -----------------------------------------------------------------


def test_a_second_export_waits_for_the_first(emu: Emulator) -> None:
    raw = Raw(emu)
    first = raw.post("/data/export", {})
    assert first.status_code == 202
    second = raw.post("/data/export", {})
    assert second.status_code == 429 and second.json()["type"] == "TooManyRequests"
    assert first.json()["jobId"] in second.json()["message"]
    # Each kind runs one at a time on its own ("one concurrent call each").
    assert raw.post("/devices/export", {}).status_code == 202
    assert raw.post("/devices/export", {}).status_code == 429
    emu.finish_jobs()
    assert raw.post("/data/export", {}).status_code == 202


def test_device_exports_are_one_at_a_time_per_device(emu: Emulator) -> None:
    raw = Raw(emu)
    other = emu.seed_devices(1)[0]
    assert raw.post(f"/devices/{emu.device_id}/export", {}).status_code == 202
    assert raw.post(f"/devices/{emu.device_id}/export", {}).status_code == 429
    assert raw.post(f"/devices/{other}/export", {}).status_code == 202


def test_exports_run_side_by_side_with_throttle_off() -> None:
    with Emulator(throttle=False, job_seconds=3600) as emu:
        raw = Raw(emu)
        assert [raw.post("/data/export", {}).status_code for _ in range(3)] == [202] * 3


# -- answer caps -------------------------------------------------------------------------


def _fill_states(emu: Emulator, count: int) -> None:
    raw = Raw(emu)
    base = int(time.time() * 1000) - count * 1000
    states = [{"time": base + n * 1000, "data": {"temperature": n}} for n in range(count)]
    assert raw.post(f"/devices/{emu.device_id}/state", states).status_code == 200


def test_time_series_answer_over_the_cap_is_400() -> None:
    with Emulator(time_series_answer_bytes=4000) as emu:
        _fill_states(emu, 200)
        raw = Raw(emu)
        query = {"deviceIds": [emu.device_id], "aggregation": "NONE", "limit": 10000,
                 "start": -3_600_000}
        refused = raw.post("/data/time-series-query", query)
        assert refused.status_code == 400
        assert refused.json()["type"] == "Validation"
        assert "4000" in refused.json()["message"]
        small = raw.post("/data/time-series-query", {**query, "limit": 10})
        assert small.status_code == 200 and len(small.content) <= 4000


def test_data_table_rows_answer_over_the_cap_is_400() -> None:
    with Emulator(data_table_rows_answer_bytes=3000) as emu:
        raw = Raw(emu)
        table = raw.post("/data-tables", {"name": "readings", "columns": [
            {"name": "value", "dataType": "number", "constraint": "optional"}]}).json()
        rows = [{"value": n} for n in range(100)]
        assert raw.post(f"/data-tables/{table['id']}/rows", rows).status_code == 201
        refused = raw.get(f"/data-tables/{table['id']}/rows", params={"limit": 1000})
        assert refused.status_code == 400 and refused.json()["type"] == "Validation"
        queried = raw.post(f"/data-tables/{table['id']}/rows/query?limit=1000", {})
        assert queried.status_code == 400
        assert raw.get(f"/data-tables/{table['id']}/rows", params={"limit": 5}).status_code == 200


def test_no_cap_when_none() -> None:
    with Emulator(time_series_answer_bytes=None) as emu:
        _fill_states(emu, 200)
        answer = Raw(emu).post("/data/time-series-query", {
            "aggregation": "NONE", "limit": 10000, "start": -3_600_000})
        assert answer.status_code == 200 and len(answer.content) > 4000


def test_device_ids_over_1000_are_refused(emu: Emulator) -> None:
    raw = Raw(emu)
    ids = [emu.device_id] + ["0" * 23 + "1"] * 999
    assert raw.post("/data/time-series-query", {"deviceIds": ids}).status_code == 200
    refused = raw.post("/data/time-series-query", {"deviceIds": ids + [emu.device_id]})
    assert refused.status_code == 400 and refused.json()["type"] == "Validation"
    assert "1000" in refused.json()["message"] and "deviceIds" in refused.json()["message"]
