"""Answers computed from what other resources hold: an application's readme, search,
flow storage, edge and embedded deployments, device counts, flow statistics windows,
flows by version and flow imports, dashboard context checks, experience bootstrap and
the template catalogue's categories and keywords.

Each write here is visible to the reads that document it (a storage ``PATCH`` to the
storage ``GET``, a release to the deployment reads, a readme ``PATCH`` to its ``GET``).
"""

from __future__ import annotations

import copy
import json
import secrets
from typing import Any

from ._context import Ctx, Reply, handles, require
from ._errors import not_found, validation
from ._ids import iso, new_id, now_iso, now_ms, parse_time
from ._pagination import paginate
from ._queries import glob_match
from ._store import APPLICATIONS, DEVICES, Doc

FLOWS = "/applications/{applicationId}/flows"
FLOW_VERSIONS = "/applications/{applicationId}/flows/{flowId}/versions"
EDGE = "/applications/{applicationId}/edge/deployments"
EMBEDDED = "/applications/{applicationId}/embedded/deployments"
DASHBOARDS = "/dashboards"
TEMPLATES = "/applicationTemplates"
EXPERIENCE_USERS = "/applications/{applicationId}/experience/users"


def _extras(ctx: Ctx, name: str) -> dict[str, Any]:
    found: dict[str, Any] = ctx.store.extras.setdefault(name, {})
    return found


def _caller(ctx: Ctx) -> tuple[str, str]:
    principal = ctx.principal
    if principal is None:
        return "user", ""
    kind = "user" if principal.kind == "user" else "apiToken"
    return kind, principal.subject_id


# -- readme ---------------------------------------------------------------------------------


@handles("application.readme", "application.readmePatch")
def readme(ctx: Ctx) -> Reply:
    """The application's readme; ``PATCH`` sets its ``content``."""
    with ctx.store.lock:
        docs = _extras(ctx, "readme")
        doc = docs.get(ctx.app_id)
        if ctx.endpoint.method == "PATCH":
            body = ctx.body_dict()
            require(body, "content")
            kind, who = _caller(ctx)
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


# -- flow storage ---------------------------------------------------------------------------


def _storage(ctx: Ctx) -> dict[str, Any]:
    found: dict[str, Any] = _extras(ctx, "flow_storage").setdefault(ctx.args["flowId"], {})
    return found


@handles(
    "flow.getStorageEntries",
    "flow.setStorageEntry",
    "flow.clearStorageEntries",
    "flow.getStorageEntriesMetadata",
)
def flow_storage(ctx: Ctx) -> Reply:
    """A flow's storage: entries set by ``PATCH``, read by ``GET``, cleared by ``DELETE``."""
    with ctx.store.lock:
        entries = _storage(ctx)
        action = ctx.endpoint.id
        if action == "flow.setStorageEntry":
            body = ctx.body_dict()
            require(body, "key")
            if "value" in body and body["value"] is not None:
                entries[str(body["key"])] = copy.deepcopy(body["value"])
            else:
                entries.pop(str(body["key"]), None)
            return 200, {"success": True}
        if action == "flow.clearStorageEntries":
            entries.clear()
            return 200, {}
        if action == "flow.getStorageEntriesMetadata":
            used = len(json.dumps(entries, separators=(",", ":")).encode()) if entries else 0
            return 200, {"keysCount": len(entries), "memoryUsed": used}
        return 200, copy.deepcopy(entries)


# -- deployments ----------------------------------------------------------------------------


def _flow(ctx: Ctx, flow_id: Any) -> Doc:
    if not isinstance(flow_id, str):
        raise validation("deployment.flowId is required")
    doc = ctx.store.find(FLOWS, (ctx.app_id,), flow_id)
    if doc is None:
        raise not_found("Flow")
    return doc


def _device(ctx: Ctx, device_id: Any) -> Doc:
    doc = ctx.store.find(DEVICES, (ctx.app_id,), str(device_id))
    if doc is None:
        raise not_found("Device")
    return doc


def _deployments(ctx: Ctx) -> tuple[str, dict[str, Doc], str]:
    edge = ctx.endpoint.id.startswith("edge")
    template = EDGE if edge else EMBEDDED
    id_field = "edgeDeploymentId" if edge else "embeddedDeploymentId"
    return template, ctx.store.collection(template, (ctx.app_id,)), id_field


