"""Hostile input never makes the emulator answer 5xx or anything but Losant-shaped errors.

A deterministic, table-driven fuzz: every endpoint of the catalog gets malformed bodies
(invalid JSON, ``NaN`` literals, deep nesting, huge numbers and strings, non-objects,
wrong types for each documented body field), hostile query parameters (negative,
non-numeric, overflowing, JSON junk, unknown query operators) and ids that are not
24-hex, sent straight over HTTP (the client would refuse most of them before sending).
Every answer must be below 500; errors must be JSON ``{"type": str, "message": str}``;
success bodies must be strict JSON. The emulator must not record an internal error.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from losant_fluent import _catalog
from losant_fluent.testing import Emulator
from losant_fluent.testing._routes import path_params, route_info
from losant_fluent.testing._schema import example

DEEP = 400


def _deep_and(levels: int) -> dict[str, Any]:
    query: dict[str, Any] = {"name": "x"}
    for _ in range(levels):
        query = {"$and": [query]}
    return query


# Raw request bodies (text, not JSON-encoded by requests) sent to every endpoint that
# takes a body, and to the other non-GET endpoints as well.
RAW_BODIES: list[str | bytes] = [
    "NaN",
    '{"name": NaN}',
    '{"time": Infinity, "data": {"temperature": -Infinity}}',
    "[NaN, Infinity]",
    "{",
    '{"name": }',
    b"\xff\xfe\x00garbage",
    "[]",
    "[1, 2, 3]",
    '"a string"',
    "12345",
    "null",
    "true",
    "",
    "[" * 5000 + "]" * 5000,
    '{"a":' * 300 + "1" + "}" * 300,
    '{"name": 1e400}',
    '{"name": ' + "9" * 400 + "}",
    "9" * 5000,
    '{"name": -1e308, "count": 1e308}',
    json.dumps({"name": "x" * 200_000}),
    json.dumps({"query": _deep_and(DEEP), "deviceQuery": _deep_and(DEEP)}),
    json.dumps({"name": {"$like": "x"}}),
    json.dumps({"deviceQuery": {"name": {"$like": "x"}}, "query": {"$where": "1"}}),
    json.dumps({"time": 1e300, "data": {"temperature": 1}}),
    json.dumps([{"time": -1e300, "data": {"temperature": 1}}, {"time": "x", "data": {}}]),
    json.dumps({"$and": "not a list", "$or": [1, "x", None]}),
]

# Values given to every documented body field, one type at a time (all fields at once).
WRONG_VALUES: list[Any] = [
    "x",
    "",
    -1,
    0,
    1e308,
    -(2**63),
    True,
    None,
    [],
    {},
    [{"key": 1, "value": []}],
    {"$date": 5},
    {"$gt": {"nested": True}},
    "not-an-id",
]

# Values given to every documented query parameter, one parameter at a time.
QUERY_VALUES = [
    "-1",
    "abc",
    "1e9",
    "1e400",
    "NaN",
    "Infinity",
    "",
    "9" * 400,
    "{",
    "[]",
    '{"name": {"$like": "x"}}',
    json.dumps(_deep_and(DEEP)),
    "2024-13-45",
]

# Extra query strings sent to every GET endpoint.
EXTRA_QUERIES: list[dict[str, str]] = [
    {"page": "-1", "perPage": "1e9"},
    {"page": "1e9", "perPage": "0"},
    {"perPage": "-5", "limit": "-1", "offset": "-1"},
    {"limit": "1000000000", "offset": "1000000000000"},
    {"limit": "abc", "offset": "1.5", "page": "NaN"},
    {"sortDirection": "sideways", "sortField": "$where"},
    {"start": "1e300", "end": "-1e300", "duration": "Infinity", "since": "NaN"},
    {"start": "+275760-09-13T00:00:00.001Z", "end": "not a date"},
    {"query[$and][0][$and][0][name][$like]": "x"},
    {"query" + "[$and][0]" * 300 + "[name]": "x"},
    {"tagFilter[0][key]": "a", "tagFilter[0][key][x]": "b"},
    {"filter": "*" * 1000 + "x", "filterField": "$nope"},
]

BAD_IDS = ["not-an-id", "0" * 23, "g" * 24, "x" * 300, "%00", "..", "' OR 1=1 --"]

# Body field names when the model of a body schema cannot be loaded.
FALLBACK_FIELDS = (
    "name",
    "description",
    "time",
    "data",
    "query",
    "deviceQuery",
    "deviceIds",
    "deviceTags",
    "tags",
    "attributes",
    "start",
    "end",
    "limit",
    "aggregation",
    "resolution",
)


def _body_fields(endpoint: _catalog.Endpoint) -> list[str]:
    param = endpoint.body_param
    if param is None or not param.schema:
        return list(FALLBACK_FIELDS)
    try:
        from losant_fluent.models._registry import model_for

        model = model_for(param.schema.rsplit("/", 1)[-1])
        names = [field.alias or name for name, field in model.model_fields.items()]
    except Exception:  # noqa: BLE001 - the models are optional for this test
        return list(FALLBACK_FIELDS)
    return names or list(FALLBACK_FIELDS)


def _strict_json(text: str) -> Any:
    def refuse(name: str) -> Any:
        raise ValueError(f"invalid JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


class Prober:
    """Sends requests and checks every answer."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {emu.user_token()}"
        self.sent = 0
        self.failures: list[str] = []

    def send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        data: str | bytes | None = None,
        json_body: Any = None,
    ) -> requests.Response:
        headers = {"Content-Type": "application/json"} if data is not None else None
        response = self.session.request(
            method,
            self.emu.url + path,
            params=params,
            data=data,
            json=json_body,
            headers=headers,
            timeout=30,
        )
        self.sent += 1
        self._check(method, path, params, data if data is not None else json_body, response)
        return response

    def _check(
        self,
        method: str,
        path: str,
        params: Any,
        body: Any,
        response: requests.Response,
    ) -> None:
        where = f"{method} {path[:120]} params={str(params)[:120]} body={str(body)[:120]}"
        status = response.status_code
        if status >= 500:
            self.failures.append(f"{status} {where}: {response.text[:300]}")
            return
        if not response.content:
            if status >= 400:
                self.failures.append(f"{status} with an empty body: {where}")
            return
        try:
            payload = _strict_json(response.text)
        except ValueError as exc:
            self.failures.append(f"{status} invalid JSON ({exc}): {where}: {response.text[:200]}")
            return
        if status >= 400 and not (
            isinstance(payload, dict)
            and isinstance(payload.get("type"), str)
            and isinstance(payload.get("message"), str)
        ):
            self.failures.append(f"{status} not Losant-shaped: {where}: {response.text[:200]}")


