"""Data scripts: DataFrames of every result shape, progress bars, the list-cap message, the
missing-extra errors, docs/data.md's code and examples/export_devices.py, all against the
emulator."""

from __future__ import annotations

import builtins
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from losant_fluent import API, BodyValidationError
from losant_fluent.models import DataTableRows, Device, Devices, LastValueData, TimeSeriesData

pd = pytest.importorskip("pandas")
pytest.importorskip("tqdm")
pytest.importorskip("werkzeug")

from losant_fluent.testing import Emulator  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TIME = "datetime64[ms, UTC]"
# The text dtype of the installed pandas: object before pandas 3, "str" from pandas 3 on.
TEXT = pd.Series(["x"]).dtype


def dtypes(frame: Any) -> dict[str, str]:
    return {str(name): str(dtype) for name, dtype in frame.dtypes.items()}


@pytest.fixture
def app(emulator: Emulator) -> Any:
    api = API(url=emulator.url).login_user(emulator.user_email, emulator.user_password)
    return api.applications(emulator.application_id)


def _ms(frame_time: Any) -> int:
    return int(pd.Timestamp(frame_time).value // 1_000_000)


def _device(app: Any, name: str, attributes: dict[str, str]) -> str:
    body = {
        "name": name,
        "deviceClass": "standalone",
        "attributes": [{"name": n, "dataType": t} for n, t in attributes.items()],
    }
    return str(app.devices().post(body).id)


# -- collections --------------------------------------------------------------------------


DEVICE_COLUMNS = [
    "id",
    "deviceId",
    "applicationId",
    "creationDate",
    "lastUpdated",
    "name",
    "description",
    "tags",
    "attributes",
    "deviceClass",
    "connectionInfo.connected",
]


def test_devices_frame_walks_every_page(emulator: Emulator, app: Any) -> None:
    emulator.seed_devices(250)
    devices = app.devices().get(perPage=100, sortField="name")
    assert devices.count == 100 and devices.total_count == 251
    frame = devices.to_pandas()
    assert len(frame) == 251 and frame["id"].is_unique
    assert list(frame.columns) == DEVICE_COLUMNS
    assert dtypes(frame) == {
        **dict.fromkeys(DEVICE_COLUMNS, str(TEXT)),
        "creationDate": TIME,
        "lastUpdated": TIME,
        "tags": "object",
        "attributes": "object",
        "connectionInfo.connected": "object",  # null for every device: nothing to infer
    }
    # The same devices, in the same order, as walking the models.
    assert frame["name"].tolist() == [d.name for d in devices]
    first = next(iter(devices))
    row = frame.iloc[0]
    assert row["creationDate"] == pd.Timestamp(first.creation_date)
    # Lists stay lists, as the API sent them.
    assert row["tags"] == [t.model_dump() for t in first.tags]
    assert row["attributes"] == [{"name": "temperature", "dataType": "number"}]


def test_nested_objects_become_dotted_columns_with_their_types(
    emulator: Emulator, app: Any
) -> None:
    app.devices(emulator.device_id).set_connection_status().post({"status": "connected"})
    emulator.seed_devices(2)
    frame = app.devices().get(sortField="name").to_pandas()
    assert list(frame.columns) == [*DEVICE_COLUMNS, "connectionInfo.time"]
    assert str(frame["connectionInfo.time"].dtype) == TIME
    assert str(frame["connectionInfo.connected"].dtype) == "float64"  # 1, then nulls
    connected = frame[frame["id"] == emulator.device_id].iloc[0]
    assert connected["connectionInfo.connected"] == 1
    assert abs(_ms(connected["connectionInfo.time"]) - time.time() * 1000) < 60_000
    assert frame["connectionInfo.time"].isna().sum() == 2


def test_a_collection_built_by_hand_uses_its_own_items() -> None:
    devices = Devices.model_validate(
        {
            "items": [
                {
                    "id": "a" * 24,
                    "name": "pump",
                    "connectionInfo": {"connected": 1, "time": "2024-05-01T12:00:00.250Z"},
                    "systemInterval": 30,
                },
                {
                    "id": "b" * 24,
                    "name": "valve",
                    "connectionInfo": {"connected": 0, "time": "2024-05-02T00:00:00.000Z"},
                    "systemInterval": 60,
                },
            ],
            "totalCount": 2,
        }
    )
    frame = devices.to_pandas()
    # No JSON to follow: the columns come in the model's field order.
    assert list(frame.columns) == [
        "connectionInfo.connected",
        "connectionInfo.time",
        "id",
        "name",
        "systemInterval",
    ]
    assert str(frame["connectionInfo.connected"].dtype) == "int64"
    assert str(frame["systemInterval"].dtype) == "int64"
    assert str(frame["connectionInfo.time"].dtype) == TIME
    assert frame["connectionInfo.time"].tolist() == [
        pd.Timestamp("2024-05-01T12:00:00.250Z"),
        pd.Timestamp("2024-05-02T00:00:00Z"),
    ]


def test_a_list_result_is_one_row_per_item(emulator: Emulator, app: Any) -> None:
    device = app.devices(emulator.device_id)
    device.command().post({"name": "reboot", "payload": {"delay": 5}, "time": 1_714_564_800_000})
    device.command().post({"name": "ping", "time": 1_714_564_860_000})
    frame = device.command().get(limit=10, since=0).to_pandas()
    assert len(frame) == 2
    assert set(frame["name"]) == {"reboot", "ping"}
    assert "payload.delay" in frame.columns
    assert str(frame["time"].dtype) == TIME
    assert sorted(frame["time"].tolist()) == [
        pd.Timestamp("2024-05-01T12:00:00Z"),
        pd.Timestamp("2024-05-01T12:01:00Z"),
    ]


def test_date_objects_are_times_not_nested_objects() -> None:
    from losant_fluent.models import DeviceCommands

    commands = DeviceCommands.model_validate(
        [
            {"name": "a", "time": {"$date": "2024-05-01T12:00:00Z"}, "payload": {"x": 1}},
            {"name": "b", "time": 1_714_564_860_000},
        ]
    )
    frame = commands.to_pandas()
    assert list(frame.columns) == ["name", "payload.x", "time"]
    assert str(frame["time"].dtype) == TIME
    assert frame["time"].tolist() == [
        pd.Timestamp("2024-05-01T12:00Z"),
        pd.Timestamp("2024-05-01T12:01Z"),
    ]


def test_a_model_with_no_tabular_form_says_so(emulator: Emulator, app: Any) -> None:
    device = app.devices(emulator.device_id).get()
    with pytest.raises(TypeError, match=r"^Device has no tabular form: to_pandas\(\) takes"):
        device.to_pandas()
    with pytest.raises(TypeError, match="no tabular form"):
        Device(name="x").to_pandas()


# -- time series, last values, state history ----------------------------------------------


def test_time_series_is_long_form(emulator: Emulator, app: Any) -> None:
    other = _device(app, "Boiler", {"temperature": "number", "mode": "string"})
    start = int(time.time() * 1000) - 10 * 60_000
    app.devices(emulator.device_id).state().post(
        [{"time": start + i * 60_000, "data": {"temperature": 20 + i}} for i in range(3)]
    )
    app.devices(other).state().post(
        [
            {"time": start + 30_000, "data": {"temperature": 50.5, "mode": "eco"}},
            {"time": start + 90_000, "data": {"temperature": 51}},
        ]
    )
    series = (
        app.data()
        .time_series_query()
        .post(
            {"deviceIds": [emulator.device_id, other], "aggregation": "NONE", "duration": 3_600_000}
        )
    )
    frame = series.to_pandas()
    assert list(frame.columns) == ["time", "device_id", "device_name", "attribute", "value"]
    assert len(frame) == 3 + 3  # one row per point and attribute
    assert dtypes(frame) == {
        "time": TIME,
        "device_id": str(TEXT),
        "device_name": str(TEXT),
        "attribute": str(TEXT),
        "value": "object",  # numbers and text mixed
    }
    mine = frame[frame["device_id"] == emulator.device_id]
    assert mine["device_name"].unique().tolist() == ["Emulated Thermostat"]
    assert [_ms(t) for t in mine["time"]] == [start, start + 60_000, start + 120_000]
    assert mine["value"].tolist() == [20, 21, 22]
    boiler = frame[frame["device_id"] == other]
    assert list(zip(boiler["attribute"], boiler["value"], strict=True)) == [
        ("temperature", 50.5),
        ("mode", "eco"),
        ("temperature", 51),
    ]

    only_numbers = (
        app.data()
        .time_series_query()
        .post(
            {
                "deviceIds": [emulator.device_id],
                "aggregation": "MEAN",
                "duration": 3_600_000,
                "resolution": 60_000,
                "attributes": ["temperature"],
            }
        )
        .to_pandas()
    )
    # Whole means come back as JSON integers (as Losant writes them); the models hold
    # them as floats (20.0), and so does the table: float64.
    assert str(only_numbers["value"].dtype) == "float64"
    assert only_numbers["value"].tolist() == [20, 21, 22]


def test_an_empty_time_series_has_the_columns() -> None:
    empty = TimeSeriesData.model_validate(
        {
            "start": "2024-01-01T00:00:00Z",
            "end": "2024-01-02T00:00:00Z",
            "resolution": 60000,
            "aggregation": "MEAN",
            "limit": None,
            "order": "asc",
            "devices": {},
        }
    )
    frame = empty.to_pandas()
    assert list(frame.columns) == ["time", "device_id", "device_name", "attribute", "value"]
    assert len(frame) == 0 and str(frame["time"].dtype) == TIME


def test_last_values_are_one_row_per_device_and_attribute(emulator: Emulator, app: Any) -> None:
    other = _device(app, "Boiler", {"temperature": "number", "mode": "string"})
    silent = _device(app, "Silent", {"temperature": "number"})
    app.devices(emulator.device_id).state().post(
        {"time": 1_714_564_800_000, "data": {"temperature": 21.5}}
    )
    app.devices(other).state().post(
        {"time": "2024-05-01T12:30:00.125Z", "data": {"temperature": 60, "mode": "eco"}}
    )
    ids = [emulator.device_id, other, silent]
    last = app.data().last_value_query().post({"deviceIds": ids})
    # The answer names no device; the names are asked for visibly, and passed in.
    names = {d.id: d.name for d in app.devices().get(query={"id": {"$in": ids}})}
    frame = last.to_pandas(device_names=names)
    assert list(frame.columns) == ["device_id", "device_name", "attribute", "time", "value"]
    assert dtypes(frame) == {
        "device_id": str(TEXT),
        "device_name": str(TEXT),
        "attribute": str(TEXT),
        "time": TIME,
        "value": "object",
    }
    rows = {(r.device_id, r.attribute): r for r in frame.itertuples()}
    assert set(rows) == {
        (emulator.device_id, "temperature"),
        (other, "temperature"),
        (other, "mode"),
    }
    assert rows[(emulator.device_id, "temperature")].device_name == "Emulated Thermostat"
    assert rows[(emulator.device_id, "temperature")].value == 21.5
    assert rows[(emulator.device_id, "temperature")].time == pd.Timestamp("2024-05-01T12:00Z")
    assert rows[(other, "mode")].device_name == "Boiler"
    assert rows[(other, "mode")].value == "eco"
    assert rows[(other, "temperature")].time == pd.Timestamp("2024-05-01T12:30:00.125Z")


def test_last_values_built_by_hand_have_no_names() -> None:
    last = LastValueData.model_validate(
        {"c" * 24: {"time": "2024-05-01T12:00:00Z", "data": {"temperature": 3, "level": 4.5}}}
    )
    frame = last.to_pandas()
    assert frame["attribute"].tolist() == ["temperature", "level"]
    assert frame["device_name"].isna().all()
    assert str(frame["value"].dtype) == "float64"


def test_state_history_is_one_column_per_attribute(emulator: Emulator, app: Any) -> None:
    other = _device(app, "Boiler", {"temperature": "number", "mode": "string", "on": "boolean"})
    now = int(time.time() * 1000)
    app.devices(other).state().post(
        [
            {"time": now - 120_000, "data": {"temperature": 60, "mode": "eco", "on": True}},
            {"time": now - 60_000, "data": {"temperature": 61.5, "on": False}},
            {"time": now - 30_000, "data": {"mode": "boost"}},
        ]
    )
    frame = app.devices(other).state().get(limit=10).to_pandas()
    # Newest state first, as the API answers; attributes in the order they first appear.
    assert list(frame.columns) == ["time", "mode", "temperature", "on"]
    assert str(frame["time"].dtype) == TIME
    assert str(frame["temperature"].dtype) == "float64"
    by_time = frame.sort_values("time").reset_index(drop=True)
    assert [_ms(t) for t in by_time["time"]] == [now - 120_000, now - 60_000, now - 30_000]
    assert by_time["temperature"].tolist()[:2] == [60.0, 61.5]
    assert pd.isna(by_time["temperature"][2])
    assert by_time["mode"].tolist()[::2] == ["eco", "boost"]
    assert by_time["on"].tolist()[:2] == [True, False]


def test_state_history_times_in_any_form() -> None:
    from losant_fluent.models import DeviceStates

    states = DeviceStates.model_validate(
        [
            {"time": "2024-05-01T12:00:00.000Z", "data": {"a": 1}},
            {"time": 1_714_564_860_000, "data": {"a": 2, "time": 7}},
            {"time": {"$date": "2024-05-01T12:02:00Z"}, "data": {"a": 3}},
        ]
    )
    frame = states.to_pandas()
    assert list(frame.columns) == ["time", "a", "data.time"]  # an attribute named "time"
    assert frame["time"].tolist() == [
        pd.Timestamp("2024-05-01T12:00Z"),
        pd.Timestamp("2024-05-01T12:01Z"),
        pd.Timestamp("2024-05-01T12:02Z"),
    ]
    assert str(frame["time"].dtype) == TIME


# -- data tables ----------------------------------------------------------------------------


def _table(app: Any, rows: int) -> Any:
    table = app.data_tables().post(
        {
            "name": "readings",
            "columns": [
                {"name": "level", "dataType": "number", "constraint": "optional"},
                {"name": "label", "dataType": "string", "constraint": "optional"},
                {"name": "ok", "dataType": "boolean", "constraint": "optional"},
            ],
        }
    )
    node = app.data_tables(table.id).rows()
    if rows:
        node.post([{"level": i, "label": f"row {i}", "ok": i % 2 == 0} for i in range(rows)])
    return node


TABLE_COLUMNS = ["id", "level", "label", "ok", "createdAt", "updatedAt"]


def test_data_table_rows_walk_every_page(app: Any) -> None:
    rows = _table(app, 250)
    page = rows.get(limit=100)
    assert page.count == 100 and page.total_count == 250
    for frame in (page.to_pandas(), rows.query().post({}, limit=100).to_pandas()):
        assert list(frame.columns) == TABLE_COLUMNS
        assert dtypes(frame) == {
            "id": str(TEXT),
            "level": "int64",
            "label": str(TEXT),
            "ok": "bool",
            "createdAt": TIME,
            "updatedAt": TIME,
        }
        assert len(frame) == 250 and frame["id"].is_unique
        assert sorted(frame["level"]) == list(range(250))

    queried = rows.query().post({"level": {"$lt": 10}}, limit=3).to_pandas()
    assert sorted(queried["level"]) == list(range(10))


def test_empty_data_table_rows_keep_the_fixed_columns(app: Any) -> None:
    frame = _table(app, 0).get().to_pandas()
    assert list(frame.columns) == ["id", "createdAt", "updatedAt"]
    assert len(frame) == 0
    assert str(frame["createdAt"].dtype) == TIME

    hand = DataTableRows.model_validate({"items": [{"id": "d" * 24, "level": 2}]}).to_pandas()
    assert list(hand.columns) == ["id", "level", "createdAt", "updatedAt"]


# -- progress ------------------------------------------------------------------------------


def _last_line(err: str) -> str:
    return re.split(r"[\r\n]+", err.strip())[-1]


def test_item_progress_counts_to_the_total_on_stderr(
    emulator: Emulator, app: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator.seed_devices(250)
    devices = app.devices().get(perPage=100)
    assert sum(1 for _ in devices.iter_items(progress=True)) == 251
    captured = capsys.readouterr()
    assert captured.out == ""
    line = _last_line(captured.err)
    assert "251/251" in line and "100%" in line and " items/s" in line, captured.err

    frame = devices.to_pandas(progress=True)
    assert len(frame) == 251
    assert "251/251" in _last_line(capsys.readouterr().err)


def test_page_progress_counts_pages(
    emulator: Emulator, app: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator.seed_devices(250)
    pages = list(app.devices().get(perPage=100).pages(progress=True))
    assert len(pages) == 3
    line = _last_line(capsys.readouterr().err)
    assert "3/3" in line, line  # the total comes from totalCount and the page size


def test_the_bar_gets_the_collection_total(
    emulator: Emulator, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from losant_fluent import _progress

    made: list[dict[str, Any]] = []
    real = _progress.progress_bar

    def recording(total: int | None, unit: str, desc: str | None = None) -> Any:
        made.append({"total": total, "unit": unit})
        bar = real(total, unit, desc)
        made[-1]["bar"] = bar
        return bar

    monkeypatch.setattr(_progress, "progress_bar", recording)
    emulator.seed_devices(120)
    app.devices().get(perPage=50).to_pandas(progress=True)
    assert [(m["total"], m["unit"]) for m in made] == [(121, "items")]
    assert made[0]["bar"].n == 121

    rows = _table(app, 30)
    rows.get(limit=7).to_pandas(progress=True)
    assert (made[-1]["total"], made[-1]["bar"].n) == (30, 30)


def test_byte_progress_is_scaled(capsys: pytest.CaptureFixture[str]) -> None:
    from losant_fluent._progress import progress_bar

    bar = progress_bar(total=3 * 1024 * 1024, unit="B", desc="firmware.bin")
    bar.update(3 * 1024 * 1024)
    bar.close()
    line = _last_line(capsys.readouterr().err)
    assert line.startswith("firmware.bin: 100%") and "3.00M/3.00M" in line, line


# -- the data extra missing ----------------------------------------------------------------


def _without(monkeypatch: pytest.MonkeyPatch, module: str) -> None:
    """Make ``import module`` fail as it does when the package is not installed."""
    for name in list(sys.modules):
        if name == module or name.startswith(module + "."):
            monkeypatch.delitem(sys.modules, name)
    real_import = builtins.__import__

    def fake_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == module or name.startswith(module + "."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    monkeypatch.setitem(sys.modules, module, None)  # importlib's way of "not installed"


def test_to_pandas_without_pandas_names_the_extra(
    emulator: Emulator, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    devices = app.devices().get()
    _without(monkeypatch, "pandas")
    with pytest.raises(ImportError) as info:
        devices.to_pandas()
    assert str(info.value) == (
        "to_pandas() needs pandas, which is not installed: install the data extra, "
        "pip install 'losant-fluent[data]'"
    )
    assert info.value.name == "pandas"


def test_progress_without_tqdm_names_the_extra(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    devices = app.devices().get()
    _without(monkeypatch, "tqdm")
    for walk in (
        lambda: devices.iter_items(progress=True),
        lambda: devices.pages(progress=True),
    ):
        with pytest.raises(ImportError, match=re.escape("pip install 'losant-fluent[data]'")):
            walk()
    with pytest.raises(ImportError, match=r"^a progress bar \(progress=True\) needs tqdm"):
        devices.to_pandas(progress=True)
    assert len(devices.to_pandas()) == 1  # no bar asked for: no tqdm needed


def test_importing_the_package_imports_no_data_library() -> None:
    code = (
        "import sys, losant_fluent, losant_fluent.models, losant_fluent._data\n"
        "from losant_fluent.models import Devices, TimeSeriesData\n"
        "loaded = [m for m in ('pandas', 'tqdm', 'matplotlib', 'numpy') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=60)


# -- lists longer than the API takes ---------------------------------------------------------


def test_a_too_long_id_list_says_the_cap_and_how_to_chunk(app: Any) -> None:
    ids = [f"{i:024x}" for i in range(2500)]
    expected = (
        "body.deviceIds: at most 1000 items (got 2500); split the list into chunks "
        "(see docs/data.md)"
    )
    # Queries whose answers are per device are split for you (tests/test_splitting.py);
    # a call that makes one thing of the list is checked against the cap.
    with pytest.raises(BodyValidationError) as info:
        app.experience().groups().post({"name": "all", "deviceIds": ids})
    assert expected in str(info.value)
    assert info.value.errors == [("deviceIds", expected[len("body.deviceIds: ") :])]
    whole = app.data().last_value_query().post({"deviceIds": ids})
    parts = [app.data().last_value_query().post({"deviceIds": ids[at : at + 1000]})
             for at in range(0, 2500, 1000)]
    assert whole.raw_json() == {k: v for part in parts for k, v in part.raw_json().items()}


def test_last_values_of_any_number_of_devices_in_chunks(emulator: Emulator, app: Any) -> None:
    ids = [emulator.device_id, *emulator.seed_devices(1100)]
    for device_id in (ids[0], ids[-1]):
        app.devices(device_id).state().post({"data": {"temperature": 5}})
    names = {d.id: d.name for d in app.devices().get(perPage=1000)}
    frames = [
        app.data().last_value_query().post({"deviceIds": ids[start : start + 1000]})
        .to_pandas(device_names=names)
        for start in range(0, len(ids), 1000)
    ]
    last = pd.concat(frames, ignore_index=True)
    assert sorted(last["device_id"]) == sorted([ids[0], ids[-1]])
    assert set(last["device_name"]) == {"Emulated Thermostat", "Device-1100"}


# -- docs and the example ----------------------------------------------------------------------


def test_the_export_example_writes_a_csv_and_a_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOSANT_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["MPLBACKEND"] = "Agg"
    out = tmp_path / "export"
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "export_devices.py"), str(out)],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "255/255" in result.stderr  # the progress bar of the device walk

    table = pd.read_csv(out / "devices.csv")
    assert len(table) == 255
    for column in ("id", "name", "creationDate", "tags", "last.temperature", "last.time"):
        assert column in table.columns
    assert table["last.temperature"].notna().sum() == 5
    assert set(table.loc[table["last.temperature"].notna(), "name"]) == {
        "Emulated Thermostat",
        "Boiler-0251",
        "Boiler-0252",
        "Boiler-0253",
        "Boiler-0254",
    }

    chart = out / "temperature.png"
    data = chart.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000
    assert "wrote" in result.stdout and "(5 devices, 60 points)" in result.stdout


def test_table_rows_read_their_columns_by_name(app: Any) -> None:
    from datetime import datetime

    table = app.data_tables().post({
        "name": "cells",
        "columns": [{"name": "part", "dataType": "string", "constraint": "optional"},
                    {"name": "n", "dataType": "number", "constraint": "optional"}],
    })
    rows = app.data_tables(table.id).rows()
    rows.post([{"part": "gear", "n": 3}, {"part": "cog", "n": 4}])
    row = rows.get()[0]
    assert (row["part"], row["n"], row.part) == ("gear", 3, "gear")
    assert "part" in row and "missing" not in row and row.get("missing", "-") == "-"
    assert row["id"] == row.id and isinstance(row["createdAt"], datetime)
    assert set(row.keys()) == {"id", "part", "n", "createdAt", "updatedAt"}
    with pytest.raises(KeyError):
        row["missing"]
    found = rows.query().post({"part": "cog"})
    assert [r["n"] for r in found] == [4]


# -- results are data: to_pandas sends nothing, from either client ---------------------------


def test_to_pandas_of_an_async_result_sends_nothing(emulator: Emulator) -> None:
    import asyncio

    from losant_fluent import AsyncAPI
    from losant_fluent.transports import ThreadedTransport, WSGITransport

    sent: list[str] = []

    class Counting(WSGITransport):
        def send(self, request: Any, *, timeout: Any, stream: bool) -> Any:
            sent.append(f"{request.method} {request.url}")
            return super().send(request, timeout=timeout, stream=stream)

    async def go() -> Any:
        transport = ThreadedTransport(Counting(emulator.app))
        async with AsyncAPI(url="http://localhost", transport=transport) as api:
            await api.login_user(emulator.user_email, emulator.user_password)
            app = api.applications(emulator.application_id)
            await app.devices(emulator.device_id).state().post({"data": {"temperature": 7}})
            names = {d.id: d.name async for d in app.devices().get()}
            return await app.data().last_value_query().post(
                {"deviceIds": [emulator.device_id]}), names

    last, names = asyncio.run(go())
    before = len(sent)
    frame = last.to_pandas()  # no names asked for: the column is empty, nothing is sent
    assert frame["device_name"].isna().all() and frame["value"].tolist() == [7.0]
    named = last.to_pandas(device_names=names)
    assert named["device_name"].tolist() == ["Emulated Thermostat"]
    assert len(sent) == before
