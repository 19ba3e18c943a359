"""Issue 21's "Done when", against the emulator with its limits on (windows shortened
through ``time_scale``), through the client, sync and async: a loop of state posts with
``max_retries=0`` raises nothing and takes the time the limit implies; a data export is
waited for and its CSV read back; a 2,500-device query equals its chunks concatenated; a
window over the answer cap is split with no point lost or repeated at the seams.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from losant_fluent import API, limits
from losant_fluent.models import TimeSeriesData
from losant_fluent.testing import Emulator

SCALE = 0.02                                    # Losant's 15 s windows become 0.3 s
WINDOW = 15.0 * SCALE
MARGIN = 0.25                                   # the limiter's own margin per window
#: The client told the same (shortened) windows as the emulator enforces.
THROTTLE = {t.name: {"window": t.window * SCALE} for t in limits.THROTTLES}
T0 = 1_767_225_600_000                          # 2026-01-01T00:00:00Z


@pytest.fixture(scope="module")
def shared() -> Iterator[Emulator]:
    with Emulator(time_scale=SCALE, time_series_answer_bytes=40_000) as emu:
        yield emu


@pytest.fixture
def emu(shared: Emulator) -> Emulator:
    shared.reset()
    return shared


def _api(emu: Emulator, **options: Any) -> API:
    return API(emu.url, emu.user_token(), max_retries=0, throttle=THROTTLE, **options)


def _async_api(emu: Emulator) -> Any:
    from losant_fluent import AsyncAPI

    return AsyncAPI(emu.url, emu.user_token(), max_retries=0, throttle=THROTTLE)


def _seed(emu: Emulator, device_id: str, moments: list[int]) -> None:
    with emu.store.lock:
        emu.store.states[device_id] = [(t, {"temperature": float(n)})
                                       for n, t in enumerate(moments)]


# -- 100 state posts -----------------------------------------------------------------------


def test_100_state_posts_with_no_retries_raise_nothing(emu: Emulator) -> None:
    state = _api(emu).applications(emu.application_id).devices(emu.device_id).state()
    started = time.monotonic()
    for n in range(100):
        state.post({"data": {"temperature": n}})
    elapsed = time.monotonic() - started
    with emu.store.lock:
        assert len(emu.store.states[emu.device_id]) == 100
    # 30 per window: the 31st, 61st and 91st wait a window each, and no more than that
    assert 3 * WINDOW <= elapsed < 3 * (WINDOW + MARGIN) + 10


def test_100_concurrent_async_state_posts_raise_nothing(emu: Emulator) -> None:
    async def main() -> float:
        async with _async_api(emu) as api:
            state = api.applications(emu.application_id).devices(emu.device_id).state()
            started = time.monotonic()
            await asyncio.gather(*(state.post({"data": {"temperature": n}})
                                   for n in range(100)))
            return time.monotonic() - started

    elapsed = asyncio.run(main())
    with emu.store.lock:
        assert len(emu.store.states[emu.device_id]) == 100
    assert 3 * WINDOW <= elapsed < 3 * (WINDOW + MARGIN) + 10


# -- a data export, waited for and read back ----------------------------------------------


def _export_states(emu: Emulator) -> None:
    now = int(time.time() * 1000)
    with emu.store.lock:
        emu.store.states[emu.device_id] = [(now - 60_000 + n * 1000, {"temperature": v})
                                           for n, v in enumerate([20.5, 21.0, 22.25])]


def _check_csv(paths: list[Path]) -> None:
    assert len(paths) == 1 and paths[0].suffix == ".csv"
    frame = pd.read_csv(paths[0])
    assert sorted(frame["temperature"]) == [20.5, 21.0, 22.25]


def test_a_data_export_is_waited_for_and_its_csv_read_back(emu: Emulator,
                                                            tmp_path: Path) -> None:
    _export_states(emu)
    app = _api(emu).applications(emu.application_id)
    job = app.data().export().post({"deviceIds": [emu.device_id],
                                    "attributes": ["temperature"]})
    log = job.wait(timeout=60)
    assert log.status == "completed" and log.progress.completed == log.progress.total
    _check_csv(job.download(tmp_path, timeout=60))


def test_an_async_data_export_is_awaited_and_its_csv_read_back(emu: Emulator,
                                                               tmp_path: Path) -> None:
    _export_states(emu)

    async def main() -> list[Path]:
        async with _async_api(emu) as api:
            job = await api.applications(emu.application_id).data().export().post(
                {"deviceIds": [emu.device_id], "attributes": ["temperature"]})
            log = await job.await_(timeout=60)
            assert log.status == "completed"
            paths: list[Path] = await job.adownload(tmp_path, timeout=60)
            return paths

    _check_csv(asyncio.run(main()))


def test_a_failed_export_raises_with_its_job_log(emu: Emulator) -> None:
    from losant_fluent import JobFailedError

    emu.fail_next_job()
    job = _api(emu).applications(emu.application_id).data().export().post(
        {"deviceIds": [emu.device_id]})
    with pytest.raises(JobFailedError) as raised:
        job.wait(timeout=60)
    assert raised.value.job_log.status in ("errored", "failed")


# -- 2,500 devices, and windows over the answer cap --------------------------------------


def _query(ids: list[str], **extra: Any) -> dict[str, Any]:
    return {"deviceIds": ids, "start": T0, "end": T0 + 3_600_000, "aggregation": "NONE",
            "attributes": ["temperature"], **extra}


def test_2500_devices_equal_their_chunks_concatenated(emu: Emulator) -> None:
    ids = emu.seed_devices(2500)
    for n, device_id in enumerate(ids):
        _seed(emu, device_id, [T0 + n % 7 * 1000])
    data = _api(emu).applications(emu.application_id).data().time_series_query()
    whole = data.post(_query(ids))
    chunks = pd.concat([data.post(_query(ids[at:at + 1000])).to_pandas()
                        for at in range(0, 2500, 1000)], ignore_index=True)
    assert isinstance(whole, TimeSeriesData) and len(chunks) == 2500
    pd.testing.assert_frame_equal(whole.to_pandas().reset_index(drop=True), chunks)

    async def main() -> Any:
        async with _async_api(emu) as api:
            return await api.applications(emu.application_id).data().time_series_query(
                ).post(_query(ids))

    pd.testing.assert_frame_equal(asyncio.run(main()).to_pandas().reset_index(drop=True),
                                  chunks)


def test_a_window_over_the_answer_cap_is_split_with_no_seam_loss(emu: Emulator) -> None:
    moments = [T0 + n * 1000 for n in range(2000)]          # ~100 kB of raw points
    _seed(emu, emu.device_id, moments)
    data = _api(emu).applications(emu.application_id).data().time_series_query()
    body = _query([emu.device_id], end=T0 + 1_999_000, limit=10_000)
    answer = data.post(body)
    frame = answer.to_pandas()
    assert list(frame["value"]) == [float(n) for n in range(2000)]          # all, once each
    # aggregated: buckets of 10 s, each holding 10 points, none cut at a seam
    counts = data.post({**body, "aggregation": "COUNT", "resolution": 10_000})
    assert [p.data["temperature"] for p in counts.devices[emu.device_id].points] == [10] * 200

    async def main() -> Any:
        async with _async_api(emu) as api:
            return await api.applications(emu.application_id).data().time_series_query(
                ).post(body)

    assert list(asyncio.run(main()).to_pandas()["value"]) == [float(n) for n in range(2000)]
