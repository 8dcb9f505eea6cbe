"""The synthetic wallstreetcn API on 127.0.0.1, as light as a server can be.

Every answer is built before the server listens and kept in memory; requests are
answered over keep-alive connections by an asyncio loop, so the server costs the
crawl under test (and its floor) as little CPU as possible.

    python -m benchmarks.server ARTICLES      prints ``READY <base url>`` once listening
"""

from __future__ import annotations

import asyncio
import sys

from benchmarks.synthetic import wallstreetcn_responses


def _answer(status: bytes, body: bytes) -> bytes:
    head = b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: "
    return head + str(len(body)).encode() + b"\r\n\r\n" + body


async def serve(responses: dict[str, bytes]) -> None:
    answers = {target.encode(): _answer(b"200 OK", body) for target, body in responses.items()}
    missing = _answer(b"404 Not Found", b'{"code": 404, "message": "no such route"}')

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                target = head.split(b" ", 2)[1]
                writer.write(answers.get(target, missing))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(f"READY http://127.0.0.1:{port}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    asyncio.run(serve(wallstreetcn_responses(int(sys.argv[1]))))


if __name__ == "__main__":
    main()
