"""Behaviour of the Losant emulator, over real HTTP on 127.0.0.1 with plain requests."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from losant_fluent.testing import Emulator

HEX24 = re.compile(r"^[0-9a-f]{24}$")
ROOT = Path(__file__).resolve().parents[1]


class Client:
    """A tiny JSON client bound to one emulator and one token."""

    def __init__(self, emu: Emulator, token: str | None = None) -> None:
        self.emu = emu
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> requests.Response:
        return self.session.request(
            method, self.emu.url + path, json=body, params=params or None, timeout=10
        )

    def ok(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        response = self.call(method, path, body, **params)
        assert response.status_code < 300, (response.status_code, response.text)
        return response.json() if response.content else None


@pytest.fixture(scope="module")
def shared() -> Iterator[Emulator]:
    with Emulator() as emu:
        yield emu


@pytest.fixture
def emu(shared: Emulator) -> Emulator:
    shared.reset()
    return shared


@pytest.fixture
def user(emu: Emulator) -> Client:
    body = {"email": emu.user_email, "password": emu.user_password}
    token = requests.post(emu.url + "/auth/user", json=body, timeout=10).json()["token"]
    return Client(emu, token)


@pytest.fixture
def device(emu: Emulator) -> Client:
    body = {"deviceId": emu.device_id, "key": emu.access_key, "secret": emu.access_secret}
    token = requests.post(emu.url + "/auth/device", json=body, timeout=10).json()["token"]
    return Client(emu, token)


def app_path(emu: Emulator, tail: str = "") -> str:
    return f"/applications/{emu.application_id}{tail}"


def dev_path(emu: Emulator, tail: str = "", device_id: str | None = None) -> str:
    return app_path(emu, f"/devices/{device_id or emu.device_id}{tail}")


# -- lifecycle and seeding ---------------------------------------------------------------


def test_start_stop_and_seeded_attributes() -> None:
    emu = Emulator()
    with pytest.raises(RuntimeError):
        _ = emu.url
    emu.start()
    try:
        assert emu.url.startswith("http://127.0.0.1:")
        for ident in (emu.application_id, emu.device_id, emu.user_id, emu.instance_id):
            assert HEX24.match(ident)
        assert emu.user_email and emu.user_password and emu.access_key and emu.access_secret
        url = emu.url
    finally:
        emu.stop()
    assert not emu.running
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/me", timeout=2)


def test_refuses_non_loopback_host() -> None:
    with pytest.raises(ValueError, match="non-loopback"):
        Emulator(host="0.0.0.0")


def test_seeded_device_has_number_temperature(emu: Emulator, user: Client) -> None:
    doc = user.ok("GET", dev_path(emu))
    assert doc["id"] == doc["deviceId"] == emu.device_id
    assert doc["deviceClass"] == "standalone"
    assert {"name": "temperature", "dataType": "number"} in doc["attributes"]


def test_reset_forgets_changes(emu: Emulator, user: Client) -> None:
    user.ok("POST", app_path(emu, "/devices"), {"name": "temporary"})
    assert user.ok("GET", app_path(emu, "/devices"))["totalCount"] == 2
    emu.reset()
    assert user.call("GET", app_path(emu, "/devices")).status_code == 401  # tokens forgotten too
    assert Client(emu, emu.user_token()).ok("GET", app_path(emu, "/devices"))["totalCount"] == 1


# -- authentication and scopes -----------------------------------------------------------


def test_user_login_shape_and_bad_password(emu: Emulator) -> None:
    good = requests.post(
        emu.url + "/auth/user",
        json={"email": emu.user_email, "password": emu.user_password},
        timeout=10,
    )
    assert good.status_code == 200
    assert good.json()["userId"] == emu.user_id and good.json()["token"]
    bad = requests.post(
        emu.url + "/auth/user",
        json={"email": emu.user_email, "password": "not-the-password"},
        timeout=10,
    )
    assert bad.status_code == 401 and bad.json()["type"] == "Unauthorized"
    missing = requests.post(emu.url + "/auth/user", json={"email": emu.user_email}, timeout=10)
    assert missing.status_code == 400 and missing.json()["type"] == "Validation"


def test_device_login_shape_and_key_restrictions(emu: Emulator) -> None:
    body = {"deviceId": emu.device_id, "key": emu.access_key, "secret": emu.access_secret}
    answer = requests.post(emu.url + "/auth/device", json=body, timeout=10).json()
    assert answer["applicationId"] == emu.application_id
    assert answer["deviceId"] == emu.device_id
    assert answer["deviceClass"] == "standalone" and answer["token"]
    wrong = requests.post(emu.url + "/auth/device", json={**body, "secret": "x"}, timeout=10)
    assert wrong.status_code == 401
    (other,) = emu.seed_devices(1)
    elsewhere = requests.post(
        emu.url + "/auth/device", json={**body, "deviceId": other}, timeout=10
    )
    assert elsewhere.status_code == 401  # the seeded key lists only the seeded device


def test_missing_bad_and_expired_tokens() -> None:
    with Emulator(token_ttl=0.3) as emu:
        path = app_path(emu, "/devices")
        assert Client(emu).call("GET", path).json() == {
            "type": "Unauthorized",
            "message": "Authorization header with a bearer token is required",
        }
        assert Client(emu, "not-a-token").call("GET", path).status_code == 401
        client = Client(emu, emu.user_token())
        assert client.call("GET", path).status_code == 200
        time.sleep(0.4)
        expired = client.call("GET", path)
        assert expired.status_code == 401 and expired.json()["message"] == "Token has expired"


def test_device_token_scope(emu: Emulator, device: Client) -> None:
    assert device.call("GET", dev_path(emu)).status_code == 200
    assert device.ok("POST", dev_path(emu, "/state"), {"data": {"temperature": 3}})
    assert device.call("GET", dev_path(emu, "/compositeState")).status_code == 200
    created = device.call("POST", app_path(emu, "/devices"), {"name": "intruder"})
    assert created.status_code == 403 and created.json()["type"] == "Forbidden"
    assert device.call("GET", app_path(emu, "/devices")).status_code == 403
    (other,) = emu.seed_devices(1)
    assert device.call("GET", dev_path(emu, device_id=other)).status_code == 403


def test_api_token_scopes(emu: Emulator, user: Client) -> None:
    made = user.ok("POST", app_path(emu, "/tokens"), {"name": "reader", "scope": ["devices.get"]})
    reader = Client(emu, made["token"])
    assert reader.call("GET", app_path(emu, "/devices")).status_code == 200
    assert reader.call("POST", app_path(emu, "/devices"), {"name": "x"}).status_code == 403
    assert "token" not in user.ok("GET", app_path(emu, f"/tokens/{made['id']}"))
    user.ok("DELETE", app_path(emu, f"/tokens/{made['id']}"))
    assert reader.call("GET", app_path(emu, "/devices")).status_code == 401


# -- routing and errors ------------------------------------------------------------------


def test_unknown_route_bad_json_and_missing_parent(emu: Emulator, user: Client) -> None:
    unknown = user.call("GET", "/no/such/thing")
    assert unknown.status_code == 404 and unknown.json()["type"] == "NotFound"
    assert user.call("PUT", app_path(emu)).status_code == 404
    bad = user.session.post(
        emu.url + app_path(emu, "/devices"),
        data="{not json",
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert bad.status_code == 400 and bad.json()["type"] == "Validation"
    ghost = user.call("GET", "/applications/" + "a" * 24 + "/flows")
    assert ghost.status_code == 404 and ghost.json()["message"] == "Application was not found"
    flags = user.call("GET", app_path(emu), _actions="false", _links="true", _embedded="true")
    assert flags.status_code == 200


# -- devices -----------------------------------------------------------------------------


def test_device_crud(emu: Emulator, user: Client) -> None:
    created = user.ok(
        "POST",
        app_path(emu, "/devices"),
        {"name": "Pump", "tags": [{"key": "site", "value": "north"}]},
    )
    assert HEX24.match(created["id"]) and created["applicationId"] == emu.application_id
    path = dev_path(emu, device_id=created["id"])
    patched = user.ok("PATCH", path, {"name": "Pump 2"})
    assert patched["name"] == "Pump 2" and patched["tags"] == created["tags"]
    as_object = user.ok("GET", path, tagsAsObject="true")
    assert as_object["tags"] == {"site": ["north"]}
    assert user.ok("DELETE", path) == {"success": True}
    assert user.call("GET", path).status_code == 404
    invalid = user.call("POST", app_path(emu, "/devices"), {"tags": []})
    assert invalid.status_code == 400


def test_device_attributes(emu: Emulator, user: Client) -> None:
    user.ok("POST", dev_path(emu, "/attributes"), {"name": "humidity", "dataType": "number"})
    names = [a["name"] for a in user.ok("GET", dev_path(emu, "/attributes"))["items"]]
    assert names == ["temperature", "humidity"]
    assert user.ok("GET", dev_path(emu, "/attributes/humidity"))["dataType"] == "number"
    user.ok("DELETE", dev_path(emu, "/attributes/humidity"))
    assert user.call("GET", dev_path(emu, "/attributes/humidity")).status_code == 404


def test_page_pagination(emu: Emulator, user: Client) -> None:
    emu.seed_devices(250)
    seen: list[str] = []
    for page in range(3):
        body = user.ok("GET", app_path(emu, "/devices"), page=page, perPage=100)
        assert body["totalCount"] == 251 and body["page"] == page and body["perPage"] == 100
        assert body["count"] == len(body["items"]) == (100 if page < 2 else 51)
        seen += [d["id"] for d in body["items"]]
    assert len(set(seen)) == 251
    default = user.ok("GET", app_path(emu, "/devices"))
    assert default["perPage"] == 100 and default["page"] == 0
    too_big = user.call("GET", app_path(emu, "/devices"), perPage=1001)
    assert too_big.status_code == 400 and too_big.json()["type"] == "Validation"


def test_device_filters_and_sorting(emu: Emulator, user: Client) -> None:
    emu.seed_devices(6, prefix="Sensor")
    devices = app_path(emu, "/devices")
    globbed = user.ok("GET", devices, filterField="name", filter="sensor-000*")
    assert globbed["totalCount"] == 6
    assert user.ok("GET", devices, filter="*thermo*")["totalCount"] == 1
    tagged = user.ok("GET", devices + "?tagFilter[0][key]=group&tagFilter[0][value]=even")
    assert {d["name"] for d in tagged["items"]} == {"Sensor-0002", "Sensor-0004", "Sensor-0006"}
    by_key = user.ok("GET", devices + "?tagFilter[0][key]=floor")
    assert [d["id"] for d in by_key["items"]] == [emu.device_id]
    query = {"$or": [{"name": "Sensor-0002"}, {"tags": {"$tagKey": "floor"}}]}
    queried = user.ok("GET", devices, query=json.dumps(query))
    assert {d["name"] for d in queried["items"]} == {"Sensor-0002", "Emulated Thermostat"}
    ne = user.ok("GET", devices, query=json.dumps({"name": {"$ne": "Emulated Thermostat"}}))
    assert ne["totalCount"] == 6
    down = user.ok("GET", devices, sortField="name", sortDirection="desc")
    names = [d["name"] for d in down["items"]]
    assert names == sorted(names, key=str.lower, reverse=True)


def test_device_names_tags_and_bulk(emu: Emulator, user: Client) -> None:
    emu.seed_devices(4)
    assert user.ok("GET", app_path(emu, "/devices/tagKeys"))["tagKeys"] == [
        "floor",
        "group",
        "seeded",
    ]
    values = user.ok("GET", app_path(emu, "/devices/tagValues"), key="group")
    assert values["tagValues"] == ["even", "odd"]
    wrong = user.call("GET", app_path(emu, "/devices/tagValues"), tagKey="group")
    assert wrong.status_code == 400 and "key is required" in wrong.text
    unselected = user.call("POST", app_path(emu, "/devices/delete"), {})
    assert unselected.status_code == 400 and "query is required" in unselected.text
    removed = user.ok(
        "POST",
        app_path(emu, "/devices/delete"),
        {"query": {"tags": {"$tagKey": "group", "$tagValue": "odd"}}},
    )
    assert removed == {"removed": 2, "failed": 0}
    assert user.ok("GET", app_path(emu, "/devices"))["totalCount"] == 3


# -- state, commands and data queries ----------------------------------------------------


def test_state_send_get_and_coercion(emu: Emulator, device: Client) -> None:
    device.ok("POST", dev_path(emu, "/state"), {"data": {"temperature": "21.5", "bogus": 1}})
    latest = device.ok("GET", dev_path(emu, "/state"))
    assert len(latest) == 1 and latest[0]["data"] == {"temperature": 21.5}
    composite = device.ok("GET", dev_path(emu, "/compositeState"))
    assert composite["temperature"]["value"] == 21.5


def test_state_throttle_answers_429(emu: Emulator, device: Client) -> None:
    path = dev_path(emu, "/state")
    statuses = [
        device.call("POST", path, {"data": {"temperature": n}}).status_code for n in range(31)
    ]
    assert statuses[:30] == [200] * 30
    last = device.call("POST", path, {"data": {"temperature": 0}})
    assert statuses[30] == 429 and last.status_code == 429
    assert last.json()["type"] == "TooManyRequests"
    assert "Retry-After" not in last.headers  # Losant sends none


def test_last_value_and_time_series(emu: Emulator, user: Client) -> None:
    base = (int(time.time() * 1000) // 60_000 - 10) * 60_000
    states = [
        {"time": base + 1_000, "data": {"temperature": 10}},
        {"time": base + 2_000, "data": {"temperature": 20}},
        {"time": base + 61_000, "data": {"temperature": 5}},
    ]
    user.ok("POST", dev_path(emu, "/state"), states)
    last = user.ok("POST", app_path(emu, "/data/last-value-query"), {"deviceIds": [emu.device_id]})
    assert last[emu.device_id]["data"] == {"temperature": 5}
    query = {"start": base, "end": base + 120_000 - 1, "resolution": 60_000}
    expected = {
        "FIRST": [10, 5],
        "LAST": [20, 5],
        "COUNT": [2, 1],
        "MIN": [10, 5],
        "MAX": [20, 5],
        "MEAN": [15, 5],
        "SUM": [30, 5],
    }
    for aggregation, values in expected.items():
        body = user.ok(
            "POST",
            app_path(emu, "/data/time-series-query"),
            {**query, "aggregation": aggregation, "deviceIds": [emu.device_id]},
        )
        points = body["devices"][emu.device_id]["points"]
        assert [p["data"]["temperature"] for p in points] == values, aggregation
        assert body["aggregation"] == aggregation and body["resolution"] == 60_000
    raw = user.ok(
        "POST",
        app_path(emu, "/data/time-series-query"),
        {**query, "aggregation": "NONE", "deviceTags": [{"key": "floor", "value": "1"}]},
    )
    assert len(raw["devices"][emu.device_id]["points"]) == 3


def test_commands(emu: Emulator, user: Client, device: Client) -> None:
    user.ok("POST", dev_path(emu, "/command"), {"name": "reboot", "payload": {"delay": 1}})
    user.ok(
        "POST", app_path(emu, "/devices/command"), {"name": "ping", "deviceIds": [emu.device_id]}
    )
    commands = device.ok("GET", dev_path(emu, "/command"), limit=10)
    assert [c["name"] for c in commands] == ["ping", "reboot"]
    assert commands[1]["payload"] == {"delay": 1}


def test_connection_status(emu: Emulator, device: Client, user: Client) -> None:
    device.ok("POST", dev_path(emu, "/setConnectionStatus"), {"status": "connected"})
    assert user.ok("GET", dev_path(emu))["connectionInfo"]["connected"] == 1
    query = json.dumps({"connectionStatus": "connected"})
    assert user.ok("GET", app_path(emu, "/devices"), query=query)["totalCount"] == 1


# -- events, webhooks, data tables, generic collections ---------------------------------


def test_events(emu: Emulator, user: Client) -> None:
    events = app_path(emu, "/events")
    first = user.ok("POST", events, {"level": "info", "subject": "door open"})
    user.ok("POST", events, {"level": "critical", "subject": "fire", "deviceId": emu.device_id})
    assert first["state"] == "new" and first["sourceType"] == "user"
    listed = user.ok("GET", events, filterField="subject", filter="door*")
    assert [e["subject"] for e in listed["items"]] == ["door open"]
    worst = user.ok("GET", app_path(emu, "/events/mostRecentBySeverity"))
    assert worst["event"]["subject"] == "fire" and worst["newCount"] == 2
    acked = user.ok("PATCH", app_path(emu, f"/events/{first['id']}"), {"state": "acknowledged"})
    assert acked["state"] == "acknowledged"
    assert user.ok("GET", events, state="new")["totalCount"] == 1
    assert user.call("POST", events, {"subject": "no level"}).status_code == 400


def test_webhooks(emu: Emulator, user: Client) -> None:
    hook = user.ok("POST", app_path(emu, "/webhooks"), {"name": "inbound"})
    assert hook["token"] and hook["verificationType"] == "none"
    path = app_path(emu, f"/webhooks/{hook['id']}")
    assert user.ok("PATCH", path, {"responseCode": 201})["responseCode"] == 201
    assert user.ok("GET", app_path(emu, "/webhooks"))["totalCount"] == 1
    user.ok("DELETE", path)
    assert user.call("GET", path).status_code == 404


def test_data_table_rows(emu: Emulator, user: Client) -> None:
    table = user.ok(
        "POST",
        app_path(emu, "/data-tables"),
        {
            "name": "readings",
            "columns": [
                {"name": "sensor", "dataType": "string", "constraint": "unique"},
                {"name": "value", "dataType": "number", "constraint": "optional"},
            ],
        },
    )
    rows = app_path(emu, f"/data-tables/{table['id']}/rows")
    one = user.ok("POST", rows, {"sensor": "s0", "value": "1.5"})
    assert one["value"] == 1.5 and HEX24.match(one["id"])
    many = user.ok("POST", rows, [{"sensor": f"s{n}", "value": n} for n in range(1, 10)])
    assert many["count"] == 9 and len(many["rowIds"]) == 9
    assert user.call("POST", rows, {"sensor": "s1"}).status_code == 400  # unique
    page = user.ok("GET", rows, limit=4, offset=8, sortColumn="value")
    assert (page["totalCount"], page["limit"], page["offset"], page["count"]) == (10, 4, 8, 2)

    def query(q: dict[str, Any]) -> list[str]:
        found = user.ok("POST", rows + "/query", q, sortColumn="value")
        return [r["sensor"] for r in found["items"]]

    assert query({"value": {"$gt": 7}}) == ["s8", "s9"]
    assert query({"value": {"$lte": 1.5}}) == ["s1", "s0"]
    assert query({"sensor": {"$in": ["s2", "s4"]}}) == ["s2", "s4"]
    assert len(query({"sensor": {"$nin": ["s2", "s4"]}})) == 8
    assert query({"$or": [{"value": 3}, {"sensor": "s5"}]}) == ["s3", "s5"]
    assert query({"$and": [{"value": {"$gte": 2}}, {"value": {"$lt": 4}}]}) == ["s2", "s3"]
    assert len(query({"value": {"$ne": 3}})) == 9
    assert query({"sensor": {"$eq": "S9", "$ci": True}}) == ["s9"]
    patched = user.ok("PATCH", f"{rows}/{one['id']}", {"value": 100})
    assert patched["value"] == 100 and patched["sensor"] == "s0"
    removed = user.ok("POST", rows + "/delete", {"value": {"$gte": 9}})
    assert removed == {"removed": 2}
    user.ok("POST", rows + "/truncate")
    assert user.ok("GET", rows)["totalCount"] == 0


def test_generic_collection(emu: Emulator, user: Client) -> None:
    flows = app_path(emu, "/flows")
    made = user.ok("POST", flows, {"name": "My flow", "triggers": [], "nodes": []})
    assert made["flowId"] == made["id"] and made["applicationId"] == emu.application_id
    assert made["creationDate"] and made["lastUpdated"]
    path = f"{flows}/{made['id']}"
    assert user.ok("PATCH", path, {"description": "d"})["description"] == "d"
    assert user.ok("GET", flows, filter="my*")["totalCount"] == 1
    user.ok("DELETE", path)
    assert user.call("GET", path).status_code == 404


def test_cursor_pagination(emu: Emulator, user: Client) -> None:
    path = f"/instances/{emu.instance_id}/sandboxes"
    first = user.ok("GET", path, limit=2)
    assert first["count"] == 2 and first["hasMore"] is True
    rest = user.ok("GET", path, limit=2, startingAfterId=first["items"][-1]["id"])
    assert rest["count"] == 1 and rest["hasMore"] is False


def test_threads_share_state_safely(emu: Emulator, user: Client) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def create(n: int) -> int:
        return user.call("POST", app_path(emu, "/devices"), {"name": f"T{n}"}).status_code

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(create, range(40))) == {201}
    assert user.ok("GET", app_path(emu, "/devices"))["totalCount"] == 41


# -- the pytest plugin and the command line ----------------------------------------------


def test_pytest_plugin_fixture(tmp_path: Path) -> None:
    test_file = tmp_path / "test_uses_emulator.py"
    test_file.write_text(
        textwrap.dedent(
            """
            import requests

            def test_one(emulator):
                r = requests.post(emulator.url + "/auth/user", timeout=5,
                                  json={"email": emulator.user_email,
                                        "password": emulator.user_password})
                assert r.status_code == 200

            def test_two(emulator):
                assert emulator.running
            """
        )
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:losant_fluent",
            "-p",
            "losant_fluent.testing.pytest_plugin",
            str(test_file),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        env={**_env(), "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_plugin_imports_without_werkzeug() -> None:
    code = textwrap.dedent(
        """
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "werkzeug" or name.startswith("werkzeug."):
                    raise ImportError("blocked")
        sys.meta_path.insert(0, Block())
        import losant_fluent.testing.pytest_plugin as plugin
        import losant_fluent
        assert "werkzeug" not in sys.modules
        print("ok", plugin.emulator.__name__)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={**_env(), "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok")


