"""Files: signed uploads to the storage host and downloads, never carrying the Losant token.

Creating a file (``app.files().post({...})``) answers a ``FileUploadPostResponse`` whose
``upload`` is a signed target on a storage host: a URL and form fields. :func:`upload_file`
sends the content there as the storage host expects it (a ``multipart/form-data`` POST, every
signed field first, the content last in a part named ``file``). :func:`download` streams a
file's ``url`` to a path or a binary file (:func:`adownload` and :func:`aupload_file`: the
same through an ``AsyncAPI``, awaited). Both go through the pipeline (pooled session,
retries where safe, errors as ``LosantError`` with ``http_response()``) with
``authorize=False``: a request to another host carries neither the ``Authorization``
header nor the ``API``'s extra headers.

Results read through an ``API`` know their pipeline (``_pipeline.pipeline_of``), so the
model methods ``file.upload_file(data)`` and ``file.download(dest)`` need nothing more;
``api=`` gives one where a result does not know it (an item of a file list).
"""

from __future__ import annotations

import asyncio
import os
import stat
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import urlsplit

from . import _deadline, _secrets
from ._deadline import check_seconds
from ._exceptions import LosantConnectionError, LosantTimeoutError, TransportError
from ._flows import Flow, arun, run
from ._pipeline import Pipeline, PipelineBase, pipeline_of, send_flow
from ._wire import MultipartBody, WireCall

if TYPE_CHECKING:
    import requests

__all__ = ["FileData", "adownload", "check_dest", "download", "upload_fields", "upload_file"]

# bytes, a path (str or os.PathLike), or a binary file object.
FileData = Any
_CHUNK = 65536


def _pipeline(result: Any, api: Any) -> PipelineBase:
    """The pipeline to send through: ``api``'s if given, else the one the result came by."""
    if api is not None:
        found = api if isinstance(api, PipelineBase) else getattr(api, "_pipeline", None)
        if not isinstance(found, PipelineBase):
            raise TypeError(f"api must be an API, not {type(api).__name__}")
        return found
    found = pipeline_of(result)
    if found is None:
        raise ValueError(
            f"this {type(result).__name__} was not read through an API (built by hand, or "
            "unpickled): pass api=your_api"
        )
    return found


def _sync(pipeline: PipelineBase, what: str) -> Pipeline:
    """The sync pipeline to send through, or ``TypeError`` naming the awaited method."""
    if not isinstance(pipeline, Pipeline):
        raise TypeError(f"this file came through an AsyncAPI: use await ....a{what}()")
    return pipeline


def upload_fields(result: Any) -> tuple[str, list[tuple[str, str]]]:
    """The signed target of a ``files().post``/``patch`` result: its URL and form fields.

    Fields keep the order the API sent them in.
    """
    upload = getattr(result, "upload", None)
    url = getattr(upload, "url", None)
    if not isinstance(url, str) or not url:
        raise ValueError(
            f"this {type(result).__name__} has no upload target (upload.url); create the "
            "file with files().post({...}) (or private_files()) to get one"
        )
    raw = result.raw_json() if hasattr(result, "raw_json") else None
    fields: Any = None
    if isinstance(raw, Mapping) and isinstance(raw.get("upload"), Mapping):
        fields = raw["upload"].get("fields")
    if not isinstance(fields, Mapping):
        given = getattr(upload, "fields", None)
        fields = given.model_dump(by_alias=True, exclude_none=True) if given is not None else {}
    pairs = [(str(key), str(value)) for key, value in fields.items() if value is not None]
    # Signatures, policies and credentials: an echoing storage host never shows them.
    _secrets.register(*(value for key, value in pairs if _signed(key)))
    return url, pairs


def _signed(field: str) -> bool:
    """Whether a signed upload's form field is a credential (not ``key`` or content type)."""
    name = field.lower()
    return any(word in name for word in ("signature", "policy", "credential", "token",
                                         "secret", "security"))


