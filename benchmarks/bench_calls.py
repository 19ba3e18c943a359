"""Client CPU per call: losant-fluent beside raw ``requests.Session`` and ``losant-rest``.

    python benchmarks/bench_calls.py [--calls 2000] [--rounds 5]

A loopback HTTP server runs in a separate process (so its CPU is not counted) and answers
every request with the same device document. Each client does the same call, GET one device,
``--calls`` times per round; rounds are interleaved so machine noise hits all clients alike.
The figure is client-process CPU time (``time.process_time``) per call, median over rounds,
and its ratio to the raw ``requests.Session`` baseline.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _loopback import start_server  # noqa: E402

APP = "5f0c1e2d3a4b5c6d7e8f9a0b"
DEVICE = "5f0c1e2d3a4b5c6d7e8f9a0c"
TOKEN = "bench-token"
DOCUMENT = {
    "id": DEVICE,
    "deviceId": DEVICE,
    "applicationId": APP,
    "creationDate": "2026-01-01T00:00:00.000Z",
    "lastUpdated": "2026-01-01T00:00:00.000Z",
    "name": "Bench device",
    "description": "",
    "tags": [{"key": "floor", "value": "3"}],
    "attributes": [
        {"name": "temperature", "dataType": "number"},
        {"name": "humidity", "dataType": "number"},
    ],
    "deviceClass": "standalone",
    "connectionInfo": {"connected": 1, "time": "2026-01-01T00:00:00.000Z"},
}


BODY = json.dumps(DOCUMENT).encode()


def _reply(_target: str) -> bytes:
    return BODY


def _clients(url: str) -> dict[str, Callable[[], Any]]:
    import requests

    from losant_fluent import API

    session = requests.Session()
    path = f"{url}/applications/{APP}/devices/{DEVICE}"

    def raw() -> Any:
        response = session.get(
            path,
            params={"_actions": "false", "_links": "true", "_embedded": "true"},
            headers={"Accept": "application/json", "Accept-Version": "^1.31.0",
                     "Authorization": f"Bearer {TOKEN}"},
        )
        response.raise_for_status()
        return response.json()

    api = API(url=url, token=TOKEN)
    device_node = api.applications(APP).devices(DEVICE)

    def fluent() -> Any:
        return api.applications(APP).devices(DEVICE).get()

    def fluent_kept_node() -> Any:
        return device_node.get()

    clients: dict[str, Callable[[], Any]] = {
        "requests.Session (raw JSON)": raw,
        "losant-fluent (chain each call)": fluent,
        "losant-fluent (node kept)": fluent_kept_node,
    }
    try:
        import losant_rest

        official = losant_rest.Client(auth_token=TOKEN, url=url)

        def official_call() -> Any:
            return official.device.get(applicationId=APP, deviceId=DEVICE)

        clients["losant-rest 2.3.0"] = official_call
    except ImportError:
        print("(losant-rest not installed: pip install losant-rest==2.3.0)")
    return clients


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    server, url = start_server(_reply)
    try:
        clients = _clients(url)
        for call in clients.values():  # warm up: imports, connections, model classes
            for _ in range(50):
                call()
        samples: dict[str, list[float]] = {name: [] for name in clients}
        for _ in range(args.rounds):
            for name, call in clients.items():
                start = time.process_time()
                for _ in range(args.calls):
                    call()
                samples[name].append((time.process_time() - start) / args.calls)
    finally:
        server.terminate()
    baseline = statistics.median(samples["requests.Session (raw JSON)"])
    print(f"client CPU per call, GET one device, {args.calls} calls x {args.rounds} rounds")
    print(f"{'client':34} {'CPU us/call':>12} {'vs raw':>8}")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"{name:34} {median * 1e6:12.1f} {median / baseline:7.2f}x")


if __name__ == "__main__":
    main()
