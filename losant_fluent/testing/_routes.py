"""What the catalog says about each endpoint's place in the URL tree, and the URL map.

A *collection* is a path that has an item path below it (``/applications/{applicationId}/
flows`` has ``.../flows/{flowId}``). Each endpoint gets a *kind*: ``list`` or ``create`` on
a collection, ``get``/``patch``/``delete`` on an item, or ``action`` for everything else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from werkzeug.routing import Map, Rule

from .._catalog import Endpoint, endpoints

_PARAM = re.compile(r"\{([^}]+)\}")

# Item paths whose collection lives under another name (instance audit logs hang below
# ``/instance/{instanceId}``, singular: the instance is still one of ``/instances``).
_ALIASES = {
    "/applications/{applicationId}/file": "/applications/{applicationId}/files",
    "/instance": "/instances",
}


@dataclass(frozen=True)
class RouteInfo:
    """An endpoint's kind and, when it has one, the collection and item parameter."""

    kind: str
    collection: str | None
    item_param: str | None
    parent_params: tuple[str, ...]


def path_params(template: str) -> list[str]:
    """The names of a path template's parameters, in order."""
    return _PARAM.findall(template)


def _split_item(template: str) -> tuple[str, str] | None:
    head, _, last = template.rpartition("/")
    match = _PARAM.fullmatch(last)
    if not match:
        return None
    return _ALIASES.get(head, head), match.group(1)


@cache
def collections() -> dict[str, str]:
    """Every collection path template and the name of its item parameter."""
    paths = {ep.path for ep in endpoints().values()}
    found: dict[str, str] = {}
    for path in paths:
        split = _split_item(path)
        if split and split[0] in paths:
            found[split[0]] = split[1]
    return found


@cache
def route_info(endpoint_id: str) -> RouteInfo:
    """Classify one endpoint (see the module docstring)."""
    ep = endpoints()[endpoint_id]
    known = collections()
    if ep.path in known:
        kind = {"GET": "list", "POST": "create"}.get(ep.method, "action")
        return RouteInfo(kind, ep.path, known[ep.path], tuple(path_params(ep.path)))
    split = _split_item(ep.path)
    if split and split[0] in known:
        kind = {"GET": "get", "PATCH": "patch", "DELETE": "delete"}.get(ep.method, "action")
        return RouteInfo(kind, split[0], split[1], tuple(path_params(split[0])))
    return RouteInfo("action", None, None, tuple(path_params(ep.path)))


def owner_items(template: str) -> list[tuple[str, str, str]]:
    """The items a path goes through: ``(collection, item_param, item_path)`` outermost first."""
    known = collections()
    out: list[tuple[str, str, str]] = []
    parts = template.split("/")
    for end in range(2, len(parts) + 1):
        prefix = "/".join(parts[:end])
        split = _split_item(prefix)
        if split and split[0] in known:
            out.append((split[0], split[1], prefix))
    return out


def rule_path(template: str) -> str:
    """``/a/{b}/c`` in werkzeug's notation: ``/a/<b>/c``."""
    return _PARAM.sub(lambda m: f"<{m.group(1)}>", template)


@cache
def url_map() -> Map:
    """A werkzeug ``Map`` with one rule per catalog endpoint, its id as the rule endpoint."""
    rules = [
        Rule(rule_path(ep.path), endpoint=ep.id, methods=[ep.method]) for ep in endpoints().values()
    ]
    return Map(rules, strict_slashes=False, merge_slashes=False)


def endpoint(endpoint_id: str) -> Endpoint:
    """The catalog endpoint behind a rule."""
    return endpoints()[endpoint_id]
