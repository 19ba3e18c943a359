"""Nested objects of responses are built on first read, and nothing can tell.

A response validated from its JSON bytes keeps the plain JSON of its nested-model fields
until they are read (``losant_fluent/models/_lazy.py``). These tests check the mechanism
(the JSON is kept, then replaced by models) and, above all, that every observable
behaviour matches a model built eagerly from the same data: values, types, ``==``,
``repr``, dumps, pickling, copies, lenient reading of odd values, and strict request bodies.
"""

from __future__ import annotations

import copy
import json
import pickle
import threading
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from losant_fluent import API, BodyValidationError
from losant_fluent.models import Device, Devices, LosantModel
from losant_fluent.models._generated.device import DeviceAttribute, DeviceConnectionInfo, DeviceTag
from losant_fluent.models._registry import model_for, parse_response_json, validate_body

REFERENCE = Path(__file__).resolve().parents[1] / "reference"

DEVICE = {
    "id": "a" * 24,
    "name": "boiler",
    "creationDate": "2026-01-02T03:04:05.006Z",
    "tags": [{"key": "floor", "value": "2"}],
    "attributes": [{"name": "temperature", "dataType": "number"}],
    "connectionInfo": {"connected": 1, "time": "2026-01-02T03:04:05.006Z"},
}
PAGE = {"items": [DEVICE, {**DEVICE, "id": "b" * 24}], "count": 2, "totalCount": 2}


@cache
def examples() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((REFERENCE / "examples.json").read_text(encoding="utf-8"))
    return data


def _from_bytes(document: Any, cls: type[LosantModel] = Devices) -> Any:
    return cls.model_validate_json(json.dumps(document))


def _dump(model: Any) -> str:
    return json.dumps(model.model_dump(mode="json", by_alias=True, exclude_unset=True),
                      sort_keys=True)


# -- the mechanism ------------------------------------------------------------------------


def test_nested_fields_hold_json_until_read_then_models() -> None:
    device = _from_bytes(PAGE).items[0]
    assert isinstance(device, Device)  # items are built with the page
    # still JSON, in the forms no built value takes: an object a dict, an array a tuple
    assert type(device.__dict__["connection_info"]) is dict
    assert device.__dict__["connection_info"] == DEVICE["connectionInfo"]
    assert type(device.__dict__["tags"]) is tuple
    assert list(device.__dict__["tags"]) == DEVICE["tags"]
    info = device.connection_info
    assert isinstance(info, DeviceConnectionInfo)
    assert info.time == datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=timezone.utc)
    assert device.__dict__["connection_info"] is info  # built once, kept
    assert device.connection_info is info
    assert [type(t) for t in device.tags] == [DeviceTag]
    assert [a.data_type for a in device.attributes] == ["number"]
    assert isinstance(device.attributes[0], DeviceAttribute)


def test_which_fields_are_lazy() -> None:
    assert set(Device.__losant_lazy__) == {"attributes", "connection_info", "tags"}
    assert "items" not in Devices.__losant_lazy__  # a walk yields built items
    # Shapes of a union keep eager fields: pydantic picks the shape by its nested fields.
    variant = model_for("dashboardSendReport")
    assert all(not member.__losant_lazy__ for member in _union_members(variant))


def _union_members(cls: Any) -> list[Any]:
    from losant_fluent.models._types import is_model_class, members

    return [m for m in members(cls.model_fields["root"].annotation) if is_model_class(m)]


def test_python_data_is_built_at_once() -> None:
    device = Device.model_validate(DEVICE)
    assert isinstance(device.__dict__["connection_info"], DeviceConnectionInfo)
    built = Device(name="x", tags=[{"key": "k", "value": "v"}])  # type: ignore[list-item]
    assert isinstance(built.__dict__["tags"][0], DeviceTag)


# -- nothing can tell ------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(examples()))
def test_bytes_and_python_parsing_agree_on_every_example(name: str) -> None:
    """Each example read from bytes (lazily) equals the same example built eagerly."""
    document = examples()[name]
    cls = model_for(name)
    eager = cls.model_validate(document)
    lazy = cls.model_validate_json(json.dumps(document))
    assert _dump(lazy) == _dump(eager) == json.dumps(document, sort_keys=True)
    assert lazy.model_dump() == eager.model_dump()
    assert lazy.model_dump_json(by_alias=True) == eager.model_dump_json(by_alias=True)
    assert repr(lazy) == repr(eager) and str(lazy) == str(eager)
    fresh = cls.model_validate_json(json.dumps(document))
    assert fresh == eager and eager == cls.model_validate_json(json.dumps(document))