def _upload_call(result: Any, data: FileData, api: Any, filename: str | None,
                 content_type: str | None, timeout: float | None) -> tuple[PipelineBase, WireCall]:
    """The pipeline and the storage-host request of an upload (see :func:`upload_file`)."""

    check_seconds("timeout", timeout)
    url, fields = upload_fields(result)
    pipeline = _pipeline(result, api)
    content: Any = data
    declared = getattr(result, "content_type", None)
    content_type = content_type or (declared if isinstance(declared, str) else None)
    if filename is None and not isinstance(data, (str, os.PathLike)) and not isinstance(
        getattr(data, "name", None), str
    ):
        name = getattr(result, "name", None)
        filename = name if isinstance(name, str) and name else None
    if filename is not None or content_type is not None:
        if isinstance(data, (bytes, bytearray, memoryview)):
            name = filename or "file"
        elif isinstance(data, (str, os.PathLike)):
            name = filename or os.path.basename(os.fspath(data))
        else:
            name = filename or os.path.basename(str(getattr(data, "name", "file")))
        content = (name, data, content_type) if content_type else (name, data)
    body = MultipartBody.from_fields(list(fields), [("file", content)])
    call = WireCall(method="POST", path=urlsplit(url).path or "/", url=url, body=body,
                    content_type=body.content_type, timeout=timeout)
    return pipeline, call


def upload_file(result: Any, data: FileData, *, api: Any = None,
                filename: str | None = None, content_type: str | None = None,
                timeout: float | None = None) -> requests.Response:
    """Send ``data`` (bytes, a path, or a binary file object) to ``result``'s upload target.

    A ``multipart/form-data`` POST to ``upload.url``: every ``upload.fields`` entry first,
    in the API's order, then the content in a part named ``file`` (file name from the path,
    ``filename`` or the file's ``name``; content type ``content_type``, the file's declared
    ``contentType``, or guessed from the name). No Losant token or
    other API header is sent. Returns the storage host's 2xx answer; raises the
    ``LosantError`` of any other (``http_response()`` gives it).
    """
    pipeline, call = _upload_call(result, data, api, filename, content_type, timeout)
    sync = _sync(pipeline, "upload_file")
    response: requests.Response = run(upload_flow(sync, call), sync.perform)
    return response


async def aupload_file(result: Any, data: FileData, *, api: Any = None,
                       filename: str | None = None, content_type: str | None = None,
                       timeout: float | None = None) -> requests.Response:
    """:func:`upload_file` for a result read through an ``AsyncAPI``, awaited."""
    pipeline, call = _upload_call(result, data, api, filename, content_type, timeout)
    aperform = getattr(pipeline, "aperform", None)
    if aperform is None:
        raise TypeError("this file came through a synchronous API: use upload_file()")
    response: requests.Response = await arun(upload_flow(pipeline, call), aperform)
    return response


def upload_flow(pipeline: PipelineBase, call: WireCall) -> Flow[requests.Response]:
    """A signed upload as a flow (see ``_flows``): the multipart POST sent without the
    Losant token or any API header (retried as any POST: only when never received); the
    storage host's 2xx answer, or the error of any other."""
    response: requests.Response = yield from send_flow(pipeline, call, authorize=False)
    response.close()
    return response


@dataclass(frozen=True)
class Begin:
    """A download flow's effect: the body of ``response`` starts; open the destination
    (``total`` bytes if known, for the progress bar) and bound the body by ``seconds``
    (``None``: each stall is bounded by the transport, the whole is not)."""

    __slots__ = ("response", "total", "seconds")
    response: Any
    total: int | None
    seconds: float | None


@dataclass(frozen=True)
class ReadChunk:
    """A download flow's effect: the next chunk of ``response``'s body, ``b""`` at its end,
    ``None`` when ``seconds`` pass first (a broken body: the ``TransportError`` thrown in)."""

    __slots__ = ("response", "seconds")
    response: Any
    seconds: float | None


@dataclass(frozen=True)
class Write:
    """A download flow's effect: write ``chunk`` to the destination."""

    __slots__ = ("chunk",)
    chunk: bytes


def download_flow(pipeline: PipelineBase, call: WireCall, timeout: float | None,
                  clock: Callable[[], float] = time.monotonic) -> Flow[int]:
    """A download as a flow (see ``_flows``): the GET through :func:`send_flow` without the
    Losant token, then the body chunk by chunk to the destination, all of it within
    ``timeout`` when given; its result is the number of bytes written. ``download`` and
    ``adownload`` drive it. Reading the clock is its only outside look: it decides when
    the deadline has passed (a read cut short by it is late, not broken)."""
    started = clock()
    response = yield from send_flow(pipeline, call, stream=True, authorize=False)
    until = None if timeout is None else started + timeout
    length = response.headers.get("Content-Length")
    total = int(length) if length and length.isdigit() else None
    yield Begin(response, total, None if until is None else max(until - clock(), 0.001))
    written = 0
    while True:
        left = None if until is None else until - clock()
        if left is not None and left <= 0:
            raise _late(call.path, timeout)
        try:
            chunk = yield ReadChunk(response, max(left, 0.001) if left is not None else None)
        except TransportError:
            if until is not None and clock() >= until:  # the deadline shut the connection
                raise _late(call.path, timeout) from None
            raise
        if chunk is None or (not chunk and until is not None and clock() >= until):
            raise _late(call.path, timeout)  # no chunk in time, or cut short at the deadline
        if not chunk:
            return written
        yield Write(chunk)
        written += len(chunk)


