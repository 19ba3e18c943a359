"""Tables and progress bars for data scripts (the optional ``data`` extra: pandas, tqdm).

Nothing here is imported by ``import losant_fluent``: pandas and tqdm are imported when a
table or a progress bar is first asked for, and a clear ``ImportError`` naming the extra
says what to install when they are missing. See ``docs/data.md``.

:func:`to_pandas` gives each kind of result its table:

* a collection (``Devices``, ``Events``...; every page walked) or a list result
  (``DeviceCommands``...): one row per item, columns named as the API names the fields,
  nested objects flattened to dotted columns (``connectionInfo.connected``), lists kept as
  lists. Rows are built from the JSON as the API sent it (``iter_items(raw=True)``), and
  the columns the item model types as date-times become ``datetime64[ms, UTC]``;
* data table rows (``DataTableRows``): ``id``, the table's columns, ``createdAt``,
  ``updatedAt``;
* ``TimeSeriesData``: long form, ``time, device_id, device_name, attribute, value``;
* ``LastValueData``: ``device_id, device_name, attribute, time, value``;
* ``DeviceStates``: ``time`` and one column per attribute.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from itertools import chain
from typing import Any, get_args, get_origin

from ._progress import need

__all__ = ["frame_of_json", "to_pandas"]

# Losant writes times with millisecond precision; ``ms`` also holds every date JavaScript can.
TIME_UNIT = "ms"


# ------------------------------------------------------------------------ tables


def to_pandas(result: Any, *, progress: bool = False,
              device_names: Mapping[str, str] | None = None) -> Any:
    """``result`` as a ``pandas.DataFrame`` (see the module docstring for the shapes).

    ``progress=True`` shows a progress bar on stderr while the pages of a collection are
    fetched. ``device_names`` (device id -> name) fills the ``device_name`` column of last
    values, whose answer carries no names; nothing is asked of the API for them. Raises
    ``TypeError`` for a result with no tabular form, ``ImportError`` when pandas is not
    installed.
    """
    convert = _converter(result)
    pd = need("pandas", "to_pandas()")
    return convert(pd, result, progress, device_names or {})


def frame_of_json(cls: type[Any], raw: Any) -> Any:
    """The table ``to_pandas()`` gives a result of type ``cls`` whose JSON is ``raw``, for
    that JSON alone: a collection's page gives its own items, no page after it is fetched.

    Partitions of a plan (``losant_fluent.dask``) build their frames with it, so a frame
    made of partitions has the columns and dtypes of ``to_pandas()``. ``TypeError`` for a
    type with no tabular form, or a last-value answer (its names are not in its JSON).
    Read off the class's names, as ``to_pandas()`` does, so no model is imported here.
    """
    pd = need("pandas", "a DataFrame")
    names = {klass.__name__ for klass in cls.__mro__}
    if "TimeSeriesData" in names:
        return _time_series_frame(pd, raw, {})
    if "DeviceStates" in names:
        return _states_frame(pd, raw)
    if "LastValueData" not in names:
        items = raw.get("items") if isinstance(raw, Mapping) else None
        rows = [_flat(item) for item in items] if isinstance(items, list) else []
        if "DataTableRows" in names:
            return _table_columns(pd, _frame(pd, rows, _item_model(cls, "items")))
        if "items" in getattr(cls, "model_fields", {}):
            return _frame(pd, rows, _item_model(cls, "items"))
        if getattr(cls, "__losant_shape__", None) == "list":
            listed = [_flat(item) for item in raw] if isinstance(raw, list) else []
            return _frame(pd, listed, _item_model(cls, "root"))
    raise TypeError(f"{cls.__name__}: no table is built from its JSON alone")


def _converter(result: Any) -> Any:
    from .models._types import tabular_kind

    kind = tabular_kind(result)
    if kind is None:
        raise TypeError(
            f"{type(result).__name__} has no tabular form: to_pandas() takes a collection "
            "(Devices, DataTableRows...), a list result (DeviceCommands...), TimeSeriesData, "
            "LastValueData or DeviceStates"
        )
    return _CONVERTERS[kind]


def _json(result: Any) -> Any:
    """The JSON the API sent for ``result``, or (built by hand) the JSON it stands for."""
    raw = result.raw_json()
    if raw is None:
        raw = result.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return raw


def _flat(item: Any, prefix: str = "", out: dict[str, Any] | None = None) -> dict[str, Any]:
    """One row: nested objects become dotted keys, everything else is kept as it is."""
    if out is None:
        out = {}
        if not isinstance(item, Mapping):
            out["value"] = item
            return out
    for key, value in item.items():
        name = prefix + str(key)
        if isinstance(value, Mapping) and not _is_date_object(value):
            _flat(value, name + ".", out)
        else:
            out[name] = value
    return out


def _is_date_object(value: Mapping[Any, Any]) -> bool:
    """``{"$date": text}``: a time, kept whole (see ``_times``), not a nested object."""
    return len(value) == 1 and "$date" in value


def _collection(pd: Any, result: Any, progress: bool, names: Mapping[str, str]) -> Any:
    return _frame(pd, _item_rows(result, progress), _item_model(type(result), "items"))


def _list(pd: Any, result: Any, progress: bool, names: Mapping[str, str]) -> Any:
    items = _json(result)
    rows = [_flat(item) for item in items] if isinstance(items, list) else []
    return _frame(pd, rows, _item_model(type(result), "root"))


def _table_rows(pd: Any, result: Any, progress: bool, names: Mapping[str, str]) -> Any:
    frame = _frame(pd, _item_rows(result, progress), _item_model(type(result), "items"))
    return _table_columns(pd, frame)


def _table_columns(pd: Any, frame: Any) -> Any:
    """Data table rows' columns in order: ``id``, the table's, ``createdAt``, ``updatedAt``."""
    for name in ("id", "createdAt", "updatedAt"):
        if name not in frame.columns:
            empty = pd.Series([None] * len(frame), dtype=object)
            frame[name] = _times(pd, empty) if name != "id" else empty
    columns = [c for c in frame.columns if c not in ("id", "createdAt", "updatedAt")]
    return frame[["id", *columns, "createdAt", "updatedAt"]]


def _item_rows(result: Any, progress: bool) -> list[dict[str, Any]]:
    """Every item of every page, flattened."""
    if isinstance(result.raw_json(), Mapping):
        return [_flat(item) for item in result.iter_items(raw=True, progress=progress)]
    # Built by hand (or read back from a pickle): its own items, as the JSON they stand for.
    return [
        _flat(
            item.model_dump(mode="json", by_alias=True, exclude_unset=True)
            if hasattr(item, "model_dump")
            else item
        )
        for item in result.iter_items(progress=progress)
    ]


def _frame(pd: Any, rows: list[dict[str, Any]], model: Any) -> Any:
    """A frame of flattened rows, date-time columns (by the item model) as UTC datetimes."""
    from .models._types import type_at

    frame = pd.DataFrame(rows)
    if model is None:
        return frame
    for column in frame.columns:
        if _is_datetime(type_at(model, str(column).split("."))):
            frame[column] = _times(pd, frame[column])
    return frame


# -------------------------------------------------------------------- model types


def _item_model(cls: type[Any], field: str) -> Any:
    """The model class of the items of a collection (``items``) or list (``root``) model."""
    from .models._types import is_model_class, members

    info = getattr(cls, "model_fields", {}).get(field)
    if info is None:
        return None
    for member in members(info.annotation):
        if get_origin(member) is list and get_args(member):
            for item in members(get_args(member)[0]):
                if is_model_class(item):
                    return item
    return None


def _is_datetime(tp: Any) -> bool:
    """Whether ``tp`` is a time: a date-time (``LosantDateTime``), or Losant's time union
    ``[date-time or] string or number or {"$date": string}`` (the ``time`` of states and
    commands)."""
    from .models._types import is_model_class, keys_of, members

    if tp is None:
        return False
    found = [m for m in members(tp) if m is not type(None)]
    if found and all(m is datetime for m in found):
        return True
    dates = [m for m in found if is_model_class(m) and set(keys_of(m)) >= {"$date"}]
    return bool(dates) and all(m in dates or m in (str, float, int, datetime) for m in found)


# --------------------------------------------------------------------------- times


_TEXT_TYPES = frozenset({str, type(None)})
_NUMBER_TYPES = frozenset({float, int})


def _times(pd: Any, values: Any) -> Any:
    """Losant times (ISO 8601 text, epoch milliseconds, ``{"$date": text}``) as a
    ``datetime64[ms, UTC]`` Series; a column that cannot be read as times is kept as is."""
    listed = values if isinstance(values, list) else None  # checked faster than a Series
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    try:
        if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(
            series.dtype
        ):
            converted = pd.to_datetime(series, unit="ms", utc=True)
        elif (listed is not None and set(map(type, listed)) <= _TEXT_TYPES) or all(
            isinstance(v, str) or _missing(v) for v in (series if listed is None else listed)
        ):  # the set of types first: one pass in C over a big column
            converted = pd.to_datetime(series, utc=True, format="ISO8601")
        else:
            converted = pd.to_datetime(
                pd.Series([_one_time(pd, v) for v in series], index=series.index, dtype=object),
                utc=True,
            )
        return converted.dt.as_unit(TIME_UNIT)
    except (ValueError, TypeError, OverflowError):
        return series


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _one_time(pd: Any, value: Any) -> Any:
    if isinstance(value, Mapping):
        value = value.get("$date")
    if _missing(value):
        return None
    if isinstance(value, bool):
        raise TypeError("not a time")
    if isinstance(value, (int, float)):
        return pd.Timestamp(value, unit="ms", tz="UTC")
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _text(pd: Any, values: list[Any]) -> Any:
    """A column of text, in the pandas version's own text dtype (also when empty)."""
    return pd.Series(values) if values else pd.Series(["x"]).iloc[:0].reset_index(drop=True)


