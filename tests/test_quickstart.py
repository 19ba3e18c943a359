"""The quickstart example runs against the bundled emulator and prints every section."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_quickstart_runs_against_the_emulator() -> None:
    pytest.importorskip("werkzeug")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOSANT_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py")],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for heading in (
        "== 1. Device login ==",
        "== 2. Send state ==",
        "== 3. Last-value query ==",
        "== 4. Time-series query ==",
        "== 5. Paginated device list ==",
        "== 6. Errors ==",
    ):
        assert heading in out
    assert "Started the Losant emulator at http://127.0.0.1:" in out
    assert "temperature=22.5" in out
    assert "iterated 251 devices across 3 pages" in out
    assert "ForbiddenError" in out and "status=403 type=Forbidden" in out
    assert "http_response().status_code=403" in out
    assert out.rstrip().endswith("Done.")