def download(result: Any, dest: str | os.PathLike[str] | BinaryIO, *, progress: bool = False,
             api: Any = None, timeout: float | None = None) -> int:
    """Stream ``result.url`` (a ``File``) to ``dest``; return the number of bytes written.

    ``dest`` is a path (an existing directory gets the file's ``name``; the file appears
    whole or not at all: it is written beside it first, then renamed) or a binary file
    object. A path that exists and is not a regular file or directory (a device, a FIFO)
    is refused before anything is sent: open it yourself and pass the file object to
    stream into it. ``progress=True`` shows a progress bar (needs the ``data`` extra, tqdm).

    ``timeout`` given here bounds the whole download, body included; without it the
    ``API``'s ``timeout`` bounds connecting and the headers, then each stall of the body
    (a large file may take as long as it needs while it keeps coming).
    """
    check_dest(dest)
    pipeline, call = _download_call(result, api, timeout)
    sync = _sync(pipeline, "download")
    sink = _Sink(result, dest, progress)
    watch: _deadline.Watch | None = None
    chunks: Iterator[bytes] | None = None

    def perform(effect: Any) -> Any:
        nonlocal watch, chunks
        kind = type(effect)
        if kind is ReadChunk:
            if chunks is None:
                chunks = _chunks(effect.response, call.path)
            return next(chunks, b"")
        if kind is Write:
            sink.write(effect.chunk)
            return None
        if kind is Begin:
            sink.begin(effect)
            if effect.seconds is not None:  # a blocking read ends only when the socket shuts
                watch = _deadline.watchdog.start(effect.seconds)
                watch.connection = getattr(effect.response.raw, "_connection", None)
            return None
        return sync.perform(effect)

    try:
        with sink:
            return run(download_flow(sync, call, timeout), perform)
    finally:
        if watch is not None:
            _deadline.watchdog.stop(watch)
        if sink.response is not None:
            sink.response.close()


def check_dest(dest: Any) -> None:
    """Refuse a download destination that exists and is not a regular file or directory."""
    if not isinstance(dest, (str, os.PathLike)):
        return
    path = os.fspath(dest)
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return  # nothing there yet: the download creates it
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise FileExistsError(
            f"dest {path!r} exists and is not a regular file (a device, FIFO or socket); "
            "nothing was downloaded. To stream into it, open it yourself and pass the "
            "binary file object as dest"
        )


def _late(path: str, timeout: float | None) -> LosantTimeoutError:
    return LosantTimeoutError(f"GET {path}: the download did not finish within {timeout} s",
                              may_have_been_received=True)


async def adownload(result: Any, dest: str | os.PathLike[str] | BinaryIO, *,
                    progress: bool = False, api: Any = None,
                    timeout: float | None = None) -> int:
    """:func:`download` for a file read through an ``AsyncAPI``, awaited.

    The body arrives without blocking the event loop; each chunk is written to ``dest`` as
    it comes (a plain file write).
    """
    check_dest(dest)
    pipeline, call = _download_call(result, api, timeout)
    aperform = getattr(pipeline, "aperform", None)
    if aperform is None:
        raise TypeError("this file came through a synchronous API: use download()")
    from ._async_transport import _within, release  # httpx: only with the async extra

    sink = _Sink(result, dest, progress)
    chunks: AsyncIterator[bytes] | None = None

    async def perform(effect: Any) -> Any:
        nonlocal chunks
        kind = type(effect)
        if kind is ReadChunk:
            if chunks is None:
                chunks = _achunks(effect.response, call.path)
            try:
                return await _within(anext(chunks, b""), effect.seconds)
            except asyncio.TimeoutError:
                return None
        if kind is Write:
            sink.write(effect.chunk)
            return None
        if kind is Begin:
            sink.begin(effect)
            return None
        return await aperform(effect)

    try:
        with sink:
            return await arun(download_flow(pipeline, call, timeout), perform)
    finally:
        if sink.response is not None:
            await release(sink.response)


def _download_call(result: Any, api: Any, timeout: float | None) -> tuple[PipelineBase, WireCall]:
    url = getattr(result, "url", None)
    if not isinstance(url, str) or not url:
        raise ValueError(f"this {type(result).__name__} has no url to download (is it a "
                         "completed file?)")
    check_seconds("timeout", timeout)
    pipeline = _pipeline(result, api)
    return pipeline, WireCall(method="GET", path=urlsplit(url).path or "/", url=url,
                              timeout=timeout)


