"""Results as a REPL user meets them: short reprs, container behaviour, help() text."""

from __future__ import annotations

import copy
import json
import pickle
import pydoc
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from losant_fluent import API
from losant_fluent.models import (
    CompositeDeviceState,
    DataTableRowInsertResult,
    Device,
    DevicePost,
    Devices,
    DeviceStates,
    LastValueData,
)
from losant_fluent.models._base import (
    LosantCollection,
    LosantListModel,
    LosantMapModel,
    LosantVariantModel,
)
from losant_fluent.models._lenient import lenient_build
from losant_fluent.models._registry import parse_response
from losant_fluent.testing import Emulator

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = json.loads((ROOT / "reference" / "examples.json").read_text(encoding="utf-8"))


def devices_page(count: int) -> dict[str, Any]:
    """A ``devices`` page of ``count`` copies of the published device example."""
    items = []
    for index in range(count):
        item = copy.deepcopy(EXAMPLES["device"])
        item["id"] = item["deviceId"] = f"{index:024x}"
        item["name"] = f"Device {index}"
        items.append(item)
    return {"items": items, "count": count, "totalCount": count, "perPage": count, "page": 0}


@pytest.fixture(scope="module")
def big_page() -> Devices:
    page = parse_response("devices", devices_page(1000), None)
    assert isinstance(page, Devices)
    return page


# -- repr and str ----------------------------------------------------------------------


def test_a_page_of_1000_devices_prints_in_a_screenful(big_page: Devices) -> None:
    # Before: 836,113 characters on one line (every absent field as None, every date as
    # datetime.datetime(..., tzinfo=TzInfo(0))).
    text = repr(big_page)
    assert len(text) < 1000
    lines = text.splitlines()
    assert lines[0] == (
        "Devices(totalCount=1000, count=1000, page=0, perPage=1000): 1000 items on this page"
    )
    assert lines[1].startswith("  [0] Device(id='000000000000000000000000', name='Device 0', ")
    assert len(lines) == 7 and lines[-1] == "  ... 995 more"
    assert all(len(line) <= 120 for line in lines)
    full = str(big_page)
    assert len(full) < 5000 and full.splitlines()[-1] == "  ... 980 more"


def test_a_model_shows_only_what_the_response_carried(big_page: Devices) -> None:
    device = big_page[0]
    text = repr(device)
    assert text.startswith("Device(id='000000000000000000000000', name='Device 0', ")
    assert "None" not in text and "TzInfo" not in text and "datetime.datetime" not in text
    assert "creation_date=2016-06-13T04:00:00.000Z" in text
    assert (
        "connection_info=DeviceConnectionInfo(connected=1, time=2016-06-14T08:15:00.000Z)" in text
    )
    assert "deleted_at" not in text  # absent from the response
    lines = str(device).splitlines()
    assert lines[0] == "Device"
    assert "  creation_date: 2016-06-13T04:00:00.000Z" in lines
    assert "  name: 'Device 0'" in lines


def test_unknown_keys_and_nulls_sent_by_the_api_are_shown() -> None:
    device = Device.model_validate({"id": "a" * 24, "deletedAt": None, "futureField": [1, 2]})
    assert repr(device) == (
        "Device(id='aaaaaaaaaaaaaaaaaaaaaaaa', deleted_at=None, futureField=[1, 2])"
    )


def test_long_values_are_cut_in_repr() -> None:
    device = Device.model_validate(
        {
            "name": "n",
            "description": "x" * 5000,
            "tags": [{"key": f"k{i}", "value": "v"} for i in range(100)],
            "blob": {f"key{i}": i for i in range(100)},
        }
    )
    text = repr(device)
    assert len(text) < 1000
    assert "'...(+4940 chars)" in text
    assert "DeviceTag(key='k4', value='v'), ... 95 more]" in text
    assert "'key4': 4, ... 95 more}" in text
    assert len(str(device)) < 3000


def test_huge_nested_models_stay_bounded() -> None:
    attribute = {"name": "a", "dataType": "number", "description": "d" * 300}
    device = Device.model_validate({"attributes": [attribute] * 256, "name": "x" * 255})
    assert len(repr(device)) <= 2000
    assert len(str(device)) <= 9000


def test_credentials_stay_masked() -> None:
    login = parse_response("authedUser", {"userId": "a" * 24, "token": "TOKEN-VALUE"}, None)
    assert "TOKEN-VALUE" not in repr(login) and "TOKEN-VALUE" not in str(login)
    assert "token='***'" in repr(login)
    assert "TOKEN-VALUE" not in login._repr_html_()
    extra = Device.model_validate({"name": "x", "apiSecret": "S3CRET"})
    assert "S3CRET" not in repr(extra) and "apiSecret='***'" in repr(extra)


