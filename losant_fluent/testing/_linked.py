"""Answers computed from what other resources hold: an application's readme, globals and
search, device counts, linked resources, dashboard context checks, experience bootstrap
and the template catalogue's categories and keywords.

Each write here is visible to the reads that document it (a readme ``PATCH`` to its
``GET``, a device to search and counts, a flow naming a credential to its linked
resources).
"""

from __future__ import annotations

import copy
import json
import secrets

from ._complete import resolved_example
from ._context import Ctx, Reply, handles, require
from ._devices import deleted_devices
from ._errors import not_found, validation
from ._flowstate import DAY_MS, FLOW_VERSIONS, FLOWS, MAX_MS, caller, extras, when
from ._ids import iso, now_iso, now_ms, parse_time
from ._queries import glob_match
from ._store import APPLICATIONS, DEVICES, Doc

DASHBOARDS = "/dashboards"
TEMPLATES = "/applicationTemplates"
EXPERIENCE_USERS = "/applications/{applicationId}/experience/users"


# -- readme ---------------------------------------------------------------------------------


@handles("application.readme", "application.readmePatch")
def readme(ctx: Ctx) -> Reply:
    """The application's readme; ``PATCH`` sets its ``content``."""
    with ctx.store.lock:
        docs = extras(ctx, "readme")
        doc = docs.get(ctx.app_id)
        if ctx.endpoint.method == "PATCH":
            body = ctx.body_dict()
            require(body, "content")
            kind, who = caller(ctx)
            stamp = now_iso()
            doc = {
                "applicationId": ctx.app_id,
                "content": body["content"],
                "creationDate": (doc or {}).get("creationDate", stamp),
                "lastUpdated": stamp,
                "lastUpdatedById": who,
                "lastUpdatedByType": kind,
            }
            docs[ctx.app_id] = doc
        if doc is None:
            app = ctx.store.find(APPLICATIONS, (), ctx.app_id) or {}
            stamp = app.get("creationDate") or now_iso()
            doc = {"applicationId": ctx.app_id, "content": "", "lastUpdated": stamp}
        return 200, copy.deepcopy(doc)


# -- application globals -------------------------------------------------------------------


@handles("application.globals")
def application_globals(ctx: Ctx) -> Reply:
    """Set application globals by ``key`` (an entry whose ``json`` is null removes one);
    answers the application."""
    body = ctx.body
    if not isinstance(body, list):
        raise validation("globals must be an array")
    with ctx.store.lock:
        app = ctx.store.find(APPLICATIONS, (), ctx.app_id)
        if app is None:
            raise not_found("Application")
        current = {g["key"]: g for g in app.get("globals", []) if isinstance(g, dict)}
        for entry in body:
            if entry.get("json") is None:
                current.pop(entry["key"], None)
            else:
                current[entry["key"]] = {**current.get(entry["key"], {}), **copy.deepcopy(entry)}
        app["globals"] = list(current.values())
        app["lastUpdated"] = now_iso()
        return 200, copy.deepcopy(app)


# -- search ---------------------------------------------------------------------------------

# Collection (below the application) -> the ``_type`` search results give its documents.
_SEARCHED = {
    "devices": "device",
    "flows": "flow",
    "data-tables": "dataTable",
    "device-recipes": "deviceRecipe",
    "credentials": "credential",
    "events": "event",
    "files": "file",
    "integrations": "integration",
    "notebooks": "notebook",
    "webhooks": "webhook",
    "resource-jobs": "resourceJob",
    "tokens": "applicationApiToken",
    "experience/endpoints": "experienceEndpoint",
    "experience/groups": "experienceGroup",
    "experience/users": "experienceUser",
    "experience/versions": "experienceVersion",
    "experience/views": "experienceView",
    "experience/domains": "experienceDomain",
    "experience/slugs": "experienceSlug",
}


def _search_name(doc: Doc) -> str:
    for key in ("name", "subject", "email", "route", "version", "slug", "domainName"):
        value = doc.get(key)
        if isinstance(value, str) and value:
            return value
    return str(doc.get("id", ""))


