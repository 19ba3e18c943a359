"""A model read lazily from JSON bytes behaves exactly like one validated eagerly.

Every example document of the reference goes through both paths
(``Model.model_validate_json(body)``, what responses take, and
``Model.model_validate(json.loads(body))``) and every public operation is compared:
attribute types all the way down, ``==`` both ways, dumps with their options, copies and
their sharing, pickling, ``del``, assignment, ``dir``/``repr``. Then the cases examples do
not reach: an empty object or list in every lazy field of every model, and many threads
reading one fresh field at once.
"""

from __future__ import annotations

import copy
import importlib
import json
import pickle
import sys
import threading
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from losant_fluent.models import Devices, LosantModel
from losant_fluent.models._generated import SCHEMAS
from losant_fluent.models._lazy import _UNBUILT, Pending, pending_json
from losant_fluent.models._registry import model_for

REFERENCE = Path(__file__).resolve().parents[1] / "reference"

DUMP_OPTIONS: list[dict[str, Any]] = [
    {},
    {"by_alias": True},
    {"exclude_unset": True},
    {"exclude_none": True},
    {"exclude_defaults": True},
    {"by_alias": True, "exclude_unset": True, "exclude_none": True},
    {"round_trip": True},
]


@cache
def examples() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((REFERENCE / "examples.json").read_text(encoding="utf-8"))
    return data


def same_shape(lazy: Any, eager: Any, where: str = "") -> None:
    """``lazy`` and ``eager`` hold equal values of the same types, all the way down."""
    assert type(lazy) is type(eager), f"{where}: {type(lazy).__name__} != {type(eager).__name__}"
    if isinstance(eager, BaseModel):
        assert lazy.model_fields_set == eager.model_fields_set, where
        assert lazy.model_extra == eager.model_extra, where
        for name in type(eager).model_fields:
            same_shape(getattr(lazy, name), getattr(eager, name), f"{where}.{name}")
    elif isinstance(eager, (list, tuple)):
        assert len(lazy) == len(eager), where
        for index, (one, other) in enumerate(zip(lazy, eager, strict=True)):
            same_shape(one, other, f"{where}[{index}]")
    elif isinstance(eager, dict):
        assert list(lazy) == list(eager), where
        for key in eager:
            same_shape(lazy[key], eager[key], f"{where}[{key!r}]")
    else:
        assert lazy == eager, where


def _lazy_names(cls: type[BaseModel]) -> tuple[str, ...]:
    return tuple(getattr(cls, "__losant_lazy__", ()))


def _nested_lazy_models(model: Any) -> list[Any]:
    """``model`` and the models its fields hold that have lazy fields (read eagerly)."""
    found: list[Any] = []
    if isinstance(model, BaseModel):
        if _lazy_names(type(model)):
            found.append(model)
        for name in type(model).model_fields:
            found += _nested_lazy_models(getattr(model, name))
    elif isinstance(model, (list, tuple)):
        for item in model:
            found += _nested_lazy_models(item)
    elif isinstance(model, dict):
        for item in model.values():
            found += _nested_lazy_models(item)
    return found


def _has_pending(model: Any) -> bool:
    """Whether a lazy field of ``model`` still holds JSON (unread, whatever form it is in)."""
    return any(type(value) is Pending and value.value is _UNBUILT
               or pending_json(model, name) is not None
               for name, value in model.__dict__.items())


@pytest.mark.parametrize("name", sorted(examples()))
def test_every_example_reads_alike_lazily_and_eagerly(name: str) -> None:
    document = examples()[name]
    body = json.dumps(document)
    cls = model_for(name)

    def fresh() -> Any:
        return cls.model_validate_json(body)

    def eager() -> Any:
        return cls.model_validate(json.loads(body))

    # attribute types, all the way down, and equality both ways, unread
    same_shape(fresh(), eager(), name)
    assert fresh() == eager() and eager() == fresh() and fresh() == fresh()
    assert not (fresh() != eager()) and not (eager() != fresh())
    # dumps, with their options, of an unread model
    for options in DUMP_OPTIONS:
        assert fresh().model_dump(**options) == eager().model_dump(**options), options
        assert fresh().model_dump(mode="json", **options) == eager().model_dump(
            mode="json", **options), options
        assert fresh().model_dump_json(**options) == eager().model_dump_json(**options), options
    # what a reader sees without vars(): dir, repr, str, fields set, extras
    unread, built = fresh(), eager()
    assert dir(unread) == dir(built)
    assert repr(fresh()) == repr(built) and str(fresh()) == str(built)
    # copies of an unread model: equal, same types, sharing as the eager copies share
    for copier in (copy.copy, copy.deepcopy, lambda m: m.model_copy(),
                   lambda m: m.model_copy(deep=True),
                   lambda m: pickle.loads(pickle.dumps(m))):
        original, reference = fresh(), eager()
        twin, eager_twin = copier(original), copier(reference)
        same_shape(twin, eager_twin, name)
        same_shape(original, reference, name)
        assert twin == eager_twin == original
        for field in _lazy_names(cls):  # the copy's field is the original's, or not, alike
            lazy_one, eager_one = fresh(), eager()
            lazy_copy, eager_copy = copier(lazy_one), copier(eager_one)
            if not isinstance(getattr(eager_one, field), (BaseModel, list, dict)):
                continue  # numbers and text: identity means nothing
            shared = getattr(lazy_copy, field) is getattr(lazy_one, field)
            assert shared == (getattr(eager_copy, field) is getattr(eager_one, field)), field
    # pickling an unread model
    unpickled = pickle.loads(pickle.dumps(fresh()))
    same_shape(unpickled, eager(), name)
    assert not any(_has_pending(m) for m in _nested_lazy_models(unpickled))


