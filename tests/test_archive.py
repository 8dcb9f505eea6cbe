"""The raw archive (``pipelines/archive.py``), raw sources as responses (``crawler/rawsource.py``),
and what a SIGKILL at a random moment leaves of the archive and of the state store."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from scrapy.http import HtmlResponse, Response, TextResponse

from crawler.rawsource import from_response, to_response
from pipelines import archive
from pipelines.archive import RawSource
from pipelines.publish import Change, commit_message
from pipelines.state import StateStore
from tests.conftest import ROOT

KEY = "wallstreetcn:3740710"


def raw(body: bytes, fetched: str = "2026-12-01T08:00:00+00:00") -> RawSource:
    """Hand-made raw source."""
    return RawSource(parser="wallstreetcn", url="https://api.example/a/1", body=body, fetched=fetched,
                     headers={"content-type": "application/json; charset=utf-8", "etag": '"v1"'},
                     context={"article_id": "3740710"})


def test_store_and_load_keep_the_exact_bytes_and_fields(tmp_path: Path) -> None:
    kept = raw(b'{"code": 20000}\n\x00\xff binary \r\n too')
    path = archive.store(tmp_path, KEY, kept)
    assert path.parent == tmp_path / "wallstreetcn" / "3740710" and path.name.endswith(".raw.gz")
    assert archive.load(tmp_path, KEY) == kept
    assert archive.encode(kept) == path.read_bytes()  # the same raw source always gives the same file



def test_files_are_plain_gzip_and_older_files_still_load(tmp_path: Path) -> None:
    """The files are gzip as any reader reads it (ISA-L's compressor since issue 13), and a file
    compressed by zlib, as archives were before, loads to the same raw source (rerender reads both)."""
    import gzip
    import zlib

    kept = raw(b"<html>" + "正文 ".encode() * 50_000 + b"</html>")  # hand-made, compressible as a page is
    path = archive.store(tmp_path, KEY, kept)
    data = path.read_bytes()
    assert zlib.decompress(data, 16 + zlib.MAX_WBITS) == gzip.decompress(data)
    header, _, body = gzip.decompress(data).partition(b"\n")
    assert body == kept.body and b'"parser": "wallstreetcn"' in header
    for level in (1, 9):  # archives written before: zlib at level 1, earlier gzip's default 9
        path.write_bytes(gzip.compress(gzip.decompress(data), compresslevel=level, mtime=0))
        assert archive.load(tmp_path, KEY) == kept

def test_an_identical_fetch_adds_no_version_but_moves_last_fetched(tmp_path: Path) -> None:
    archive.store(tmp_path, KEY, raw(b"same"))
    archive.store(tmp_path, KEY, raw(b"same", fetched="2026-12-02T08:00:00+00:00"))
    [version] = archive.versions(tmp_path, KEY)
    assert (version.fetched, version.last_fetched) == ("2026-12-01T08:00:00+00:00", "2026-12-02T08:00:00+00:00")
    archive.store(tmp_path, KEY, raw(b"same"))  # an older fetch (a re-render's raw source) moves nothing
    assert archive.versions(tmp_path, KEY)[0].last_fetched == "2026-12-02T08:00:00+00:00"


def test_a_changed_body_is_a_new_version_and_the_old_one_stays(tmp_path: Path) -> None:
    archive.store(tmp_path, KEY, raw(b"first"))
    archive.store(tmp_path, KEY, raw(b"edited upstream", fetched="2026-12-03T08:00:00+00:00"))
    versions = archive.versions(tmp_path, KEY)
    assert [archive.read(v.path).body for v in versions] == [b"first", b"edited upstream"]
    assert archive.load(tmp_path, KEY).body == b"edited upstream"


def test_temporary_files_of_a_killed_write_are_no_version(tmp_path: Path) -> None:
    folder = tmp_path / "wallstreetcn" / "3740710"
    folder.mkdir(parents=True)
    (folder / ".20261201T080000Z-0000000000000000.raw.gz.x1y2.tmp").write_bytes(b"\x1f\x8b truncated")
    assert archive.versions(tmp_path, KEY) == [] and archive.load(tmp_path, KEY) is None
    archive.store(tmp_path, KEY, raw(b"next run"))
    assert archive.load(tmp_path, KEY).body == b"next run"


def test_keys_cannot_leave_the_archive(tmp_path: Path) -> None:
    for key in ("../..:../x", "a/b:c/d", ".:..", ":"):
        folder = archive.key_folder(tmp_path, key)
        assert folder.parent.parent == tmp_path and folder.resolve().is_relative_to(tmp_path), key


def test_a_raw_source_rebuilds_the_response_the_parser_read() -> None:
    body = '<html><head><title>标题</title></head><body>正文</body></html>'.encode("gb18030")
    response = HtmlResponse("https://mp.weixin.qq.com/s/abc", body=body,
                            headers={"Content-Type": "text/html; charset=gbk", "ETag": "x", "Set-Cookie": "no"})
    kept = from_response(response, "wechat", {"reached_by": ["https://mp.weixin.qq.com/s/abc"]})
    assert kept.headers == {"content-type": "text/html; charset=gbk", "etag": "x"}
    again = to_response(kept)
    assert type(again) is HtmlResponse and again.text == response.text and "正文" in again.text


def test_a_saved_page_is_rebuilt_as_the_file_handler_built_it(tmp_path: Path) -> None:
    page = tmp_path / "page.html.gz"
    kept = RawSource(parser="wechat", url=page.as_uri(), body=b"\x1f\x8b...", fetched="2026-12-01T08:00:00+00:00")
    assert type(to_response(kept)) is Response  # not text: the parser gunzips it itself
    kept = RawSource(parser="wechat", url=(tmp_path / "page.html").as_uri(), body=b"<html></html>", fetched=kept.fetched)
    assert isinstance(to_response(kept), TextResponse)


def test_a_rerender_commit_says_so() -> None:
    changes = [Change("rerendered", "content/posts/wallstreetcn/1.md", "标题", "https://wallstreetcn.com/articles/1")]
    message = commit_message(changes, ["content/posts/wallstreetcn/1.md"])
    assert message.startswith("news-ingest: re-rendered 1 article(s) (format change, not an upstream edit)\n\n")
    assert "rerendered: content/posts/wallstreetcn/1.md 标题 <https://wallstreetcn.com/articles/1>" in message


# --- SIGKILL -------------------------------------------------------------------------------------

#: Stores versions of large incompressible bodies without end, printing each one done; the
#: body's hash is kept in its context so a reader can tell a complete version from a torn one.
ARCHIVE_WRITER = """
import hashlib, os, sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from pipelines.archive import RawSource, store
root, start = Path(sys.argv[1]), int(sys.argv[2])
for n in range(start, start + 10000):
    body = str(n).encode() + os.urandom(1 << 20)
    fetched = (datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=n)).isoformat()
    store(root, f"wallstreetcn:{n % 3}", RawSource("wallstreetcn", f"https://x/{n}", body, fetched,
          context={"sha256": hashlib.sha256(body).hexdigest()}))
    print(n, flush=True)
