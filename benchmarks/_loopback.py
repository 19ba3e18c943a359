"""A JSON server on 127.0.0.1 in a child process, so its CPU is not counted as the client's."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = Callable[[str], bytes]  # request target (path?query) -> JSON body


def _serve(port_queue: Any, reply: Reply, latency: float) -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            body = reply(self.path)
            if latency:
                time.sleep(latency)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_queue.put(server.server_address[1])
    server.serve_forever()


def start_server(reply: Reply, latency: float = 0.0) -> tuple[multiprocessing.Process, str]:
    """Start the server (``latency`` seconds of delay per request); return it and its URL."""
    ports: Any = multiprocessing.Queue()
    process = multiprocessing.Process(target=_serve, args=(ports, reply, latency), daemon=True)
    process.start()
    return process, f"http://127.0.0.1:{ports.get(timeout=30)}"
