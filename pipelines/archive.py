"""The raw archive: the exact source of every article that reached a file, kept so a format
change can be re-rendered offline (``scrapy rerender``) and an upstream deletion or edit
loses nothing.

Layout: ``<root>/<source>/<id>/<fetched>-<sha>.raw.gz``, one gzip file per *version* of an
article's raw source (``fetched`` compact UTC, ``sha`` the first 16 hex digits of the body's
SHA-256). A newer fetch whose body differs adds a version beside the old ones (versions are
kept, never replaced: an article the source later edited or deleted can still be read as it
was); a fetch of an identical body adds nothing and only moves the newest version's mtime to
the fetch time ("last fetched"). The newest version (by name) is the one re-rendered.

A file is a gzip stream of one JSON line (parser, URL, status, headers, fetch time, parser
context) and then the body bytes, exactly as received. Files are written under a hidden
temporary name, fsynced and renamed, so a SIGKILL at any moment leaves complete versions
only (and at worst a ``.*.tmp`` file, never read).

``store``/``load`` are plain functions of a root folder, so whichever process writes the
archive (one crawl, or a distributed run's single writer) calls the same code.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from isal import igzip

from pipelines.write import write_bytes_atomic

SUFFIX = ".raw.gz"
#: response headers kept: what decoding needs (type, charset, disposition) and what says which version it was
KEPT_HEADERS = ("content-type", "content-disposition", "last-modified", "etag")
_STAMP = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True)
class RawSource:
    """One response an article was parsed from, enough to parse it again with no network."""

    parser: str  #: which source's parser reads it (``crawler/rerender.py``), e.g. "wallstreetcn"
    url: str  #: the URL the body came from (after redirects; ``file://`` for a saved page)
    body: bytes  #: the body exactly as the parser received it
    fetched: str  #: UTC, ISO 8601 (``pipelines.state.utc_now``)
    headers: dict[str, str] = field(default_factory=dict)  #: lower-case names, ``KEPT_HEADERS`` only
    status: int = 200
    #: what the parser needs besides the response (the request's id, the URLs that led to the page)
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


@dataclass(frozen=True)
class Version:
    """One stored version of an article's raw source."""

    path: Path
    fetched: str  #: first fetch of this body (UTC, ISO 8601)
    last_fetched: str  #: latest fetch of this same body
    sha: str  #: first 16 hex digits of the body's SHA-256


def key_folder(root: Path, key: str) -> Path:
    """``<root>/<source>/<id>`` for a ``source:id`` key, each part percent-quoted (no separator, no dot-name)."""
    source, _, ident = key.partition(":")
    parts = [quote(part, safe="") for part in (source, ident)]
    return root.joinpath(*(("%2E" + p[1:]) if p.startswith(".") else p or "%00" for p in parts))


def _stamp(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(timezone.utc).strftime(_STAMP)


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(int(seconds), timezone.utc).isoformat()


def versions(root: Path, key: str) -> list[Version]:
    """The stored versions of ``key``'s raw source, oldest first (temporary files left by a kill are not versions)."""
    folder = key_folder(root, key)
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(SUFFIX) and not n.startswith("."))
    except (FileNotFoundError, NotADirectoryError):
        return []
    found = []
    for name in names:
        stamp, _, sha = name.removesuffix(SUFFIX).partition("-")
        fetched = datetime.strptime(stamp, _STAMP).replace(tzinfo=timezone.utc).isoformat()
        path = folder / name
        found.append(Version(path, fetched, max(fetched, _iso(path.stat().st_mtime)), sha))
    return found


#: ISA-L's level 1 (``isal.igzip``: the same gzip format, any gzip reader reads it): a 3 MB WeChat page
#: compresses in ~10 ms of the crawl's CPU and to ~0.74 MB; zlib's level 1 took ~50 ms for ~0.74 MB,
#: gzip's default (9) ~300 ms for ~0.6 MB. Files written by either still load (``decode``).
COMPRESS_LEVEL = 1


def encode(raw: RawSource) -> bytes:
    header = {"parser": raw.parser, "url": raw.url, "status": raw.status, "fetched": raw.fetched,
              "headers": raw.headers, "context": raw.context}
    # mtime=0: the same raw source always compresses to the same bytes
    data = json.dumps(header, ensure_ascii=False, sort_keys=True).encode() + b"\n" + raw.body
    return igzip.compress(data, compresslevel=COMPRESS_LEVEL, mtime=0)


def decode(data: bytes) -> RawSource:
    header, _, body = gzip.decompress(data).partition(b"\n")
    fields = json.loads(header)
    return RawSource(parser=fields["parser"], url=fields["url"], body=body, fetched=fields["fetched"],
                     headers=fields["headers"], status=fields["status"], context=fields["context"])


def store(root: Path, key: str, raw: RawSource) -> Path:
    """Keep ``raw`` as ``key``'s newest version, before the article is recorded in the state.
    A body equal to the newest version's is not stored again; its last-fetched time moves on."""
    known = versions(root, key)
    sha = raw.sha256[:16]
    seen = datetime.fromisoformat(raw.fetched).timestamp()
    if known and known[-1].sha == sha:
        newest = known[-1].path
        if seen > newest.stat().st_mtime:
            os.utime(newest, (seen, seen))
        return newest
    path = key_folder(root, key) / f"{_stamp(raw.fetched)}-{sha}{SUFFIX}"
    write_bytes_atomic(path, encode(raw))
    os.utime(path, (seen, seen))  # its mtime is its last fetch
    return path


def load(root: Path, key: str) -> RawSource | None:
    """The newest stored raw source of ``key``, or None (stored before the archive existed)."""
    known = versions(root, key)
    return read(known[-1].path) if known else None


def read(path: Path) -> RawSource:
    return decode(path.read_bytes())
