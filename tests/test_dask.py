"""Dask DataFrames and Parquet from results (losant_fluent.dask), against real HTTP servers.

One emulator with 1,100 devices, states on a few of them and a data table serves the whole
module; ``to_dask().compute()`` must equal ``to_pandas()`` on the local schedulers and on
one two-process ``LocalCluster`` whose workers reach the emulator by URL and read their
token from their environment. A synthetic server (``dask_server.py``) counts concurrent
requests and makes big answers for the Parquet memory check.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("dask.dataframe")
pytest.importorskip("distributed")
pytest.importorskip("pyarrow")

import cloudpickle  # noqa: E402
import pandas as pd  # noqa: E402

from losant_fluent import API  # noqa: E402
from losant_fluent.dask import FromEnv, Plan, fetch_partition, plan  # noqa: E402
from losant_fluent.limits import DEVICE_IDS_PER_CALL  # noqa: E402
from losant_fluent.testing import Emulator  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
from dask_server import APP_ID, SyntheticLosant  # noqa: E402

MINUTE = 60_000
DEVICES = 1100  # more than one chunk of device ids


class World:
    """What the module's emulator holds, and a client logged in to it."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.token = API(url=emu.url).auth().user().post(
            {"email": emu.user_email, "password": emu.user_password}).token
        self.api = API(url=emu.url, token=self.token)
        self.app = self.api.applications(emu.application_id)
        # Whole minutes, so windows of whole resolutions line up with the readings.
        self.now = (int(time.time() * 1000) // MINUTE) * MINUTE
        ids = [d["id"] for d in self.app.devices().get(perPage=1000, sortField="name")
               .iter_items(raw=True)]
        self.readers = ids[:6]
        for n, device_id in enumerate(self.readers):
            # Numbers, and on one device a text attribute too.
            self.app.devices(device_id).state().post([
                {"time": self.now - k * MINUTE,
                 "data": {"temperature": 20 + n + k / 10, "humidity": 40 + k,
                          **({"mode": "eco" if k % 2 else "max"} if n == 0 else {})}}
                for k in range(90)])
        table = self.app.data_tables().post({"name": "readings", "columns": [
            {"name": "level", "dataType": "number", "constraint": "optional"},
            {"name": "label", "dataType": "string", "constraint": "optional"}]})
        self.rows = self.app.data_tables(table.id).rows()
        self.rows.post([{"level": i, "label": f"row {i}"} for i in range(250)])

    def series(self, start: int, end: int, **extra: Any) -> Any:
        return self.app.data().time_series_query().post({
            "deviceTags": [{"key": "group"}], "start": start, "end": end,
            "resolution": 5 * MINUTE, "aggregation": "MEAN", **extra})


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with Emulator(extra_devices=DEVICES) as emu:
        yield World(emu)


@pytest.fixture(scope="module")
def cluster(world: World) -> Iterator[Any]:
    """Two worker processes, one thread each; their token comes from their environment."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
        env={"LOSANT_API_TOKEN": world.token}, silence_logs=40,
    ) as local, distributed.Client(local) as client:
        yield client


@pytest.fixture
def token_in_env(world: World, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("LOSANT_API_TOKEN", world.token)
    monkeypatch.delenv("LOSANT_API_URL", raising=False)
    return world.token


def _results(world: World) -> dict[str, Any]:
    return {
        "devices": world.app.devices().get(perPage=100, sortField="name"),
        # Bracket-form query parameters: asked again as the same raw query.
        "tagged devices": world.app.devices().get(
            perPage=100, tagFilter=[{"key": "group", "value": "even"}]),
        "rows": world.rows.get(limit=40),
        "rows query": world.rows.query().post({"level": {"$lt": 100}}, limit=30),
        "time series": world.series(world.now - 2 * 60 * MINUTE, world.now),
        "raw points": world.series(world.now - 30 * MINUTE, world.now, aggregation="NONE",
                                   deviceTags=[], deviceIds=world.readers),
        "state history": world.app.devices(world.readers[0]).state().get(
            limit=100, start=world.now - 60 * MINUTE, end=world.now),
    }


KINDS = ["devices", "tagged devices", "rows", "rows query", "time series", "raw points",
         "state history"]


def _same(got: Any, want: Any, kind: str) -> None:
    got = got.reset_index(drop=True)
    if kind in ("time series", "raw points"):
        # Partitions are device chunks times windows: each device's points keep the API's
        # order (time), devices come chunk by chunk.
        got = got.sort_values("device_id", kind="stable").reset_index(drop=True)
        want = want.sort_values("device_id", kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want)


# -- plans ----------------------------------------------------------------------------------


def test_a_plan_is_small_picklable_specs_with_the_columns_of_to_pandas(world: World) -> None:
    results = _results(world)
    devices = plan(results["devices"])
    assert isinstance(devices, Plan) and len(devices) == 12  # 1,101 devices, 100 a page
    assert [dict(p.requests[0].query)["page"] for p in devices.partitions] == [
        str(n) for n in range(12)]
    full = results["devices"].to_pandas()
    assert list(devices.meta.columns) == list(full.columns)
    assert devices.meta.dtypes.equals(full.dtypes) and len(devices.meta) == 0
    for part in devices.partitions:
        assert len(pickle.dumps(part)) < 2000
        assert pickle.loads(pickle.dumps(part)) == part
    rows = plan(results["rows"], partition_rows=80)  # 250 rows, 40 a page, 2 pages a part
    assert [[dict(r.query)["offset"] for r in p.requests] for p in rows.partitions] == [
        ["0", "40"], ["80", "120"], ["160", "200"], ["240"]]


def test_time_series_partitions_respect_the_device_cap_and_whole_resolutions(
        world: World) -> None:
    result = world.series(world.now - 2 * 60 * MINUTE, world.now)
    assert len(result.raw_json()["devices"]) == DEVICES
    bodies = [p.requests[0].body for p in plan(result).partitions]
    assert [len(b["deviceIds"]) for b in bodies] == [DEVICE_IDS_PER_CALL, 100]
    assert "deviceTags" not in bodies[0]
    assert {(b["start"], b["end"]) for b in bodies} == {
        (world.now - 2 * 60 * MINUTE, world.now)}  # frozen: the answer's own window
    # Fewer rows a partition: smaller chunks first, then windows for the busy devices.
    readers = world.series(world.now - 2 * 60 * MINUTE, world.now, deviceTags=[],
                           deviceIds=world.readers)
    rows = len(readers.to_pandas())
    small = [p.requests[0].body for p in plan(readers, partition_rows=10).partitions]
    assert all(len(b["deviceIds"]) == 1 for b in small)
    for device_id in world.readers:
        windows = [(b["start"], b["end"]) for b in small if b["deviceIds"] == [device_id]]
        assert len(windows) >= rows // len(world.readers) // 10
        assert windows[0][0] == world.now - 2 * 60 * MINUTE and windows[-1][1] == world.now
        # Adjacent, in time order, cut on multiples of the resolution.
        for (_, end), (start, _) in zip(windows, windows[1:], strict=False):
            assert start == end + 1 and start % (5 * MINUTE) == 0


# -- to_dask equals to_pandas ----------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_to_dask_computes_to_pandas_on_the_local_scheduler(
        world: World, token_in_env: str, kind: str) -> None:
    result = _results(world)[kind]
    want = result.to_pandas()
    frame = result.to_dask(partition_rows=50)
    assert frame.npartitions > 1
    assert list(frame.columns) == list(want.columns)
    assert frame.dtypes.equals(want.dtypes)
    _same(frame.compute(scheduler="threads"), want, kind)


def test_an_api_serves_as_credentials_in_this_process_and_is_never_pickled(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOSANT_API_TOKEN", raising=False)
    result = world.rows.get(limit=100)
    frame = result.to_dask(credentials=world.api)
    _same(frame.compute(scheduler="sync"), result.to_pandas(), "rows")
    with pytest.raises(TypeError, match="works only where the graph stays in this process"):
        cloudpickle.dumps(frame.__dask_graph__())


def test_a_worker_without_credentials_says_what_to_set(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOSANT_API_TOKEN", raising=False)
    the_plan = plan(world.rows.get(limit=100))
    with pytest.raises(RuntimeError, match="set the environment variable LOSANT_API_TOKEN"):
        fetch_partition(the_plan.partitions[0], FromEnv(), None, the_plan.meta)


@pytest.mark.parametrize("kind", KINDS)
def test_to_dask_computes_to_pandas_on_a_two_process_cluster(
        world: World, cluster: Any, kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOSANT_API_TOKEN", raising=False)  # only the workers have it
    result = _results(world)[kind]
    want = result.to_pandas()
    frame = result.to_dask(partition_rows=50, concurrency=2)
    got = cluster.compute(frame).result(timeout=120)
    _same(got, want, kind)
    if kind == "devices":  # the work really ran in both worker processes
        pids = cluster.run(os.getpid)
        assert len(set(pids.values())) == 2 and os.getpid() not in pids.values()


def test_the_pickled_graph_holds_no_secret(world: World) -> None:
    secrets = [world.token, world.emu.user_password]
    for result in _results(world).values():
        frame = result.to_dask(partition_rows=50)
        blob = cloudpickle.dumps(frame.__dask_graph__()) + cloudpickle.dumps(frame)
        assert b"LOSANT_API_TOKEN" in blob  # the variable's name travels...
        for secret in secrets:
            assert secret.encode() not in blob  # ...never its value
    # A callable source travels by name; what it returns is made on the worker.
    blob = cloudpickle.dumps(world.rows.get().to_dask(credentials=os.getcwd)
                             .__dask_graph__())
    assert world.token.encode() not in blob


# -- concurrency -------------------------------------------------------------------------------


def _token() -> str:
    return "synthetic-token"


@pytest.mark.parametrize(("bound", "expect_at_most"), [(2, 2), (None, None)])
def test_concurrency_is_bounded_by_its_argument(bound: int | None,
                                                expect_at_most: int | None) -> None:
    with SyntheticLosant(total=800, delay=0.25) as server:
        api = API(url=server.url, token=_token())
        first = api.applications(APP_ID).devices().get(perPage=100)
        frame = first.to_dask(credentials=_token, concurrency=bound)
        assert frame.npartitions == 8
        server.requests = server.max_in_flight = 0
        got = frame.compute(scheduler="threads", num_workers=8)
        assert len(got) == 800 and server.requests == 8
        assert server.authorizations == {"Bearer synthetic-token"}
        if expect_at_most is not None:
            assert server.max_in_flight <= expect_at_most
        else:  # the control: without a bound the 8 threads do overlap
            assert server.max_in_flight > 2


def test_concurrency_is_bounded_across_the_cluster(cluster: Any) -> None:
    with SyntheticLosant(total=600, delay=0.2) as server:
        api = API(url=server.url, token=_token())
        first = api.applications(APP_ID).devices().get(perPage=100)
        frame = first.to_dask(concurrency=1)  # workers' LOSANT_API_TOKEN
        server.requests = server.max_in_flight = 0
        got = cluster.compute(frame).result(timeout=120)
        assert len(got) == 600 and server.requests == 6 and server.max_in_flight == 1


# -- Parquet -----------------------------------------------------------------------------------


def test_parquet_of_two_adjacent_windows_reads_back_as_the_whole_range(
        world: World, token_in_env: str, tmp_path: Path) -> None:
    # Two windows meeting on a bucket's edge: each bucket lies wholly in one of them.
    middle = world.now - world.now % (5 * MINUTE) - 30 * MINUTE
    start, end = world.now - 3 * 60 * MINUTE, world.now
    lake = tmp_path / "lake"
    first = world.series(start, middle - 1, deviceTags=[], deviceIds=world.readers)
    files_first = first.to_parquet(lake, partition_rows=20)
    assert files_first and all("date=" in f for f in files_first)
    before = {f: Path(f).stat().st_mtime_ns for f in files_first}
    later = world.series(middle, end, deviceTags=[], deviceIds=world.readers)
    files_later = later.to_parquet(lake)
    assert not set(files_first) & set(files_later)
    assert {f: Path(f).stat().st_mtime_ns for f in files_first} == before  # not rewritten
    whole = world.series(start, end, deviceTags=[], deviceIds=world.readers).to_pandas()
    back = pd.read_parquet(lake)
    assert set(back["date"].astype(str)) == set(whole["time"].dt.strftime("%Y-%m-%d"))
    back = back.drop(columns="date")
    order = ["device_id", "time", "attribute"]
    back = back.sort_values(order).reset_index(drop=True)
    whole = whole.sort_values(order).reset_index(drop=True)
    assert len(back) == len(whole) > 0
    pd.testing.assert_frame_equal(back, whole, check_dtype=False)
    assert back["time"].dt.tz is not None and back["value"].dtype == whole["value"].dtype


def test_parquet_partitioned_on_a_column(world: World, token_in_env: str,
                                         tmp_path: Path) -> None:
    result = world.app.devices().get(perPage=200)
    result.to_parquet(tmp_path / "devices", partition_on="deviceClass")
    folders = {p.name for p in (tmp_path / "devices").iterdir()}
    assert folders == {"deviceClass=standalone"}
    back = pd.read_parquet(tmp_path / "devices")
    assert sorted(back["id"]) == sorted(result.to_pandas()["id"])
    # Data table rows have no ``time``: their days come from ``createdAt``.
    rows = world.rows.get(limit=100)
    rows.to_parquet(tmp_path / "rows")
    created = rows.to_pandas()["createdAt"].dt.strftime("%Y-%m-%d")
    assert {p.name for p in (tmp_path / "rows").iterdir()} == {f"date={d}" for d in created}
    assert len(pd.read_parquet(tmp_path / "rows")) == 250


def _peak_writing(rows: int) -> tuple[int, int]:
    """Peak traced memory while ``to_parquet()`` writes ``rows`` synthetic text readings in
    1,000-row partitions, and the rows written: measured in a fresh process by the
    benchmark's own child (tracemalloc in this one would also count the test's threads)."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_dask.py"), "--child-write",
         str(rows), "--child-partition", "1000"],
        capture_output=True, text=True, timeout=300, check=True)
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["files"] >= rows // 1000
    return got["peak"], got["rows"]


