"""Device recipes: bulk creation of devices (``deviceRecipe.bulkCreate``).

Recipes themselves are stored by the generic handlers; creating from one takes the
recipe's ``deviceName``, ``deviceDescription``, ``deviceClass``, tags, attributes,
``gatewayId``, ``parentId``, ``systemInterval`` and ``keepDuplicates``.
"""

from __future__ import annotations

import copy
import csv
import io
import re
import secrets
import uuid
from typing import Any

from ._context import Ctx, Reply, handles
from ._devices import create_device
from ._errors import Fault, not_found, validation
from ._ids import new_id
from ._store import KEYS, Doc

RECIPES = "/applications/{applicationId}/device-recipes"
# Most devices one request may create (the emulator's limit; Losant's is not documented).
MAX_BULK = 10_000
_HEX_ID = re.compile(r"^[A-Fa-f\d]{24}$")
_COLUMNS = ("nameColumn", "descriptionColumn", "gatewayIdColumn", "parentIdColumn")


def _recipe(ctx: Ctx) -> Doc:
    doc = ctx.store.find(RECIPES, (ctx.app_id,), ctx.args["deviceRecipeId"])
    if doc is None:
        raise not_found("Device recipe")
    return doc


def _check_body(body: dict[str, Any]) -> None:
    """The field types of ``deviceRecipeBulkCreatePost`` (no other fields allowed)."""
    allowed = {
        "csv",
        "count",
        *_COLUMNS,
        "makeUniqueKeySecret",
        "email",
        "callbackUrl",
        "gatewayId",
        "parentId",
    }
    for key in body:
        if key not in allowed:
            raise validation(f"{key} is not allowed in a bulk creation")
    for key in ("csv", *_COLUMNS, "email", "callbackUrl"):
        if key in body and not isinstance(body[key], str):
            raise validation(f"{key} must be a string")
    if "makeUniqueKeySecret" in body and not isinstance(body["makeUniqueKeySecret"], bool):
        raise validation("makeUniqueKeySecret must be a boolean")
    for key in ("gatewayId", "parentId"):
        value = body.get(key)
        if value is not None and not (isinstance(value, str) and _HEX_ID.match(value)):
            raise validation(f"{key} must be a device id")
    if body.get("gatewayId") is None and "gatewayId" in body:
        raise validation("gatewayId must be a device id")


def _rows(body: dict[str, Any]) -> tuple[list[str], list[dict[str, str]]]:
    """The CSV's header and rows, or ``count`` empty rows."""
    has_csv, has_count = body.get("csv") not in (None, ""), "count" in body
    if has_csv == has_count:
        raise validation("give either csv or count")
    if has_count:
        count = body["count"]
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_BULK:
            raise validation(f"count must be an integer from 1 to {MAX_BULK}")
        return [], [{} for _ in range(count)]
    try:
        reader = csv.DictReader(io.StringIO(body["csv"]))
        rows = list(reader)
        header = list(reader.fieldnames or [])
    except csv.Error as exc:
        raise validation(f"csv is not valid CSV: {exc}") from None
    if not rows:
        raise validation("csv has no rows below its header")
    if len(rows) > MAX_BULK:
        raise validation(f"csv may hold at most {MAX_BULK} rows")
    for key in _COLUMNS:
        column = body.get(key)
        if column and column not in header:
            raise validation(f"{key} {column!r} is not a column of the csv")
    return header, rows


def _device_body(recipe: Doc, body: dict[str, Any], row: dict[str, str]) -> dict[str, Any]:
    def cell(column_key: str) -> str | None:
        column = body.get(column_key)
        value = row.get(column) if column else None
        return value.strip() if isinstance(value, str) and value.strip() else None

    fields: dict[str, Any] = {
        "name": cell("nameColumn") or recipe.get("deviceName") or recipe.get("name"),
        "description": cell("descriptionColumn") or recipe.get("deviceDescription", ""),
        "deviceClass": recipe.get("deviceClass", "standalone"),
        "tags": copy.deepcopy(recipe.get("tags", [])),
        "attributes": copy.deepcopy(recipe.get("attributes", [])),
    }
    for key in ("systemInterval", "keepDuplicates"):
        if key in recipe:
            fields[key] = recipe[key]
    for key in ("gatewayId", "parentId"):
        value = cell(f"{key}Column") or body.get(key) or recipe.get(key)
        if value is not None:
            if not _HEX_ID.match(str(value)):
                raise validation(f"{key} must be a device id")
            fields[key] = value
    return fields


def _key_for(ctx: Ctx, device: Doc) -> tuple[str, str]:
    """An access key allowed for one device only; returns ``(key, secret)``."""
    secret = secrets.token_hex(32)
    doc = ctx.store.insert(
        KEYS,
        (ctx.app_id,),
        {
            "key": str(uuid.uuid4()),
            "status": "active",
            "filterType": "none",
            "deviceIds": [device["id"]],
            "deviceTags": [],
            "createdByType": "user",
            "description": f"Created for {device['name']} by a device recipe",
        },
        id_field="applicationKeyId",
    )
    ctx.store.key_secrets[doc["id"]] = secret
    return doc["key"], secret


def _csv_text(header: list[str], rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@handles("deviceRecipe.bulkCreate")
def bulk_create(ctx: Ctx) -> Reply:
    """Create devices from a recipe: one per CSV row (names from ``nameColumn``) or
    ``count`` of them named after the recipe's ``deviceName``.

    Answers 201 ``{created, failed, csvResult}``; ``csvResult`` is the CSV (for ``count``:
    ``name,description``) with ``id`` added, and ``key``/``secret`` when
    ``makeUniqueKeySecret`` asked for an access key per device (shown only here), and
    ``error`` for rows that failed. With ``email`` or ``callbackUrl`` Losant runs the
    job in the background: the devices are created all the same and the answer is the
    202 queued-job receipt.
    """
    body = ctx.body_dict()
    _check_body(body)
    header, rows = _rows(body)
    if not header:
        header = ["name", "description"]
    extra = ["id"] + (["key", "secret"] if body.get("makeUniqueKeySecret") else []) + ["error"]
    results: list[dict[str, Any]] = []
    created = failed = 0
    with ctx.store.lock:
        recipe = _recipe(ctx)
        for row in rows:
            result: dict[str, Any] = dict(row)
            try:
                fields = _device_body(recipe, body, row)
                device = create_device(ctx.store, ctx.app_id, fields)
            except Fault as fault:
                failed += 1
                result["error"] = fault.message
            else:
                created += 1
                result.setdefault("name", device["name"])
                result.setdefault("description", device.get("description", ""))
                result["id"] = device["id"]
                if body.get("makeUniqueKeySecret"):
                    result["key"], result["secret"] = _key_for(ctx, device)
            results.append(result)
    if body.get("email") or body.get("callbackUrl"):
        return 202, {"jobQueued": True, "jobId": new_id()[:21], "success": True}
    columns = header + [c for c in extra if c not in header]
    if not failed:
        columns.remove("error")
    return 201, {"created": created, "failed": failed, "csvResult": _csv_text(columns, results)}
