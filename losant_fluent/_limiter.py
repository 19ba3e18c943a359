"""Room under Losant's throttles: how long a call must wait before it is sent.

The limiter only decides; it never sleeps. A driver asks ``reserve`` for a slot before
sending and waits the answer's ``delay`` (``time.sleep`` for ``API``, ``asyncio.sleep`` for
``AsyncAPI``), so one limiter serves threads and event loops alike. Slots are handed out
under a lock, each reservation taking the next free one, so concurrent callers never share
a slot and never need to hold the lock while they wait. Before sending, the driver asks
``recheck`` (and waits again while it says so) and, once the call is answered, says
``answered``: a call goes only a window after the call a budget back was answered.

The count is a sliding window (at most ``calls`` slots in any ``window`` seconds), which is
stricter than a fixed window the server might count in; ``margin`` seconds are added to each
window for the time between leaving here and arriving there.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from . import _fork
from .limits import (
    ONE_AT_A_TIME,
    THROTTLES,
    OneAtATime,
    Throttle,
    one_at_a_time_for,
    path_value,
    throttle_for,
)

if TYPE_CHECKING:
    from ._wire import WireCall

log = logging.getLogger("losant_fluent")

#: Seconds added to every window: requests sent a window apart may arrive closer together.
DEFAULT_MARGIN = 0.25
#: Seconds between looks at a call still in flight that a later call must wait for.
POLL = 0.05
#: A call in flight for longer than this (its driver was cancelled before it could say it
#: was answered) no longer holds back the calls after it.
STALE = 120.0


class _Slot:
    """One call's place in a budget: when it may start and, once answered, when that was."""

    __slots__ = ("start", "done")

    def __init__(self, start: float, done: float | None = None) -> None:
        self.start = start
        self.done = done

    def left_at(self) -> float:
        """When the server has certainly counted it: its answer, else its planned start."""
        return self.done if self.done is not None else self.start


@dataclass(frozen=True)
class Reservation:
    """A slot under ``throttle`` for the calls counted under ``key``, ``delay`` seconds away.

    ``before`` is the slot ``calls`` back under the same budget: this call may only go a
    window after that one was answered (see :meth:`Limiter.recheck`).
    """

    throttle: Throttle
    key: str
    delay: float
    slot: _Slot | None = field(default=None, compare=False, repr=False)
    before: _Slot | None = field(default=None, compare=False, repr=False)

    def describe(self) -> str:
        """One log line: how long, and under which published limit."""
        t = self.throttle
        return (f"waiting {self.delay:.2f} s for room under Losant's {t.name} limit "
                f"({t.calls} per {t.window:g} s per {t.per} {self.key})")


