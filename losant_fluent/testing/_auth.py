"""Bearer tokens: issuing them and deciding which endpoints each may call.

The scope rule the emulator enforces:

* ``/auth/*`` endpoints need no token.
* A user token (scope ``all.User``, from ``/auth/user``) may call every other endpoint.
* A device token (scope ``all.Device``, from ``/auth/device``) may call only the actions in
  :data:`DEVICE_ACTIONS`, and only on its own device (same ``applicationId`` and
  ``deviceId`` in the path). Anything else answers 403 ``Forbidden``.
* An API token created through ``.../tokens`` holds the ``scope`` list it was created
  with: ``all.User`` allows everything, ``all.Application`` everything under its own
  application, otherwise an endpoint is allowed when one of its action scopes
  (``devices.get``) or resource scopes (``devices.*``) is listed.

A missing, unknown or expired token answers 401 ``Unauthorized``.
"""

from __future__ import annotations

import time

from .._catalog import Endpoint
from ._errors import Fault
from ._ids import token_string
from ._store import Store, TokenInfo

DEVICE_ACTIONS = frozenset(
    {
        "device.get",
        "device.getState",
        "device.sendState",
        "device.getCommand",
        "device.getCompositeState",
        "device.setConnectionStatus",
        "device.commandStream",
        "device.stateStream",
        "deviceAttributes.get",
        "deviceAttribute.get",
    }
)


def issue(
    store: Store,
    kind: str,
    subject_id: str,
    scopes: tuple[str, ...],
    *,
    ttl: float | None,
    application_id: str | None = None,
) -> str:
    """Create and remember a token; ``ttl`` seconds until it expires (``None``: never)."""
    token = token_string()
    expires = time.time() + ttl if ttl is not None else None
    with store.lock:
        store.tokens[token] = TokenInfo(kind, subject_id, scopes, application_id, expires)
    return token


def _unauthorized(message: str) -> Fault:
    return Fault(401, "Unauthorized", message)


def authorize(
    store: Store, endpoint: Endpoint, args: dict[str, str], header: str | None
) -> TokenInfo | None:
    """Check the ``Authorization`` header against the scope rule (module docstring)."""
    if endpoint.id.startswith("auth."):
        return None
    if not header or not header.lower().startswith("bearer "):
        raise _unauthorized("Authorization header with a bearer token is required")
    token = header[7:].strip()
    with store.lock:
        info = store.tokens.get(token)
    if info is None:
        raise _unauthorized("Invalid token")
    if info.expires_at is not None and time.time() >= info.expires_at:
        raise _unauthorized("Token has expired")
    if not _allowed(info, endpoint, args):
        raise Fault(
            403,
            "Forbidden",
            f"Token does not grant the {endpoint.scopes[0] if endpoint.scopes else endpoint.id}"
            " scope for this resource",
        )
    return info


def _allowed(info: TokenInfo, endpoint: Endpoint, args: dict[str, str]) -> bool:
    scopes = set(info.scopes)
    if "all.User" in scopes:
        return True
    if info.kind == "device":
        return (
            endpoint.id in DEVICE_ACTIONS
            and args.get("applicationId") == info.application_id
            and args.get("deviceId") == info.subject_id
        )
    app = args.get("applicationId")
    if info.application_id is not None and app != info.application_id:
        return False
    if "all.Application" in scopes and app is not None:
        return True
    wanted = set(endpoint.scopes) | set(endpoint.resource_scopes)
    return bool(scopes & wanted)