@pytest.mark.parametrize("name", sorted(examples()))
def test_del_and_assignment_behave_as_on_eager_models(name: str) -> None:
    body = json.dumps(examples()[name])
    cls = model_for(name)
    for field in type(cls.model_validate_json(body)).model_fields:
        lazy, eager = cls.model_validate_json(body), cls.model_validate(json.loads(body))
        outcome = []
        for model in (lazy, eager):
            try:
                delattr(model, field)
            except Exception as error:  # noqa: BLE001 - compared below
                outcome.append((type(error), str(error)))
            else:
                outcome.append(None)
            try:
                getattr(model, field)
            except AttributeError as error:
                outcome.append((AttributeError, str(error)))
            else:
                outcome.append("readable")
        assert outcome[:2] == outcome[2:], (field, outcome)
        lazy, eager = cls.model_validate_json(body), cls.model_validate(json.loads(body))
        value = getattr(eager, field)
        setattr(lazy, field, value)
        assert getattr(lazy, field) is value
        assert lazy == eager


def test_values_written_by_hand_are_kept_as_they_are_even_when_they_look_like_json() -> None:
    """A tuple or a dict you put in a lazy field is a value, as in an eager model: never JSON
    to build (an unread field keeps its JSON in those forms)."""
    body = json.dumps({"name": "boiler", "tags": [], "connectionInfo": {"connected": 1}})
    tags, info = ({"key": "floor"},), {"connected": 0}
    for make in (lambda: Devices.model_validate_json(f'{{"items": [{body}]}}').items[0],
                 lambda: model_for("device").model_validate(json.loads(body))):
        device = make()
        device.tags, device.connection_info = tags, info  # assignment, not validated
        assert device.tags is tags and device.connection_info is info
        copied = make().model_copy(update={"tags": tags, "connection_info": info})
        assert copied.tags is tags and copied.connection_info is info
        built = type(make()).model_construct(tags=tags, connection_info=info)
        assert built.tags is tags and built.connection_info is info
        # an empty list read, then a dict appended: the same list, read back as it is
        device = make()
        device.tags.append({"key": "by-hand"})
        assert device.tags == [{"key": "by-hand"}] and type(device.tags[0]) is dict


@pytest.mark.filterwarnings("ignore::UserWarning")  # the same warnings as the eager dump
def test_json_of_an_unexpected_kind_in_a_lazy_field_reads_as_the_lenient_eager_read() -> None:
    from losant_fluent.models._registry import parse_response, parse_response_json

    for odd in ({"tags": {"key": "floor"}}, {"tags": "floor"}, {"connectionInfo": [1, 2]},
                {"connectionInfo": "yes"}, {"tags": [{"key": 5}], "connectionInfo": {"x": 1}}):
        body = json.dumps({"items": [{"name": "boiler", **odd}]}).encode()
        lazy = parse_response_json("devices", body, None).items[0]
        eager = parse_response("devices", json.loads(body), None).items[0]
        same_shape(lazy, eager, repr(odd))
        assert lazy.tags is lazy.tags and lazy.connection_info is lazy.connection_info
        assert lazy.model_dump() == eager.model_dump()


# -- empty objects and lists, in every lazy field of every model ----------------------------


