"""Devices with real state: CRUD, attributes, tags, filtering, sorting and bulk actions."""

from __future__ import annotations

import copy
import re
from typing import Any

from ._context import Ctx, Reply, handles, require
from ._errors import not_found, validation
from ._ids import now_iso, now_ms, parse_time
from ._pagination import paginate
from ._queries import (
    check_query,
    check_tags,
    glob_match,
    json_param,
    matches,
    missing,
    parse_brackets,
    sort_docs,
    tags_match,
)
from ._store import DEVICES, Doc, Store

_NAME = re.compile(r"^[0-9a-zA-Z_-]{1,255}$")
_DATA_TYPES = ("string", "number", "gps", "boolean", "blob")
_CLASSES = (
    "standalone",
    "gateway",
    "peripheral",
    "floating",
    "edgeCompute",
    "system",
    "embedded",
)
_PATCHABLE = (
    "name",
    "description",
    "tags",
    "attributes",
    "deviceClass",
    "gatewayId",
    "parentId",
    "systemInterval",
    "keepDuplicates",
)
_DATE_FIELDS = ("creationDate", "lastUpdated", "deletedAt", "connectedAt", "disconnectedAt")


def app_devices(store: Store, app_id: str) -> dict[str, Doc]:
    """The devices of one application, by id."""
    return store.collection(DEVICES, (app_id,))


def find_device(ctx: Ctx, device_id: str | None = None) -> Doc:
    """The device named in the path (or ``device_id``); 404 when absent."""
    ident = device_id or ctx.args["deviceId"]
    doc = app_devices(ctx.store, ctx.app_id).get(ident)
    if doc is None:
        raise not_found("Device")
    return doc


def device_view(ctx: Ctx, doc: Doc) -> Doc:
    """A device as sent back, honouring ``tagsAsObject``, ``attributesAsObject`` and
    ``excludeConnectionInfo``."""
    out = copy.deepcopy(doc)
    if ctx.flag("excludeConnectionInfo"):
        out.pop("connectionInfo", None)
    if ctx.flag("tagsAsObject"):
        tags: dict[str, list[str]] = {}
        for tag in out.get("tags", []):
            tags.setdefault(tag["key"], []).append(tag["value"])
        out["tags"] = tags
    if ctx.flag("attributesAsObject"):
        out["attributes"] = {a["name"]: a for a in out.get("attributes", [])}
    return out


def _check_tags(tags: Any) -> list[dict[str, str]]:
    if not isinstance(tags, list):
        raise validation("tags must be an array")
    out = []
    for tag in tags:
        if not isinstance(tag, dict) or not _NAME.match(str(tag.get("key", ""))):
            raise validation("each tag needs a key of letters, digits, _ or -")
        value = tag.get("value")
        if not isinstance(value, str) or not value:
            raise validation("each tag needs a non-empty string value")
        out.append({"key": tag["key"], "value": value})
    return out


def _check_attributes(attributes: Any) -> list[Doc]:
    if not isinstance(attributes, list):
        raise validation("attributes must be an array")
    seen: set[str] = set()
    for attr in attributes:
        if not isinstance(attr, dict) or not _NAME.match(str(attr.get("name", ""))):
            raise validation("each attribute needs a name of letters, digits, _ or -")
        if attr.get("dataType") not in _DATA_TYPES:
            raise validation(f"attribute {attr['name']}: dataType must be one of {_DATA_TYPES}")
        if attr["name"] in seen:
            raise validation(f"attribute {attr['name']} is defined twice")
        seen.add(attr["name"])
    return [dict(a) for a in attributes]


def _apply(doc: Doc, body: dict[str, Any]) -> None:
    for key in _PATCHABLE:
        if key not in body:
            continue
        value = body[key]
        if key == "tags":
            value = _check_tags(value)
        elif key == "attributes":
            value = _check_attributes(value)
        elif key == "name" and (not isinstance(value, str) or not value.strip()):
            raise validation("name must be a non-empty string")
        elif key == "deviceClass" and value not in _CLASSES:
            raise validation(f"deviceClass must be one of {_CLASSES}")
        doc[key] = value