@handles("application.search")
def search(ctx: Ctx) -> Reply:
    """Resources of the application whose name (or id) contains ``filter``, ignoring case
    (``*`` and ``?`` work as wildcards)."""
    wanted = ctx.query.get("filter", "")
    pattern = wanted if any(c in wanted for c in "*?") else f"*{wanted}*"
    prefix = f"{APPLICATIONS}/{{applicationId}}/"
    found: list[Doc] = []
    with ctx.store.lock:
        for (template, parents), docs in ctx.store.collections.items():
            if not template.startswith(prefix) or parents[:1] != (ctx.app_id,):
                continue
            kind = _SEARCHED.get(template[len(prefix) :])
            if kind is None:
                continue
            for doc in docs.values():
                name = _search_name(doc)
                if glob_match(pattern.lower(), name.lower()) or doc.get("id") == wanted:
                    hit: Doc = {"_type": kind, "id": doc["id"], "name": name}
                    if isinstance(doc.get("description"), str) and doc["description"]:
                        hit["metadata"] = {"descriptor": doc["description"]}
                    found.append(hit)
    return 200, found[:100]


# -- device counts ----------------------------------------------------------------------


def _scoped_apps(ctx: Ctx) -> list[str]:
    """The applications a counts endpoint covers: its application, org, or the user's."""
    apps = ctx.store.collection(APPLICATIONS, ())
    if "applicationId" in ctx.args:
        return [ctx.app_id]
    org = ctx.args.get("orgId") or ctx.args.get("sandboxId")
    if org:
        return [i for i, a in apps.items() if a.get("orgId") == org]
    if "instanceId" in ctx.args:
        return list(apps)
    _kind, who = caller(ctx)
    return [i for i, a in apps.items() if a.get("ownerId") == who or not a.get("orgId")]


@handles(
    "application.deviceCounts",
    "me.deviceCounts",
    "org.deviceCounts",
    "instance.deviceCounts",
    "instanceOrg.deviceCounts",
    "instanceSandbox.deviceCounts",
)
def device_counts(ctx: Ctx) -> Reply:
    """Devices created and deleted per day between ``start`` and ``end`` (the last 30
    days), with the running total at the end of each day."""
    end = when(ctx, "end", now_ms())
    start = when(ctx, "start", max(end - 30 * DAY_MS, -MAX_MS))
    if start > end:
        raise validation("start must be before end")
    if end - start > 400 * DAY_MS:
        raise validation("start and end may be at most 400 days apart")
    created: list[int] = []
    deleted: list[int] = []
    with ctx.store.lock:
        for app_id in _scoped_apps(ctx):
            living = [(doc, None) for doc in ctx.store.collection(DEVICES, (app_id,)).values()]
            for doc, gone in [*living, *deleted_devices(ctx.store, app_id)]:
                if isinstance(doc.get("creationDate"), str):
                    created.append(parse_time(doc["creationDate"]))
                if gone is not None:
                    deleted.append(gone)
    counts: list[Doc] = []
    day = start - start % DAY_MS
    while day <= end:
        following = day + DAY_MS
        counts.append(
            {
                "date": iso(day),
                "created": sum(1 for c in created if day <= c < following),
                "deleted": sum(1 for d in deleted if day <= d < following),
                "total": sum(1 for c in created if c < following)
                - sum(1 for d in deleted if d < following),
            }
        )
        day = following
    return 200, {"start": iso(start), "end": iso(end), "counts": counts}



# -- linked resources -----------------------------------------------------------------------

_APP = "/applications/{applicationId}"
_LINKABLE = {
    "flows": (FLOWS, "name"),
    "integrations": (_APP + "/integrations", "name"),
    "experienceEndpoints": (_APP + "/experience/endpoints", "route"),
    "experienceViews": (_APP + "/experience/views", "name"),
}
_LINKED_TARGETS = {
    "credential.linkedResources": ("credentials", "credentialId"),
    "experienceEndpoint.linkedResources": ("experience/endpoints", "experienceEndpointId"),
    "experienceView.linkedResources": ("experience/views", "experienceViewId"),
}


def _mentions(doc: Doc, needles: list[str]) -> bool:
    text = json.dumps(doc, separators=(",", ":"))
    return any(needle in text for needle in needles)


