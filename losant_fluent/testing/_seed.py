"""The starting data of every emulator: one user, organization, instance (with a few
sandboxes), application, standalone device with a number attribute ``temperature``, and
an access key allowed for that device."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field

from ._devices import create_device
from ._ids import new_id, now_iso
from ._store import (
    APPLICATIONS,
    DEVICES,
    INSTANCE_ORGS,
    INSTANCES,
    KEYS,
    ORGS,
    SANDBOXES,
    Doc,
    Store,
    User,
)


@dataclass(frozen=True)
class Seed:
    """Fixed ids and credentials, chosen once per emulator so ``reset()`` restores them."""

    user_email: str = "emulator@example.com"
    # Strong enough for Losant's password rule (upper, lower, digit, symbol, 12+).
    user_password: str = field(default_factory=lambda: f"{secrets.token_urlsafe(12)}-Aa1")
    user_id: str = field(default_factory=new_id)
    org_id: str = field(default_factory=new_id)
    instance_id: str = field(default_factory=new_id)
    application_id: str = field(default_factory=new_id)
    device_id: str = field(default_factory=new_id)
    key_id: str = field(default_factory=new_id)
    access_key: str = field(default_factory=lambda: str(uuid.uuid4()))
    access_secret: str = field(default_factory=lambda: secrets.token_hex(32))


def populate(store: Store, seed: Seed) -> None:
    """Fill an empty store with the seeded account."""
    stamp = now_iso()
    with store.lock:
        user_doc: Doc = {
            "id": seed.user_id,
            "userId": seed.user_id,
            "email": seed.user_email,
            "firstName": "Emulator",
            "lastName": "User",
            "fullName": "Emulator User",
            "emailVerified": True,
            "needsToVerifyEmail": False,
            "twoFactorAuthEnabled": False,
            "creationDate": stamp,
            "lastUpdated": stamp,
            "passwordLastUpdated": stamp,
        }
        store.users[seed.user_email.lower()] = User(
            seed.user_id, seed.user_email, seed.user_password, user_doc
        )
        store.insert(
            ORGS, (), {"name": "Emulator Org", "members": []}, id_field="orgId", doc_id=seed.org_id
        )
        store.insert(
            INSTANCES,
            (),
            {"name": "Emulator Instance"},
            id_field="instanceId",
            doc_id=seed.instance_id,
        )
        store.insert(
            INSTANCE_ORGS,
            (seed.instance_id,),
            {"name": "Emulator Org"},
            id_field="orgId",
            doc_id=seed.org_id,
        )
        for number in range(3):
            store.insert(
                SANDBOXES,
                (seed.instance_id,),
                {"email": f"sandbox{number}@example.com", "firstName": f"Sandbox{number}"},
                id_field="instanceSandboxId",
            )
        store.insert(
            APPLICATIONS,
            (),
            {"name": "Emulator Application", "description": "Seeded by the Losant emulator"},
            id_field="applicationId",
            extra_fields={"ownerId": seed.user_id, "ownerType": "user"},
            doc_id=seed.application_id,
        )
        create_device(
            store,
            seed.application_id,
            {
                "name": "Emulated Thermostat",
                "description": "A standalone device reporting temperature",
                "deviceClass": "standalone",
                "tags": [{"key": "floor", "value": "1"}],
                "attributes": [{"name": "temperature", "dataType": "number"}],
            },
            doc_id=seed.device_id,
        )
        store.insert(
            KEYS,
            (seed.application_id,),
            {
                "name": "Emulator device key",
                "key": seed.access_key,
                "status": "active",
                "filterType": "none",
                "deviceIds": [seed.device_id],
                "deviceTags": [],
                "createdByType": "user",
                "createdById": seed.user_id,
            },
            id_field="applicationKeyId",
            doc_id=seed.key_id,
        )
        store.key_secrets[seed.key_id] = seed.access_secret
        _read_only_examples(store, seed)


def _read_only_examples(store: Store, seed: Seed) -> None:
    """One document in collections the API offers no way to create."""
    store.insert(
        "/applicationTemplates",
        (),
        {"name": "Blank template", "public": True, "keywords": ["blank", "featured"]},
        id_field="templateId",
    )
    workflows = new_id()
    store.extras["template_categories"] = {
        workflows: {"id": workflows, "name": "Workflows", "resourceTypes": ["CustomNode"]},
    }
    store.insert(
        "/orgs/{orgId}/audit-logs",
        (seed.org_id,),
        {"actorType": "User", "actorId": seed.user_id, "requestAction": "post"},
        id_field="auditLogId",
    )
    store.insert(
        "/instance/{instanceId}/audit-logs",
        (seed.instance_id,),
        {"actorType": "User", "actorId": seed.user_id, "requestAction": "post"},
        id_field="instanceAuditLogId",
    )
    stamp = now_iso()
    job = store.insert(
        "/applications/{applicationId}/jobLogs",
        (seed.application_id,),
        {
            "name": "ApplicationExport",
            "status": "completed",
            "ownerId": seed.application_id,
            "ownerType": "application",
            "progress": {"completed": 1, "total": 1},
            "runQueuedAt": stamp,
            "runStartedAt": stamp,
            "runCompletedAt": stamp,
        },
        stamps=False,
    )
    job["jobId"] = job["id"]
    store.insert(
        "/me/invites",
        (),
        {"orgName": "Another Org", "role": "view", "inviteDate": now_iso(), "expired": False},
        stamps=False,
    )


def add_devices(store: Store, application_id: str, count: int, prefix: str) -> list[str]:
    """Create ``count`` standalone devices named ``prefix-0001``..., tagged and typed."""
    ids = []
    with store.lock:
        start = len(store.collection(DEVICES, (application_id,)))
        for number in range(start, start + count):
            doc = create_device(
                store,
                application_id,
                {
                    "name": f"{prefix}-{number:04d}",
                    "tags": [
                        {"key": "group", "value": "even" if number % 2 == 0 else "odd"},
                        {"key": "seeded", "value": "true"},
                    ],
                    "attributes": [{"name": "temperature", "dataType": "number"}],
                },
            )
            ids.append(doc["id"])
    return ids
