"""``to_pandas()`` of a time series against a frame built independently from its JSON.

The frame is built from the body's one decode with times parsed once per point and ids,
names and times repeated in C; these tests pin that it is, value for value and dtype for
dtype, the long-form table of the JSON: one row per value, read row by row here with
``pd.Timestamp`` for the times. Every route gives it: the pending JSON of a fresh answer,
the body decoded again once the devices were read, ``frame_of_json``, and an emulator's
answer over HTTP.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

import pytest

from losant_fluent import API
from losant_fluent._data import frame_of_json, to_pandas
from losant_fluent.models import TimeSeriesData
from losant_fluent.models._registry import parse_response_json

pd = pytest.importorskip("pandas")
requests = pytest.importorskip("requests")

from losant_fluent.testing import Emulator  # noqa: E402

COLUMNS = ["time", "device_id", "device_name", "attribute", "value"]
TIME = "datetime64[ms, UTC]"
TEXT = pd.Series(["x"]).dtype  # object before pandas 3, "str" from pandas 3 on

A, B, C, D, E = (f"{n:024x}" for n in range(1, 6))


def document(devices: Any) -> dict[str, Any]:
    return {
        "start": "2026-01-01T00:00:00.000Z", "end": "2026-01-02T00:00:00.000Z",
        "resolution": 60000, "aggregation": "NONE", "limit": 1000, "order": "asc",
        "devices": devices,
    }


def answer(content: bytes) -> Any:
    """The result a call returns for ``content``: parsed as every response is."""
    response = requests.Response()
    response._content = content
    response.status_code = 200
    return parse_response_json("timeSeriesData", content, response)


def by_hand(raw: dict[str, Any], names: dict[str, str] | None = None) -> Any:
    """The expected frame, one row per value, written out without the library's helpers."""
    rows: list[tuple[Any, ...]] = []
    devices = raw.get("devices")
    for device_id, device in (devices if isinstance(devices, dict) else {}).items():
        if not isinstance(device, dict):
            continue
        name = device.get("name")
        if name is None:
            name = (names or {}).get(device_id)
        points = device.get("points")
        for point in points if isinstance(points, (list, tuple)) else []:
            if not isinstance(point, dict) or not isinstance(point.get("data"), dict):
                continue
            for attribute, value in point["data"].items():
                rows.append((point.get("time"), device_id, name, attribute, value))
    stamps = []
    for row in rows:
        stamp = None if row[0] is None else pd.Timestamp(row[0])
        if stamp is not None:
            stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
        stamps.append(stamp)
    values = [
        float(r[4]) if isinstance(r[4], (int, float)) and not isinstance(r[4], bool) else r[4]
        for r in rows
    ]
    numeric = all(type(v) is float for v in values)
    return pd.DataFrame({
        "time": pd.Series(stamps, dtype=TIME),
        "device_id": pd.Series([r[1] for r in rows], dtype=TEXT),
        "device_name": pd.Series([r[2] for r in rows], dtype=TEXT),
        "attribute": pd.Series([r[3] for r in rows], dtype=TEXT),
        "value": pd.Series(values, dtype="float64" if numeric else object),
    })


def every_route(raw: dict[str, Any], names: dict[str, str] | None = None) -> list[Any]:
    """The frame by each route a result takes to it."""
    content = json.dumps(raw).encode()
    fresh = to_pandas(answer(content), device_names=names)
    read = answer(content)
    assert read.devices is not None  # built into models first: the body is decoded again
    frames = [fresh, to_pandas(read, device_names=names)]
    if not names:
        frames.append(frame_of_json(TimeSeriesData, raw))
    return frames


def assert_same(frame: Any, expected: Any) -> None:
    assert list(frame.columns) == COLUMNS
    assert {c: str(t) for c, t in frame.dtypes.items()} == {
        c: str(t) for c, t in expected.dtypes.items()
    }
    pd.testing.assert_frame_equal(frame, expected, check_exact=True)


