"""Dask and Parquet: rows/s of ``to_pandas()`` vs ``to_dask().compute()``, and the memory
held while ``to_parquet()`` writes a long result.

    python benchmarks/bench_dask.py [--devices 1000] [--points 100] [--workers 1,2,4]
                                    [--rows 1000000] [--parts speed,memory]

speed
    An emulator (``losant_fluent.testing``, in this process, 127.0.0.1) with ``--devices``
    devices holding ``--points`` raw readings each. The result is the raw time-series query
    of them all (``aggregation: NONE``). Printed: rows/s of ``to_pandas()`` (one client, one
    process), then ``to_dask().compute()`` (about 8 partitions: chunks of devices) on a
    ``LocalCluster`` of 1, 2 and 4 worker processes, each as a ratio to ``to_pandas()``.
    The emulator serves every request from this one process, so it bounds what more
    workers can gain.
memory
    ``to_parquet()`` of ``--rows`` rows and of a tenth of them from a synthetic server (the
    answers are made up per window, so the server holds nothing), each in a fresh process:
    peak Python allocations (tracemalloc) and peak RSS. Flat means the larger run's peaks
    stay close to the smaller's: one partition in memory at a time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
MINUTE = 60_000
CHILD_TIMEOUT = 900  # seconds; every run is bounded
PARTITIONS = 8  # the same work for every cluster size: about this many partitions


def _warm() -> None:
    import pandas  # noqa: F401

    import losant_fluent.dask  # noqa: F401
    import losant_fluent.models  # noqa: F401


def _speed(devices: int, points: int, workers: list[int]) -> None:
    from distributed import Client, LocalCluster

    from losant_fluent import API
    from losant_fluent.testing import Emulator

    with Emulator(extra_devices=devices - 1) as emu:
        token = API(url=emu.url).auth().user().post(
            {"email": emu.user_email, "password": emu.user_password}).token
        api = API(url=emu.url, token=token)
        app = api.applications(emu.application_id)
        ids = [d["id"] for d in app.devices().get(perPage=1000).iter_items(raw=True)]
        now = (int(time.time() * 1000) // MINUTE) * MINUTE
        for n, device_id in enumerate(ids):
            app.devices(device_id).state().post([
                {"time": now - k * MINUTE, "data": {"temperature": n + k / 10}}
                for k in range(points)])
        body = {"deviceIds": ids, "start": now - points * MINUTE, "end": now,
                "aggregation": "NONE", "limit": 10_000}
        app.data().time_series_query().post(body).to_pandas()  # imports and caches warm
        started = time.perf_counter()
        result = app.data().time_series_query().post(body)
        frame = result.to_pandas()
        base = len(frame) / (time.perf_counter() - started)
        print(f"speed: {len(frame):,} rows ({devices:,} devices x {points} readings)")
        print(f"  {'to_pandas()':<34}{base:>12,.0f} rows/s   1.00x")
        for count in workers:
            with LocalCluster(n_workers=count, threads_per_worker=1, processes=True,
                              dashboard_address=":0", env={"LOSANT_API_TOKEN": token},
                              silence_logs=50) as cluster, Client(cluster) as client:
                # Once untimed, as for to_pandas(): every worker has imported the package
                # and built the models it reads before the clock starts. Other partitions
                # (so other task keys): the cluster must not hand back results it holds.
                client.run(_warm)
                warm = result.to_dask(partition_rows=max(1, len(frame) // (2 * PARTITIONS)))
                client.compute(warm).result()
                del warm
                frame_of = result.to_dask(partition_rows=max(1, len(frame) // PARTITIONS))
                started = time.perf_counter()
                rows = len(client.compute(frame_of).result())
                rate = rows / (time.perf_counter() - started)
            label = f"to_dask().compute(), {count} worker{'s' if count > 1 else ''}"
            print(f"  {label:<34}{rate:>12,.0f} rows/s {rate / base:>6.2f}x")


def _write(rows: int, partition_rows: int = 20_000) -> dict[str, Any]:
    """In a fresh process: write ``rows`` synthetic rows as Parquet in partitions of
    ``partition_rows``, report the peaks."""
    import tracemalloc

    import pyarrow.parquet as pq
    from dask_server import APP_ID, SyntheticLosant

    from losant_fluent import API
    from losant_fluent.dask import Partition, Plan, plan, to_parquet

    step, begin, devices = 1000, 1_700_000_000_000, [f"{n:024x}" for n in range(100)]

    def token() -> str:
        return "bench-token"

    with SyntheticLosant(step=step) as server, tempfile.TemporaryDirectory() as folder:
        api = API(url=server.url, token=token())
        # The first second of the window stands for the query; the plan covers it all.
        first = api.applications(APP_ID).data().time_series_query().post({
            "deviceIds": devices, "start": begin, "end": begin + step - 1,
            "aggregation": "NONE"})
        whole = plan(first)
        request = whole.partitions[0].requests[0]
        end = begin + (rows // len(devices)) * step - 1
        # The same partitions over the long window, 20,000 rows each (asking the whole
        # window first would hold it all in this process, which is what is measured).
        width = max(1, partition_rows // len(devices)) * step
        parts = tuple(
            Partition(whole.partitions[0].url, "TimeSeriesData", (replace(
                request, body={**request.body, "start": at, "end": min(end, at + width - 1)}),),
                plan="bench", index=n)
            for n, at in enumerate(range(begin, end + 1, width)))
        tracemalloc.start()
        started = time.perf_counter()
        files = to_parquet(Plan(parts, whole.meta, "bench"), folder, credentials=token)
        seconds = time.perf_counter() - started
        # Read, not stopped: stopping while other threads free memory can crash Python
        # before 3.12.9 (the process ends right after printing instead).
        peak = tracemalloc.get_traced_memory()[1]
        rss = _peak_rss()
        written = sum(pq.read_metadata(f).num_rows for f in files)  # rows in the files
    return {"rows": written, "files": len(files), "peak": peak, "rss": rss, "seconds": seconds}


def _peak_rss() -> int:
    """This process's peak resident memory in bytes. On Linux from ``VmHWM``: ``ru_maxrss``
    carries the parent's peak across fork and exec, so a child would report its parent's."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _memory(rows: int) -> None:
    print(f"memory: to_parquet() of {rows // 10:,} and {rows:,} rows, 20,000 a partition")
    for count in (rows // 10, rows):
        done = subprocess.run([sys.executable, __file__, "--child-write", str(count)],
                              capture_output=True, text=True, timeout=CHILD_TIMEOUT, check=True)
        got = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"  {got['rows']:>10,} rows  {got['files']:>4} files  "
              f"peak {got['peak'] / 2**20:7.1f} MiB  rss {got['rss'] / 2**20:7.1f} MiB  "
              f"{got['rows'] / got['seconds']:>10,.0f} rows/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--points", type=int, default=100)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--parts", default="speed,memory")
    parser.add_argument("--child-write", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-partition", type=int, default=20_000, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_write:
        print(json.dumps(_write(args.child_write, args.child_partition)), flush=True)
        os._exit(0)
    parts = args.parts.split(",")
    if "speed" in parts:
        _speed(args.devices, args.points, [int(n) for n in args.workers.split(",")])
    if "memory" in parts:
        _memory(args.rows)


if __name__ == "__main__":
    main()
