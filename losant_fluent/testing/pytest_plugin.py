"""pytest plugin (entry point ``losant_fluent``): the ``emulator`` fixture.

One emulator serves the whole test session (started on first use); the function-scoped
``emulator`` fixture calls ``reset()`` before each test, so every test starts from the
seeded account with no leftovers. ``losant_emulator_session`` gives the shared instance
without resetting it.

werkzeug is imported only when a fixture is used, so installing losant-fluent without
the ``testing`` extra does not break pytest; such a test is skipped instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ._server import Emulator


@pytest.fixture(scope="session")
def losant_emulator_session() -> Iterator[Emulator]:
    """The session's emulator, started on first use and stopped at the end."""
    try:
        from ._server import Emulator
    except ImportError as exc:  # pragma: no cover - depends on the environment
        pytest.skip(f"the Losant emulator needs werkzeug ({exc})")
    emu = Emulator()
    emu.start()
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def emulator(losant_emulator_session: Emulator) -> Emulator:
    """A running emulator reset to its seeded state for this test."""
    losant_emulator_session.reset()
    return losant_emulator_session