MIXED = document({
    A: {"name": "boiler", "tags": {}, "points": [
        # Losant's own form, then other forms of ISO 8601: no milliseconds, offsets,
        # fewer digits (a time with no zone is read as UTC: see the next test).
        {"time": "2026-01-01T00:00:00.000Z", "data": {"t": 20, "h": 40.5, "mode": "eco"}},
        {"time": "2026-01-01T00:01:00Z", "data": {"t": 21.25, "h": None}},
        {"time": "2026-01-01T02:02:00.5+02:00", "data": {"t": True, "h": 41}},
        {"time": "2026-01-01T00:03:00.25Z", "data": {}},  # no values: no row
        {"time": "2026-01-01T00:04:00+00:00", "data": {"t": 22}},
        {"data": {"t": 23}},  # no time: NaT
        {"time": "2026-01-01T00:06:00.000Z", "data": None},
    ]},
    B: {"tags": {}, "points": [  # no name
        {"time": "2026-01-01T00:00:00.000Z", "data": {"t": 1}},
        {"time": "2026-01-01T00:00:00.000Z", "data": {"t": 2, "h": "x"}},
    ]},
    C: {"name": "silent", "tags": {}, "points": []},
    D: {"name": "nothing", "tags": {}},  # no points at all
    E: {"name": "last", "tags": {}, "points": [
        {"time": "2026-01-01T00:00:00.000Z", "data": {"t": 3}},
    ]},
})


def test_mixed_values_times_and_missing_names_match_the_frame_by_hand() -> None:
    expected = by_hand(MIXED)
    assert len(expected) == (3 + 2 + 2 + 1 + 1) + (1 + 2) + 1  # one row per value
    assert str(expected["value"].dtype) == "object"
    for frame in every_route(MIXED):
        assert_same(frame, expected)
    frame = every_route(MIXED)[0]
    # Spelled out, so the reference above cannot drift with the code under test:
    assert [str(t) for t in frame["time"][:8]] == [
        "2026-01-01 00:00:00+00:00", "2026-01-01 00:00:00+00:00", "2026-01-01 00:00:00+00:00",
        "2026-01-01 00:01:00+00:00", "2026-01-01 00:01:00+00:00",
        "2026-01-01 00:02:00.500000+00:00", "2026-01-01 00:02:00.500000+00:00",
        "2026-01-01 00:04:00+00:00",
    ]
    assert frame["time"][8] is pd.NaT
    assert frame["value"].tolist()[:9] == [20.0, 40.5, "eco", 21.25, None, True, 41.0, 22.0, 23.0]
    assert [type(v) for v in frame["value"][:2]] == [float, float]  # JSON 20 is the reading 20.0
    assert frame["device_id"].tolist() == [A] * 9 + [B] * 3 + [E]
    assert frame["device_name"].tolist()[:9] == ["boiler"] * 9
    assert all(pd.isna(n) for n in frame["device_name"][9:12])  # no name, none passed
    assert frame["attribute"].tolist()[9:] == ["t", "t", "h", "t"]


def test_missing_names_are_filled_from_device_names() -> None:
    names = {B: "from the caller", A: "not used: the answer names it"}
    expected = by_hand(MIXED, names)
    for frame in every_route(MIXED, names):
        assert_same(frame, expected)
        assert frame["device_name"].tolist()[9:12] == ["from the caller"] * 3
        assert set(frame["device_name"][:9]) == {"boiler"}


def test_numbers_only_make_a_float_column_and_shared_times_repeat() -> None:
    raw = document({
        f"{d:024x}": {"name": f"device-{d}", "tags": {}, "points": [
            {"time": f"2026-01-01T00:{p:02d}:00.000Z",
             "data": {"temperature": 20.5 + p, "humidity": 40 + p, "ok": 1}}
            for p in range(60)]}
        for d in range(4)})
    expected = by_hand(raw)
    assert str(expected["value"].dtype) == "float64" and len(expected) == 4 * 60 * 3
    for frame in every_route(raw):
        assert_same(frame, expected)
    frame = every_route(raw)[0]
    assert frame["value"][:3].tolist() == [20.5, 40.0, 1.0]
    assert frame.index.equals(pd.RangeIndex(len(frame)))


def test_times_with_no_zone_are_utc() -> None:
    raw = document({A: {"name": "n", "tags": {}, "points": [
        {"time": "2026-01-01T00:00:00", "data": {"t": 1, "h": 2}},
        {"time": "2026-01-01T00:00:01.5", "data": {"t": 3}},
    ]}})
    expected = by_hand(raw)
    for frame in every_route(raw):
        assert_same(frame, expected)
        assert [str(t) for t in frame["time"]] == [
            "2026-01-01 00:00:00+00:00", "2026-01-01 00:00:00+00:00",
            "2026-01-01 00:00:01.500000+00:00",
        ]


