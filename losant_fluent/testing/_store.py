"""The emulator's in-memory state, guarded by one lock.

Everything addressable by a path lives in ``collections``: a mapping from a collection
path template (``"/applications/{applicationId}/devices"``) plus the values of its path
parameters to the documents of that collection, in creation order. Device state history,
commands, data table rows, issued tokens and credentials live beside it.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ._ids import new_id, now_iso
from ._limits import LimitSettings

_TEMPLATE_PARAM = re.compile(r"\{(\w+)\}")

Doc = dict[str, Any]
Key = tuple[str, tuple[str, ...]]

APPLICATIONS = "/applications"
DEVICES = "/applications/{applicationId}/devices"
KEYS = "/applications/{applicationId}/keys"
APP_TOKENS = "/applications/{applicationId}/tokens"
DATA_TABLES = "/applications/{applicationId}/data-tables"
EVENTS = "/applications/{applicationId}/events"
WEBHOOKS = "/applications/{applicationId}/webhooks"
INSTANCES = "/instances"
INSTANCE_ORGS = "/instances/{instanceId}/orgs"
SANDBOXES = "/instances/{instanceId}/sandboxes"
ORGS = "/orgs"
USER_TOKENS = "/me/tokens"


@dataclass
class Settings:
    """Behaviour knobs fixed when the emulator is built."""

    token_ttl: float | None = None
    state_limit: int = 30
    state_window: float = 15.0
    limits: LimitSettings = field(default_factory=LimitSettings)  # throttles, caps, jobs


@dataclass
class TokenInfo:
    """What a bearer token stands for: who holds it, its scopes and when it expires."""

    kind: str  # "user", "device" or "apiToken"
    subject_id: str
    scopes: tuple[str, ...]
    application_id: str | None = None
    expires_at: float | None = None  # time.time() seconds


@dataclass
class User:
    """The account ``/auth/user`` accepts."""

    id: str
    email: str
    password: str
    doc: Doc


@dataclass
class Store:
    """All state of one emulator; every access goes through ``lock``."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    collections: dict[Key, dict[str, Doc]] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    tokens: dict[str, TokenInfo] = field(default_factory=dict)
    key_secrets: dict[str, str] = field(default_factory=dict)  # applicationKeyId -> secret
    states: dict[str, list[tuple[int, Doc]]] = field(default_factory=dict)
    commands: dict[str, list[tuple[int, Doc]]] = field(default_factory=dict)
    state_sends: dict[str, deque[float]] = field(default_factory=dict)
    rows: dict[str, dict[str, Doc]] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)

    def clear(self) -> None:
        """Forget everything (the lock stays)."""
        with self.lock:
            self.collections.clear()
            self.users.clear()
            self.tokens.clear()
            self.key_secrets.clear()
            self.states.clear()
            self.commands.clear()
            self.state_sends.clear()
            self.rows.clear()
            self.extras.clear()

    def collection(self, template: str, parents: tuple[str, ...] = ()) -> dict[str, Doc]:
        """The documents of one collection (created empty on first use), by id."""
        return self.collections.setdefault((template, parents), {})

    def find(self, template: str, parents: tuple[str, ...], doc_id: str) -> Doc | None:
        """One document of a collection, or ``None``."""
        return self.collections.get((template, parents), {}).get(doc_id)

    def insert(
        self,
        template: str,
        parents: tuple[str, ...],
        doc: Doc,
        *,
        id_field: str | None = None,
        extra_fields: dict[str, str] | None = None,
        doc_id: str | None = None,
        stamps: bool = True,
    ) -> Doc:
        """Store ``doc`` with a new id (as ``id`` and ``id_field``), parent ids and timestamps.

        Each ``{param}`` of ``template`` is set from ``parents`` (``/applications/
        {applicationId}/webhooks`` gives the document its ``applicationId``);
        ``extra_fields`` (owner and creator fields) are set the same way.
        """
        ident = doc_id or new_id()
        stored: Doc = {"id": ident}
        if id_field:
            stored[id_field] = ident
        stored.update(zip(_TEMPLATE_PARAM.findall(template), parents, strict=True))
        stored.update(extra_fields or {})
        if stamps:
            stamp = now_iso()
            stored["creationDate"] = stamp
            stored["lastUpdated"] = stamp
        for key, value in doc.items():
            if key not in stored:
                stored[key] = value
        self.collection(template, parents)[ident] = stored
        return stored
