"""Messages between the crawl and its worker processes: a pickle, its large byte strings beside it.

A WeChat page is 3 MB of bytes, sent to a parse worker and again (in its raw source) to the file
writer. Pickled whole (``multiprocessing.Connection``), the bytes were copied into the pickle and the
pickle into a framed message, and the receiving end read it in socket-buffer pieces, each into a fresh
buffer the size of all that was left, then joined them: ~10 ms of CPU between the two ends for one
3 MB message. Here a byte string of ``LARGE`` bytes or more is left out of the pickle (as a pickle
persistent id) and sent as it is after it; a blocking receiver reads each part straight into one
buffer of its exact size (``MSG_WAITALL``): ~1.3 ms.

A message: its header (``_HEAD``: the pickle's size and the count of large parts), each part's size
(``!Q``), the pickle, then the parts in order. Both ends are this project's own processes.
"""

from __future__ import annotations

import io
import pickle
import socket
import struct
from typing import Any

#: Byte strings this long or longer travel beside the pickle instead of inside it.
LARGE = 64 * 1024
_HEAD = struct.Struct("!QI")
_SIZE = struct.Struct("!Q")


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, parts: list[bytes]):
        super().__init__(file, pickle.HIGHEST_PROTOCOL)
        self.parts = parts
        self.numbers: dict[int, int] = {}  #: id of a part → its number: an object named twice is sent once

    def persistent_id(self, obj: Any) -> int | None:
        if type(obj) is not bytes or len(obj) < LARGE:
            return None
        if id(obj) not in self.numbers:
            self.numbers[id(obj)] = len(self.parts)
            self.parts.append(obj)
        return self.numbers[id(obj)]


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, parts: list[bytes]):
        super().__init__(file)
        self.parts = parts

    def persistent_load(self, pid: Any) -> bytes:
        return self.parts[pid]


def dumps(obj: Any) -> list[bytes]:
    """``obj`` as a message: its pieces, in the order they are sent (the large parts themselves, not copies).
    Raises what pickling raises."""
    parts: list[bytes] = []
    file = io.BytesIO()
    _Pickler(file, parts).dump(obj)
    data = file.getvalue()
    head = _HEAD.pack(len(data), len(parts)) + b"".join(_SIZE.pack(len(part)) for part in parts)
    return [head + data, *parts]


def _loads(data: bytes | memoryview, parts: list[bytes]) -> Any:
    return _Unpickler(io.BytesIO(data), parts).load()


def send(sock: socket.socket, obj: Any) -> None:
    """Send ``obj`` as one message on a blocking socket."""
    for piece in dumps(obj):
        sock.sendall(piece)


def _exactly(sock: socket.socket, size: int) -> bytes:
    """``size`` bytes from a blocking socket, read into one buffer; EOFError at the end of the stream."""
    data = sock.recv(size, socket.MSG_WAITALL) if size else b""
    while len(data) < size:  # cut short by a signal
        more = sock.recv(size - len(data), socket.MSG_WAITALL)
        if not more:
            raise EOFError("the other end closed the connection")
        data += more
    return data


def receive(sock: socket.socket) -> Any:
    """The next message on a blocking socket; EOFError once the other end has closed it."""
    size, count = _HEAD.unpack(_exactly(sock, _HEAD.size))
    sizes = struct.unpack(f"!{count}Q", _exactly(sock, _SIZE.size * count))
    data = _exactly(sock, size)
    return _loads(data, [_exactly(sock, part) for part in sizes])


class Reader:
    """Messages from a non-blocking socket, read as its bytes come (``feed``)."""

    def __init__(self) -> None:
        self.received = bytearray()  #: bytes of messages not complete yet

    def feed(self, data: bytes) -> None:
        self.received += data

    def messages(self) -> list[Any]:
        """The messages complete so far, in order (taken out of ``received``)."""
        data, at, found = self.received, 0, []
        with memoryview(data) as view:  # released before ``data`` is trimmed
            while len(data) - at >= _HEAD.size:
                size, count = _HEAD.unpack_from(data, at)
                start = at + _HEAD.size + _SIZE.size * count
                if len(data) < start:
                    break
                sizes = struct.unpack_from(f"!{count}Q", data, at + _HEAD.size)
                end = start + size + sum(sizes)
                if len(data) < end:
                    break
                parts, offset = [], start + size
                for part in sizes:
                    parts.append(bytes(view[offset : offset + part]))
                    offset += part
                found.append(_loads(view[start : start + size], parts))
                at = end
        del data[:at]
        return found