def test_empty_page() -> None:
    page = parse_response("devices", {"items": [], "count": 0, "totalCount": 0}, None)
    assert repr(page) == "Devices(totalCount=0, count=0): no items on this page"
    assert len(page) == 0 and list(page) == []


# -- rich display ----------------------------------------------------------------------


class _Printer:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def text(self, text: str) -> None:
        self.parts.append(text)


def test_ipython_pretty_display_is_the_repr_text_on_lines(big_page: Devices) -> None:
    printer = _Printer()
    big_page._repr_pretty_(printer, False)
    assert "".join(printer.parts) == repr(big_page)
    printer = _Printer()
    big_page[0]._repr_pretty_(printer, False)
    assert "".join(printer.parts).splitlines()[:3] == [
        "Device",
        "  id: '000000000000000000000000'",
        "  name: 'Device 0'",
    ]


def test_jupyter_html_is_an_escaped_table(big_page: Devices) -> None:
    # Before: every row, 617,246 characters for this page (a notebook froze on it).
    html = big_page._repr_html_()
    assert html.count("<tr>") == 62  # header, the first 60 items (as pandas), the rest counted
    assert "<th>name</th>" in html and "<td style='text-align:left'>Device 59</td>" in html
    assert "Device 60<" not in html
    assert "... 940 more rows (first 60 of 1000 shown)" in html
    assert len(html) < 60_000  # a tenth of before
    device = Device.model_validate({"name": "<script>alert(1)</script>", "description": "a&b"})
    single = device._repr_html_()
    assert "<script>" not in single and "&lt;script&gt;" in single and "a&amp;b" in single
    assert single.count("<tr>") == 2


# -- container behaviour -----------------------------------------------------------------


def test_a_page_has_len_indexing_and_slicing_of_this_page(big_page: Devices) -> None:
    assert isinstance(big_page, LosantCollection)
    assert len(big_page) == 1000
    assert big_page[0].name == "Device 0" and big_page[-1].name == "Device 999"
    assert [d.name for d in big_page[1:3]] == ["Device 1", "Device 2"]
    assert isinstance(big_page[1:3], list)
    with pytest.raises(IndexError):
        big_page[1000]
    assert sum(1 for _ in big_page) == 1000  # no pager: its own items


def test_empty_models_stay_truthy() -> None:
    assert bool(DevicePost.model_construct())  # no __len__ on ordinary models
    assert not hasattr(Device, "__len__")


def test_pages_keep_walking_every_page(emulator: Emulator) -> None:
    emulator.seed_devices(12)
    with API(url=emulator.url, token=emulator.user_token()) as api:
        page = api.applications(emulator.application_id).devices().get(perPage=5)
        assert len(page) == 5 and page[0].name is not None
        assert len(page[2:]) == 3
        assert len(list(page)) == 13  # 12 seeded and the seeded device: all pages
        assert repr(page).splitlines()[0].endswith("5 items on this page")


def test_list_results_iterate_over_their_items(emulator: Emulator) -> None:
    with API(url=emulator.url, token=emulator.user_token()) as api:
        device = api.applications(emulator.application_id).devices(emulator.device_id)
        for value in (20, 21, 22):
            device.state().post({"data": {"temperature": value}})
        states = device.state().get(limit=10)
    assert isinstance(states, DeviceStates) and isinstance(states, LosantListModel)
    assert len(states) == 3
    assert sorted(s.data["temperature"] for s in states) == [20, 21, 22]
    assert states[0].data and states[-1].data and len(states[:2]) == 2
    assert states[0] in states
    assert repr(states).startswith("DeviceStates: 3 items\n  [0] DeviceStatesModelItem(")


def test_mapping_results_behave_like_mappings(emulator: Emulator) -> None:
    with API(url=emulator.url, token=emulator.user_token()) as api:
        app = api.applications(emulator.application_id)
        app.devices(emulator.device_id).state().post({"data": {"temperature": 19.5}})
        last = (
            app.data()
            .last_value_query()
            .post({"deviceIds": [emulator.device_id], "attribute": "temperature"})
        )
        composite = app.devices(emulator.device_id).composite_state().get()
    assert isinstance(last, LastValueData) and isinstance(last, LosantMapModel)
    assert emulator.device_id in last and "0" * 24 not in last
    assert last[emulator.device_id].data["temperature"] == 19.5
    assert len(last) == 1 and list(last) == [emulator.device_id]
    assert list(last.keys()) == [emulator.device_id]
    assert [v.data for v in last.values()] == [{"temperature": 19.5}]
    assert dict(last.items())[emulator.device_id].time.tzinfo is not None
    assert last.get("missing") is None and last.get("missing", 5) == 5
    with pytest.raises(KeyError):
        last["0" * 24]
    assert isinstance(composite, CompositeDeviceState)
    assert composite["temperature"].value == 19.5 and "temperature" in composite
    assert repr(last).startswith(f"LastValueData: 1 entry\n  '{emulator.device_id}': ")


