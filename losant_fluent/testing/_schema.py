"""Request bodies checked against the API's JSON Schemas, as Losant checks them.

A small draft-07 validator (no extra dependency) over the schemas shipped in
``_reference.json``. It stops at the first problem and names the field by its JSON
path (``device.attributes[0].dataType``). ``oneOf`` is read as ``anyOf``: several
published schemas list alternatives that overlap, and refusing a body Losant accepts
would be worse than accepting one it refuses. ``format`` is not checked (times are
checked by the handlers that read them).
"""

from __future__ import annotations

import json
import math
import re
from functools import cache
from importlib import resources
from typing import Any

_TYPES = {
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "a boolean",
    "null": "null",
}


@cache
def reference() -> dict[str, Any]:
    """The shipped schemas and examples (``{"schemas": ..., "examples": ...}``)."""
    text = resources.files(__package__).joinpath("_reference.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def schema(name: str) -> dict[str, Any] | None:
    """A body schema by name, or ``None`` when it was never published."""
    found: dict[str, Any] | None = reference()["schemas"].get(name)
    return found


def example(name: str | None) -> Any:
    """The example document of a schema (``None`` when there is none)."""
    if not name:
        return None
    return reference()["examples"].get(name)


@cache
def _pattern(text: str) -> re.Pattern[str] | None:
    try:
        return re.compile(text)
    except re.error:  # a JavaScript-only construct: not checked
        return None


def _is_type(value: Any, kind: str) -> bool:
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "null":
        return value is None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if kind == "integer":
        return isinstance(value, int) or (math.isfinite(value) and float(value).is_integer())
    return kind == "number"


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    while isinstance(ref, str):
        target = schema(ref.rsplit("/", 1)[-1])
        if target is None:
            return {}
        node = target
        ref = node.get("$ref")
    return node


def _alternatives(node: Any) -> list[Any]:
    """``anyOf``/``oneOf`` entries, flattening the nested lists some schemas hold."""
    flat: list[Any] = []
    for item in node if isinstance(node, list) else []:
        flat.extend(item if isinstance(item, list) else [item])
    return flat


def problem(node: Any, value: Any, where: str) -> str | None:
    """The first way ``value`` breaks schema ``node``, worded for a 400, or ``None``."""
    if not isinstance(node, dict):
        return None
    node = _resolve(node)
    kinds = node.get("type")
    if kinds is not None:
        allowed = kinds if isinstance(kinds, list) else [kinds]
        if not any(_is_type(value, k) for k in allowed):
            names = " or ".join(_TYPES.get(str(k), str(k)) for k in allowed)
            return f"{where} must be {names}"
    if "enum" in node and value not in node["enum"]:
        shown = ", ".join(json.dumps(v) for v in node["enum"][:10])
        return f"{where} must be one of {shown}"
    for key in ("anyOf", "oneOf"):
        options = _alternatives(node.get(key))
        if options:
            found = [problem(option, value, where) for option in options]
            if all(found):
                return found[0] or f"{where} is not valid"
    for option in node.get("allOf", []) if isinstance(node.get("allOf"), list) else []:
        found_all = problem(option, value, where)
        if found_all:
            return found_all
    if isinstance(value, dict):
        return _object_problem(node, value, where)
    if isinstance(value, list):
        return _array_problem(node, value, where)
    if isinstance(value, str):
        return _string_problem(node, value, where)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _number_problem(node, value, where)
    return None


def _object_problem(node: dict[str, Any], value: dict[str, Any], where: str) -> str | None:
    for name in node.get("required", []):
        if name not in value:
            return f"{where}.{name} is required"
    if "minProperties" in node and len(value) < node["minProperties"]:
        return f"{where} must have at least {node['minProperties']} properties"
    if "maxProperties" in node and len(value) > node["maxProperties"]:
        return f"{where} must have at most {node['maxProperties']} properties"
    properties = node.get("properties", {})
    patterns = node.get("patternProperties", {})
    extra = node.get("additionalProperties", True)
    for key, item in value.items():
        path = f"{where}.{key}"
        matched = False
        if key in properties:
            matched = True
            found = problem(properties[key], item, path)
            if found:
                return found
        for text, sub in patterns.items():
            compiled = _pattern(text)
            if compiled is None or compiled.search(key):
                matched = True
                found = problem(sub, item, path)
                if found:
                    return found
        if matched:
            continue
        if extra is False:
            return f"{where} does not allow the property {key}"
        if isinstance(extra, dict):
            found = problem(extra, item, path)
            if found:
                return found
    return None


def _array_problem(node: dict[str, Any], value: list[Any], where: str) -> str | None:
    if "minItems" in node and len(value) < node["minItems"]:
        return f"{where} must have at least {node['minItems']} items"
    if "maxItems" in node and len(value) > node["maxItems"]:
        return f"{where} must have at most {node['maxItems']} items"
    items = node.get("items")
    for index, item in enumerate(value):
        sub = items[index] if isinstance(items, list) and index < len(items) else items
        found = problem(sub, item, f"{where}[{index}]")
        if found:
            return found
    if node.get("uniqueItems"):
        seen = [json.dumps(item, sort_keys=True) for item in value]
        if len(set(seen)) != len(seen):
            return f"{where} must not repeat items"
    return None


def _string_problem(node: dict[str, Any], value: str, where: str) -> str | None:
    if "minLength" in node and len(value) < node["minLength"]:
        return f"{where} must be at least {node['minLength']} characters long"
    if "maxLength" in node and len(value) > node["maxLength"]:
        return f"{where} must be at most {node['maxLength']} characters long"
    text = node.get("pattern")
    if isinstance(text, str):
        compiled = _pattern(text)
        if compiled is not None and not compiled.search(value):
            return f"{where} does not match {text}"
    return None


def _number_problem(node: dict[str, Any], value: float, where: str) -> str | None:
    if "minimum" in node and value < node["minimum"]:
        return f"{where} must be at least {node['minimum']}"
    if "maximum" in node and value > node["maximum"]:
        return f"{where} must be at most {node['maximum']}"
    if "exclusiveMinimum" in node and value <= node["exclusiveMinimum"]:
        return f"{where} must be more than {node['exclusiveMinimum']}"
    if "exclusiveMaximum" in node and value >= node["exclusiveMaximum"]:
        return f"{where} must be less than {node['exclusiveMaximum']}"
    return None
