"""Checked by mypy (tests/test_quality.py), never run: chains are statically typed end to end."""

from __future__ import annotations

from typing_extensions import assert_type

from losant_fluent import API
from losant_fluent._resources import DeviceNode, DevicesNode
from losant_fluent.models import Device, Devices, DevicesUpdated, JobEnqueuedResult, Success


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