def test_dumps_of_an_unread_page_equal_the_eager_ones() -> None:
    eager = Devices.model_validate(PAGE)
    assert _from_bytes(PAGE).model_dump() == eager.model_dump()
    assert _from_bytes(PAGE).model_dump_json() == eager.model_dump_json()
    assert dict(_from_bytes(PAGE).items[0]) == dict(eager.items[0])
    assert _from_bytes(PAGE) == eager


def test_pickles_and_copies_build_the_same_models() -> None:
    page = _from_bytes(PAGE)
    copied = copy.deepcopy(page)
    assert type(page.items[0].__dict__["connection_info"]) is dict  # the copy builds its own
    assert isinstance(copied.items[0].connection_info, DeviceConnectionInfo)
    assert copied.items[0].tags == [DeviceTag(key="floor", value="2")]
    assert type(page.items[0].__dict__["connection_info"]) is dict
    assert copied.items[0].connection_info is not page.items[0].connection_info
    unpickled = pickle.loads(pickle.dumps(page))
    assert isinstance(unpickled.items[0].connection_info, DeviceConnectionInfo)
    assert type(unpickled.items[0].__dict__["tags"]) is list  # pickled built, as eager ones are
    assert page == unpickled


def test_a_copy_made_before_the_read_shares_the_nested_objects_as_an_eager_copy_does() -> None:
    device = _from_bytes(PAGE).items[0]
    twin, other = device.model_copy(), copy.copy(device)
    assert isinstance(device.connection_info, DeviceConnectionInfo)
    assert twin.connection_info is device.connection_info is other.connection_info
    assert twin.tags is device.tags
    eager = Device.model_validate(DEVICE)
    assert eager.model_copy().tags is eager.tags  # what an eager model does


def test_json_schema_names_the_model_not_any_json() -> None:
    schema = Device.model_json_schema()
    assert "DeviceConnectionInfo" in json.dumps(schema["properties"]["connectionInfo"])


