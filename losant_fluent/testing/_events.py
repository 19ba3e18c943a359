"""Events (create, list with filters, bulk update/delete, most recent by severity) and
webhooks (created with their own token)."""

from __future__ import annotations

import copy
import secrets
from typing import Any

from ._context import Ctx, Reply, handles, require
from ._devices import app_devices
from ._errors import not_found, validation
from ._ids import iso, now_iso, parse_time
from ._pagination import by_page
from ._queries import (
    check_query,
    check_tags,
    glob_match,
    json_param,
    matches,
    sort_docs,
    tags_match,
)
from ._store import EVENTS, WEBHOOKS, Doc

LEVELS = ("info", "warning", "error", "critical")
# The fields of the ``advancedEventQuery`` schema (it allows no others).
EVENT_QUERY_FIELDS = (
    "id",
    "creationDate",
    "lastUpdated",
    "sourceId",
    "sourceType",
    "level",
    "state",
    "subject",
    "deviceId",
    "experienceUserId",
    "experienceGroupId",
    "eventTags",
)


def _event_tags_match(doc: Doc, condition: Any) -> bool:
    tags = doc.get("eventTags") or {}
    pairs = [(k, v) for k, v in tags.items()] if isinstance(tags, dict) else []
    return tags_match(pairs, condition)


def check_event_query(query: Any) -> Any:
    """400 unless ``query`` is a valid ``advancedEventQuery``; returns it."""
    return check_query(query, EVENT_QUERY_FIELDS, {"eventTags": check_tags})


def event_matches(doc: Doc, query: Any) -> bool:
    """Evaluate a checked advanced event query against one event."""
    return matches(doc, query, special={"eventTags": _event_tags_match})


STATES = ("new", "acknowledged", "resolved")


def _events(ctx: Ctx) -> dict[str, Doc]:
    return ctx.store.collection(EVENTS, (ctx.app_id,))


def _check(body: dict[str, Any]) -> None:
    """The field types of ``eventPost``/``eventPatch``."""
    if "level" in body and body["level"] not in LEVELS:
        raise validation(f"level must be one of {LEVELS}")
    if "state" in body and body["state"] not in STATES:
        raise validation(f"state must be one of {STATES}")
    for name, longest in (("subject", 255), ("message", 32767), ("comment", 32767)):
        if name in body and (not isinstance(body[name], str) or len(body[name]) > longest):
            raise validation(f"{name} must be a string of at most {longest} characters")
    device_id = body.get("deviceId")
    if device_id is not None and not isinstance(device_id, str):
        raise validation("deviceId must be a device id")
    if "eventTags" in body and not isinstance(body["eventTags"], dict):
        raise validation("eventTags must be an object")


@handles("events.post")
def post_event(ctx: Ctx) -> Reply:
    """Record an event; the source is whoever holds the token."""
    body = ctx.body_dict()
    require(body, "level", "subject")
    _check(body)
    fields: Doc = {"state": "new", "message": "", "eventTags": {}, **body}
    principal = ctx.principal
    if principal is not None:
        fields["sourceType"] = {"device": "device", "apiToken": "apiToken"}.get(
            principal.kind, "user"
        )
        fields["sourceId"] = principal.subject_id
    with ctx.store.lock:
        device_id = body.get("deviceId")
        if device_id:
            device = app_devices(ctx.store, ctx.app_id).get(device_id)
            if device is None:
                raise not_found("Device")
            fields["deviceName"] = device["name"]
        created = body.get("creationDate")
        stamp_override = None
        if created is not None:
            try:
                stamp_override = iso(parse_time(created))
            except ValueError:
                raise validation("creationDate must be a time") from None
            fields.pop("creationDate")
        doc = ctx.store.insert(
            EVENTS,
            (ctx.app_id,),
            fields,
            id_field="eventId",
        )
        if stamp_override:
            doc["creationDate"] = stamp_override
        return 201, copy.deepcopy(doc)


