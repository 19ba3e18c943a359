"""Build losant-fluent's own endpoint catalog from the project's copy of the API facts.

Reads ``reference/endpoints.json`` and ``reference/global-params.json`` (written by
``scripts/refresh_reference.py``) and keeps what the client needs: names, paths, methods,
parameter names/locations/types/required/defaults/enums/patterns, scopes, schema names,
status codes and the pagination style each endpoint uses.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

API_VERSION = "1.31.0"

_PARAM_FACTS = ("type", "required", "default", "enum", "pattern", "minLength", "deprecated")


# Schema names published in ``schemas/``; set by ``build_catalog``. A reference to a schema
# that is not published (the 1.31 ``userOauthClient*`` ones) is recorded as untyped (None).
_KNOWN_SCHEMAS: set[str] = set()


def _schema_name(name: str | None) -> str | None:
    return name if name in _KNOWN_SCHEMAS else None


def _param(raw: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": raw["name"], "in": raw["in"]}
    for key in _PARAM_FACTS:
        if key in raw:
            out[key] = raw[key]
    out["required"] = bool(raw.get("required", False))
    schema = _schema_name(raw.get("schema"))
    if schema:
        out["schema"] = schema
    return out


def _pagination(query_names: set[str]) -> str | None:
    if {"page", "perPage"} <= query_names:
        return "page"
    if {"limit", "offset"} <= query_names:
        return "offset"
    if {"limit", "startingAfterId"} <= query_names:
        return "cursor"
    return None


def build_catalog(reference_dir: Path) -> dict[str, Any]:
    """Return the catalog document for the API facts found in ``reference_dir``."""
    _KNOWN_SCHEMAS.clear()
    _KNOWN_SCHEMAS.update(p.stem for p in (reference_dir / "schemas").glob("*.json"))
    facts = json.loads((reference_dir / "endpoints.json").read_text(encoding="utf-8"))
    resources: dict[str, Any] = facts["resources"]
    global_params = [
        _param(p)
        for p in json.loads((reference_dir / "global-params.json").read_text(encoding="utf-8"))
    ]

    endpoints: list[dict[str, Any]] = []
    for resource_name in sorted(resources):
        resource = resources[resource_name]
        path_params = [_param(p) for p in resource.get("params", []) if p["in"] == "path"]
        for action_name in sorted(resource["actions"]):
            action = resource["actions"][action_name]
            params = path_params + [_param(p) for p in action.get("params", [])]
            query_names = {p["name"] for p in params if p["in"] == "query"}
            responses = {
                status: _schema_name(info.get("schema"))
                for status, info in sorted(action["responses"].items())
            }
            endpoint: dict[str, Any] = {
                "id": f"{resource_name}.{action_name}",
                "resource": resource_name,
                "action": action_name,
                "method": action["method"],
                "path": resource["path"] + action.get("path", ""),
                "params": params,
                "scopes": list(action.get("scopes", [])),
                "resource_scopes": list(resource.get("scopes", [])),
                "responses": responses,
                "pagination": _pagination(query_names),
                "sse": bool(action.get("sseStream", False)),
                "supplement": "supplement" in resource,
            }
            for flag in ("denyOauthTokens", "allowUnverified"):
                if action.get(flag):
                    endpoint[flag] = True
            endpoints.append(endpoint)
    endpoints.sort(key=lambda e: (e["path"], e["method"]))
    return {
        "api_version": API_VERSION,
        "global_params": global_params,
        "resources": {name: resources[name]["path"] for name in sorted(resources)},
        "endpoints": endpoints,
    }


def render_catalog(catalog: dict[str, Any]) -> str:
    """Serialise the catalog deterministically, one endpoint per block for readable diffs."""
    return json.dumps(catalog, indent=1, sort_keys=True, ensure_ascii=True) + "\n"
