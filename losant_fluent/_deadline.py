"""One overall deadline per call: connect, response headers and body all fit in ``timeout``.

A socket timeout alone bounds each read, not the whole answer: a server that sends its
headers one byte a second holds a call forever. Here every call's connection is watched by
one shared daemon thread (the :class:`Watchdog`), which shuts the socket down when the
call's deadline passes: the blocked read then returns at once and the transport raises
``LosantTimeoutError``. The async client needs none of this (``asyncio.timeout`` cancels
the whole attempt).

:func:`check_seconds` is the check every duration option goes through (``timeout``,
``max_retry_wait``...): finite, positive, a number.
"""

from __future__ import annotations

import math
import socket
import threading
import time
from typing import Any

from . import _fork

__all__ = ["Watch", "Watchdog", "check_seconds", "current", "watchdog"]


def check_seconds(name: str, value: Any, *, allow_none: bool = True,
                  allow_zero: bool = False) -> float | None:
    """``value`` as seconds; ``TypeError``/``ValueError`` naming ``name`` when it cannot be one.

    Infinity, NaN, negative numbers (and 0 unless ``allow_zero``) and booleans are refused:
    an infinite timeout overflows the socket layer (``None`` is the way to wait forever).
    """
    if value is None:
        if allow_none:
            return None
        raise TypeError(f"{name} must be a number of seconds, not None")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, not {type(value).__name__}")
    seconds = float(value)
    if not math.isfinite(seconds) or seconds < 0 or (seconds == 0 and not allow_zero):
        hint = " (None waits forever)" if allow_none else ""
        low = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number of seconds {low}{hint}, "
                         f"not {value!r}")
    return seconds


class Watch:
    """One call being watched: its deadline and the connection it is using."""

    __slots__ = ("deadline", "connection", "expired")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.connection: Any = None  # a urllib3 connection, set when the pool hands it out
        self.expired = False

    def remaining(self) -> float:
        """Seconds left (at least a millisecond: a zero socket timeout means non-blocking)."""
        return max(self.deadline - time.monotonic(), 0.001)


_local = threading.local()


def current() -> Watch | None:
    """The watch of the call this thread is making (``None`` outside one)."""
    watch: Watch | None = getattr(_local, "watch", None)
    return watch


class Watchdog:
    """A daemon thread that shuts down the sockets of calls past their deadline."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        # Also called in a forked child: the parent's thread and lock do not exist there.
        self._cond = threading.Condition(threading.Lock())
        self._watches: dict[int, Watch] = {}
        self._thread: threading.Thread | None = None
        self._wake_at = math.inf

    def after_fork(self) -> None:
        self._reset()

    def start(self, seconds: float) -> Watch:
        """Watch the calling thread's call for ``seconds`` (until :meth:`stop`)."""
        watch = Watch(time.monotonic() + seconds)
        _local.watch = watch
        with self._cond:
            self._watches[id(watch)] = watch
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="losant-fluent-deadline",
                                                daemon=True)
                self._thread.start()
            if watch.deadline < self._wake_at:  # only an earlier deadline needs a wake-up
                self._cond.notify()
        return watch

    def stop(self, watch: Watch) -> None:
        """The call is over: its connection is no longer ours to shut."""
        _local.watch = None
        with self._cond:
            self._watches.pop(id(watch), None)
            watch.connection = None

    def _run(self) -> None:
        cond = self._cond
        with cond:
            while True:
                now = time.monotonic()
                due = [w for w in self._watches.values() if w.deadline <= now]
                for watch in due:
                    del self._watches[id(watch)]
                    watch.expired = True
                    _shut(watch.connection)
                    watch.connection = None
                self._wake_at = min((w.deadline for w in self._watches.values()),
                                    default=math.inf)
                wait = None if self._wake_at == math.inf else self._wake_at - now
                cond.wait(wait)


def _shut(connection: Any) -> None:
    """Shut a connection's socket down: wakes the thread blocked reading it."""
    sock = getattr(connection, "sock", None)
    if isinstance(sock, socket.socket):
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


watchdog = Watchdog()
_fork.register(watchdog)


# -- the pools that tell the watchdog which connection a call uses ------------------------------

def _pools() -> dict[str, type[Any]]:
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class WatchedHTTPPool(HTTPConnectionPool):
        def _get_conn(self, timeout: float | None = None) -> Any:
            return _watched(super()._get_conn(timeout))

    class WatchedHTTPSPool(HTTPSConnectionPool):
        def _get_conn(self, timeout: float | None = None) -> Any:
            return _watched(super()._get_conn(timeout))

    return {"http": WatchedHTTPPool, "https": WatchedHTTPSPool}


def _watched(connection: Any) -> Any:
    watch = current()
    if watch is not None:
        watch.connection = connection
        if watch.expired:  # the deadline passed while waiting for a pooled connection
            _shut(connection)
    return connection


_POOLS: dict[str, type[Any]] = {}


def watch_pools(manager: Any) -> None:
    """Make a urllib3 pool manager's new pools report their connections to the watchdog."""
    from urllib3.poolmanager import pool_classes_by_scheme as defaults

    if not _POOLS:
        _POOLS.update(_pools())
    # Only urllib3's own pools: a session whose pools were customised keeps them.
    if getattr(manager, "pool_classes_by_scheme", None) == defaults:
        manager.pool_classes_by_scheme = _POOLS


def watch_session(session: Any) -> None:
    """Make the pools ``session`` creates from now on report their connections."""
    from requests.adapters import HTTPAdapter

    for adapter in list(session.adapters.values()):
        if isinstance(adapter, HTTPAdapter):
            watch_pools(adapter.poolmanager)


def fresh_pools(session: Any) -> None:
    """Give every ``HTTPAdapter`` of ``session`` new, empty pools (after a fork).

    The old pools are dropped, not closed: their sockets are the parent's too, and closing
    a TLS connection could write to it.
    """
    from requests.adapters import HTTPAdapter

    for adapter in list(session.adapters.values()):
        if isinstance(adapter, HTTPAdapter):
            adapter.init_poolmanager(getattr(adapter, "_pool_connections", 10),
                                     getattr(adapter, "_pool_maxsize", 10),
                                     block=getattr(adapter, "_pool_block", False))
            adapter.proxy_manager = {}
            watch_pools(adapter.poolmanager)
