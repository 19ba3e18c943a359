"""TLS over loopback: ``verify=`` and ``REQUESTS_CA_BUNDLE`` mean the same to API and AsyncAPI.

A throwaway certificate authority (made with the ``openssl`` command; the tests are skipped
without it) signs a certificate for 127.0.0.1, served by an HTTPS server on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import losant_fluent as lf
from losant_fluent import API

APP = "5" * 24
DEVICE = "a" * 24
_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    where = tmp_path_factory.mktemp("tls")
    (where / "ca.cnf").write_text(
        "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
        "subjectKeyIdentifier=hash\n"
    )
    (where / "server.cnf").write_text(
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
        "authorityKeyIdentifier=keyid,issuer\nsubjectKeyIdentifier=hash\n"
    )
    _openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
             "ca.csr", "-subj", "/CN=losant-fluent test CA", cwd=where)
    _openssl("x509", "-req", "-in", "ca.csr", "-signkey", "ca.key", "-out", "ca.pem",
             "-days", "2", "-extfile", "ca.cnf", cwd=where)
    _openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out",
             "server.csr", "-subj", "/CN=127.0.0.1", cwd=where)
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.cnf",
             cwd=where)
    return where


@pytest.fixture(scope="module")
def https_url(certificates: Path) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            body = json.dumps({"id": DEVICE, "name": "over tls"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificates / "server.pem", certificates / "server.key")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def no_bundle_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _BUNDLE_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def _sync_name(url: str, **options: Any) -> str:
    with API(url, token="tok-tls", max_retries=0, **options) as api:
        return str(api.applications(APP).devices(DEVICE).get().name)


def _async_name(url: str, **options: Any) -> str:
    pytest.importorskip("httpx")
    from losant_fluent import AsyncAPI

    async def go() -> str:
        async with AsyncAPI(url, token="tok-tls", max_retries=0, **options) as api:
            return str((await api.applications(APP).devices(DEVICE).get()).name)

    return asyncio.run(go())


@pytest.mark.parametrize("name_of", [_sync_name, _async_name], ids=["API", "AsyncAPI"])
def test_an_unknown_authority_is_refused(
    https_url: str, no_bundle_variables: None, name_of: Any
) -> None:
    with pytest.raises(lf.TransportError) as info:
        name_of(https_url)
    message = str(info.value)
    assert "TLS failed with https://127.0.0.1" in message
    assert "its certificate is not trusted (" in message and "give verify= the CA" in message
    assert "tok-tls" not in message


@pytest.mark.parametrize("name_of", [_sync_name, _async_name], ids=["API", "AsyncAPI"])
def test_verify_names_the_authority(
    https_url: str, certificates: Path, no_bundle_variables: None, name_of: Any
) -> None:
    assert name_of(https_url, verify=str(certificates / "ca.pem")) == "over tls"


@pytest.mark.parametrize("name_of", [_sync_name, _async_name], ids=["API", "AsyncAPI"])
def test_requests_ca_bundle_names_the_authority(
    https_url: str,
    certificates: Path,
    no_bundle_variables: None,
    monkeypatch: pytest.MonkeyPatch,
    name_of: Any,
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificates / "ca.pem"))
    assert name_of(https_url) == "over tls"


@pytest.mark.filterwarnings("ignore:Unverified HTTPS request")
@pytest.mark.parametrize("name_of", [_sync_name, _async_name], ids=["API", "AsyncAPI"])
def test_verify_false_trusts_anything(
    https_url: str, no_bundle_variables: None, name_of: Any
) -> None:
    assert name_of(https_url, verify=False) == "over tls"


def test_a_session_setting_changed_after_a_refusal_takes_effect_at_once(
    https_url: str, certificates: Path, no_bundle_variables: None
) -> None:
    """The REPL way: a certificate error, ``api.session.verify = ...``, call again."""
    with API(https_url, token="tok-tls", max_retries=0) as api:
        device = api.applications(APP).devices(DEVICE)
        with pytest.raises(lf.TransportError):
            device.get()
        api.session.verify = str(certificates / "ca.pem")
        assert device.get().name == "over tls"
        api.session.verify = True  # and back: refused again
        with pytest.raises(lf.TransportError):
            device.get()
