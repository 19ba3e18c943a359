"""Losant's limits against the emulator: how many calls a loop loses without the client's
limiter, how long the limiter makes it take compared with the time the limit implies, and
how long an export takes to be waited for compared with the job's own run time.

    python benchmarks/bench_limits_emulator.py [--posts 100] [--time-scale 0.05] [--states 1000]

Each figure is printed with its baseline: ``ratio`` is measured / implied (1.00x: exactly
the limit's pace; above: the limiter's margin and the requests' own time).
"""

from __future__ import annotations

import argparse
import math
import time

from losant_fluent import API, RateLimitError
from losant_fluent.testing import Emulator


def unthrottled(posts: int) -> None:
    with Emulator() as emu:  # Losant's own numbers: 30 per 15 s per device
        api = API(url=emu.url, token=emu.user_token(), max_retries=0, throttle=False)
        state = api.applications(emu.application_id).devices(emu.device_id).state()
        refused = 0
        for n in range(posts):
            try:
                state.post({"data": {"temperature": n}})
            except RateLimitError:
                refused += 1
        print(f"no client limiter, max_retries=0: {posts - refused} sent, {refused} "
              f"answered 429 (limit: {emu.limits['throttles']['device state'][0]})")


def limited(posts: int, time_scale: float) -> None:
    with Emulator(time_scale=time_scale) as emu:
        calls, window = emu.limits["throttles"]["device state"]
        api = API(url=emu.url, token=emu.user_token(), max_retries=0,
                  throttle={"device state": {"window": window}})
        state = api.applications(emu.application_id).devices(emu.device_id).state()
        started = time.monotonic()
        for n in range(posts):
            state.post({"data": {"temperature": n}})
        elapsed = time.monotonic() - started
        implied = (math.ceil(posts / calls) - 1) * window
        print(f"client limiter, {calls} per {window:g} s: {posts} posts, no 429, "
              f"{elapsed:.2f} s vs {implied:.2f} s implied, ratio {elapsed / implied:.2f}x")


def export(states: int) -> None:
    with Emulator() as emu:
        app = API(url=emu.url, token=emu.user_token()).applications(emu.application_id)
        app.devices(emu.device_id).state().post(
            [{"data": {"temperature": n}} for n in range(states)])
        run = emu.limits["job_seconds"]
        started = time.monotonic()
        log = app.data().export().post({}).wait(timeout=120)
        elapsed = time.monotonic() - started
        print(f"data export of {states} states: {log.status} after {elapsed:.2f} s vs "
              f"{run:.2f} s job run, ratio {elapsed / run:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100)
    parser.add_argument("--time-scale", type=float, default=0.05)
    parser.add_argument("--states", type=int, default=1000)
    args = parser.parse_args()
    unthrottled(args.posts)
    limited(args.posts, args.time_scale)
    export(args.states)


if __name__ == "__main__":
    main()
