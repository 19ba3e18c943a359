"""Verbs return typed models and check bodies before sending (through the real wire)."""

from __future__ import annotations

import json

import pytest
from wire_server import Recorded, RecordingServer, json_reply

from losant_fluent import API, BodyValidationError
from losant_fluent.models import Device, DevicePost, Devices, GenericModel

DEVICE = {
    "id": "a" * 24,
    "deviceId": "a" * 24,
    "applicationId": "b" * 24,
    "name": "Thermostat",
    "deviceClass": "standalone",
    "attributes": [{"name": "temperature", "dataType": "number"}],
    "tags": [{"key": "floor", "value": "3"}],
    "creationDate": "2026-01-01T00:00:00.000Z",
    "lastUpdated": "2026-01-01T00:00:00.000Z",
}


def _device_reply(document: object) -> RecordingServer:
    return RecordingServer(lambda _: json_reply(200, document))


def test_get_returns_the_endpoint_model_with_its_response() -> None:
    with _device_reply(DEVICE) as server, API(url=server.url, token="t") as api:
        device = api.applications("b" * 24).devices("a" * 24).get()
    assert isinstance(device, Device)
    assert device.name == "Thermostat" and device.device_class == "standalone"
    assert device.attributes is not None and device.attributes[0].data_type == "number"
    response = device.http_response()
    assert response is not None and response.status_code == 200
    assert response.json() == DEVICE
    assert device.model_dump(by_alias=True, exclude_unset=True)["deviceClass"] == "standalone"


def test_odd_responses_never_raise_and_keep_the_raw_json() -> None:
    odd = dict(DEVICE, deviceClass="hovercraft", brandNewField={"x": 1}, name=12)
    with _device_reply(odd) as server, API(url=server.url) as api:
        device = api.applications("b" * 24).devices("a" * 24).get()
    assert isinstance(device, Device)
    assert device.raw_json() == odd
    assert device.model_extra is not None and device.model_extra["brandNewField"] == {"x": 1}
    assert device.device_class == "hovercraft"


def test_collection_result_is_a_page_model() -> None:
    page = {"items": [DEVICE], "count": 1, "totalCount": 1, "perPage": 100, "page": 0}
    with _device_reply(page) as server, API(url=server.url) as api:
        devices = api.applications("b" * 24).devices().get()
    assert isinstance(devices, Devices)
    assert devices.total_count == 1
    assert [d.name for d in devices] == ["Thermostat"]


def test_untyped_endpoint_returns_a_generic_model() -> None:
    with _device_reply({"clientId": "c1"}) as server, API(url=server.url) as api:
        client = api.me().oauth_clients("c1").get()
    assert isinstance(client, GenericModel)
    assert client.model_extra == {"clientId": "c1"}


def test_invalid_body_names_the_field_and_sends_nothing(
    api: API, server: RecordingServer
) -> None:
    bad = {"name": "x", "deviceClass": "standalone",
           "attributes": [{"name": "t", "dataType": "complex-number"}]}
    with pytest.raises(BodyValidationError) as info:
        api.applications("a").devices().post(bad)
    assert "attributes[0].dataType" in str(info.value)
    with pytest.raises(BodyValidationError, match="name"):
        api.applications("a").devices().post({"deviceClass": "standalone"})
    assert server.requests == []


def test_validate_false_sends_the_body_as_given(server: RecordingServer) -> None:
    bad = {"name": "x", "notAField": True}
    with API(url=server.url) as api:
        api.applications("a").devices().post(bad, validate=False)
    assert server.last.body == json.dumps(bad).encode()
    with API(url=server.url, validate=False) as lax:
        lax.applications("a").devices().post(bad)
    assert server.last.body == json.dumps(bad).encode()


def test_valid_dict_body_is_sent_unchanged(api: API, server: RecordingServer) -> None:
    body = {"name": "Sensor", "deviceClass": "standalone", "tags": [], "attributes": []}
    api.applications("a").devices().post(body)
    assert server.last.body == json.dumps(body).encode()


def test_model_body_is_sent_by_alias(api: API, server: RecordingServer) -> None:
    api.applications("a").devices().post(DevicePost(name="Sensor", device_class="gateway"))
    assert server.last.json() == {"name": "Sensor", "deviceClass": "gateway"}


def test_no_content_success(server: RecordingServer) -> None:
    def empty(_: Recorded) -> tuple[int, dict[str, str], bytes]:
        return 204, {}, b""

    server.responder = empty
    with API(url=server.url) as api:
        result = api.auth().sso_domain().get(email="a@b.c")
    assert result.http_response() is not None
    assert result.http_response().status_code == 204  # type: ignore[union-attr]


def test_credentials_in_results_are_masked_in_repr() -> None:
    login = {"userId": "a" * 24, "token": "TOKEN-VALUE-123"}
    with _device_reply(login) as server, API(url=server.url) as api:
        result = api.auth().user().post({"email": "a@b.co", "password": "p4ssw0rd!"})
    assert result.token == "TOKEN-VALUE-123"  # the value itself stays readable
    assert "TOKEN-VALUE-123" not in repr(result) and "TOKEN-VALUE-123" not in str(result)
    assert "token='***'" in repr(result)
    assert "p4ssw0rd" not in repr(result)
