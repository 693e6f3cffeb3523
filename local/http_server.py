"""The HTTP front of `make run`'s API Gateway: a threading HTTP server on loopback that hands each request
to the gateway (`local.gateway.LocalGateway`) and writes one request-log line per request. It answers
what API Gateway itself answers before any function runs (413 for a body over its payload limit, 404 for
any method it has no route for, never 501), and a 500 when an invocation fails.
"""

from __future__ import annotations

import logging
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from local.gateway import LocalGateway, gateway_error
from local.request_log import RequestLog

MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit


def make_http_server(
    gateway: LocalGateway, host: str, port: int, log: RequestLog | None = None
) -> ThreadingHTTPServer:
    request_log = log or RequestLog()

    class Handler(BaseHTTPRequestHandler):
        server_version = "smtp-preflight-local"
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            with request_log.request(self.command, self.path, self.client_address[0]) as entry:
                entry.status = self._answer()

        def _answer(self) -> int:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_REQUEST_BYTES:
                self._reply(*gateway_error(413, "Request Entity Too Large"), close=True)
                return 413
            body = self.rfile.read(length) if length > 0 else b""
            try:
                status, headers, payload = gateway.handle(
                    self.command, self.path, list(self.headers.items()), body, self.client_address[0]
                )
            except Exception:  # the handler answers errors itself; this is the gateway's 500
                logging.getLogger("local").exception("invocation failed")
                status, headers, payload = gateway_error(500, "Internal Server Error")
            self._reply(status, headers, payload)
            return status

        def _reply(
            self, status: int, headers: list[tuple[str, str]], payload: bytes, close: bool = False
        ) -> None:
            self.send_response(status)
            for name, value in headers:
                if name.lower() not in {"content-length", "connection", "transfer-encoding"}:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve
        do_TRACE = do_CONNECT = _serve  # API Gateway answers methods it has no route for with 404, not 501

        def __getattr__(self, name: str) -> Any:
            if name.startswith("do_"):  # any other method name: no route, as API Gateway would say
                return self._serve
            raise AttributeError(name)

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            return None  # the request log writes one line per request

        def log_message(self, format: str, *args: Any) -> None:
            sys.stderr.write(f"{self.address_string()} {format % args}\n")

    server = _Server((host, port), Handler)  # OSError: the port is busy
    server.daemon_threads = True
    return server


class _Server(ThreadingHTTPServer):
    # the default backlog of 5 resets connections when a frontend (or the load test) opens 20 at once
    request_queue_size = 128
