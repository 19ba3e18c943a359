"""Collection results walk every page lazily, in all three of Losant's pagination styles.

Every test talks to a real HTTP server on 127.0.0.1 (``wire_server.RecordingServer`` with the
``paging_server.PagingResponder``) serving 5,000 items, and asserts on what went over the wire.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from paging_server import APP, INSTANCE, TABLE, PagingResponder, body_of, object_id
from wire_server import RecordingServer

import losant_fluent as lf
from losant_fluent import API, PageWalk
from losant_fluent._pipeline import Pipeline

TOTAL = 5000
QUERY = {"$or": [{"label": {"$ne": "x"}}, {"n": 5}]}


@pytest.fixture
def responder() -> PagingResponder:
    return PagingResponder(total=TOTAL)


@pytest.fixture
def server(responder: PagingResponder) -> Iterator[RecordingServer]:
    with RecordingServer(responder) as recording:
        yield recording


@pytest.fixture
def api(server: RecordingServer) -> Iterator[API]:
    with API(url=server.url, token="tok-page") as client:
        yield client


def _queries(server: RecordingServer) -> list[dict[str, str]]:
    return [dict(record.query_pairs) for record in server.requests]


def _names(items: Any) -> list[str]:
    return [item.name for item in items]


def _expected_names(start: int = 0, stop: int = TOTAL) -> list[str]:
    return [f"device-{n}" for n in range(start, stop)]


# -- the three styles -------------------------------------------------------------------------


@pytest.mark.parametrize(("per_page", "pages"), [(1000, 5), (700, 8)])
def test_page_style_walks_all_pages_keeping_filters(
    api: API, server: RecordingServer, per_page: int, pages: int
) -> None:
    result = api.applications(APP).devices().get(
        perPage=per_page, filterField="name", filter="device-*", sortField="name",
        query={"name": {"$ne": "x"}},
    )
    assert result.total_count == TOTAL and result.count == per_page  # the first page's fields
    assert len(result.items or []) == per_page
    assert _names(result) == _expected_names()
    queries = _queries(server)
    assert len(queries) == pages  # ends at totalCount: no extra empty page is asked for
    assert "page" not in queries[0]
    assert [q.get("page") for q in queries[1:]] == [str(n) for n in range(1, pages)]
    for query in queries:
        assert query["perPage"] == str(per_page)
        assert (query["filterField"], query["filter"], query["sortField"]) == (
            "name", "device-*", "name")
        assert json.loads(query["query"]) == {"name": {"$ne": "x"}}
        assert query["_links"] == "true"
    assert all(r.header("Authorization") == "Bearer tok-page" for r in server.requests)


def test_page_style_starts_at_the_page_asked_for(api: API, server: RecordingServer) -> None:
    result = api.applications(APP).devices().get(page=3, perPage=700)
    assert _names(result) == _expected_names(2100)
    assert [q["page"] for q in _queries(server)] == ["3", "4", "5", "6", "7"]


def test_page_style_without_total_count_stops_on_a_short_page(
    api: API, server: RecordingServer, responder: PagingResponder
) -> None:
    responder.omit = {"totalCount"}
    assert _names(api.applications(APP).devices().get(perPage=700)) == _expected_names()
    assert len(server.requests) == 8  # the 8th page holds 100 items: short, so the end


def test_page_style_without_total_count_stops_on_an_empty_page(
    api: API, server: RecordingServer, responder: PagingResponder
) -> None:
    responder.omit = {"totalCount"}
    assert _names(api.applications(APP).devices().get(perPage=1000)) == _expected_names()
    assert len(server.requests) == 6  # 5 full pages, then one empty page


def test_offset_style_rows(api: API, server: RecordingServer) -> None:
    rows = api.applications(APP).data_tables(TABLE).rows()
    result = rows.get(limit=700, sortColumn="n", sortDirection="asc")
    assert (result.total_count, result.limit, result.offset) == (TOTAL, 700, 0)
    assert [row.model_extra["n"] for row in result] == list(range(TOTAL))
    queries = _queries(server)
    assert [q.get("offset") for q in queries] == [None] + [str(700 * n) for n in range(1, 8)]
    assert all((q["limit"], q["sortColumn"], q["sortDirection"]) == ("700", "n", "asc")
               for q in queries)


def test_offset_style_rows_query_resends_the_body(api: API, server: RecordingServer) -> None:
    query = api.applications(APP).data_tables(TABLE).rows().query()
    result = query.post(QUERY, limit=1000, offset=1000, sortColumn="n", validate=False)
    assert [row.model_extra["n"] for row in result] == list(range(1000, TOTAL))
    assert [r.method for r in server.requests] == ["POST"] * 4
    assert [r.path for r in server.requests] == [
        f"/applications/{APP}/data-tables/{TABLE}/rows/query"] * 4
    assert [body_of(r) for r in server.requests] == [QUERY] * 4
    assert [q["offset"] for q in _queries(server)] == ["1000", "2000", "3000", "4000"]
    assert all(q["sortColumn"] == "n" and q["limit"] == "1000" for q in _queries(server))


def test_cursor_style_sandboxes(api: API, server: RecordingServer) -> None:
    result = api.instances(INSTANCE).sandboxes().get(limit=700, filterField="email", filter="u*")
    assert result.has_more is True
    ids = [item.id for item in result]
    assert ids == [object_id(n + 1) for n in range(TOTAL)]
    queries = _queries(server)
    assert len(queries) == 8  # the 8th page says hasMore: false
    assert "startingAfterId" not in queries[0]
    # each next cursor is the id of the last item of the page before
    assert [q["startingAfterId"] for q in queries[1:]] == [
        object_id(700 * n) for n in range(1, 8)]
    assert all((q["limit"], q["filterField"], q["filter"]) == ("700", "email", "u*")
               for q in queries)


def test_cursor_style_without_has_more_stops_on_a_short_page(
    api: API, server: RecordingServer, responder: PagingResponder
) -> None:
    responder.omit = {"hasMore"}
    result = api.instances(INSTANCE).sandboxes().get(limit=700)
    assert len(list(result)) == TOTAL and len(server.requests) == 8


def test_cursor_style_continues_from_the_cursor_given(api: API, server: RecordingServer) -> None:
    result = api.instances(INSTANCE).sandboxes().get(limit=1000, startingAfterId=object_id(4000))
    assert [item.id for item in result] == [object_id(n + 1) for n in range(4000, TOTAL)]
    assert [q["startingAfterId"] for q in _queries(server)] == [object_id(4000)]


# -- laziness, early stop, the cap, pages -------------------------------------------------------


@pytest.mark.parametrize(("taken", "requests"), [(1, 1), (1000, 1), (1001, 2), (2500, 3)])
def test_breaking_out_fetches_nothing_more(
    api: API, server: RecordingServer, taken: int, requests: int
) -> None:
    result = api.applications(APP).devices().get(perPage=1000)
    seen = 0
    for _ in result:
        seen += 1
        if seen == taken:
            break
    assert len(server.requests) == requests


def test_pages_are_fetched_only_when_needed(api: API, server: RecordingServer) -> None:
    walk = iter(api.applications(APP).devices().get(perPage=1000))
    assert isinstance(walk, PageWalk)
    for _ in range(1000):
        next(walk)
    assert len(server.requests) == 1
    assert next(walk).name == "device-1000"
    assert len(server.requests) == 2 and walk.page_number == 1 and walk.yielded == 1001


@pytest.mark.parametrize("read_ahead", [False, True])
@pytest.mark.parametrize(("cap", "requests"), [(0, 1), (2000, 2), (2500, 3), (9999, 5)])
def test_max_items_caps_the_walk(
    api: API, server: RecordingServer, cap: int, requests: int, read_ahead: bool
) -> None:
    result = api.applications(APP).devices().get(perPage=1000)
    items = list(result.iter_items(max_items=cap, read_ahead=read_ahead))
    assert _names(items) == _expected_names(0, min(cap, TOTAL))
    assert len(server.requests) == requests


def test_max_items_refuses_negative(api: API) -> None:
    result = api.applications(APP).devices().get(perPage=1000)
    with pytest.raises(ValueError):
        result.iter_items(max_items=-1)


def test_pages_gives_page_models(api: API, server: RecordingServer) -> None:
    result = api.applications(APP).devices().get(perPage=700)
    pages = result.pages()
    first = next(pages)
    assert first is result and len(server.requests) == 1
    rest = list(pages)
    assert [p.page for p in rest] == list(range(1, 8))
    assert [p.count for p in [first, *rest]] == [700] * 7 + [100]
    assert [d.name for p in [first, *rest] for d in (p.items or [])] == _expected_names()
    assert type(rest[0]) is type(result)
    assert rest[0].http_response() is not None


def test_a_later_page_walks_on_from_itself(api: API) -> None:
    result = api.applications(APP).devices().get(perPage=1000)
    third = list(result.pages())[2]
    assert _names(third) == _expected_names(2000)


# -- failures and resuming ----------------------------------------------------------------------


def _capture_transport_errors(monkeypatch: pytest.MonkeyPatch) -> list[BaseException]:
    raised: list[BaseException] = []
    original = Pipeline.send

    def send(self: Pipeline, call: Any, **options: Any) -> Any:
        try:
            return original(self, call, **options)
        except BaseException as exc:
            raised.append(exc)
            raise

    monkeypatch.setattr(Pipeline, "send", send)
    return raised


@pytest.mark.parametrize("read_ahead", [False, True])
def test_a_failed_page_raises_and_resumes_without_loss_or_repetition(
    api: API,
    server: RecordingServer,
    responder: PagingResponder,
    monkeypatch: pytest.MonkeyPatch,
    read_ahead: bool,
) -> None:
    raised = _capture_transport_errors(monkeypatch)
    responder.fail_once = {3}  # the third request: page 2
    api = api.with_options(max_retries=0)  # a failure that outlasts the retries
    result = api.applications(APP).devices().get(perPage=1000, filter="device-*")
    seen: list[str] = []
    with pytest.raises(lf.ServerError) as info:
        for device in result.iter_items(read_ahead=read_ahead):
            seen.append(device.name)
    error: Any = info.value
    assert raised == [error]  # the pipeline's own exception object, pointing at the walk
    assert error.status == 500 and error.http_response().status_code == 500
    assert (error.page_number, error.page_params) == (2, {"page": 2})
    assert seen == _expected_names(0, 2000)
    walk = error.resume()
    assert walk.yielded == 2000 and "2000 yielded" in repr(walk)
    seen.extend(d.name for d in walk)
    assert seen == _expected_names() and walk.yielded == TOTAL
    pages_asked = [q.get("page") for q in _queries(server)]
    assert pages_asked == [None, "1", "2", "2", "3", "4"]
    assert all(q["filter"] == "device-*" for q in _queries(server))


def test_a_failed_page_resumes_with_the_same_iterator(
    api: API, responder: PagingResponder
) -> None:
    responder.fail_once = {4}
    api = api.with_options(max_retries=0)
    rows = api.applications(APP).data_tables(TABLE).rows().query()
    walk = rows.post(QUERY, limit=700, validate=False).iter_items(max_items=3000)
    seen: list[int] = []
    with pytest.raises(lf.ServerError) as info:
        seen.extend(row.model_extra["n"] for row in walk)
    assert (info.value.page_number, info.value.page_params) == (3, {"offset": 2100})  # type: ignore[attr-defined]
    seen.extend(row.model_extra["n"] for row in walk)  # the cap still counts what came
    assert seen == list(range(3000))


def test_a_failed_page_resumes_a_page_walk(api: API, responder: PagingResponder) -> None:
    responder.fail_once = {2}
    api = api.with_options(max_retries=0)
    result = api.instances(INSTANCE).sandboxes().get(limit=1000)
    walk = result.pages()
    assert next(walk) is result
    with pytest.raises(lf.ServerError) as info:
        next(walk)
    error: Any = info.value
    assert error.page_params == {"startingAfterId": object_id(1000)}
    assert error.resume() is walk
    assert [p.count for p in walk] == [1000] * 4


# -- read-ahead ---------------------------------------------------------------------------------


@pytest.mark.parametrize("style", ["page", "offset", "cursor"])
def test_read_ahead_yields_the_same_items(api: API, server: RecordingServer, style: str) -> None:
    def call() -> Any:
        if style == "page":
            return api.applications(APP).devices().get(perPage=700)
        if style == "offset":
            return api.applications(APP).data_tables(TABLE).rows().get(limit=700)
        return api.instances(INSTANCE).sandboxes().get(limit=700)

    plain = [item.model_dump() for item in call()]
    plain_queries = _queries(server)
    del server.requests[:]
    ahead = [item.model_dump() for item in call().iter_items(read_ahead=True)]
    assert ahead == plain and len(ahead) == TOTAL
    assert _queries(server) == plain_queries


def _wait_for(condition: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.005)
    return False


def test_read_ahead_fetches_one_page_ahead_only(api: API, server: RecordingServer) -> None:
    walk = api.applications(APP).devices().get(perPage=1000).iter_items(read_ahead=True)
    next(walk)
    assert _wait_for(lambda: len(server.requests) == 2)  # page 1 is on its way
    time.sleep(0.2)
    assert len(server.requests) == 2  # and nothing beyond it
    for _ in range(1000):
        next(walk)
    assert _wait_for(lambda: len(server.requests) == 3)
    time.sleep(0.1)
    assert len(server.requests) == 3


# -- models without a pager ---------------------------------------------------------------------


def test_models_without_items_keep_pydantic_iteration(api: API) -> None:
    from losant_fluent.models import Application, Device

    device = Device.model_validate({"name": "d", "deviceId": object_id(1)})
    assert dict(device)["name"] == "d"
    assert dict(Application.model_validate({"name": "a"}))["name"] == "a"
    assert dict(api.applications(APP).get())  # a generic answer, not paginated


def test_a_hand_built_collection_iterates_its_own_items() -> None:
    from losant_fluent.models import Devices

    page = Devices.model_validate({"items": [{"name": "a"}, {"name": "b"}], "totalCount": 9})
    assert _names(page) == ["a", "b"]
    assert list(page.pages()) == [page]
    assert _names(page.iter_items(max_items=1)) == ["a"]
    assert list(Devices.model_validate({})) == []


def test_copies_keep_the_pager_and_pickles_drop_it(api: API) -> None:
    import copy
    import pickle

    result = api.applications(APP).devices().get(perPage=1000)
    assert len(list(result.model_copy(deep=True))) == TOTAL
    assert len(list(copy.copy(result))) == TOTAL
    restored = pickle.loads(pickle.dumps(result))
    assert restored.items == result.items
    assert len(list(restored)) == 1000  # no API to call any more: its own page only


def test_a_cursor_page_without_ids_cannot_go_on() -> None:
    from wire_server import json_reply

    def reply(_: Any) -> Any:
        return json_reply(200, {"items": [{"email": "a@example.com"}], "hasMore": True})

    with RecordingServer(reply) as server, API(url=server.url, token="t") as client:
        result = client.instances(INSTANCE).sandboxes().get(limit=1)
        with pytest.raises(lf.LosantError, match="no id"):
            list(result)
        assert len(server.requests) == 1


def test_a_transient_page_failure_is_retried_within_the_walk(
    api: API, server: RecordingServer, responder: PagingResponder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("losant_fluent._pipeline.INITIAL_RETRY_DELAY", 0.01)
    responder.fail_once = {3}  # page 2 answers 500 once, then succeeds on the retry
    names = [d.name for d in api.applications(APP).devices().get(perPage=1000)]
    assert names == _expected_names()
    assert [q.get("page") for q in _queries(server)] == [None, "1", "2", "2", "3", "4"]
