"""The emulator's operating limits: Losant's published throttles and answer caps, enforced.

The numbers come from :mod:`losant_fluent.limits` (the client reads the same table), so
the emulator refuses exactly what Losant would:

* a call over a throttle (``30`` state posts per ``15`` s per device, ``15`` event
  creations per ``15`` s per application, ...) is answered ``429``
  ``{"type": "TooManyRequests", ...}`` with no ``Retry-After`` header, since Losant sends
  none; refused calls do not count against the window;
* a time-series answer over ``TIME_SERIES_ANSWER_BYTES`` or a data-table rows answer over
  ``DATA_TABLE_ROWS_ANSWER_BYTES`` is answered ``400`` ``Validation`` instead;
* a ``deviceIds`` list longer than ``DEVICE_IDS_PER_CALL`` is answered ``400``.

``LimitSettings`` holds what an ``Emulator`` was built with (``throttle=``, ``throttles=``,
``time_scale=``, the cap sizes); ``before`` and ``check_answer`` are the two hooks the WSGI
app calls around each handler. One-at-a-time jobs are checked by ``_jobs``.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeAlias

from .. import limits
from ._errors import Fault, validation

if TYPE_CHECKING:
    from werkzeug.wrappers import Response

    from ._context import Ctx

__all__ = ["LimitSettings", "ThrottlesOption", "before", "check_answer", "describe",
           "limit_settings", "too_many"]

_CALLS = "limits.calls"  # store.extras key: (throttle name, value) -> deque of call times

# Which cap applies to which endpoint's answer, by the LimitSettings field holding it.
_CAPPED = {
    "data.timeSeriesQuery": "time_series_answer_bytes",
    "dataTableRows.get": "data_table_rows_answer_bytes",
    "dataTableRows.query": "data_table_rows_answer_bytes",
}
# Bodies whose ``deviceIds`` list Losant caps (schemas: ``maxItems: 1000``).
_DEVICE_ID_LISTS = frozenset({
    "data.timeSeriesQuery", "data.lastValueQuery", "data.export", "devices.patch",
    "devices.sendCommand",
})


@dataclass(frozen=True)
class LimitSettings:
    """The limits one emulator enforces (see ``limit_settings`` for how they are built)."""

    enabled: bool = True
    throttles: tuple[limits.Throttle, ...] = limits.THROTTLES
    one_at_a_time: tuple[limits.OneAtATime, ...] = limits.ONE_AT_A_TIME
    time_scale: float = 1.0
    time_series_answer_bytes: int | None = limits.TIME_SERIES_ANSWER_BYTES
    data_table_rows_answer_bytes: int | None = limits.DATA_TABLE_ROWS_ANSWER_BYTES
    device_ids_per_call: int | None = limits.DEVICE_IDS_PER_CALL
    #: How long an export or bulk job runs, in seconds (before ``time_scale``).
    job_seconds: float = 2.0
    index: dict[str, limits.Throttle] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        # The endpoint -> throttle index, built once (the dataclass is frozen).
        built = {ep: t for t in self.throttles for ep in t.endpoints}
        object.__setattr__(self, "index", built)

    def window(self, throttle: limits.Throttle) -> float:
        """The throttle's window in emulated seconds (``window * time_scale``)."""
        return throttle.window * self.time_scale

    @property
    def job_duration(self) -> float:
        """How long a job runs here, in seconds."""
        return self.job_seconds * self.time_scale


