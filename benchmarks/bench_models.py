"""Benchmark import time and response parsing of losant_fluent.models.

Run from the repository root: ``python benchmarks/bench_models.py`` (``--quick``: each
figure measured once or twice, for a smoke run). Prints:

* import times (fresh interpreter each run, median of 7): ``import requests`` alone,
  ``import losant_fluent`` and ``from losant_fluent.models import Device``; importing every
  model (median of 3) and its peak RSS;
* the per-call cost of reading a ``devices`` page of 1,000 items built from the
  ``device`` example: ``json.loads`` alone, ``parse_response`` alone, and both; also how
  long the lenient fallback takes when one item in the page does not match its schema;
* the path responses take: ``parse_response_json`` from the bytes, nested objects left for
  first read (what every response gets) and built at once (``eager=True``, what a walk
  whose loop reads them gets), and ``_values.loads`` (the parser of raw bodies);
* ``to_pandas()`` of a time series (30,000 values; the answer parsed first, as a call does)
  beside a hand-written loop over ``json.loads`` of the same body making the same frame,
  and their ratio (the target: 1.00x or less).
"""

from __future__ import annotations

import copy
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "reference" / "examples.json"
RUNS = 7
REPEAT = 15  # calls per in-process measure
# The time-series target: to_pandas() at or below the hand-written loop (1.00x or less).
RATIO = "  to_pandas / hand-written loop"


def import_time_and_rss(statement: str, runs: int) -> tuple[float | None, float | None]:
    """Median wall time (ms) and peak RSS (MB) of a fresh interpreter running ``statement``."""
    code = (
        "import time, resource; t = time.perf_counter(); "
        f"{statement}; "
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-c", statement], cwd=REPO, env=env, capture_output=True)
    times, peaks = [], []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True
        )
        if done.returncode != 0:
            return None, None
        seconds, kib = done.stdout.split()
        times.append(float(seconds) * 1000)
        peaks.append(int(kib) / 1024)
    return statistics.median(times), max(peaks)


def import_time(statement: str, runs: int | None = None) -> float | None:
    """Median wall time, in ms, of running ``statement`` in a fresh interpreter."""
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    # As after ``pip install``, which compiles bytecode: allow .pyc files and write them
    # once before measuring (this matters: _resources.py is large to compile).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-c", statement], cwd=REPO, env=env, capture_output=True)
    samples = []
    for _ in range(runs or RUNS):
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True
        )
        if done.returncode != 0:
            return None
        samples.append(float(done.stdout.strip()) * 1000)
    return statistics.median(samples)


def per_call(func: Callable[[], object], repeat: int | None = None) -> float:
    """Median wall time, in ms, of one call of ``func``."""
    func()  # warm caches (model import, schema build)
    samples = []
    for _ in range(min(repeat or REPEAT, REPEAT)):
        start = time.perf_counter()
        func()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def devices_page(count: int) -> dict[str, Any]:
    """A realistic ``devices`` page: the ``device`` example with varied ids and names."""
    device = json.loads(EXAMPLES.read_text(encoding="utf-8"))["device"]
    items = []
    for index in range(count):
        item = copy.deepcopy(device)
        item["id"] = item["deviceId"] = f"{index:024x}"
        item["name"] = f"Device {index}"
        items.append(item)
    return {"items": items, "count": count, "totalCount": count, "perPage": count, "page": 0}


def time_series_body(devices: int = 20, points: int = 500) -> bytes:
    """A ``timeSeriesData`` answer: ``devices`` devices of ``points`` points, 3 attributes."""
    document = {
        "start": "2026-01-01T00:00:00.000Z", "end": "2026-01-02T00:00:00.000Z",
        "resolution": 60000, "aggregation": "MEAN", "limit": points, "order": "asc",
        "devices": {
            f"{d:024x}": {"name": f"device-{d}", "tags": {}, "points": [
                {"time": f"2026-01-01T{p // 60 % 24:02d}:{p % 60:02d}:00.000Z",
                 "data": {"temperature": 20.5 + p % 7, "humidity": 40 + p % 3, "ok": 1}}
                for p in range(points)]}
            for d in range(devices)},
    }
    return json.dumps(document).encode()


