"""The transport seam: how one HTTP request is sent and its answer read, nothing more.

A transport takes a fully encoded :class:`HTTPRequest` and returns a ``requests.Response``
with its body read (or, with ``stream=True``, ready to be read). It raises only
``LosantConnectionError`` (saying whether the request may have reached the server) and
``LosantTimeoutError``; retries, renewal, status mapping and decoding are the pipeline's
(``_pipeline.py``), so every transport gets them the same way.

* :class:`RequestsTransport` (the default): a pooled ``requests.Session``; redirects are
  never followed; ``timeout`` is a deadline for the whole answer, body included.
* :class:`WSGITransport`: calls a WSGI app in process (the emulator's, for fast tests).
"""

from __future__ import annotations

import io
import re
import ssl
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

from . import _deadline, _fork
from ._exceptions import LosantConnectionError, LosantTimeoutError, TransportError

__all__ = ["HTTPRequest", "RequestsTransport", "Transport", "WSGITransport"]

_CHUNK = 65536


@dataclass(frozen=True)
class HTTPRequest:
    """One request as it goes on the wire: the body is bytes, or a re-iterable with ``len``."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | Iterable[bytes] | None = None

    def body_bytes(self) -> bytes:
        """The whole body (iterating a re-iterable body once more)."""
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        return b"".join(self.body)


class Transport(Protocol):
    """What the pipeline needs from a transport."""

    def send(
        self, request: HTTPRequest, *, timeout: float | None, stream: bool
    ) -> requests.Response:
        """Send ``request``; return the answer (body read unless ``stream``)."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def _describe(request: HTTPRequest) -> str:
    return f"{request.method} {urlsplit(request.url).path}"


def _host(request: HTTPRequest) -> str:
    parts = urlsplit(request.url)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


