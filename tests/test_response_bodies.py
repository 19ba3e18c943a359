"""Read answers keep their body through public API only: a read body is what
``http_response().content`` gives, an error's body echoing a secret comes back scrubbed (a
copy in the answer's own library type), and the kept-alive connection is reused."""

from __future__ import annotations

import asyncio
import pickle
from typing import Any

import httpx
import pytest
import requests
from fault_server import FaultServer, Received, raw, reply

from losant_fluent import API, AsyncAPI, ForbiddenError

TOKEN = "tok-ECHOED-SECRET-4711"
APP = "5f0c1e2d3a4b5c6d7e8f9a0b"


def echo(request: Received, number: int) -> Any:
    if number == 0:
        return reply(200, {"id": APP, "name": "plant"})
    # A proxy that echoes the request, Authorization header included.
    return raw(403, f'{{"type":"Forbidden","message":"no: {request.headers["authorization"]}"}}'
               .encode(), "application/json", )


def test_a_read_body_and_a_scrubbed_error_body_through_requests() -> None:
    with FaultServer(echo) as server, API(server.url, TOKEN, max_retries=0) as api:
        app = api.applications(APP).get()
        first = app.http_response()
        assert isinstance(first, requests.Response)
        assert first.json() == {"id": APP, "name": "plant"}
        assert first.raw.read() == first.content  # raw stays readable: a file over the body
        with pytest.raises(ForbiddenError) as caught:
            api.applications(APP).get()
    assert server.connections == 1  # the connection went back to the pool after each read
    assert TOKEN in server.received[1].headers["authorization"]  # the echo did carry it
    kept = caught.value.http_response()
    assert isinstance(kept, requests.Response) and kept.status_code == 403
    assert TOKEN not in kept.text and "***" in kept.text
    assert kept.json()["type"] == "Forbidden"
    assert kept.headers["Content-Type"] == "application/json"
    again = pickle.loads(pickle.dumps(caught.value)).http_response()
    assert again is not None and TOKEN not in again.text and again.status_code == 403


def test_a_scrubbed_error_body_through_httpx() -> None:
    async def main() -> Any:
        async with AsyncAPI(server.url, TOKEN, max_retries=0) as api:
            await api.applications(APP).get()
            try:
                await api.applications(APP).get()
            except ForbiddenError as err:
                return err
        raise AssertionError("no error")

    with FaultServer(echo) as server:
        err = asyncio.run(main())
    kept = err.http_response()
    assert isinstance(kept, httpx.Response) and kept.status_code == 403
    assert TOKEN not in kept.text and "***" in kept.text
    assert kept.headers["content-type"] == "application/json"
