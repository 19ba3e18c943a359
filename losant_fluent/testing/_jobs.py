"""Background jobs: exports and bulk operations answered 202, their job logs and outputs.

* The exports (``data/export``, ``devices/export``, ``events/export``, data-table
  ``rows/export``, ``device/export``, application ``export`` and ``clone``) answer
  ``202 {"jobQueued": true, "jobId": ..., "success": true}``. The job id is what Losant
  answers: 21 characters (``jobEnqueuedResult.jobId`` has ``maxLength: 21``), like
  ``clnHvJbyVkOWAZwYAwLP4``.
* Each job gets an application job log (``/applications/{id}/jobLogs``): its ``id`` and
  ``jobId`` are 24-hex ObjectIds as the ``applicationJobLog`` schema requires, and
  ``jobLogs/{jobId}`` answers it for either that id or the 21-character id of the 202.
  The log goes ``queued`` -> ``inProgress`` (``progress {completed, total}`` growing) ->
  ``completed`` over ``job_seconds * time_scale`` seconds, judged from the clock whenever
  a log is read, so nothing runs after the emulator stops. A completed export's
  ``output.downloadUrls`` point at the emulator's storage host, signed and served without
  a token: CSV for data exports (``data``, ``device``; ``devices`` and ``events`` in their
  ``format``, CSV by default; data-table rows as CSV), a zip for the application export.
* Every other 202 job answer (bulk device updates, archives, reports...) gets a job log
  too, without output files.
* Jobs Losant runs one at a time (``losant_fluent.limits.ONE_AT_A_TIME``: one data export
  per application, one device export per device...) answer 429 ``TooManyRequests`` while
  the previous one runs, unless the emulator's throttles are off.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import hmac
import io
import json
import math
import secrets
import string
import time
import zipfile
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote, unquote

from werkzeug.wrappers import Request, Response

from ._context import Ctx, Reply, handles
from ._devices import app_devices, check_device_query, device_matches, select_devices
from ._errors import not_found, validation
from ._events import check_event_query, event_matches
from ._files import BASE_URL, STORAGE_PREFIX
from ._generic import generic_action, generic_get, generic_list
from ._ids import MAX_TIME_MS, iso, new_id, now_ms
from ._limits import LimitSettings, too_many
from ._queries import check_query, matches, sort_docs
from ._store import APPLICATIONS, DATA_TABLES, DEVICES, EVENTS, Doc, Store

__all__ = ["OUTPUT_PREFIX", "before", "enqueued", "fail_next", "finish_all", "serve_output"]

JOB_LOGS = "/applications/{applicationId}/jobLogs"
OUTPUT_PREFIX = STORAGE_PREFIX + "/jobs"
OUTPUT_TTL = 7 * 24 * 3600  # seconds a download URL stays valid
_JOBS = "jobs.all"  # store.extras: log id -> Job
_ALIASES = "jobs.aliases"  # store.extras: 21-character job id -> log id
_SECRET = "jobs.secret"
_FAIL = "jobs.fail_next"
_ALPHABET = string.ascii_letters + string.digits

File = tuple[str, str, bytes]  # name, content type, content


@dataclass
class Job:
    """One background job: when it runs, what it makes, and its log (if it has one)."""

    log_id: str
    queue_id: str
    endpoint_id: str
    args: dict[str, str]
    queued: float  # time.time() seconds
    duration: float
    total: int
    files: list[File] = field(default_factory=list)
    output: dict[str, Any] = field(default_factory=dict)
    failure: str | None = None
    app_id: str | None = None

    def finished(self, now: float) -> bool:
        return now >= self.queued + self.duration


def _queue_id() -> str:
    """A job id like Losant's (21 characters of ``[A-Za-z0-9]``)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(21))


def _jobs(store: Store) -> dict[str, Job]:
    jobs: dict[str, Job] = store.extras.setdefault(_JOBS, {})
    return jobs