def test_parquet_memory_stays_flat_as_the_rows_grow() -> None:
    small_peak, small = _peak_writing(10_000)
    big_peak, big = _peak_writing(30_000)
    assert (small, big) == (10_000, 30_000)
    # Three times the rows, about the same peak: one partition (1,000 rows) at a time.
    # (Keeping every partition's frame instead measured 1.9 times the peak.)
    assert big_peak < small_peak * 1.5, (small_peak, big_peak)


# -- bad input and missing extras --------------------------------------------------------------


def test_bad_arguments_are_refused_before_anything_is_sent(world: World,
                                                           tmp_path: Path) -> None:
    result = world.rows.get(limit=100)
    with pytest.raises(ValueError, match="partition_rows"):
        result.to_dask(partition_rows=0)
    with pytest.raises(ValueError, match="concurrency"):
        result.to_dask(concurrency=0)
    with pytest.raises(TypeError, match="meta must be a pandas DataFrame"):
        result.to_dask(meta={"id": "str"})
    with pytest.raises(TypeError, match="credentials must not be a token"):
        result.to_dask(credentials=world.token)
    with pytest.raises(ValueError, match="partition_on 'nope' is not a column"):
        result.to_parquet(tmp_path, partition_on="nope")
    with pytest.raises(TypeError, match="LastValueData has no partition plan"):
        world.app.data().last_value_query().post({"deviceIds": world.readers}).to_dask()
    built = type(result).model_validate({"items": [], "count": 0})
    with pytest.raises(TypeError, match="not read from the API"):
        built.to_dask()
    with pytest.raises(TypeError, match="Device"):
        plan(world.app.devices(world.readers[0]).get())