def test_zone_less_times_among_offsets_read_as_pandas_reads_the_column() -> None:
    # pandas 2 reads a time with no zone in the offset of the time before it in the column
    # (pandas 3 as UTC): whichever it is, the table's times are pandas' reading of the
    # column of one time per row, in order, even where a time repeats.
    times = ["2026-01-01T00:00:00+02:00", "2026-01-01T00:00:04", "2026-01-01T00:00:00Z",
             "2026-01-01T00:00:04"]
    raw = document({A: {"name": "n", "tags": {}, "points": [
        {"time": t, "data": {"t": 1, "h": 2}} for t in times]}})
    column = pd.to_datetime([t for t in times for _ in range(2)], utc=True, format="ISO8601")
    for frame in every_route(raw):
        assert frame["time"].tolist() == list(column.as_unit("ms"))


def test_a_float_nan_among_numbers_keeps_the_column_numeric() -> None:
    raw = document({A: {"name": "n", "tags": {}, "points": [
        {"time": "2026-01-01T00:00:00.000Z", "data": {"t": 1, "h": math.nan}},
    ]}})
    frame = frame_of_json(TimeSeriesData, raw)  # JSON has no NaN: a caller's own dict
    assert_same(frame, by_hand(raw))
    assert str(frame["value"].dtype) == "float64" and math.isnan(frame["value"][1])


def test_times_that_are_not_times_are_kept_as_sent() -> None:
    raw = document({A: {"name": "n", "tags": {}, "points": [
        {"time": "2026-01-01T00:00:00.000Z", "data": {"t": 1, "h": 2}},
        {"time": "soon", "data": {"t": 3}},
    ]}})
    for frame in every_route(raw):
        assert str(frame["time"].dtype) == "object"
        assert frame["time"].tolist() == ["2026-01-01T00:00:00.000Z"] * 2 + ["soon"]
        assert frame["value"].tolist() == [1.0, 2.0, 3.0]


def test_the_time_of_a_point_with_no_values_has_no_say() -> None:
    raw = document({A: {"name": "n", "tags": {}, "points": [
        {"time": "2026-01-01T00:00:00.000Z", "data": {"t": 1}},
        {"time": "soon", "data": {}},
        {"time": {"odd": 1}, "data": None},
        {"time": "2026-01-01T00:00:01.000Z", "data": {"t": 2}},
    ]}})
    for frame in every_route(raw):
        assert_same(frame, by_hand(raw))
        assert str(frame["time"].dtype) == TIME and len(frame) == 2


def test_what_is_not_a_point_is_skipped() -> None:
    raw = document({
        A: {"name": "a", "points": [
            "not a point", None, [1, 2],
            {"time": "2026-01-01T00:00:00.000Z", "data": ["not", "an", "object"]},
            {"time": "2026-01-01T00:00:00.000Z", "data": "text"},
            {"time": "2026-01-01T00:00:01.000Z", "data": {"t": 1}},
        ]},
        B: "not a device",
        C: {"name": "c", "points": {"time": "2026-01-01T00:00:00.000Z", "data": {"t": 9}}},
        D: {"name": "d", "points": [{"time": "2026-01-01T00:00:02.000Z", "data": {"t": 2}}]},
        E: {"name": "e", "points": (  # a tuple, as a lazy field keeps an unread array
            None, {"time": "2026-01-01T00:00:03.000Z", "data": {"t": 3}})},
    })
    frame = frame_of_json(TimeSeriesData, raw)
    assert_same(frame, by_hand(raw))
    assert frame["device_id"].tolist() == [A, D, E]
    assert frame["value"].tolist() == [1.0, 2.0, 3.0]
    for devices in (None, [], "x", {}):
        empty = frame_of_json(TimeSeriesData, document(devices))
        assert list(empty.columns) == COLUMNS and len(empty) == 0
        assert str(empty["time"].dtype) == TIME and str(empty["value"].dtype) == "float64"


def test_an_emulator_answer_over_http_matches_the_frame_by_hand(emulator: Emulator) -> None:
    api = API(url=emulator.url).login_user(emulator.user_email, emulator.user_password)
    app = api.applications(emulator.application_id)
    start = int(time.time() * 1000) - 10 * 60_000
    app.devices(emulator.device_id).state().post(
        [{"time": start + i * 60_000 + 125, "data": {"temperature": 20 + i / 4}} for i in range(5)]
    )
    series = app.data().time_series_query().post(
        {"deviceIds": [emulator.device_id], "aggregation": "NONE", "duration": 3_600_000}
    )
    raw = json.loads(json.dumps(series.raw_json()))
    frame = series.to_pandas()
    assert_same(frame, by_hand(raw))
    assert [int(t.value // 1_000_000) for t in frame["time"]] == [
        start + i * 60_000 + 125 for i in range(5)
    ]
    assert frame["value"].tolist() == [20.0, 20.25, 20.5, 20.75, 21.0]
