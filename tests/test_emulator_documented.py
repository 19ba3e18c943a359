"""Every documented action answers as Losant documents it, driven through the client.

One walk (module fixture) calls all 380 catalog actions with the fluent client against
the emulator, creates first and deletes last (the order of ``test_emulator_schemas``).
It checks, and prints as counts:

* the documented success status (streams: a ``text/event-stream`` 200);
* a body valid against the documented schema;
* no stand-in: no ``{}`` (or a fragment with fewer than half the keys of the documented
  example) where the documented result is an object with properties;
* writes read back: each create is in its collection's list, each patch in its get;
* 404 for a missing id (a fresh emulator, each id of the path replaced in turn);
* 400 for a body of the wrong JSON type and for a missing required query parameter.

The negative probes go over plain HTTP: the client refuses those requests before sending.
Below the walk, one test per cross-resource write (storage, readme, globals, search,
deployments, restore, invites, counts, names, logins, linked resources, palette,
transfers) reads it back through the client.
"""

from __future__ import annotations

import base64
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
from losant_fluent.testing._generic import _WRITE_ONLY as SECRETS
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


def _kwargs(ep: Endpoint, query: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = dict(query)
    for param in ep.params:
        if param.location == "multipart" and param.type == "file":
            out[param.name] = ("bundle.zip", b"PK\x05\x06" + b"\0" * 18)
    return out


class ClientWalk(Sweep):
    """The schema sweep, sent through the fluent client instead of raw HTTP."""

    def __init__(self, emu: Emulator, token: str) -> None:
        super().__init__(emu, token)
        self.api = API(url=emu.url, token=token)
        self.readbacks: dict[str, str | None] = {}  # write -> None, or what was not read back

    def node_for(self, ep: Endpoint) -> Any:
        return _chain(self.api, ep.path, self.path_for(ep))

    def call(self, ep: Endpoint, body: Any, query: dict[str, Any]) -> tuple[int, Any]:
        verb = getattr(self.node_for(ep), ep.method.lower())
        args = (body,) if ep.body_param is not None else ()
        try:
            result = verb(*args, validate=False, **_kwargs(ep, query))
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
        query = {**required_query(ep), **_QUERIES.get(ep.id, {})}
        query, body = self.prepare(ep, query, self.body_for(ep))
        status, payload = self.call(ep, body, query)
        self.results[ep.id] = (status, payload)
        if ep.method == "POST" and status < 300 and isinstance(payload, dict):
            info = route_info(ep.id)
            ident = payload.get("id") or (info.item_param and payload.get(info.item_param))
            if info.kind == "create" and info.collection and ident:
                self.created.setdefault(info.collection, str(ident))
                self.read_back_create(ep, str(ident))
            if ep.id == "dataTableRows.post":
                self.ids["rowId"] = payload["id"]
        if route_info(ep.id).kind == "patch" and status < 300 and isinstance(body, dict):
            self.read_back_patch(ep, body)

    def read_back_create(self, ep: Endpoint, ident: str) -> None:
        """A created item is in its collection's list."""
        lister = next(
            (e for e in endpoints().values() if e.path == ep.path and e.method == "GET"), None
        )
        if lister is None:
            return
        status, payload = self.call(lister, None, required_query(lister))
        items = payload if isinstance(payload, list) else (payload or {}).get("items", [])
        item = route_info(ep.id).item_param or "id"
        ids = {str(i.get(k)) for i in items if isinstance(i, dict) for k in ("id", item, "name")}
        self.readbacks[ep.id] = None if status == 200 and ident in ids else f"{status} {ids}"

    def read_back_patch(self, ep: Endpoint, body: dict[str, Any]) -> None:
        """What a patch set is what a get of the item answers (write-only secrets aside)."""
        getter = next(
            (e for e in endpoints().values() if e.path == ep.path and e.method == "GET"), None
        )
        if getter is None:
            return
        status, payload = self.call(getter, None, required_query(getter))
        if status != 200 or not isinstance(payload, dict):
            self.readbacks[ep.id] = f"get answered {status}"
            return
        missed = [
            k for k, v in body.items()
            if k not in _WRITE_ONLY and v is not None and payload.get(k) != _public(v)
        ]
        self.readbacks[ep.id] = f"not read back: {missed}" if missed else None


# Fields accepted on write and never sent back (secrets), or kept in another form (an
# event's comment goes into its ``updates``).
_WRITE_ONLY = frozenset({"password", "secret", "comment"})


def _public(value: Any) -> Any:
    """A written value as it reads back: without the secrets nested in it."""
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k not in SECRETS}
    return value


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
    failed_reads = {k: v for k, v in walk.readbacks.items() if v}
    print(f"writes read back (create -> list, patch -> get) "
          f"{len(walk.readbacks) - len(failed_reads)}/{len(walk.readbacks)}: {failed_reads}")
    assert checked == 380
    assert not failed_reads
    assert not invalid
    assert right == checked, wrong_status
    assert not standins, standins


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
            named = ep.body_param.name in response.json().get("message", "")
            if response.status_code != 400 or response.json()["type"] != "Validation" or not named:
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


