"""Files: the API's file endpoints and a storage host like the one Losant signs uploads for.

* ``files.post``/``privateFiles.post`` store the file as ``pending`` and answer with an
  ``upload`` target on this emulator's storage host (``/_emulator/storage/upload``): its
  URL and form fields (``bucket``, ``key``, an expiry and an HMAC signature of them with a
  per-emulator secret). Directories are ``completed`` at once and get no target.
* The storage host takes a ``multipart/form-data`` POST like S3's browser uploads: the
  signed fields first, then the content in a part named ``file``; it refuses requests
  carrying an ``Authorization`` header (400), a missing or wrong signature or an expired
  one (403), and a form without a last ``file`` part (400). It answers 204; the file is
  then ``completed`` with its ``fileSize``, ``contentType``, ``s3etag`` and a ``url``
  serving the content (private files: a URL signed for ``urlTTL`` seconds).
* ``file.upload``/``privateFile.upload`` (multipart through the API) store the content
  the same way; ``notebook.upload``, ``application.import`` and ``applications.import``
  keep what they received. Every file part received by the API is listed in
  ``Emulator.received_files`` (endpoint, field, file name, content type, bytes).
"""

from __future__ import annotations

import contextvars
import copy
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote, unquote

from werkzeug.datastructures import FileStorage
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData
from werkzeug.wrappers import Request, Response

from ._context import Ctx, Reply, handles
from ._errors import Fault, not_found, validation
from ._generic import generic_action, generic_create, generic_delete, generic_get, generic_list
from ._ids import now_iso
from ._store import Doc, Store

__all__ = ["BASE_URL", "STORAGE_PREFIX", "ReceivedFile", "UploadedFile", "received_files",
           "serve_storage", "uploaded"]

STORAGE_PREFIX = "/_emulator/storage"
BUCKET = "losant-emulator-files"
UPLOAD_TTL = 3600
FILES = "/applications/{applicationId}/files"
PRIVATE_FILES = "/applications/{applicationId}/privateFiles"
_KINDS = {"files": FILES, "privateFiles": PRIVATE_FILES}
_SECRET = "files.secret"
_BLOBS = "files.blobs"
_RECEIVED = "files.received"

# The scheme and host the current request came to (set by the app for each request).
BASE_URL: contextvars.ContextVar[str] = contextvars.ContextVar(
    "losant_emulator_base_url", default="http://127.0.0.1"
)


class UploadedFile(str):
    """A file part of a multipart request: its file name (the ``str``), content and type."""

    field: str
    content: bytes
    content_type: str | None

    def __new__(cls, filename: str, field: str, content: bytes,
                content_type: str | None) -> UploadedFile:
        made = super().__new__(cls, filename)
        made.field, made.content, made.content_type = field, content, content_type
        return made


def uploaded(field: str, storage: FileStorage) -> UploadedFile:
    """Read one file part of a request."""
    content = storage.stream.read()
    content_type = storage.headers.get("Content-Type")
    return UploadedFile(storage.filename or field, field, content, content_type)


@dataclass(frozen=True)
class ReceivedFile:
    """A file part the API received."""

    endpoint: str
    field: str
    filename: str
    content_type: str | None
    content: bytes


def received_files(store: Store) -> list[ReceivedFile]:
    """Every file part received by the API since the last reset, oldest first."""
    with store.lock:
        return list(store.extras.get(_RECEIVED, []))


def _record(ctx: Ctx) -> list[UploadedFile]:
    parts = [v for v in (ctx.body or {}).values() if isinstance(v, UploadedFile)] if isinstance(
        ctx.body, dict) else []
    with ctx.store.lock:
        log = ctx.store.extras.setdefault(_RECEIVED, [])
        for part in parts:
            log.append(ReceivedFile(ctx.endpoint.id, part.field, str(part), part.content_type,
                                    part.content))
    return parts


# -- signatures ----------------------------------------------------------------------------


def _secret(store: Store) -> bytes:
    with store.lock:
        secret = store.extras.get(_SECRET)
        if not isinstance(secret, bytes):
            secret = store.extras[_SECRET] = secrets.token_bytes(32)
        return secret


def _sign(store: Store, *parts: str) -> str:
    message = "\n".join(parts).encode("utf-8")
    return hmac.new(_secret(store), message, hashlib.sha256).hexdigest()


def _upload_target(ctx: Ctx, kind: str, file_id: str) -> dict[str, Any]:
    key = f"{ctx.app_id}/{kind}/{file_id}"
    expires = str(int(time.time()) + UPLOAD_TTL)
    fields = {
        "bucket": BUCKET,
        "key": key,
        "X-Emulator-Expires": expires,
        "X-Emulator-Signature": _sign(ctx.store, "upload", BUCKET, key, expires),
    }
    return {"url": f"{BASE_URL.get()}{STORAGE_PREFIX}/upload", "fields": fields}


