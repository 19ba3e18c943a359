"""A Losant API emulator for tests and demos, in the spirit of moto for AWS.

    from losant_fluent.testing import Emulator

    with Emulator() as emu:
        api = API(url=emu.url)
        ...

It serves the endpoints of the project's catalog on 127.0.0.1 over real HTTP (werkzeug),
with real state for applications, devices, device state and commands, data queries,
events, data tables and webhooks, and generic storage for the other collections. See
``Emulator`` for the seeded account and knobs; ``python -m losant_fluent.testing`` runs
it in the foreground; the pytest plugin provides an ``emulator`` fixture.

werkzeug (the ``testing`` extra) is imported only when ``Emulator`` is first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._server import Emulator

__all__ = ["Emulator"]


def __getattr__(name: str) -> Any:
    if name == "Emulator":
        from ._server import Emulator

        return Emulator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
