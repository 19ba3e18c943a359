"""Device state and commands: sending (throttled in ``_limits``), reading back,
composite state, connection status, last-value and time-series queries."""

from __future__ import annotations

import math
import statistics
from typing import Any

from ._context import Ctx, Reply, handles, require
from ._devices import (
    app_devices,
    check_device_query,
    device_field,
    device_matches,
    find_device,
    select_devices,
)
from ._errors import validation
from ._ids import MAX_TIME_MS, iso, new_id, now_ms, parse_time
from ._pagination import by_page
from ._queries import json_param, sort_docs
from ._store import Doc, Store
from ._streams import publish_command, publish_state

AGGREGATIONS = ("FIRST", "LAST", "COUNT", "MAX", "MIN", "MEDIAN", "MEAN", "SUM", "STD_DEV", "NONE")
MAX_BUCKETS = 10000


def _coerce(data_type: str, value: Any) -> Any:
    """A state value converted to its attribute's type; ``None`` if it cannot be."""
    if data_type == "number":
        if isinstance(value, bool):
            return None
        if isinstance(value, (int, float)):
            return value if math.isfinite(value) else None
        try:
            number = float(str(value))
        except ValueError:
            return None
        if not math.isfinite(number):
            return None
        return int(number) if number.is_integer() and "." not in str(value) else number
    if data_type == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).lower()
        return {"true": True, "false": False, "1": True, "0": False}.get(text)
    if isinstance(value, (dict, list)) or value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


@handles("device.sendState")
def send_state(ctx: Ctx) -> Reply:
    """Record one state or a list of states; data for undeclared attributes is dropped."""
    states = ctx.body if isinstance(ctx.body, list) else [ctx.body_dict()]
    with ctx.store.lock:
        device = find_device(ctx)
        types = {a["name"]: a["dataType"] for a in device.get("attributes", [])}
        entries = []
        for state in states:
            if not isinstance(state, dict) or not isinstance(state.get("data"), dict):
                raise validation("each state needs a data object")
            moment = now_ms() if state.get("time") is None else _time(state["time"], "time")
            data = {}
            for name, value in state["data"].items():
                if name in types:
                    coerced = _coerce(types[name], value)
                    if coerced is not None:
                        data[name] = coerced
            entries.append((moment, data))
        history = ctx.store.states.setdefault(device["id"], [])
        history.extend(entries)
        history.sort(key=lambda entry: entry[0])
        for moment, data in entries:
            publish_state(ctx.store, ctx.app_id, device["id"], moment, data)
    return 200, {"success": True}


def _millis(value: Any, name: str) -> float:
    """A finite number of milliseconds from a JSON number or query-string text."""
    if isinstance(value, bool):
        raise validation(f"{name} must be a number of milliseconds")
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise validation(f"{name} must be a number of milliseconds") from None
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        raise validation(f"{name} must be a number of milliseconds")
    if abs(value) > MAX_TIME_MS:
        raise validation(f"{name} must be within 8.64e15 ms")
    return value


def _time(value: Any, name: str) -> int:
    """A request time (epoch ms or date string) within JavaScript's Date range."""
    try:
        return parse_time(value)
    except ValueError as exc:
        raise validation(f"{name} must be a time: {exc}") from None


def _window(ctx: Ctx) -> tuple[int | None, int | None]:
    def read(name: str) -> int | None:
        raw = ctx.query.get(name)
        if raw in (None, ""):
            return None
        return _time(raw, name)

    start, end = read("start"), read("end")
    if start is None:
        start = read("since")
    duration = ctx.query.get("duration")
    if start is None and duration:
        start = int((end if end is not None else now_ms()) - _millis(duration, "duration"))
    return start, end


def _ordered(ctx: Ctx, newest_first: list[Any]) -> list[Any]:
    direction = ctx.query.get("sortDirection") or "desc"
    return newest_first if direction.lower() != "asc" else list(reversed(newest_first))


