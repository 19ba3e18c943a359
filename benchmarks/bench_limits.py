"""What keeping under Losant's limits costs the client: CPU per call with the limiter on
beside ``throttle=False``.

    python benchmarks/bench_limits.py [--calls 2000] [--rounds 5] [--posts 100 --scale 1]

A loopback HTTP server runs in a separate process (its CPU is not counted) and answers a
device document. Figures, median over interleaved rounds of client-process CPU time:

* GET one device (no limit applies: the limiter only looks the endpoint up), throttle on
  vs off: the cost every call pays;
* one ``Limiter.reserve`` for a throttled endpoint (device state), under a limit high
  enough never to wait: the cost a throttled call adds, beside a whole GET;
* with ``--posts N``: N state posts to one device of the emulator (its throttle windows
  times ``--scale``, the client told the same), ``max_retries=0``: the wall time beside
  the time the limit implies (full windows before the last slot), as a ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _loopback import start_server  # noqa: E402
from bench_calls import APP, BODY, DEVICE, TOKEN  # noqa: E402


def state_posts(posts: int, scale: float) -> None:
    """Wall time of ``posts`` state posts to one device against the emulator's throttle."""
    from losant_fluent import API, limits
    from losant_fluent.testing import Emulator

    state_limit = next(t for t in limits.THROTTLES if t.name == "device state")
    window = state_limit.window * scale
    with Emulator(time_scale=scale) as emu:
        api = API(emu.url, emu.user_token(), max_retries=0,
                  throttle={"device state": {"window": window}})
        state = api.applications(emu.application_id).devices(emu.device_id).state()
        started = time.monotonic()
        for n in range(posts):
            state.post({"data": {"n": n}})        # max_retries=0: a 429 would raise
        elapsed = time.monotonic() - started
    implied = (posts - 1) // state_limit.calls * window
    print(f"{posts} state posts, one device, {state_limit.calls} per {window:g} s, no 429: "
          f"{elapsed:.2f} s wall, {implied:.2f} s implied by the limit, "
          f"{elapsed / implied if implied else float('nan'):.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--posts", type=int, default=0)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    if args.posts:
        state_posts(args.posts, args.scale)

    from losant_fluent import API
    from losant_fluent._limiter import Limiter
    from losant_fluent.limits import THROTTLES, Throttle

    server, url = start_server(lambda _target: BODY)
    try:
        on = API(url=url, token=TOKEN).applications(APP).devices(DEVICE)
        off = API(url=url, token=TOKEN, throttle=False).applications(APP).devices(DEVICE)
        calls = {"GET device, throttle=False": off.get, "GET device, throttle on": on.get}
        for call in calls.values():  # warm up: imports, connections, model classes
            for _ in range(50):
                call()
        samples: dict[str, list[float]] = {name: [] for name in calls}
        samples["Limiter.reserve (device state)"] = []
        state = next(t for t in THROTTLES if t.name == "device state")
        roomy = Limiter([Throttle(state.name, state.endpoints, 10**9, state.window,
                                  state.per, state.source)])
        template = "/applications/{applicationId}/devices/{deviceId}/state"
        path = f"/applications/{APP}/devices/{DEVICE}/state"
        for _ in range(args.rounds):
            for name, call in calls.items():
                start = time.process_time()
                for _ in range(args.calls):
                    call()
                samples[name].append((time.process_time() - start) / args.calls)
            start = time.process_time()
            for _ in range(args.calls):
                roomy.reserve("device.sendState", template, path)
            samples["Limiter.reserve (device state)"].append(
                (time.process_time() - start) / args.calls)
    finally:
        server.terminate()
    baseline = statistics.median(samples["GET device, throttle=False"])
    print(f"client CPU per call, {args.calls} calls x {args.rounds} rounds")
    print(f"{'what':34} {'CPU us/call':>12} {'vs off':>8}")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"{name:34} {median * 1e6:12.1f} {median / baseline:7.2f}x")


if __name__ == "__main__":
    main()