def time_series_rows() -> list[tuple[str, float | None]]:
    """``to_pandas()`` of a time series (answer parsed first, as a call does) beside a
    hand-written loop over ``json.loads`` of the same body making the same frame."""
    import pandas as pd
    import requests

    from losant_fluent._data import to_pandas
    from losant_fluent.models._registry import parse_response_json

    content = time_series_body()

    def fluent() -> object:
        response = requests.Response()
        response._content, response.status_code = content, 200
        return to_pandas(parse_response_json("timeSeriesData", content, response))

    def by_hand() -> object:
        raw = json.loads(content)
        rows: dict[str, list[Any]] = {k: [] for k in ("time", "device_id", "device_name",
                                                      "attribute", "value")}
        for device_id, device in raw["devices"].items():
            for point in device["points"]:
                for attribute, value in point["data"].items():
                    rows["time"].append(point["time"])
                    rows["device_id"].append(device_id)
                    rows["device_name"].append(device["name"])
                    rows["attribute"].append(attribute)
                    rows["value"].append(float(value))
        frame = pd.DataFrame(rows)
        frame["time"] = pd.to_datetime(frame["time"], utc=True, format="ISO8601")
        return frame

    points = 20 * 500 * 3
    ours, theirs = per_call(fluent), per_call(by_hand)
    return [
        (f"to_pandas, time series ({points:,} values)", ours),
        (f"hand-written loop, time series ({points:,})", theirs),
        (RATIO, ours / theirs),
    ]


def main() -> None:
    """Measure and print the figures as a small table (``--quick``: fewer repeats)."""
    global RUNS, REPEAT
    quick = "--quick" in sys.argv[1:]
    if quick:  # a smoke run (tests/test_benchmarks.py): every figure, measured once or twice
        RUNS, REPEAT = 1, 2
    sys.path.insert(0, str(REPO))
    from losant_fluent.models._registry import parse_response

    rows: list[tuple[str, float | None]] = []
    rows.append(("import requests", import_time("import requests")))
    package = import_time("import losant_fluent")
    rows.append(("import losant_fluent", package))
    if package is None:
        rows.append(("import losant_fluent.models", import_time("import losant_fluent.models")))
    rows.append(
        (
            "from losant_fluent.models import Device",
            import_time("from losant_fluent.models import Device"),
        )
    )

    every = (
        "import importlib; from losant_fluent.models._generated import SCHEMAS; "
        "[importlib.import_module('losant_fluent.models._generated.' + m) "
        "for m, _ in SCHEMAS.values()]"
    )
    every_ms, every_mb = import_time_and_rss(every, runs=1 if quick else 3)
    rows.append(("import every model", every_ms))
    rows.append(("  its peak RSS, MB", every_mb))

    page = devices_page(1000)
    body = json.dumps(page)
    odd = copy.deepcopy(page)
    odd["items"][500]["deviceClass"] = "notYetKnown"
    rows.append(("json.loads (1,000 devices)", per_call(lambda: json.loads(body))))
    rows.append(
        ("parse_response (1,000 devices)", per_call(lambda: parse_response("devices", page, None)))
    )
    rows.append(
        (
            "json.loads + parse_response",
            per_call(lambda: parse_response("devices", json.loads(body), None)),
        )
    )
    rows.append(
        (
            "parse_response, 1 odd item (fallback)",
            per_call(lambda: parse_response("devices", odd, None), repeat=5),
        )
    )
    from losant_fluent._values import loads
    from losant_fluent.models._registry import parse_response_json

    content = body.encode()
    rows.append(("loads (pydantic-core, 1,000 devices)", per_call(lambda: loads(content))))
    rows.append(
        (
            "parse_response_json, nested on read",
            per_call(lambda: parse_response_json("devices", content, None)),
        )
    )
    rows.append(
        (
            "parse_response_json, eager",
            per_call(lambda: parse_response_json("devices", content, None, eager=True)),
        )
    )

    try:
        rows += time_series_rows()
    except ImportError:
        print("(pandas not installed: pip install 'losant-fluent[data]')")

    width = max(len(name) for name, _ in rows)
    print(f"{'measure':<{width}}  median ms")
    for name, value in rows:
        shown = "failed" if value is None else f"{value:9.1f}"
        if name == RATIO and value is not None:
            shown = f"{value:8.2f}x"
        print(f"{name:<{width}}  {shown}")
    print(f"(imports: fresh interpreter, median of {RUNS}; body {len(body) / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
