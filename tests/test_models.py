"""Tests of the generated models and of lenient/strict parsing in losant_fluent.models."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from losant_fluent._exceptions import BodyValidationError
from losant_fluent.models import Device, Devices, LosantModel
from losant_fluent.models._generated import SCHEMAS
from losant_fluent.models._registry import model_for, parse_response, validate_body

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "reference"
SCHEMA_DIR = REFERENCE / "schemas"
GENERATED = REPO / "losant_fluent" / "models" / "_generated"


@cache
def examples() -> dict[str, Any]:
    """The example document of each schema, keyed by schema name."""
    path = REFERENCE / "examples.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _pascal(stem: str) -> str:
    return stem[:1].upper() + stem[1:]


# ------------------------------------------------------------------------ examples


@pytest.mark.parametrize("name", sorted(examples()))
def test_example_round_trips(name: str) -> None:
    """Each example validates strictly and dumps back to the same JSON.

    No tolerance is needed: ``number`` fields write whole values as ``5`` and
    ``date-time`` fields write Losant's ``2016-06-13T04:00:00.000Z`` form, so the dump
    equals the example exactly (``exclude_unset`` leaves out fields it does not have).
    """
    document = examples()[name]
    model = model_for(name).model_validate(document)
    dumped = model.model_dump(mode="json", by_alias=True, exclude_unset=True)
    assert json.dumps(dumped, sort_keys=True) == json.dumps(document, sort_keys=True)


def test_every_schema_has_a_model() -> None:
    stems = sorted(path.stem for path in SCHEMA_DIR.glob("*.json"))
    assert sorted(SCHEMAS) == stems
    assert len(examples()) == 323


# -------------------------------------------------------------------------- naming


def test_public_names_follow_file_names() -> None:
    import losant_fluent.models as models

    for stem, (_module, class_name) in SCHEMAS.items():
        assert class_name == _pascal(stem)
        assert class_name in models.__all__
    assert models.TimeSeriesQuery.__name__ == "TimeSeriesQuery"
    assert models.LastValueData.__name__ == "LastValueData"
    assert Device.__name__ == "Device" and Devices.__name__ == "Devices"
    assert "Device" in dir(models)


def test_nested_names_are_readable() -> None:
    from losant_fluent.models._generated import device

    assert device.DeviceAttribute.__name__ == "DeviceAttribute"
    assert device.DeviceTag.__name__ == "DeviceTag"
    # classes, and the names a module keeps for a shape generated once elsewhere
    names = re.findall(r"^class (\w+)\(", _all_generated_source(), flags=re.M)
    names += re.findall(r"^(\w+) = ", _all_generated_source(), flags=re.M)
    assert len(names) > 3000
    assert not [n for n in names if re.fullmatch(r"(Type|Model|Field)\d+", n)]
    assert not [n for n in names if re.search(r"\d$", n)]


@cache
def _all_generated_source() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(GENERATED.glob("*.py")))


def test_fields_are_snake_case_with_api_aliases() -> None:
    device = Device.model_validate({"deviceClass": "gateway", "id": "a" * 24})
    assert device.device_class == "gateway"
    assert device.id == "a" * 24  # builtin names stay plain
    by_name = Device(device_class="gateway", id="a" * 24)
    assert by_name.model_dump(by_alias=True, exclude_unset=True) == {
        "deviceClass": "gateway",
        "id": "a" * 24,
    }
    assert issubclass(Device, LosantModel)


def test_each_shape_is_generated_once() -> None:
    """No two generated classes have the same fields (a shape several schemas paste is one
    class, imported where used), and the generated code is at most half its old size."""
    sys.path.insert(0, str(REPO / "scripts"))
    import ast

    from share_shapes import _Fingerprints

    trees = {p.stem: ast.parse(p.read_text(encoding="utf-8"))
             for p in sorted(GENERATED.glob("*.py")) if p.stem != "__init__"}
    classes = {(module, node.name): node for module, tree in trees.items()
               for node in tree.body if isinstance(node, ast.ClassDef)}
    roots = {(module, cls) for module, cls in SCHEMAS.values()}
    fingerprint = _Fingerprints(classes, set(trees))
    seen: dict[str, tuple[str, str]] = {}
    twins = []
    for key in classes:
        found = fingerprint(key)
        if found is None or key in roots:
            continue
        if found in seen:
            twins.append((seen[found], key))
        seen.setdefault(found, key)
    assert not twins, twins[:5]
    from losant_fluent.models._generated.device import DeviceTag
    from losant_fluent.models._generated.device_post import DevicePostTag

    assert DevicePostTag is DeviceTag  # the device's tag shape, pasted in devicePost
    lines = _all_generated_source().count("\n")
    assert lines <= 80_269 // 2, lines


def test_generated_code_holds_no_schema_prose() -> None:
    """The generator reads prose-free schemas (tests/test_reference.py) and adds none."""
    source = _all_generated_source()
    assert not re.search(r"\b(description|title|examples)=", source)


# ---------------------------------------------------------------- lenient responses


def _device(**extra: Any) -> dict[str, Any]:
    return {"id": "575ecf887ae143cd83dc4aa2", "name": "My Device", **extra}


def test_response_keeps_unknown_fields() -> None:
    model = parse_response("device", _device(brandNew={"x": 1}), None)
    assert isinstance(model, Device)
    assert model.model_extra == {"brandNew": {"x": 1}}
    assert model.model_dump(by_alias=True, exclude_unset=True)["brandNew"] == {"x": 1}


def test_response_accepts_unlisted_enum_and_bad_pattern() -> None:
    data = _device(deviceClass="quantum", applicationId="not-an-id")
    model = parse_response("device", data, None)
    assert isinstance(model, Device)
    device_class: object = model.device_class  # a value the schema's Literal lacks
    assert device_class == "quantum"
    assert model.application_id == "not-an-id"
    assert model.name == "My Device"
    assert model.raw_json() is data


def test_bad_list_item_does_not_spoil_the_others() -> None:
    good = _device(attributes=[{"name": "temp", "dataType": "number"}])
    odd = _device(attributes=[{"name": "v", "dataType": "vector", "unit": "V"}, 7])
    page = {"items": [good, odd], "count": 2, "totalCount": 2, "page": 0, "perPage": 100}
    model = parse_response("devices", page, None)
    assert isinstance(model, Devices)
    assert model.items is not None
    first, second = model.items
    assert type(first) is Device  # collection items share the single-item model
    assert first.attributes is not None
    assert first.attributes[0].data_type == "number"
    assert second.attributes is not None
    data_type: object = second.attributes[0].data_type
    assert data_type == "vector"
    assert second.attributes[0].model_extra == {"unit": "V"}
    kept_raw: object = second.attributes[1]  # not an object at all: kept as plain JSON
    assert kept_raw == 7
    assert model.count == 2


@pytest.mark.parametrize(
    "data", [None, [], [1, "a"], "text", 3.5, True, {"items": "nope"}, {"count": {}}]
)
@pytest.mark.parametrize("schema", ["devices", "device", "deviceStates", "lastValueData", None])
def test_garbage_never_raises(schema: str | None, data: Any) -> None:
    model = parse_response(schema, data, None)
    assert isinstance(model, LosantModel)
    assert model.raw_json() is data
    assert model.http_response() is None


def test_response_is_attached() -> None:
    import requests

    response = requests.Response()
    response.status_code = 200
    model = parse_response("device", _device(), response)
    assert model.http_response() is response
    assert Device().http_response() is None and Device().raw_json() is None


def test_untyped_endpoint_gives_generic_model() -> None:
    model = parse_response(None, {"anything": [1, 2]}, None)
    assert type(model).__name__ == "GenericModel"
    assert model.model_extra == {"anything": [1, 2]}
    listed = parse_response("noSuchSchema", [1, 2], None)
    assert type(listed).__name__ == "GenericRootModel"


# ------------------------------------------------------------------- strict bodies


def test_valid_dict_body_is_returned_unchanged() -> None:
    body = {"name": "x", "attributes": [{"name": "t", "dataType": "number"}]}
    assert validate_body("devicePost", body) is body


@cache
def _body_schemas() -> list[str]:
    """Every schema used as a request body by some endpoint of the catalog."""
    catalog = json.loads((REPO / "losant_fluent" / "_catalog.json").read_text(encoding="utf-8"))
    names = {
        param["schema"]
        for endpoint in catalog["endpoints"]
        for param in endpoint["params"]
        if param["in"] == "body" and isinstance(param.get("schema"), str)
    }
    return sorted(names)


@pytest.mark.parametrize("name", [n for n in _body_schemas() if n in examples()])
def test_every_body_example_validates_unchanged(name: str) -> None:
    body = examples()[name]
    snapshot = json.dumps(body, sort_keys=True)
    assert validate_body(name, body) is body
    assert json.dumps(body, sort_keys=True) == snapshot


def test_pattern_keys_of_a_closed_body_are_accepted() -> None:
    body = {"$or": [{"level": {"$ne": "myValue"}}, {"level": 5}]}
    assert validate_body("advancedQuery", body) is body
    with pytest.raises(BodyValidationError, match=r'body\.\$or\[0\]\["bad key!"\]: unknown key'):
        validate_body("advancedQuery", {"$or": [{"bad key!": 1}]})


def test_model_body_is_dumped_by_alias() -> None:
    post = model_for("devicePost").model_validate({"name": "x", "deviceClass": "gateway"})
    assert validate_body("devicePost", post) == {"name": "x", "deviceClass": "gateway"}


def test_bad_enum_is_named_by_api_path() -> None:
    body = {"name": "x", "attributes": [{"name": "t", "dataType": "numbr"}]}
    with pytest.raises(BodyValidationError) as caught:
        validate_body("devicePost", body)
    assert "body.attributes[0].dataType: must be one of 'string', 'number'" in str(caught.value)
    assert caught.value.errors[0][0] == "attributes[0].dataType"


def test_missing_required_is_rejected() -> None:
    with pytest.raises(BodyValidationError, match=r"body\.name: Field required"):
        validate_body("devicePost", {"description": "no name"})


def test_unknown_key_is_rejected_where_schema_is_closed() -> None:
    body = {"name": "x", "tags": [{"key": "k", "value": "v", "colour": "red"}], "bogus": 1}
    with pytest.raises(BodyValidationError) as caught:
        validate_body("devicePost", body)
    message = str(caught.value)
    assert "body.tags[0].colour: unknown key; this object takes: key, value" in message
    assert "body.bogus: unknown key" in message


def test_python_names_are_refused_in_dict_bodies() -> None:
    with pytest.raises(BodyValidationError, match="deviceClass"):
        validate_body("devicePost", {"name": "x", "device_class": "gateway"})


def test_pattern_and_length_are_enforced() -> None:
    with pytest.raises(BodyValidationError, match=r"body\.tags\[0\]\.key"):
        validate_body("devicePost", {"name": "x", "tags": [{"key": "bad key!", "value": "v"}]})
    with pytest.raises(BodyValidationError, match=r"body\.name"):
        validate_body("devicePost", {"name": ""})


# --------------------------------------------------------------------- lazy import


def test_import_is_lazy() -> None:
    code = (
        "import sys, losant_fluent.models as m\n"
        "assert 'losant_fluent.models._generated.device' not in sys.modules\n"
        "assert 'pydantic' not in sys.modules, 'pydantic imported eagerly'\n"
        "from losant_fluent.models import Device\n"
        "assert 'losant_fluent.models._generated.device' in sys.modules\n"
        "assert 'losant_fluent.models._generated.dashboard' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