class _Target:
    """Where a download goes, as a context: a path (whole or not at all) or a file object.

    A path is written to ``<path>.part`` first and renamed when the body is complete; on
    any failure the partial file is removed. An existing directory gets the file's name.
    """

    def __init__(self, result: Any, dest: str | os.PathLike[str] | BinaryIO,
                 total: int | None, progress: bool) -> None:
        name = getattr(result, "name", None)
        self._bar = _bar(total, name) if progress else None
        self._path: str | None = None
        self._handle: BinaryIO | None = None
        if isinstance(dest, (str, os.PathLike)):
            path = os.fspath(dest)
            if os.path.isdir(path):
                if not isinstance(name, str) or not name or os.path.basename(name) != name:
                    raise ValueError(f"{path} is a directory and the file has no usable name")
                path = os.path.join(path, name)
            self._path = path
        else:
            self._handle = dest
        self.written = 0

    def __enter__(self) -> _Target:
        if self._path is not None:
            self._handle = open(f"{self._path}.part", "wb")  # noqa: SIM115 - closed in __exit__
        return self

    def write(self, chunk: bytes) -> None:
        assert self._handle is not None
        self._handle.write(chunk)
        self.written += len(chunk)
        if self._bar is not None:
            self._bar.update(len(chunk))

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        if self._bar is not None:
            self._bar.close()
        if self._path is None or self._handle is None:
            return
        partial = f"{self._path}.part"
        self._handle.close()
        if kind is None:
            os.replace(partial, self._path)
            return
        try:
            os.remove(partial)
        except OSError:
            pass


class _Sink:
    """The I/O side of a download, for both drivers: the answer being read and the
    destination (a :class:`_Target`, opened at the flow's :class:`Begin`)."""

    def __init__(self, result: Any, dest: str | os.PathLike[str] | BinaryIO,
                 progress: bool) -> None:
        self._args = (result, dest, progress)
        self.response: Any = None
        self._target: _Target | None = None

    def begin(self, effect: Begin) -> None:
        self.response = effect.response  # first: released even if the target is refused
        result, dest, progress = self._args
        target = _Target(result, dest, effect.total, progress)
        self._target = target.__enter__()

    def write(self, chunk: bytes) -> None:
        assert self._target is not None
        self._target.write(chunk)

    def __enter__(self) -> _Sink:
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        if self._target is not None:
            self._target.__exit__(kind, *rest)


def _bar(total: int | None, name: Any) -> Any:
    from ._progress import progress_bar

    return progress_bar(total, "B", name if isinstance(name, str) else None)


def _chunks(response: requests.Response, path: str) -> Iterator[bytes]:
    """The body in chunks as it arrives; ``TransportError`` when the connection breaks."""
    import requests as _requests

    try:
        yield from response.iter_content(_CHUNK)
    except (_requests.exceptions.ConnectionError, _requests.exceptions.ChunkedEncodingError,
            _requests.exceptions.ContentDecodingError) as exc:
        # requests words a read timeout as a ConnectionError: the body stalled.
        raise _broke(path, exc, stalled=_timed_out(exc)) from None
    except (_requests.exceptions.Timeout, TimeoutError) as exc:
        raise _broke(path, exc, stalled=True) from None


async def _achunks(response: requests.Response, path: str) -> AsyncIterator[bytes]:
    """:func:`_chunks` of an answer read through an ``AsyncAPI``."""
    from ._async_transport import aiter_body  # httpx: only with the async extra

    try:
        async for chunk in aiter_body(response, _CHUNK):
            yield chunk
    except Exception as exc:  # httpx's read errors (ReadTimeout, ReadError, ...)
        raise _broke(path, exc, stalled="Timeout" in type(exc).__name__) from None


def _timed_out(exc: BaseException) -> bool:
    import urllib3.exceptions as u3

    from ._transport import _causes

    return any(isinstance(c, (u3.ReadTimeoutError, TimeoutError)) for c in _causes(exc))


def _broke(path: str, exc: BaseException, *, stalled: bool) -> TransportError:
    """The error of a download whose body stopped coming (``stalled``) or broke off."""
    if stalled:
        return LosantTimeoutError(f"GET {path}: the download stalled ({type(exc).__name__})",
                                  may_have_been_received=True)
    return LosantConnectionError(f"GET {path}: the download broke ({type(exc).__name__})",
                                 may_have_been_received=True)
