"""Checked by mypy (tests/test_async_wire.py), never run: the async tree is typed too."""

from __future__ import annotations

from typing import Any

from typing_extensions import assert_type

from losant_fluent import AsyncAPI, AsyncEventStream, AsyncPaged, AsyncPageWalk, LosantError
from losant_fluent._async_resources import AsyncDeviceNode, AsyncDevicesNode
from losant_fluent.models import Device, Devices, DevicesUpdated, JobEnqueuedResult, Success


async def chains_are_typed(api: AsyncAPI) -> None:
    assert_type(api.applications("a").devices(), AsyncDevicesNode)
    assert_type(api.applications("a").devices("d"), AsyncDeviceNode)
    assert_type(await api.applications("a").devices("d").get(), Device)
    assert_type(api.applications("a").devices().get(perPage=10), AsyncPaged[Devices])
    assert_type(await api.applications("a").devices().get(perPage=10), Devices)
    assert_type(
        await api.applications("a").devices().patch({"patch": {}}),
        DevicesUpdated | JobEnqueuedResult,
    )
    assert_type(await api.applications("a").devices("d").state().post({"data": {}}), Success)
    assert_type(api.applications("a").devices("d").state_stream().get(), AsyncEventStream)
    assert_type(api.applications("a").devices().get().pages(), AsyncPageWalk[Any])
    assert_type(api.with_options(timeout=1), AsyncAPI)
    assert_type(await api.login_user("e", "p"), AsyncAPI)
    async for device in api.applications("a").devices().get(perPage=1000):
        assert_type(device, Device)
    await api.applications("a").devices().get(perPage=10, sortDirection="asc", validate=False)
    try:
        pass
    except LosantError as err:  # an interrupted walk goes on with ``async for``
        async for _ in err.resume():
            pass
