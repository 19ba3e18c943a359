"""Throughput with latency: the sync client sequential and threaded beside ``AsyncAPI``.

    python benchmarks/bench_async.py [--calls 1000] [--sequential-calls 200] [--latency 0.02]

A loopback HTTP server in a separate process (as in ``_loopback.py``, so its CPU is not
counted; with a listen backlog big enough for 64 connections opened at once) answers every
GET of one device after ``--latency`` seconds. Each client makes ``--calls`` GETs: the sync
``API`` one after the other, the sync ``API`` shared by 16 threads, and ``AsyncAPI`` with
16 and 64 requests in flight (``max_connections``). The sequential run makes
``--sequential-calls`` GETs only (1,000 x 20 ms would take over 20 s) and its wall time is
scaled to ``--calls``; the table says so. Figures: wall time, calls per second, speed-up
over sequential, and client-process CPU time (``time.process_time``, all threads) per call.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_calls import APP, BODY, DEVICE, TOKEN  # noqa: E402


def _serve(port_queue: Any, latency: float) -> None:
    """``_loopback``'s server with a listen backlog for 64 simultaneous connections."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            time.sleep(latency)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY)

        def log_message(self, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 256
        daemon_threads = True

    server = Server(("127.0.0.1", 0), Handler)
    port_queue.put(server.server_address[1])
    server.serve_forever()


def start_server(latency: float) -> tuple[multiprocessing.Process, str]:
    ports: Any = multiprocessing.Queue()
    process = multiprocessing.Process(target=_serve, args=(ports, latency), daemon=True)
    process.start()
    return process, f"http://127.0.0.1:{ports.get(timeout=30)}"


def sync_sequential(url: str, calls: int) -> None:
    from losant_fluent import API

    with API(url=url, token=TOKEN) as api:
        node = api.applications(APP).devices(DEVICE)
        for _ in range(calls):
            node.get()


def sync_threads(url: str, calls: int, threads: int) -> None:
    from losant_fluent import API

    with API(url=url, token=TOKEN, pool_size=threads) as api:
        node = api.applications(APP).devices(DEVICE)
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda _: node.get(), range(calls)))


def async_in_flight(url: str, calls: int, in_flight: int) -> None:
    from losant_fluent import AsyncAPI

    async def main() -> None:
        async with AsyncAPI(url=url, token=TOKEN, max_connections=in_flight) as api:
            node = api.applications(APP).devices(DEVICE)
            # max_connections bounds the requests running at once; gather queues the rest.
            await asyncio.gather(*(node.get() for _ in range(calls)))

    asyncio.run(main())


def measure(run: object, *args: object) -> tuple[float, float]:
    """Wall seconds and client CPU seconds of one run."""
    wall, cpu = time.perf_counter(), time.process_time()
    run(*args)  # type: ignore[operator]
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--sequential-calls", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.02)
    args = parser.parse_args()
    process, url = start_server(args.latency)
    try:
        # Warm up imports, models and connections so no run pays for them.
        sync_sequential(url, 5)
        async_in_flight(url, 5, 4)
        rows: list[tuple[str, int, float, float]] = []
        seq = args.sequential_calls
        wall, cpu = measure(sync_sequential, url, seq)
        rows.append((f"sync, sequential ({seq} calls, wall scaled)", seq,
                     wall * args.calls / seq, cpu / seq))
        for name, run, extra in [
            ("sync, 16 threads sharing one API", sync_threads, 16),
            ("async, 16 in flight", async_in_flight, 16),
            ("async, 64 in flight", async_in_flight, 64),
        ]:
            wall, cpu = measure(run, url, args.calls, extra)
            rows.append((name, args.calls, wall, cpu / args.calls))
    finally:
        process.terminate()
        process.join()
    base = rows[0][2]
    print(f"{args.calls} GETs of one device, {args.latency * 1000:.0f} ms server latency")
    print(f"{'client':46} {'wall s':>8} {'calls/s':>8} {'speed-up':>8} {'CPU/call':>10}")
    for name, _, wall, cpu_per_call in rows:
        print(f"{name:46} {wall:8.2f} {args.calls / wall:8.0f} {base / wall:7.1f}x "
              f"{cpu_per_call * 1e6:8.0f} us")


if __name__ == "__main__":
    main()