@pytest.mark.parametrize(("blocked", "call", "extra"), [
    ("dask", "rows.to_dask()", "dask"), ("pyarrow", "rows.to_parquet('lake')", "parquet")])
def test_a_missing_extra_names_it(blocked: str, call: str, extra: str) -> None:
    script = (
        f"import sys; sys.modules[{blocked!r}] = None\n"  # as if it were not installed
        "from losant_fluent.models import DataTableRows\n"
        "rows = DataTableRows.model_validate({'items': [], 'count': 0})\n"
        f"try:\n    {call}\n"
        "except ImportError as exc:\n    print(exc.name, exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, check=True)
    what = "to_dask()" if extra == "dask" else "to_parquet()"
    assert done.stdout.strip() == (
        f"{blocked} {what} needs {blocked}, which is not installed: "
        f"pip install 'losant-fluent[{extra}]'")


def test_a_failed_partition_raises_the_clients_error_on_every_scheduler(
        world: World, cluster: Any, token_in_env: str) -> None:
    from losant_fluent import NotFoundError

    table = world.app.data_tables().post({"name": "short-lived", "columns": [
        {"name": "level", "dataType": "number", "constraint": "optional"}]})
    rows = world.app.data_tables(table.id).rows()
    rows.post([{"level": i} for i in range(30)])
    frame = rows.get(limit=10).to_dask()
    world.app.data_tables(table.id).delete()
    with pytest.raises(NotFoundError) as local:
        frame.compute(scheduler="sync")
    assert local.value.status == 404
    with pytest.raises(NotFoundError) as remote:  # raised on a worker, pickled back
        cluster.compute(frame).result(timeout=120)
    assert remote.value.status == 404
    assert world.token not in repr(remote.value) + str(remote.value)


def test_results_of_the_async_client_plan_the_same(world: World, token_in_env: str) -> None:
    import asyncio

    from losant_fluent import AsyncAPI

    window = {"deviceIds": world.readers, "start": world.now - 60 * MINUTE,
              "end": world.now, "resolution": 5 * MINUTE, "aggregation": "MEAN",
              "attributes": ["temperature"]}

    async def fetch() -> tuple[Any, Any]:
        async with AsyncAPI(url=world.emu.url, token=world.token) as api:
            app = api.applications(world.emu.application_id)
            devices = await app.devices().get(perPage=100, sortField="name")
            series = await app.data().time_series_query().post(window)
            return devices, series

    devices, series = asyncio.run(fetch())
    want = world.app.devices().get(perPage=100, sortField="name").to_pandas()
    _same(devices.to_dask().compute(scheduler="sync"), want, "devices")
    # The answer alone tells the query (the async answer keeps no request body).
    want = world.app.data().time_series_query().post(window).to_pandas()
    assert len(want) > 0
    frame = series.to_dask(partition_rows=10)
    assert frame.npartitions > 1
    _same(frame.compute(scheduler="sync"), want, "time series")
