"""The API reference copy in ``reference/``: fact-only, complete, and reproducibly refreshed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "reference"
REFRESH = ROOT / "scripts" / "refresh_reference.py"

PROSE = {"description", "title", "summary", "$comment", "examples", "example"}
_ONE = {"items", "additionalItems", "additionalProperties", "not", "contains", "propertyNames"}
_MANY = {"allOf", "anyOf", "oneOf"}
_MAPS = {"properties", "patternProperties", "definitions", "dependencies"}


def prose_keywords(schema: Any, where: str = "") -> list[str]:
    """Where a prose keyword stands as a JSON-Schema keyword (not as a property name)."""
    found: list[str] = []
    if isinstance(schema, list):
        for i, item in enumerate(schema):
            found += prose_keywords(item, f"{where}/{i}")
        return found
    if not isinstance(schema, dict):
        return found
    for key, value in schema.items():
        here = f"{where}/{key}"
        if key in PROSE:
            found.append(here)
        elif key in _ONE or key in _MANY:
            found += prose_keywords(value, here)
        elif key in _MAPS and isinstance(value, dict):
            if all(isinstance(v, (dict, bool)) for v in value.values()):
                for name, sub in value.items():
                    found += prose_keywords(sub, f"{here}/{name}")
            else:  # a schema pasted where a property map belongs
                found += prose_keywords(value, here)
    return found


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _canonical(document: Any) -> str:
    return json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


# ------------------------------------------------------------------ the committed copy


def test_schemas_hold_no_prose_keywords() -> None:
    schemas = sorted((REFERENCE / "schemas").glob("*.json"))
    assert len(schemas) == 335
    offenders = {p.stem: prose_keywords(_load(p)) for p in schemas}
    assert not {name: where for name, where in offenders.items() if where}


def test_property_names_like_keywords_are_kept() -> None:
    device = _load(REFERENCE / "schemas" / "device.json")
    assert device["properties"]["description"]["type"] == "string"
    assert "title" in _load(REFERENCE / "schemas" / "instanceSandbox.json")["properties"]


def test_endpoints_hold_facts_only() -> None:
    text = (REFERENCE / "endpoints.json").read_text(encoding="utf-8")
    for word in ('"description"', '"summary"', '"example"', '"$ref"'):
        assert word not in text
    resources = json.loads(text)["resources"]
    assert len(resources) == 101
    assert sum(len(r["actions"]) for r in resources.values()) == 380
    supplement = sorted(name for name, r in resources.items() if r.get("supplement") == "1.31")
    assert supplement == ["userOauthClient", "userOauthClients"]
    stream = resources["device"]["actions"]["stateStream"]
    assert stream["sseStream"] is True
    assert stream["responses"]["200"]["sseEvents"] == {"deviceState": {"schema": "deviceState"}}
    assert resources["device"]["actions"]["get"]["responses"]["200"] == {"schema": "device"}


def test_every_file_is_in_canonical_form() -> None:
    files = [REFERENCE / n for n in ("endpoints.json", "global-params.json", "examples.json")]
    files += sorted((REFERENCE / "schemas").glob("*.json"))
    assert not [p.name for p in files if p.read_text(encoding="utf-8") != _canonical(_load(p))]
    assert "MIT" in (REFERENCE / "LICENSE-losant").read_text(encoding="utf-8")


# ----------------------------------------------------------------------- the refresh


def _fake_upstream(folder: Path) -> Path:
    """A tiny folder in the layout of Losant's JavaScript client data."""
    ref = {"$ref": "#/definitions/widget"}
    api_info = {
        "widget": {
            "path": "/widgets/{widgetId}",
            "auth": ["all.User"],
            "params": [{"name": "widgetId", "in": "path", "description": "ID", "example": "1"}],
            "links": {"widgets": {"href": "/widgets"}},
            "actions": {
                "get": {
                    "method": "GET",
                    "summary": "Returns a widget",
                    "auth": ["widget.get"],
                    "params": [
                        {
                            "name": "mode",
                            "in": "query",
                            "type": "string",
                            "enum": ["a", "b"],
                            "default": "a",
                            "description": "How",
                            "example": "b",
                        }
                    ],
                    "responses": {"200": {"description": "The widget", "schema": ref}},
                }
            },
        }
    }
    supplement = {
        "gadgets": {
            "path": "/gadgets",
            "actions": {
                "post": {
                    "method": "POST",
                    "params": [
                        {
                            "name": "gadget",
                            "in": "body",
                            "schema": {"$ref": "#/definitions/gadgetPost"},
                        }
                    ],
                    "responses": {"201": {"schema": {"$ref": "#/definitions/gadget"}}},
                }
            },
        }
    }
    widget = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Widget",
        "description": "Schema for a single widget",
        "type": "object",
        "properties": {
            "title": {"type": "string", "description": "The widget's title"},
            "description": {"type": "string", "maxLength": 32767},
            "parts": {
                "type": "array",
                "items": {"title": "Part", "type": "object", "properties": {}},
            },
            "kind": {"oneOf": [{"type": "string", "$comment": "x"}, [{"type": "null"}]]},
        },
        "default": {"description": "data, not prose"},
    }
    folder.mkdir()
    (folder / "schemas").mkdir()
    (folder / "apiInfo.json").write_text(json.dumps(api_info))
    (folder / "apiInfo-1.31-supplement.json").write_text(json.dumps(supplement))
    (folder / "globalParams.json").write_text(json.dumps([{"name": "_links", "in": "query"}]))
    (folder / "apiExamples.json").write_text(json.dumps({"widget": {"title": "W", "z": 1}}))
    (folder / "LICENSE").write_text("The MIT License (MIT)\n\nCopyright (c) Losant\n")
    (folder / "schemas" / "widget.json").write_text(json.dumps(widget, indent=2))
    return folder


