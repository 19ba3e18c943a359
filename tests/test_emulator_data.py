"""Data work against the emulator, through the client: bulk creation from a device
recipe, data table row order and counts, and the devices' tag/name/attribute listings
under the API's parameter names."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from losant_fluent import API
from losant_fluent.testing import Emulator


@pytest.fixture(scope="module")
def shared() -> Iterator[Emulator]:
    with Emulator() as emu:
        yield emu


@pytest.fixture
def emu(shared: Emulator) -> Emulator:
    shared.reset()
    return shared


@pytest.fixture
def app(emu: Emulator) -> Any:
    api = API(url=emu.url).login_user(emu.user_email, emu.user_password)
    return api.applications(emu.application_id)


def _raw(emu: Emulator, method: str, path: str, **kwargs: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {emu.user_token()}"}
    return requests.request(method, emu.url + path, headers=headers, timeout=10, **kwargs)


def _names(app: Any) -> list[str]:
    return sorted(d.name for d in app.devices().get(perPage=1000).items)


# -- device recipes ------------------------------------------------------------------


def _recipe(app: Any) -> str:
    recipe = app.device_recipes().post(
        {
            "name": "Thermostat recipe",
            "deviceName": "Thermostat",
            "deviceDescription": "made by a recipe",
            "deviceClass": "standalone",
            "tags": [{"key": "kind", "value": "thermo"}],
            "attributes": [{"name": "temperature", "dataType": "number"}],
        }
    )
    return str(recipe.id)


def test_bulk_create_from_csv_creates_the_devices(emu: Emulator, app: Any) -> None:
    recipe_id = _recipe(app)
    result = (
        app.device_recipes(recipe_id)
        .bulk_create()
        .post(
            {
                "csv": "label,notes\nkitchen,by the fridge\nattic,\n",
                "nameColumn": "label",
                "descriptionColumn": "notes",
                "makeUniqueKeySecret": True,
            }
        )
    )
    assert result.created == 2 and result.failed == 0
    rows = list(csv.DictReader(io.StringIO(result.csv_result)))
    assert [r["label"] for r in rows] == ["kitchen", "attic"]
    assert all(len(r["id"]) == 24 and r["key"] and r["secret"] for r in rows)

    devices = {d.name: d for d in app.devices().get(perPage=1000).items}
    assert {"kitchen", "attic"} <= set(devices)
    kitchen = devices["kitchen"]
    assert kitchen.id == rows[0]["id"]
    assert kitchen.description == "by the fridge"
    assert devices["attic"].description == "made by a recipe"
    assert [(t.key, t.value) for t in kitchen.tags] == [("kind", "thermo")]
    assert [a.name for a in kitchen.attributes] == ["temperature"]

    # The per-device key logs that device in.
    login = requests.post(
        emu.url + "/auth/device",
        json={"deviceId": rows[1]["id"], "key": rows[1]["key"], "secret": rows[1]["secret"]},
        timeout=10,
    )
    assert login.status_code == 200


def test_bulk_create_by_count_uses_the_recipe_name(app: Any) -> None:
    recipe_id = _recipe(app)
    before = _names(app)
    result = app.device_recipes(recipe_id).bulk_create().post({"count": 3})
    assert (result.created, result.failed) == (3, 0)
    assert _names(app) == sorted([*before, "Thermostat", "Thermostat", "Thermostat"])
    assert "key" not in result.csv_result.splitlines()[0]


def test_bulk_create_refuses_bad_requests(emu: Emulator, app: Any) -> None:
    recipe_id = _recipe(app)
    path = f"/applications/{emu.application_id}/device-recipes/{recipe_id}/bulkCreate"
    for body in (
        {},
        {"count": 0},
        {"count": 2.5},
        {"csv": "name\na", "count": 1},
        {"csv": "name\na", "nameColumn": "label"},
        {"csv": "name\na", "unknown": 1},
    ):
        response = _raw(emu, "POST", path, json=body)
        assert response.status_code == 400, body
        assert response.json()["type"] == "Validation"
    missing = f"/applications/{emu.application_id}/device-recipes/{'0' * 24}/bulkCreate"
    assert _raw(emu, "POST", missing, json={"count": 1}).status_code == 404


def test_bulk_create_with_email_answers_a_job_and_still_creates(emu: Emulator, app: Any) -> None:
    recipe_id = _recipe(app)
    path = f"/applications/{emu.application_id}/device-recipes/{recipe_id}/bulkCreate"
    response = _raw(emu, "POST", path, json={"count": 2, "email": "ops@example.com"})
    assert response.status_code == 202 and response.json()["jobQueued"] is True
    assert _names(app).count("Thermostat") == 2


# -- data tables ---------------------------------------------------------------------


def _table(app: Any) -> Any:
    table = app.data_tables().post(
        {
            "name": "readings",
            "columns": [
                {"name": "label", "dataType": "string", "constraint": "optional"},
                {"name": "value", "dataType": "number", "constraint": "optional"},
            ],
        }
    )
    return app.data_tables(table.id).rows()


def test_rows_come_back_in_insertion_order(app: Any) -> None:
    rows = _table(app)
    for label, value in (("c", 1), ("a", 3), ("b", 2)):
        rows.post({"label": label, "value": value})
    rows.post([{"label": "z", "value": 0}, {"label": "y", "value": 9}])
    assert [r.label for r in rows.get().items] == ["c", "a", "b", "z", "y"]
    assert [r.label for r in rows.query().post({}).items] == ["c", "a", "b", "z", "y"]
    assert [r.label for r in rows.get(sortDirection="desc").items] == ["y", "z", "b", "a", "c"]
    assert [r.label for r in rows.get(sortColumn="value").items] == ["z", "c", "b", "a", "y"]
    assert [r.label for r in rows.get(sortColumn="label").items] == ["a", "b", "c", "y", "z"]
    assert [r.label for r in rows.get(limit=2, offset=1).items] == ["a", "b"]


def test_counts_are_integers(emu: Emulator, app: Any) -> None:
    rows = _table(app)
    rows.post([{"label": "a", "value": "4"}, {"label": "b", "value": 2.0}])
    listing = rows.get()
    assert isinstance(listing.count, int) and isinstance(listing.total_count, int)
    # On the wire every count and integral number is an integer, as Node writes them.
    table_path = f"/applications/{emu.application_id}/data-tables"
    table_id = app.data_tables().get().items[0].id
    response = _raw(emu, "POST", f"{table_path}/{table_id}/rows", json=[{"value": 1}, {}])
    assert '"count":2' in response.text and isinstance(response.json()["count"], int)
    listed = _raw(emu, "GET", f"{table_path}/{table_id}/rows").json()
    assert all(isinstance(listed[k], int) for k in ("count", "totalCount", "limit", "offset"))
    assert [r.get("value") for r in listed["items"]] == [4, 2, 1, None]
    assert '"value":4,' in _raw(emu, "GET", f"{table_path}/{table_id}/rows").text


def test_time_series_numbers_are_written_like_javascript(emu: Emulator, app: Any) -> None:
    device = app.devices(emu.device_id)
    base = 1_700_000_000_000
    for offset, value in ((0, 2), (1000, 4)):
        device.state().post({"time": base + offset, "data": {"temperature": value}})
    body = {
        "start": base,
        "end": base + 59_999,
        "resolution": 60_000,
        "aggregation": "MEAN",
        "deviceIds": [emu.device_id],
    }
    response = _raw(
        emu, "POST", f"/applications/{emu.application_id}/data/time-series-query", json=body
    )
    assert '"temperature":3}' in response.text  # not 3.0


# -- devices: tag values, tag keys, names, attribute names ---------------------------


def _tagged(app: Any) -> None:
    for name, floor, kind in (
        ("Alpha", "1", "thermo"),
        ("Beta", "2", "meter"),
        ("gamma", "10", "thermo"),
    ):
        app.devices().post(
            {
                "name": name,
                "tags": [{"key": "floor", "value": floor}, {"key": "kind", "value": kind}],
                "attributes": [
                    {"name": f"{name.lower()}Reading", "dataType": "number"},
                    {"name": "label", "dataType": "string"},
                ],
            }
        )


def test_tag_values_take_key(app: Any) -> None:
    _tagged(app)
    values = app.devices().tag_values().get(key="floor")
    assert values.tag_key == "floor"
    assert values.tag_values == ["1", "10", "2"]
    assert app.devices().tag_values().get(key="floor", startsWith="1").tag_values == ["1", "10"]
    query = json.dumps({"tags": {"kind": "thermo"}})
    assert app.devices().tag_values().get(key="floor", query=query).tag_values == ["1", "10"]


def test_tag_values_without_key_is_refused(emu: Emulator) -> None:
    response = _raw(emu, "GET", f"/applications/{emu.application_id}/devices/tagValues")
    assert response.status_code == 400
    assert response.json() == {"type": "Validation", "message": "key is required"}


def test_tag_keys_device_names_and_attribute_names_take_the_api_parameters(app: Any) -> None:
    _tagged(app)
    devices = app.devices()
    assert devices.tag_keys().get(startsWith="FL").tag_keys == ["floor"]
    thermo = json.dumps({"tags": {"kind": "thermo"}})
    assert "floor" in devices.tag_keys().get(query=thermo).tag_keys
    names = devices.device_names().get(startsWith="g").device_summary
    assert [n.name for n in names] == ["gamma"]
    names = devices.device_names().get(query=thermo).device_summary
    assert [n.name for n in names] == ["Alpha", "gamma"]
    attrs = devices.attribute_names().get(startsWith="al").attribute_names
    assert attrs == ["alphaReading"]
    assert "label" not in devices.attribute_names().get(dataType="number").attribute_names
    only_beta = json.dumps({"name": "Beta"})
    assert devices.attribute_names().get(query=only_beta).attribute_names == [
        "betaReading",
        "label",
    ]


def test_composite_state_takes_attributes_start_and_end(emu: Emulator, app: Any) -> None:
    device = app.devices(emu.device_id)
    device.patch(
        {
            "attributes": [
                {"name": "temperature", "dataType": "number"},
                {"name": "humidity", "dataType": "number"},
            ]
        }
    )
    base = 1_700_000_000_000
    device.state().post({"time": base, "data": {"temperature": 1, "humidity": 50}})
    device.state().post({"time": base + 10_000, "data": {"temperature": 2}})
    path = f"/applications/{emu.application_id}/devices/{emu.device_id}/compositeState"
    every = _raw(emu, "GET", path).json()
    assert every["temperature"]["value"] == 2 and every["humidity"]["value"] == 50
    only = _raw(emu, "GET", path, params={"attributes": "humidity"}).json()
    assert list(only) == ["humidity"]
    early = _raw(emu, "GET", path, params={"end": str(base + 5000)}).json()
    assert early["temperature"]["value"] == 1