def _deployment_for(ctx: Ctx, device: Doc) -> Doc:
    template, docs, id_field = _deployments(ctx)
    for doc in docs.values():
        if doc.get("deviceId") == device["id"]:
            return doc
    extra = {"deviceId": device["id"], "deviceName": device.get("name", ""), "logs": []}
    if template == EMBEDDED:
        extra["flows"] = {}
    return ctx.store.insert(template, (ctx.app_id,), extra, id_field=id_field)


def _set_version(ctx: Ctx, deployment: Doc, flow: Doc, version: str | None) -> None:
    _kind, who = _caller(ctx)
    stamp = now_iso()
    log: Doc = {"changeType": "desired", "date": stamp, "sourceId": who, "sourceType": "user"}
    if "flows" in deployment:  # embedded: one entry per flow
        entry = deployment["flows"].setdefault(
            flow["id"], {"currentVersion": None, "flowName": flow.get("name", "")}
        )
        if version is None:
            deployment["flows"].pop(flow["id"], None)
        else:
            entry["desiredVersion"] = version
        deployment["desiredBundleVersion"] = str(now_ms() // 1000)
        log["flowId"] = flow["id"]
        log["desiredVersion"] = version
    else:
        log.update(previousValue=deployment.get("desiredVersion"), newValue=version)
        deployment.update(flowId=flow["id"], desiredVersion=version)
        deployment.setdefault("currentVersion", None)
    deployment["logs"] = [log, *deployment.get("logs", [])][:25]
    deployment["lastUpdated"] = stamp


@handles(
    "edgeDeployments.release",
    "edgeDeployments.replace",
    "edgeDeployments.remove",
    "embeddedDeployments.release",
    "embeddedDeployments.replace",
    "embeddedDeployments.remove",
)
def deploy(ctx: Ctx) -> Reply:
    """Record the desired flow version per device: ``release`` to the listed devices,
    ``replace`` where the old version is desired, ``remove`` from a device (or all)."""
    body = ctx.body_dict()
    action = ctx.endpoint.id.rsplit(".", 1)[1]
    with ctx.store.lock:
        flow = _flow(ctx, body.get("flowId"))
        _template, docs, _id_field = _deployments(ctx)
        if action == "release":
            require(body, "deviceIds", "version")
            devices = [_device(ctx, i) for i in body["deviceIds"]]
            for device in devices:
                _set_version(ctx, _deployment_for(ctx, device), flow, str(body["version"]))
        else:
            for doc in list(docs.values()):
                if action == "remove":
                    if body.get("deviceId") in (None, doc.get("deviceId")):
                        _set_version(ctx, doc, flow, None)
                elif _desired(doc, flow["id"]) == body.get("oldVersion"):
                    _set_version(ctx, doc, flow, str(body.get("newVersion")))
    return 201, {"success": True}


def _desired(doc: Doc, flow_id: str) -> Any:
    if "flows" in doc:
        return doc["flows"].get(flow_id, {}).get("desiredVersion")
    return doc.get("desiredVersion") if doc.get("flowId") == flow_id else None


# -- counts and statistics windows ----------------------------------------------------------


DAY_MS = 86_400_000
# Times stay within JavaScript's Date range (what parse_time accepts) after arithmetic.
_MAX_MS = 8_640_000_000_000_000


def _when(ctx: Ctx, name: str, default: int) -> int:
    """A time query parameter in epoch ms (``0`` or absent: the default)."""
    raw = ctx.query.get(name)
    if raw in (None, "", "0"):
        return default
    try:
        return parse_time(raw)
    except ValueError:
        raise validation(f"{name} must be a time") from None


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
    _kind, who = _caller(ctx)
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
    """Devices created per day between ``start`` and ``end`` (the last 30 days), with the
    running total; deleted devices are not remembered by day, so ``deleted`` is 0."""
    end = _when(ctx, "end", now_ms())
    start = _when(ctx, "start", max(end - 30 * DAY_MS, -_MAX_MS))
    if start > end:
        raise validation("start must be before end")
    if end - start > 400 * DAY_MS:
        raise validation("start and end may be at most 400 days apart")
    with ctx.store.lock:
        created = [
            parse_time(doc["creationDate"])
            for app_id in _scoped_apps(ctx)
            for doc in ctx.store.collection(DEVICES, (app_id,)).values()
            if isinstance(doc.get("creationDate"), str)
        ]
    counts: list[Doc] = []
    day = start - start % DAY_MS
    while day <= end:
        following = day + DAY_MS
        counts.append(
            {
                "date": iso(day),
                "created": sum(1 for c in created if day <= c < following),
                "deleted": 0,
                "total": sum(1 for c in created if c < following),
            }
        )
        day = following
    return 200, {"start": iso(start), "end": iso(end), "counts": counts}


@handles(
    "flow.stats",
    "flowVersion.stats",
    "instanceCustomNode.stats",
    "flow.errors",
    "flowVersion.errors",
    "instanceCustomNode.errors",
)
def flow_window(ctx: Ctx) -> Reply:
    """Statistics and errors over the asked window: the emulator runs no flows, so the
    window is empty, but its bounds, resolution, limit and order are the ones asked for."""
    end = _when(ctx, "end", now_ms())
    duration = ctx.int_arg("duration", int(ctx.default_of("duration", DAY_MS)), minimum=1)
    start = end - duration
    if start < -_MAX_MS:
        raise validation("duration reaches before the earliest time")
    out: Doc = {"start": iso(start), "end": iso(end)}
    if ctx.endpoint.id.endswith(".stats"):
        resolution = ctx.int_arg("resolution", int(ctx.default_of("resolution", 3_600_000)), 1)
        out.update(resolution=resolution, metrics=[])
    else:
        direction = ctx.query.get("sortDirection") or str(ctx.default_of("sortDirection", "desc"))
        if direction not in ("asc", "desc"):
            raise validation("sortDirection must be asc or desc")
        out.update(limit=ctx.int_arg("limit", 25, minimum=1), sortDirection=direction, errors=[])
    return 200, out


# -- flows ----------------------------------------------------------------------------------


@handles("flows.getByVersion")
def flows_by_version(ctx: Ctx) -> Reply:
    """The version named ``version`` of each flow of the application that has one."""
    wanted = ctx.query.get("version", "")
    flow_class = ctx.query.get("flowClass") or str(ctx.default_of("flowClass", "cloud"))
    with ctx.store.lock:
        found = [
            copy.deepcopy(version)
            for flow in ctx.store.collection(FLOWS, (ctx.app_id,)).values()
            if flow.get("flowClass", "cloud") == flow_class
            for version in ctx.store.collection(FLOW_VERSIONS, (ctx.app_id, flow["id"])).values()
            if version.get("version") == wanted
        ]
    out = paginate(ctx, found)
    out.update(applicationId=ctx.app_id)
    return 200, out


@handles("flows.import")
def import_flows(ctx: Ctx) -> Reply:
    """Create the posted flows (new ids) and their versions; answer the id maps."""
    body = ctx.body_dict()
    flows, versions = body.get("flows") or [], body.get("flowVersions") or []
    flow_ids: dict[str, str] = {}
    version_ids: dict[str, str] = {}
    made_flows: list[Doc] = []
    made_versions: list[Doc] = []
    with ctx.store.lock:
        for posted in flows:
            old = posted.get("id") or posted.get("flowId") or new_id()
            fields = {k: v for k, v in posted.items() if k not in ("id", "flowId")}
            fields = {"flowClass": "cloud", "enabled": True, "globals": [], **fields}
            doc = ctx.store.insert(FLOWS, (ctx.app_id,), fields, id_field="flowId")
            flow_ids[str(old)] = doc["id"]
            made_flows.append(copy.deepcopy(doc))
        for posted in versions:
            flow_id = flow_ids.get(str(posted.get("flowId")), posted.get("flowId"))
            known = isinstance(flow_id, str) and ctx.store.find(FLOWS, (ctx.app_id,), flow_id)
            if not known:
                raise validation("flowVersions[].flowId must name an imported or existing flow")
            old = posted.get("id") or posted.get("flowVersionId") or new_id()
            fields = {k: v for k, v in posted.items() if k not in ("id", "flowVersionId")}
            fields["flowId"] = flow_id
            doc = ctx.store.insert(
                FLOW_VERSIONS, (ctx.app_id, flow_id), fields, id_field="flowVersionId"
            )
            version_ids[str(old)] = doc["id"]
            made_versions.append(copy.deepcopy(doc))
    return 201, {
        "flows": made_flows,
        "flowVersions": made_versions,
        "importedFlowIdMap": flow_ids,
        "importedVersionIdMap": version_ids,
    }


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
            for doc in _extras(ctx, "template_categories").values()
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