def _values(pd: Any, values: list[Any]) -> Any:
    """Attribute values: ``float64`` when they are all numbers (as the models hold them:
    JSON's ``20`` is the reading ``20.0``), else objects. No values at all are ``float64``
    too, so that ``pd.concat`` of chunks, some empty, keeps a numeric column numeric.
    Among other values numbers are floats as well."""
    if set(map(type, values)) <= _NUMBER_TYPES:  # the usual case: one pass in C
        return pd.Series(values, dtype="float64")
    numbers = [
        float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v
        for v in values
    ]
    if all(type(v) is float for v in numbers):
        return pd.Series(numbers, dtype="float64")
    return pd.Series(numbers, dtype=object)


# ----------------------------------------------------------------- shaped results


def _time_series(pd: Any, result: Any, progress: bool, names: Mapping[str, str]) -> Any:
    from .models._lazy import pending_json

    # The devices as the response's one decode left them (unread, so still JSON); only
    # when they were read already (built into models) is the body decoded again.
    devices = pending_json(result, "devices")
    if devices is None:
        raw = _json(result)
        devices = raw.get("devices") if isinstance(raw, Mapping) else None
    return _time_series_frame(pd, {"devices": devices}, names)


def _time_series_frame(pd: Any, raw: Any, names: Mapping[str, str]) -> Any:
    devices = raw.get("devices") if isinstance(raw, Mapping) else None
    stamps: list[Any] = []  # one time per point that has values
    datas: list[dict[Any, Any]] = []  # that point's values
    per_point: list[int] = []  # how many
    ids: list[str] = []  # one id and name per device that has values
    shown: list[Any] = []
    per_device: list[int] = []
    # A column holds one entry per value, but a time, an id and a name are shared by all
    # the values of a point or device: each is read (and its time parsed) once and then
    # repeated in C. Attributes and values come out of the data objects in C as well.
    for device_id, device in (devices.items() if isinstance(devices, Mapping) else ()):
        if not isinstance(device, Mapping):
            continue
        points, times, counts = _points(device.get("points"))
        if not points:
            continue
        name = device.get("name")
        stamps += times
        datas += points
        per_point += counts
        ids.append(device_id)
        shown.append(names.get(device_id) if name is None else name)
        per_device.append(sum(counts))
    return pd.DataFrame(
        {
            "time": _point_times(pd, stamps, per_point),
            "device_id": _repeated(_text(pd, ids), per_device),
            "device_name": _repeated(_text(pd, shown), per_device),
            "attribute": _text(pd, list(chain.from_iterable(datas))),
            "value": _values(pd, list(chain.from_iterable(map(dict.values, datas)))),
        },
        copy=False,
    )