class RequestsTransport:
    """The default transport: one pooled ``requests.Session``.

    ``pool_size`` is how many connections per host are kept for reuse: enough for that many
    threads sharing one ``API`` without urllib3 discarding connections. A ``session`` passed
    in is used as it is (its adapters, proxies and certificates); ``verify`` sets
    ``session.verify`` (``False``, or a CA bundle path).

    The environment's proxy and CA-bundle variables (``HTTPS_PROXY``, ``NO_PROXY``,
    ``REQUESTS_CA_BUNDLE``...) are read once per host, at the first request to it, as
    httpx reads them once per client: reading them is a scan of the whole environment,
    which cost a fifth of a small call when requests did it on every call.
    """

    def __init__(
        self,
        session: requests.Session | None = None,
        *,
        pool_size: int = 64,
        verify: bool | str | None = None,
    ) -> None:
        if isinstance(pool_size, bool) or not isinstance(pool_size, int) or pool_size < 1:
            raise ValueError(f"pool_size must be an int >= 1, not {pool_size!r}")
        self.owns_session = session is None
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=8, pool_maxsize=pool_size, max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        if verify is not None:
            session.verify = verify
        self.session = session
        # requests' environment settings (proxies, verify) per origin: see the docstring
        self._environment: dict[tuple[Any, ...], dict[str, Any]] = {}
        _deadline.watch_session(session)  # pools that tell the deadline watchdog their sockets
        _fork.register(self)

    def after_fork(self) -> None:
        """In a forked child: new pools, so parent and child never share a socket."""
        _deadline.fresh_pools(self.session)

    def send(
        self, request: HTTPRequest, *, timeout: float | None, stream: bool
    ) -> requests.Response:
        check_headers(request)  # a clear ValueError, never one that shows the value
        session = self.session
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            prepared = session.prepare_request(
                requests.Request(
                    request.method, request.url, headers=dict(request.headers),
                    data=request.body,
                )
            )
        except requests.exceptions.InvalidHeader:  # its message would show the value
            names = [n for n, v in request.headers if v != v.strip() or "\n" in v or "\r" in v]
            raise ValueError(f"{_describe(request)}: the header {', '.join(names) or '?'} has "
                             "whitespace around it or a line break in it; nothing was sent "
                             "(the value is not shown)") from None
        # requests' ``json=`` (what Losant's Python client uses) writes Content-Type after
        # Content-Length; keep that order so both clients' requests are byte-identical.
        content_type = prepared.headers.pop("Content-Type", None)
        if content_type is not None:
            prepared.headers["Content-Type"] = content_type
        settings = self._settings(prepared.url or request.url)
        # One deadline for connect, headers and body: past it, the watchdog shuts the socket.
        watch = None if timeout is None else _deadline.watchdog.start(timeout)
        try:
            try:
                response = session.send(
                    prepared, allow_redirects=False, timeout=timeout, **settings
                )
            except requests.RequestException as exc:
                if watch is not None and watch.expired:
                    raise past_deadline(request, timeout) from None
                raise _failure(request, exc, timeout) from None
            except UnicodeEncodeError:  # http.client encodes headers as Latin-1, unsent
                names = [n for n, v in request.headers if not _latin1(v)]
                raise ValueError(f"{_describe(request)}: the header {', '.join(names) or '?'} "
                                 "has characters outside Latin-1, which HTTP headers cannot "
                                 "carry; nothing was sent") from None
            if not stream:
                _read_body(request, response, deadline, timeout)
        finally:
            if watch is not None:
                _deadline.watchdog.stop(watch)
        return response

    def _settings(self, url: str) -> dict[str, Any]:
        """requests' environment settings for ``url``'s origin, read at its first request.

        Merged with the session's own ``proxies``, ``verify``, ``cert`` and ``trust_env``,
        which are part of the key: set ``api.session.verify = False`` after a certificate
        error and the next call uses it, as it would with requests.
        """
        session = self.session
        key = (_origin(url), session.verify, session.cert, session.trust_env,
               frozenset(session.proxies.items()) if session.proxies else None)
        try:
            settings = self._environment.get(key)
        except TypeError:  # a setting of a type requests takes but cannot be a key: no cache
            return dict(session.merge_environment_settings(url, {}, True, None, None))
        if settings is None:
            if len(self._environment) >= _ORIGINS_KEPT:  # signed file URLs: many hosts
                self._environment.clear()
            merged = session.merge_environment_settings(url, {}, True, None, None)
            settings = self._environment[key] = dict(merged)
        return settings

    def close(self) -> None:
        if self.owns_session:
            self.session.close()


_ORIGINS_KEPT = 64


# ``scheme://host:port`` of an absolute URL: the part proxies are chosen by. A regular
# expression: one C call on the per-request path.
_ORIGIN = re.compile(r"[^/?#]*(?://[^/?#]*)?")


def _origin(url: str) -> str:
    """``scheme://host:port`` of an absolute URL."""
    match = _ORIGIN.match(url)  # matches any text (every part is optional)
    return match.group() if match else url


def check_headers(request: HTTPRequest) -> None:
    """``ValueError`` naming a header HTTP cannot carry (never showing its value)."""
    for name, value in request.headers:
        if value != value.strip() or "\n" in value or "\r" in value or "\0" in value:
            raise ValueError(f"{_describe(request)}: the header {name} has whitespace around "
                             "it or a line break in it; nothing was sent (the value is not "
                             "shown)")
        if not _latin1(value):
            raise ValueError(f"{_describe(request)}: the header {name} has characters "
                             "outside Latin-1, which HTTP headers cannot carry; nothing was "
                             "sent")


