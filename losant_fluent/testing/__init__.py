"""A Losant API emulator for tests and demos, in the spirit of moto for AWS.

    from losant_fluent import API
    from losant_fluent.testing import Emulator

    with Emulator() as emu:
        api = API(url=emu.url)
        api.login_user(emu.user_email, emu.user_password)
        api.applications(emu.application_id).devices().get()

It serves every endpoint of the project's catalog over real HTTP on 127.0.0.1 (werkzeug,
threaded, one lock around the state), routed by werkzeug rules built from the catalog's
path templates. What it does:

* Real state: users and ``/auth`` logins, ``/me``, applications, application keys and
  API tokens, devices (CRUD, attributes, tags, name globbing, ``tagFilter``, advanced
  ``query``, sorting, bulk update/delete, tag keys/values), device state, composite
  state, commands, connection status, last-value and time-series queries, events, data
  tables and rows (advanced queries, limit/offset), webhooks.
* Limits: Losant's published throttles (429 without ``Retry-After``), one-at-a-time jobs
  and answer caps, from ``losant_fluent.limits`` (``Emulator(throttle=False)`` turns
  them off, ``time_scale=`` shortens windows).
* Jobs: exports answer 202 with a job id and run in the background; the application job
  log shows their progress and the signed URLs of their CSV/JSON/zip output.
* Generic: every other collection/item pair of the catalog stores what is posted (plus
  ids and timestamps) and supports list/get/patch/delete; other actions answer a minimal
  body valid for their documented success schema (``{"success": true}``, a queued-job
  receipt, the owning item, ``[]`` or ``{}``).
* Streams: device state, commands and MQTT messages are served as Server-Sent Events,
  resumed with ``Last-Event-ID`` (over HTTP only: in process they answer 501); files are
  stored behind a signed storage host.
* Not served: GitHub and SAML logins answer 401.
* Errors use Losant's shape ``{"type": ..., "message": ...}``; unknown routes are 404.
* Scopes: see :mod:`losant_fluent.testing._auth` (user tokens may call everything,
  device tokens only their own device's state/command/read actions).

``python -m losant_fluent.testing`` runs it in the foreground; the pytest plugin (entry
point ``losant_fluent``) provides an ``emulator`` fixture. werkzeug (the ``testing``
extra) is imported only when ``Emulator`` is first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._server import Emulator

__all__ = ["Emulator"]


def __getattr__(name: str) -> Any:
    if name == "Emulator":
        try:
            from ._server import Emulator
        except ModuleNotFoundError as exc:
            if exc.name is None or exc.name.partition(".")[0] != "werkzeug":
                raise
            raise ModuleNotFoundError(
                "the emulator needs werkzeug, which is not installed: "
                "pip install 'losant-fluent[testing]'",
                name="werkzeug",
            ) from None
        return Emulator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
