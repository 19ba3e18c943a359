"""Logins and the things that belong to the account: ``/auth``, ``/me``, applications,
application keys and API tokens, and resource transfers between owners."""

from __future__ import annotations

import base64
import binascii
import copy
import secrets
import uuid
from typing import Any
from urllib.parse import quote

from ._auth import issue
from ._context import Ctx, Reply, handles, require
from ._devices import app_devices, tag_filter_match
from ._errors import Fault, validation
from ._ids import now_iso
from ._store import APP_TOKENS, APPLICATIONS, KEYS, ORGS, USER_TOKENS, Doc, Store, User

DASHBOARDS = "/dashboards"


def _ttl(ctx: Ctx, body: dict[str, Any]) -> float | None:
    ttl = ctx.settings.token_ttl
    asked = body.get("tokenTTL")
    if isinstance(asked, (int, float)) and not isinstance(asked, bool) and asked > 0:
        ttl = float(asked) if ttl is None else min(ttl, float(asked))
    return ttl


def current_user(ctx: Ctx) -> User:
    """The user behind the request's token (the seeded user for other tokens)."""
    with ctx.store.lock:
        for user in ctx.store.users.values():
            if ctx.principal is None or user.id == ctx.principal.subject_id:
                return user
        return next(iter(ctx.store.users.values()))


@handles("auth.authenticateUser")
def login_user(ctx: Ctx) -> Reply:
    """Check email and password; answer ``{userId, token}`` with an ``all.User`` token."""
    body = ctx.body_dict()
    require(body, "email", "password")
    with ctx.store.lock:
        user = ctx.store.users.get(str(body["email"]).lower())
    if user is None or not secrets.compare_digest(user.password, str(body["password"])):
        raise Fault(401, "Unauthorized", "Invalid email or password")
    token = issue(ctx.store, "user", user.id, ("all.User",), ttl=_ttl(ctx, body))
    return 200, {"userId": user.id, "token": token}


def _find_key(store: Store, key: str) -> tuple[str, Doc] | None:
    for (template, parents), docs in store.collections.items():
        if template != KEYS:
            continue
        for doc in docs.values():
            if doc.get("key") == key:
                return parents[0], doc
    return None


def key_allows(doc: Doc, device: Doc) -> bool:
    """Does an application key let this device log in?

    A key without ``deviceIds`` and ``deviceTags`` allows every device of its
    application; otherwise the device must be listed or carry one of the tags.
    """
    ids = doc.get("deviceIds") or []
    tags = doc.get("deviceTags") or []
    if not ids and not tags:
        return True
    return device["id"] in ids or any(tag_filter_match(device, [tag]) for tag in tags)


@handles("auth.authenticateDevice")
def login_device(ctx: Ctx) -> Reply:
    """Check an application key and secret for a device; answer with an ``all.Device`` token."""
    body = ctx.body_dict()
    require(body, "deviceId", "key", "secret")
    with ctx.store.lock:
        found = _find_key(ctx.store, str(body["key"]))
        secret = ctx.store.key_secrets.get(found[1]["id"]) if found else None
        if (
            found is None
            or secret is None
            or not secrets.compare_digest(secret, str(body["secret"]))
            or found[1].get("status", "active") != "active"
        ):
            raise Fault(401, "Unauthorized", "Invalid access key or secret")
        app_id, key = found
        device = app_devices(ctx.store, app_id).get(str(body["deviceId"]))
        if device is None or not key_allows(key, device):
            raise Fault(401, "Unauthorized", "This access key is not allowed for that device")
    token = issue(
        ctx.store,
        "device",
        device["id"],
        ("all.Device",),
        ttl=_ttl(ctx, body),
        application_id=app_id,
    )
    return 200, {
        "applicationId": app_id,
        "deviceId": device["id"],
        "deviceClass": device.get("deviceClass", "standalone"),
        "token": token,
        "ownerType": "user",
        "filterType": "none",
        "pubTopics": [],
        "subTopics": [],
    }


@handles("me.get")
def get_me(ctx: Ctx) -> Reply:
    """The logged-in user's profile."""
    return 200, copy.deepcopy(current_user(ctx).doc)


