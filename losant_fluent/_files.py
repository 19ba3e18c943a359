"""Files: signed uploads to the storage host and downloads, never carrying the Losant token.

Creating a file (``app.files().post({...})``) answers a ``FileUploadPostResponse`` whose
``upload`` is a signed target on a storage host: a URL and form fields. :func:`upload_file`
sends the content there as the storage host expects it (a ``multipart/form-data`` POST, every
signed field first, the content last in a part named ``file``). :func:`download` streams a
file's ``url`` to a path or a binary file. Both go through the pipeline (pooled session,
retries where safe, errors as ``LosantError`` with ``http_response()``) with
``authorize=False``: a request to another host carries neither the ``Authorization``
header nor the ``API``'s extra headers.

Results read through an ``API`` know their pipeline (``_pipeline.pipeline_of``), so the
model methods ``file.upload_file(data)`` and ``file.download(dest)`` need nothing more;
``api=`` gives one where a result does not know it (an item of a file list).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import urlsplit

from ._exceptions import LosantConnectionError, LosantTimeoutError
from ._pipeline import Pipeline, pipeline_of
from ._wire import MultipartBody, WireCall

if TYPE_CHECKING:
    import requests

__all__ = ["FileData", "download", "upload_fields", "upload_file"]

# bytes, a path (str or os.PathLike), or a binary file object.
FileData = Any
_CHUNK = 65536


def _pipeline(result: Any, api: Any) -> Pipeline:
    """The pipeline to send through: ``api``'s if given, else the one the result came by."""
    if api is not None:
        found = api if isinstance(api, Pipeline) else getattr(api, "_pipeline", None)
        if not isinstance(found, Pipeline):
            raise TypeError(f"api must be an API, not {type(api).__name__}")
        return found
    found = pipeline_of(result)
    if found is None:
        raise ValueError(
            f"this {type(result).__name__} was not read through an API (built by hand, or "
            "unpickled): pass api=your_api"
        )
    return found


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
    return url, [(str(key), str(value)) for key, value in fields.items() if value is not None]


def _upload_call(result: Any, data: FileData, api: Any, filename: str | None,
                 content_type: str | None, timeout: float | None) -> tuple[Pipeline, WireCall]:
    """The pipeline and the storage-host request of an upload (see :func:`upload_file`)."""

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
    response = pipeline.send(call, authorize=False)
    response.close()
    return response


async def aupload_file(result: Any, data: FileData, *, api: Any = None,
                       filename: str | None = None, content_type: str | None = None,
                       timeout: float | None = None) -> requests.Response:
    """:func:`upload_file` for a result read through an ``AsyncAPI``, awaited."""
    pipeline, call = _upload_call(result, data, api, filename, content_type, timeout)
    asend = getattr(pipeline, "asend", None)
    if asend is None:
        raise TypeError("this file came through a synchronous API: use upload_file()")
    response: requests.Response = await asend(call, authorize=False)
    response.close()
    return response


def download(result: Any, dest: str | os.PathLike[str] | BinaryIO, *, progress: bool = False,
             api: Any = None, timeout: float | None = None) -> int:
    """Stream ``result.url`` (a ``File``) to ``dest``; return the number of bytes written.

    ``dest`` is a path (an existing directory gets the file's ``name``; the file appears
    whole or not at all: it is written beside it first, then renamed) or a binary file
    object. ``progress=True`` shows a progress bar (needs the ``data`` extra, tqdm).
    """
    url = getattr(result, "url", None)
    if not isinstance(url, str) or not url:
        raise ValueError(f"this {type(result).__name__} has no url to download (is it a "
                         "completed file?)")
    pipeline = _pipeline(result, api)
    call = WireCall(method="GET", path=urlsplit(url).path or "/", url=url, timeout=timeout)
    response = pipeline.send(call, stream=True, authorize=False)
    try:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        name = getattr(result, "name", None)
        bar = _bar(total, name) if progress else None
        try:
            if isinstance(dest, (str, os.PathLike)):
                return _to_path(os.fspath(dest), name, _chunks(response, call.path), bar)
            written = 0
            for chunk in _chunks(response, call.path):
                dest.write(chunk)
                written += len(chunk)
                if bar is not None:
                    bar.update(len(chunk))
            return written
        finally:
            if bar is not None:
                bar.close()
    finally:
        response.close()


def _bar(total: int | None, name: Any) -> Any:
    from ._data import progress_bar

    return progress_bar(total, "B", name if isinstance(name, str) else None)


def _to_path(path: str, name: Any, chunks: Iterator[bytes], bar: Any) -> int:
    if os.path.isdir(path):
        if not isinstance(name, str) or not name or os.path.basename(name) != name:
            raise ValueError(f"{path} is a directory and the file has no usable name")
        path = os.path.join(path, name)
    partial = f"{path}.part"
    written = 0
    try:
        with open(partial, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
                written += len(chunk)
                if bar is not None:
                    bar.update(len(chunk))
        os.replace(partial, path)
    except BaseException:
        try:
            os.remove(partial)
        except OSError:
            pass
        raise
    return written


def _chunks(response: requests.Response, path: str) -> Iterator[bytes]:
    """The body in chunks as it arrives; ``TransportError`` when the connection breaks."""
    import requests as _requests

    try:
        yield from response.iter_content(_CHUNK)
    except (_requests.exceptions.ConnectionError, _requests.exceptions.ChunkedEncodingError,
            _requests.exceptions.ContentDecodingError) as exc:
        raise LosantConnectionError(f"GET {path}: the download broke ({type(exc).__name__})",
                                    may_have_been_received=True) from None
    except (_requests.exceptions.Timeout, TimeoutError) as exc:
        raise LosantTimeoutError(f"GET {path}: the download stalled ({type(exc).__name__})",
                                 may_have_been_received=True) from None