def _positive(name: str, value: object, *, integer: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, not {type(value).__name__}")
    if integer and not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0 (got {value!r})")


def _cap(name: str, value: int | None) -> int | None:
    if value is not None:
        _positive(name, value, integer=True)
    return value


#: What ``Emulator(throttles=...)`` takes (see ``_replaced``).
ThrottlesOption: TypeAlias = (
    Mapping[str, tuple[int, float] | Mapping[str, float] | limits.Throttle | None]
    | Iterable[limits.Throttle]
)


def _changed(key: str, known: limits.Throttle, value: object) -> limits.Throttle:
    """``known`` with the numbers of one ``throttles`` entry (see ``_replaced``)."""
    if isinstance(value, limits.Throttle):
        return value
    if isinstance(value, tuple) and len(value) == 2:
        numbers: dict[str, Any] = {"calls": value[0], "window": value[1]}
    elif isinstance(value, Mapping) and value and set(value) <= {"calls", "window"}:
        numbers = dict(value)
    else:
        raise TypeError(f"throttles[{key!r}] must be (calls, window seconds), a dict with "
                        f"'calls' and/or 'window', a Throttle or None (got {value!r})")
    if "calls" in numbers:
        _positive(f"throttles[{key!r}] calls", numbers["calls"], integer=True)
    if "window" in numbers:
        _positive(f"throttles[{key!r}] window", numbers["window"])
        numbers["window"] = float(numbers["window"])
    return replace(known, **numbers)


def _replaced(throttles: ThrottlesOption) -> tuple[limits.Throttle, ...]:
    """``limits.THROTTLES`` with entries replaced or dropped, as ``API(throttle=...)`` takes.

    A mapping's keys are throttle names (``"device state"``) or the catalog ids they cover
    (``"device.sendState"``); its values ``(calls, window)``, ``{"calls": n}`` and/or
    ``{"window": s}``, a ``Throttle``, or ``None`` to drop it. An iterable of ``Throttle``
    is the whole table.
    """
    if isinstance(throttles, (str, bytes)) or not isinstance(throttles, (Mapping, Iterable)):
        raise TypeError("throttles must be a mapping of throttle name to (calls, window "
                        f"seconds), a dict, a Throttle or None, or Throttle objects; not "
                        f"{type(throttles).__name__}")
    if not isinstance(throttles, Mapping):
        table = tuple(throttles)
        for item in table:
            if not isinstance(item, limits.Throttle):
                raise TypeError(f"throttles: {item!r} is not a losant_fluent.limits.Throttle")
        return table
    by_key: dict[str, limits.Throttle] = {}
    for throttle in limits.THROTTLES:
        by_key[throttle.name] = throttle
        by_key.update(dict.fromkeys(throttle.endpoints, throttle))
    out = {t.name: t for t in limits.THROTTLES}
    for key, value in throttles.items():
        known = by_key.get(key) if isinstance(key, str) else None
        if known is None:
            names = ", ".join(repr(t.name) for t in limits.THROTTLES)
            raise ValueError(f"throttles: unknown throttle {key!r}; known: {names} "
                             "(or an endpoint id they cover, such as 'device.sendState')")
        if value is None:
            out.pop(known.name, None)
        else:
            out[known.name] = _changed(key, known, value)
    return tuple(out.values())


def limit_settings(
    *,
    throttle: bool = True,
    throttles: ThrottlesOption | None = None,
    time_scale: float = 1.0,
    time_series_answer_bytes: int | None = limits.TIME_SERIES_ANSWER_BYTES,
    data_table_rows_answer_bytes: int | None = limits.DATA_TABLE_ROWS_ANSWER_BYTES,
    job_seconds: float = 2.0,
) -> LimitSettings:
    """Check an ``Emulator``'s limit options and build its ``LimitSettings``.

    ``throttle=False`` turns every throttle and one-at-a-time rule off; ``throttles``
    replaces or drops entries of ``losant_fluent.limits.THROTTLES`` (``_replaced``); ``time_scale``
    multiplies every window and job duration (``0.01``: a 15 s window lasts 0.15 s);
    a cap of ``None`` is no cap.
    """
    if not isinstance(throttle, bool):
        raise TypeError(f"throttle must be True or False, not {type(throttle).__name__}")
    _positive("time_scale", time_scale)
    _positive("job_seconds", job_seconds)
    table = limits.THROTTLES if throttles is None else _replaced(throttles)
    return LimitSettings(
        enabled=throttle,
        throttles=table,
        time_scale=float(time_scale),
        time_series_answer_bytes=_cap("time_series_answer_bytes", time_series_answer_bytes),
        data_table_rows_answer_bytes=_cap("data_table_rows_answer_bytes",
                                          data_table_rows_answer_bytes),
        job_seconds=float(job_seconds),
    )


def too_many(message: str) -> Fault:
    """Losant's 429 answer: ``TooManyRequests`` and no ``Retry-After`` (Losant sends none)."""
    return Fault(429, "TooManyRequests", message)


def _check_device_ids(ctx: Ctx, settings: LimitSettings) -> None:
    most = settings.device_ids_per_call
    if most is None or ctx.endpoint.id not in _DEVICE_ID_LISTS or not isinstance(ctx.body, dict):
        return
    ids = ctx.body.get("deviceIds")
    if isinstance(ids, list) and len(ids) > most:
        raise validation(f"deviceIds should NOT have more than {most} items "
                         f"(got {len(ids)}); split the list")


def before(ctx: Ctx) -> None:
    """Refuse a call over its throttle (429) or with too long a ``deviceIds`` list (400).

    Called with the store's lock held, after authorization and before the handler; a call
    let through is counted in its window.
    """
    settings: LimitSettings = ctx.settings.limits
    _check_device_ids(ctx, settings)
    if not settings.enabled:
        return
    throttle = settings.index.get(ctx.endpoint.id)
    if throttle is None:
        return
    value = ctx.args.get(throttle.per)
    if value is None:  # the counted parameter is not in this path
        return
    window = settings.window(throttle)
    calls: dict[tuple[str, str], deque[float]] = ctx.store.extras.setdefault(_CALLS, {})
    times = calls.setdefault((throttle.name, value), deque())
    now = time.monotonic()
    while times and now - times[0] >= window:
        times.popleft()
    if len(times) >= throttle.calls:
        raise too_many(f"Over rate limit, request throttled: {throttle.name} allows "
                       f"{throttle.calls} calls per {window:g} seconds per {throttle.per}")
    times.append(now)


def check_answer(ctx: Ctx, response: Response) -> None:
    """Refuse an answer larger than Losant's cap for the endpoint (400 ``Validation``)."""
    field_name = _CAPPED.get(ctx.endpoint.id)
    if field_name is None or response.status_code != 200:
        return
    cap: int | None = getattr(ctx.settings.limits, field_name)
    size = response.content_length
    if size is None:
        size = len(response.get_data())
    if cap is not None and size > cap:
        what = "time series data" if ctx.endpoint.id == "data.timeSeriesQuery" else "rows"
        raise validation(f"The requested {what} is too large ({size} bytes; the limit is "
                         f"{cap} bytes): narrow the time range, the devices or the "
                         "attributes, or use an export")


def describe(settings: LimitSettings) -> dict[str, Any]:
    """The enforced limits as plain data (for ``Emulator.limits`` and the docs)."""
    return {
        "enabled": settings.enabled,
        "time_scale": settings.time_scale,
        # Rounded: 15 * 0.1 is 1.5000000000000002 in floating point, 1.5 to a reader.
        "throttles": {t.name: (t.calls, round(settings.window(t), 9))
                      for t in settings.throttles},
        "time_series_answer_bytes": settings.time_series_answer_bytes,
        "data_table_rows_answer_bytes": settings.data_table_rows_answer_bytes,
        "device_ids_per_call": settings.device_ids_per_call,
        "job_seconds": round(settings.job_duration, 9),
    }