def test_command_line_prints_url_and_credentials() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "losant_fluent.testing", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**_env(), "PYTHONPATH": str(ROOT)},
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(8)]
        url = lines[0].split()[-1]
        assert url.startswith("http://127.0.0.1:")
        assert any(line.strip().startswith("LOSANT_PASSWORD=") for line in lines)
        assert requests.get(url + "/me", timeout=5).status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=10)
    refused = subprocess.run(
        [sys.executable, "-m", "losant_fluent.testing", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**_env(), "PYTHONPATH": str(ROOT)},
    )
    assert refused.returncode != 0 and "non-loopback" in refused.stderr


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


def test_works_with_the_client(emu: Emulator) -> None:
    from losant_fluent import API, RateLimitError

    # throttle=False: the emulator's own throttle is what this test is about
    with API(url=emu.url, max_retries=0, throttle=False) as api:
        api.set_token(
            api.auth().user().post({"email": emu.user_email, "password": emu.user_password}).token
        )
        state = api.applications(emu.application_id).devices(emu.device_id).state()
        for n in range(30):
            state.post({"data": {"temperature": n}})
        with pytest.raises(RateLimitError) as caught:
            state.post({"data": {"temperature": 99}})
        assert caught.value.type == "TooManyRequests"
        assert caught.value.retry_after is None  # Losant sends no Retry-After
        response = caught.value.http_response()
        assert response is not None and response.status_code == 429
