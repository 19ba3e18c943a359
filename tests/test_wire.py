"""What goes over the wire: query flags and encoding, headers, bodies, multipart, bad input."""

from __future__ import annotations

import json

import pytest
from wire_server import RecordingServer

from losant_fluent import API

FLAGS = "_actions=false&_links=true&_embedded=true"


def test_default_headers_and_flags(api: API, server: RecordingServer) -> None:
    api.applications("a").devices().get()
    sent = server.last
    assert sent.method == "GET"
    assert sent.target == f"/applications/a/devices?{FLAGS}"
    assert sent.header("Accept") == "application/json"
    assert sent.header("Accept-Version") == "^1.31.0"
    assert sent.header("Authorization") == "Bearer tok-SECRET-123"
    assert sent.body == b""
    assert sent.header("Content-Type") is None


def test_no_authorization_header_without_token(server: RecordingServer) -> None:
    with API(url=server.url) as anonymous:
        anonymous.auth().sso_domain().get(email="a@b.c")
    assert server.last.header("Authorization") is None
    assert server.last.target == f"/auth/ssoDomain?{FLAGS}&email=a%40b.c"


def test_query_parameters_in_catalog_order_with_overridden_flags(
    api: API, server: RecordingServer
) -> None:
    api.applications("a").devices().get(
        perPage=50, sortField="name", _links=False, excludeConnectionInfo=True
    )
    assert server.last.target == (
        "/applications/a/devices?_actions=false&_links=false&_embedded=true"
        "&sortField=name&perPage=50&excludeConnectionInfo=true"
    )


def test_object_query_parameter_is_one_json_string(api: API, server: RecordingServer) -> None:
    query = {"$and": [{"name": {"$eq": "x"}}, {"deviceClass": "standalone"}]}
    api.applications("a").devices().get(query=query)
    assert dict(server.last.query_pairs)["query"] == json.dumps(query)


def test_structured_query_parameter_uses_bracket_form(api: API, server: RecordingServer) -> None:
    api.applications("a").devices().get(
        tagFilter=[{"key": "floor", "value": "3"}, {"key": "wing"}], deviceClass=["gateway"]
    )
    pairs = server.last.query_pairs
    assert pairs[3:] == [
        ("deviceClass[0]", "gateway"),
        ("tagFilter[0][key]", "floor"),
        ("tagFilter[0][value]", "3"),
        ("tagFilter[1][key]", "wing"),
    ]
    assert "tagFilter%5B0%5D%5Bkey%5D=floor" in server.last.query


def test_array_query_parameter(api: API, server: RecordingServer) -> None:
    api.application_templates().get(keywords=["iot", "demo"])
    assert server.last.query.endswith("&keywords%5B0%5D=iot&keywords%5B1%5D=demo")


def test_header_parameter(api: API, server: RecordingServer) -> None:
    api.me().get(losantdomain="example.org")
    assert server.last.header("losantdomain") == "example.org"


def test_json_body_bytes_match_requests_json_encoding(api: API, server: RecordingServer) -> None:
    body = {"name": "Sensor", "attributes": [{"name": "temperature", "dataType": "number"}],
            "tags": [], "deviceClass": "standalone"}
    api.applications("a").devices().post(body)
    assert server.last.body == json.dumps(body).encode()
    assert server.last.header("Content-Type") == "application/json"


def test_multipart_fields(api: API, server: RecordingServer) -> None:
    api.applications("a").file("f").upload().post(file=("notes.txt", b"hello wire"))
    sent = server.last
    assert (sent.header("Content-Type") or "").startswith("multipart/form-data; boundary=")
    assert b'name="file"; filename="notes.txt"' in sent.body and b"hello wire" in sent.body
    api.applications().import_().post(importBundle=b"PK..", options={"name": "x"})
    body = server.last.body
    assert b'name="options"\r\n\r\n{"name": "x"}' in body
    assert b'name="importBundle"; filename="importBundle"' in body


def test_unknown_keyword_names_valid_ones_and_sends_nothing(
    api: API, server: RecordingServer
) -> None:
    with pytest.raises(TypeError) as info:
        api.applications("a").devices().get(per_page=5)
    message = str(info.value)
    assert "'per_page'" in message and "perPage" in message and "sortField" in message
    assert server.requests == []


def test_missing_required_keyword_sends_nothing(api: API, server: RecordingServer) -> None:
    with pytest.raises(TypeError, match="'date'"):
        api.applications("a").archive_data().get()
    with pytest.raises(TypeError, match="needs a body"):
        api.applications("a").devices().post(None)  # type: ignore[arg-type]
    assert server.requests == []


def test_enum_values_are_advice_not_a_gate(api: API, server: RecordingServer) -> None:
    # Losant's published lists are incomplete (its own examples use filterField="key" on
    # /me/tokens): a value outside them is sent as given, with or without validation.
    api.me().tokens().get(filterField="key", filter="abc*")  # type: ignore[typeddict-item]
    assert ("filterField", "key") in server.last.query_pairs
    api.applications("a").devices().get(sortDirection="up", validate=False)  # type: ignore[typeddict-item]
    assert ("sortDirection", "up") in server.last.query_pairs


def test_per_call_timeout_and_session_reuse(api: API, server: RecordingServer) -> None:
    for _ in range(3):
        api.me().get(timeout=5)
    # keep-alive: every request came over the same pooled connection
    assert len(server.requests) == 3
    assert len({r.client_port for r in server.requests}) == 1
