"""Every endpoint the emulator serves answers bodies valid against the API's JSON Schemas.

One sweep (module fixture) drives every catalog endpoint over HTTP: first the creates
(so every collection holds an item), then every read/update/action, then the deletes.
Bodies come from the reference examples (overridden where the emulator checks more
than the schema). Each 2xx body is validated against the schema the catalog names for
its status; each error body against ``error``.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests

from losant_fluent._catalog import Endpoint, endpoints
from losant_fluent.testing import Emulator
from losant_fluent.testing._routes import owner_items, route_info

REFERENCE = Path(__file__).resolve().parents[1] / "reference"
_PARAM = re.compile(r"\{([^}]+)\}")


def _flatten_any_of(node: Any) -> Any:
    """Repair ``anyOf`` lists that hold a nested list (validateContext* schemas)."""
    if isinstance(node, dict):
        out = {k: _flatten_any_of(v) for k, v in node.items()}
        if isinstance(out.get("anyOf"), list):
            flat: list[Any] = []
            for item in out["anyOf"]:
                flat.extend(item if isinstance(item, list) else [item])
            out["anyOf"] = flat
        return out
    if isinstance(node, list):
        return [_flatten_any_of(v) for v in node]
    return node


def _definitions() -> dict[str, Any]:
    found = {}
    for path in sorted((REFERENCE / "schemas").glob("*.json")):
        schema = _flatten_any_of(json.loads(path.read_text(encoding="utf-8")))
        schema.pop("$schema", None)
        found[path.stem] = schema
    return found


_VALIDATORS: dict[str, jsonschema.Draft7Validator] = {}


def validate(name: str, instance: Any, definitions: dict[str, Any]) -> None:
    validator = _VALIDATORS.get(name)
    if validator is None:
        validator = jsonschema.Draft7Validator(
            {"$ref": f"#/definitions/{name}", "definitions": definitions}
        )
        _VALIDATORS[name] = validator
    validator.validate(instance)


# Bodies the emulator checks more strictly than the schema examples satisfy.
def _bodies(emu: Emulator) -> dict[str, Any]:
    examples = json.loads((REFERENCE / "examples.json").read_text(encoding="utf-8"))
    return {
        "devices.post": {
            "name": "Schema Device",
            "tags": [{"key": "floor", "value": "2"}],
            "attributes": [{"name": "temperature", "dataType": "number"}],
        },
        "device.patch": {"description": "patched", "tags": [{"key": "floor", "value": "3"}]},
        "deviceAttributes.post": {"name": "humidity", "dataType": "number"},
        "deviceAttribute.patch": {"description": "degrees"},
        "device.sendState": [
            {"data": {"temperature": 20}, "time": 1_700_000_000_000},
            {"data": {"temperature": 22}},
        ],
        "dataTables.post": {
            "name": "readings",
            "columns": [
                {"name": "sensor", "dataType": "string", "constraint": "required"},
                {"name": "value", "dataType": "number", "constraint": "optional"},
            ],
        },
        "dataTable.addColumn": {"name": "note", "dataType": "string", "constraint": "optional"},
        "dataTableRows.post": {"sensor": "a", "value": 1},
        "dataTableRow.patch": {"value": 2},
        "dataTableRows.query": {"value": {"$gte": 0}},
        "dataTableRows.delete": {"sensor": "nobody"},
        "data.lastValueQuery": {"deviceIds": [emu.device_id]},
        "data.timeSeriesQuery": {
            "deviceIds": [emu.device_id],
            "aggregation": "MEAN",
            "duration": 3_600_000,
            "resolution": 60_000,
        },
        "applications.post": {"name": "Second application"},
        "auth.authenticateUser": {"email": emu.user_email, "password": emu.user_password},
        "auth.authenticateDevice": {
            "deviceId": emu.device_id,
            "key": emu.access_key,
            "secret": emu.access_secret,
        },
        "me.changePassword": {"password": emu.user_password, "newPassword": emu.user_password},
        "device.setConnectionStatus": {"status": "connected"},
        "events.post": {"level": "info", "subject": "hello", "deviceId": emu.device_id},
        "userOauthClients.post": {"name": "client"},
        "userOauthClient.patch": {"name": "client 2"},
        # The example's email and password would change the login other requests use.
        "me.patch": {
            k: v for k, v in examples["mePatch"].items() if k not in ("email", "password")
        },
        # A destination that exists (the example's application id stays unknown: skipped).
        "me.transferResources": {**examples["resourceTransfer"], "destinationId": emu.org_id},
        "org.transferResources": {**examples["resourceTransfer"], "destinationId": emu.org_id},
        "me.enableTwoFactorAuth": {
            **examples["multiFactorAuthEnable"],
            "password": emu.user_password,
        },
        "me.disableTwoFactorAuth": {
            **examples["multiFactorAuthDisable"],
            "password": emu.user_password,
        },
        "deviceRecipe.bulkCreate": {
            "csv": "name,description\nfirst,made from a row\n",
            "nameColumn": "name",
            "descriptionColumn": "description",
        },
    }


# Actions that create something other actions read (deployments): run with the creates.
_MAKERS = frozenset({"edgeDeployments.release", "embeddedDeployments.release"})


_QUERIES = {
    "devices.tagValues": {"key": "floor"},
    "dataTable.removeColumn": {"columnName": "note"},
    "devices.get": {"filterField": "name", "filter": "*", "sortField": "name"},
}


# Values for required query parameters without an enum.
_REQUIRED_VALUES = {"date": "2024-01-01T00:00:00.000Z", "email": "someone@example.com"}


def required_query(ep: Endpoint) -> dict[str, str]:
    """A value for each required query parameter (its first enum value when it has one)."""
    return {
        p.name: str(p.enum[0]) if p.enum else _REQUIRED_VALUES.get(p.name, "0" * 24)
        for p in ep.params
        if p.location == "query" and p.required
    }


# Actions that remove things: run with the deletes, after everything else.
_LAST = frozenset(
    {
        "dataTableRows.truncate",
        "dataTableRows.delete",
        "devices.delete",
        "events.delete",
        "flowVersions.delete",
        "me.delete",
        "experience.delete",
        "flow.clearStorageEntries",
        "orgInvites.post",
        "dataTable.removeColumn",
    }
)


# Deletes of items that the bulk removals below would otherwise take first.
_EARLY_DELETES = frozenset(
    {
        "dataTableRow.delete",
        "event.delete",
        "device.delete",
        "deviceAttribute.delete",
        "flowVersion.delete",
    }
)


def _phase(ep: Endpoint) -> int:
    kind = route_info(ep.id).kind
    if kind == "create" or ep.id in _MAKERS:
        return 0
    if ep.id == "application.delete":
        return 5
    if ep.id in _EARLY_DELETES:
        return 2
    if ep.id in _LAST:
        return 3
    if kind == "delete":
        return 4
    return 1


# Path parameters always given the seeded account's ids.
_SEEDED = frozenset({"applicationId", "deviceId", "instanceId", "orgId", "name"})


class Sweep:
    """Drives every endpoint once and keeps what came back."""

    def __init__(self, emu: Emulator, token: str) -> None:
        self.emu = emu
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.examples = json.loads((REFERENCE / "examples.json").read_text(encoding="utf-8"))
        self.bodies = _bodies(emu)
        self.ids: dict[str, str] = {
            "applicationId": emu.application_id,
            "deviceId": emu.device_id,
            "instanceId": emu.instance_id,
            "orgId": emu.org_id,
            "name": "temperature",
        }
        self.created: dict[str, str] = {}  # collection template -> id created there
        self.results: dict[str, tuple[int, Any]] = {}

    def path_for(self, ep: Endpoint) -> str:
        """Fill the path: ids created in (or seeded into) each collection on the way."""
        values = dict(self.ids)
        for collection, param, item_path in owner_items(ep.path):
            if param in _SEEDED:
                continue
            if collection in self.created:
                values[param] = self.created[collection]
                continue
            names = _PARAM.findall(item_path)[:-1]
            parents = tuple(values.get(n, "") for n in names)
            with self.emu.store.lock:
                existing = list(self.emu.store.collections.get((collection, parents), {}))
            if existing:
                values[param] = existing[0]
        return _PARAM.sub(lambda m: values.get(m.group(1), "0" * 24), ep.path)

    def body_for(self, ep: Endpoint) -> Any:
        if ep.id in self.bodies:
            return copy.deepcopy(self.bodies[ep.id])
        param = ep.body_param
        if param is None:
            return None
        body = copy.deepcopy(self.examples.get(param.schema or "", {}))
        return self.real_ids(body) if "Deployments." in ep.id else body

    def real_ids(self, body: Any) -> Any:
        """The example's flow and device ids replaced by ones that exist (deployments)."""
        if not isinstance(body, dict):
            return body
        flow = self.created.get("/applications/{applicationId}/flows")
        if flow and isinstance(body.get("flowId"), str):
            body["flowId"] = flow
        if isinstance(body.get("deviceIds"), list):
            body["deviceIds"] = [self.emu.device_id]
        if isinstance(body.get("deviceId"), str):
            body["deviceId"] = self.emu.device_id
        return body

    def prepare(self, ep: Endpoint, params: dict[str, Any], body: Any) -> tuple[Any, Any]:
        """Values only known while the sweep runs: invite tokens, an invite to revoke."""
        email = "invitedUser@example.com"  # the examples' invitee
        if ep.id in ("orgInvites.get", "orgInvites.post"):
            token = self.emu.invite_token(email) or "no invite"
            if ep.id == "orgInvites.get":
                params = {**params, "token": token, "email": email}
            else:
                body = {**body, "token": token, "email": email}
        if ep.id == "org.revokeInvite":
            made = self.session.post(
                f"{self.emu.url}/orgs/{self.emu.org_id}/invites",
                json={"email": "revoked@example.com", "role": "view"},
                timeout=10,
            ).json()
            params = {**params, "inviteId": made[-1]["id"]}
        return params, body

    def run(self, ep: Endpoint) -> None:
        url = self.emu.url + self.path_for(ep)
        body = self.body_for(ep)
        params, body = self.prepare(ep, {**required_query(ep), **_QUERIES.get(ep.id, {})}, body)
        if ep.sse:  # a live stream: check how it starts, then hang up
            params = {"topic": "#"} if "topic" in ep.keyword_params else {}
            with self.session.get(url, params=params, stream=True, timeout=10) as streamed:
                kind = streamed.headers.get("Content-Type", "")
                payload = streamed.json() if streamed.status_code >= 300 else kind
                self.results[ep.id] = (streamed.status_code, payload)
            return
        response = self.session.request(
            ep.method,
            url,
            params=params,
            json=body if body is not None else None,
            timeout=10,
        )
        payload = response.json() if response.content else None
        self.results[ep.id] = (response.status_code, payload)
        if ep.method == "POST" and response.status_code < 300 and isinstance(payload, dict):
            info = route_info(ep.id)
            ident = payload.get("id") or (info.item_param and payload.get(info.item_param))
            if info.kind == "create" and info.collection and ident:
                self.created.setdefault(info.collection, str(ident))
            if ep.id == "dataTableRows.post":
                self.ids["rowId"] = payload["id"]


