"""Checked by mypy (tests/test_quality.py), never run: chains are statically typed end to end."""

from __future__ import annotations

from typing_extensions import assert_type

from losant_fluent import API
from losant_fluent._resources import DeviceNode, DevicesNode
from losant_fluent.models import (
    CompositeDeviceState,
    Device,
    DevicePost,
    Devices,
    DeviceStates,
    DevicesUpdated,
    JobEnqueuedResult,
    LastValueData,
    Success,
)
from losant_fluent.models._generated.composite_device_state import CompositeDeviceStateModel
from losant_fluent.models._generated.device_states import DeviceStatesModelItem
from losant_fluent.models._generated.last_value_data import LastValueDataModel


def chains_are_typed(api: API) -> None:
    assert_type(api.applications("a").devices(), DevicesNode)
    assert_type(api.applications("a").devices("d"), DeviceNode)
    assert_type(api.applications("a").devices("d").get(), Device)
    assert_type(api.applications("a").devices().get(perPage=10), Devices)
    assert_type(
        api.applications("a").devices().patch({"patch": {}}), DevicesUpdated | JobEnqueuedResult
    )
    assert_type(api.applications("a").devices("d").state().post({"data": {}}), Success)
    api.applications("a").devices().get(perPage=10, sortDirection="asc", validate=False)


def collection_iteration_is_typed(api: API) -> None:
    for d in api.applications("a").devices().get():
        assert_type(d, Device)


def results_behave_like_what_they_hold(api: API) -> None:
    app = api.applications("a")
    page = app.devices().get(perPage=10)
    assert_type(len(page), int)
    assert_type(page[0], Device)
    assert_type(page[1:3], list[Device])
    states = app.devices("d").state().get()
    assert_type(states, DeviceStates)
    for state in states:
        assert_type(state, DeviceStatesModelItem)
    assert_type(states[0], DeviceStatesModelItem)
    assert_type(states[:2], list[DeviceStatesModelItem])
    last = app.data().last_value_query().post({"deviceIds": ["d"]})
    assert_type(last, LastValueData)
    assert_type(last["d"], LastValueDataModel)
    assert_type(last.get("d"), LastValueDataModel | None)
    assert_type("d" in last, bool)
    for device_id, value in last.items():
        assert_type(device_id, str)
        assert_type(value, LastValueDataModel)
    for key in last:
        assert_type(key, str)
    composite = app.devices("d").composite_state().get()
    assert_type(composite, CompositeDeviceState)
    assert_type(composite["temperature"], CompositeDeviceStateModel)
    assert_type(list(composite.values()), list[CompositeDeviceStateModel])
    assert_type(DevicePost.describe(), str)
