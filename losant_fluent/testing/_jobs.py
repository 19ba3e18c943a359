"""Background jobs: the 202 answer, the application job log and the output files.

* A job answers ``202 {"jobQueued": true, "jobId": ..., "success": true}``. The job id is
  what Losant answers: 21 characters (``jobEnqueuedResult.jobId`` has ``maxLength: 21``),
  like ``clnHvJbyVkOWAZwYAwLP4``.
* Each job of an application gets a job log (``/applications/{id}/jobLogs``): its ``id``
  and ``jobId`` are 24-hex ObjectIds as the ``applicationJobLog`` schema requires, and
  ``jobLogs/{jobId}`` answers it for either that id or the 21-character id of the 202.
  The log goes ``queued`` -> ``inProgress`` (``progress {completed, total}`` growing) ->
  ``completed`` (or ``failed``) over ``job_seconds * time_scale`` seconds, judged from the
  clock whenever a log is read, so nothing runs after the emulator stops. A completed
  job's files (made by ``_exports``) are listed in ``output.downloadUrls``: signed URLs on
  the emulator's storage host, served without a token.
* Every 202 job answer made elsewhere (bulk device updates, archives, reports...) gets a
  job log too, without output files.
* Jobs Losant runs one at a time (``losant_fluent.limits.ONE_AT_A_TIME``: one data export
  per application, one device export per device...) answer 429 ``TooManyRequests`` while
  the previous one of the same endpoint runs, unless the emulator's throttles are off.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import secrets
import string
import time
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote, unquote

from werkzeug.wrappers import Request, Response

from ._context import Ctx, Reply, handles
from ._errors import validation
from ._files import BASE_URL, STORAGE_PREFIX
from ._generic import generic_get, generic_list
from ._ids import iso, new_id
from ._limits import LimitSettings, too_many
from ._queries import check_query, matches
from ._store import Doc, Store

__all__ = ["OUTPUT_PREFIX", "File", "before", "enqueued", "fail_next", "finish_all",
           "serve_output", "start_job"]

JOB_LOGS = "/applications/{applicationId}/jobLogs"
OUTPUT_PREFIX = STORAGE_PREFIX + "/jobs"
OUTPUT_TTL = 7 * 24 * 3600  # seconds a download URL stays valid
_JOBS = "jobs.all"  # store.extras: log id -> Job
_ALIASES = "jobs.aliases"  # store.extras: 21-character job id -> log id
_SECRET = "jobs.secret"
_FAIL = "jobs.fail_next"
_ALPHABET = string.ascii_letters + string.digits
# Counts of a bulk answer that the job log's ``output`` documents, and those that are work.
_OUTPUT_COUNTS = frozenset({"failed", "removed", "restored", "written"})
_DONE_COUNTS = frozenset({"updated", "removed", "restored", "written", "deleted", "failed",
                          "skipped"})

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


def start_job(ctx: Ctx, files: list[File], total: int,
              output: dict[str, Any] | None = None) -> Reply:
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
    # Losant's table reads "one concurrent call each, per the scope named": each endpoint
    # of a rule runs one at a time on its own (a data export may run beside a devices one).
    value, now = ctx.args[rule.per], time.time()
    for job in _jobs(ctx.store).values():
        if (job.endpoint_id == ctx.endpoint.id and job.args.get(rule.per) == value
                and not job.finished(now)):
            raise too_many(f"Over rate limit, request throttled: a {_log_name(job.endpoint_id)} "
                           f"job is already running for this {rule.per[:-2]} (job "
                           f"{job.queue_id}); only one runs at a time")


def _asks_for_job(ctx: Ctx) -> bool:
    """Whether a bulk call asks to run as a job: ``email``, ``callbackUrl`` or ``forceJob``."""
    body: dict[str, Any] = ctx.body if isinstance(ctx.body, dict) else {}
    options = body.get("options")
    for source in (body, options if isinstance(options, dict) else {}):
        if source.get("email") or source.get("callbackUrl") or source.get("forceJob") is True:
            return True
    return bool(ctx.query.get("email") or ctx.query.get("callbackUrl"))


def enqueued(ctx: Ctx, status: int, payload: Any) -> tuple[int, Any]:
    """Give every job answer a job and its log.

    A 202 made elsewhere (archives, reports, recipes...) gets one; a bulk call that Losant
    documents as answering 202 answers so when it asks for a job (``email``,
    ``callbackUrl`` or ``forceJob``), its work done and its counts in the log's output.
    """
    if status == 202 and isinstance(payload, dict) and "jobId" in payload:
        if payload["jobId"] in ctx.store.extras.get(_ALIASES, {}):
            return status, payload  # queued here already
        _status, answer = start_job(ctx, [], 1)
        return status, {**payload, "jobId": answer["jobId"]}
    answers_202 = ctx.endpoint.responses.get("202") == "jobEnqueuedResult"
    if not (200 <= status < 300 and answers_202 and _asks_for_job(ctx)):
        return status, payload
    counts = payload if isinstance(payload, dict) else {}
    output = {k: v for k, v in counts.items() if k in _OUTPUT_COUNTS and isinstance(v, int)}
    total = sum(v for k, v in counts.items() if k in _DONE_COUNTS and isinstance(v, int))
    return start_job(ctx, [], total or 1, output)


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