def _log_name(endpoint_id: str) -> str:
    resource, _, action = endpoint_id.partition(".")
    names = {
        "data.export": "DataExport", "device.export": "DeviceDataExport",
        "devices.export": "DevicesExport", "events.export": "EventsExport",
        "dataTableRows.export": "DataTableRowsExport", "application.export": "ApplicationExport",
        "application.clone": "ApplicationClone",
    }
    if endpoint_id in names:
        return names[endpoint_id]
    action = action[:1].upper() + action[1:]
    return action if resource == "application" else resource[:1].upper() + resource[1:] + action


def _resource(ctx: Ctx) -> tuple[str, str] | None:
    """The ``resourceType`` and ``resourceId`` of a job's log, when the path names one."""
    for param, kind in (("dataTableId", "datatable"), ("deviceId", "device"),
                        ("notebookId", "notebook"), ("deviceRecipeId", "deviceRecipe"),
                        ("dashboardId", "dashboard")):
        if param in ctx.args:
            return kind, ctx.args[param]
    kinds = {"events": "event", "devices": "device", "data": "device"}
    kind = kinds.get(ctx.endpoint.id.partition(".")[0], "application")
    return (kind, ctx.args["applicationId"]) if "applicationId" in ctx.args else None


def _input(ctx: Ctx) -> dict[str, Any]:
    body = ctx.body if isinstance(ctx.body, dict) else {}
    found: dict[str, Any] = {}
    for name in ("start", "end"):
        value = body.get(name, ctx.query.get(name))
        try:
            found[name] = float(value) if value is not None else None
        except (TypeError, ValueError):
            pass
    email = body.get("email", ctx.query.get("email"))
    if isinstance(email, str):
        found["emails"] = [email]
    callback = body.get("callbackUrl", ctx.query.get("callbackUrl"))
    if isinstance(callback, str):
        found["callbackUrl"] = callback
    query = body.get("query", body.get("deviceQuery"))
    if query is not None:
        found["query"] = json.dumps(query)
    return {k: v for k, v in found.items() if v is not None}


def _start(ctx: Ctx, files: list[File], total: int, output: dict[str, Any] | None = None,
           ) -> Reply:
    """Queue a job (its log included) and answer Losant's 202."""
    settings: LimitSettings = ctx.settings.limits
    store = ctx.store
    log_id, queue_id = new_id(), _queue_id()
    app_id = ctx.args.get("applicationId")
    job = Job(log_id, queue_id, ctx.endpoint.id, dict(ctx.args), time.time(),
              settings.job_duration, max(total, 0), files, dict(output or {}),
              store.extras.pop(_FAIL, None), app_id)
    _jobs(store)[log_id] = job
    store.extras.setdefault(_ALIASES, {})[queue_id] = log_id
    if app_id is not None:
        doc: Doc = {
            "name": _log_name(ctx.endpoint.id),
            "ownerId": app_id,
            "ownerType": "application",
            "status": "queued",
            "progress": {"completed": 0, "total": job.total},
            "runQueuedAt": iso(job.queued * 1000),
            "input": _input(ctx),
        }
        resource = _resource(ctx)
        if resource is not None:
            doc["resourceType"], doc["resourceId"] = resource
        principal = ctx.principal
        if principal is not None and principal.kind in ("user", "apiToken", "device"):
            doc["requestedByType"] = principal.kind
            doc["requestedById"] = principal.subject_id
        store.insert(JOB_LOGS, (app_id,), doc, id_field="jobId", doc_id=log_id, stamps=False)
    return 202, {"jobQueued": True, "jobId": queue_id, "success": True}


# -- the clock -----------------------------------------------------------------------------


def _secret(store: Store) -> bytes:
    secret = store.extras.get(_SECRET)
    if not isinstance(secret, bytes):
        secret = store.extras[_SECRET] = secrets.token_bytes(32)
    return secret


