"""The package as users get it: the wheel, a fresh venv, and mypy outside the checkout.

``test_wheel_installs_and_works`` builds the wheel (no build isolation: hatchling comes with
the ``test`` extra), installs it with its dependencies into a new venv (from PyPI or pip's
cache) and, from a folder outside the checkout, starts the emulator, logs in and calls the
API, then runs ``mypy --strict`` on a user's script against that venv.
``test_mypy_finds_the_editable_install`` checks that README's ``pip install -e .`` leaves a
package that mypy finds from outside the checkout too.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

import losant_fluent

ROOT = Path(__file__).resolve().parents[1]

USER_SCRIPT = textwrap.dedent(
    """\
    import importlib.metadata

    import losant_fluent
    from losant_fluent import API, NotFoundError
    from losant_fluent.models import Device
    from losant_fluent.testing import Emulator

    assert "site-packages" in losant_fluent.__file__, losant_fluent.__file__
    assert losant_fluent.__version__ == importlib.metadata.version("losant-fluent")

    with Emulator() as emu, API(url=emu.url) as api:
        api.login_user(emu.user_email, emu.user_password)
        device: Device = api.applications(emu.application_id).devices(emu.device_id).get()
        names = [d.name for d in api.applications(emu.application_id).devices().get()]
        try:
            api.applications("0" * 24).get()
        except NotFoundError as err:
            status = err.status
        print(f"ok {losant_fluent.__version__} {device.name} {len(names)} {status}")
    """
)

TYPED_SCRIPT = textwrap.dedent(
    """\
    from losant_fluent import API
    from losant_fluent.models import Device


    def device_name(api: API, application_id: str, device_id: str) -> str:
        device: Device = api.applications(application_id).devices(device_id).get()
        return device.name or ""
    """
)


def _run(args: list[str | Path], cwd: Path, timeout: float = 180) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _mypy(script: Path, python: Path) -> str:
    """``mypy --strict`` on ``script``, run from its folder, against ``python``'s packages."""
    return _run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--python-executable",
            python,
            "--cache-dir",
            script.parent / ".mypy_cache",
            script.name,
        ],
        cwd=script.parent,
    )


def test_wheel_installs_and_works(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    _run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", dist, ROOT],
        cwd=tmp_path,
    )  # fmt: skip
    (wheel,) = dist.glob("losant_fluent-*.whl")
    assert wheel.name.startswith(f"losant_fluent-{losant_fluent.__version__}-")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    for needed in (
        "losant_fluent/_catalog.json",
        "losant_fluent/py.typed",
        "losant_fluent/_resources.py",
        "losant_fluent/models/_generated/__init__.py",
        "losant_fluent/models/_generated/device.py",
        "losant_fluent/testing/__init__.py",
        "losant_fluent/testing/pytest_plugin.py",
    ):
        assert needed in names
    assert not [n for n in names if "__pycache__" in n or not n.startswith("losant_fluent")]

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=tmp_path)
    python = _venv_python(venv)
    _run(
        [sys.executable, "-m", "pip", "--python", python, "install", "-q", f"{wheel}[testing]"],
        cwd=tmp_path,
        timeout=300,
    )

    user = tmp_path / "user"  # outside the checkout: only the installed package is importable
    user.mkdir()
    (user / "try_it.py").write_text(USER_SCRIPT, encoding="utf-8")
    out = _run([python, "try_it.py"], cwd=user)
    assert out.split()[:2] == ["ok", losant_fluent.__version__]
    assert out.split()[-1] == "404"

    (user / "typed.py").write_text(TYPED_SCRIPT, encoding="utf-8")
    assert "Success" in _mypy(user / "typed.py", python)


def test_mypy_finds_the_editable_install(tmp_path: Path) -> None:
    """After ``pip install -e .`` mypy, run outside the checkout, resolves ``losant_fluent``."""
    if Path(losant_fluent.__file__).resolve().parent != ROOT / "losant_fluent":
        pytest.fail(f"losant_fluent is not imported from this checkout: {losant_fluent.__file__}")
    (tmp_path / "typed.py").write_text(TYPED_SCRIPT, encoding="utf-8")
    assert "Success" in _mypy(tmp_path / "typed.py", Path(sys.executable))
