"""A real webhook receiver on loopback: a threaded http.server on a free port that records
every request (headers, body) and answers with the status codes a test queues (200 when none)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    server: ThreadingHTTPServer
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answered in order, then 200
    redirect_to: str = ""  # with a 3xx status: its Location
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def next_status(self) -> int:
        with self.lock:
            return self.statuses.pop(0) if self.statuses else 200

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_receiver(address: str = "127.0.0.1") -> Receiver:
    holder: list[Receiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            receiver = holder[0]
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with receiver.lock:
                receiver.received.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
            status = receiver.next_status()
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", receiver.redirect_to)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    family_server = ThreadingHTTPServer
    if ":" in address:
        import socket

        class V6Server(ThreadingHTTPServer):
            address_family = socket.AF_INET6

        family_server = V6Server
    server = family_server((address, 0), Handler)
    server.daemon_threads = True
    holder.append(Receiver(server))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return holder[0]
