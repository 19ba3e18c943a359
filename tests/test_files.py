"""Files: signed uploads that never carry the token, downloads, multipart uploads of the five
file endpoints over the wire, and the emulator's storage host."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from fault_server import Action, FaultServer, Received, reply
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from losant_fluent import API, ForbiddenError
from losant_fluent._files import upload_fields
from losant_fluent.models import File as FileModel
from losant_fluent.models import FileUploadPostResponse
from losant_fluent.testing import Emulator

SECRET = "tok-SECRET-123"


def parts_of(request: Received) -> list[tuple[str, str | None, str | None, bytes]]:
    """The parts of a multipart body in order: (name, filename, content type, bytes)."""
    boundary = request.headers["content-type"].split("boundary=")[1]
    decoder = MultipartDecoder(boundary.encode())
    decoder.receive_data(request.body)
    decoder.receive_data(None)
    parts: list[list[Any]] = []
    while True:
        event = decoder.next_event()
        if isinstance(event, (NeedData, Epilogue)):
            break
        if isinstance(event, File):
            parts.append([event.name, event.filename, event.headers.get("Content-Type"), b""])
        elif isinstance(event, Field):
            parts.append([event.name, None, None, b""])
        elif isinstance(event, Data):
            parts[-1][3] += event.data
    return [(a, b, c, d) for a, b, c, d in parts]


# -- signed uploads to a scripted storage host ----------------------------------------------


def created(storage_url: str) -> FileUploadPostResponse:
    """A files().post result as the API would answer it (read through an API whose token
    and extra header must never reach the storage host)."""
    document = {
        "id": "5" * 24, "name": "report.csv", "type": "file", "status": "pending",
        "contentType": "text/csv",
        "upload": {"url": f"{storage_url}/the-bucket", "fields": {
            "key": "app/report.csv", "bucket": "the-bucket", "Policy": "cG9saWN5",
            "X-Amz-Signature": "abc", "Content-Type": "text/csv"}},
    }

    def script(request: Received, index: int) -> Action:
        return reply(201, document)

    with FaultServer(script) as server:
        api = API(url=server.url, token=SECRET, headers={"X-Extra": "also-secret"})
        made = api.applications("a" * 24).files().post({"name": "report.csv", "type": "file"})
    assert isinstance(made, FileUploadPostResponse)
    return made


@pytest.fixture
def storage() -> Iterator[FaultServer]:
    def script(request: Received, index: int) -> Action:
        return Action(204, b"", {})

    with FaultServer(script) as server:
        yield server


def test_upload_file_posts_fields_first_then_the_file_without_any_credential(
    storage: FaultServer,
) -> None:
    made = created(storage.url)
    response = made.upload_file(b"a,b\n1,2\n")
    assert response.status_code == 204
    (sent,) = storage.received
    assert sent.method == "POST" and sent.path == "/the-bucket"
    assert "authorization" not in sent.headers
    assert "x-extra" not in sent.headers and "accept-version" not in sent.headers
    assert SECRET.encode() not in sent.body and b"also-secret" not in sent.body
    parts = parts_of(sent)
    assert [p[0] for p in parts] == ["key", "bucket", "Policy", "X-Amz-Signature",
                                     "Content-Type", "file"]
    assert parts[0][3] == b"app/report.csv"
    assert parts[-1] == ("file", "report.csv", "text/csv", b"a,b\n1,2\n")


def test_upload_file_takes_a_path_or_a_file_object(storage: FaultServer, tmp_path: Path) -> None:
    made = created(storage.url)
    path = tmp_path / "data.json"
    path.write_bytes(b'{"x": 1}')
    made.upload_file(path)
    made.upload_file(str(path), content_type="application/x-custom")
    with open(path, "rb") as handle:
        handle.read(2)  # a file object is sent from where it stands
        made.upload_file(handle)
    files = [parts_of(r)[-1] for r in storage.received]
    assert files[0] == ("file", "data.json", "text/csv", b'{"x": 1}')  # declared type wins
    assert files[1][2] == "application/x-custom"
    assert files[2][1:] == ("data.json", "text/csv", b'x": 1}')


def test_a_refused_upload_raises_with_the_storage_answer() -> None:
    def script(request: Received, index: int) -> Action:
        return Action(403, b"<Error><Code>AccessDenied</Code></Error>",
                      {"Content-Type": "application/xml"})

    with FaultServer(script) as storage:
        made = created(storage.url)
        with pytest.raises(ForbiddenError) as caught:
            made.upload_file(b"x")
    response = caught.value.http_response()
    assert response is not None and response.status_code == 403
    assert SECRET not in str(caught.value)


def test_results_without_an_upload_target_or_a_pipeline_say_so() -> None:
    bare = FileUploadPostResponse.model_validate({"name": "a", "upload": {"url": "http://x/"}})
    with pytest.raises(ValueError, match="api="):
        bare.upload_file(b"x")
    assert upload_fields(bare) == ("http://x/", [])
    with pytest.raises(ValueError, match="no upload target"):
        FileUploadPostResponse.model_validate({"name": "a"}).upload_file(b"x")
    with pytest.raises(ValueError, match="no url"):
        FileModel.model_validate({"name": "a"}).download(io.BytesIO())


def test_download_streams_without_the_token(tmp_path: Path) -> None:
    content = bytes(range(256)) * 1000

    def script(request: Received, index: int) -> Action:
        return Action(200, content, {"Content-Type": "application/octet-stream"})

    with FaultServer(script) as host:
        api = API(url="http://127.0.0.1:9", token=SECRET, headers={"X-Extra": "x"})
        item = FileModel.model_validate({"name": "blob.bin", "url": f"{host.url}/f/blob.bin"})
        assert item.download(tmp_path, api=api) == len(content)
        assert (tmp_path / "blob.bin").read_bytes() == content
        buffer = io.BytesIO()
        item.download(buffer, progress=True, api=api)
        assert buffer.getvalue() == content
        sent = host.received
    assert all("authorization" not in r.headers and "x-extra" not in r.headers for r in sent)
    assert not list(tmp_path.glob("*.part"))


# -- the multipart upload endpoints over the wire -------------------------------------------


class Unseekable(io.RawIOBase):
    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer: Any) -> int:
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_the_five_upload_endpoints_send_the_same_bytes_again_after_a_429(
    tmp_path: Path,
) -> None:
    """Each upload is answered 429 once: the re-sent body must equal the first one."""

    def script(request: Received, index: int) -> Action:
        if index % 2 == 0:
            return reply(429, {"type": "TooManyRequests", "message": "slow"},
                         {"Retry-After": "0"})
        return reply(200, {"id": "1" * 24, "success": True})

    notebook = tmp_path / "analysis.ipynb"
    notebook.write_bytes(b'{"cells": []}')
    zipped = io.BytesIO(b"PK\x03\x04zip-bytes")
    zipped.name = "C:\\data\\bundle.zip"
    zipped.read(0)
    with FaultServer(script) as server, API(url=server.url, token=SECRET) as api:
        app = api.applications("a" * 24)
        app.file("f" * 24).upload().post(file=notebook)
        app.private_files("e" * 24).upload().post(privateFile=b"\x00secret-bytes")
        app.notebooks("d" * 24).upload().post(jupyterFile=open(notebook, "rb"))  # noqa: SIM115
        app.import_().post(importBundle=zipped, email="me@example.com")
        api.applications().import_().post(importBundle=Unseekable(b"raw stream"),
                                          ownerType="user")
        received = server.received
    assert len(received) == 10
    for first, again in zip(received[::2], received[1::2], strict=True):
        assert first.body == again.body and first.target == again.target
    files = [next(p for p in parts_of(r) if p[1] is not None) for r in received[::2]]
    assert files == [
        ("file", "analysis.ipynb", "application/octet-stream", b'{"cells": []}'),
        ("privateFile", "privateFile", "application/octet-stream", b"\x00secret-bytes"),
        ("jupyterFile", "analysis.ipynb", "application/octet-stream", b'{"cells": []}'),
        ("importBundle", "bundle.zip", "application/zip", b"PK\x03\x04zip-bytes"),
        ("importBundle", "importBundle", "application/octet-stream", b"raw stream"),
    ]
    assert ("email", None, None, b"me@example.com") in parts_of(received[6])
    assert all(r.headers["authorization"] == f"Bearer {SECRET}" for r in received)


# -- against the emulator -------------------------------------------------------------------


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


def test_emulator_signed_upload_then_download(emu: Emulator, tmp_path: Path) -> None:
    api = API(url=emu.url).login_user(emu.user_email, emu.user_password)
    app = api.applications(emu.application_id)
    made = app.files().post({"name": "notes.txt", "type": "file", "contentType": "text/plain"})
    assert made.status == "pending" and made.upload is not None
    url, fields = upload_fields(made)
    assert url.startswith(emu.url) and [k for k, _ in fields][:2] == ["bucket", "key"]
    made.upload_file(b"hello, emulator")
    stored = app.file(made.id).get()
    assert (stored.status, stored.file_size, stored.content_type) == (
        "completed", 15, "text/plain")
    assert stored.download(tmp_path / "copy.txt") == 15
    assert (tmp_path / "copy.txt").read_bytes() == b"hello, emulator"
    # The public URL needs no token; a directory is complete at once.
    assert requests.get(stored.url or "", timeout=5).content == b"hello, emulator"
    folder = app.files().post({"name": "docs", "type": "directory"})
    assert folder.status == "completed" and folder.upload is None


def test_emulator_storage_checks_signature_credentials_and_order(emu: Emulator) -> None:
    api = API(url=emu.url, token=emu.user_token())
    made = api.applications(emu.application_id).files().post({"name": "a.bin", "type": "file"})
    url, fields = upload_fields(made)
    good = dict(fields)
    files = {"file": ("a.bin", b"x")}
    tampered = {**good, "key": good["key"].replace("files", "privateFiles")}
    assert requests.post(url, data=tampered, files=files, timeout=5).status_code == 403
    expired = {**good, "X-Emulator-Expires": "1"}
    assert requests.post(url, data=expired, files=files, timeout=5).status_code == 403
    with_token = requests.post(url, data=good, files=files, timeout=5,
                               headers={"Authorization": f"Bearer {emu.user_token()}"})
    assert with_token.status_code == 400 and b"Authorization" in with_token.content
    no_file = requests.post(url, data=good, files={"other": ("a", b"x")}, timeout=5)
    assert no_file.status_code == 400
    assert requests.post(url, data=good, files=files, timeout=5).status_code == 204


def test_emulator_private_files_get_signed_urls(emu: Emulator) -> None:
    api = API(url=emu.url, token=emu.user_token())
    app = api.applications(emu.application_id)
    made = app.private_files().post({"name": "secret.csv", "type": "file"})
    made.upload_file(b"k,v\n")
    stored = app.private_files(made.id).get(urlTTL=60)
    assert stored.status == "completed" and "signature=" in (stored.url or "")
    assert requests.get(stored.url or "", timeout=5).content == b"k,v\n"
    forged = (stored.url or "").replace("signature=", "signature=0")
    assert requests.get(forged, timeout=5).status_code == 403
    listed = app.private_files().get()
    assert [f.url for f in listed][0] is not None


def test_emulator_keeps_what_the_multipart_endpoints_received(
    emu: Emulator, tmp_path: Path
) -> None:
    api = API(url=emu.url, token=emu.user_token())
    app = api.applications(emu.application_id)
    made = app.files().post({"name": "direct.txt", "type": "file"})
    path = tmp_path / "direct.txt"
    path.write_bytes(b"through the API")
    uploaded = app.file(made.id).upload().post(file=path)
    assert (uploaded.status, uploaded.file_size) == ("completed", 15)
    assert requests.get(uploaded.url or "", timeout=5).content == b"through the API"
    notebook = app.notebooks().post({"name": "nb", "imageVersion": "v4"})
    app.notebooks(notebook.id).upload().post(jupyterFile=b"{}")
    bundle = io.BytesIO(b"PK")
    bundle.name = "C:\\exports\\app.zip"
    app.import_().post(importBundle=bundle)
    got = [(f.endpoint, f.field, f.filename, f.content_type, f.content)
           for f in emu.received_files]
    assert got == [
        ("file.upload", "file", "direct.txt", "text/plain", b"through the API"),
        ("notebook.upload", "jupyterFile", "jupyterFile", "application/octet-stream", b"{}"),
        ("application.import", "importBundle", "app.zip", "application/zip", b"PK"),
    ]
    assert not emu.app.internal_errors
    json.dumps([f.filename for f in emu.received_files])