def _known_ids(emu: Emulator) -> dict[str, str]:
    return {
        "applicationId": emu.application_id,
        "deviceId": emu.device_id,
        "userId": emu.user_id,
        "instanceId": emu.instance_id,
        "orgId": emu.org_id,
        "name": "temperature",
    }


def _fill(path: str, ids: dict[str, str]) -> str | None:
    for name in path_params(path):
        if name not in ids:
            return None
        path = path.replace("{" + name + "}", ids[name])
    return path


def _create_body(ep: _catalog.Endpoint, name: str) -> Any:
    """The documented example body (bodies are checked against their schema), renamed."""
    param = ep.body_param
    body = example(param.schema) if param is not None else None
    if not isinstance(body, dict):
        return {"name": name}
    body = copy.deepcopy(body)
    if "name" in body:
        body["name"] = name
    return body


def _create_resources(prober: Prober, ids: dict[str, str]) -> None:
    """Create one item in every collection reachable with the ids known so far."""
    app = f"/applications/{ids['applicationId']}"
    table = prober.send(
        "POST",
        app + "/data-tables",
        json_body={
            "name": "fuzz",
            "columns": [
                {"name": "n", "dataType": "number", "constraint": "optional"},
                {"name": "s", "dataType": "string", "constraint": "optional"},
            ],
        },
    ).json()
    ids["dataTableId"] = table["id"]
    row = prober.send("POST", f"{app}/data-tables/{table['id']}/rows", json_body={"n": 1})
    ids["rowId"] = row.json()["id"]
    event = prober.send("POST", app + "/events", json_body={"level": "info", "subject": "fuzz"})
    ids["eventId"] = event.json()["id"]
    creates = [ep for ep in _catalog.endpoints().values() if route_info(ep.id).kind == "create"]
    for _round in range(3):
        for ep in creates:
            item = route_info(ep.id).item_param
            if item is None or item in ids:
                continue
            path = _fill(ep.path, ids)
            if path is None:
                continue
            response = prober.send("POST", path, json_body=_create_body(ep, f"fuzz{len(ids)}"))
            if response.status_code < 300 and isinstance(response.json(), dict):
                created = response.json().get("id")
                if isinstance(created, str):
                    ids[item] = created


