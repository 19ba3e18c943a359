"""Organization invites, one store for every way the API reaches them: ``/orgs/{orgId}/
invites`` (invite, pending, revoke), the instance's ``.../orgs/{orgId}/invites``, the
invitee's ``/invites`` (by token) and the invited user's ``/me/invites``.

The emulator sends no email: :meth:`Emulator.invite_token` gives the token the email
would carry, so a test can accept or reject an invite with ``/invites``.
"""

from __future__ import annotations

import copy
import secrets
from typing import Any

from ._context import Ctx, Reply, handles, require
from ._errors import not_found
from ._ids import now_iso
from ._pagination import paginate
from ._queries import glob_match, sort_docs
from ._store import INSTANCE_ORGS, ORGS, Doc, Store

INVITES = "/orgs/{orgId}/invites"
ME_INVITES = "/me/invites"
TTL_MS = 4_233_600_000  # 49 days, the example's ttl
_PUBLIC = (
    "id",
    "email",
    "role",
    "inviteDate",
    "ttl",
    "hasExpired",
    "disallowTransfer",
    "applicationRoles",
    "dashboardRoles",
)


def _tokens(store: Store) -> dict[str, tuple[str, str]]:
    """Invite token -> (orgId, inviteId)."""
    found: dict[str, tuple[str, str]] = store.extras.setdefault("invite_tokens", {})
    return found


def invite_token(store: Store, email: str) -> str | None:
    """The token of the newest pending invite to ``email`` (what the invite email holds)."""
    with store.lock:
        newest: tuple[str, str] | None = None
        for token, (org_id, invite_id) in _tokens(store).items():
            doc = store.find(INVITES, (org_id,), invite_id)
            if doc is not None and str(doc.get("email", "")).lower() == email.lower():
                if newest is None or doc["inviteDate"] >= newest[1]:
                    newest = (token, doc["inviteDate"])
        return newest[0] if newest else None


def _org_name(store: Store, org_id: str) -> str:
    org = store.find(ORGS, (), org_id)
    for (template, _parents), docs in store.collections.items():
        if org is None and template == INSTANCE_ORGS and org_id in docs:
            org = docs[org_id]
    return str((org or {}).get("name") or "Organization")


def _public(doc: Doc) -> Doc:
    return {k: copy.deepcopy(doc[k]) for k in _PUBLIC if k in doc}


INSTANCE_INVITES = "/instances/{instanceId}/orgs/{orgId}/invites"


def _invites(ctx: Ctx) -> dict[str, Doc]:
    """The organization's invites; the instance's view of them is the same dict."""
    return org_invites_of(ctx.store, ctx.args["orgId"])


def org_invites_of(store: Store, org_id: str) -> dict[str, Doc]:
    """One organization's invites, shared with every instance listing the organization
    (so the generic checks that an instance invite exists see them too)."""
    docs = store.collection(INVITES, (org_id,))
    for (template, parents), orgs in list(store.collections.items()):
        if template != INSTANCE_ORGS or org_id not in orgs:
            continue
        key = (INSTANCE_INVITES, (parents[0], org_id))
        other = store.collections.get(key)
        if other is not None and other is not docs:
            docs.update(other)
        store.collections[key] = docs
    return docs


def _create(ctx: Ctx) -> Doc:
    body = ctx.body_dict()
    require(body, "email", "role")
    org_id = ctx.args["orgId"]
    fields: Doc = {
        "applicationRoles": [],
        "dashboardRoles": [],
        "disallowTransfer": False,
        **copy.deepcopy(body),
        "inviteDate": now_iso(),
        "ttl": TTL_MS,
        "hasExpired": False,
    }
    org_invites_of(ctx.store, org_id)
    doc = ctx.store.insert(INVITES, (org_id,), fields, id_field="inviteId", stamps=False)
    _tokens(ctx.store)[secrets.token_urlsafe(24)] = (org_id, doc["id"])
    if str(body["email"]).lower() in ctx.store.users:  # the invitee sees it in /me/invites
        ctx.store.collection(ME_INVITES, ())[doc["id"]] = {
            "id": doc["id"],
            "orgId": org_id,
            "orgName": _org_name(ctx.store, org_id),
            "role": doc["role"],
            "inviteDate": doc["inviteDate"],
            "ttl": TTL_MS,
            "expired": False,
            "requiresMFA": False,
        }
    return doc


def _remove(store: Store, org_id: str, invite_id: str) -> Doc | None:
    doc = org_invites_of(store, org_id).pop(invite_id, None)
    store.collection(ME_INVITES, ()).pop(invite_id, None)
    for token, where in list(_tokens(store).items()):
        if where == (org_id, invite_id):
            del _tokens(store)[token]
    return doc


def _pending(ctx: Ctx) -> list[Doc]:
    return [_public(d) for d in _invites(ctx).values()]


@handles("org.inviteMember", "org.pendingInvites", "org.revokeInvite")
def org_invites(ctx: Ctx) -> Reply:
    """Invite (``POST``), list (``GET``) or revoke (``DELETE ?inviteId=``); each answers the
    organization's pending invites."""
    with ctx.store.lock:
        if ctx.endpoint.method == "POST":
            _create(ctx)
        elif ctx.endpoint.method == "DELETE":
            if _remove(ctx.store, ctx.args["orgId"], ctx.query.get("inviteId", "")) is None:
                raise not_found("Invite")
        return 200, _pending(ctx)


