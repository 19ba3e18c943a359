"""Fork safety: a child process never uses its parent's connections or locks.

After ``os.fork`` (``multiprocessing``'s ``fork`` start method, ``ProcessPoolExecutor`` on
Linux) a child holds copies of the parent's pooled sockets: both processes would read and
write the same connections and get each other's answers. Every object holding such state
(transports, credentials' locks, the deadline watchdog) registers here, and in the child
its ``after_fork()`` drops the copies (without closing them: they are the parent's) and
makes fresh ones. The registry holds weak references, so it keeps nothing alive.
"""

from __future__ import annotations

import os
import weakref
from typing import Protocol

__all__ = ["ForkAware", "register"]


class ForkAware(Protocol):
    def after_fork(self) -> None:
        """In a forked child: forget the parent's connections and locks."""
        ...


_live: weakref.WeakSet[ForkAware] = weakref.WeakSet()


def register(obj: ForkAware) -> None:
    """Call ``obj.after_fork()`` in every child forked while ``obj`` is alive."""
    _live.add(obj)


def _in_child() -> None:
    for obj in list(_live):
        try:
            obj.after_fork()
        except Exception:  # noqa: BLE001 - never break the child's start; it fails on use
            pass


if hasattr(os, "register_at_fork"):  # not on Windows, which cannot fork
    os.register_at_fork(after_in_child=_in_child)
