"""Walking a big collection: memory held, items per second, and what read-ahead buys.

    python benchmarks/bench_pagination.py [--items 100000] [--per-page 1000] [--rounds 5]
                                          [--latency-ms 20] [--consumer-ms 50]

A loopback HTTP server (its own process, 127.0.0.1 only) serves ``GET
/applications/{id}/devices`` in Losant's ``page``/``perPage`` form; the collection size is
read from the application id (``f"{n:024x}"``) so one server serves every run. Every
measurement runs in a fresh Python process, so peaks are comparable:

* memory: losant-fluent walking 20,000 and ``--items`` devices; peak of Python allocations
  (``tracemalloc``) and peak RSS (``ru_maxrss``). Neither should grow with the number of items.
* speed: items/s walking ``--items`` devices with losant-fluent (typed models, with and
  without read-ahead; typed models reading three nested fields of every item, which builds
  their nested models; and plain dicts with ``iter_items(raw=True)``), a hand-written loop
  over raw JSON with ``requests.Session`` (reading nothing, and reading the same three
  nested fields), and ``losant-rest`` 2.3.0
  (``pip install losant-rest==2.3.0``); best of ``--rounds``.
* read-ahead: the same walk of 20,000 devices with ``--latency-ms`` of server delay per page,
  once with a consumer that does nothing and once with one that waits ``--consumer-ms`` per
  page (as a batch write would, the GIL released).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import subprocess
import sys
import time
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _loopback import start_server  # noqa: E402

TOKEN = "bench-token"
ROOT = Path(__file__).resolve().parents[1]
CHILD_TIMEOUT = 600  # seconds; every run is bounded
MODES = ("raw", "raw-nested", "losant-rest", "fluent", "fluent-nested", "fluent-read-ahead",
         "fluent-dicts")


def _device(number: int) -> dict[str, Any]:
    ident = f"{number:024x}"
    return {
        "id": ident, "deviceId": ident, "applicationId": "5" * 24,
        "creationDate": "2026-01-01T00:00:00.000Z", "lastUpdated": "2026-01-01T00:00:00.000Z",
        "name": f"device-{number}", "description": "",
        "tags": [{"key": "floor", "value": str(number % 7)}],
        "attributes": [{"name": "temperature", "dataType": "number"},
                       {"name": "humidity", "dataType": "number"}],
        "deviceClass": "standalone",
        "connectionInfo": {"connected": 1, "time": "2026-01-01T00:00:00.000Z"},
    }


@lru_cache(maxsize=512)
def _page(total: int, page: int, per_page: int) -> bytes:
    numbers = range(page * per_page, min((page + 1) * per_page, total))
    items = [_device(n) for n in numbers]
    return json.dumps({"items": items, "count": len(items), "totalCount": total,
                       "page": page, "perPage": per_page}).encode()


def _reply(target: str) -> bytes:
    parts = urlsplit(target)
    query = dict(parse_qsl(parts.query))
    total = int(parts.path.split("/")[2], 16)
    per_page = min(int(query.get("perPage", 100)), 1000)
    return _page(total, int(query.get("page", 0)), per_page)


def _start_server(latency: float) -> tuple[multiprocessing.Process, str]:
    return start_server(_reply, latency)


# -- the clients (run in a child process) -------------------------------------------------------


def _timed_decode() -> list[float]:
    """Count the time losant-fluent spends turning responses into models."""
    from losant_fluent._pipeline import Pipeline

    spent = [0.0]
    decode = Pipeline.decode

    def timed(self: Pipeline, call: Any, response: Any, eager: bool = False) -> Any:
        started = time.perf_counter()
        try:
            return decode(self, call, response, eager)
        finally:
            spent[0] += time.perf_counter() - started

    Pipeline.decode = timed  # type: ignore[method-assign]
    return spent


def _walk(mode: str, url: str, app: str, per_page: int, consumer: float) -> int:
    """Walk every device with one client; return how many came.

    ``consumer`` seconds are spent (sleeping, as I/O would) after each ``per_page`` items.
    """
    count = 0
    if mode.startswith("fluent"):
        from losant_fluent import API

        with API(url=url, token=TOKEN) as api:
            result = api.applications(app).devices().get(perPage=per_page)
            walk = result.iter_items(read_ahead=mode == "fluent-read-ahead",
                                     raw=mode == "fluent-dicts")
            nested = mode == "fluent-nested"
            for device in walk:
                count += 1
                if nested:  # builds the tags, attributes and connection info of the device
                    assert device.tags[0].value is not None
                    assert device.attributes[0].name
                    assert device.connection_info.connected is not None
                if consumer and count % per_page == 0:
                    time.sleep(consumer)
        return count
    if mode in ("pydantic", "pydantic-nested"):
        return _plain_pydantic_walk(mode == "pydantic-nested", url, app, per_page)
    if mode in ("raw", "raw-nested"):
        import requests

        nested = mode == "raw-nested"
        with requests.Session() as session:
            page = 0
            while True:
                body = _raw_page(session, url, app, page, per_page).json()
                for item in body["items"]:
                    count += 1
                    if nested:  # the same three nested reads as fluent-nested, on dicts
                        assert item["tags"][0]["value"] is not None
                        assert item["attributes"][0]["name"]
                        assert item["connectionInfo"]["connected"] is not None
                page += 1
                if len(body["items"]) < per_page or page * per_page >= body["totalCount"]:
                    return count
    if mode == "losant-rest":
        import losant_rest

        client = losant_rest.Client(auth_token=TOKEN, url=url)
        page = 0
        while True:
            body = client.devices.get(applicationId=app, page=page, perPage=per_page)
            for _ in body["items"]:
                count += 1
            page += 1
            if len(body["items"]) < per_page or page * per_page >= body["totalCount"]:
                return count
    raise ValueError(mode)


def _raw_page(session: Any, url: str, app: str, page: int, per_page: int) -> Any:
    """One page of devices with ``requests`` alone, as the official client asks for it."""
    response = session.get(
        f"{url}/applications/{app}/devices",
        params={"_actions": "false", "_links": "true", "_embedded": "true",
                "page": page, "perPage": per_page},
        headers={"Accept": "application/json", "Accept-Version": "^1.31.0",
                 "Authorization": f"Bearer {TOKEN}"},
        timeout=60,
    )
    response.raise_for_status()
    return response


def _plain_models(nested: bool) -> Any:
    """Plain pydantic models of a page of devices, as a hand-written typed client has them.

    One model per device with the fields the test data carries (no patterns, aliases only
    where the API's names differ, ``extra="ignore"``); nested objects kept as plain JSON
    (``Any``), or as plain models for the nested-read walk.
    """
    from datetime import datetime

    from pydantic import BaseModel, Field

    class Tag(BaseModel):
        key: str | None = None
        value: str | None = None

    class Attribute(BaseModel):
        name: str | None = None
        data_type: str | None = Field(None, alias="dataType")

    class Connection(BaseModel):
        connected: int | None = None
        time: datetime | None = None

    class Device(BaseModel):
        id: str | None = None
        device_id: str | None = Field(None, alias="deviceId")
        application_id: str | None = Field(None, alias="applicationId")
        creation_date: datetime | None = Field(None, alias="creationDate")
        last_updated: datetime | None = Field(None, alias="lastUpdated")
        name: str | None = None
        description: str | None = None
        device_class: str | None = Field(None, alias="deviceClass")
        if nested:
            tags: list[Tag] | None = None
            attributes: list[Attribute] | None = None
            connection_info: Connection | None = Field(None, alias="connectionInfo")
        else:
            tags: Any = None
            attributes: Any = None
            connection_info: Any = Field(None, alias="connectionInfo")

    class Page(BaseModel):
        items: list[Device]
        count: int
        total_count: int = Field(alias="totalCount")

    return Page


def _plain_pydantic_walk(nested: bool, url: str, app: str, per_page: int) -> int:
    """The raw loop's requests (:func:`_raw_page`), each page validated into
    :func:`_plain_models`."""
    import requests

    page_model = _plain_models(nested)
    count = page = 0
    with requests.Session() as session:
        while True:
            content = _raw_page(session, url, app, page, per_page).content
            body = page_model.model_validate_json(content)
            for item in body.items:
                count += 1
                if nested:
                    assert item.tags[0].value is not None
                    assert item.attributes[0].name
                    assert item.connection_info.connected is not None
            page += 1
            if len(body.items) < per_page or page * per_page >= body.total_count:
                return count


def _preload() -> None:
    """Import every client and the ``Devices`` model first: imports are not timed."""
    import losant_rest  # noqa: F401
    import requests  # noqa: F401

    from losant_fluent.models._registry import model_for

    model_for("devices")


def _child(job: dict[str, Any]) -> None:
    import resource
    import tracemalloc

    sys.path.insert(0, str(ROOT))
    mode, items = job["mode"], job["items"]
    _preload()
    decoding = _timed_decode() if mode == "fluent" else [0.0]
    if job["memory"]:
        tracemalloc.start()
    started, cpu_started = time.perf_counter(), time.process_time()
    count = _walk(mode, job["url"], f"{items:024x}", job["per_page"], job["consumer"])
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    peak = tracemalloc.get_traced_memory()[1] if job["memory"] else 0
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    assert count == items, (count, items)
    print(json.dumps({"count": count, "seconds": seconds, "cpu": cpu, "peak": peak, "rss": rss_kib,
                      "decoding": decoding[0]}))


def _run(
    mode: str, url: str, items: int, per_page: int, memory: bool = False, consumer: float = 0.0
) -> dict[str, Any]:
    """One measurement in a fresh Python process."""
    job = {"mode": mode, "url": url, "items": items, "per_page": per_page, "memory": memory,
           "consumer": consumer}
    args = [sys.executable, __file__, "--child", json.dumps(job)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=CHILD_TIMEOUT,
                          check=False)
    if done.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _memory(url: str, sizes: tuple[int, int], per_page: int) -> None:
    print(f"Memory, losant-fluent walking devices in pages of {per_page} (fresh process each)")
    print(f"  {'mode':<20}{'items':>9}{'tracemalloc peak':>19}{'peak RSS':>12}")
    for mode in ("fluent", "fluent-read-ahead"):
        for size in sizes:
            got = _run(mode, url, size, per_page, memory=True)
            print(f"  {mode:<20}{size:>9,}{got['peak'] / 2**20:>15.1f} MiB"
                  f"{got['rss'] / 1024:>8.1f} MiB")


def _speed(url: str, items: int, per_page: int, rounds: int) -> None:
    print(f"\nSpeed, {items:,} devices in pages of {per_page}, best of {rounds}")
    print(f"  {'client':<20}{'items/s':>10}{'seconds':>9}{'vs raw':>8}")
    best: dict[str, dict[str, Any]] = {}
    for _ in range(rounds):
        for mode in MODES:  # interleaved, so noise hits every client alike
            got = _run(mode, url, items, per_page)
            if mode not in best or got["seconds"] < best[mode]["seconds"]:
                best[mode] = got
    raw = best["raw"]["seconds"]
    for mode in MODES:
        seconds = best[mode]["seconds"]
        print(f"  {mode:<20}{items / seconds:>10,.0f}{seconds:>9.2f}{raw / seconds:>7.2f}x")
    fluent = best["fluent"]
    print(f"  (losant-fluent builds a typed model per device, its nested objects on first read; "
          f"{fluent['decoding'] / fluent['seconds']:.0%} of its time is that decoding)")


def _read_ahead(url: str, items: int, per_page: int, rounds: int, delay: float,
                consumer: float) -> None:
    for title, wait in (("consumer does nothing", 0.0),
                        (f"consumer waits {consumer:g} ms per page", consumer)):
        print(f"\nRead-ahead, {items:,} devices, server delay {delay:g} ms per page, "
              f"{title}; best of {rounds}")
        slow: dict[str, float] = {}
        for _ in range(rounds):
            for mode in ("fluent", "fluent-read-ahead"):
                got = _run(mode, url, items, per_page, consumer=wait / 1000)
                slow[mode] = min(slow.get(mode, got["seconds"]), got["seconds"])
        for mode in ("fluent", "fluent-read-ahead"):
            print(f"  {mode:<20}{items / slow[mode]:>10,.0f} items/s{slow[mode]:>7.2f} s")
        print(f"  read-ahead speed-up: {slow['fluent'] / slow['fluent-read-ahead']:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--per-page", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--consumer-ms", type=float, default=50.0)
    parser.add_argument("--parts", default="memory,speed,read-ahead",
                        help="which measurements to run, comma-separated")
    options = parser.parse_args()
    parts = set(options.parts.split(","))
    n, per_page = options.items, options.per_page
    small = min(20_000, n)

    server, url = _start_server(0.0)
    slow_server, slow_url = _start_server(options.latency_ms / 1000)
    try:
        if "memory" in parts:
            _memory(url, (small, n), per_page)
        if "speed" in parts:
            _speed(url, n, per_page, options.rounds)
        if "read-ahead" in parts:
            _read_ahead(slow_url, small, per_page, options.rounds, options.latency_ms,
                        options.consumer_ms)
    finally:
        for process in (server, slow_server):
            process.terminate()
            process.join(5)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        _child(json.loads(sys.argv[2]))
    else:
        main()