@cache
def _all_lazy_fields() -> list[tuple[type[LosantModel], str, str]]:
    classes: dict[str, type[LosantModel]] = {}
    for module_name, _ in SCHEMAS.values():
        module = importlib.import_module(f"losant_fluent.models._generated.{module_name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, LosantModel):
                classes[f"{value.__module__}.{value.__qualname__}"] = value
    found = []
    for key in sorted(classes):
        cls = classes[key]
        for field in _lazy_names(cls):
            info = cls.model_fields[field]
            found.append((cls, field, info.alias or field))
    return found


def test_an_empty_object_or_list_in_any_lazy_field_reads_as_eagerly() -> None:
    compared = 0
    for cls, field, key in _all_lazy_fields():
        for empty in ({}, []):
            data = {key: empty}
            try:
                eager = cls.model_validate(data)
            except ValidationError:
                continue  # other required fields, or a value the field refuses
            lazy = cls.model_validate_json(json.dumps(data))
            got, want = getattr(lazy, field), getattr(eager, field)
            assert type(got) is type(want), (cls.__name__, field, empty, got, want)
            assert got == want and lazy == eager and eager == lazy, (cls.__name__, field)
            compared += 1
    # Most lazy fields are reached (the rest need other required fields to validate).
    assert compared > 400, compared


# -- many threads, one fresh field ------------------------------------------------------------

THREADS = 16
DEVICE_PAGE = json.dumps({"items": [{
    "id": "a" * 24, "name": "boiler", "tags": [{"key": "floor", "value": "2"}],
    "connectionInfo": {"connected": 1},
}], "count": 1})


def test_threads_reading_a_fresh_field_at_once_share_one_object_and_lose_no_write() -> None:
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        for _ in range(150):
            device = Devices.model_validate_json(DEVICE_PAGE).items[0]
            start = threading.Barrier(THREADS, timeout=30)
            got: list[Any] = []

            def read(number: int, device: Any = device, start: Any = start,
                     got: list[Any] = got) -> None:
                start.wait()
                tags = device.tags  # the first read of the field, in 16 threads at once
                tags.append(number)
                got.append(tags)

            threads = [threading.Thread(target=read, args=(n,)) for n in range(THREADS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
            assert len(got) == THREADS
            assert all(tags is device.tags for tags in got)  # one list object
            assert sorted(device.tags[1:]) == list(range(THREADS))  # no write lost
    finally:
        sys.setswitchinterval(interval)


# -- one decode: to_pandas of a time series ---------------------------------------------------


def test_a_time_series_frame_is_built_from_the_single_decode_of_its_body(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pd = pytest.importorskip("pandas")
    import requests

    import losant_fluent.models._base as base
    from losant_fluent._data import to_pandas
    from losant_fluent.models._registry import parse_response_json

    document = {**examples()["timeSeriesData"], "devices": {
        f"{n:024x}": {"name": f"d{n}", "tags": {}, "points": [
            {"time": f"2026-01-01T00:00:{s:02d}.000Z", "data": {"t": s + n, "h": "x"}}
            for s in range(30)]}
        for n in range(5)}}
    content = json.dumps(document).encode()

    def answer() -> Any:
        response = requests.Response()
        response._content = content
        response.status_code = 200
        return parse_response_json("timeSeriesData", content, response)

    expected = to_pandas(answer())  # reference frame
    decodes: list[bytes] = []
    real = base.loads
    monkeypatch.setattr(base, "loads", lambda body: decodes.append(body) or real(body))
    frame = to_pandas(answer())
    assert decodes == []  # the body was decoded once, by the validation of the response
    pd.testing.assert_frame_equal(frame, expected)
    assert len(frame) == 5 * 30 * 2 and set(frame["attribute"]) == {"t", "h"}
    read = answer()
    assert len(read.devices) == 5  # read first: the models are built, the body decoded again
    pd.testing.assert_frame_equal(to_pandas(read), expected)
    assert decodes == [content]


# -- results from the wire compare by their data ------------------------------------------


def test_results_of_equal_json_are_equal_whatever_response_they_came_from(emulator: Any) -> None:
    """A result carries its response, raw JSON and pager; ``==`` looks at its data only,
    as it does for the model validated from the same JSON."""
    from losant_fluent import API

    api = API(url=emulator.url).login_user(emulator.user_email, emulator.user_password)
    device = api.applications(emulator.application_id).devices(emulator.device_id)
    first, second = device.get(), device.get()
    assert first.http_response() is not second.http_response()
    assert first == second and not (first != second)
    eager = type(first).model_validate(first.raw_json())
    assert first == eager and eager == first
    assert first == pickle.loads(pickle.dumps(first)) == copy.copy(first)
    pages = [api.applications(emulator.application_id).devices().get(perPage=1)
             for _ in range(2)]
    assert pages[0] == pages[1] == Devices.model_validate(pages[0].raw_json())
    second.name = f"{first.name}-renamed"  # and different data is still different
    assert first != second and not (first == second)
    assert first != type(first).model_validate({**first.raw_json(), "extraKey": 1})