# -- writes read back across resources, through the client ----------------------------------


def _json(result: Any) -> Any:
    return result.http_response().json()


@pytest.fixture
def user_api(emulator: Emulator) -> Any:
    with API(url=emulator.url, token=emulator.user_token()) as api:
        yield api


def _flow(app: Any) -> str:
    made = _json(app.flows().post({"name": "storage flow", "triggers": [], "nodes": []}))
    return str(made["id"])


def test_flow_storage_reads_back(emulator: Emulator, user_api: Any) -> None:
    app = user_api.applications(emulator.application_id)
    flow = app.flows(_flow(app))
    flow.storage().patch({"key": "counter", "value": 12})
    flow.storage().patch({"key": "list", "value": [1, 2]})
    assert _json(flow.storage().get()) == {"counter": 12, "list": [1, 2]}
    meta = _json(flow.storage_metadata().get())
    assert meta["keysCount"] == 2 and meta["memoryUsed"] > 0
    flow.storage().delete()
    assert _json(flow.storage().get()) == {}


def test_readme_and_globals_read_back(emulator: Emulator, user_api: Any) -> None:
    app = user_api.applications(emulator.application_id)
    assert _json(app.readme().get())["content"] == ""
    app.readme().patch({"content": "# Plant 7"})
    readme = _json(app.readme().get())
    assert readme["content"] == "# Plant 7" and readme["lastUpdatedById"] == emulator.user_id
    app.globals().patch([{"key": "threshold", "json": "21"}])
    assert _json(app.get())["globals"] == [{"key": "threshold", "json": "21"}]
    app.globals().patch([{"key": "threshold", "json": None}])
    assert _json(app.get())["globals"] == []


def test_search_finds_what_exists(emulator: Emulator, user_api: Any) -> None:
    app = user_api.applications(emulator.application_id)
    app.devices().post({"name": "Boiler room sensor", "attributes": []})
    found = _json(app.search().get(filter="boiler"))
    assert [(f["_type"], f["name"]) for f in found] == [("device", "Boiler room sensor")]
    assert _json(app.search().get(filter="nothing like it")) == []


def test_deployments_are_recorded(emulator: Emulator, user_api: Any) -> None:
    app = user_api.applications(emulator.application_id)
    flow = _flow(app)
    app.edge().deployments().release().post(
        {"flowId": flow, "version": "v1", "deviceIds": [emulator.device_id]}
    )
    page = _json(app.edge().deployments().get())
    assert [(d["deviceId"], d["desiredVersion"]) for d in page["items"]] == [
        (emulator.device_id, "v1")
    ]
    deployment = _json(app.edge().deployments(page["items"][0]["id"]).get())
    assert deployment["flowId"] == flow and deployment["logs"][0]["newValue"] == "v1"
    app.edge().deployments().replace().post(
        {"flowId": flow, "oldVersion": "v1", "newVersion": "v2"}
    )
    assert _json(app.edge().deployments().get())["items"][0]["desiredVersion"] == "v2"
    app.embedded().deployments().release().post(
        {"flowId": flow, "version": "v3", "deviceIds": [emulator.device_id]}
    )
    embedded = _json(app.embedded().deployments().get())["items"]
    assert embedded[0]["flows"][flow]["desiredVersion"] == "v3"


def test_restore_brings_deleted_devices_back(emulator: Emulator, user_api: Any) -> None:
    app = user_api.applications(emulator.application_id)
    app.devices(emulator.device_id).state().post({"data": {"temperature": 20}})
    removed = _json(app.devices().delete_().post({"query": {"name": "Emulated Thermostat"}}))
    assert removed["removed"] == 1
    assert _json(app.devices().restore().post({"query": {}}))["restored"] == 1
    assert _json(app.devices(emulator.device_id).get())["name"] == "Emulated Thermostat"
    assert _json(app.devices(emulator.device_id).state().get())[0]["data"] == {
        "temperature": 20
    }
    assert _json(app.devices().restore().post({"query": {}}))["restored"] == 0


def test_invites_are_pending_until_answered(emulator: Emulator, user_api: Any) -> None:
    org = user_api.orgs(emulator.org_id)
    invited = _json(org.invites().post({"email": "new@example.com", "role": "view"}))
    assert [i["email"] for i in invited] == ["new@example.com"]
    assert [i["email"] for i in _json(org.invites().get())] == ["new@example.com"]
    seen = _json(
        user_api.instances(emulator.instance_id).orgs(emulator.org_id).invites().get()
    )
    assert [i["email"] for i in seen["items"]] == ["new@example.com"]
    token = emulator.invite_token("new@example.com")
    assert token
    info = _json(user_api.invites().get(token=token, email="new@example.com"))
    assert info["orgName"] == "Emulator Org" and info["role"] == "view"
    answer = _json(user_api.invites().post(
        {"token": token, "email": "new@example.com", "accept": True}
    ))
    assert answer == {"accepted": True, "orgId": emulator.org_id}
    assert _json(org.invites().get()) == []


