"""What a user hands a spider: lists of URLs and saved pages.

Saved pages are read bounded (``crawler.savedpage``): a file must be a regular file (not
``/dev/zero``, a FIFO or a folder: ``not-a-file``) of at most ``SAVED_PAGE_MAXSIZE`` bytes, and a
gzipped body — a saved ``.html.gz``, or any response starting with the gzip magic bytes — is
gunzipped as a stream that stops at the same limit (``too-large``; a corrupt one: ``bad-gzip``),
so a small bomb cannot expand past what a download may hold.

URL lists are read as a stream, a line at a time: a list file must be a regular file of at
most ``URL_LIST_MAXSIZE`` bytes (else refused before the run, ``not-a-file`` /
``list-too-large``); each line is capped (``URL_LIST_MAX_LINE``) and a line that is no URL or
path fails ``bad-line`` on its own while the rest of the list goes on.
"""

from __future__ import annotations

import codecs
import os
import re
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.crawler import Crawler
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.http import Response
from scrapy.responsetypes import responsetypes
from scrapy.settings import BaseSettings
from scrapy.utils.asyncio import run_in_thread
from w3lib.url import file_uri_to_path

# Saved pages are read by crawler.savedpage (no Scrapy: parse workers read them too); its names
# are used here and by the sources through this module.
from crawler.savedpage import NOT_A_FILE, read_saved

#: Failure reasons of URL lists: a line that is no URL or path, a list past ``URL_LIST_MAXSIZE``
#: (a list that is no regular file: ``NOT_A_FILE``).
BAD_LINE = "bad-line"
LIST_TOO_LARGE = "list-too-large"
#: A list whose reading failed part-way (an I/O error): the lines after it were not read.
UNREADABLE_LIST = "unreadable-list"
#: ``urls_file`` value that reads the list from standard input.
STDIN = "-"
#: Schemes a list line may name; a line without one is a local path.
LIST_SCHEMES = ("http", "https", "file")
_OVER_MAXSIZE = re.compile(r"larger than download max size|exceeded DOWNLOAD_MAXSIZE")


class ListRefused(ValueError):
    """A URL list refused as a whole before any request; the message is the operator's one line."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class ListFailure:
    """A line (or the rest of a list) that gives no URL: named, so it is reported, never dropped.

    ``where`` is ``<list>:<line number>``, the report's URL for it.
    """

    where: str
    reason: str
    detail: str


def check_url_list(path: str, maxsize: int) -> None:
    """Refuse ``urls_file`` up front (``ListRefused``): not a regular file (``/dev/zero``, a FIFO, a
    folder would read without end or block), or larger than ``maxsize`` bytes (0: no limit). Standard
    input can only be measured while it is read (``read_url_list``)."""
    if path == STDIN:
        return
    try:
        info = os.stat(path)
    except OSError:
        raise ListRefused(NOT_A_FILE, f"urls_file={path!r} is not a file") from None
    if not stat.S_ISREG(info.st_mode):
        raise ListRefused(NOT_A_FILE, f"urls_file={path!r} is not a file (a device, pipe or folder); give a regular file, or - for stdin")
    if maxsize and info.st_size > maxsize:
        raise ListRefused(LIST_TOO_LARGE, f"urls_file={path!r} refused: {LIST_TOO_LARGE} ({info.st_size} bytes; URL_LIST_MAXSIZE is {maxsize})")


def open_url_list(path: str, maxsize: int) -> BinaryIO:
    """The list's bytes: stdin for ``-``, else the file checked again once open (it may have been swapped)."""
    if path == STDIN:
        if sys.stdin is None:  # started with standard input closed (cron's <&-)
            raise ListRefused(NOT_A_FILE, "urls_file='-' but standard input is closed")
        return sys.stdin.buffer
    check_url_list(path, maxsize)  # before opening: opening a FIFO would block
    stream = open(path, "rb")  # noqa: SIM115 - the caller closes it
    info = os.fstat(stream.fileno())
    if not stat.S_ISREG(info.st_mode) or (maxsize and info.st_size > maxsize):
        stream.close()
        raise ListRefused(NOT_A_FILE, f"urls_file={path!r} changed while it was opened")
    return stream