@handles("device.getState")
def get_state(ctx: Ctx) -> Reply:
    """The device's recent states, newest first (``limit``, ``since``, ``start``, ``end``)."""
    limit = ctx.int_arg("limit", int(ctx.default_of("limit", 1)), minimum=1, maximum=100)
    start, end = _window(ctx)
    with ctx.store.lock:
        device = find_device(ctx)
        history = list(ctx.store.states.get(device["id"], []))
    chosen = [
        {"time": iso(t), "data": dict(d)}
        for t, d in reversed(history)
        if (start is None or t >= start) and (end is None or t <= end)
    ]
    return 200, _ordered(ctx, chosen[:limit])


def composite(
    store: Store,
    device_id: str,
    start: int | None = None,
    end: int | None = None,
    attributes: list[str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Each attribute's latest value (within ``start``..``end``) and when it was reported."""
    out: dict[str, dict[str, Any]] = {}
    for moment, data in store.states.get(device_id, []):
        if (start is not None and moment < start) or (end is not None and moment > end):
            continue
        for name, value in data.items():
            if attributes is None or name in attributes:
                out[name] = {"value": value, "time": iso(moment)}
    return out


def _composite_args(ctx: Ctx) -> tuple[int, int, list[str] | None]:
    """``start``/``end`` (epoch ms; zero or negative: relative to now) and ``attributes``."""
    now = now_ms()
    start = _relative(_millis(ctx.query.get("start") or 1, "start"), now, "start")
    end = _relative(_millis(ctx.query.get("end") or 0, "end"), now, "end")
    raw = ctx.query.get("attributes")
    names = [n.strip() for n in raw.split(",") if n.strip()] if raw else None
    return start, end, names


@handles("device.getCompositeState")
def get_composite(ctx: Ctx) -> Reply:
    """The latest value of every attribute of one device."""
    start, end, names = _composite_args(ctx)
    with ctx.store.lock:
        return 200, composite(ctx.store, find_device(ctx)["id"], start, end, names)


@handles("devices.getCompositeState")
def get_composites(ctx: Ctx) -> Reply:
    """Composite state of the application's devices (advanced ``query``, sorted), a page
    at a time."""
    start, end, names = _composite_args(ctx)
    query = json_param(ctx.query, "query")
    if query is not None:
        check_device_query(query)
    sort_field = ctx.query.get("sortField") or "name"
    direction = ctx.query.get("sortDirection") or "asc"
    if direction.lower() not in ("asc", "desc"):
        raise validation("sortDirection must be asc or desc")
    with ctx.store.lock:
        docs = [d for d in app_devices(ctx.store, ctx.app_id).values() if device_matches(d, query)]
        docs = sort_docs(docs, sort_field, direction, device_field)
        items = [
            {
                "id": d["id"],
                "name": d["name"],
                "compositeState": composite(ctx.store, d["id"], start, end, names),
            }
            for d in docs
        ]
    return 200, by_page(ctx, items)


@handles("device.setConnectionStatus")
def set_connection(ctx: Ctx) -> Reply:
    """Mark the device connected or disconnected (body ``status``)."""
    body = ctx.body_dict()
    status = body.get("status")
    if status not in ("connected", "disconnected"):
        raise validation("status must be connected or disconnected")
    with ctx.store.lock:
        device = find_device(ctx)
        device["connectionInfo"] = {
            "connected": 1 if status == "connected" else 0,
            "time": iso(now_ms()),
        }
    return 200, {"success": True}


# -- commands ---------------------------------------------------------------------------


def _command(body: dict[str, Any]) -> tuple[int, Doc]:
    require(body, "name")
    if not isinstance(body["name"], str) or len(body["name"]) > 255:
        raise validation("name must be a string of at most 255 characters")
    moment = now_ms() if body.get("time") is None else _time(body["time"], "time")
    command: Doc = {"name": body["name"]}
    if "payload" in body:
        command["payload"] = body["payload"]
    return moment, command


@handles("device.sendCommand")
def send_command(ctx: Ctx) -> Reply:
    """Queue a command for one device."""
    entry = _command(ctx.body_dict())
    with ctx.store.lock:
        device = find_device(ctx)
        ctx.store.commands.setdefault(device["id"], []).append(entry)
        publish_command(ctx.store, ctx.app_id, device["id"], *entry)
    return 200, {"success": True}


@handles("devices.sendCommand")
def send_commands(ctx: Ctx) -> Reply:
    """Queue a command for every device chosen by ids, tags or a device query."""
    body = ctx.body_dict()
    entry = _command(body)
    with ctx.store.lock:
        for device in select_devices(ctx.store, ctx.app_id, body):
            ctx.store.commands.setdefault(device["id"], []).append(entry)
            publish_command(ctx.store, ctx.app_id, device["id"], *entry)
    return 200, {"success": True}


@handles("device.getCommand")
def get_commands(ctx: Ctx) -> Reply:
    """Recent commands sent to a device, newest first (``limit``, ``since``)."""
    limit = ctx.int_arg("limit", int(ctx.default_of("limit", 1)), minimum=1, maximum=1000)
    start, end = _window(ctx)
    with ctx.store.lock:
        device = find_device(ctx)
        entries = list(ctx.store.commands.get(device["id"], []))
    entries.sort(key=lambda entry: entry[0], reverse=True)
    out = [
        {"time": iso(t), **c}
        for t, c in entries
        if (start is None or t >= start) and (end is None or t <= end)
    ]
    return 200, _ordered(ctx, out[:limit])


@handles("device.removeData", "devices.removeData")
def remove_data(ctx: Ctx) -> Reply:
    """Forget the state history of one device or of the chosen devices (queued as a job)."""
    with ctx.store.lock:
        if "deviceId" in ctx.args:
            chosen = [find_device(ctx)]
        else:  # the bulk form needs ``query``, as the API's does (``{}`` selects all)
            require(ctx.body_dict(), "query")
            chosen = select_devices(ctx.store, ctx.app_id, ctx.body_dict())
        for device in chosen:
            ctx.store.states.pop(device["id"], None)
    return 202, {"jobQueued": True, "jobId": new_id()[:21], "success": True}


# -- data queries -----------------------------------------------------------------------


@handles("data.lastValueQuery")
def last_value(ctx: Ctx) -> Reply:
    """The latest state of each chosen device (of ``attribute`` alone when given)."""
    body = ctx.body_dict()
    attribute = body.get("attribute")
    if attribute is not None and not isinstance(attribute, str):
        raise validation("attribute must be an attribute name")
    end = _relative(body["end"], now_ms(), "end") if body.get("end") is not None else None
    out: dict[str, Any] = {}
    with ctx.store.lock:
        for device in select_devices(ctx.store, ctx.app_id, body):
            history = ctx.store.states.get(device["id"], [])
            for moment, data in reversed(history):
                if end is not None and moment > end:
                    continue
                if attribute and attribute not in data:
                    continue
                chosen = {attribute: data[attribute]} if attribute else dict(data)
                out[device["id"]] = {"time": iso(moment), "data": chosen}
                break
    return 200, out


def _relative(value: Any, now: int, name: str) -> int:
    """Epoch ms, or (zero or negative) ms relative to now; 400 outside the Date range."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise validation(f"{name} must be a number of milliseconds")
    moment = _millis(value, name)
    moment = now + moment if moment <= 0 else moment
    if abs(moment) > MAX_TIME_MS:
        raise validation(f"{name} must be within 8.64e15 ms of 1970-01-01")
    return int(moment)


def _names(value: Any, name: str) -> list[str] | None:
    """An optional array of attribute names (``None`` when absent)."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise validation(f"{name} must be an array of attribute names")
    return value


def _aggregate(kind: str, values: list[Any]) -> Any:
    if kind == "FIRST":
        return values[0]
    if kind == "LAST":
        return values[-1]
    if kind == "COUNT":
        return len(values)
    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if not numbers:
        return None
    try:
        return _numeric(kind, numbers)
    except (OverflowError, ValueError):  # beyond a double: JavaScript would say Infinity
        return None


def _numeric(kind: str, numbers: list[float]) -> Any:
    if kind == "MAX":
        return max(numbers)
    if kind == "MIN":
        return min(numbers)
    if kind == "SUM":
        return sum(numbers)
    if kind == "MEAN":
        return statistics.fmean(numbers)
    if kind == "MEDIAN":
        return statistics.median(numbers)
    return statistics.pstdev(numbers)


def _tag_object(device: Doc) -> dict[str, list[str]]:
    tags: dict[str, list[str]] = {}
    for tag in device.get("tags", []):
        tags.setdefault(tag["key"], []).append(tag["value"])
    return tags


@handles("data.timeSeriesQuery")
def time_series(ctx: Ctx) -> Reply:
    """Bucket the chosen devices' states by ``resolution`` over a window and aggregate.

    ``end`` defaults to now, ``start`` to ``end - duration`` (``duration`` defaults to one
    day); zero or negative ``start``/``end`` are relative to now. Buckets start at
    multiples of the resolution (default 60 000 ms); empty buckets are left out.
    Aggregation ``NONE`` returns the raw points instead, up to ``limit`` (default 1000)
    in ``order`` (``asc``/``desc``).
    """
    body = ctx.body_dict()
    now = now_ms()
    end = _relative(body.get("end", 0), now, "end")
    duration = _millis(body.get("duration", 86_400_000), "duration")
    if "start" in body:
        start = _relative(body["start"], now, "start")
    else:
        start = int(end - duration)
        if abs(start) > MAX_TIME_MS:
            raise validation("duration reaches beyond 8.64e15 ms of 1970-01-01")
    if start > end:
        raise validation("start must not be after end")
    aggregation = body.get("aggregation", "MEAN")
    kind = aggregation.get("type") if isinstance(aggregation, dict) else aggregation
    if not isinstance(kind, str) or kind not in AGGREGATIONS:
        raise validation(f"aggregation must be one of {', '.join(AGGREGATIONS)}")
    resolution = int(_millis(body.get("resolution", 60_000), "resolution"))
    if resolution <= 0:
        raise validation("resolution must be at least 1 ms")
    if kind != "NONE" and (end - start) / resolution > MAX_BUCKETS:
        raise validation(f"the window holds more than {MAX_BUCKETS} buckets of this resolution")
    attributes = _names(body.get("attributes"), "attributes")
    order = body.get("order", "asc")
    if order not in ("asc", "desc"):
        raise validation("order must be asc or desc")
    limit = body.get("limit", 1000)
    if isinstance(limit, bool) or not isinstance(limit, (int, float)) or not limit >= 0:
        raise validation("limit must be a non-negative number")
    limit = int(min(limit, 10_000))
    devices: dict[str, Any] = {}
    with ctx.store.lock:
        chosen = select_devices(ctx.store, ctx.app_id, body)
        histories = {d["id"]: list(ctx.store.states.get(d["id"], [])) for d in chosen}
    for device in chosen:
        points_in = [
            (t, {k: v for k, v in data.items() if attributes is None or k in attributes})
            for t, data in histories[device["id"]]
            if start <= t <= end
        ]
        points_in = [(t, d) for t, d in points_in if d]
        if kind == "NONE":
            ordered = points_in if order == "asc" else list(reversed(points_in))
            points = [{"time": iso(t), "data": d} for t, d in ordered[:limit]]
        else:
            buckets: dict[int, dict[str, list[Any]]] = {}
            for t, data in points_in:
                bucket = buckets.setdefault(t - t % resolution, {})
                for name, value in data.items():
                    bucket.setdefault(name, []).append(value)
            points = []
            for bucket_start in sorted(buckets):
                data = {}
                for name, values in buckets[bucket_start].items():
                    value = _aggregate(kind, values)
                    if value is not None:
                        data[name] = value
                if data:
                    points.append({"time": iso(bucket_start), "data": data})
            if order == "desc":
                points.reverse()
        devices[device["id"]] = {
            "name": device["name"],
            "tags": _tag_object(device),
            "points": points,
        }
    return 200, {
        "start": iso(start),
        "end": iso(end),
        "resolution": resolution if kind != "NONE" else None,
        "aggregation": aggregation,
        "limit": limit if kind == "NONE" else None,
        "order": order,
        "devices": devices,
    }
