"""The threaded HTTPS server that carries requests to the emulator and answers (or drops) them."""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from airflow_kedro_azureml.testing.http_messages import ApiRequest, ApiResponse

logger = logging.getLogger(__name__)

# Idle keep-alive connections are closed after this many seconds.
IDLE_CONNECTION_TIMEOUT = 30.0


@dataclass
class Outcome:
    """What the emulator decided for one request: an answer, or a dropped connection."""

    response: ApiResponse | None
    drop: bool = False


RequestProcessor = Callable[[ApiRequest], Outcome]


class EmulatorHttpServer(ThreadingHTTPServer):
    """HTTPS on 127.0.0.1 with one thread per connection; TLS handshakes run in those threads."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128  # the SDK uploads files on many connections at once

    def __init__(self, ssl_context: ssl.SSLContext, process: RequestProcessor) -> None:
        self.ssl_context = ssl_context
        self.process = process
        self._open_connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), EmulatorRequestHandler)

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return int(self.server_address[1])

    def get_request(self) -> tuple[Any, Any]:
        raw, address = self.socket.accept()
        wrapped = self.ssl_context.wrap_socket(raw, server_side=True, do_handshake_on_connect=False)
        with self._connections_lock:
            self._open_connections.add(wrapped)
        return wrapped, address

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._open_connections.discard(request)
        super().shutdown_request(request)

    def close_all_connections(self) -> None:
        """Close every connection still open (idle keep-alives), so their threads end."""
        with self._connections_lock:
            connections = list(self._open_connections)
            self._open_connections.clear()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                connection.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("connection from %s ended with an error", client_address, exc_info=True)


class EmulatorRequestHandler(BaseHTTPRequestHandler):
    """Parses a request, hands it to the server's processor and writes the outcome."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = IDLE_CONNECTION_TIMEOUT
    server_version = "AzureMLEmulator/1.0"
    server: EmulatorHttpServer

    def setup(self) -> None:
        super().setup()
        try:
            self.connection.do_handshake()
        except (ssl.SSLError, OSError):
            self.close_connection = True
            raise

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size_line = self.rfile.readline().strip().split(b";", 1)[0]
                size = int(size_line or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        query: dict[str, str] = {}
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            query.setdefault(key, value)
        request = ApiRequest(
            method=self.command.upper(),
            path=unquote(parts.path),
            query=query,
            headers=dict(self.headers.items()),
            body=self._read_body(),
        )
        outcome = self.server.process(request)
        if outcome.drop or outcome.response is None:
            self._drop()
            return
        self._write(request, outcome.response)

    def _drop(self) -> None:
        """Close the connection without sending a byte of an answer."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _write(self, request: ApiRequest, response: ApiResponse) -> None:
        self.send_response(response.status)
        has_length = False
        for key, value in response.headers.items():
            if key.lower() == "content-length":
                has_length = True
            self.send_header(key, value)
        if not has_length:
            self.send_header("Content-Length", str(len(response.body)))
        self.send_header("x-ms-request-id", request.header("x-ms-client-request-id") or "emulator")
        self.end_headers()
        if request.method != "HEAD" and response.body:
            self.wfile.write(response.body)
        try:
            self.wfile.flush()
        except OSError:
            self.close_connection = True