def _points(points: Any) -> tuple[list[dict[Any, Any]], list[Any], list[int]]:
    """The data objects of a device's points that hold values, their times and sizes."""
    if not points:
        return [], [], []
    try:  # the usual shape: a list of {"time": ..., "data": {...}}, read in comprehensions
        datas = [point["data"] for point in points]
        times = [point["time"] for point in points]
        shaped = set(map(type, datas)) == {dict}
    except (TypeError, KeyError, IndexError):
        shaped = False
    if not shaped:  # anything else, one point at a time: what is not a point is skipped
        datas, times = [], []
        for point in points if isinstance(points, (list, tuple)) else ():
            if isinstance(point, Mapping) and isinstance(point.get("data"), Mapping):
                datas.append(dict(point["data"]))
                times.append(point.get("time"))
    counts = list(map(len, datas))
    if 0 in counts:  # a point with no values has no row (nor its time a say in the dtype)
        kept = [i for i, count in enumerate(counts) if count]
        datas, times, counts = [datas[i] for i in kept], [times[i] for i in kept], [
            counts[i] for i in kept
        ]
    return datas, times, counts


def _point_times(pd: Any, stamps: list[Any], counts: list[int]) -> Any:
    """The time column: each point's time ``counts[i]`` times, as ``_times`` reads them.

    When every time is text in UTC (``...Z``, as Losant writes them), each distinct time is
    parsed once: the devices of an answer usually share their times (one per resolution
    step), and before pandas 3 parsing is most of the frame's cost. Other columns are read
    point by point, in order: ``1``, ``1.0`` and ``True`` (or ``None`` and NaN) must not be
    taken for one another, and pandas 2 reads a time with no zone in the offset of the time
    before it. Whether the column is read as times at all depends on the set of values,
    which is the same either way."""
    if set(map(type, stamps)) == {str}:
        distinct = dict.fromkeys(stamps)
        if all(stamp.endswith("Z") for stamp in distinct):
            at = {stamp: position for position, stamp in enumerate(distinct)}
            positions = [at[stamp] for stamp in stamps]
            return _repeated(_times(pd, list(distinct)), counts, positions)
    return _repeated(_times(pd, stamps), counts)