@handles("me.patch")
def patch_me(ctx: Ctx) -> Reply:
    """Change profile fields (names, company, title, phone, location, url), the email (the
    new one logs in from now on; an email another user has is refused) and the password."""
    body = ctx.body_dict()
    allowed = ("firstName", "lastName", "companyName", "title", "phoneNumber", "location", "url")
    with ctx.store.lock:
        user = current_user(ctx)
        email = body.get("email")
        if isinstance(email, str) and email.lower() != user.email.lower():
            if email.lower() in ctx.store.users:
                raise validation("email is already used by another user")
            del ctx.store.users[user.email.lower()]
            user.email = email
            user.doc["email"] = email
            ctx.store.users[email.lower()] = user
        if isinstance(body.get("password"), str):
            user.password = body["password"]
            user.doc["passwordLastUpdated"] = now_iso()
        user.doc.update({k: v for k, v in body.items() if k in allowed})
        if "firstName" in body or "lastName" in body:
            user.doc["fullName"] = f"{user.doc.get('firstName', '')} {user.doc.get('lastName', '')}"
        user.doc["lastUpdated"] = now_iso()
        return 200, copy.deepcopy(user.doc)


def _check_password(user: User, body: dict[str, Any]) -> None:
    if not secrets.compare_digest(user.password, str(body.get("password", ""))):
        raise validation("password is wrong")


@handles("me.generateTwoFactorAuth")
def generate_two_factor(ctx: Ctx) -> Reply:
    """A new two-factor key (base32) and its ``otpauth://`` URI for an authenticator app."""
    user = current_user(ctx)
    key = base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")
    with ctx.store.lock:
        ctx.store.extras.setdefault("two_factor_keys", {})[user.id] = key
    uri = f"otpauth://totp/Losant:{quote(user.email)}?secret={key}&issuer=Losant"
    return 200, {"key": key, "keyUri": uri}


@handles("me.enableTwoFactorAuth", "me.disableTwoFactorAuth", "me.disconnectGithub")
def two_factor(ctx: Ctx) -> Reply:
    """Turn two-factor login on or off (the password must be right; any six-digit code is
    taken, the emulator keeping no clock for codes), or unlink GitHub; answers the user."""
    body = ctx.body_dict()
    with ctx.store.lock:
        user = current_user(ctx)
        if ctx.endpoint.id == "me.disconnectGithub":
            user.doc.pop("githubName", None)
        else:
            _check_password(user, body)
            user.doc["twoFactorAuthEnabled"] = ctx.endpoint.id == "me.enableTwoFactorAuth"
        user.doc["lastUpdated"] = now_iso()
        return 200, copy.deepcopy(user.doc)


@handles("me.refreshToken", "me.changePassword")
def refresh_token(ctx: Ctx) -> Reply:
    """A fresh user token (``changePassword`` also sets the new password)."""
    body = ctx.body_dict()
    user = current_user(ctx)
    if ctx.endpoint.id == "me.changePassword":
        require(body, "password", "newPassword")
        if body["password"] != user.password:
            raise validation("The current password is wrong")
        with ctx.store.lock:
            user.password = str(body["newPassword"])
    token = issue(ctx.store, "user", user.id, ("all.User",), ttl=_ttl(ctx, {}))
    return 200, {"userId": user.id, "token": token}


@handles("applications.post")
def post_application(ctx: Ctx) -> Reply:
    """Create an application owned by the logged-in user."""
    body = ctx.body_dict()
    require(body, "name")
    user = current_user(ctx)
    with ctx.store.lock:
        doc = ctx.store.insert(
            APPLICATIONS,
            (),
            {k: v for k, v in body.items() if k not in ("orgId", "applicationTemplateId")},
            id_field="applicationId",
            extra_fields={"ownerId": user.id, "ownerType": "user"},
        )
        return 201, copy.deepcopy(doc)


@handles("applicationKeys.post")
def post_key(ctx: Ctx) -> Reply:
    """Create an access key; the secret is shown only in this answer."""
    body = ctx.body_dict()
    secret = secrets.token_hex(32)
    fields = {
        "key": str(uuid.uuid4()),
        "status": "active",
        "filterType": "none",
        "deviceIds": [],
        "deviceTags": [],
        "createdByType": "user",
        **body,
    }
    with ctx.store.lock:
        doc = ctx.store.insert(
            KEYS,
            (ctx.app_id,),
            fields,
            id_field="applicationKeyId",
        )
        ctx.store.key_secrets[doc["id"]] = secret
        return 201, {**copy.deepcopy(doc), "secret": secret}