@pytest.fixture(scope="module")
def shared() -> Iterator[Emulator]:
    with Emulator(throttle=False) as emu:
        yield emu


@pytest.fixture
def emulator(shared: Emulator) -> Emulator:
    shared.reset()
    return shared


_ORDER = {"GET": 0, "POST": 1, "PUT": 2, "PATCH": 3, "DELETE": 4}

# The subsets sent to endpoints served by the generic handlers (the full sets go to the
# endpoints with dedicated handlers, where the parsing and the bugs live).
GENERIC_RAW_BODIES: list[str | bytes] = [
    '{"name": NaN}',
    "{",
    "[1, 2, 3]",
    "[" * 5000 + "]" * 5000,
    '{"name": ' + "9" * 400 + "}",
]
GENERIC_WRONG_VALUES = [WRONG_VALUES[i] for i in (0, 8, 9)]
GENERIC_QUERY_VALUES = [QUERY_VALUES[i] for i in (1,)]
DEDICATED_QUERY_VALUES = [QUERY_VALUES[i] for i in (0, 1, 3, 4, 7, 9, 10, 11, 12)]
GENERIC_BAD_IDS = BAD_IDS[:1]
# What replaces each value of a valid body, one at a time.
LEAF_VALUES = [WRONG_VALUES[i] for i in (0, 2, 4, 6, 7, 8, 9, 11, 12)]


