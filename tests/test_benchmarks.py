"""The benchmark scripts still run and print every figure they promise (at tiny sizes).

Nothing here times anything: speed is compared in ``benchmarks/`` runs, never asserted in
tests. This only keeps the scripts from rotting as the client changes.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _run(script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_bench_pagination_prints_every_walk() -> None:
    pytest.importorskip("losant_rest")
    out = _run("bench_pagination.py", "--items", "2500", "--per-page", "1000", "--rounds", "1",
               "--parts", "speed,memory")
    for mode in ("raw", "losant-rest", "fluent", "fluent-nested", "fluent-read-ahead",
                 "fluent-dicts"):
        assert re.search(rf"^  {re.escape(mode)}\s+[\d,]+\s+[\d.]+\s+[\d.]+x$", out, re.M), out
    assert out.count(" MiB") == 8  # two sizes, two modes, two figures each


def test_bench_calls_prints_every_client() -> None:
    pytest.importorskip("losant_rest")
    out = _run("bench_calls.py", "--calls", "20", "--rounds", "1")
    assert "requests.Session" in out and "losant-fluent (node kept)" in out, out


def test_bench_models_prints_every_measure() -> None:
    out = _run("bench_models.py", "--quick")
    for name in ("json.loads (1,000 devices)", "parse_response_json, nested on read",
                 "parse_response_json, eager", "loads (pydantic-core, 1,000 devices)",
                 "import every model", "  its peak RSS, MB"):
        assert re.search(rf"^{re.escape(name)}\s+[\d.]+$", out, re.M), out
    if "pandas not installed" not in out:  # the time series frame beside the loop, and how far
        assert re.search(r"^to_pandas, time series \(30,000 values\)\s+[\d.]+$", out, re.M), out
        assert re.search(r"^  to_pandas / hand-written loop\s+[\d.]+x$", out, re.M), out


def test_bench_dask_prints_every_figure() -> None:
    pytest.importorskip("distributed")
    pytest.importorskip("pyarrow")
    out = _run("bench_dask.py", "--devices", "20", "--points", "10", "--workers", "1",
               "--rows", "20000")
    assert re.search(r"^  to_pandas\(\)\s+[\d,]+ rows/s\s+1\.00x$", out, re.M), out
    assert re.search(r"^  to_dask\(\)\.compute\(\), 1 worker\s+[\d,]+ rows/s\s+[\d.]+x$",
                     out, re.M), out
    assert len(re.findall(r"rows .* peak\s+[\d.]+ MiB  rss\s+[\d.]+ MiB", out)) == 2, out


def test_bench_streams_prints_every_size() -> None:
    out = _run("bench_streams.py", "--sizes", "0.01,0.02", "--rounds", "1", "--old")
    assert len(re.findall(r"^\s+0\.0[12] MiB\s+[\d.]+\s+[\d.]+\s+[\d.]+x\s+[\d.]+\s+[\d.]+\s+"
                          r"\d+x$", out, re.M)) == 2, out


def test_bench_walks_prints_the_three_figures() -> None:
    out = _run("bench_walks.py", "--items", "2000", "--rounds", "1", "--calls", "20")
    for mode in ("raw", "raw-nested", "pydantic", "pydantic-nested", "fluent",
                 "fluent-nested"):
        row = rf"^  {re.escape(mode)}\s+[\d,]+\s+[\d.]+(\s+[\d.]+x){{3}}$"
        assert re.search(row, out, re.M), out
    assert re.search(r"no nested read [\d.]+x .* three nested reads [\d.]+x .* single call "
                     r"[\d.]+x", out), out
    assert re.search(r"Plain pydantic models, same HTTP: no nested read [\d.]+x raw items/s; "
                     r"three nested reads [\d.]+x raw CPU", out), out


def test_compare_walks_prints_both_versions() -> None:
    out = _run("compare_walks.py", "--before", str(BENCHMARKS.parent), "--items", "2000",
               "--rounds", "1")
    for mode in ("fluent", "fluent-nested"):
        assert re.search(rf"^  {re.escape(mode)}\s+[\d.]+x\s+[\d.]+x$", out, re.M), out


def test_bench_limits_emulator_prints_every_figure() -> None:
    out = _run(
        "bench_limits_emulator.py", "--posts", "40", "--time-scale", "0.01", "--states", "10"
    )
    assert "30 sent, 10 answered 429" in out
    assert re.search(r"40 posts, no 429, [\d.]+ s vs [\d.]+ s implied, ratio [\d.]+x", out), out
    assert re.search(r"data export of 10 states: completed after .* ratio [\d.]+x", out), out