"""

#: Records articles without end, printing each one recorded.
STATE_WRITER = """
import sys
from pipelines.state import StateStore
store, start = StateStore(sys.argv[1]), int(sys.argv[2])
for n in range(start, start + 100000):
    store.record(key=f"wallstreetcn:{n}", source="wallstreetcn", id=str(n), url=f"https://x/{n}",
                 document_hash=f"hash-{n}", path=f"content/posts/wallstreetcn/{n}.md", aliases=[f"wechat:{n}"])
    print(n, flush=True)
"""


def run_and_kill(script: str, target: Path, start: int, after: int) -> int:
    """Run ``script`` until it reported ``after`` items, then SIGKILL it a random moment later; the last item reported."""
    proc = subprocess.Popen([sys.executable, "-c", script, str(target), str(start)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    last = start - 1
    try:
        for _ in range(after):
            line = proc.stdout.readline()
            assert line, "the writer stopped before it was killed"
            last = int(line)
        time.sleep(random.uniform(0, 0.05))
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    return last


def test_archive_survives_sigkill_during_writes(tmp_path: Path) -> None:
    start = reported = 0
    for _ in range(3):  # each round a killed run, and the next one carries on in the same archive
        last = run_and_kill(ARCHIVE_WRITER, tmp_path, start, after=random.randint(2, 4))
        reported += last - start + 1
        stored = [v for n in range(3) for v in archive.versions(tmp_path, f"wallstreetcn:{n}")]
        assert len(stored) >= reported  # every version reported done is there
        for version in stored:  # and every version there is complete
            kept = archive.read(version.path)
            assert hashlib.sha256(kept.body).hexdigest() == kept.context["sha256"]
        leftovers = [p for p in tmp_path.rglob("*") if p.is_file() and p.name.startswith(".")]
        assert all(p.name.endswith(".tmp") for p in leftovers)
        start = last + 10


def test_state_survives_sigkill_during_writes(tmp_path: Path) -> None:
    db = tmp_path / "state.sqlite3"
    start = 0
    for _ in range(3):
        last = run_and_kill(STATE_WRITER, db, start, after=random.randint(50, 200))
        with sqlite3.connect(db) as check:
            assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        store = StateStore(db)
        try:
            records = list(store.records())
            assert {int(r.id) for r in records} >= set(range(start, last + 1))
            for record in records:  # each article complete, with its alias (one transaction)
                assert record.content_hash == f"hash-{record.id}"
                assert store.aliases_of(record.key) == [f"wechat:{record.id}"]
        finally:
            store.close()
        start = last + 1000
