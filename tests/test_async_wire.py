"""The async tree goes over the wire exactly as the sync one (issue 14).

All 380 catalog endpoints are called through ``AsyncAPI`` and through ``API`` against the
same recording server on 127.0.0.1; each pair of requests must be identical: method, request
target (path and query string), body bytes and the full list of headers, names, values and
order (multipart boundaries, random per body, aside). The async tree must also have the
same nodes, verbs and docstrings as the sync one.
"""

from __future__ import annotations

import asyncio
import inspect
import re
from typing import Any

from test_every_endpoint import ENDPOINTS, TOKEN, _chain, _filled, _kwargs, _reply
from wire_server import Recorded, RecordingServer

from losant_fluent import API, AsyncAPI, _async_resources, _resources
from losant_fluent._async_pagination import AsyncPaged
from losant_fluent._async_streams import AsyncEventStream

_BOUNDARY = re.compile(rb"[0-9a-f]{32}")


def _normal(record: Recorded) -> tuple[Any, ...]:
    """A request with its multipart boundary (if any) replaced by a fixed one."""
    headers = [(k, _BOUNDARY.sub(b"B", v.encode()).decode()) for k, v in record.headers]
    return record.method, record.target, _BOUNDARY.sub(b"B", record.body), headers


def _args(endpoint: Any) -> tuple[Any, ...]:
    return ({"name": "x", "nested": {"list": [1, 2.5, True, None]}},) if (
        endpoint.body_param is not None) else ()


async def _call_async(api: AsyncAPI, endpoint: Any) -> Any:
    verb = getattr(_chain(api, endpoint.path), endpoint.method.lower())
    result = verb(*_args(endpoint), validate=False, **_kwargs(endpoint))
    if isinstance(result, AsyncEventStream):
        async with result as stream:  # a stream reconnects when its body ends: take one
            async for event in stream:
                assert event.event == "hello"
                break
        return stream
    if isinstance(result, AsyncPaged):
        return await result
    return await result


def test_every_endpoint_sends_the_same_request_as_the_sync_client() -> None:
    pairs: list[tuple[str, Recorded, Recorded]] = []

    async def main(server: RecordingServer) -> None:
        async with AsyncAPI(url=server.url, token=TOKEN) as aapi:
            with API(url=server.url, token=TOKEN) as api:
                for endpoint in ENDPOINTS:
                    verb = getattr(_chain(api, endpoint.path), endpoint.method.lower())
                    result = verb(*_args(endpoint), validate=False, **_kwargs(endpoint))
                    if endpoint.sse:
                        result.close()
                    sync_sent = server.last
                    result = await _call_async(aapi, endpoint)
                    assert server.last is not sync_sent, endpoint.id
                    pairs.append((endpoint.id, sync_sent, server.last))
                    response = result.http_response()
                    assert response.status_code == 200
                    assert response.headers["content-type"]

    with RecordingServer(_reply) as server:
        asyncio.run(main(server))
    assert len(pairs) == 380
    for endpoint_id, theirs, ours in pairs:
        assert _normal(ours) == _normal(theirs), endpoint_id
        assert ours.path == _filled(ours.path), endpoint_id


def test_the_async_tree_has_the_same_nodes_verbs_and_docstrings() -> None:
    sync_classes = {n: getattr(_resources, n) for n in _resources.__all__}
    async_classes = {n: getattr(_async_resources, n) for n in _async_resources.__all__}
    assert set(async_classes) == {"Async" + n for n in sync_classes}
    for name, cls in sync_classes.items():
        acls = async_classes["Async" + name]
        assert acls.__doc__ == cls.__doc__
        assert acls._template == cls._template
        public = {n for n in vars(cls) if not n.startswith("_")}
        assert {n for n in vars(acls) if not n.startswith("_")} == public, name
        for attr in public:
            sync_fn, async_fn = getattr(cls, attr), getattr(acls, attr)
            assert inspect.getdoc(async_fn) == inspect.getdoc(sync_fn), f"{name}.{attr}"
            sync_sig = inspect.signature(sync_fn)
            async_sig = inspect.signature(async_fn)
            assert list(async_sig.parameters) == list(sync_sig.parameters), f"{name}.{attr}"


def test_building_async_nodes_sends_nothing_and_verbs_are_awaitable() -> None:
    with RecordingServer(_reply) as server:

        async def main() -> None:
            async with AsyncAPI(url=server.url, token=TOKEN) as api:
                node = api.applications("a1").devices("d1").state()
                assert node.path == "/applications/a1/devices/d1/state"
                paged = api.applications("a1").devices().get(perPage=5)
                assert isinstance(paged, AsyncPaged)
                stream = api.applications("a1").devices("d1").state_stream().get()
                coroutine = api.applications("a1").devices("d1").get()
                assert server.requests == []
                await coroutine
                assert len(server.requests) == 1
                del paged, stream

        asyncio.run(main())


def test_the_async_tree_is_typed_for_mypy() -> None:
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "tests/async_typing_examples.py"],
        cwd=root, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