def create_device(
    store: Store, app_id: str, body: dict[str, Any], doc_id: str | None = None
) -> Doc:
    """Validate a ``devicePost`` body and store the new device (under ``doc_id`` if given)."""
    require(body, "name")
    doc: Doc = {
        "name": "",
        "description": "",
        "tags": [],
        "attributes": [],
        "deviceClass": "standalone",
        "connectionInfo": {"connected": None},
    }
    _apply(doc, body)
    return store.insert(
        DEVICES,
        (app_id,),
        doc,
        id_field="deviceId",
        doc_id=doc_id,
    )


# -- querying ---------------------------------------------------------------------------


def device_field(doc: Doc, field: str) -> Any:
    """A device's value for a field of the advanced device query."""
    if field == "attributeName":
        return [a["name"] for a in doc.get("attributes", [])]
    if field == "ancestorId":
        return doc.get("ancestorIds", [])
    if field == "connectionStatus":
        connected = doc.get("connectionInfo", {}).get("connected")
        return {1: "connected", 0: "disconnected"}.get(connected, "never")
    if field in ("connectedAt", "disconnectedAt"):
        info = doc.get("connectionInfo", {})
        wanted = 1 if field == "connectedAt" else 0
        return info.get("time") if info.get("connected") == wanted else missing()
    if field not in doc:
        return None if field in ("parentId", "gatewayId") else missing()
    value = doc[field]
    if field in _DATE_FIELDS and isinstance(value, str):
        return parse_time(value)
    return value


def device_tags_match(doc: Doc, condition: Any) -> bool:
    """The ``tags`` condition of an advanced device query (see :func:`tags_match`)."""
    return tags_match([(t["key"], t["value"]) for t in doc.get("tags", [])], condition)


# The fields of the ``advancedDeviceQuery`` schema (it allows no others).
DEVICE_QUERY_FIELDS = (
    "id",
    "creationDate",
    "lastUpdated",
    "deletedAt",
    "name",
    "deviceClass",
    "gatewayId",
    "parentId",
    "ancestorId",
    "attributeName",
    "experienceUserId",
    "experienceGroupId",
    "tags",
    "disconnectedAt",
    "connectedAt",
    "connectionStatus",
)


def check_device_query(query: Any) -> Any:
    """400 unless ``query`` is a valid ``advancedDeviceQuery``; returns it."""
    return check_query(query, DEVICE_QUERY_FIELDS, {"tags": check_tags})


def device_matches(doc: Doc, query: Any) -> bool:
    """Evaluate an advanced device query against one device."""
    return matches(doc, query, device_field, {"tags": device_tags_match})


def tag_filter_match(doc: Doc, tag_filter: Any) -> bool:
    """Every ``{key, value}`` pair (either part optional) must match one of the device's tags."""
    if tag_filter in (None, "", []):
        return True
    pairs = tag_filter if isinstance(tag_filter, list) else [tag_filter]
    tags = doc.get("tags", [])
    for pair in pairs:
        if not isinstance(pair, dict):
            raise validation("tagFilter entries need a key and/or a value")
        key, value = pair.get("key"), pair.get("value")
        if not any(
            (key in (None, "") or t["key"] == key) and (value in (None, "") or t["value"] == value)
            for t in tags
        ):
            return False
    return True


def select_devices(store: Store, app_id: str, body: dict[str, Any]) -> list[Doc]:
    """Devices chosen by a body's ``deviceIds``, ``deviceTags`` and ``deviceQuery``/``query``.

    With none of these every device of the application is chosen; with several, a device
    must satisfy each one given.
    """
    docs = list(app_devices(store, app_id).values())
    ids = body.get("deviceIds")
    if ids is not None:
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise validation("deviceIds must be an array of device ids")
        wanted = set(ids)
        docs = [d for d in docs if d["id"] in wanted]
    tags = body.get("deviceTags")
    if tags is not None and not isinstance(tags, list):
        raise validation("deviceTags must be an array of {key, value} objects")
    if tags:
        docs = [d for d in docs if tag_filter_match(d, tags)]
    query = body.get("deviceQuery", body.get("query"))
    if query is not None:
        check_device_query(query)
    if query:
        docs = [d for d in docs if device_matches(d, query)]
    return docs


