"""A scripted Server-Sent-Event server on 127.0.0.1 (and a recording storage host).

Each request is recorded; the script (a function of the request and of how many came
before it) answers with a :class:`Stream`: a status, headers and a list of steps, each
bytes to send or seconds to wait, then either the connection closed (a drop) or held open
until the client goes away or the server stops. Bodies are sent chunked or, with
``chunked=False``, delimited by the connection's end.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from fault_server import Received, _read_request


@dataclass
class Stream:
    """What the server does with one request."""

    status: int = 200
    steps: list[bytes | float] = field(default_factory=list)
    headers: dict[str, str] = field(
        default_factory=lambda: {"Content-Type": "text/event-stream"}
    )
    hold: bool = False  # keep the connection open after the steps (until the client leaves)
    chunked: bool = True


Script = Callable[[Received, int], Stream]


class SSEServer:
    """``with SSEServer(script) as server:``; ``server.url``; ``server.received``."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.received: list[Received] = []
        self.finished = threading.Event()  # set each time a held connection ends
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._sock.getsockname()[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> SSEServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        try:
            socket.create_connection(self._sock.getsockname()[:2], timeout=1).close()
        except OSError:
            pass
        self._sock.close()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            if self._stopping.is_set():
                conn.close()
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = conn.makefile("rb")
        try:
            request = _read_request(reader, 0)
            if request is None:
                return
            with self._lock:
                index = len(self.received)
                self.received.append(request)
            self._answer(conn, self.script(request, index))
        except OSError:
            pass
        finally:
            reader.close()
            conn.close()

    def _answer(self, conn: socket.socket, stream: Stream) -> None:
        head = [f"HTTP/1.1 {stream.status} X", "Connection: close"]
        head += [f"{key}: {value}" for key, value in stream.headers.items()]
        if stream.chunked:
            head.append("Transfer-Encoding: chunked")
        conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        for step in stream.steps:
            if isinstance(step, float):
                time.sleep(step)
            elif stream.chunked:
                conn.sendall(f"{len(step):x}\r\n".encode() + step + b"\r\n")
            else:
                conn.sendall(step)
        if stream.hold:
            conn.settimeout(0.05)
            while not self._stopping.is_set():
                try:
                    if conn.recv(1) == b"":
                        break  # the client went away
                except TimeoutError:
                    continue
                except OSError:
                    break
            self.finished.set()
        elif stream.chunked and stream.status >= 300:
            conn.sendall(b"0\r\n\r\n")
