"""Complete answers: what a handler built from real state, filled out to the documented
document with the fields the reference example shows and the state does not hold.

Losant fills in defaults, owner fields and dates on every document; the emulator's
generic handlers only keep what was posted. For each missing field of the example:
a path id takes the request's value, ``creationDate``/``lastUpdated`` the document's
date (or now), owner and creator ids the caller's id, a list is empty, a count (or any
number inside an object but ``limits``) zero, an object is filled the same way, any
other value (defaults such as ``refreshRate`` or ``public``) is the example's. Other
ids, other dates and secrets (``token``, ``password``...) are never invented. A page of
items is completed item by item, and gets the page fields (``totalCount``, ``perPage``,
sort).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from ._context import Ctx
from ._ids import now_iso
from ._schema import example, reference

_SECRETS = frozenset(
    {"token", "password", "secret", "secretAccessKey", "accessToken", "apiKey", "privateKey"}
)
_CALLER_IDS = frozenset({"creatorId", "lastUpdatedById", "userId", "actorId"})
_STAMPS = frozenset({"creationDate", "lastUpdated"})
_SKIP = object()
_HEX_ID = re.compile(r"^[A-Fa-f\d]{24}$")


def resolved_example(name: str | None) -> Any:
    """A schema's example with its ``{"$ref": "#/examples/NAME"}`` parts filled in."""
    return _resolve(copy.deepcopy(example(name)), 0)


def _resolve(node: Any, depth: int) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/examples/") and len(node) == 1:
            if depth > 8:
                return {}
            target = example(ref.rsplit("/", 1)[-1])
            return _resolve(copy.deepcopy(target), depth + 1) if target is not None else {}
        return {k: _resolve(v, depth) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v, depth) for v in node]
    return node


def complete_page(ctx: Ctx, status: int, payload: Any) -> Any:
    """A dedicated handler's page with the documented page fields and path ids it lacks."""
    shown = resolved_example(ctx.endpoint.responses.get(str(status)))
    if not isinstance(payload, dict) or not isinstance(shown, dict):
        return payload
    if isinstance(payload.get("items"), list) and isinstance(shown.get("items"), list):
        _page_fields(ctx, payload, shown)
        for key in shown:
            if key in ctx.args and key not in payload:
                payload[key] = ctx.args[key]
    return payload


def complete(ctx: Ctx, status: int, payload: Any) -> Any:
    """``payload`` with the documented fields it lacks (see the module docstring)."""
    name = ctx.endpoint.responses.get(str(status))
    shown = resolved_example(name)
    if not isinstance(payload, dict) or not isinstance(shown, dict) or _is_map(name):
        return payload
    return _fill(ctx, payload, shown)


def _is_map(name: str | None) -> bool:
    """Whether the answer is keyed by data (device ids, attribute names) rather than by
    documented fields: such keys come only from state (an empty map stays empty)."""
    return name in reference()["maps"]


def _fill(
    ctx: Ctx, payload: dict[str, Any], shown: dict[str, Any], nested: bool = False
) -> dict[str, Any]:
    if isinstance(shown.get("items"), list) and "items" not in payload:
        payload["items"] = []
    items = payload.get("items")
    if isinstance(items, list) and isinstance(shown.get("items"), list):
        model = shown["items"][0] if shown["items"] else None
        if isinstance(model, dict):
            payload["items"] = [
                _fill(ctx, item, model) if isinstance(item, dict) else item for item in items
            ]
        _page_fields(ctx, payload, shown)
    if "ownerType" in shown and "ownerId" in shown and "ownerId" not in payload:
        owner = _owner(ctx, shown)
        if owner is not None:
            payload.setdefault("ownerType", owner[0])
            payload["ownerId"] = owner[1]
    for key, value in shown.items():
        if key in payload:
            continue
        filled = _value(ctx, key, value, payload, nested)
        if filled is not _SKIP:
            payload[key] = filled
    return payload


def _page_fields(ctx: Ctx, payload: dict[str, Any], shown: dict[str, Any]) -> None:
    count = len(payload["items"])
    defaults: dict[str, Any] = {
        "count": count,
        "totalCount": count,
        "page": 0,
        "perPage": ctx.default_of("perPage", 100),
        "sortField": ctx.query.get("sortField") or ctx.default_of("sortField", None),
        "sortDirection": ctx.query.get("sortDirection") or ctx.default_of("sortDirection", None),
    }
    for key, value in defaults.items():
        if key in shown and key not in payload and value is not None:
            payload[key] = int(value) if key == "perPage" else value


def _owner(ctx: Ctx, shown: dict[str, Any]) -> tuple[str, str] | None:
    """Who owns a created document: the instance, application or org of its path when the
    example's owner is of that kind, else the calling user."""
    kind = shown.get("ownerType")
    for owner_type, param in (
        ("instance", "instanceId"),
        ("application", "applicationId"),
        ("organization", "orgId"),
    ):
        if kind == owner_type and param in ctx.args:
            return owner_type, ctx.args[param]
    principal = ctx.principal
    if principal is not None and principal.kind == "user":
        return "user", principal.subject_id
    return None


def _value(ctx: Ctx, key: str, value: Any, payload: dict[str, Any], nested: bool) -> Any:
    if key in ctx.args:
        return ctx.args[key]
    if key in _SECRETS or key == "id" or _HEX_ID.match(key):
        return _SKIP  # an example keyed by ids (a device's values): data, not a field
    if key in _STAMPS:
        return payload.get("creationDate") or now_iso()
    if key in _CALLER_IDS:
        principal = ctx.principal
        if principal is not None and principal.kind == "user":
            return principal.subject_id
        return _SKIP
    if key.endswith(("Id", "Ids", "Date", "At", "Start", "End", "Time")) or key in (
        "time",
        "start",
        "end",
    ):
        return _SKIP
    if key.startswith("organization") or (isinstance(value, str) and " " in value):
        return _SKIP  # the example's org, or prose: nothing the emulator knows
    if key == "ownerType":
        return _SKIP  # set with ownerId, or unknown
    if isinstance(value, list):
        return []
    if isinstance(value, dict):
        return _fill(ctx, {}, value, nested=key != "limits")
    counted = nested or "count" in key.lower()
    if counted and isinstance(value, (int, float)) and not isinstance(value, bool):
        return 0  # nothing counted yet, whatever the example counted
    return copy.deepcopy(value)
