#!/usr/bin/env python3
"""Refresh ``reference/`` (the project's own copy of the Losant API facts) from upstream.

    python scripts/refresh_reference.py [UPSTREAM_DIR]

``UPSTREAM_DIR`` is a folder laid out like the ``lib/api`` data of Losant's MIT-licensed
JavaScript client: ``apiInfo.json``, ``apiInfo-1.31-supplement.json`` (optional),
``globalParams.json``, ``schemas/*.json``, ``apiExamples.json`` and ``LICENSE``. It defaults
to ``../shared/reference/losant-api`` beside the checkout.

Only facts are kept: paths, methods, parameters, scopes, status codes, schema names, flags,
the JSON Schemas without their prose keywords (``description``, ``title``, ``summary``,
``$comment``, ``examples``, ``example``) and the example documents. Every file is written
deterministically (sorted keys, ``indent=1``, trailing newline), so refreshing twice from
the same upstream gives no diff. Files of ``reference/schemas/`` that upstream no longer
has are removed. Afterwards: ``python scripts/generate.py`` and review the diff.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_UPSTREAM = ROOT.parent / "shared" / "reference" / "losant-api"
DEFAULT_TARGET = ROOT / "reference"

# Prose keywords of a JSON Schema: dropped wherever a schema (not data) stands.
PROSE_KEYWORDS = frozenset({"description", "title", "summary", "$comment", "examples", "example"})
# Keywords whose value is one schema, a list of schemas, or a map of name -> schema.
_SCHEMA_KEYWORDS = frozenset(
    {"items", "additionalItems", "additionalProperties", "not", "contains", "propertyNames",
     "if", "then", "else"}
)  # fmt: skip
_LIST_KEYWORDS = frozenset({"allOf", "anyOf", "oneOf"})
_MAP_KEYWORDS = frozenset({"properties", "patternProperties", "definitions", "dependencies"})

# Facts kept for each parameter (in this order of importance; files are key-sorted).
PARAM_FACTS = (
    "name", "in", "type", "required", "default", "enum", "pattern", "minLength", "maxLength",
    "deprecated",
)  # fmt: skip
ACTION_FLAGS = ("sseStream", "denyOauthTokens", "allowUnverified")


def dump(document: Any) -> str:
    """The one serialisation every file of ``reference/`` uses."""
    return json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


# ------------------------------------------------------------------------- schemas


def strip_schema(node: Any) -> Any:
    """Return a copy of a JSON Schema without prose keywords.

    Only positions where a schema stands are cleaned; values of data keywords (``enum``,
    ``default``, ``const``...) are kept as they are, and the keys of ``properties`` maps are
    property names, so a property called ``description`` stays.
    """
    if isinstance(node, list):  # a malformed nested list inside anyOf/oneOf
        return [strip_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in PROSE_KEYWORDS:
            continue
        if key in _SCHEMA_KEYWORDS or key in _LIST_KEYWORDS:
            out[key] = strip_schema(value)
        elif key in _MAP_KEYWORDS and isinstance(value, dict):
            out[key] = _strip_map(value)
        else:
            out[key] = value
    return out


def _strip_map(mapping: dict[str, Any]) -> dict[str, Any]:
    if not all(isinstance(value, (dict, bool)) for value in mapping.values()):
        # A whole schema pasted where the property map belongs (orgInvites items): it is a
        # schema, so clean it as one.
        pasted: dict[str, Any] = strip_schema(mapping)
        return pasted
    return {name: strip_schema(value) for name, value in mapping.items()}


# ----------------------------------------------------------------------- endpoints


def _schema_name(node: Any) -> str | None:
    """``{"$ref": "#/definitions/device"}`` -> ``"device"``."""
    if isinstance(node, dict) and isinstance(node.get("$ref"), str):
        return str(node["$ref"]).rsplit("/", 1)[-1]
    if node:
        raise ValueError(f"expected a schema reference, got {node!r}")
    return None


def _param(raw: dict[str, Any]) -> dict[str, Any]:
    out = {key: raw[key] for key in PARAM_FACTS if key in raw}
    schema = _schema_name(raw.get("schema"))
    if schema:
        out["schema"] = schema
    return out


def _response(raw: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    schema = _schema_name(raw.get("schema"))
    if schema:
        out["schema"] = schema
    if "sseEvents" in raw:
        out["sseEvents"] = {
            event: {"schema": _schema_name(info.get("schema"))}
            for event, info in raw["sseEvents"].items()
        }
    return out


def _action(raw: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "method": raw["method"],
        "path": raw.get("path", ""),
        "params": [_param(p) for p in raw.get("params", [])],
        "scopes": list(raw.get("auth", [])),
        "responses": {status: _response(info) for status, info in raw["responses"].items()},
    }
    for flag in ACTION_FLAGS:
        if raw.get(flag):
            out[flag] = True
    return out


def _resource(raw: dict[str, Any], supplement: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "path": raw["path"],
        "params": [_param(p) for p in raw.get("params", [])],
        "scopes": list(raw.get("auth", [])),
        "actions": {name: _action(action) for name, action in raw["actions"].items()},
    }
    if raw.get("links"):
        out["links"] = {name: link["href"] for name, link in raw["links"].items()}
    if supplement:
        out["supplement"] = supplement
    return out


def build_endpoints(upstream: Path) -> dict[str, Any]:
    """The ``endpoints.json`` document: every resource with its actions, facts only."""
    resources = {
        name: _resource(raw, None)
        for name, raw in json.loads((upstream / "apiInfo.json").read_text("utf-8")).items()
    }
    supplement = upstream / "apiInfo-1.31-supplement.json"
    if supplement.is_file():
        for name, raw in json.loads(supplement.read_text("utf-8")).items():
            resources[name] = _resource(raw, "1.31")
    return {"resources": resources}


# --------------------------------------------------------------------------- main


def _write(path: Path, text: str) -> None:
    """Write only when the content changes (keeps timestamps of unchanged files)."""
    if not path.is_file() or path.read_text("utf-8") != text:
        path.write_text(text, encoding="utf-8")


def refresh(upstream: Path, target: Path) -> None:
    """Rewrite ``target`` (the ``reference/`` folder) from ``upstream``."""
    if not (upstream / "apiInfo.json").is_file():
        raise SystemExit(f"{upstream} holds no apiInfo.json: not a Losant API folder")
    target.mkdir(parents=True, exist_ok=True)
    _write(target / "endpoints.json", dump(build_endpoints(upstream)))
    global_params = json.loads((upstream / "globalParams.json").read_text("utf-8"))
    _write(target / "global-params.json", dump([_param(p) for p in global_params]))
    examples = json.loads((upstream / "apiExamples.json").read_text("utf-8"))
    _write(target / "examples.json", dump(examples))
    license_text = (upstream / "LICENSE").read_text("utf-8")
    _write(target / "LICENSE-losant", license_text.rstrip("\n") + "\n")

    schemas = target / "schemas"
    schemas.mkdir(exist_ok=True)
    names = set()
    for path in sorted((upstream / "schemas").glob("*.json")):
        names.add(path.name)
        schema = strip_schema(json.loads(path.read_text("utf-8")))
        _write(schemas / path.name, dump(schema))
    for path in schemas.glob("*.json"):
        if path.name not in names:
            path.unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("upstream", nargs="?", type=Path, default=DEFAULT_UPSTREAM)
    parser.add_argument("--target", type=Path, default=DEFAULT_TARGET, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    refresh(args.upstream, args.target)
    print(f"refreshed {args.target} from {args.upstream}")
    print("next: python scripts/generate.py, then review the diff")
    return 0


if __name__ == "__main__":
    sys.exit(main())
