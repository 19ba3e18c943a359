"""The call chain: naming, immutability, id encoding, and that building never sends."""

from __future__ import annotations

import pytest
from wire_server import RecordingServer

from losant_fluent import API, Node


def test_chain_paths_follow_the_url(api: API) -> None:
    app = api.applications("app1")
    assert app.path == "/applications/app1"
    assert app.devices().path == "/applications/app1/devices"
    assert app.devices("d1").state().path == "/applications/app1/devices/d1/state"
    assert app.archive_data().path == "/applications/app1/archiveData"
    assert app.data_tables("t").rows().query().path == "/applications/app1/data-tables/t/rows/query"
    assert app.data().last_value_query().path == "/applications/app1/data/last-value-query"
    assert api.me().payload_counts_breakdown().path == "/me/payloadCountsBreakdown"
    assert api.applications().import_().path == "/applications/import"
    assert app.devices().delete_().path == "/applications/app1/devices/delete"
    assert api.instance("i").audit_logs().path == "/instance/i/audit-logs"
    assert api.me().oauth_clients("c").path == "/me/oauth-clients/c"


def test_root_segments_hang_off_the_api(api: API) -> None:
    for name in ("me", "auth", "orgs", "instances", "instance", "application_templates",
                 "dashboards", "invites", "applications"):
        assert name in dir(api)
    assert api.auth().device().path == "/auth/device"
    assert api.orgs("o").path == "/orgs/o"
    assert api.instances("i").path == "/instances/i"


def test_building_sends_nothing_and_nodes_branch(api: API, server: RecordingServer) -> None:
    app = api.applications("a")
    devices, flows = app.devices(), app.flows()
    assert devices.path.endswith("/devices") and flows.path.endswith("/flows")
    assert app.path == "/applications/a"
    assert server.requests == []


def test_nodes_are_immutable(api: API) -> None:
    node = api.applications("a")
    with pytest.raises(AttributeError):
        node._path = "/elsewhere"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        node.anything = 1  # type: ignore[attr-defined]
    assert node == api.applications("a") and hash(node) == hash(api.applications("a"))


@pytest.mark.parametrize(
    ("ident", "encoded"),
    [
        ("a/b", "a%2Fb"),
        ("a?x=1", "a%3Fx=1"),
        ("a#frag", "a%23frag"),
        ("100%", "100%25"),
        ("with space", "with%20space"),
        ("../etc", "..%2Fetc"),
        ("ünï", "%C3%BCn%C3%AF"),
    ],
)
def test_ids_are_one_encoded_segment(api: API, server: RecordingServer, ident: str,
                                     encoded: str) -> None:
    node = api.applications(ident).devices()
    assert node.path == f"/applications/{encoded}/devices"
    node.get()
    assert server.last.path == f"/applications/{encoded}/devices"
    assert server.last.query.startswith("_actions=false&_links=true&_embedded=true")


@pytest.mark.parametrize("bad", [None, "", ".", "..", 1.5, b"x", ["a"]])
def test_bad_ids_fail_when_the_chain_is_built(api: API, bad: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        api.applications(bad)  # type: ignore[call-overload]


def test_repr_and_dir_help_a_repl_user(api: API) -> None:
    node = api.applications("a").devices()
    assert repr(node) == "<DevicesNode /applications/a/devices>"
    listing = dir(node)
    assert {"get", "post", "patch", "export", "tag_keys", "delete_"} <= set(listing)
    assert "put" not in listing and not any(n.startswith("_") for n in listing)
    assert "SECRET" not in repr(api) and "SECRET" not in str(api)
    assert repr(api).startswith("<API http://127.0.0.1:")


def test_verbs_exist_exactly_where_the_api_has_them(api: API) -> None:
    assert not hasattr(api.applications(), "delete")
    assert hasattr(api.applications("a"), "delete")
    assert not hasattr(api.applications("a").devices("d").state(), "delete")
    assert not hasattr(api, "get")


def test_help_describes_the_endpoint(api: API) -> None:
    doc = api.applications("a").devices().get.__doc__ or ""
    assert "GET /applications/{applicationId}/devices" in doc
    assert "sortDirection (Literal['asc', 'desc'], in query, optional, default 'asc')" in doc
    assert "perPage (str | int | float, in query, optional, default 100)" in doc
    assert "default 'name'" in doc
    assert "devices.get" in doc and "Devices" in doc
    post_doc = api.applications("a").devices().post.__doc__ or ""
    assert "Body (required" in post_doc and "DevicePost" in post_doc


def test_escape_hatch_reaches_unknown_paths(api: API, server: RecordingServer) -> None:
    node = api.applications("a").at("newThing", "x/y")
    assert isinstance(node, Node)
    assert node.path == "/applications/a/newThing/x%2Fy"
    result = node.get(flag=True, limit=5, query={"a": 1})
    assert server.last.method == "GET"
    assert server.last.target == (
        "/applications/a/newThing/x%2Fy?_actions=false&_links=true&_embedded=true"
        "&flag=true&limit=5&query=%7B%22a%22%3A+1%7D"
    )
    assert server.last.header("Authorization") == "Bearer tok-SECRET-123"
    assert result.http_response().status_code == 200
    api.at("brand", "new").post({"k": "v"}, headers={"X-Extra": "1"})
    assert server.last.method == "POST" and server.last.json() == {"k": "v"}
    assert server.last.header("X-Extra") == "1"
