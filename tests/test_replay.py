"""The replay server (``crawler.replay``) the demo and the tests serve recorded answers from."""

from __future__ import annotations

import socket
from http.server import BaseHTTPRequestHandler

from crawler.replay import ReplayHTTPServer


def test_a_burst_of_connections_waits_in_the_listen_queue() -> None:
    """Hand-made burst: 64 connections while the server accepts none (a machine too busy to run its
    accept loop). Each completes its handshake from the listen queue at once; at the default queue
    of 5 the kernel drops the rest, and their SYN retries outlast a crawl's download timeout."""
    server = ReplayHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    sockets = []
    try:
        for _ in range(64):
            sockets.append(socket.create_connection(server.server_address[:2], timeout=5))
    finally:
        for sock in sockets:
            sock.close()
        server.server_close()
    assert len(sockets) == 64