def _signature(store: Store, app_id: str, log_id: str, name: str, expires: str) -> str:
    message = "\n".join(("job-output", app_id, log_id, name, expires)).encode("utf-8")
    return hmac.new(_secret(store), message, hashlib.sha256).hexdigest()


def _download_url(store: Store, job: Job, name: str) -> str:
    assert job.app_id is not None
    expires = str(int(time.time()) + OUTPUT_TTL)
    signature = _signature(store, job.app_id, job.log_id, name, expires)
    return (f"{BASE_URL.get()}{OUTPUT_PREFIX}/{job.app_id}/{job.log_id}/"
            f"{quote(name, safe='')}?expires={expires}&signature={signature}")


def advance(store: Store, now: float | None = None) -> None:
    """Bring every job log up to date with the clock (call with the lock held)."""
    now = time.time() if now is None else now
    for job in _jobs(store).values():
        if job.app_id is None:
            continue
        doc = store.find(JOB_LOGS, (job.app_id,), job.log_id)
        if doc is None or doc["status"] in ("completed", "failed"):
            continue
        started = job.queued + job.duration * 0.1
        if now < started:
            continue
        doc["runStartedAt"] = iso(started * 1000)
        if not job.finished(now):
            doc["status"] = "inProgress"
            done = (now - started) / max(job.duration * 0.9, 1e-9)
            doc["progress"] = {"completed": math.floor(job.total * min(done, 1.0)),
                               "total": job.total}
            continue
        doc["runCompletedAt"] = iso((job.queued + job.duration) * 1000)
        if job.failure is not None:
            doc["status"] = "failed"
            doc["error"] = {"name": "JobError", "message": job.failure}
            doc["progress"] = {"completed": doc["progress"]["completed"], "total": job.total}
            continue
        doc["status"] = "completed"
        doc["progress"] = {"completed": job.total, "total": job.total}
        output = dict(job.output)
        if job.files:
            output["downloadUrls"] = [_download_url(store, job, name) for name, _t, _c in job.files]
        if output:
            doc["output"] = output


def finish_all(store: Store) -> None:
    """Make every job finish now (``Emulator.finish_jobs``)."""
    with store.lock:
        now = time.time()
        for job in _jobs(store).values():
            if not job.finished(now):
                job.duration = max(now - job.queued, 0.0)
        advance(store, now)


def fail_next(store: Store, message: str) -> None:
    """Make the next job end ``failed`` with ``message`` (``Emulator.fail_next_job``)."""
    with store.lock:
        store.extras[_FAIL] = message


# -- hooks around every handler ------------------------------------------------------------


def before(ctx: Ctx) -> None:
    """429 when a job Losant runs one at a time is already running for the same resource."""
    settings: LimitSettings = ctx.settings.limits
    if not settings.enabled:
        return
    rule = next((r for r in settings.one_at_a_time if ctx.endpoint.id in r.endpoints), None)
    if rule is None or rule.per not in ctx.args:
        return
    if ctx.endpoint.id == "application.clone" and isinstance(ctx.body, dict) and ctx.body.get(
            "dryRun"):
        return
    value, now = ctx.args[rule.per], time.time()
    for job in _jobs(ctx.store).values():
        if (job.endpoint_id in rule.endpoints and job.args.get(rule.per) == value
                and not job.finished(now)):
            raise too_many(f"Over rate limit, request throttled: a {_log_name(job.endpoint_id)} "
                           f"job is already running for this {rule.per[:-2]} (job "
                           f"{job.queue_id}); only one runs at a time")


def enqueued(ctx: Ctx, status: int, payload: Any) -> Any:
    """Give a 202 job answer made elsewhere (bulk operations, archives...) a job and log."""
    if status != 202 or not isinstance(payload, dict) or "jobId" not in payload:
        return payload
    if payload["jobId"] in ctx.store.extras.get(_ALIASES, {}):
        return payload  # queued here already
    _status, answer = _start(ctx, [], 1)
    return {**payload, "jobId": answer["jobId"]}