class Limiter:
    """Slots under every throttle in ``throttles``, kept per throttle and path value.

    A call's slot is planned when it is reserved, from the slots before it. Many calls
    reserved at once (threads, ``asyncio.gather``) may leave later than planned, waiting
    for a connection or for the event loop, so before it is sent a call checks again
    (:meth:`recheck`) that the call ``calls`` back was answered a window ago; the driver
    marks each call answered (:meth:`answered`). A call's arrival lies between its start and
    its answer, so calls a window apart that way are a window apart at the server too.
    """

    def __init__(self, throttles: Iterable[Throttle] = THROTTLES, *,
                 margin: float = DEFAULT_MARGIN,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.throttles = tuple(throttles)
        self._margin = margin
        self._clock = clock
        self._lock = threading.Lock()
        # Per (throttle name, path value): the last `calls` slots handed out.
        self._slots: dict[tuple[str, str], deque[_Slot]] = {}
        # Jobs Losant runs one at a time: per (rule, path value), the job this client
        # started last, as (application id, job id), until it is seen finished.
        self.one_at_a_time: tuple[OneAtATime, ...] = ONE_AT_A_TIME
        #: Every endpoint a one-at-a-time rule covers (a quick test on the send path).
        self.turn_endpoints = frozenset(e for rule in ONE_AT_A_TIME for e in rule.endpoints)
        self._jobs: dict[tuple[int, str], tuple[str, str]] = {}
        _fork.register(self)

    def _turn_key(self, endpoint_id: str, template: str, path: str,
                  ) -> tuple[int, str] | None:
        rule = one_at_a_time_for(endpoint_id, self.one_at_a_time)
        if rule is None:
            return None
        value = path_value(template, path, rule.per)
        return None if value is None else (self.one_at_a_time.index(rule), value)

    def job_before(self, endpoint_id: str, template: str, path: str,
                   ) -> tuple[str, str] | None:
        """The job this client started that a call of ``endpoint_id`` must wait for
        (Losant runs those jobs one at a time), as ``(application id, job id)``."""
        key = self._turn_key(endpoint_id, template, path)
        if key is None:
            return None
        with self._lock:
            return self._jobs.get(key)

    def job_started(self, endpoint_id: str, template: str, path: str,
                    application_id: str, job_id: str) -> None:
        """A call of ``endpoint_id`` started job ``job_id``: later ones wait for it."""
        key = self._turn_key(endpoint_id, template, path)
        if key is not None:
            with self._lock:
                self._jobs[key] = (application_id, job_id)

    def job_over(self, job_id: str) -> None:
        """Job ``job_id`` finished (or is gone): it holds nothing back any more."""
        with self._lock:
            for key, (_, known) in list(self._jobs.items()):
                if known == job_id:
                    del self._jobs[key]

    def after_fork(self) -> None:
        """In a forked child: a fresh lock (a parent's thread may have held this one)."""
        self._lock = threading.Lock()

    def _applies(self, endpoint_id: str, template: str, path: str,
                 ) -> tuple[Throttle, str] | None:
        throttle = throttle_for(endpoint_id, self.throttles)
        if throttle is None:
            return None
        value = path_value(template, path, throttle.per)
        return None if value is None else (throttle, value)

    def _budget(self, throttle: Throttle, value: str) -> deque[_Slot]:
        return self._slots.setdefault((throttle.name, value), deque(maxlen=throttle.calls))

    def reserve(self, endpoint_id: str, template: str, path: str) -> Reservation | None:
        """Take the next slot for a call of ``endpoint_id`` at ``path``; ``None`` if unthrottled.

        ``template`` is the endpoint's path with ``{name}`` placeholders, ``path`` the
        concrete one; the throttle's ``per`` parameter is read from them.
        """
        applies = self._applies(endpoint_id, template, path)
        if applies is None:
            return None
        throttle, value = applies
        with self._lock:
            now = self._clock()
            slots = self._budget(throttle, value)
            start, before = now, None
            if len(slots) == throttle.calls:
                # The slot `calls` back must have left the window before this one starts.
                before = slots[0]
                start = max(now, before.left_at() + throttle.window + self._margin)
            slot = _Slot(start)
            slots.append(slot)
        return Reservation(throttle, value, start - now, slot, before)

    def recheck(self, reservation: Reservation) -> float:
        """Seconds still to wait before sending the call of ``reservation`` (0: send now).

        The call ``calls`` back may still be in flight (then look again shortly) or have
        been answered later than this slot was planned for.
        """
        before = reservation.before
        if before is None:
            return 0.0
        with self._lock:
            now = self._clock()
            if before.done is None:
                return POLL if now - before.start < STALE else 0.0
            return max(0.0, before.done + reservation.throttle.window + self._margin - now)

    def answered(self, reservation: Reservation) -> None:
        """The call of ``reservation`` was answered (or failed): it was counted by now."""
        if reservation.slot is not None:
            with self._lock:
                reservation.slot.done = self._clock()

    def refused(self, endpoint_id: str, template: str, path: str) -> float | None:
        """The wait after Losant answered 429 with no ``Retry-After``, or ``None``.

        Losant's own count is unknown then, so the budget is taken as spent for a whole
        window from now: the wait is the window, and later slots start after it.
        """
        applies = self._applies(endpoint_id, template, path)
        if applies is None:
            return None
        throttle, value = applies
        with self._lock:
            now = self._clock()
            self._budget(throttle, value).extend(_Slot(now, now) for _ in range(throttle.calls))
        return throttle.window + self._margin


ThrottleOption = bool | None | Mapping[str, "Throttle | None"] | Iterable[Throttle]


def throttles_from_option(option: ThrottleOption) -> tuple[Throttle, ...]:
    """The throttles ``API(throttle=option)`` asks for.

    ``True``/``None``: Losant's published ones. ``False``: none. A mapping from a throttle's
    name (``"device state"``) to a ``Throttle`` replaces it, to ``None`` drops it; a mapping
    to numbers as ``{"calls": 10}`` or ``{"window": 30}`` changes only those. An iterable of
    ``Throttle`` is the whole table.
    """
    if option is None or option is True:
        return THROTTLES
    if option is False:
        return ()
    if isinstance(option, Mapping):
        known = {t.name: t for t in THROTTLES}
        table = dict(known)
        for name, value in option.items():
            if name not in known:
                raise ValueError(f"throttle: no published limit is named {name!r}; "
                                 f"the names are {', '.join(sorted(known))}")
            if value is None:
                del table[name]
            elif isinstance(value, Throttle):
                table[name] = value
            elif isinstance(value, Mapping) and set(value) <= {"calls", "window"}:
                table[name] = replace(known[name], **value)
            else:
                raise TypeError(f"throttle[{name!r}]: give a Throttle, None, or a dict with "
                                f"'calls' and/or 'window' (got {type(value).__name__})")
        return tuple(table.values())
    if isinstance(option, (str, bytes)) or not isinstance(option, Iterable):
        raise TypeError("throttle: give True, False, a dict by limit name, or Throttle objects "
                        f"(got {type(option).__name__})")
    table_list = list(option)
    for item in table_list:
        if not isinstance(item, Throttle):
            raise TypeError(f"throttle: {item!r} is not a Throttle")
    return tuple(table_list)


def limiter_for(option: ThrottleOption) -> Limiter | None:
    """The limiter of a new ``API(throttle=option)``; ``None`` when no throttle is left."""
    throttles = throttles_from_option(option)
    return Limiter(throttles) if throttles else None


def reserve_for(limiter: Limiter, call: WireCall) -> Reservation | None:
    """Take a slot for ``call`` (one per attempt: Losant counts each request that arrives);
    ``None`` when no published limit covers it. A wait is logged."""
    endpoint = call.endpoint
    if endpoint is None or call.url is not None:
        return None
    reservation = limiter.reserve(endpoint.id, endpoint.path, call.path)
    if reservation is not None and reservation.delay > 0:
        log.info("%s %s: %s", call.method, call.path, reservation.describe())
    return reservation


def wait_after_429(limiter: Limiter, call: WireCall) -> float | None:
    """Seconds to wait after a 429 without ``Retry-After``: the limit's window, or ``None``.

    ``None`` for a call no published limit covers (the caller backs off as usual).
    """
    endpoint = call.endpoint
    if endpoint is None or call.url is not None:
        return None
    wait = limiter.refused(endpoint.id, endpoint.path, call.path)
    if wait is not None:
        log.debug("%s %s: 429 without Retry-After; waiting the limit's window (%.2f s)",
                 call.method, call.path, wait)
    return wait