def line_problem(text: str) -> str | None:
    """Why a stripped, non-comment line is no URL or path we take, or None."""
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        return "control characters in the line"
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        return f"not a URL ({exc})"
    scheme = parts.scheme.lower()
    if not scheme:
        return None  # a local path
    if scheme not in LIST_SCHEMES:
        return f"scheme {scheme!r} is not http, https or file"
    if scheme != "file" and not parts.hostname:
        return "a URL without a host"
    if scheme != "file" and any(c.isspace() for c in text):
        return "spaces inside a URL (two URLs on one line?)"
    return None


def read_url_list(stream: BinaryIO, name: str, max_line: int, maxsize: int) -> Iterator[str | ListFailure]:
    """The entries of a URL list, one line at a time: URLs and paths as written (stripped), and a
    ``ListFailure`` for each line that is no URL (``bad-line``: undecodable, longer than ``max_line``
    bytes, or no URL/path we take) — the rest of the list goes on. Blank lines and ``#`` comments are
    skipped; a UTF-8 BOM is ignored. Past ``maxsize`` bytes in all (0: no limit; stdin has no size to
    check up front) the list ends with a ``list-too-large`` failure. Never holds more than one line."""
    total = 0
    number = 0
    while raw := stream.readline(max_line + 1):
        number += 1
        total += len(raw)
        where = f"{name}:{number}"
        overlong = len(raw) > max_line and not raw.endswith(b"\n")
        while overlong and raw and not raw.endswith(b"\n") and not (maxsize and total > maxsize):
            raw = stream.readline(max_line + 1)  # the rest of the line, read and let go
            total += len(raw)
        if maxsize and total > maxsize:
            yield ListFailure(where, LIST_TOO_LARGE, f"the list goes on past URL_LIST_MAXSIZE ({maxsize} bytes); lines from {number} on were not read")
            return
        if overlong:
            yield ListFailure(where, BAD_LINE, f"line {number} is longer than URL_LIST_MAX_LINE ({max_line} bytes)")
            continue
        if number == 1:
            raw = raw.removeprefix(codecs.BOM_UTF8)
        try:
            text = raw.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            yield ListFailure(where, BAD_LINE, f"line {number} is not UTF-8 ({exc.reason} at byte {exc.start}): {raw[:80]!r}")
            continue
        if not text or text.startswith("#"):
            continue
        problem = line_problem(text)
        yield ListFailure(where, BAD_LINE, f"line {number}: {problem}: {text[:80]!r}") if problem else text


def split_urls(value: str) -> Iterator[str | ListFailure]:
    """The items of a comma-separated ``-a urls=`` value, checked like list lines (``bad-line``)."""
    for number, item in enumerate(value.split(","), start=1):
        item = item.strip()
        if item:
            problem = line_problem(item)
            yield ListFailure(f"urls item {number}", BAD_LINE, f"{problem}: {item[:80]!r}") if problem else item


def as_url(value: str) -> str:
    """A URL, or a local path made a ``file://`` URL."""
    if urlsplit(value).scheme:
        return value
    return Path(value).expanduser().resolve().as_uri()


#: The bound when neither SAVED_PAGE_MAXSIZE nor DOWNLOAD_MAXSIZE sets one: saved pages are never unbounded.
DEFAULT_SAVED_PAGE_MAXSIZE = 32 * 1024 * 1024


def saved_page_limit(settings: BaseSettings) -> int:
    """``SAVED_PAGE_MAXSIZE``; 0 (Scrapy's "no limit") falls back to ``DOWNLOAD_MAXSIZE``, then to 32 MiB."""
    return (settings.getint("SAVED_PAGE_MAXSIZE") or settings.getint("DOWNLOAD_MAXSIZE")
            or DEFAULT_SAVED_PAGE_MAXSIZE)


def over_download_maxsize(exc: BaseException) -> bool:
    """Whether Scrapy itself refused a body over ``DOWNLOAD_MAXSIZE`` (the download handler, or the
    decompression of a ``Content-Encoding: gzip`` body): the same bound, so the same ``too-large``.
    Scrapy says so only in the message, which tests/test_saved_pages.py pins."""
    return isinstance(exc, (DownloadCancelledError, IgnoreRequest)) and bool(_OVER_MAXSIZE.search(str(exc)))


class SavedPageHandler(BaseDownloadHandler):
    """Scrapy's ``file://`` download handler, bounded: ``read_saved`` instead of reading whatever the path holds."""

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.limit = saved_page_limit(crawler.settings)

    async def download_request(self, request: Request) -> Response:
        path = Path(file_uri_to_path(request.url))
        body = await run_in_thread(read_saved, path, self.limit)
        return responsetypes.from_args(filename=str(path), body=body)(url=request.url, body=body)