def test_counts_come_from_the_devices(emulator: Emulator, user_api: Any) -> None:
    emulator.seed_devices(2)
    counts = _json(user_api.applications(emulator.application_id).device_counts().get())
    assert counts["counts"][-1]["created"] == 3 and counts["counts"][-1]["total"] == 3
    assert _json(user_api.me().device_counts().get())["counts"][-1]["total"] == 3
    app = user_api.applications(emulator.application_id)
    app.devices(emulator.device_id).delete()
    today = _json(app.device_counts().get())["counts"][-1]
    assert (today["created"], today["deleted"], today["total"]) == (3, 1, 2)
    app.devices().restore().post({"query": {}})
    today = _json(app.device_counts().get())["counts"][-1]
    assert (today["created"], today["deleted"], today["total"]) == (3, 0, 3)


def test_ids_or_names_and_device_classes(emulator: Emulator, user_api: Any) -> None:
    app = user_api.applications(emulator.application_id)
    app.experience().versions().post({"version": "release-1", "description": "first"})
    version = _json(app.experience().versions("release-1").get())
    assert version["version"] == "release-1" and version["description"] == "first"
    made = _json(app.devices().post({"name": "chip", "deviceClass": "embedded"}))
    assert made["deviceClass"] == "embedded"


def test_other_logins_and_email_change(emulator: Emulator, user_api: Any) -> None:
    github = _json(user_api.auth().user().github().post({"accessToken": "anything"}))
    assert github["userId"] == emulator.user_id
    saml = base64.b64encode(f"<Response>{emulator.user_email}</Response>".encode()).decode()
    via_saml = _json(
        user_api.auth().user().saml().post({"SAMLDomain": "example.com", "SAMLResponse": saml})
    )
    assert via_saml["userId"] == emulator.user_id
    user_api.me().patch({"email": "renamed@example.com"})
    with API(url=emulator.url) as fresh:
        fresh.login_user("renamed@example.com", emulator.user_password)
        assert _json(fresh.me().get())["email"] == "renamed@example.com"


def test_shipped_reference_matches_reference_folder() -> None:
    """testing/_reference.json is what scripts/gen_emulator_reference.py makes of reference/."""
    import gen_emulator_reference

    assert gen_emulator_reference.main(["--check"]) == 0


def test_linked_resources_are_found(emulator: Emulator, user_api: Any) -> None:
    app = user_api.applications(emulator.application_id)
    credential = _json(app.credentials().post(
        {"name": "mail", "type": "sendgrid", "sendgridConfig": {"apiKey": "SG.secret"}}
    ))
    flow = _json(app.flows().post({
        "name": "uses the credential",
        "triggers": [],
        "nodes": [{"id": "n1", "type": "EmailNode", "config": {"credentialId": credential["id"]}}],
    }))
    app.flows().post({"name": "does not", "triggers": [], "nodes": []})
    linked = _json(app.credentials(credential["id"]).linked_resources().get())
    assert [f["id"] for f in linked["flows"]["items"]] == [flow["id"]]
    assert linked["flows"]["totalCount"] == 1 and linked["integrations"]["items"] == []
    view = _json(app.experience().views().post(
        {"name": "layoutMain", "viewType": "layout", "body": "<html>{{ page }}</html>"}
    ))
    page = _json(app.experience().views().post(
        {"name": "home", "viewType": "page", "layoutId": view["id"], "body": "hi"}
    ))
    used_by = _json(app.experience().views(view["id"]).linked_resources().get())
    assert [v["id"] for v in used_by["experienceViews"]["items"]] == [page["id"]]


def test_palette_lists_custom_nodes(emulator: Emulator, user_api: Any) -> None:
    instance = user_api.instances(emulator.instance_id)
    node = _json(instance.nodes().post(
        {"name": "Scale", "description": "multiplies", "nodes": [], "triggers": []}
    ))
    app = user_api.applications(emulator.application_id)
    palette = _json(app.flows().palette().get())
    assert [(n["id"], n["name"]) for n in palette["customNodes"]] == [(node["id"], "Scale")]


def test_transfers_change_owners(emulator: Emulator, user_api: Any) -> None:
    user_api.me().transfer_resources().patch({
        "destinationId": emulator.org_id,
        "destinationType": "organization",
        "applicationIds": [emulator.application_id],
    })
    app = _json(user_api.applications(emulator.application_id).get())
    assert (app["ownerType"], app["ownerId"], app["orgId"]) == (
        "organization", emulator.org_id, emulator.org_id
    )
    with pytest.raises(APIError) as refused:
        user_api.me().transfer_resources().patch(
            {"destinationId": MISSING, "destinationType": "organization"}
        )
    assert refused.value.status == 400 and "destinationId" in refused.value.message
