"""Generic behaviour for endpoints without a dedicated handler.

* ``list``/``create`` on a collection and ``get``/``patch``/``delete`` on its items keep
  whatever JSON was posted, plus ``id``, the item id field (``flowId``...), the parent
  path ids and ``creationDate``/``lastUpdated``. Lists honour ``filterField``/``filter``
  (glob), ``sortField``/``sortDirection`` and the endpoint's pagination style. Deleting
  an item also forgets everything stored below it.
* Any other action answers its first documented success status with a minimal valid
  body: ``{"success": true}``, a queued-job receipt, the owning item, an empty list or an
  empty object, as its response schema calls for.
* Server-Sent-Event streams are served by ``_streams.py``, before any handler.
"""

from __future__ import annotations

import copy
import re

from .._catalog import endpoints
from ._context import Ctx, Reply
from ._errors import Fault, not_found, validation
from ._ids import new_id, now_iso
from ._pagination import paginate
from ._queries import glob_match, sort_docs
from ._routes import owner_items, path_params
from ._store import Doc, Store

_HEX_ID = re.compile(r"^[A-Fa-f\d]{24}$")

# Response schemas that are JSON arrays (answered with ``[]``).
ARRAY_SCHEMAS = frozenset(
    {
        "applicationImportExecutions",
        "applicationSearchResult",
        "deviceCommands",
        "deviceLog",
        "deviceStates",
        "flowLog",
        "notebookExecutionLogs",
        "notificationRuleDeliveryLogs",
        "orgInvites",
        "orgInvitesUser",
        "resourceJobExecutionLogs",
    }
)

# Fields a generic document of these collections must not carry (their schemas forbid them).
_OMIT: dict[str, frozenset[str]] = {
    "/applications/{applicationId}/credentials": frozenset({"credentialId"}),
    "/instances/{instanceId}/members": frozenset({"id", "creationDate", "lastUpdated"}),
    "/instances/{instanceId}/orgs/{orgId}/members": frozenset(
        {"id", "creationDate", "lastUpdated", "applicationRoles", "dashboardRoles"}
    ),
}

# Endpoints whose answer carries only some fields of the stored document.
_ANSWER_FIELDS: dict[str, tuple[str, ...]] = {"instanceMember.patch": ("role",)}

# Write-only fields: accepted when posted, never sent back (credential secrets).
_WRITE_ONLY = frozenset(
    {
        "secretAccessKey",
        "accountKey",
        "keyJson",
        "secretValue",
        "apiKey",
        "apiKeySecret",
        "customerToken",
        "secret",
        "accessToken",
        "password",
        "connectionUri",
        "generatePrivateKey",
        "privateKey",
    }
)
_SECRET_COLLECTIONS = frozenset({"/applications/{applicationId}/credentials"})

# Values filled in when a created document lacks them.
_DEFAULTS: dict[str, dict[str, object]] = {
    "/applications/{applicationId}/flows": {"flowClass": "cloud", "enabled": True},
    "/applications/{applicationId}/flows/{flowId}/versions": {"flowClass": "cloud"},
}


def _label(ctx: Ctx) -> str:
    name = ctx.route.item_param or str(ctx.endpoint.raw.get("resource", "resource"))
    name = re.sub(r"Id(OrName)?$", "", name)
    return name[:1].upper() + name[1:]


def _id_field(item_param: str | None) -> str | None:
    if item_param and item_param.endswith("Id"):
        return item_param
    return None


def _find(ctx: Ctx) -> Doc:
    assert ctx.route.collection is not None and ctx.route.item_param is not None
    docs = ctx.store.collection(ctx.route.collection, ctx.parents())
    wanted = ctx.args[ctx.route.item_param]
    doc = docs.get(wanted)
    if doc is None:
        doc = next((d for d in docs.values() if named(d, wanted, ctx.route.item_param)), None)
    if doc is None:
        raise not_found(_label(ctx))
    return doc