# -- handlers ---------------------------------------------------------------------------


@handles("devices.get")
def list_devices(ctx: Ctx) -> Reply:
    """Filter (name glob, class, tags, parent, advanced query), sort and page devices."""
    with ctx.store.lock:
        docs = list(app_devices(ctx.store, ctx.app_id).values())
    out: dict[str, Any] = {"applicationId": ctx.app_id}
    pattern = ctx.query.get("filter")
    if pattern:
        field = ctx.query.get("filterField", "name")
        docs = [d for d in docs if glob_match(pattern, d.get(field, ""))]
        out.update(filter=pattern, filterField=field)
    classes = parse_brackets(ctx.query, "deviceClass")
    if classes:
        wanted = classes if isinstance(classes, list) else [classes]
        docs = [d for d in docs if d.get("deviceClass") in wanted]
    tag_filter = parse_brackets(ctx.query, "tagFilter")
    if tag_filter:
        docs = [d for d in docs if tag_filter_match(d, tag_filter)]
        out["tagFilter"] = tag_filter
    parent = ctx.query.get("parentId")
    if parent:
        docs = [d for d in docs if d.get("parentId") == parent]
    query = json_param(ctx.query, "query")
    if query is not None:
        check_device_query(query)
    if query:
        docs = [d for d in docs if device_matches(d, query)]
        out["query"] = query
    sort_field = ctx.query.get("sortField") or str(ctx.default_of("sortField", "name"))
    direction = ctx.query.get("sortDirection") or "asc"
    if direction.lower() not in ("asc", "desc"):
        raise validation("sortDirection must be asc or desc")
    docs = sort_docs(docs, sort_field, direction, device_field)
    out.update(paginate(ctx, docs))
    out["items"] = [device_view(ctx, d) for d in out["items"]]
    out.update(sortField=sort_field, sortDirection=direction)
    return 200, out


@handles("devices.post")
def post_device(ctx: Ctx) -> Reply:
    """Create a device from a ``devicePost`` body."""
    with ctx.store.lock:
        doc = create_device(ctx.store, ctx.app_id, ctx.body_dict())
        return 201, device_view(ctx, doc)


@handles("device.get")
def get_device(ctx: Ctx) -> Reply:
    """One device."""
    with ctx.store.lock:
        return 200, device_view(ctx, find_device(ctx))


@handles("device.patch")
def patch_device(ctx: Ctx) -> Reply:
    """Update a device's name, description, tags, attributes, class..."""
    with ctx.store.lock:
        doc = find_device(ctx)
        staged = copy.deepcopy(doc)
        _apply(staged, ctx.body_dict())
        staged["lastUpdated"] = now_iso()
        doc.clear()
        doc.update(staged)
        return 200, device_view(ctx, doc)


def _forget(store: Store, app_id: str, device_id: str) -> None:
    """Delete a device, keeping it (with its history) where ``devices/restore`` finds it."""
    doc = app_devices(store, app_id).pop(device_id, None)
    states = store.states.pop(device_id, None)
    commands = store.commands.pop(device_id, None)
    store.state_sends.pop(device_id, None)
    if doc is not None:
        _deleted(store, app_id)[device_id] = (doc, states, commands)
        _deleted_at(store, app_id)[device_id] = now_ms()


def _deleted_at(store: Store, app_id: str) -> dict[str, int]:
    """When each deleted device of an application was deleted (epoch ms)."""
    found: dict[str, dict[str, int]] = store.extras.setdefault("device_deleted_at", {})
    return found.setdefault(app_id, {})


def deleted_devices(store: Store, app_id: str) -> list[tuple[Doc, int]]:
    """An application's deleted (restorable) devices with the time each was deleted."""
    times = _deleted_at(store, app_id)
    return [(doc, times.get(i, 0)) for i, (doc, _s, _c) in _deleted(store, app_id).items()]


