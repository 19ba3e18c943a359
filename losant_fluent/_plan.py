"""Partition plans: the work behind a result, as small picklable specs fetchable on their own.

A :class:`Plan` describes how to fetch again everything ``to_pandas()`` of a result holds,
cut into :class:`Partition` specs, in the spirit of ``dask.dataframe.from_map``:

* a collection walk (``Devices``, data table rows, ...): runs of pages (``page`` or
  ``offset`` style, counted from ``totalCount``); a walk whose end cannot be counted (cursor
  pages, no ``totalCount``) is one partition that walks;
* a time-series query: devices in chunks (at most ``DEVICE_IDS_PER_CALL``, fewer when a
  partition should hold fewer rows) times time windows, for the chunks that still hold too
  many rows, that are whole multiples of the resolution (so every bucket falls in one
  window); each part is sized so its answer stays well under ``TIME_SERIES_ANSWER_BYTES``;
* a device state history: windows between the states the answer holds (each a few states,
  never more than ``STATES_PER_CALL``);
* any other tabular answer of a GET: one partition asking again.

A spec holds the API's URL, the request(s) (method, path, query, JSON body) and the name of
the result's model: never a token, password or secret; a worker builds its own client (see
``losant_fluent.dask``). The plan's ``meta`` is the empty frame with the columns and dtypes
``to_pandas()`` gives. Pure data: nothing here sends a request.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from ._values import int_or
from .limits import DEVICE_IDS_PER_CALL, STATES_PER_CALL, TIME_SERIES_ANSWER_BYTES

__all__ = ["Partition", "Plan", "Request", "plan_of"]

#: What one time-series partition aims at, in answer bytes: a fraction of Losant's cap, so
#: a window denser than the answer the plan was made from still fits.
PARTITION_BYTES = TIME_SERIES_ANSWER_BYTES // 4
# Query parameters that place a state-history request in time (replaced by the window's).
_STATE_TIME = ("start", "end", "duration", "since", "limit")
# Body members that choose a time-series query's devices and window (replaced per part).
_SERIES_CHOICE = ("deviceIds", "deviceTags", "deviceQuery", "start", "end", "duration")


@dataclass(frozen=True)
class Request:
    """One HTTP request: ``method`` to ``path`` (below the API's URL) with ``query`` pairs
    (as sent: text) and a JSON ``body`` (decoded; ``None`` for none). ``template`` is the
    catalog endpoint's path (``/applications/{applicationId}/devices``), so a worker sends
    it through that endpoint's verb."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    body: Any = None
    template: str = ""

    def with_query(self, **values: Any) -> Request:
        """This request with the query parameters ``values`` set (others kept in order)."""
        pairs = [(k, v) for k, v in self.query if k not in values]
        pairs += [(k, str(v)) for k, v in values.items() if v is not None]
        return replace(self, query=tuple(pairs))


@dataclass(frozen=True)
class Partition:
    """One partition: the ``requests`` whose answers (of the model ``result``) make its rows.

    ``walk`` (``"page"``, ``"offset"``, ``"cursor"``) makes the one request the first page
    of a walk followed to its end. ``url`` is the API's base URL; ``plan`` the plan's name
    (dask keys, the concurrency bound); ``index`` its place in the plan.
    """

    url: str
    result: str
    requests: tuple[Request, ...]
    plan: str = ""
    index: int = 0
    walk: str = ""
    page_size: int = 0

    def __repr__(self) -> str:
        first = self.requests[0] if self.requests else None
        where = f"{first.method} {first.path}" if first else "nothing"
        return (f"<Partition {self.index} of {self.plan}: {self.result}, {len(self.requests)} "
                f"request(s), {where}>")


@dataclass(frozen=True)
class Plan:
    """The partitions of a result and ``meta``, the empty frame of ``to_pandas()``'s columns
    and dtypes. ``name`` is a digest of the partitions: the same work has the same name."""

    partitions: tuple[Partition, ...]
    meta: Any = field(compare=False, repr=False)
    name: str = ""

    def __len__(self) -> int:
        return len(self.partitions)

    def __repr__(self) -> str:
        kind = self.partitions[0].result if self.partitions else "nothing"
        return f"<Plan {self.name}: {len(self.partitions)} partitions of {kind}>"


def _named(partitions: list[Partition], meta: Any) -> Plan:
    digest = hashlib.sha256(repr([(p.url, p.result, p.requests, p.walk)
                                  for p in partitions]).encode()).hexdigest()[:16]
    name = f"losant-{digest}"
    parts = tuple(replace(p, plan=name, index=i) for i, p in enumerate(partitions))
    return Plan(parts, meta, name)


# ----------------------------------------------------------------------- the request


def _endpoint(method: str, path: str) -> tuple[Any, str] | None:
    """The catalog endpoint answering ``method path``, and the base path before it."""
    from . import _catalog

    parts = [unquote(p) for p in path.strip("/").split("/")] if path.strip("/") else []
    best: tuple[Any, str] | None = None
    for endpoint in _catalog.endpoints().values():
        if endpoint.method != method:
            continue
        template = endpoint.path.strip("/").split("/")
        if len(template) > len(parts):
            continue
        tail = parts[len(parts) - len(template):]
        if all(t == p or (t.startswith("{") and t.endswith("}")) for t, p in
               zip(template, tail, strict=True)):
            literal = sum(1 for t in template if not t.startswith("{"))
            base = "/".join(parts[: len(parts) - len(template)])
            if best is None or literal > sum(
                    1 for t in best[0].path.split("/") if t and not t.startswith("{")):
                best = (endpoint, base)
    return best


@dataclass(frozen=True)
class _Sent:
    """What a request was, when only its URL and method are known."""

    url: str
    method: str
    body: Any = None


def _origin(result: Any) -> tuple[str, Request, Any]:
    """The API's URL, the request that answered ``result``, and its catalog endpoint."""
    response: Any = result.http_response() if hasattr(result, "http_response") else None
    request = getattr(response, "request", None)
    if request is None and getattr(response, "url", None):
        # AsyncAPI's answers keep the URL, not the request: a read, or the one query whose
        # body the answer itself tells (see _series).
        series = "TimeSeriesData" in {k.__name__ for k in type(result).__mro__}
        request = _Sent(str(response.url), "POST" if series else "GET")
    if response is None or request is None or not getattr(request, "url", None):
        raise TypeError(
            f"{type(result).__name__} was not read from the API (built by hand, or unpickled): "
            "a plan asks the API again, so it needs the request the result answered")
    parts = urlsplit(str(request.url))
    method = str(request.method or "GET").upper()
    found = _endpoint(method, parts.path)
    if found is None:
        raise TypeError(f"{method} {parts.path}: not an endpoint of the catalog; no plan")
    endpoint, base = found
    path = parts.path[len("/" + base) if base else 0:] if base else parts.path
    url = f"{parts.scheme}://{parts.netloc}" + (f"/{base}" if base else "")
    body = getattr(request, "body", None)
    if body is None:  # an httpx request (AsyncAPI) keeps its bytes as ``content``
        body = getattr(request, "content", None)
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    decoded = json.loads(body) if body else None
    query = tuple(parse_qsl(parts.query, keep_blank_values=True))
    return url, Request(method, path, query, decoded, endpoint.path), endpoint


def _query_value(request: Request, name: str) -> str | None:
    for key, value in request.query:
        if key == name:
            return value
    return None


def _meta(cls: type[Any], raw: Any) -> Any:
    from ._data import frame_of_json

    return frame_of_json(cls, raw).iloc[:0]


# ------------------------------------------------------------------------ the plans


def plan_of(result: Any, *, partition_rows: int | None = None, meta: Any = None) -> Plan:
    """The plan that fetches again what ``to_pandas()`` of ``result`` holds.

    ``partition_rows`` is about how many rows one partition should hold (pages are never
    cut, windows are whole resolutions); ``meta`` (an empty DataFrame) replaces the columns
    and dtypes read from the answer, for collections whose later pages hold more columns.
    Raises ``TypeError`` for a result with no plan, ``ValueError`` for a bad argument.
    """
    from .models import DeviceStates, LastValueData, TimeSeriesData

    if partition_rows is not None and (
        isinstance(partition_rows, bool) or not isinstance(partition_rows, int)
        or partition_rows < 1
    ):
        raise ValueError(f"partition_rows must be a whole number >= 1, not {partition_rows!r}")
    if meta is not None and not (hasattr(meta, "iloc") and hasattr(meta, "columns")):
        raise TypeError(f"meta must be a pandas DataFrame (empty is enough), not "
                        f"{type(meta).__name__}")
    if isinstance(result, LastValueData):
        raise TypeError("LastValueData has no partition plan: its device names need a lookup "
                        "per device; use to_pandas(), or a time-series query")
    url, request, endpoint = _origin(result)
    raw = result.raw_json()
    cls = type(result)
    if isinstance(result, TimeSeriesData):
        partitions = _series(url, request, result, raw, partition_rows)
    elif isinstance(result, DeviceStates):
        partitions = _states(url, request, raw, partition_rows)
    elif isinstance(raw, Mapping) and endpoint.pagination:
        partitions = _pages(url, request, endpoint, cls.__name__, raw, partition_rows)
    elif request.method == "GET":
        partitions = [Partition(url, cls.__name__, (request,))]
    else:
        raise TypeError(f"{cls.__name__} ({endpoint.id}) has no partition plan: only reads "
                        "and queries are asked again")
    frame_meta = _meta(cls, raw) if meta is None else meta.iloc[:0]
    return _named(partitions, frame_meta)


def _pages(url: str, request: Request, endpoint: Any, result: str, raw: Mapping[str, Any],
           partition_rows: int | None) -> list[Partition]:
    """Runs of pages, counted from ``totalCount``; one walking partition when uncounted."""
    style = endpoint.pagination
    size_name = "perPage" if style == "page" else "limit"
    param = endpoint.keyword_params.get(size_name)
    fallback = {"page": 100, "offset": 1000, "cursor": 100}[style]
    size = int_or(raw.get(size_name), int_or(_query_value(request, size_name),
                                         int_or(param.default if param else None, fallback)))
    total = raw.get("totalCount")
    if style == "cursor" or not isinstance(total, int) or isinstance(total, bool) or size < 1:
        return [Partition(url, result, (request,), walk=style, page_size=max(size, 1))]
    per_partition = max(1, (partition_rows or size) // size)
    if style == "page":
        first = int_or(_query_value(request, "page"), 0)
        positions = [{"page": n, size_name: size}
                     for n in range(first, max(first + 1, math.ceil(total / size)))]
    else:
        first = int_or(_query_value(request, "offset"), 0)
        positions = [{"offset": n, size_name: size}
                     for n in range(first, max(first + 1, total), size)]
    out = []
    for at in range(0, len(positions), per_partition):
        run = positions[at:at + per_partition]
        out.append(Partition(url, result, tuple(request.with_query(**p) for p in run)))
    return out


def _millis(value: Any) -> int | None:
    """Epoch milliseconds of an answer's time (ISO text or a number)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str):
        try:  # Python 3.10 reads no trailing Z
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return int(round(moment.timestamp() * 1000))
    return None


def _series(url: str, request: Request, result: Any, raw: Any,
            partition_rows: int | None) -> list[Partition]:
    """Devices in chunks times windows of whole resolutions, newest last unless ``desc``."""
    raw = raw if isinstance(raw, Mapping) else {}
    body = dict(request.body) if isinstance(request.body, Mapping) else {}
    devices = raw.get("devices") if isinstance(raw.get("devices"), Mapping) else {}
    start, end = _millis(raw.get("start")), _millis(raw.get("end"))
    name = type(result).__name__
    if start is None or end is None:
        return [Partition(url, name, (request,))]
    ids = list(devices) or list(body.get("deviceIds") or [])
    base = {k: v for k, v in body.items() if k not in _SERIES_CHOICE}
    if not body:  # only the answer is known (AsyncAPI): it tells the query's settings
        seen = {name: None for d in devices.values() if isinstance(d, Mapping)
                for p in (d.get("points") or []) if isinstance(p, Mapping)
                for name in (p.get("data") or {})}
        base = {k: raw[k] for k in ("aggregation", "resolution", "limit", "order")
                if raw.get(k) is not None}
        if seen:
            base["attributes"] = list(seen)
    aggregation = raw.get("aggregation", body.get("aggregation", "MEAN"))
    kind = aggregation.get("type") if isinstance(aggregation, Mapping) else aggregation
    resolution = int_or(raw.get("resolution"), int_or(body.get("resolution"), 60_000))
    step = 1 if kind == "NONE" else max(1, resolution)
    # Rows (point x attribute) each device's answer held, and the answer's bytes per row.
    rows = {device_id: sum(len((p or {}).get("data") or {}) for p in (d.get("points") or [])
                           if isinstance(p, Mapping))
            for device_id, d in devices.items() if isinstance(d, Mapping)}
    points = [len(d.get("points") or []) for d in devices.values() if isinstance(d, Mapping)]
    limit = int_or(raw.get("limit"), 0)
    # Raw points capped at ``limit`` per device: windows would find more than the answer.
    capped = kind == "NONE" and bool(points) and limit > 0 and max(points) >= limit
    total_rows = sum(rows.values())
    size = len(getattr(result.http_response(), "content", b"") or b"") or 1
    per_row = size / max(1, total_rows)
    target = min(partition_rows or math.inf, PARTITION_BYTES / per_row)
    # Devices first: a chunk of devices over the whole window costs Losant the same rows as
    # windows would, in fewer requests. Windows only when a chunk still holds too many rows.
    average = total_rows / max(1, len(ids))
    chunk = DEVICE_IDS_PER_CALL if average == 0 else int(target // average)
    chunk = max(1, min(DEVICE_IDS_PER_CALL, chunk, max(1, len(ids))))
    steps = max(1, math.ceil((end - start + 1) / step))
    chunks = [ids[at:at + chunk] for at in range(0, len(ids), chunk)] or [[]]
    out = []
    for part in chunks:
        held = sum(rows.get(i, 0) for i in part) if part else total_rows
        count = 1 if capped or held == 0 else max(1, min(steps, math.ceil(held / target)))
        for first, last in _windows(start, end, step, steps, count, raw, body):
            body_part = {**base, "start": first, "end": last}
            if part:
                body_part["deviceIds"] = part
            else:
                body_part.update({k: v for k, v in body.items()
                                  if k in ("deviceTags", "deviceQuery")})
            out.append(Partition(url, name, (replace(request, body=body_part),)))
    return out


def _windows(start: int, end: int, step: int, steps: int, count: int, raw: Mapping[str, Any],
             body: Mapping[str, Any]) -> list[tuple[int, int]]:
    """``count`` adjacent windows over ``start..end`` (inclusive) with edges on multiples of
    ``step`` (Losant's buckets start there), in the answer's order."""
    width = math.ceil(steps / count) * step
    edges = [start]
    edge = start - start % step + width
    while edge <= end:
        edges.append(edge)
        edge += width
    windows = [(a, b - 1) for a, b in zip(edges, edges[1:] + [end + 1], strict=True)]
    if raw.get("order", body.get("order")) == "desc":
        windows.reverse()
    return windows


def _states(url: str, request: Request, raw: Any, partition_rows: int | None) -> list[Partition]:
    """Windows around runs of the answer's states, in the answer's order."""
    states = raw if isinstance(raw, list) else []
    times = [_millis(s.get("time")) if isinstance(s, Mapping) else None for s in states]
    if not times or any(t is None for t in times):
        return [Partition(url, "DeviceStates", (request,))]
    moments = sorted(t for t in times if t is not None)
    per = max(1, min(STATES_PER_CALL, partition_rows or 25))
    runs: list[tuple[int, int]] = []
    at = 0
    while at < len(moments):
        stop = min(len(moments), at + per)
        # States at the same millisecond stay in one window (a window takes both).
        while stop < len(moments) and stop > at + 1 and moments[stop] == moments[stop - 1]:
            stop -= 1
        runs.append((moments[at], moments[stop - 1]))
        at = stop
    direction = (_query_value(request, "sortDirection") or "desc").lower()
    if direction != "asc":
        runs.reverse()
    base = replace(request, query=tuple((k, v) for k, v in request.query
                                        if k not in _STATE_TIME))
    return [Partition(url, "DeviceStates",
                      (base.with_query(start=first, end=last, limit=STATES_PER_CALL),))
            for first, last in runs]
