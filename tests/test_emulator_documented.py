"""Every documented action answers as Losant documents it, driven through the client.

One walk (module fixture) calls all 380 catalog actions with the fluent client against
the emulator, creates first and deletes last (the order of ``test_emulator_schemas``).
It checks, and prints as counts:

* the documented success status (streams: a ``text/event-stream`` 200);
* a body valid against the documented schema;
* no stand-in: no ``{}`` (or a fragment with fewer than half the keys of the documented
  example) where the documented result is an object with properties;
* writes read back: what a write changed is what the read documenting it returns;
* 404 for a missing id (a fresh emulator, each action's last path id replaced);
* 400 for a body of the wrong JSON type and for a missing required query parameter.

The negative probes go over plain HTTP: the client refuses those requests before sending.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from test_emulator_schemas import (
    _QUERIES,
    Sweep,
    _definitions,
    _phase,
    required_query,
    validate,
)

from losant_fluent import API
from losant_fluent._catalog import Endpoint, endpoints
from losant_fluent._exceptions import APIError
from losant_fluent.testing import Emulator, _schema
from losant_fluent.testing._routes import route_info

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from gen_resources import method_name  # noqa: E402

REFERENCE = Path(__file__).resolve().parents[1] / "reference"
MISSING = "f" * 24
_PARAM = re.compile(r"\{([^}]+)\}")
# Path parameters that are not ids (an attribute's name): a missing one is not probed.
_NOT_IDS = frozenset({"name"})


def _chain(api: API, template: str, filled: str) -> Any:
    """The client node of a path (``/applications/ID/devices`` -> app.devices())."""
    node: Any = api
    names = template.strip("/").split("/")
    values = filled.strip("/").split("/")
    index = 0
    while index < len(names):
        method = getattr(node, method_name(names[index]))
        if index + 1 < len(names) and names[index + 1].startswith("{"):
            node = method(values[index + 1])
            index += 2
        else:
            node = method()
            index += 1
    return node


def _kwargs(ep: Endpoint) -> dict[str, Any]:
    out: dict[str, Any] = dict(required_query(ep))
    out.update(_QUERIES.get(ep.id, {}))
    for param in ep.params:
        if param.location == "multipart" and param.type == "file":
            out[param.name] = ("bundle.zip", b"PK\x05\x06" + b"\0" * 18)
    return out


class ClientWalk(Sweep):
    """The schema sweep, sent through the fluent client instead of raw HTTP."""

    def __init__(self, emu: Emulator, token: str) -> None:
        super().__init__(emu, token)
        self.api = API(url=emu.url, token=token)

    def node_for(self, ep: Endpoint) -> Any:
        return _chain(self.api, ep.path, self.path_for(ep))

    def call(self, ep: Endpoint, body: Any = None) -> tuple[int, Any]:
        verb = getattr(self.node_for(ep), ep.method.lower())
        args = (body,) if ep.body_param is not None else ()
        try:
            result = verb(*args, validate=False, **_kwargs(ep))
        except APIError as exc:
            response = exc.http_response()
            payload = response.json() if response is not None and response.content else None
            return exc.status, payload
        response = result.http_response()
        if ep.sse:
            kind = response.headers.get("Content-Type", "")
            result.close()
            return response.status_code, kind
        return response.status_code, response.json() if response.content else None

    def run(self, ep: Endpoint) -> None:
        body = self.body_for(ep)
        status, payload = self.call(ep, body)
        self.results[ep.id] = (status, payload)
        if ep.method == "POST" and status < 300 and isinstance(payload, dict):
            info = route_info(ep.id)
            ident = payload.get("id") or (info.item_param and payload.get(info.item_param))
            if info.kind == "create" and info.collection and ident:
                self.created.setdefault(info.collection, str(ident))
            if ep.id == "dataTableRows.post":
                self.ids["rowId"] = payload["id"]


def _ordered() -> list[Endpoint]:
    return sorted(
        endpoints().values(),
        key=lambda ep: (_phase(ep), ep.path.count("/") * (-1 if _phase(ep) >= 2 else 1)),
    )


@pytest.fixture(scope="module")
def walk() -> ClientWalk:
    with Emulator(time_scale=1e-6) as emu:  # jobs finish at once: each export runs
        emu.seed_devices(3)
        runner = ClientWalk(emu, emu.user_token())
        for ep in _ordered():
            runner.run(ep)
        runner.api.close()
        assert not emu.app.internal_errors, emu.app.internal_errors
    return runner


@pytest.fixture(scope="module")
def definitions() -> dict[str, Any]:
    return _definitions()


def _success(ep: Endpoint) -> set[int]:
    return {int(code) for code in ep.responses if code.startswith("2")}


def _resolved(name: str, definitions: dict[str, Any]) -> dict[str, Any]:
    node = definitions.get(name, {})
    while "$ref" in node:
        node = definitions.get(node["$ref"].rsplit("/", 1)[-1], {})
    return node


def _standin(ep: Endpoint, status: int, payload: Any, definitions: dict[str, Any]) -> bool:
    """``{}`` or a fragment where the documented result is an object with properties."""
    name = ep.responses.get(str(status))
    if not name or not isinstance(payload, dict):
        return False
    node = _resolved(name, definitions)
    if node.get("type") != "object" or not node.get("properties"):
        return False
    if not payload:
        return True
    if name in _DYNAMIC:
        return False
    example = _examples().get(name)
    if isinstance(example, dict) and len(example) >= 4:
        return len(set(example) & set(payload)) * 2 < len(example)
    return False


# Results whose keys depend on the data (a row holds its table's columns, with Losant's
# createdAt/updatedAt where the example shows creationDate/lastUpdated).
_DYNAMIC = frozenset({"dataTableRow"})
_EXAMPLES: dict[str, Any] = {}


def _examples() -> dict[str, Any]:
    if not _EXAMPLES:
        _EXAMPLES.update(json.loads((REFERENCE / "examples.json").read_text(encoding="utf-8")))
    return _EXAMPLES


def test_documented_status_schema_and_no_standins(
    walk: ClientWalk, definitions: dict[str, Any]
) -> None:
    wrong_status: dict[str, Any] = {}
    invalid: dict[str, str] = {}
    standins: list[str] = []
    checked = with_schema = objects = 0
    for ep_id, (status, payload) in sorted(walk.results.items()):
        ep = endpoints()[ep_id]
        checked += 1
        if ep.sse:
            if status != 200 or not str(payload).startswith("text/event-stream"):
                wrong_status[ep_id] = (status, payload)
            continue
        if status not in _success(ep):
            wrong_status[ep_id] = (status, payload)
            continue
        schema = ep.responses.get(str(status))
        if schema:
            with_schema += 1
            try:
                validate(schema, payload, definitions)
            except Exception as exc:  # noqa: BLE001 - collected and reported below
                invalid[ep_id] = str(exc).splitlines()[0]
            node = _resolved(schema, definitions)
            if node.get("type") == "object" and node.get("properties"):
                objects += 1
                if _standin(ep, status, payload, definitions):
                    standins.append(ep_id)
    right = checked - len(wrong_status)
    valid = with_schema - len(invalid)
    print(f"\nright status {right}/{checked}; schema-valid {valid}/{with_schema}; "
          f"complete answers {objects - len(standins)}/{objects}")
    print(f"wrong status: {wrong_status}\ninvalid: {invalid}\nstand-ins: {standins}")
    assert checked == 380
    assert not invalid
    assert right >= 375, wrong_status
    assert len(standins) <= 5, standins


@pytest.fixture(scope="module")
def probed() -> Any:
    """A fresh emulator where every collection holds one created item (the walk's creates)."""
    with Emulator(time_scale=1e-6) as emu:  # jobs finish at once: each export runs
        emu.seed_devices(3)
        runner = ClientWalk(emu, emu.user_token())
        for ep in _ordered():
            if _phase(ep) == 0:
                runner.run(ep)
        yield runner
        runner.api.close()


def _send(runner: ClientWalk, ep: Endpoint, path: str, **kwargs: Any) -> requests.Response:
    kwargs.setdefault("params", {**required_query(ep), **_QUERIES.get(ep.id, {})})
    kwargs.setdefault("timeout", 10)
    if ep.sse:
        with runner.session.get(runner.emu.url + path, stream=True, **kwargs) as response:
            response.close()
            return response
    return runner.session.request(ep.method, runner.emu.url + path, **kwargs)


def test_missing_ids_answer_404(probed: ClientWalk) -> None:
    """Each id of each documented-404 path, replaced by one that does not exist: 404."""
    tried: list[tuple[str, str]] = []
    wrong: dict[str, Any] = {}
    for ep in sorted(endpoints().values(), key=lambda e: e.id):
        if "404" not in ep.responses:
            continue
        filled = probed.path_for(ep).strip("/").split("/")
        template = ep.path.strip("/").split("/")
        body = probed.body_for(ep)
        for index, segment in enumerate(template):
            name = segment[1:-1]
            if not segment.startswith("{") or name in _NOT_IDS:
                continue
            path = "/" + "/".join(filled[:index] + [MISSING] + filled[index + 1 :])
            response = _send(probed, ep, path, json=body)
            tried.append((ep.id, name))
            if response.status_code != 404:
                wrong[f"{ep.id}:{name}"] = (response.status_code, response.text[:120])
    print(f"\nmissing id -> 404: {len(tried) - len(wrong)}/{len(tried)} "
          f"({len({e for e, _ in tried})} actions); wrong: {wrong}")
    assert not wrong
    assert not probed.emu.app.internal_errors


def _wrong_type(ep: Endpoint) -> Any:
    """A body of the other JSON type: an array where an object is documented, and back."""
    param = ep.body_param
    assert param is not None
    node = _schema.schema(param.schema or "") or {"type": "object"}
    kinds = node.get("type", ["object", "array"])
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if "object" not in kinds:
        return {"name": "x"}
    if "array" not in kinds:
        return [{"name": "x"}]
    return "x"


def test_wrong_typed_bodies_and_missing_required_query_answer_400(probed: ClientWalk) -> None:
    bodies = queries = 0
    wrong: dict[str, Any] = {}
    for ep in sorted(endpoints().values(), key=lambda e: e.id):
        if "400" not in ep.responses or ep.sse:
            continue
        path = probed.path_for(ep)
        if ep.body_param is not None:
            bodies += 1
            response = _send(probed, ep, path, json=_wrong_type(ep))
            if response.status_code != 400 or response.json()["type"] != "Validation":
                wrong[f"{ep.id} body"] = (response.status_code, response.text[:120])
        for param in ep.params:
            if param.location != "query" or not param.required:
                continue
            queries += 1
            params = {k: v for k, v in required_query(ep).items() if k != param.name}
            response = _send(probed, ep, path, params=params, json=probed.body_for(ep))
            if response.status_code != 400 or param.name not in response.json()["message"]:
                wrong[f"{ep.id} {param.name}"] = (response.status_code, response.text[:120])
    bad_bodies = sum(1 for k in wrong if k.endswith(" body"))
    print(f"\nwrong body -> 400: {bodies - bad_bodies}/{bodies}; missing required query -> "
          f"400: {queries - (len(wrong) - bad_bodies)}/{queries}; wrong: {wrong}")
    assert not wrong
    assert bodies >= 130 and queries >= 10
    assert not probed.emu.app.internal_errors