def _repeated(column: Any, counts: list[int], positions: Any = None) -> Any:
    """Entry ``positions[i]`` of ``column`` (the ``i``-th by default) ``counts[i]`` times,
    indexed 0..n-1, its dtype kept.

    By ``take``: ``Series.repeat`` of an object column of text gives pandas 3's ``str``,
    where the column built whole (times that cannot be read as times) stays ``object``."""
    from numpy import arange, repeat  # pandas' own dependency

    at = arange(len(counts)) if positions is None else positions
    return column.take(repeat(at, counts)).reset_index(drop=True)


def _last_values(pd: Any, result: Any, progress: bool, names: Mapping[str, str]) -> Any:
    raw = _json(result)
    states = raw if isinstance(raw, Mapping) else {}
    ids: list[str] = []
    attributes: list[str] = []
    times: list[Any] = []
    values: list[Any] = []
    for device_id, state in states.items():
        state = state if isinstance(state, Mapping) else {}
        for attribute, value in (state.get("data") or {}).items():
            ids.append(device_id)
            attributes.append(attribute)
            times.append(state.get("time"))
            values.append(value)
    return pd.DataFrame(
        {
            "device_id": _text(pd, ids),
            "device_name": _text(pd, [names.get(i) for i in ids]),
            "attribute": _text(pd, attributes),
            "time": _times(pd, times),
            "value": _values(pd, values),
        }
    )


def _states(pd: Any, result: Any, progress: bool, names: Mapping[str, str]) -> Any:
    return _states_frame(pd, _json(result))


def _states_frame(pd: Any, raw: Any) -> Any:
    rows: list[dict[str, Any]] = []
    times: list[Any] = []
    attributes: dict[str, None] = {}
    for state in raw if isinstance(raw, list) else []:
        state = state if isinstance(state, Mapping) else {}
        data = state.get("data")
        data = data if isinstance(data, Mapping) else {}
        times.append(state.get("time"))
        # An attribute named ``time`` gets the column ``data.time``, beside the state's time.
        row = {("data.time" if key == "time" else str(key)): value for key, value in data.items()}
        rows.append(row)
        attributes.update(dict.fromkeys(row))
    frame = pd.DataFrame(rows, columns=list(attributes), index=range(len(rows)))
    frame.insert(0, "time", _times(pd, times))
    return frame


_CONVERTERS = {
    "time_series": _time_series, "last_values": _last_values, "states": _states,
    "table_rows": _table_rows, "collection": _collection, "list": _list,
}
