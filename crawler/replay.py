"""A local HTTP server that replays recorded responses, for the offline demo and the tests.

Routes come from a JSON file::

    {"routes": [
        {"path": "/apiv1/content/articles", "query": {"limit": "30"},
         "file": "../tests/fixtures/wallstreetcn/listing-page1.json"},
        {"path": "/busy", "responses": [
            {"status": 429, "headers": {"Retry-After": "1"}, "body": ""},
            {"file": "ok.json"}]}
    ]}

A route matches on the path and on every listed query parameter (for a POST with a JSON
object body, its top-level fields count as query parameters too, as JSON APIs take them); a request
lacking one of its ``require_headers`` gets 403, as a picky API would. ``responses``
are served in turn, the last one repeating; a response with ``"delay": SECONDS``
is held that long before it is sent (to stop a crawl midway). Files are relative to the routes
file; a ``.gz`` file is sent as is with ``Content-Encoding: gzip``, as the real
servers do. ``GET /__requests__`` lists the requests served so far (path and query).

Run standalone: ``python -m crawler.replay ROUTES.json [--port N]``; it prints
``READY <base url>`` once listening.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit


class ReplayHTTPServer(ThreadingHTTPServer):
    """A threading server whose listen queue holds a crawl's burst of connections: at the default 5,
    a busy machine that accepts late drops the rest, and a client's SYN retries (1, 2, 4, 8, 16 s)
    outlast its download timeout."""

    request_queue_size = 128


class Route:
    def __init__(self, spec: dict[str, Any], base: Path):
        self.path = spec["path"]
        self.query = {key: str(value) for key, value in spec.get("query", {}).items()}
        self.require_headers = spec.get("require_headers", {})
        self.responses = spec.get("responses") or [spec]
        self.base = base
        self.served = 0

    def matches(self, path: str, query: dict[str, list[str]]) -> bool:
        return path == self.path and all(query.get(key, [None])[0] == value for key, value in self.query.items())

    def respond(self, headers: Any) -> tuple[int, dict[str, str], bytes, float]:
        missing = [name for name, value in self.require_headers.items() if headers.get(name) != value]
        if missing:
            return 403, {"Content-Type": "text/plain"}, f"missing headers: {', '.join(missing)}".encode(), 0.0
        return self.next_response()

    def next_response(self) -> tuple[int, dict[str, str], bytes, float]:
        spec = self.responses[min(self.served, len(self.responses) - 1)]
        self.served += 1
        headers = dict(spec.get("headers", {}))
        if "file" in spec:
            file = self.base / spec["file"]
            body = file.read_bytes()
            name = file.name
            if name.endswith(".gz"):
                headers.setdefault("Content-Encoding", "gzip")
                name = name[:-3]
            content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
            if content_type.startswith("text/") or content_type == "application/json":
                content_type += "; charset=utf-8"
            headers.setdefault("Content-Type", content_type)
        else:
            body = str(spec.get("body", "")).encode("utf-8")
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        return int(spec.get("status", 200)), headers, body, float(spec.get("delay", 0))


class ReplayServer:
    """Serve a routes file on 127.0.0.1 from a background thread."""

    def __init__(self, routes_file: Path | str, port: int = 0):
        routes_file = Path(routes_file)
        spec = json.loads(routes_file.read_text(encoding="utf-8"))
        self.routes = [Route(route, routes_file.parent) for route in spec["routes"]]
        self.requests: list[str] = []
        self.lock = threading.Lock()
        self.httpd = ReplayHTTPServer(("127.0.0.1", port), self._handler())
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ReplayServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    fields = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    fields = {}
                if not isinstance(fields, dict):
                    fields = {}
                self.do_GET({key: [str(value)] for key, value in fields.items() if not isinstance(value, (dict, list))})

            def do_GET(self, fields: dict[str, list[str]] | None = None) -> None:
                parts = urlsplit(self.path)
                if parts.path == "/__requests__":
                    with server.lock:
                        self._send(200, {"Content-Type": "application/json"}, json.dumps(server.requests).encode())
                    return
                query = {**parse_qs(parts.query, keep_blank_values=True), **(fields or {})}
                with server.lock:
                    server.requests.append(self.path)
                    route = next((r for r in server.routes if r.matches(parts.path, query)), None)
                    response = route.respond(self.headers) if route else (404, {"Content-Type": "text/plain"}, b"no route", 0.0)
                *answer, delay = response
                time.sleep(delay)  # outside the lock: other requests are answered meanwhile
                self._send(*answer)

            def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # quiet: the crawl logs requests
                pass

        return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("routes", type=Path)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = ReplayServer(args.routes, args.port)
    print(f"READY {server.url}", flush=True)
    try:
        server.httpd.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