def _public_url(app_id: str, file_id: str, name: str) -> str:
    return f"{BASE_URL.get()}{STORAGE_PREFIX}/files/{app_id}/{file_id}/{quote(name, safe='')}"


def _private_url(store: Store, app_id: str, file_id: str, name: str, ttl: int) -> str:
    expires = str(int(time.time()) + ttl)
    signature = _sign(store, "get", app_id, file_id, expires)
    return (f"{BASE_URL.get()}{STORAGE_PREFIX}/private/{app_id}/{file_id}/"
            f"{quote(name, safe='')}?expires={expires}&signature={signature}")


def _with_private_url(ctx: Ctx, doc: Doc) -> Doc:
    if doc.get("type") == "file" and doc.get("status") == "completed":
        ttl = ctx.int_arg("urlTTL", int(ctx.default_of("urlTTL", 900)), minimum=1,
                          maximum=7 * 24 * 3600)
        doc = {**doc, "url": _private_url(ctx.store, ctx.app_id, doc["id"],
                                          str(doc.get("name", "file")), ttl)}
    return doc


# -- the API's file endpoints --------------------------------------------------------------


def _author(ctx: Ctx) -> dict[str, str]:
    principal = ctx.principal
    if principal is None or not re.fullmatch(r"[A-Fa-f\d]{24}", principal.subject_id):
        return {}
    kind = {"user": "user", "device": "device", "apiToken": "apiToken"}.get(principal.kind)
    return {"authorType": kind, "authorId": principal.subject_id} if kind else {}


@handles("files.post", "privateFiles.post")
def create_file(ctx: Ctx) -> Reply:
    """Store a pending file (with an upload target) or a completed directory."""
    body = ctx.body_dict()
    name, kind = body.get("name"), body.get("type")
    if not isinstance(name, str) or not 1 <= len(name) <= 1024 or "/" in name:
        raise validation("name must be a file name of 1 to 1024 characters")
    if kind not in ("file", "directory"):
        raise validation("type must be file or directory")
    parent = body.get("parentDirectory", "/")
    if not isinstance(parent, str) or len(parent) > 1024:
        raise validation("parentDirectory must be a string of at most 1024 characters")
    doc = {**body, "parentDirectory": parent or "/", **_author(ctx),
           "status": "pending" if kind == "file" else "completed"}
    status, answer = generic_create(replace(ctx, body=doc))
    collection = "privateFiles" if ctx.endpoint.id.startswith("private") else "files"
    if kind == "file":
        answer["upload"] = _upload_target(ctx, collection, answer["id"])
    return status, answer


@handles("file.upload", "privateFile.upload")
def upload_through_api(ctx: Ctx) -> Reply:
    """Store the content of a multipart upload (part ``file`` or ``privateFile``)."""
    parts = _record(ctx)
    field = "privateFile" if ctx.endpoint.id.startswith("private") else "file"
    part = next((p for p in parts if p.field == field), None)
    if part is None:
        raise validation(f"{field} is required (a file part of a multipart/form-data body)")
    kind = "privateFiles" if field == "privateFile" else "files"
    item = "privateFileId" if field == "privateFile" else "fileId"
    with ctx.store.lock:
        doc = ctx.store.find(_KINDS[kind], (ctx.app_id,), ctx.args[item])
        if doc is None:
            raise not_found("File")
        _complete(ctx.store, kind, doc, part.content, part.content_type)
        answer = copy.deepcopy(doc)
    return 200, _with_private_url(ctx, answer) if kind == "privateFiles" else answer


@handles("privateFile.get")
def get_private_file(ctx: Ctx) -> Reply:
    status, doc = generic_get(ctx)
    return status, _with_private_url(ctx, doc)


@handles("privateFiles.get")
def list_private_files(ctx: Ctx) -> Reply:
    status, page = generic_list(ctx)
    if isinstance(page, dict) and isinstance(page.get("items"), list):
        page["items"] = [_with_private_url(ctx, d) for d in page["items"]]
    return status, page


@handles("file.delete", "privateFile.delete")
def delete_file(ctx: Ctx) -> Reply:
    answer = generic_delete(ctx)
    item = ctx.route.item_param or ""
    with ctx.store.lock:
        ctx.store.extras.get(_BLOBS, {}).pop((ctx.app_id, ctx.args.get(item, "")), None)
    return answer


@handles("notebook.upload", "application.import", "applications.import")
def keep_upload(ctx: Ctx) -> Reply:
    """Record the uploaded file, then answer as documented."""
    _record(ctx)
    return generic_action(ctx)


def _complete(store: Store, kind: str, doc: Doc, content: bytes,
              content_type: str | None) -> None:
    """The content has arrived: keep it and mark the file completed."""
    store.extras.setdefault(_BLOBS, {})[(doc["applicationId"], doc["id"])] = (
        content, content_type or doc.get("contentType") or "application/octet-stream")
    doc.update(status="completed", fileSize=len(content), lastUpdated=now_iso(),
               s3etag=hashlib.md5(content, usedforsecurity=False).hexdigest())
    if content_type:
        doc["contentType"] = content_type
    if kind == "files":
        doc["url"] = _public_url(doc["applicationId"], doc["id"], str(doc.get("name", "file")))