# -- the job logs --------------------------------------------------------------------------


@handles("applicationJobLogs.get")
def list_job_logs(ctx: Ctx) -> Reply:
    """The application's job logs, up to date (``query`` filters, as Losant's logs do)."""
    with ctx.store.lock:
        advance(ctx.store)
        status, out = generic_list(ctx)
    raw = ctx.query.get("query")
    if raw:
        try:
            query = check_query(json.loads(raw))
        except json.JSONDecodeError:
            raise validation("query must be a JSON object") from None
        out["items"] = [d for d in out["items"] if matches(d, query)]
        out["count"] = len(out["items"])
    return status, out


@handles("applicationJobLog.get")
def get_job_log(ctx: Ctx) -> Reply:
    """One job log, by its id or by the 21-character job id of the 202 answer."""
    with ctx.store.lock:
        advance(ctx.store)
        wanted = ctx.args["jobId"]
        log_id = ctx.store.extras.get(_ALIASES, {}).get(wanted, wanted)
        return generic_get(replace(ctx, args={**ctx.args, "jobId": log_id}))


# -- the exports ---------------------------------------------------------------------------


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
        return _start(ctx, files, total)


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
        return _start(ctx, files, total)


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
        return _start(ctx, [_table_file("devices", kind, docs, columns)], len(docs))


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
        return _start(ctx, [_table_file("events", kind, docs, columns)], len(docs))


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
        direction = str(options.get("sortDirection") or "asc")
        if isinstance(column, str) and column:
            rows = sort_docs(rows, column, direction)
        elif direction.lower() == "desc":
            rows.reverse()
        offset = int(options.get("offset", 0) or 0)
        limit = options.get("limit")
        rows = rows[offset:] if limit is None else rows[offset:offset + int(limit)]
        columns = ["id", "createdAt", "updatedAt"] + [c["name"] for c in table.get("columns", [])]
        return _start(ctx, [_table_file(str(table.get("name", "rows")), "csv", rows, columns)],
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
        return _start(ctx, [(name, "application/zip", buffer.getvalue())], len(parts))


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
        return _start(ctx, [], copied + 1, {"applicationId": clone["id"]})


# -- the storage host ----------------------------------------------------------------------


def serve_output(store: Store, request: Request) -> Response:
    """Serve a finished job's output file from its signed URL (no token)."""
    parts = request.path[len(OUTPUT_PREFIX) + 1:].split("/")
    if len(parts) != 3 or request.method not in ("GET", "HEAD"):
        return _storage_error(404, "NoSuchKey", "The specified key does not exist.")
    app_id, log_id, name = parts[0], parts[1], unquote(parts[2])
    expires = request.args.get("expires", "")
    signature = request.args.get("signature", "")
    with store.lock:
        advance(store)
        job = _jobs(store).get(log_id)
        found = None
        if job is not None and job.app_id == app_id and job.finished(time.time()):
            found = next((f for f in job.files if f[0] == name), None)
        expected = _signature(store, app_id, log_id, name, expires)
    if found is None or job is None or job.failure is not None:
        return _storage_error(404, "NoSuchKey", "The specified key does not exist.")
    if not hmac.compare_digest(signature, expected):
        return _storage_error(403, "SignatureDoesNotMatch", "The signature is not valid")
    if not expires.isdigit() or int(expires) < time.time():
        return _storage_error(403, "AccessDenied", "Request has expired")
    _name, content_type, content = found
    return Response(content, status=200, content_type=content_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name, safe='')}",
        "ETag": '"' + hashlib.md5(content, usedforsecurity=False).hexdigest() + '"',
    })


def _storage_error(status: int, code: str, message: str) -> Response:
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error>")
    return Response(body, status=status, mimetype="application/xml")