def _refresh(upstream: Path, target: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(REFRESH), str(upstream), "--target", str(target)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): p.read_text(encoding="utf-8")
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_refresh_writes_facts_in_our_form_and_is_reproducible(tmp_path: Path) -> None:
    upstream = _fake_upstream(tmp_path / "upstream")
    target = tmp_path / "reference"
    target.mkdir()
    (target / "README.md").write_text("ours\n")
    (target / "schemas").mkdir()
    (target / "schemas" / "gone.json").write_text("{}\n")  # no longer upstream
    _refresh(upstream, target)

    first = _snapshot(target)
    assert sorted(first) == [
        "LICENSE-losant",
        "README.md",
        "endpoints.json",
        "examples.json",
        "global-params.json",
        "schemas/widget.json",
    ]
    assert first["README.md"] == "ours\n"
    for name, text in first.items():
        if name.endswith(".json"):
            assert text == _canonical(json.loads(text)), name

    resources = json.loads(first["endpoints.json"])["resources"]
    assert resources["widget"] == {
        "path": "/widgets/{widgetId}",
        "params": [{"name": "widgetId", "in": "path"}],
        "scopes": ["all.User"],
        "links": {"widgets": "/widgets"},
        "actions": {
            "get": {
                "method": "GET",
                "path": "",
                "params": [
                    {
                        "name": "mode",
                        "in": "query",
                        "type": "string",
                        "default": "a",
                        "enum": ["a", "b"],
                    }
                ],  # fmt: skip
                "scopes": ["widget.get"],
                "responses": {"200": {"schema": "widget"}},
            }
        },
    }
    gadgets = resources["gadgets"]
    assert gadgets["supplement"] == "1.31"
    assert gadgets["actions"]["post"]["params"][0]["schema"] == "gadgetPost"

    schema = json.loads(first["schemas/widget.json"])
    assert schema == {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "description": {"type": "string", "maxLength": 32767},
            "parts": {"type": "array", "items": {"type": "object", "properties": {}}},
            "kind": {"oneOf": [{"type": "string"}, [{"type": "null"}]]},
        },
        "default": {"description": "data, not prose"},
    }
    assert prose_keywords(schema) == []
    assert json.loads(first["examples.json"]) == {"widget": {"title": "W", "z": 1}}
    assert first["LICENSE-losant"].startswith("The MIT License")

    _refresh(upstream, target)
    assert _snapshot(target) == first