def _valid_bodies(ids: dict[str, str], emu: Emulator) -> dict[str, Any]:
    """A valid body for each endpoint with a dedicated handler; the fuzz breaks one leaf
    at a time so the handler gets past its first checks."""
    device, now = ids["deviceId"], int(time.time() * 1000)
    tags = [{"key": "floor", "value": "1"}]
    query = {"name": {"$ne": "nothing"}, "tags": {"floor": "1"}}
    return {
        "auth.authenticateUser": {"email": emu.user_email, "password": emu.user_password},
        "auth.authenticateDevice": {
            "deviceId": device,
            "key": emu.access_key,
            "secret": emu.access_secret,
        },
        "devices.post": {
            "name": "fuzzed",
            "attributes": [{"name": "t", "dataType": "number"}],
            "tags": tags,
        },
        "device.patch": {"description": "d", "tags": tags, "deviceClass": "standalone"},
        "devices.patch": {"query": query, "updateFields": {"description": "d"}},
        "devices.delete": {"query": {"name": "nothing"}},
        "devices.restore": {"query": {"name": "nothing"}},
        "devices.removeData": {"query": {"name": "nothing"}, "start": -1000, "end": 0},
        "device.sendState": {"time": now, "data": {"temperature": 20.5}},
        "device.sendCommand": {"name": "go", "time": now, "payload": {"a": 1}},
        "devices.sendCommand": {"name": "go", "deviceIds": [device], "deviceTags": tags},
        "device.setConnectionStatus": {"status": "connected"},
        "deviceAttributes.post": {"name": "fuzzAttr", "dataType": "string"},
        "deviceAttribute.patch": {"description": "x"},
        "data.lastValueQuery": {"deviceIds": [device], "attribute": "temperature", "end": 0},
        "data.timeSeriesQuery": {
            "start": -60_000,
            "end": 0,
            "resolution": 1000,
            "aggregation": {"type": "MEAN"},
            "attributes": ["temperature"],
            "deviceIds": [device],
            "deviceQuery": query,
            "limit": 10,
            "order": "desc",
        },
        "events.post": {"level": "info", "subject": "s", "deviceId": device, "eventTags": {}},
        "event.patch": {"state": "acknowledged", "comment": "c"},
        "events.patch": {"state": "acknowledged"},
        "events.delete": {"level": "critical"},
        "dataTables.post": {
            "name": "t",
            "columns": [{"name": "c", "dataType": "string", "constraint": "optional"}],
        },
        "dataTable.addColumn": {"name": "c2", "dataType": "number", "defaultValue": 1},
        "dataTableRows.post": [{"n": 1, "s": "x"}],
        "dataTableRow.patch": {"n": 2, "s": "y"},
        "dataTableRows.query": {"$or": [{"n": {"$gt": 0}}, {"s": {"$in": ["x"]}}]},
        "dataTableRows.delete": {"n": {"$lt": -1000}},
        "applications.post": {"name": "app"},
        "applicationKeys.post": {"description": "k", "deviceIds": [device]},
        "applicationApiTokens.post": {"name": "t", "scope": ["all.Application"]},
        "userApiTokens.post": {"name": "t", "scope": ["all.User"]},
        "webhooks.post": {"name": "w"},
        "me.patch": {"firstName": "x"},
        "me.addRecentItem": {"itemType": "application", "itemId": ids["applicationId"]},
        "deviceRecipe.bulkCreate": {
            "csv": "name,description\na,first\nb,second",
            "nameColumn": "name",
            "descriptionColumn": "description",
        },
    }


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The path of every value (containers included) below the root."""
    if path:
        yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _leaves(value, (*path, index))


def _replaced(node: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, *rest = path
    if isinstance(node, dict):
        return {**node, head: _replaced(node[head], tuple(rest), value)}
    copy = list(node)
    copy[head] = _replaced(node[head], tuple(rest), value)
    return copy


def test_hostile_input_never_answers_5xx(emulator: Emulator) -> None:
    started = time.monotonic()
    prober = Prober(emulator)
    ids = _known_ids(emulator)
    _create_resources(prober, ids)
    valid = _valid_bodies(ids, emulator)
    endpoints = sorted(
        (ep for ep in _catalog.endpoints().values() if not ep.sse),
        key=lambda ep: (_ORDER.get(ep.method, 5), ep.id),
    )
    covered = set()
    for ep in endpoints:
        path = _fill(ep.path, ids)
        if path is None:
            continue
        covered.add(ep.id)
        dedicated = ep.id in _DEDICATED or ep.id in valid
        if ep.method != "GET":
            for raw in RAW_BODIES if dedicated else GENERIC_RAW_BODIES:
                prober.send(ep.method, path, data=raw)
            fields = _body_fields(ep)
            for value in WRONG_VALUES if dedicated else GENERIC_WRONG_VALUES:
                prober.send(ep.method, path, json_body={field: value for field in fields})
        base = valid.get(ep.id)
        if base is not None:
            prober.send(ep.method, path, json_body=base)
            for leaf in _leaves(base):
                for value in LEAF_VALUES:
                    prober.send(ep.method, path, json_body=_replaced(base, leaf, value))
        query_names = [p.name for p in ep.params if p.location == "query"]
        for name in query_names:
            for value in DEDICATED_QUERY_VALUES if dedicated else GENERIC_QUERY_VALUES:
                prober.send(ep.method, path, params={name: value})
        if ep.method == "GET" and (dedicated or ep.pagination):
            for extra in EXTRA_QUERIES if dedicated else EXTRA_QUERIES[:5]:
                prober.send("GET", path, params=extra)
        params = path_params(ep.path)
        if params:
            last = params[-1]
            for bad in BAD_IDS if dedicated else GENERIC_BAD_IDS:
                prober.send(ep.method, _fill(ep.path, {**ids, last: bad}) or path)
    elapsed = time.monotonic() - started
    print(f"fuzz: {prober.sent} requests to {len(covered)} endpoints in {elapsed:.1f} s")
    assert not prober.failures, "\n".join(prober.failures[:40])
    assert not emulator.app.internal_errors, emulator.app.internal_errors[:20]
    assert len(covered) >= 350
    assert prober.sent < 10_000  # a budget: dedicated handlers (jobs included) get more probes


def _dedicated() -> frozenset[str]:
    from losant_fluent.testing import _app  # noqa: F401  (registers the handlers)
    from losant_fluent.testing._context import HANDLERS

    return frozenset(HANDLERS)


_DEDICATED = _dedicated()


def test_deep_query_is_refused_with_400(emulator: Emulator) -> None:
    prober = Prober(emulator)
    app = f"/applications/{emulator.application_id}"
    response = prober.send("GET", app + "/devices", params={"query": json.dumps(_deep_and(400))})
    assert response.status_code == 400
    assert response.json()["type"] == "Validation"
    assert "levels" in response.json()["message"]
    ok = prober.send("GET", app + "/devices", params={"query": json.dumps(_deep_and(20))})
    assert ok.status_code == 200


def test_unknown_operator_is_named(emulator: Emulator) -> None:
    prober = Prober(emulator)
    app = f"/applications/{emulator.application_id}"
    query = json.dumps({"name": {"$like": "x"}})
    response = prober.send("GET", app + "/devices", params={"query": query})
    assert response.status_code == 400
    assert "$like" in response.json()["message"]


def test_nan_literals_are_invalid_json(emulator: Emulator) -> None:
    prober = Prober(emulator)
    path = f"/applications/{emulator.application_id}/devices/{emulator.device_id}/state"
    response = prober.send("POST", path, data='{"data": {"temperature": NaN}}')
    assert response.status_code == 400
    assert response.json()["type"] == "Validation"


@pytest.mark.parametrize("moment", [1e300, -1e300, 8.64e15 + 1, "1e300", "not a date", True])
def test_out_of_range_times_are_refused(emulator: Emulator, moment: Any) -> None:
    prober = Prober(emulator)
    app = f"/applications/{emulator.application_id}"
    state = f"{app}/devices/{emulator.device_id}/state"
    response = prober.send("POST", state, json_body={"time": moment, "data": {"temperature": 1}})
    assert response.status_code == 400, response.text
    assert response.json()["type"] == "Validation"
    for method, path, kwargs in [
        ("GET", state, {}),
        ("GET", f"{app}/devices/{emulator.device_id}/compositeState", {}),
        ("POST", f"{app}/data/last-value-query", {"json_body": {}}),
        ("POST", f"{app}/data/time-series-query", {"json_body": {}}),
    ]:
        assert prober.send(method, path, **kwargs).status_code == 200
    assert not prober.failures


def test_edge_of_javascript_date_range_round_trips(emulator: Emulator) -> None:
    prober = Prober(emulator)
    app = f"/applications/{emulator.application_id}"
    state = f"{app}/devices/{emulator.device_id}/state"
    for moment in (8.64e15, -8.64e15):
        body = {"time": moment, "data": {"temperature": 3}}
        assert prober.send("POST", state, json_body=body).status_code == 200
    times = [s["time"] for s in prober.send("GET", state, params={"limit": "5"}).json()]
    assert times == ["+275760-09-13T00:00:00.000Z", "-271821-04-20T00:00:00.000Z"]
    assert prober.send("GET", state, params={"start": times[0]}).json()[0]["time"] == times[0]
    assert not prober.failures