def _success_status(ctx: Ctx) -> int:
    codes = sorted(int(code) for code in ctx.endpoint.responses if code.startswith("2"))
    return codes[0] if codes else 200


def _strip(ctx: Ctx, doc: Doc) -> Doc:
    collection = ctx.route.collection or ""
    omit = _OMIT.get(collection, frozenset())
    out = {k: copy.deepcopy(v) for k, v in doc.items() if k not in omit}
    if collection in _SECRET_COLLECTIONS:
        for value in out.values():
            if isinstance(value, dict):
                for key in _WRITE_ONLY & set(value):
                    del value[key]
    return out


def generic_list(ctx: Ctx) -> Reply:
    """List a collection (filter, sort, paginate)."""
    assert ctx.route.collection is not None
    with ctx.store.lock:
        docs = [
            _strip(ctx, d)
            for d in ctx.store.collection(ctx.route.collection, ctx.parents()).values()
        ]
    pattern = ctx.query.get("filter")
    if pattern:
        field = ctx.query.get("filterField") or _first_enum(ctx, "filterField", "name")
        docs = [d for d in docs if glob_match(pattern, d.get(field, ""))]
    sort_field = ctx.query.get("sortField") or ctx.default_of("sortField", None)
    direction = ctx.query.get("sortDirection") or str(ctx.default_of("sortDirection", "asc"))
    if direction.lower() not in ("asc", "desc"):
        raise validation("sortDirection must be asc or desc")
    if sort_field:
        docs = sort_docs(docs, str(sort_field), direction)
    if ctx.endpoint.success_schema(200) in ARRAY_SCHEMAS:
        return 200, docs
    out = paginate(ctx, docs)
    if ctx.endpoint.pagination is None:
        out.pop("totalCount", None)
    if sort_field and ctx.endpoint.pagination:
        out.update(sortField=str(sort_field), sortDirection=direction)
    return 200, out


def _first_enum(ctx: Ctx, name: str, fallback: str) -> str:
    for param in ctx.endpoint.params:
        if param.name == name and param.enum:
            return str(param.enum[0])
    return fallback


def generic_create(ctx: Ctx) -> Reply:
    """Store the posted document with an id, parent ids and timestamps."""
    assert ctx.route.collection is not None
    body = ctx.body_dict()
    item_param = ctx.route.item_param
    given = body.get(item_param) if item_param else None
    doc_id = given if isinstance(given, str) and _HEX_ID.match(given) else None
    body = {**_DEFAULTS.get(ctx.route.collection, {}), **body}
    with ctx.store.lock:
        if ctx.route.collection.endswith("/flows/{flowId}/versions"):
            flow = ctx.store.find(
                "/applications/{applicationId}/flows",
                (ctx.args["applicationId"],),
                ctx.args["flowId"],
            )
            if flow is not None and "flowClass" in flow:
                body["flowClass"] = flow["flowClass"]
        doc = ctx.store.insert(
            ctx.route.collection,
            ctx.parents(),
            body,
            id_field=_id_field(item_param),
            doc_id=doc_id,
        )
        return _success_status(ctx), _strip(ctx, doc)


def generic_get(ctx: Ctx) -> Reply:
    """One stored document."""
    with ctx.store.lock:
        return 200, _strip(ctx, _find(ctx))


def generic_patch(ctx: Ctx) -> Reply:
    """Merge the body into a stored document."""
    body = ctx.body_dict()
    with ctx.store.lock:
        doc = _find(ctx)
        protected = {"id", _id_field(ctx.route.item_param), *ctx.route.parent_params}
        for key, value in body.items():
            if key in protected:
                continue
            if value is None:
                doc.pop(key, None)
            else:
                doc[key] = value
        doc["lastUpdated"] = now_iso()
        out = _strip(ctx, doc)
    fields = _ANSWER_FIELDS.get(ctx.endpoint.id)
    if fields:
        out = {k: v for k, v in out.items() if k in fields}
    return _success_status(ctx), out


