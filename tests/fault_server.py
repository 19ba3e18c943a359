"""A scripted HTTP/1.1 server on 127.0.0.1 that misbehaves on purpose.

Each request is read in full and recorded; the script (a function of the request and of
how many requests came before it) answers with one :class:`Action`: a normal reply, a
reply whose body is cut short or trickled slowly, a reset or a close without any answer,
or a close of the kept-alive connection right after replying. Tests count the requests the
server actually read, compare their bytes and check what the client made of each fault.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Received:
    """One request as the server read it."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    connection: int

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.target).query, keep_blank_values=True))


@dataclass
class Action:
    """What the server does with one request."""

    status: int = 200
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=dict)
    kind: str = "reply"  # reply | reset | drop | truncate | trickle
    close_after: bool = False  # close the kept-alive connection right after replying
    delay: float = 0.0  # per chunk for "trickle", before answering otherwise


def reply(status: int = 200, document: Any = None, headers: dict[str, str] | None = None,
          **extra: Any) -> Action:
    body = json.dumps({} if document is None else document).encode()
    return Action(status, body, {"Content-Type": "application/json", **(headers or {})},
                  **extra)


def raw(status: int, body: bytes, content_type: str = "text/html", **extra: Any) -> Action:
    return Action(status, body, {"Content-Type": content_type}, **extra)


def reset() -> Action:
    return Action(kind="reset")


def drop() -> Action:
    return Action(kind="drop")


Script = Callable[[Received, int], Action]


class FaultServer:
    """``with FaultServer(script) as server:``; ``server.url``; ``server.received``."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.received: list[Received] = []
        self.connections = 0
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._stopping = False
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._sock.getsockname()[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FaultServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping = True
        try:
            socket.create_connection(self._sock.getsockname()[:2], timeout=1).close()
        except OSError:
            pass
        self._sock.close()

    def _accept(self) -> None:
        while not self._stopping:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            if self._stopping:
                conn.close()
                return
            with self._lock:
                self.connections += 1
                number = self.connections
            threading.Thread(target=self._serve, args=(conn, number), daemon=True).start()

    def _serve(self, conn: socket.socket, number: int) -> None:
        reader = conn.makefile("rb")
        try:
            while True:
                request = _read_request(reader, number)
                if request is None:
                    return
                with self._lock:
                    index = len(self.received)
                    self.received.append(request)
                action = self.script(request, index)
                if not self._act(conn, action):
                    return
        except OSError:
            return
        finally:
            try:
                reader.close()
                conn.close()
            except OSError:
                pass

    def _act(self, conn: socket.socket, action: Action) -> bool:
        """Carry out one action; ``False`` when the connection is finished."""
        if action.kind == "reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False
        if action.kind == "drop":
            return False
        if action.delay and action.kind != "trickle":
            time.sleep(action.delay)
        body = action.body
        length = len(body)
        if action.kind == "truncate":
            body = body[: len(body) // 2]
        head = [f"HTTP/1.1 {action.status} X"]
        for key, value in action.headers.items():
            head.append(f"{key}: {value}")
        head.append(f"Content-Length: {length}")
        conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        if action.kind == "trickle":
            for index in range(len(body)):
                conn.sendall(body[index:index + 1])
                time.sleep(action.delay)
        else:
            conn.sendall(body)
        return action.kind == "reply" and not action.close_after


def _read_request(reader: Any, number: int) -> Received | None:
    line = reader.readline()
    if not line:
        return None
    method, target, _ = line.decode("latin-1").split(" ", 2)
    headers: dict[str, str] = {}
    while True:
        header = reader.readline().decode("latin-1")
        if header in ("\r\n", "\n", ""):
            break
        key, _, value = header.partition(":")
        headers[key.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    body = reader.read(length) if length else b""
    return Received(method, target, headers, body, number)