def _select(ctx: Ctx, query: Any = None) -> list[Doc]:
    docs = list(_events(ctx).values())
    pattern = ctx.query.get("filter")
    if pattern:
        field = ctx.query.get("filterField", "subject")
        docs = [d for d in docs if glob_match(pattern, d.get(field, ""))]
    state = ctx.query.get("state")
    if state:
        docs = [d for d in docs if d.get("state") == state]
    query = query if query is not None else json_param(ctx.query, "query")
    if query is not None:
        check_event_query(query)
    if query:
        docs = [d for d in docs if event_matches(d, query)]
    return docs


@handles("events.get")
def list_events(ctx: Ctx) -> Reply:
    """Events filtered by subject glob, state and advanced query, newest first by default."""
    sort_field = ctx.query.get("sortField") or str(ctx.default_of("sortField", "creationDate"))
    direction = ctx.query.get("sortDirection") or str(ctx.default_of("sortDirection", "desc"))
    with ctx.store.lock:
        docs = [copy.deepcopy(d) for d in _select(ctx)]
    out: dict[str, Any] = by_page(ctx, sort_docs(docs, sort_field, direction))
    out.update(applicationId=ctx.app_id, sortField=sort_field, sortDirection=direction)
    for name in ("filter", "filterField", "state"):
        if ctx.query.get(name):
            out[name] = ctx.query[name]
    return 200, out


def _update(doc: Doc, changes: dict[str, Any]) -> None:
    _check(changes)
    stamp = now_iso()
    for key in ("state", "level", "subject", "message", "data", "eventTags", "deviceId"):
        if key in changes:
            doc[key] = changes[key]
    update = {
        "creationDate": stamp,
        **{k: v for k, v in changes.items() if k in ("state", "comment")},
    }
    doc.setdefault("updates", []).append(update)
    doc["lastUpdated"] = stamp


@handles("events.patch")
def patch_events(ctx: Ctx) -> Reply:
    """Apply the body's changes (state, comment...) to every selected event."""
    changes = ctx.body_dict()
    with ctx.store.lock:
        for doc in _select(ctx):
            _update(doc, changes)
    return 200, {"success": True}


@handles("event.patch")
def patch_event(ctx: Ctx) -> Reply:
    """Change one event's state, level, subject, message, data or tags."""
    with ctx.store.lock:
        doc = _events(ctx).get(ctx.args["eventId"])
        if doc is None:
            raise not_found("Event")
        _update(doc, ctx.body_dict())
        return 200, copy.deepcopy(doc)


@handles("events.delete")
def delete_events(ctx: Ctx) -> Reply:
    """Delete the events matching the body's advanced query (all of them without one)."""
    query = ctx.body if ctx.body not in (None, {}) else None
    if query is not None:
        check_event_query(query)
    with ctx.store.lock:
        doomed = [d["id"] for d in _events(ctx).values() if event_matches(d, query)]
        for ident in doomed:
            del _events(ctx)[ident]
    return 200, {"removed": len(doomed)}


@handles("events.mostRecentBySeverity")
def most_recent(ctx: Ctx) -> Reply:
    """The newest unresolved event of the highest level present, and how many are new."""
    with ctx.store.lock:
        docs = [copy.deepcopy(d) for d in _select(ctx) if d.get("state") != "resolved"]
    out: dict[str, Any] = {"newCount": sum(1 for d in docs if d.get("state") == "new")}
    if docs:
        docs.sort(key=lambda d: (LEVELS.index(d.get("level", "info")), d["creationDate"]))
        out["event"] = docs[-1]
    return 200, out


@handles("webhooks.post")
def post_webhook(ctx: Ctx) -> Reply:
    """Create a webhook with a fresh URL token."""
    body = ctx.body_dict()
    require(body, "name")
    fields = {
        "token": secrets.token_urlsafe(24),
        "responseCode": 200,
        "verificationType": "none",
        "waitForReply": False,
        "enabled": True,
        **body,
    }
    with ctx.store.lock:
        doc = ctx.store.insert(
            WEBHOOKS,
            (ctx.app_id,),
            fields,
            id_field="webhookId",
        )
        return 201, copy.deepcopy(doc)