def _latin1(value: str) -> bool:
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _failure(request: HTTPRequest, exc: Exception, timeout: float | None) -> TransportError:
    """A requests exception as the ``LosantError`` the pipeline decides on."""
    what = _describe(request)
    if isinstance(exc, requests.ConnectTimeout):
        return LosantTimeoutError(f"{what}: could not connect to {_host(request)} within "
                                  f"{timeout} s")
    if isinstance(exc, requests.ReadTimeout):
        return LosantTimeoutError(
            f"{what}: no answer within {timeout} s; the request may have been received",
            may_have_been_received=True,
        )
    if isinstance(exc, requests.exceptions.SSLError):
        return tls_failure(request, exc)
    if isinstance(exc, requests.exceptions.ProxyError):
        return LosantConnectionError(f"{what}: the proxy refused or failed ({_reason(exc)})")
    if isinstance(exc, requests.ConnectionError):
        if _never_sent(exc):
            return LosantConnectionError(
                f"{what}: could not connect to {_host(request)} ({_reason(exc)})"
            )
        return LosantConnectionError(
            f"{what}: the connection to {_host(request)} broke before the answer "
            f"({_reason(exc)}); the request may have been received",
            may_have_been_received=True,
        )
    return TransportError(f"{what}: the request could not be sent ({type(exc).__name__})")


def _never_sent(exc: BaseException) -> bool:
    """Whether a connection error happened before the request could reach the server."""
    import urllib3.exceptions as u3

    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, (u3.NewConnectionError, u3.NameResolutionError,
                                ConnectionRefusedError)):
            return True
        if isinstance(current, u3.MaxRetryError):
            stack.append(current.reason)
        stack.extend([current.__cause__, current.__context__])
        stack.extend(a for a in getattr(current, "args", ()) if isinstance(a, BaseException))
    return False


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, then what it wraps, innermost last: its ``reason`` (urllib3), ``__cause__``
    or ``__context__``, else its last exception argument (requests wraps that way)."""
    inner: BaseException = exc
    yield inner
    for _ in range(8):
        nxt = getattr(inner, "reason", None) or inner.__cause__ or inner.__context__
        if not isinstance(nxt, BaseException):
            args = [a for a in getattr(inner, "args", ()) if isinstance(a, BaseException)]
            if not args:
                return
            nxt = args[-1]
        inner = nxt
        yield inner


def _reason(exc: BaseException) -> str:
    """The innermost cause's class name: short, and never a URL with a query in it."""
    *_, inner = _causes(exc)
    return type(inner).__name__


def ssl_cause(exc: BaseException) -> ssl.SSLError | None:
    """The ``ssl.SSLError`` behind a failure (requests and httpx both wrap it), if any."""
    return next((c for c in _causes(exc) if isinstance(c, ssl.SSLError)), None)


def tls_failure(request: HTTPRequest, exc: BaseException) -> TransportError:
    """The error of a failed TLS handshake; for an untrusted certificate, what to do."""
    what, host = _describe(request), _host(request)
    cause = ssl_cause(exc)
    if isinstance(cause, ssl.SSLCertVerificationError):
        why = cause.verify_message or "certificate verify failed"
        return TransportError(
            f"{what}: TLS failed with {host}: its certificate is not trusted ({why}); give "
            "verify= the CA bundle that signed it, or set REQUESTS_CA_BUNDLE"
        )
    return TransportError(f"{what}: TLS failed with {host} ({_reason(exc)})")


def past_deadline(request: HTTPRequest, timeout: float | None) -> LosantTimeoutError:
    """The error of a call whose whole answer did not arrive within ``timeout``."""
    return LosantTimeoutError(
        f"{_describe(request)}: the answer did not arrive in full within {timeout} s; "
        "the request may have been received",
        may_have_been_received=True,
    )


def stalled(request: HTTPRequest, timeout: float | None) -> LosantTimeoutError:
    """The error of an answer whose body stopped coming for longer than ``timeout``."""
    return LosantTimeoutError(
        f"{_describe(request)}: the answer stalled for over {timeout} s; "
        "the request may have been received",
        may_have_been_received=True,
    )


def broken_while_reading(request: HTTPRequest, exc: BaseException) -> LosantConnectionError:
    """The error of a connection that broke while the answer's body was read."""
    return LosantConnectionError(
        f"{_describe(request)}: the connection broke while the answer was read "
        f"({type(exc).__name__}); the request may have been received",
        may_have_been_received=True,
    )