@handles("instanceOrgInvites.post", "instanceOrgInvites.get")
def instance_org_invites(ctx: Ctx) -> Reply:
    """The same invites seen from the instance: a page of them (after inviting, for ``POST``)."""
    with ctx.store.lock:
        status = 200
        if ctx.endpoint.method == "POST":
            _create(ctx)
            status = 201
        docs = _pending(ctx)
    pattern = ctx.query.get("filter")
    field = ctx.query.get("filterField") or "email"
    if pattern:
        docs = [d for d in docs if glob_match(pattern, d.get(field, ""))]
    sort_field = ctx.query.get("sortField") or str(ctx.default_of("sortField", "email"))
    direction = ctx.query.get("sortDirection") or str(ctx.default_of("sortDirection", "asc"))
    docs = sort_docs(docs, sort_field, direction)
    out = paginate(ctx, docs)
    for key in ("page", "perPage"):
        out.pop(key, None)
    out.update(
        instanceId=ctx.args["instanceId"],
        orgId=ctx.args["orgId"],
        sortField=sort_field,
        sortDirection=direction,
    )
    if pattern:
        out.update(filter=pattern, filterField=field)
    return status, out


@handles("instanceOrgInvite.get", "instanceOrgInvite.delete", "instanceOrgInvite.resendInvite")
def instance_org_invite(ctx: Ctx) -> Reply:
    """One invite: read, revoke, or resend (a new date and token, roles from the body)."""
    with ctx.store.lock:
        doc = _invites(ctx).get(ctx.args["inviteId"])
        if doc is None:
            raise not_found("Invite")
        if ctx.endpoint.method == "DELETE":
            _remove(ctx.store, ctx.args["orgId"], doc["id"])
            return 200, {"success": True}
        if ctx.endpoint.method == "POST":
            doc.update(copy.deepcopy(ctx.body_dict()))
            doc["inviteDate"] = now_iso()
            tokens = _tokens(ctx.store)
            for token, where in list(tokens.items()):
                if where == (ctx.args["orgId"], doc["id"]):
                    del tokens[token]
            tokens[secrets.token_urlsafe(24)] = (ctx.args["orgId"], doc["id"])
            return 201, _public(doc)
        return 200, _public(doc)


def _by_token(ctx: Ctx, token: Any, email: Any) -> tuple[str, Doc]:
    where = _tokens(ctx.store).get(str(token))
    doc = ctx.store.find(INVITES, (where[0],), where[1]) if where else None
    if where is None or doc is None or str(doc.get("email", "")).lower() != str(email).lower():
        raise not_found("Invite")
    return where[0], doc


@handles("orgInvites.get")
def invite_info(ctx: Ctx) -> Reply:
    """What an invite token (and the invited email) stands for."""
    with ctx.store.lock:
        org_id, doc = _by_token(ctx, ctx.query.get("token"), ctx.query.get("email", ""))
        info = {k: doc[k] for k in ("email", "role", "inviteDate", "ttl", "disallowTransfer")}
        info["orgName"] = _org_name(ctx.store, org_id)
    return 200, copy.deepcopy(info)


@handles("orgInvites.post")
def answer_invite(ctx: Ctx) -> Reply:
    """Accept or reject an invite by its token; either way it is no longer pending."""
    body = ctx.body_dict()
    require(body, "token", "email")
    with ctx.store.lock:
        org_id, doc = _by_token(ctx, body["token"], body["email"])
        accepted = bool(body.get("accept"))
        _remove(ctx.store, org_id, doc["id"])
        if accepted:
            _join(ctx.store, org_id, str(doc["email"]), str(doc.get("role", "view")))
    return 200, {"accepted": accepted, "orgId": org_id}


@handles("me.respondToInvite")
def respond_to_invite(ctx: Ctx) -> Reply:
    """The invited user accepts, rejects or dismisses an invite from ``/me/invites``."""
    body = ctx.body_dict()
    require(body, "action")
    with ctx.store.lock:
        mine = ctx.store.collection(ME_INVITES, ())
        doc = mine.get(ctx.args["inviteId"])
        if doc is None:
            raise not_found("Invite")
        org_id = str(doc.get("orgId") or "")
        action = str(body["action"])
        if action == "dismiss":
            doc["dismissed"] = True
        else:
            mine.pop(doc["id"], None)
            invite = _remove(ctx.store, org_id, doc["id"]) if org_id else None
            if action == "accept" and invite is not None:
                _join(ctx.store, org_id, str(invite["email"]), str(invite.get("role", "view")))
    result = {"accept": "accepted", "reject": "rejected", "dismiss": "dismissed"}[action]
    out: Doc = {"result": result}
    if org_id:
        out["orgId"] = org_id
    return 200, out


def _join(store: Store, org_id: str, email: str, role: str) -> None:
    """Make a known user a member of the organization."""
    user = store.users.get(email.lower())
    org = store.find(ORGS, (), org_id)
    if user is None or org is None:
        return
    members = org.setdefault("members", [])
    if not any(m.get("userId") == user.id for m in members):
        members.append({"userId": user.id, "role": role})