def _deleted(store: Store, app_id: str) -> dict[str, tuple[Doc, Any, Any]]:
    """An application's deleted devices, by id (``store.extras``, cleared by ``reset()``)."""
    pool: dict[str, dict[str, tuple[Doc, Any, Any]]] = store.extras.setdefault(
        "deleted_devices", {}
    )
    return pool.setdefault(app_id, {})


@handles("device.delete")
def delete_device(ctx: Ctx) -> Reply:
    """Remove a device with its state and commands."""
    with ctx.store.lock:
        doc = find_device(ctx)
        _forget(ctx.store, ctx.app_id, doc["id"])
    return 200, {"success": True}


@handles("devices.patch")
def patch_devices(ctx: Ctx) -> Reply:
    """Bulk update: apply ``updateFields`` to the selected devices."""
    body = ctx.body_dict()
    changes = body.get("updateFields", body.get("patch", {}))
    if not isinstance(changes, dict):
        raise validation("patch must be an object")
    updated = 0
    with ctx.store.lock:
        for doc in select_devices(ctx.store, ctx.app_id, body):
            staged = copy.deepcopy(doc)
            _apply(staged, changes)
            staged["lastUpdated"] = now_iso()
            doc.update(staged)
            updated += 1
    return 200, {"updated": updated, "failed": 0, "skipped": 0}


@handles("devices.delete")
def delete_devices(ctx: Ctx) -> Reply:
    """Bulk delete of the devices ``query`` selects (required, as by the API: ``{}`` is all)."""
    body = ctx.body_dict()
    require(body, "query")
    with ctx.store.lock:
        chosen = select_devices(ctx.store, ctx.app_id, body)
        for doc in chosen:
            _forget(ctx.store, ctx.app_id, doc["id"])
    return 200, {"removed": len(chosen), "failed": 0}


@handles("devices.restore")
def restore_devices(ctx: Ctx) -> Reply:
    """Bring back the deleted devices ``query`` selects, with their state and commands."""
    body = ctx.body_dict()
    require(body, "query")
    query = body["query"]
    check_device_query(query)
    with ctx.store.lock:
        pool = _deleted(ctx.store, ctx.app_id)
        chosen = [i for i, (doc, _, _) in pool.items() if not query or device_matches(doc, query)]
        for device_id in chosen:
            doc, states, commands = pool.pop(device_id)
            _deleted_at(ctx.store, ctx.app_id).pop(device_id, None)
            doc["lastUpdated"] = now_iso()
            app_devices(ctx.store, ctx.app_id)[device_id] = doc
            if states is not None:
                ctx.store.states[device_id] = states
            if commands is not None:
                ctx.store.commands[device_id] = commands
    return 200, {"restored": len(chosen), "failed": 0}


def _queried_devices(ctx: Ctx) -> list[Doc]:
    """The application's devices matching the ``query`` parameter (all without one)."""
    query = json_param(ctx.query, "query")
    if query is not None:
        check_device_query(query)
    with ctx.store.lock:
        docs = list(app_devices(ctx.store, ctx.app_id).values())
    return [d for d in docs if device_matches(d, query)] if query else docs


def _starts_with(ctx: Ctx, values: set[str]) -> list[str]:
    """``values`` sorted, keeping those starting with ``startsWith`` (ignoring case), at
    most 1000 (the API's limit)."""
    prefix = (ctx.query.get("startsWith") or "").casefold()
    return sorted(v for v in values if v.casefold().startswith(prefix))[:1000]


@handles("devices.attributeNames")
def attribute_names(ctx: Ctx) -> Reply:
    """Attribute names of the devices matching ``query`` (``dataType``, ``startsWith``)."""
    types = parse_brackets(ctx.query, "dataType")
    wanted = None if types in (None, "", []) else types if isinstance(types, list) else [types]
    if wanted is not None and not all(t in _DATA_TYPES for t in wanted):
        raise validation(f"dataType must be one or more of {', '.join(_DATA_TYPES)}")
    names = {
        a["name"]
        for d in _queried_devices(ctx)
        for a in d.get("attributes", [])
        if wanted is None or a.get("dataType") in wanted
    }
    return 200, {"attributeNames": _starts_with(ctx, names)}


