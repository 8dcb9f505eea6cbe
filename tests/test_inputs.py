"""URL lists as a user hands them in: a streaming reader with caps, where each bad line is named
and the rest of the list goes on. Every list here is HAND-MADE to be hostile or broken."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from crawler.inputs import (
    BAD_LINE, LIST_TOO_LARGE, NOT_A_FILE, ListFailure, ListRefused, check_url_list, open_url_list, read_url_list,
    split_urls,
)

A = "https://mp.weixin.qq.com/s/KDWh_qGpFN5Vu1TR9t30Mw"
B = "https://wallstreetcn.com/articles/3782700"


def entries(data: bytes, max_line: int = 8192, maxsize: int = 0) -> list[str | ListFailure]:
    return list(read_url_list(io.BytesIO(data), "urls.txt", max_line, maxsize))


def test_bom_costs_no_url() -> None:
    assert entries(b"\xef\xbb\xbf" + f"{A}\n{B}\n".encode()) == [A, B]
    assert entries(b"\xef\xbb\xbf# a comment first\r\n" + f"{A}\r\n".encode()) == [A]


def test_bad_lines_in_the_middle_are_each_named_and_the_rest_goes_on() -> None:
    data = b"".join([
        b"# list\n",
        f"{A}\n".encode(),
        b"https://example.com/\xff\xfe broken\n",  # 3: not UTF-8
        b"ftp://mp.weixin.qq.com/s/x\n",  # 4: a scheme we do not fetch
        b"javascript:alert(1)\n",  # 5
        f"{A} {B}\n".encode(),  # 6: two URLs on one line
        b"https://\n",  # 7: no host
        b"saved/page\x00.html\n",  # 8: control character
        b"  \n",
        b"saved/page.html\n",  # a path
        b"https://[::1/x\n",  # 11: unparsable
        b"x" * 100 + b"\n",  # 12: over the line cap of this test (64)
        f"{B}\n".encode(),
        b"file:///srv/saved/a.html",  # last line without newline
    ])
    found = entries(data, max_line=64)
    urls = [e for e in found if isinstance(e, str)]
    failures = [e for e in found if isinstance(e, ListFailure)]
    assert urls == [A, "saved/page.html", B, "file:///srv/saved/a.html"]
    assert [(f.where, f.reason) for f in failures] == [(f"urls.txt:{n}", BAD_LINE) for n in (3, 4, 5, 6, 7, 8, 11, 12)]
    assert "not UTF-8" in failures[0].detail
    assert "'ftp'" in failures[1].detail
    assert "longer than URL_LIST_MAX_LINE (64 bytes)" in failures[-1].detail


def test_an_endless_line_is_read_in_pieces_and_cut_by_the_list_cap() -> None:
    """One 10 MB line with no newline: never held whole; the total cap ends the list with a named failure."""
    found = entries(f"{A}\n".encode() + b"y" * 10_000_000, max_line=8192, maxsize=1_000_000)
    assert found[0] == A
    assert [(f.where, f.reason) for f in found[1:]] == [("urls.txt:2", LIST_TOO_LARGE)]  # type: ignore[union-attr]


def test_a_stream_past_the_size_cap_stops_with_list_too_large() -> None:
    lines = "".join(f"https://wallstreetcn.com/articles/{n}\n" for n in range(1000)).encode()
    found = entries(lines, maxsize=4096)
    urls = [e for e in found if isinstance(e, str)]
    assert 0 < len(urls) < 1000
    assert isinstance(found[-1], ListFailure) and found[-1].reason == LIST_TOO_LARGE
    assert found[-1].where == f"urls.txt:{len(urls) + 1}"


def test_device_fifo_folder_and_missing_lists_are_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")  # opening it would block: refused from its stat alone
    for path in ("/dev/zero", str(tmp_path), str(tmp_path / "fifo"), str(tmp_path / "missing.txt")):
        with pytest.raises(ListRefused) as refused:
            check_url_list(path, 1024)
        assert refused.value.reason == NOT_A_FILE
        assert "\n" not in str(refused.value)
    with pytest.raises(ListRefused):
        open_url_list("/dev/zero", 0)


def test_oversized_list_is_refused_up_front(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes(f"{A}\n".encode() * 100)
    with pytest.raises(ListRefused) as refused:
        check_url_list(str(big), 1000)
    assert refused.value.reason == LIST_TOO_LARGE
    assert str(refused.value) == f"urls_file={str(big)!r} refused: list-too-large (5000 bytes; URL_LIST_MAXSIZE is 1000)"
    check_url_list(str(big), 0)  # 0: no limit
    with open_url_list(str(big), 8192) as stream:
        assert stream.readline() == f"{A}\n".encode()


def test_urls_argument_items_are_checked_like_lines() -> None:
    found = list(split_urls(f" {A} ,ftp://x/y,, saved/a.html,"))
    assert found[0] == A and found[2] == "saved/a.html"
    assert isinstance(found[1], ListFailure) and (found[1].where, found[1].reason) == ("urls item 2", BAD_LINE)
