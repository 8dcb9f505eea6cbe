"""pipelines.wire: messages between the crawl and its workers, large byte strings beside the pickle."""

from __future__ import annotations

import socket
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines import wire
from pipelines.archive import RawSource

PAGE = bytes(range(256)) * 12_000  # 3 MB, as a WeChat page (hand-made: any bytes will do)


def _message() -> tuple[int, object, tuple[object, ...]]:
    raw = RawSource("wechat", "file:///saved/page.html", PAGE, "2026-12-03T00:00:00+00:00", context={"reached_by": ["x"]})
    return (7, len, (PAGE, "small", b"short bytes", raw, [PAGE[:wire.LARGE], PAGE[: wire.LARGE - 1]]))


def test_large_bytes_travel_beside_the_pickle_and_arrive_equal():
    pieces = wire.dumps(_message())
    # PAGE once (the RawSource's body is the same object), then the slice of exactly LARGE bytes
    assert [len(piece) for piece in pieces[1:]] == [len(PAGE), wire.LARGE]
    assert len(pieces[0]) < wire.LARGE + 1000  # header and pickle: the slice one byte short is inside it
    reader = wire.Reader()
    for piece in pieces:
        reader.feed(piece)
    (number, function, args), = reader.messages()
    assert (number, function, args) == _message()
    assert args[3].body is args[0]  # one object sent once, one object received
    assert reader.received == bytearray()


def test_reader_takes_bytes_as_they_come():
    """A non-blocking socket gives whatever the kernel had: a message arrives in any pieces."""
    data = b"".join(wire.dumps(("first", PAGE))) + b"".join(wire.dumps("second"))
    reader = wire.Reader()
    found = []
    for at in range(0, len(data), 65_521):  # a prime step: pieces end anywhere in headers and parts
        reader.feed(data[at : at + 65_521])
        found += reader.messages()
    assert found == [("first", PAGE), "second"]
    assert not reader.received


@settings(max_examples=50, deadline=None)
@given(st.lists(st.one_of(st.binary(max_size=200), st.integers(wire.LARGE - 2, wire.LARGE + 2).map(lambda n: b"\x01" * n)),
                max_size=4),
       st.lists(st.integers(1, 70_000), min_size=1, max_size=5))
def test_any_split_of_any_messages(values, cuts):
    """Hand-made edge cases: byte strings either side of ``LARGE``, messages cut at arbitrary places."""
    data = b"".join(b"".join(wire.dumps(value)) for value in values)
    reader, found, at, step = wire.Reader(), [], 0, 0
    while at < len(data):
        size = cuts[step % len(cuts)]
        reader.feed(data[at : at + size])
        found += reader.messages()
        at, step = at + size, step + 1
    assert found == values


def test_blocking_socket_round_trip_and_end():
    ours, theirs = socket.socketpair()
    with ours, theirs:
        sender = threading.Thread(target=lambda: (wire.send(ours, _message()), wire.send(ours, "next"), ours.shutdown(socket.SHUT_WR)))
        sender.start()
        assert wire.receive(theirs) == _message()
        assert wire.receive(theirs) == "next"
        with pytest.raises(EOFError):
            wire.receive(theirs)
        sender.join()


def test_a_message_cut_short_is_an_end_not_a_message():
    """A worker killed mid-message: the receiver sees the end, never half an object."""
    ours, theirs = socket.socketpair()
    with ours, theirs:
        data = b"".join(wire.dumps(("cut", PAGE)))
        sender = threading.Thread(target=lambda: (ours.sendall(data[: len(data) // 2]), ours.shutdown(socket.SHUT_WR)))
        sender.start()
        with pytest.raises(EOFError):
            wire.receive(theirs)
        sender.join()
