"""The exports Losant runs as jobs, and the files they leave on the storage host.

Each handler checks its body (400 before any job), builds the output files from the
state as it is now and queues the job (``_jobs.start_job``):

* ``data/export`` and ``device/export``: CSV, one row per state (``Device ID``, ``Device
  Name``, ``Timestamp`` in epoch ms, ``Date``, then one column per attribute;
  ``options.includeID``/``includeDate`` drop those columns, ``filePerDevice`` makes one
  file per device), over ``start``..``end`` (default: all data up to now);
* ``devices/export`` and ``events/export``: CSV, or JSON with ``format: "json"``;
* data-table ``rows/export``: CSV of the rows matching ``query`` (``queryOptions``);
* application ``export``: a zip of the application's JSON; ``clone``: the copy itself,
  named in the job's ``output.applicationId``.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import math
import zipfile
from typing import Any

from ._context import Ctx, Reply, handles
from ._devices import app_devices, check_device_query, device_matches, select_devices
from ._errors import not_found, validation
from ._events import check_event_query, event_matches
from ._generic import generic_action
from ._ids import MAX_TIME_MS, iso, now_ms
from ._jobs import File, start_job
from ._queries import check_query, matches, sort_docs
from ._store import APPLICATIONS, DATA_TABLES, DEVICES, EVENTS, Doc

__all__ = ["clone_application", "export_application", "export_data", "export_device",
           "export_devices", "export_events", "export_rows"]


def _moment(value: Any, now: int, name: str) -> int:
    """Epoch ms, or (zero or negative) ms relative to now, as Losant's export times."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise validation(f"{name} must be a number of milliseconds") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise validation(f"{name} must be a number of milliseconds")
    moment = now + value if value <= 0 else value
    if abs(moment) > MAX_TIME_MS:
        raise validation(f"{name} must be within 8.64e15 ms of 1970-01-01")
    return int(moment)