def test_threads_reading_at_once_get_equal_models() -> None:
    device = _from_bytes(PAGE).items[0]
    got: list[Any] = []
    threads = [threading.Thread(target=lambda: got.append(device.tags)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert got == [[DeviceTag(key="floor", value="2")]] * 8


def test_assigning_a_field_replaces_the_json() -> None:
    device = _from_bytes(PAGE).items[0]
    device.tags = [DeviceTag(key="room", value="7")]
    assert device.tags == [DeviceTag(key="room", value="7")]
    assert device.model_dump(by_alias=True, exclude_unset=True)["tags"] == [
        {"key": "room", "value": "7"}
    ]


# -- odd values and request bodies ----------------------------------------------------------


def test_an_odd_nested_value_is_read_leniently_without_slowing_the_page() -> None:
    odd = {**DEVICE, "attributes": [{"name": "pos", "dataType": "vector3", "unit": "m"}],
           "tags": [{"key": "k", "value": "x" * 300}]}
    content = json.dumps({"items": [odd], "count": 1}).encode()
    page = parse_response_json("devices", content, None)
    device = page.items[0]
    assert page.raw_json() is None  # no response behind it: the fast path was taken
    attribute = device.attributes[0]
    assert isinstance(attribute, DeviceAttribute)  # a newer enum value: kept, not raised
    assert (attribute.name, attribute.data_type, attribute.model_extra) == (
        "pos", "vector3", {"unit": "m"})
    assert device.tags[0].value == "x" * 300


def test_request_bodies_still_check_nested_objects() -> None:
    with pytest.raises(BodyValidationError) as info:
        validate_body("devicePost", {"name": "x", "attributes": [{"name": "a",
                                                                  "dataType": "vector3"}]})
    assert "attributes[0].dataType" in str(info.value)


def test_a_response_model_sent_back_as_a_body_sends_its_nested_objects() -> None:
    device = _from_bytes(PAGE).items[0]
    body = validate_body("devicePost", {"name": device.name,
                                        "attributes": device.model_dump(by_alias=True)[
                                            "attributes"]})
    assert body["attributes"] == [{"name": "temperature", "dataType": "number",
                                   "attributeTags": None, "contentType": None,
                                   "description": None, "system": None}]


# -- over the wire -------------------------------------------------------------------------------


def test_a_walk_from_the_emulator_reads_like_its_json(emulator: Any) -> None:
    api = API(url=emulator.url).login_user(emulator.user_email, emulator.user_password)
    app = api.applications(emulator.application_id)
    for number in range(3):
        app.devices().post({
            "name": f"lazy-{number}", "deviceClass": "standalone",
            "tags": [{"key": "n", "value": str(number)}],
            "attributes": [{"name": "t", "dataType": "number"}],
        })
    page = app.devices().get(perPage=2, filter="lazy-*")
    devices = list(page)
    raw = list(page.iter_items(raw=True))
    assert len(devices) == len(raw) == 3
    for device, sent in zip(devices, raw, strict=True):
        assert [t.value for t in device.tags] == [t["value"] for t in sent["tags"]]
        assert device.attributes[0].data_type == "number"
        assert _dump(device) == json.dumps(sent, sort_keys=True)


def _serve_devices_with(monkeypatch: pytest.MonkeyPatch, **extra: Any) -> None:
    """Make the paging server's devices carry a tag (``n``: their number) and ``extra``."""
    import paging_server

    plain = paging_server.device

    def device(number: int) -> dict[str, Any]:
        return {**plain(number), "tags": [{"key": "n", "value": str(number)}], **extra}

    monkeypatch.setattr(paging_server, "device", device)


def _first_items_state(item: Any) -> tuple[bool, bool]:
    """(tags built, connection_info still JSON) of an item, before the loop reads it."""
    tags = item.__dict__["tags"]
    return (type(tags) is list and isinstance(tags[0], DeviceTag),
            type(item.__dict__["connection_info"]) is dict)


def test_a_walk_builds_nested_objects_with_the_page_once_its_loop_reads_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After a page whose items had ``tags`` read, the next pages come with all built."""
    from paging_server import APP, PagingResponder
    from wire_server import RecordingServer

    _serve_devices_with(monkeypatch, connectionInfo={"connected": 1})
    with RecordingServer(PagingResponder(total=250)) as server, API(
        url=server.url, token="tok-lazy"
    ) as api:
        walk = api.applications(APP).devices().get(perPage=100).iter_items()
        values: list[str] = []
        states: list[tuple[bool, bool]] = []
        for number, item in enumerate(walk):
            if number % 100 == 0:  # the first item of each page, before the loop reads it
                states.append(_first_items_state(item))
            values.append(item.tags[0].value)
        assert values == [str(n) for n in range(250)]
        # Page 0 builds on read; pages 1 and 2 arrive built, the unread field too.
        assert states == [(False, True), (True, False), (True, False)]
        assert len(server.requests) == 3


def test_a_walk_stops_building_with_the_page_when_strict_reading_refuses_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``keepDuplicates: 1`` is a bool only to lax validation: pages stay lazy, all items come."""
    from paging_server import APP, PagingResponder
    from wire_server import RecordingServer

    _serve_devices_with(monkeypatch, keepDuplicates=1)
    asked: list[bool] = []
    real = Devices.model_validate_json.__func__  # type: ignore[attr-defined]

    def validate_json(cls: Any, content: Any, *, strict: bool | None = None) -> Any:
        asked.append(bool(strict))
        return real(cls, content, strict=strict)

    monkeypatch.setattr(Devices, "model_validate_json", classmethod(validate_json))
    with RecordingServer(PagingResponder(total=400)) as server, API(
        url=server.url, token="tok-lazy"
    ) as api:
        walk = api.applications(APP).devices().get(perPage=100).iter_items()
        seen = [(item.keep_duplicates, item.tags[0].value) for item in walk]
    assert seen == [(True, str(n)) for n in range(400)]
    # page 0 lazily; page 1 strictly (refused), then lazily; pages 2 and 3 lazily only
    assert asked == [False, True, False, False, False]
    assert len(server.requests) == 4


def test_an_async_walk_builds_nested_objects_with_the_page_once_its_loop_reads_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import asyncio

    from paging_server import APP, PagingResponder
    from wire_server import RecordingServer

    from losant_fluent import AsyncAPI

    pytest.importorskip("httpx")
    _serve_devices_with(monkeypatch, connectionInfo={"connected": 1})

    async def run(url: str) -> tuple[list[str], list[tuple[bool, bool]]]:
        values: list[str] = []
        states: list[tuple[bool, bool]] = []
        async with AsyncAPI(url=url, token="tok-lazy") as api:
            number = 0
            async for item in api.applications(APP).devices().get(perPage=100).iter_items():
                if number % 100 == 0:
                    states.append(_first_items_state(item))
                values.append(item.tags[0].value)
                number += 1
        return values, states

    with RecordingServer(PagingResponder(total=250)) as server:
        values, states = asyncio.run(run(server.url))
    assert values == [str(n) for n in range(250)]
    assert states == [(False, True), (True, False), (True, False)]