def _read_body(
    request: HTTPRequest,
    response: requests.Response,
    deadline: float | None,
    timeout: float | None,
) -> None:
    """Read the whole body before ``deadline``, one socket read at a time."""
    raw = response.raw
    chunks: list[bytes] = []
    try:
        while True:
            if deadline is not None and time.monotonic() > deadline:
                response.close()
                raise past_deadline(request, timeout)
            chunk = raw.read1(_CHUNK, decode_content=True)
            if not chunk:
                break
            chunks.append(chunk)
    except LosantTimeoutError:
        raise
    except Exception as exc:
        import urllib3.exceptions as u3

        response.close()
        watch = _deadline.current()
        if watch is not None and watch.expired:
            raise past_deadline(request, timeout) from None
        if isinstance(exc, (u3.ReadTimeoutError, TimeoutError)):
            raise stalled(request, timeout) from None
        raise broken_while_reading(request, exc) from None
    keep_body(response, b"".join(chunks))
    watch = _deadline.current()
    if watch is not None:  # before the connection goes back to the pool (and to others)
        _deadline.watchdog.stop(watch)
    release = getattr(raw, "release_conn", None)
    if release is not None:  # body read: gives the connection back to the pool
        release()


def keep_body(response: requests.Response, body: bytes) -> None:
    """Make ``body`` (already read and decoded) the body ``response.content`` gives.

    Through requests' public path only: ``raw`` becomes a file over the bytes and reading
    ``content`` once has requests keep them (and mark the body consumed) itself. ``raw``
    is left a fresh file over the body, for whoever streams a read answer.
    """
    response.raw = _WholeBody(body)
    response.content  # noqa: B018 - read for its effect: requests keeps the body
    response.raw = io.BytesIO(body)


class _WholeBody(io.BytesIO):
    """A file over a read body that requests reads as one chunk (its ``stream``).

    requests reads ``raw.stream()`` when there is one, else ``raw.read()`` 10 KiB at a
    time; one chunk is joined without a copy, so keeping a big page costs nothing.
    """

    def __init__(self, body: bytes) -> None:
        super().__init__(body)
        self._body = body

    def stream(self, amt: int | None = None, decode_content: bool | None = None
               ) -> Iterator[bytes]:
        self.seek(0, io.SEEK_END)
        if self._body:
            yield self._body


WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class WSGITransport:
    """Calls a WSGI application in this process instead of going over the network.

    ``API(url="http://emulator", transport=WSGITransport(Emulator().app))`` runs the
    client against the emulator without sockets: the same pipeline, much faster tests.
    """

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def send(
        self, request: HTTPRequest, *, timeout: float | None, stream: bool
    ) -> requests.Response:
        parts = urlsplit(request.url)
        body = request.body_bytes()
        environ: dict[str, Any] = {
            "REQUEST_METHOD": request.method,
            "SCRIPT_NAME": "",
            "PATH_INFO": _unquote_path(parts.path),
            "RAW_URI": parts.path + (f"?{parts.query}" if parts.query else ""),
            "QUERY_STRING": parts.query,
            "SERVER_NAME": parts.hostname or "localhost",
            "SERVER_PORT": str(parts.port or (443 if parts.scheme == "https" else 80)),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": parts.scheme,
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in request.headers:
            key = name.upper().replace("-", "_")
            if key == "CONTENT_TYPE":
                environ["CONTENT_TYPE"] = value
            elif key != "CONTENT_LENGTH":
                environ[f"HTTP_{key}"] = value
        started: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None
                           ) -> Callable[[bytes], None]:
            started["status"], started["headers"] = status, headers
            return lambda data: None

        result = self.app(environ, start_response)
        try:
            content = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if callable(close):
                close()
        response = requests.Response()
        code, _, reason = str(started["status"]).partition(" ")
        response.status_code = int(code)
        response.reason = reason
        response.headers = CaseInsensitiveDict(started["headers"])
        response.url = request.url
        keep_body(response, content)
        response.encoding = requests.utils.get_encoding_from_headers(response.headers)
        return response

    def close(self) -> None:
        return None


def _unquote_path(path: str) -> str:
    from urllib.parse import unquote

    return unquote(path, encoding="latin-1")
