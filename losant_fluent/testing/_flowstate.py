"""Flows as the emulator records them: flow storage, edge and embedded deployments, the
statistics and error windows of flows and custom nodes, flows by version and imports.

Each write is visible to the reads that document it (a storage ``PATCH`` to the storage
``GET``, a release to the deployment reads, an import to the flow lists). Nothing runs:
statistics and errors answer the asked window, empty. The palette lists the instances'
custom nodes.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from ._context import Ctx, Reply, handles, require
from ._errors import not_found, validation
from ._ids import iso, new_id, now_iso, now_ms, parse_time
from ._pagination import paginate
from ._store import DEVICES, Doc

FLOWS = "/applications/{applicationId}/flows"
FLOW_VERSIONS = "/applications/{applicationId}/flows/{flowId}/versions"
EDGE = "/applications/{applicationId}/edge/deployments"
EMBEDDED = "/applications/{applicationId}/embedded/deployments"


def extras(ctx: Ctx, name: str) -> dict[str, Any]:
    """A named part of ``store.extras`` (created empty; ``reset()`` clears it)."""
    found: dict[str, Any] = ctx.store.extras.setdefault(name, {})
    return found


def caller(ctx: Ctx) -> tuple[str, str]:
    """Who sent the request, as Losant's ``...ByType``/``...ById`` fields name it."""
    principal = ctx.principal
    if principal is None:
        return "user", ""
    kind = "user" if principal.kind == "user" else "apiToken"
    return kind, principal.subject_id


# -- time windows ---------------------------------------------------------------------------


DAY_MS = 86_400_000
# Times stay within JavaScript's Date range (what parse_time accepts) after arithmetic.
MAX_MS = 8_640_000_000_000_000


def when(ctx: Ctx, name: str, default: int) -> int:
    """A time query parameter in epoch ms (``0`` or absent: the default)."""
    raw = ctx.query.get(name)
    if raw in (None, "", "0"):
        return default
    try:
        return parse_time(raw)
    except ValueError:
        raise validation(f"{name} must be a time") from None



# -- flow storage ---------------------------------------------------------------------------


def _storage(ctx: Ctx) -> dict[str, Any]:
    found: dict[str, Any] = extras(ctx, "flow_storage").setdefault(ctx.args["flowId"], {})
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
    _kind, who = caller(ctx)
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


# -- statistics windows ---------------------------------------------------------------------


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
    end = when(ctx, "end", now_ms())
    duration = ctx.int_arg("duration", int(ctx.default_of("duration", DAY_MS)), minimum=1)
    start = end - duration
    if start < -MAX_MS:
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


_PALETTE_FIELDS = (
    "id",
    "name",
    "category",
    "compatibleFlowClasses",
    "customNodeConfig",
    "description",
    "shortDescription",
    "docsUrl",
    "iconData",
    "flowVersionId",
)


@handles("flows.palette")
def palette(ctx: Ctx) -> Reply:
    """The custom nodes a flow can use: every custom node of the instances."""
    with ctx.store.lock:
        nodes = [
            {k: copy.deepcopy(doc[k]) for k in _PALETTE_FIELDS if k in doc}
            for (template, _parents), docs in ctx.store.collections.items()
            if template == "/instances/{instanceId}/nodes"
            for doc in docs.values()
        ]
    for node in nodes:
        node.setdefault("version", "develop")
    return 200, {"applicationId": ctx.app_id, "customNodes": nodes}
