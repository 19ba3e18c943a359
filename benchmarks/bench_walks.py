"""The three speed figures of typed models, beside raw ``requests``, in one run.

    python benchmarks/bench_walks.py [--items 50000] [--per-page 1000] [--rounds 5]
                                     [--calls 2000]

* a walk whose loop reads no nested field: items/s, and its ratio to the raw loop's
  (target: at least 0.8x);
* a walk whose loop reads three nested fields of every item (``d.tags[0].value``,
  ``d.attributes[0].name``, ``d.connection_info.connected``): client CPU, and its ratio to
  the raw loop's CPU reading the same fields from dicts (target: at most 1.4x) and to the
  raw loop reading nothing;
* a single call (GET one device, node kept): client CPU per call, and its ratio to
  ``requests.Session`` (target: at most 1.10x).

Beside them, ``floor`` and ``floor-nested``: the raw loop's requests with each page
validated into the plainest pydantic models of the same fields (no constraints; nested
objects as plain JSON, or as plain models when read). That is the least any walk that
yields pydantic models per item can cost, whatever it does; a target below it needs
items that are not built while the page is read.

Walks run each in a fresh process against a loopback server in its own process (see
``bench_pagination.py``); CPU is ``time.process_time`` of the client process only. Best of
``--rounds``, rounds interleaved so machine noise hits every client alike.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_calls  # noqa: E402
import bench_pagination  # noqa: E402
from _loopback import start_server  # noqa: E402

WALKS = ("raw", "raw-nested", "floor", "floor-nested", "fluent", "fluent-nested")


def _walks(items: int, per_page: int, rounds: int) -> dict[str, dict[str, float]]:
    server, url = bench_pagination._start_server(0.0)
    best: dict[str, dict[str, float]] = {}
    try:
        for _ in range(rounds):
            for mode in WALKS:
                got = bench_pagination._run(mode, url, items, per_page)
                mine = best.setdefault(mode, {"seconds": got["seconds"], "cpu": got["cpu"]})
                mine["seconds"] = min(mine["seconds"], got["seconds"])
                mine["cpu"] = min(mine["cpu"], got["cpu"])
    finally:
        server.terminate()
        server.join(5)
    return best


def _single_calls(calls: int, rounds: int) -> tuple[float, float]:
    """CPU seconds per call: (raw requests.Session, losant-fluent with its node kept)."""
    server, url = start_server(bench_calls._reply)
    try:
        clients = bench_calls._clients(url)
        chosen: dict[str, Any] = {
            "raw": clients["requests.Session (raw JSON)"],
            "fluent": clients["losant-fluent (node kept)"],
        }
        for call in chosen.values():  # warm up: imports, connections, model classes
            for _ in range(50):
                call()
        samples: dict[str, list[float]] = {name: [] for name in chosen}
        for _ in range(rounds):
            for name, call in chosen.items():
                start = time.process_time()
                for _ in range(calls):
                    call()
                samples[name].append((time.process_time() - start) / calls)
    finally:
        server.terminate()
    return statistics.median(samples["raw"]), statistics.median(samples["fluent"])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--per-page", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=2000)
    options = parser.parse_args()
    n = options.items
    best = _walks(n, options.per_page, options.rounds)
    raw, raw_nested = best["raw"], best["raw-nested"]
    print(f"Walks of {n:,} devices in pages of {options.per_page}, best of {options.rounds}")
    print(f"  {'walk':<16}{'items/s':>10}{'CPU s':>8}{'items/s vs raw':>16}"
          f"{'CPU vs raw':>12}{'CPU vs raw-nested':>19}")
    for mode in WALKS:
        got = best[mode]
        print(f"  {mode:<16}{n / got['seconds']:>10,.0f}{got['cpu']:>8.2f}"
              f"{raw['seconds'] / got['seconds']:>15.2f}x{got['cpu'] / raw['cpu']:>11.2f}x"
              f"{got['cpu'] / raw_nested['cpu']:>18.2f}x")
    raw_call, fluent_call = _single_calls(options.calls, options.rounds)
    print(f"Single call, GET one device, {options.calls} calls x {options.rounds} rounds")
    print(f"  raw {raw_call * 1e6:.1f} us CPU, fluent {fluent_call * 1e6:.1f} us CPU: "
          f"{fluent_call / raw_call:.2f}x")
    print("Figures (targets): no nested read "
          f"{raw['seconds'] / best['fluent']['seconds']:.2f}x raw items/s (>= 0.80); "
          f"three nested reads {best['fluent-nested']['cpu'] / raw_nested['cpu']:.2f}x raw CPU "
          f"(<= 1.40); single call {fluent_call / raw_call:.2f}x raw CPU (<= 1.10)")
    print("Plain pydantic models, same HTTP (the floor of a typed walk): no nested read "
          f"{raw['seconds'] / best['floor']['seconds']:.2f}x raw items/s; three nested reads "
          f"{best['floor-nested']['cpu'] / raw_nested['cpu']:.2f}x raw CPU")


if __name__ == "__main__":
    main()
