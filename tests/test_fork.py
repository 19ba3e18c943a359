"""Fork safety: a forked child gets its own connections; parent and child get their own answers.

The server echoes the application id of each request's path, so a process that read an
answer meant for the other one (the two sharing one pooled socket) sees a wrong id. Both
processes call at once, many times, with keep-alive connections made before the fork.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest
from fault_server import FaultServer, Received, reply

import losant_fluent as lf

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

CALLS = 150
_API: lf.API | None = None  # the parent's client, inherited by forked children


def _echo(request: Received, index: int) -> Any:
    return reply(200, {"id": request.path.rsplit("/", 1)[-1], "name": "echo"})


def _calls(api: lf.API, tag: str) -> int:
    """Make CALLS calls; return how many answers were not this caller's own."""
    wrong = 0
    for number in range(CALLS):
        wanted = f"{tag}x{number:05d}"
        if api.applications(wanted).get().id != wanted:
            wrong += 1
    return wrong


def _in_forked_child(tag: str) -> tuple[int, int]:
    assert _API is not None
    return os.getpid(), _calls(_API, tag)


def _in_spawned_child(url: str, tag: str) -> tuple[int, int]:
    return os.getpid(), _calls(lf.API(url=url, token="t", timeout=10), tag)


@pytest.fixture
def server() -> Any:
    with FaultServer(_echo) as running:
        yield running


def _parent_api(url: str) -> lf.API:
    global _API
    _API = lf.API(url=url, token="t", timeout=10)
    _API.applications("warm").get()  # a pooled, kept-alive connection before the fork
    return _API


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_multiprocessing_parent_and_children_get_their_own_answers(
    server: FaultServer, method: str
) -> None:
    api = _parent_api(server.url)
    context = multiprocessing.get_context(method)
    with context.Pool(3) as pool:
        if method == "fork":
            pending = pool.map_async(_in_forked_child, ["a", "b", "c"])
        else:
            pending = pool.starmap_async(_in_spawned_child,
                                         [(server.url, t) for t in ("a", "b", "c")])
        assert _calls(api, "parent") == 0  # at the same time as the children
        results = pending.get(timeout=120)
    pids = {pid for pid, _ in results}
    assert os.getpid() not in pids
    assert [wrong for _, wrong in results] == [0, 0, 0]
    # Each child process opened connections of its own besides the parent's one.
    assert server.connections >= 1 + len(pids)
    assert len(server.received) == 1 + CALLS * 4


def test_process_pool_executor_fork(server: FaultServer) -> None:
    api = _parent_api(server.url)
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(2, mp_context=context) as executor:
        futures = [executor.submit(_in_forked_child, tag) for tag in ("p", "q")]
        assert _calls(api, "parent") == 0
        results = [future.result(timeout=120) for future in futures]
    assert [wrong for _, wrong in results] == [0, 0]
    assert len(server.received) == 1 + CALLS * 3


def test_os_fork_child_keeps_credentials_and_options(server: FaultServer) -> None:
    api = _parent_api(server.url).with_options(max_retries=0)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report and leave at once, without pytest's cleanup
        code = 1
        try:
            ok = _calls(api, "kid") == 0 and api.has_token and api.options.max_retries == 0
            code = 0 if ok else 1
        finally:
            os.write(write, b"ok" if code == 0 else b"no")
            os._exit(code)
    os.close(write)
    assert _calls(api, "parent") == 0
    _, status = os.waitpid(pid, 0)
    assert os.read(read, 2) == b"ok" and os.WEXITSTATUS(status) == 0
    os.close(read)
    tokens = {r.headers.get("authorization") for r in server.received}
    assert tokens == {"Bearer t"}  # the child sent the parent's token


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
def test_async_client_in_a_forked_child(server: FaultServer) -> None:
    import asyncio

    async def calls(api: lf.AsyncAPI, tag: str) -> int:
        wrong = 0
        for number in range(20):
            wanted = f"{tag}{number}"
            if (await api.applications(wanted).get()).id != wanted:
                wrong += 1
        return wrong

    api = lf.AsyncAPI(url=server.url, token="t", timeout=10)
    assert asyncio.run(calls(api, "before")) == 0  # pools made in the parent's loop
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = 0 if asyncio.run(calls(api, "kid")) == 0 else 1
        finally:
            os._exit(code)
    assert asyncio.run(calls(api, "parent")) == 0
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