@handles("devices.deviceNames")
def device_names(ctx: Ctx) -> Reply:
    """Id, name and class of the devices matching ``query`` whose names start with
    ``startsWith`` (ignoring case), sorted by name, at most 1000."""
    prefix = (ctx.query.get("startsWith") or "").casefold()
    docs = sort_docs(_queried_devices(ctx), "name", "asc")
    summary = [
        {"id": d["id"], "name": d["name"], "deviceClass": d.get("deviceClass", "standalone")}
        for d in docs
        if d["name"].casefold().startswith(prefix)
    ]
    return 200, {"deviceSummary": summary[:1000]}


@handles("devices.tagKeys")
def tag_keys(ctx: Ctx) -> Reply:
    """Tag keys of the devices matching ``query`` (``startsWith``)."""
    keys = {t["key"] for d in _queried_devices(ctx) for t in d.get("tags", [])}
    return 200, {"tagKeys": _starts_with(ctx, keys)}


@handles("devices.tagValues")
def tag_values(ctx: Ctx) -> Reply:
    """Values the tag ``key`` takes among the devices matching ``query`` (``startsWith``).

    The API's parameter is ``key``; like the API, the emulator refuses a call without it
    (``tagKey``, which earlier emulator versions also read, is not a parameter).
    """
    key = ctx.query.get("key")
    if not key:
        raise validation("key is required")
    values = {
        t["value"] for d in _queried_devices(ctx) for t in d.get("tags", []) if t["key"] == key
    }
    return 200, {"tagKey": key, "tagValues": _starts_with(ctx, values)}


# -- attributes -------------------------------------------------------------------------


def _attribute(doc: Doc, name: str) -> Doc:
    for attr in doc.get("attributes", []):
        if attr["name"] == name:
            return dict(attr)
    raise not_found("Device attribute")


@handles("deviceAttributes.get")
def list_attributes(ctx: Ctx) -> Reply:
    """A device's attributes."""
    with ctx.store.lock:
        attrs = [dict(a) for a in find_device(ctx).get("attributes", [])]
    return 200, {"items": attrs, "count": len(attrs), "totalCount": len(attrs)}


@handles("deviceAttributes.post")
def post_attribute(ctx: Ctx) -> Reply:
    """Add an attribute to a device."""
    body = ctx.body_dict()
    with ctx.store.lock:
        doc = find_device(ctx)
        attrs = _check_attributes([*doc.get("attributes", []), body])
        doc["attributes"] = attrs
        doc["lastUpdated"] = now_iso()
    return 201, dict(attrs[-1])


@handles("deviceAttribute.get")
def get_attribute(ctx: Ctx) -> Reply:
    """One attribute of a device."""
    with ctx.store.lock:
        return 200, _attribute(find_device(ctx), ctx.args["name"])


@handles("deviceAttribute.patch")
def patch_attribute(ctx: Ctx) -> Reply:
    """Change an attribute's fields (its name included)."""
    body = ctx.body_dict()
    with ctx.store.lock:
        doc = find_device(ctx)
        old = _attribute(doc, ctx.args["name"])
        new = {**old, **body}
        attrs = [new if a["name"] == old["name"] else a for a in doc["attributes"]]
        doc["attributes"] = _check_attributes(attrs)
        doc["lastUpdated"] = now_iso()
    return 200, new


@handles("deviceAttribute.delete")
def delete_attribute(ctx: Ctx) -> Reply:
    """Remove an attribute from a device."""
    with ctx.store.lock:
        doc = find_device(ctx)
        old = _attribute(doc, ctx.args["name"])
        doc["attributes"] = [a for a in doc["attributes"] if a["name"] != old["name"]]
        doc["lastUpdated"] = now_iso()
    return 200, {"success": True}