@pytest.fixture(scope="module")
def sweep() -> Sweep:
    with Emulator(time_scale=1e-6) as emu:  # jobs finish at once: each export runs
        emu.seed_devices(3)
        runner = Sweep(emu, emu.user_token())
        ordered = sorted(
            (ep for ep in endpoints().values()),
            key=lambda ep: (_phase(ep), ep.path.count("/") * (-1 if _phase(ep) >= 2 else 1)),
        )
        for ep in ordered:
            runner.run(ep)
    return runner


@pytest.fixture(scope="module")
def definitions() -> dict[str, Any]:
    return _definitions()


ALL_IDS = sorted(endpoints())


@pytest.mark.parametrize("endpoint_id", ALL_IDS)
def test_response_matches_schema(
    sweep: Sweep, definitions: dict[str, Any], endpoint_id: str
) -> None:
    ep = endpoints()[endpoint_id]
    status, payload = sweep.results[endpoint_id]
    if ep.sse:
        assert status == 200 and payload.startswith("text/event-stream"), (status, payload)
        return
    assert status < 500, (status, payload)
    if status >= 400:
        validate("error", payload, definitions)
        assert set(payload) == {"type", "message"}
        return
    schema = ep.responses.get(str(status))
    assert str(status) in ep.responses, f"undocumented status {status}"
    if schema:
        validate(schema, payload, definitions)


def test_coverage(sweep: Sweep) -> None:
    """Nearly every non-streaming endpoint answered a documented success."""
    served = [i for i, (status, _) in sweep.results.items() if status < 300]
    failed = {i: r for i, r in sweep.results.items() if r[0] >= 300 and not endpoints()[i].sse}
    print(f"\n{len(served)} of {len(sweep.results)} endpoints answered 2xx; others: {failed}")
    assert len(served) >= 370, failed