def generic_delete(ctx: Ctx) -> Reply:
    """Forget a document and everything stored below it."""
    with ctx.store.lock:
        doc = _find(ctx)
        assert ctx.route.collection is not None
        ctx.store.collection(ctx.route.collection, ctx.parents()).pop(doc["id"], None)
        below = ctx.endpoint.path
        values = (*ctx.parents(), doc["id"])
        forget_below(ctx.store, below, values)
        for token, info in list(ctx.store.tokens.items()):
            if info.kind == "apiToken" and info.subject_id == doc["id"]:
                del ctx.store.tokens[token]
    return 200, {"success": True}


def forget_below(store: Store, item_path: str, values: tuple[str, ...]) -> None:
    """Drop every collection under an item (``/applications/{applicationId}/...``)."""
    for key in list(store.collections):
        template, parents = key
        if template.startswith(item_path + "/") and parents[: len(values)] == values:
            del store.collections[key]


def _item_schema(item_path: str) -> str | None:
    for ep in endpoints().values():
        if ep.method == "GET" and ep.path == item_path:
            return ep.success_schema(200)
    return None


def generic_action(ctx: Ctx) -> Reply:
    """A minimal valid answer for an action the emulator does not model."""
    if ctx.endpoint.sse:
        raise Fault(501, "NotImplemented", "The emulator does not serve event streams")
    responses = {
        code: name for code, name in ctx.endpoint.responses.items() if code.startswith("2")
    }
    if "jobEnqueuedResult" in responses.values():
        return 202, {"jobQueued": True, "jobId": new_id()[:21], "success": True}
    status = _success_status(ctx)
    schema = responses.get(str(status))
    if schema is None:
        return status, None
    if schema == "success":
        return status, {"success": True}
    if schema == "successWithExecutionId":
        return status, {"success": True, "executionId": new_id()}
    if schema in ARRAY_SCHEMAS:
        return status, []
    owners = owner_items(ctx.endpoint.path)
    with ctx.store.lock:
        for collection, _item, item_path in reversed(owners):
            if _item_schema(item_path) != schema:
                continue
            names = path_params(item_path)
            parents = tuple(ctx.args[n] for n in names[:-1])
            doc = ctx.store.find(collection, parents, ctx.args[names[-1]])
            if doc is None:
                raise not_found(_label(ctx))
            if ctx.endpoint.method == "PATCH" and isinstance(ctx.body, dict):
                doc.update(ctx.body)
                doc["lastUpdated"] = now_iso()
            return status, copy.deepcopy(doc)
    return status, {}


def named(doc: Doc, wanted: str, param: str | None) -> bool:
    """Does an id-or-name parameter name this document (experience versions go by their
    ``version``)?"""
    if doc.get("name") == wanted:
        return True
    return bool(param and param.endswith("IdOrName") and doc.get("version") == wanted)


def check_parents(store: Store, ctx_args: dict[str, str], path: str, own: bool) -> None:
    """404 unless every item the path goes through exists (the last one only if ``own``)."""
    for collection, _item, item_path in owner_items(path):
        if item_path == path and not own:
            continue
        names = path_params(item_path)
        parents = tuple(ctx_args[n] for n in names[:-1])
        wanted = ctx_args[names[-1]]
        docs = store.collections.get((collection, parents), {})
        if wanted not in docs and not any(named(d, wanted, names[-1]) for d in docs.values()):
            resource = item_path.rsplit("/", 2)[-2] if item_path.count("/") >= 2 else item_path
            raise not_found(_resource_label(resource))


def _resource_label(segment: str) -> str:
    words = re.sub(r"[-_]", " ", segment).strip()
    if words.endswith("s"):
        words = words[:-1]
    return words[:1].upper() + words[1:] if words else "Resource"