# -- the storage host ----------------------------------------------------------------------


def _storage_error(status: int, code: str, message: str) -> Response:
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error>")
    return Response(body, status=status, mimetype="application/xml")


def serve_storage(store: Store, request: Request) -> Response:
    """Answer a request to the storage host (upload form POSTs and file GETs)."""
    path = request.path[len(STORAGE_PREFIX):]
    if path == "/upload" and request.method == "POST":
        return _storage_upload(store, request)
    if request.method in ("GET", "HEAD"):
        match = re.fullmatch(r"/(files|private)/([^/]+)/([^/]+)/([^/]+)", path)
        if match:
            return _storage_get(store, request, *match.groups())
    return _storage_error(405 if path == "/upload" else 404, "NoSuchKey",
                          "The specified key does not exist.")


def _form_parts(request: Request) -> list[tuple[str, str | None, str | None, bytes]]:
    """The parts of a multipart form in order: (name, filename, content type, bytes)."""
    boundary = request.mimetype_params.get("boundary")
    if request.mimetype != "multipart/form-data" or not boundary:
        raise Fault(400, "MalformedPOSTRequest", "The body must be multipart/form-data")
    decoder = MultipartDecoder(boundary.encode("latin-1"))
    decoder.receive_data(request.get_data())
    decoder.receive_data(None)
    parts: list[tuple[str, str | None, str | None, bytearray]] = []
    while True:
        event = decoder.next_event()
        if isinstance(event, (NeedData, Epilogue)):
            break
        if isinstance(event, File):
            parts.append((event.name, event.filename, event.headers.get("Content-Type"),
                          bytearray()))
        elif isinstance(event, Field):
            parts.append((event.name, None, None, bytearray()))
        elif isinstance(event, Data) and parts:
            parts[-1][3].extend(event.data)
    return [(name, filename, kind, bytes(data)) for name, filename, kind, data in parts]


def _storage_upload(store: Store, request: Request) -> Response:
    if "Authorization" in request.headers:
        return _storage_error(400, "InvalidArgument",
                              "Unsupported Authorization Type: a form upload is signed by "
                              "its fields and takes no Authorization header")
    try:
        parts = _form_parts(request)
    except Fault as fault:
        return _storage_error(400, fault.type, fault.message)
    except ValueError:
        return _storage_error(400, "MalformedPOSTRequest", "The body is not a valid form")
    if not parts or parts[-1][0] != "file" or parts[-1][1] is None:
        return _storage_error(400, "InvalidArgument",
                              "The last part of the form must be the file, named 'file'")
    fields = {name: data.decode("utf-8", "replace") for name, _f, _t, data in parts[:-1]}
    _name, _filename, part_type, content = parts[-1]
    key, bucket = fields.get("key", ""), fields.get("bucket", "")
    expires = fields.get("X-Emulator-Expires", "")
    signature = fields.get("X-Emulator-Signature", "")
    expected = _sign(store, "upload", bucket, key, expires)
    if not hmac.compare_digest(signature, expected):
        return _storage_error(403, "AccessDenied", "Invalid according to Policy: "
                              "the signature does not match the fields")
    if not expires.isdigit() or int(expires) < time.time():
        return _storage_error(403, "AccessDenied", "Invalid according to Policy: "
                              "Policy expired")
    app_id, _, rest = key.partition("/")
    kind, _, file_id = rest.partition("/")
    with store.lock:
        doc = store.find(_KINDS[kind], (app_id,), file_id) if kind in _KINDS else None
        if doc is None:
            return _storage_error(404, "NoSuchUpload", "The file this upload was signed for "
                                  "no longer exists")
        _complete(store, kind, doc, content,
                  fields.get("Content-Type") or doc.get("contentType") or part_type)
    return Response(b"", status=204)


def _storage_get(store: Store, request: Request, kind: str, app_id: str, file_id: str,
                 name: str) -> Response:
    with store.lock:
        blob = store.extras.get(_BLOBS, {}).get((app_id, file_id))
        collection = PRIVATE_FILES if kind == "private" else FILES
        doc = store.find(collection, (app_id,), file_id)
    if blob is None or doc is None or unquote(name) != doc.get("name"):
        return _storage_error(404, "NoSuchKey", "The specified key does not exist.")
    if kind == "private":
        expires = request.args.get("expires", "")
        signature = request.args.get("signature", "")
        expected = _sign(store, "get", app_id, file_id, expires)
        if not hmac.compare_digest(signature, expected):
            return _storage_error(403, "SignatureDoesNotMatch", "The signature is not valid")
        if not expires.isdigit() or int(expires) < time.time():
            return _storage_error(403, "AccessDenied", "Request has expired")
    content, content_type = blob
    return Response(content, status=200, content_type=content_type,
                    headers={"ETag": f'"{doc.get("s3etag", "")}"'})
