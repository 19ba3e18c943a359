"""``Emulator``: the emulator's WSGI app served over HTTP in a background thread."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .. import limits
from ._app import EmulatorApp
from ._auth import issue
from ._files import ReceivedFile, received_files
from ._invites import invite_token
from ._jobs import fail_next, finish_all
from ._limits import ThrottlesOption, describe, limit_settings
from ._seed import Seed, add_devices, populate
from ._store import Settings, Store
from ._streams import close_streams

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _state_throttle(throttles: ThrottlesOption | None, state_limit: int | None,
                    state_window: float | None) -> ThrottlesOption | None:
    """``throttles`` with the older ``state_limit``/``state_window`` options folded in."""
    if state_limit is None and state_window is None:
        return throttles
    if throttles is not None and not isinstance(throttles, Mapping):
        raise TypeError("state_limit/state_window take no effect with a whole throttles "
                        "table; put the device state throttle in it instead")
    state = next(t for t in limits.THROTTLES if "device.sendState" in t.endpoints)
    numbers = {"calls": state.calls if state_limit is None else state_limit,
               "window": state.window if state_window is None else state_window}
    return {**(throttles or {}), state.name: numbers}


class _QuietHandler(WSGIRequestHandler):
    """Request handler that does not log every request to stderr."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


class Emulator:
    """A local stand-in for the Losant REST API, for tests and demos.

    ``with Emulator() as emu:`` serves on ``emu.url`` (127.0.0.1, a free port) until the
    block ends. The seeded account is exposed as ``user_email``/``user_password``,
    ``application_id``, ``device_id`` (a standalone device with a number attribute
    ``temperature``) and ``access_key``/``access_secret`` (an application key allowed
    for that device).

    ``token_ttl`` makes issued tokens expire after that many seconds (401 afterwards);
    ``extra_devices`` seeds that many more devices at start.

    Losant's published limits (``losant_fluent.limits``) are enforced: throttles answer
    429 and jobs Losant runs one at a time too (``throttle=False`` turns both off;
    ``throttles={"device state": (60, 15.0), "event creation": None}`` replaces or drops
    entries (also as ``API(throttle=...)`` takes them: ``{"calls": 60}``, a ``Throttle``,
    or a whole table of ``Throttle``); ``state_limit``/``state_window`` replace the
    device state one;
    ``time_scale`` multiplies every window and job duration (``0.01`` turns 15 s into
    0.15 s); ``time_series_answer_bytes``/``data_table_rows_answer_bytes`` cap answers
    (400 beyond; ``None``: no cap); ``job_seconds`` is how long an export job runs.
    Binding to a non-loopback host needs ``allow_remote=True``; ``quiet=False`` logs
    every request to stderr.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        token_ttl: float | None = None,
        state_limit: int | None = None,
        state_window: float | None = None,
        extra_devices: int = 0,
        throttle: bool = True,
        throttles: ThrottlesOption | None = None,
        time_scale: float = 1.0,
        time_series_answer_bytes: int | None = limits.TIME_SERIES_ANSWER_BYTES,
        data_table_rows_answer_bytes: int | None = limits.DATA_TABLE_ROWS_ANSWER_BYTES,
        job_seconds: float = 2.0,
        allow_remote: bool = False,
        quiet: bool = True,
    ) -> None:
        if host not in LOOPBACK and not allow_remote:
            raise ValueError(
                f"refusing to serve on non-loopback host {host!r}; pass allow_remote=True"
            )
        self.host = host
        self.quiet = quiet
        self.port = port
        self.extra_devices = extra_devices
        table = _state_throttle(throttles, state_limit, state_window)
        self.settings = Settings(token_ttl=token_ttl, limits=limit_settings(
            throttle=throttle, throttles=table, time_scale=time_scale,
            time_series_answer_bytes=time_series_answer_bytes,
            data_table_rows_answer_bytes=data_table_rows_answer_bytes,
            job_seconds=job_seconds))
        self.store = Store()
        self.seed = Seed()
        self.app = EmulatorApp(self.store, self.settings)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.reset()

    # -- seeded account -------------------------------------------------------------------
    @property
    def user_email(self) -> str:
        """Email of the seeded user."""
        return self.seed.user_email

    @property
    def user_password(self) -> str:
        """Password of the seeded user."""
        return self.seed.user_password

    @property
    def user_id(self) -> str:
        """Id of the seeded user."""
        return self.seed.user_id

    @property
    def application_id(self) -> str:
        """Id of the seeded application."""
        return self.seed.application_id

    @property
    def device_id(self) -> str:
        """Id of the seeded standalone device (number attribute ``temperature``)."""
        return self.seed.device_id

    @property
    def access_key(self) -> str:
        """Key of the seeded application key, allowed for ``device_id``."""
        return self.seed.access_key

    @property
    def access_secret(self) -> str:
        """Secret of the seeded application key."""
        return self.seed.access_secret

    @property
    def instance_id(self) -> str:
        """Id of the seeded instance (it holds three sandboxes)."""
        return self.seed.instance_id

    @property
    def org_id(self) -> str:
        """Id of the seeded organization."""
        return self.seed.org_id

    @property
    def url(self) -> str:
        """Base URL of the running server (``http://127.0.0.1:PORT``)."""
        if self._server is None:
            raise RuntimeError("the emulator is not running; call start() first")
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self._server.server_port}"

    @property
    def running(self) -> bool:
        """Whether the HTTP server is up."""
        return self._server is not None

    @property
    def limits(self) -> dict[str, Any]:
        """The limits enforced: ``enabled``, each throttle's ``(calls, window seconds)``
        after ``time_scale``, the answer caps and the job duration."""
        return describe(self.settings.limits)

    def finish_jobs(self) -> None:
        """Make every queued or running job finish now (its log says ``completed``)."""
        finish_all(self.store)

    def fail_next_job(self, message: str = "The job failed") -> None:
        """Make the next job end ``failed``, with ``error.message`` set to ``message``."""
        if not isinstance(message, str):
            raise TypeError(f"message must be a str, not {type(message).__name__}")
        fail_next(self.store, message)

    @property
    def received_files(self) -> list[ReceivedFile]:
        """Every file part the API received (uploads, imports) since the last reset."""
        return received_files(self.store)

    # -- state ------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget everything and re-seed (same ids and credentials as before).

        Open event streams end.
        """
        close_streams(self.store)
        with self.store.lock:
            self.store.clear()
            populate(self.store, self.seed)
            if self.extra_devices:
                add_devices(self.store, self.application_id, self.extra_devices, "Device")

    def seed_devices(self, count: int, prefix: str = "Device") -> list[str]:
        """Add ``count`` devices to the seeded application; returns their ids."""
        return add_devices(self.store, self.application_id, count, prefix)

    def invite_token(self, email: str) -> str | None:
        """The token the invite email to ``email`` would carry (the emulator sends none)."""
        return invite_token(self.store, email)

    def user_token(self) -> str:
        """A user token for the seeded user, without going through ``/auth/user``."""
        return issue(self.store, "user", self.user_id, ("all.User",), ttl=self.settings.token_ttl)

    def device_token(self, device_id: str | None = None) -> str:
        """A device token for ``device_id`` (default: the seeded device)."""
        return issue(
            self.store,
            "device",
            device_id or self.device_id,
            ("all.Device",),
            ttl=self.settings.token_ttl,
            application_id=self.application_id,
        )

    # -- serving ----------------------------------------------------------------------------
    def start(self) -> Emulator:
        """Serve in a background thread (no-op when already running)."""
        if self._server is None:
            server = self._make_server()
            thread = threading.Thread(
                target=server.serve_forever, name="losant-emulator", daemon=True
            )
            thread.start()
            self._server, self._thread = server, thread
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted."""
        server = self._make_server()
        self._server = server
        try:
            server.serve_forever()
        finally:
            server.server_close()
            self._server = None

    def _make_server(self) -> BaseWSGIServer:
        handler = _QuietHandler if self.quiet else WSGIRequestHandler
        return make_server(self.host, self.port, self.app, threaded=True, request_handler=handler)

    def stop(self) -> None:
        """Stop serving and free the port."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        close_streams(self.store)  # streams end, so their connections do too
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self._server is not None else "stopped"
        return f"Emulator({where})"