@handles("applicationApiTokens.post", "userApiTokens.post")
def post_api_token(ctx: Ctx) -> Reply:
    """Create an API token; its ``token`` string is shown only in this answer."""
    body = ctx.body_dict()
    require(body, "name")
    for_app = ctx.endpoint.id.startswith("application")
    scopes = body.get("scope") or (["all.Application"] if for_app else ["all.User"])
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise validation("scope must be an array of strings")
    owner = ctx.app_id if for_app else current_user(ctx).id
    template, parents = (APP_TOKENS, (ctx.app_id,)) if for_app else (USER_TOKENS, ())
    with ctx.store.lock:
        doc = ctx.store.insert(
            template,
            parents,
            {**body, "scope": scopes, "status": "active"},
            id_field="apiTokenId",
            extra_fields={
                "ownerId": owner,
                "ownerType": "application" if for_app else "user",
                "creatorType": "user",
            },
        )
    token = issue(
        ctx.store,
        "apiToken",
        doc["id"],
        tuple(scopes),
        ttl=None,
        application_id=ctx.app_id if for_app else None,
    )
    return 201, {**copy.deepcopy(doc), "token": token}


@handles("auth.authenticateUserGithub", "auth.authenticateUserSaml")
def login_elsewhere(ctx: Ctx) -> Reply:
    """GitHub and SAML logins, without GitHub or an identity provider to ask: a SAML
    response (base64 XML) naming a known user's email logs that user in; any other
    response, and any GitHub access token, logs in the seeded user."""
    body = ctx.body_dict()
    with ctx.store.lock:
        users = list(ctx.store.users.values())
        user = users[0]
        saml = body.get("SAMLResponse")
        if isinstance(saml, str):
            try:
                text = base64.b64decode(saml + "=" * (-len(saml) % 4)).decode("utf-8", "replace")
            except (ValueError, binascii.Error):
                text = saml
            user = next((u for u in users if u.email.lower() in text.lower()), user)
    token = issue(ctx.store, "user", user.id, ("all.User",), ttl=_ttl(ctx, body))
    return 200, {"userId": user.id, "token": token}


@handles("auth.ssoDomain")
def sso_domain(ctx: Ctx) -> Reply:
    """No email domain uses single sign-on here: 204 with no body."""
    return 204, None


@handles("me.fetchRecentItems", "me.addRecentItem")
def recent_items(ctx: Ctx) -> Reply:
    """The user's recently viewed items of one ``itemType`` (adding one first for POST)."""
    body = ctx.body_dict()
    item_type = str(body.get("itemType") or ctx.query.get("itemType") or "application")
    parent = body.get("parentId") or ctx.query.get("parentId")
    with ctx.store.lock:
        recent: dict[str, list[Doc]] = ctx.store.extras.setdefault("recent", {})
        items = recent.setdefault(f"{item_type}:{parent or ''}", [])
        if ctx.endpoint.method == "POST":
            require(body, "itemId")
            items[:] = [i for i in items if i["id"] != body["itemId"]]
            items.insert(
                0, {"id": str(body["itemId"]), "name": str(body.get("name") or body["itemId"])}
            )
            del items[20:]
        out: Doc = {"itemType": item_type, "items": copy.deepcopy(items)}
    if parent:
        out["parentId"] = parent
    return 200, out


@handles("me.transferResources", "org.transferResources")
def transfer_resources(ctx: Ctx) -> Reply:
    """Give applications and dashboards to a user or an organization: their owner fields
    change (``orgId`` too). Unknown ids are skipped, or refused with ``strict``."""
    body = ctx.body_dict()
    require(body, "destinationId", "destinationType")
    target, kind = str(body["destinationId"]), str(body["destinationType"])
    with ctx.store.lock:
        if kind == "organization":
            known = ctx.store.find(ORGS, (), target) is not None
        else:
            known = any(user.id == target for user in ctx.store.users.values())
        if not known:
            raise validation(f"destinationId names no {kind}")
        for field, template in (("applicationIds", APPLICATIONS), ("dashboardIds", DASHBOARDS)):
            for doc_id in body.get(field) or []:
                doc = ctx.store.find(template, (), doc_id)
                if doc is None:
                    if body.get("strict"):
                        raise validation(f"{field} holds {doc_id}, which does not exist")
                    continue
                doc.update(ownerId=target, ownerType=kind, lastUpdated=now_iso())
                if kind == "organization":
                    doc["orgId"] = target
                else:
                    doc.pop("orgId", None)
    return 200, {"success": True}
