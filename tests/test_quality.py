"""Static checks that CI enforces: mypy --strict on the package and ruff on everything."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=1800
    )


def test_mypy_strict_is_clean() -> None:
    result = _run("mypy", "--strict", "losant_fluent", "tests/typing_examples.py")
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]


def test_ruff_is_clean() -> None:
    result = _run("ruff", "check", ".")
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]


def test_package_is_typed() -> None:
    assert (ROOT / "losant_fluent" / "py.typed").exists()
