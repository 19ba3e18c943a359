"""Room under Losant's throttles: how long a call must wait before it is sent.

The limiter only decides; it never sleeps. A driver asks ``reserve`` for a slot before
sending and waits the answer's ``delay`` (``time.sleep`` for ``API``, ``asyncio.sleep`` for
``AsyncAPI``), so one limiter serves threads and event loops alike. Slots are handed out
under a lock, each reservation taking the next free one, so concurrent callers never share
a slot and never need to hold the lock while they wait.

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
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .limits import THROTTLES, Throttle, path_value, throttle_for

if TYPE_CHECKING:
    from ._wire import WireCall

log = logging.getLogger("losant_fluent")

#: Seconds added to every window: requests sent a window apart may arrive closer together.
DEFAULT_MARGIN = 0.25


@dataclass(frozen=True)
class Reservation:
    """A slot under ``throttle`` for the calls counted under ``key``, ``delay`` seconds away."""

    throttle: Throttle
    key: str
    delay: float

    def describe(self) -> str:
        """One log line: how long, and under which published limit."""
        t = self.throttle
        return (f"waiting {self.delay:.2f} s for room under Losant's {t.name} limit "
                f"({t.calls} per {t.window:g} s per {t.per} {self.key})")


class Limiter:
    """Slots under every throttle in ``throttles``, kept per throttle and path value."""

    def __init__(self, throttles: Iterable[Throttle] = THROTTLES, *,
                 margin: float = DEFAULT_MARGIN,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.throttles = tuple(throttles)
        self._margin = margin
        self._clock = clock
        self._lock = threading.Lock()
        # Per (throttle name, path value): the times of the last `calls` slots handed out.
        self._slots: dict[tuple[str, str], deque[float]] = {}

    def _applies(self, endpoint_id: str, template: str, path: str,
                 ) -> tuple[Throttle, str] | None:
        throttle = throttle_for(endpoint_id, self.throttles)
        if throttle is None:
            return None
        value = path_value(template, path, throttle.per)
        return None if value is None else (throttle, value)

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
            slots = self._slots.setdefault((throttle.name, value),
                                           deque(maxlen=throttle.calls))
            start = now
            if len(slots) == throttle.calls:
                # The slot `calls` back must have left the window before this one starts.
                start = max(now, slots[0] + throttle.window + self._margin)
            slots.append(start)
        return Reservation(throttle, value, start - now)

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
            slots = self._slots.setdefault((throttle.name, value),
                                           deque(maxlen=throttle.calls))
            slots.extend([now] * throttle.calls)
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
    if isinstance(option, (str, bytes)):
        raise TypeError("throttle: give True, False, a dict by limit name, or Throttle objects")
    table_list = list(option)
    for item in table_list:
        if not isinstance(item, Throttle):
            raise TypeError(f"throttle: {item!r} is not a Throttle")
    return tuple(table_list)


def limiter_for(option: ThrottleOption) -> Limiter | None:
    """The limiter of a new ``API(throttle=option)``; ``None`` when no throttle is left."""
    throttles = throttles_from_option(option)
    return Limiter(throttles) if throttles else None


def wait_before(limiter: Limiter, call: WireCall) -> float:
    """Seconds ``call`` must wait before it is sent (its slot is taken); logged when > 0.

    Every attempt takes a slot, retries too: Losant counts each request that arrives.
    """
    endpoint = call.endpoint
    if endpoint is None or call.url is not None:
        return 0.0
    reservation = limiter.reserve(endpoint.id, endpoint.path, call.path)
    if reservation is None or reservation.delay <= 0:
        return 0.0
    log.info("%s %s: %s", call.method, call.path, reservation.describe())
    return reservation.delay


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