@handles(*_LINKED_TARGETS)
def linked_resources(ctx: Ctx) -> Reply:
    """The application's flows, flow versions, integrations, endpoints and views that
    mention the resource: its id anywhere, or (views) its name, as templates do."""
    collection, param = _LINKED_TARGETS[ctx.endpoint.id]
    name = ctx.endpoint.responses.get("200")
    with ctx.store.lock:
        target = ctx.store.find(f"{_APP}/{collection}", (ctx.app_id,), ctx.args[param])
        if target is None:
            raise not_found(collection.rsplit("/", 1)[-1].rstrip("s").capitalize())
        needles = [target["id"]]
        if param == "experienceViewId" and len(str(target.get("name", ""))) >= 3:
            needles.append(str(target["name"]))
        out: Doc = {}
        for key in resolved_example(name) or {}:
            if key == "flowVersions":
                found = [
                    copy.deepcopy(doc)
                    for flow_id in ctx.store.collection(FLOWS, (ctx.app_id,))
                    for doc in ctx.store.collection(FLOW_VERSIONS, (ctx.app_id, flow_id)).values()
                    if _mentions(doc, needles)
                ]
                sort_field = "version"
            elif key in _LINKABLE:
                template, sort_field = _LINKABLE[key]
                found = [
                    copy.deepcopy(doc)
                    for doc in ctx.store.collection(template, (ctx.app_id,)).values()
                    if doc["id"] != target["id"] and _mentions(doc, needles)
                ]
            else:
                continue
            out[key] = {
                "items": found,
                "count": len(found),
                "totalCount": len(found),
                "page": 0,
                "perPage": max(len(found), 1),
                "sortField": sort_field,
                "sortDirection": "asc",
                "applicationId": ctx.app_id,
            }
    return 200, out


# -- dashboards, experiences, templates -----------------------------------------------------


@handles("dashboard.validateContext")
def validate_context(ctx: Ctx) -> Reply:
    """The posted context as checked against the dashboard (the emulator does not expand
    devices: each value comes back as posted)."""
    body = ctx.body_dict()
    with ctx.store.lock:
        dash = ctx.store.find(DASHBOARDS, (), ctx.args["dashboardId"])
        if dash is None:
            raise not_found("Dashboard")
        summary = {
            "id": dash["id"],
            "name": dash.get("name") or "Dashboard",
            "duration": dash.get("duration", 600000),
            "refreshRate": dash.get("refreshRate", 60),
            "resolution": dash.get("resolution", 6000),
        }
    return 200, {"ctx": copy.deepcopy(body), "dashboard": summary, "success": True}


@handles("experience.bootstrap")
def bootstrap(ctx: Ctx) -> Reply:
    """Create the example experience user, with a fresh password shown only here."""
    body = ctx.body_dict()
    suffix = str(body.get("resourceSuffix") or "")
    email = f"example.user{suffix}@example.com"
    password = f"{secrets.token_urlsafe(12)}-Aa1"
    with ctx.store.lock:
        users = ctx.store.collection(EXPERIENCE_USERS, (ctx.app_id,))
        existing = [i for i, u in users.items() if u.get("email") == email]
        if existing and not body.get("replaceExisting"):
            raise validation("The experience is already bootstrapped (replaceExisting is false)")
        for user_id in existing:
            del users[user_id]
        ctx.store.insert(
            EXPERIENCE_USERS,
            (ctx.app_id,),
            {"email": email, "firstName": "Example", "lastName": "User", "experienceGroups": []},
            id_field="experienceUserId",
        )
    return 200, {"email": email, "password": password, "resourceSuffix": suffix}


@handles("applicationTemplates.getCategories")
def template_categories(ctx: Ctx) -> Reply:
    """The template categories below ``baseId`` (the top level without one)."""
    base = ctx.query.get("baseId")
    with ctx.store.lock:
        found = [
            copy.deepcopy(doc)
            for doc in extras(ctx, "template_categories").values()
            if doc.get("parentId") == base
        ]
    out: Doc = {"items": found, "count": len(found), "totalCount": len(found)}
    if base:
        out["baseId"] = base
    return 200, out


@handles("applicationTemplates.getUniqueKeywords")
def template_keywords(ctx: Ctx) -> Reply:
    """Every keyword of the templates, once each, sorted."""
    with ctx.store.lock:
        words = {
            str(word)
            for doc in ctx.store.collection(TEMPLATES, ()).values()
            for word in doc.get("keywords") or []
        }
    return 200, {"keywords": sorted(words)}