def _csv(header: list[str], rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _cell(value: Any) -> Any:
    """A CSV cell written as Losant (Node) writes it: ``21``, not ``21.0``."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return "" if value is None else value


def _options(body: dict[str, Any]) -> dict[str, Any]:
    options = body.get("options", {})
    if not isinstance(options, dict):
        raise validation("options must be an object")
    for name in ("includeDate", "includeID", "filePerDevice", "includeBlobData"):
        if name in options and not isinstance(options[name], bool):
            raise validation(f"options.{name} must be a boolean")
    return options


def _attribute_names(body: dict[str, Any]) -> list[str] | None:
    names = body.get("attributes")
    if names is None:
        return None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise validation("attributes must be an array of attribute names")
    return names


def _data_files(ctx: Ctx, devices: list[Doc], body: dict[str, Any], start: int, end: int,
                per_device: bool) -> tuple[list[File], int]:
    """The CSV of the devices' states in ``[start, end]``: one row per state, oldest first.

    Columns: ``Device ID`` (unless ``includeID`` is false), ``Device Name``, ``Timestamp``
    (epoch ms), ``Date`` (ISO 8601, unless ``includeDate`` is false), then one column per
    attribute (the ``attributes`` asked for, else every attribute of the devices).
    """
    options = _options(body)
    wanted = _attribute_names(body)
    if wanted is None:
        wanted = []
        for device in devices:
            for attribute in device.get("attributes", []):
                if attribute.get("name") not in wanted:
                    wanted.append(attribute["name"])
    head = (["Device ID"] if options.get("includeID", True) else []) + ["Device Name",
                                                                         "Timestamp"]
    head += ["Date"] if options.get("includeDate", True) else []
    header = head + wanted
    files: list[File] = []
    every: list[list[Any]] = []
    for device in devices:
        rows = []
        for moment, data in ctx.store.states.get(device["id"], []):
            if not start <= moment <= end or not any(n in data for n in wanted):
                continue
            row: list[Any] = [device["id"]] if options.get("includeID", True) else []
            row += [device.get("name", ""), moment]
            row += [iso(moment)] if options.get("includeDate", True) else []
            rows.append(row + [_cell(data.get(name)) for name in wanted])
        if per_device:
            files.append((f"{device['id']}.csv", "text/csv", _csv(header, rows)))
        every.extend(rows)
    if not per_device:
        files.append(("data-export.csv", "text/csv", _csv(header, every)))
    return files, len(every)


@handles("data.export")
def export_data(ctx: Ctx) -> Reply:
    """The chosen devices' data over ``start``..``end`` (default: all of it) as CSV."""
    body = ctx.body_dict()
    now = now_ms()
    start = _moment(body.get("start", 1), now, "start")
    end = _moment(body.get("end", 0), now, "end")
    if start > end:
        raise validation("start must not be after end")
    with ctx.store.lock:
        devices = select_devices(ctx.store, ctx.app_id, body)
        per_device = bool(_options(body).get("filePerDevice", False))
        files, total = _data_files(ctx, devices, body, start, end, per_device)
        return start_job(ctx, files, total)


@handles("device.export")
def export_device(ctx: Ctx) -> Reply:
    """One device's data over the ``start``/``end`` query window as CSV."""
    body = ctx.body_dict()
    now = now_ms()
    start = _moment(ctx.query.get("start") or body.get("start", 1), now, "start")
    end = _moment(ctx.query.get("end") or body.get("end", 0), now, "end")
    if start > end:
        raise validation("start must not be after end")
    with ctx.store.lock:
        device = app_devices(ctx.store, ctx.app_id).get(ctx.args["deviceId"])
        if device is None:
            raise not_found("Device")
        files, total = _data_files(ctx, [device], body, start, end, False)
        return start_job(ctx, files, total)


def _format(body: dict[str, Any]) -> str:
    kind = body.get("format", "csv")
    if kind not in ("csv", "json"):
        raise validation("format must be csv or json")
    return str(kind)


def _table_file(name: str, kind: str, docs: list[Doc], columns: list[str]) -> File:
    if kind == "json":
        return (f"{name}.json", "application/json",
                json.dumps(docs, separators=(",", ":")).encode("utf-8"))
    rows = [[_cell(doc.get(column)) for column in columns] for doc in docs]
    return (f"{name}.csv", "text/csv", _csv(columns, rows))


@handles("devices.export")
def export_devices(ctx: Ctx) -> Reply:
    """The devices matching ``query`` (default: all), as CSV or JSON (``format``)."""
    body = ctx.body_dict()
    kind = _format(body)
    query = body.get("query")
    if query is not None:
        check_device_query(query)
    with ctx.store.lock:
        docs = [copy.deepcopy(d) for d in app_devices(ctx.store, ctx.app_id).values()
                if not query or device_matches(d, query)]
    if kind == "csv":
        for doc in docs:
            doc["tags"] = ";".join(f"{t['key']}={t['value']}" for t in doc.get("tags", []))
            doc["attributes"] = ";".join(f"{a['name']}:{a['dataType']}"
                                         for a in doc.get("attributes", []))
    columns = ["id", "name", "description", "deviceClass", "parentId", "tags", "attributes",
               "creationDate", "lastUpdated"]
    with ctx.store.lock:
        return start_job(ctx, [_table_file("devices", kind, docs, columns)], len(docs))


@handles("events.export")
def export_events(ctx: Ctx) -> Reply:
    """The events matching ``query`` (default: all), as CSV or JSON (``format``)."""
    body = ctx.body_dict()
    kind = _format(body)
    query = body.get("query")
    if query is not None:
        check_event_query(query)
    with ctx.store.lock:
        docs = [copy.deepcopy(d) for d in ctx.store.collection(EVENTS, (ctx.app_id,)).values()
                if not query or event_matches(d, query)]
        if body.get("excludeUpdates"):
            for doc in docs:
                doc.pop("updates", None)
        columns = ["id", "subject", "message", "level", "state", "deviceId", "sourceType",
                   "sourceId", "creationDate", "lastUpdated"]
        return start_job(ctx, [_table_file("events", kind, docs, columns)], len(docs))


def _count(options: dict[str, Any], name: str, default: int | None) -> int | None:
    """A non-negative whole number of ``queryOptions`` (``default`` when absent)."""
    value = options.get(name)
    if value is None:
        return default
    if (isinstance(value, bool) or not isinstance(value, (int, float))
            or not math.isfinite(value) or value < 0):
        raise validation(f"queryOptions.{name} must be a number >= 0")
    return int(value)


@handles("dataTableRows.export")
def export_rows(ctx: Ctx) -> Reply:
    """The rows matching ``query`` as CSV (``queryOptions``: sort, limit, offset)."""
    body = ctx.body_dict()
    query = body.get("query")
    if query is not None:
        query = check_query(query)
    options = body.get("queryOptions", {})
    if not isinstance(options, dict):
        raise validation("queryOptions must be an object")
    with ctx.store.lock:
        table = ctx.store.find(DATA_TABLES, (ctx.app_id,), ctx.args["dataTableId"])
        if table is None:
            raise not_found("Data table")
        rows = [copy.deepcopy(r) for r in ctx.store.rows.get(table["id"], {}).values()
                if not query or matches(r, query)]
        column = options.get("sortColumn")
        direction = options.get("sortDirection") or "asc"
        if not isinstance(direction, str) or direction.lower() not in ("asc", "desc"):
            raise validation("queryOptions.sortDirection must be asc or desc")
        if column is not None and not isinstance(column, str):
            raise validation("queryOptions.sortColumn must be a column name")
        if column:
            rows = sort_docs(rows, column, direction)
        elif direction.lower() == "desc":
            rows.reverse()
        offset = _count(options, "offset", 0) or 0
        limit = _count(options, "limit", None)
        rows = rows[offset:] if limit is None else rows[offset:offset + limit]
        columns = ["id", "createdAt", "updatedAt"] + [c["name"] for c in table.get("columns", [])]
        return start_job(ctx, [_table_file(str(table.get("name", "rows")), "csv", rows, columns)],
                      len(rows))


@handles("application.export")
def export_application(ctx: Ctx) -> Reply:
    """A zip of the application (devices and data-table rows when asked for)."""
    body = ctx.body_dict()
    if body.get("exportType", "zip") != "zip":
        raise validation("The emulator exports applications as zip only (exportType: zip)")
    with ctx.store.lock:
        app = ctx.store.find(APPLICATIONS, (), ctx.app_id) or {"id": ctx.app_id}
        parts: dict[str, Any] = {"application.json": app}
        if body.get("includeDevices"):
            parts["devices.json"] = list(app_devices(ctx.store, ctx.app_id).values())
        tables = list(ctx.store.collection(DATA_TABLES, (ctx.app_id,)).values())
        parts["dataTables.json"] = tables
        if body.get("includeDataTableRows"):
            for table in tables:
                parts[f"dataTables/{table['id']}.json"] = list(
                    ctx.store.rows.get(table["id"], {}).values())
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, value in parts.items():
                archive.writestr(name, json.dumps(value, indent=1, default=str))
        name = f"{app.get('name', 'application')}.zip"
        return start_job(ctx, [(name, "application/zip", buffer.getvalue())], len(parts))


@handles("application.clone")
def clone_application(ctx: Ctx) -> Reply:
    """A copy of the application (and its devices with ``includeDevices``), as a job;
    ``dryRun`` answers at once."""
    body = ctx.body_dict()
    if body.get("dryRun"):
        return generic_action(ctx)
    with ctx.store.lock:
        app = ctx.store.find(APPLICATIONS, (), ctx.app_id)
        if app is None:
            raise not_found("Application")
        fresh = {k: copy.deepcopy(v) for k, v in app.items()
                 if k not in ("id", "applicationId", "creationDate", "lastUpdated")}
        fresh["name"] = f"{app.get('name', 'Application')} Copy"
        clone = ctx.store.insert(APPLICATIONS, (), fresh, id_field="applicationId")
        copied = 0
        if body.get("includeDevices"):
            for device in list(app_devices(ctx.store, ctx.app_id).values()):
                doc = {k: copy.deepcopy(v) for k, v in device.items()
                       if k not in ("id", "deviceId", "applicationId")}
                ctx.store.insert(DEVICES, (clone["id"],), doc, id_field="deviceId")
                copied += 1
        return start_job(ctx, [], copied + 1, {"applicationId": clone["id"]})