def test_variant_results_reach_the_object_they_hold() -> None:
    row = parse_response(
        "dataTableRowInsertResult",
        {"id": "a" * 24, "createdAt": "2024-05-01T12:00:00.000Z", "myColumn": 5},
        None,
    )
    assert isinstance(row, DataTableRowInsertResult) and isinstance(row, LosantVariantModel)
    assert row.id == "a" * 24
    assert row["myColumn"] == 5 and row["id"] == "a" * 24 and "createdAt" in row
    assert row.get("rowIds") is None
    assert row.created_at == datetime(2024, 5, 1, 12, tzinfo=timezone.utc)
    bulk = parse_response("dataTableRowInsertResult", {"count": 2, "rowIds": ["b" * 24]}, None)
    assert bulk["rowIds"] == ["b" * 24] and bulk.count == 2
    with pytest.raises(AttributeError):
        _ = row.not_a_member


def test_containers_survive_copy_and_pickle(big_page: Devices) -> None:
    states = DeviceStates.model_validate([{"data": {"t": 1}}])
    for model in (states, big_page):
        assert len(pickle.loads(pickle.dumps(model))) == len(model)  # type: ignore[arg-type]
        assert len(copy.deepcopy(model)) == len(model)  # type: ignore[arg-type]
    row = DataTableRowInsertResult.model_validate({"id": "a" * 24})
    assert pickle.loads(pickle.dumps(row)).id == "a" * 24


def test_lenient_fallback_builds_the_container_classes() -> None:
    page = devices_page(3)
    page["items"][1]["deviceClass"] = "quantum"  # an enum value added since
    built = parse_response("devices", page, None)
    assert isinstance(built, Devices) and len(built) == 3 and built[1].name == "Device 1"
    states = lenient_build(DeviceStates, [{"data": {"t": 1}}, {"data": "odd"}])
    assert isinstance(states, DeviceStates) and len(states) == 2
    last = lenient_build(LastValueData, {"a" * 24: {"data": {"t": 1}, "time": "bad"}})
    assert isinstance(last, LastValueData) and "a" * 24 in last
    variant = parse_response("dataTableRowInsertResult", {"count": "two"}, None)
    assert isinstance(variant, DataTableRowInsertResult) and variant["count"] == "two"


# -- help -------------------------------------------------------------------------------


def test_help_of_a_model_lists_its_fields_without_pydantic_internals() -> None:
    text = pydoc.render_doc(DevicePost, renderer=pydoc.plaintext)
    # was 521; Python 3.13 writes a long signature one parameter a line (about 130 here)
    assert len(text.splitlines()) < 160
    assert "device_class / deviceClass: one of 'standalone', 'gateway'" in text
    assert "name: string, 1 to 255 characters (required)" in text
    assert "model_dump_json" not in text and "__pydantic" not in text
    described = DevicePost.describe()
    assert "DevicePostAttribute:" in described
    assert "data_type / dataType: one of 'string', 'number', 'gps', 'boolean', 'blob'" in described
    assert repr(described) == str(described)  # shows as text in a REPL
    assert "model_dump" in dir(DevicePost(name="x"))  # instances still list everything


def test_help_of_a_verb_lists_the_body_fields_and_an_example() -> None:
    from losant_fluent._resources import DataTablesNode, DevicesNode, DeviceStateNode

    post = pydoc.render_doc(DevicesNode.post, renderer=pydoc.plaintext)
    assert "    name: string, 1 to 255 characters (required)" in post
    assert (
        "        dataType: one of 'string', 'number', 'gps', 'boolean', 'blob' (required)" in post
    )
    assert 'Example body: {"attributes": [{"dataType": "number", "name": "voltage"}]' in post
    table = pydoc.render_doc(DataTablesNode.post, renderer=pydoc.plaintext)
    assert "        constraint: one of 'unique', 'required', 'optional' (required)" in table
    state = pydoc.render_doc(DeviceStateNode.post, renderer=pydoc.plaintext)
    assert "time: string or number or object (a timezone-aware datetime is accepted)" in state


def test_every_example_shown_in_help_validates() -> None:
    from losant_fluent import _resources
    from losant_fluent.models._registry import validate_body

    shown = 0
    for node in vars(_resources).values():
        for verb in ("post", "put", "patch"):
            method = getattr(node, verb, None) if isinstance(node, type) else None
            doc = getattr(method, "__doc__", None) or ""
            if "Example body: " not in doc:
                continue
            model = doc.split("matching the ", 1)[1].split(" model", 1)[0]
            example = json.loads(doc.split("Example body: ", 1)[1].splitlines()[0])
            schema = model[:1].lower() + model[1:]
            validate_body(schema, example)
            shown += 1
    assert shown > 100
