"""Walk all 380 catalog endpoints through the chain against a real local server, and check
each one goes over the wire exactly as the official ``losant-rest`` Python client sends it."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from wire_server import Recorded, RecordingServer, json_reply

from losant_fluent import API, _catalog

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from gen_resources import method_name, snake  # noqa: E402

ENDPOINTS = sorted(_catalog.endpoints().values(), key=lambda e: e.id)
TOKEN = "tok-walk"


def _reply(record: Recorded) -> tuple[int, dict[str, str], bytes]:
    if record.path.endswith("Stream"):
        return 200, {"Content-Type": "text/event-stream"}, b"event: hello\ndata: {}\n\n"
    return json_reply(200, {})


def _chain(api: API, path: str) -> Any:
    node: Any = api
    segments = path.strip("/").split("/")
    index = 0
    while index < len(segments):
        method = getattr(node, method_name(segments[index]))
        if index + 1 < len(segments) and segments[index + 1].startswith("{"):
            node = method(f"id{index}")
            index += 2
        else:
            node = method()
            index += 1
    return node


def _filled(path: str) -> str:
    segments = path.strip("/").split("/")
    return "/" + "/".join(
        f"id{i - 1}" if s.startswith("{") else s for i, s in enumerate(segments)
    )


def _value(param: _catalog.Param) -> Any:
    if param.enum:
        return param.enum[-1]
    if param.location == "multipart" and param.type == "file":
        return ("bundle.zip", b"PK\x03\x04")
    if param.type == "object":
        return {"name": {"$eq": "x"}}
    if param.type == "array":
        return ["one", "two"]
    if param.type is None:
        return [{"key": "k", "value": "v"}]
    return f"v-{param.name}"


def _kwargs(endpoint: _catalog.Endpoint) -> dict[str, Any]:
    return {
        p.name: _value(p)
        for p in endpoint.params
        if p.location in ("query", "header", "multipart")
    }


def test_catalog_has_380_endpoints() -> None:
    assert len(ENDPOINTS) == 380
    assert len({(e.method, e.path) for e in ENDPOINTS}) == 380


def test_every_endpoint_is_reachable_through_the_chain() -> None:
    reached = 0
    with RecordingServer(_reply) as server, API(url=server.url, token=TOKEN) as api:
        for endpoint in ENDPOINTS:
            node = _chain(api, endpoint.path)
            verb = getattr(node, endpoint.method.lower())
            body = {"any": "thing"} if endpoint.body_param is not None else None
            args = (body,) if body is not None else ()
            result = verb(*args, validate=False, **_kwargs(endpoint))
            sent = server.last
            assert sent.method == endpoint.method, endpoint.id
            assert sent.path == _filled(endpoint.path), endpoint.id
            assert sent.query.startswith("_actions=false&_links=true&_embedded=true"), endpoint.id
            assert sent.header("Authorization") == f"Bearer {TOKEN}"
            if body is not None:
                assert json.loads(sent.body) == body, endpoint.id
            assert result.http_response().status_code == 200
            reached += 1
            if endpoint.sse:
                result.close()
    assert reached == 380


def test_verbs_on_each_node_match_the_catalog() -> None:
    by_path: dict[str, set[str]] = {}
    for endpoint in ENDPOINTS:
        by_path.setdefault(endpoint.path, set()).add(endpoint.method.lower())
    api = API(url="http://127.0.0.1:9")
    for path, verbs in by_path.items():
        node = _chain(api, path)
        present = {v for v in ("get", "post", "patch", "put", "delete") if hasattr(node, v)}
        assert present == verbs, path


def _official_method(client: Any, endpoint: _catalog.Endpoint) -> Any:
    resource = getattr(client, snake(endpoint.raw["resource"]), None)
    action = snake(endpoint.raw["action"])
    # losant-rest spells the Python keyword ``import`` as ``api_import``.
    return getattr(resource, "api_import" if action == "import" else action, None)


OFFICIAL = [e for e in ENDPOINTS if not any(p.location == "multipart" for p in e.params)]


@pytest.mark.parametrize("endpoint", OFFICIAL, ids=[e.id for e in OFFICIAL])
def test_wire_matches_official_client(endpoint: _catalog.Endpoint) -> None:
    losant_rest = pytest.importorskip("losant_rest")
    with RecordingServer(_reply) as server:
        official = losant_rest.Client(auth_token=TOKEN, url=server.url)
        method = _official_method(official, endpoint)
        if method is None:
            pytest.skip(f"losant-rest 2.3.0 has no method for {endpoint.id}")
        kwargs = _kwargs(endpoint)
        body = {"name": "x", "nested": {"list": [1, 2.5, True, None]}}
        official_kwargs = dict(kwargs)
        for param in endpoint.params:
            if param.location == "path":
                index = endpoint.path.strip("/").split("/").index("{" + param.name + "}")
                official_kwargs[param.name] = f"id{index - 1}"
        if endpoint.body_param is not None:
            official_kwargs[endpoint.body_param.name] = body
        if endpoint.sse:
            pytest.skip("streams are compared in test_streams")
        method(**official_kwargs)
        theirs = server.last
        with API(url=server.url, token=TOKEN) as api:
            verb = getattr(_chain(api, endpoint.path), endpoint.method.lower())
            args = (body,) if endpoint.body_param is not None else ()
            verb(*args, validate=False, **kwargs)
        ours = server.last
    assert ours.method == theirs.method
    assert ours.target == theirs.target
    assert ours.body == theirs.body
    for header in ("Accept", "Accept-Version", "Authorization", "Content-Type",
                   "Content-Length", "losantdomain", "User-Agent", "Accept-Encoding"):
        assert ours.header(header) == theirs.header(header), header
    assert [k for k, _ in ours.headers] == [k for k, _ in theirs.headers]


def test_official_client_comparison_covers_most_endpoints() -> None:
    losant_rest = pytest.importorskip("losant_rest")
    client = losant_rest.Client(url="http://127.0.0.1:9")
    covered = [e.id for e in OFFICIAL if _official_method(client, e) is not None]
    assert len(covered) >= 360, len(covered)
    assert not [e for e in covered if re.search(r"\s", e)]
