"""The WSGI application: routes a request through the catalog's URL map, checks the token
and the parent resources, runs the endpoint's handler and answers JSON."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from . import (  # noqa: F401  (register handlers)
    _accounts,
    _devices,
    _events,
    _exports,
    _files,
    _flowstate,
    _invites,
    _jobs,
    _limits,
    _linked,
    _recipes,
    _state,
    _streams,
    _tables,
)
from ._auth import authorize
from ._checks import check_request
from ._complete import complete, complete_page
from ._context import HANDLERS, Ctx, Handler
from ._errors import Fault
from ._generic import (
    check_parents,
    generic_action,
    generic_create,
    generic_delete,
    generic_get,
    generic_list,
    generic_patch,
)
from ._json import dumps, loads
from ._routes import endpoint, route_info, url_map
from ._store import Settings, Store

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

_GENERIC: dict[str, Handler] = {
    "list": generic_list,
    "create": generic_create,
    "get": generic_get,
    "patch": generic_patch,
    "delete": generic_delete,
    "action": generic_action,
}


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    """A JSON response (an empty body for 204 or a ``None`` payload)."""
    if status == 204 or payload is None:
        return Response(b"", status=status, headers=headers)
    text = dumps(payload)
    return Response(text, status=status, headers=headers, mimetype="application/json")


class EmulatorApp:
    """A WSGI callable serving the Losant API from a :class:`Store`."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.url_map = url_map()
        self.internal_errors: list[str] = []

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except Fault as fault:
            response = json_response(fault.status, fault.body(), fault.headers)
        except HTTPException as exc:  # werkzeug refused the request itself (size, form data)
            code = exc.code if exc.code is not None and 400 <= exc.code < 500 else 400
            message = exc.description or exc.name
            response = json_response(code, {"type": "Validation", "message": message})
        except Exception as exc:  # noqa: BLE001 - last resort: a bug in the emulator
            response = self._internal_error(request, exc)
        return response(environ, start_response)

    def _internal_error(self, request: Request, exc: Exception) -> Response:
        """Answer an emulator bug without a 5xx: log it, remember it, answer 400.

        Losant answers malformed input with 400, so a request that trips the emulator
        is most likely malformed; the traceback goes to stderr and the failure to
        ``internal_errors`` so test suites can notice.
        """
        summary = f"{request.method} {request.path}: {type(exc).__name__}: {exc}"
        self.internal_errors.append(summary)
        print(f"losant emulator: unexpected error in {summary}", file=sys.stderr)
        traceback.print_exc()
        message = (
            f"The emulator could not handle this request ({type(exc).__name__}); "
            "this is an emulator bug, please report it"
        )
        return json_response(400, {"type": "Validation", "message": message})

    def _match(self, request: Request) -> tuple[str, dict[str, str]]:
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint_id, args = adapter.match()
        except HTTPException:
            raise Fault(
                404, "NotFound", f"No such endpoint: {request.method} {request.path}"
            ) from None
        return str(endpoint_id), {k: str(v) for k, v in args.items()}

    def _body(self, request: Request) -> Any:
        if request.mimetype.startswith("multipart/"):
            fields: dict[str, Any] = {}
            for key, value in request.form.items():
                try:
                    fields[key] = loads(value, f"Form field {key}")
                except Fault:
                    fields[key] = value
            for key, upload in request.files.items():
                fields[key] = _files.uploaded(key, upload)  # a str: the file name
            return fields
        raw = request.get_data(cache=True)
        if not raw.strip():
            return None
        return loads(raw)

    def dispatch(self, request: Request) -> Response:
        """Answer one request (raises :class:`Fault` for error answers)."""
        _files.BASE_URL.set(request.host_url.rstrip("/"))
        if request.path.startswith(_jobs.OUTPUT_PREFIX + "/"):
            return _jobs.serve_output(self.store, request)  # export outputs: no token
        if request.path.startswith(_files.STORAGE_PREFIX + "/"):
            return _files.serve_storage(self.store, request)  # the storage host: no token
        endpoint_id, args = self._match(request)
        ep = endpoint(endpoint_id)
        route = route_info(endpoint_id)
        principal = authorize(self.store, ep, args, request.headers.get("Authorization"))
        body = self._body(request)
        check_request(ep, request.args, body, request.mimetype.startswith("multipart/"))
        with self.store.lock:
            check_parents(self.store, args, ep.path, own=route.kind == "action")
        ctx = Ctx(
            store=self.store,
            settings=self.settings,
            endpoint=ep,
            route=route,
            args=args,
            query=request.args,
            body=body,
            principal=principal,
        )
        if ep.sse:  # streams run outside the lock, as long as the client listens
            return _streams.stream_response(ctx, request)
        handler = HANDLERS.get(endpoint_id)
        # One request at a time touches the state: simple and safe for a test double.
        with self.store.lock:
            _limits.before(ctx)  # throttles: 429 as Losant answers it
            _jobs.before(ctx)  # jobs Losant runs one at a time
            if handler is None:
                status, payload = _GENERIC[route.kind](ctx)
                payload = complete(ctx, status, payload)
            else:
                status, payload = handler(ctx)
                payload = complete_page(ctx, status, payload)
            status, payload = _jobs.enqueued(ctx, status, payload)  # jobs get job logs
            response = json_response(status, payload)
            _limits.check_answer(ctx, response)  # answer caps: 400 as Losant answers it
            return response
