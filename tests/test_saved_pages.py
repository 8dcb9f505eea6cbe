"""Saved pages and gzipped bodies are read bounded and decoded as they declare (crawler.inputs).

Hostile inputs here are HAND-MADE: a gzip bomb (100 MB of zeros), corrupt gzip, non-files
(/dev/zero, a folder, a FIFO), and a GBK page made from the real recorded page
wae_normal_01 (its charset declaration changed to gbk, re-encoded as GBK, gzipped).
"""

from __future__ import annotations

import gzip
import os
import re
from pathlib import Path

import pytest

from scrapy.settings import Settings

from crawler.inputs import saved_page_limit
from crawler.savedpage import SavedPageError, decode_saved, gunzip, read_saved
from tests.conftest import WECHAT, CrawlResult, MockServer, run_crawl, wechat_route

NORMAL_PAGE = WECHAT / "pages" / "wae_normal_01_xuanyuan_code.html.gz"
TITLE = "AI编程害死我了，给我的抓包软件埋了一个大雷！"
TOKEN, MID = "KDWh_qGpFN5Vu1TR9t30Mw", "2247504179"
MIB = 1024 * 1024


def gbk_page(token: str = TOKEN, declared: str = "gbk") -> bytes:
    """The recorded page as a GBK page declaring ``declared`` (hand-made), not gzipped.

    Characters GBK lacks (emoji) become character references, as a GBK editor saves them;
    a new ``token`` makes it another article."""
    html = gzip.decompress(NORMAL_PAGE.read_bytes()).decode("utf-8")
    html = html.replace("charset=utf-8", f"charset={declared}", 1) if declared else html.replace("charset=utf-8", "", 1)
    if token != TOKEN:
        html = html.replace(TOKEN, token).replace(MID, "3999999999")
    return html.encode("gbk", errors="xmlcharrefreplace")


def msg_title(html: str) -> str:
    match = re.search(r"var msg_title = '([^']*)'", html)
    assert match
    return match.group(1)


def bomb() -> bytes:
    """100 MB of zeros gzipped: about 100 KB."""
    return gzip.compress(b"\0" * 100_000_000, compresslevel=9, mtime=0)


def reason(call) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(SavedPageError) as caught:
        call()
    return caught.value.reason


# --- gunzip ----------------------------------------------------------------------------------------


def test_a_gzip_bomb_stops_at_the_limit() -> None:
    assert reason(lambda: decode_saved(bomb(), 8 * MIB)) == "too-large"


def test_gunzip_limit_is_exact_and_members_are_joined() -> None:
    data = gzip.compress(b"x" * 1000, mtime=0)
    assert gunzip(data, 1000) == b"x" * 1000
    assert reason(lambda: gunzip(data, 999)) == "too-large"
    two = gzip.compress(b"ab", mtime=0) + gzip.compress(b"cd", mtime=0)
    assert gunzip(two, 4) == b"abcd" and reason(lambda: gunzip(two, 3)) == "too-large"
    assert gunzip(data + b"\0" * 16, 1000) == b"x" * 1000  # zero padding after the data, as gzip(1) accepts


@pytest.mark.parametrize(
    "mangle",
    [
        lambda d: d[:-12],  # truncated
        lambda d: d[:10] + bytes(b ^ 0xFF for b in d[10:40]) + d[40:],  # corrupt deflate data
        lambda d: d[:-8] + bytes(b ^ 0x01 for b in d[-8:-4]) + d[-4:],  # wrong CRC
        lambda d: d + b"garbage",  # trailing garbage
        lambda d: d[:3] + b"\xff" + d[4:],  # reserved header flags
    ],
    ids=["truncated", "corrupt", "crc", "trailing-garbage", "bad-header"],
)
def test_corrupt_gzip_is_bad_gzip(mangle) -> None:  # type: ignore[no-untyped-def]
    data = gzip.compress(NORMAL_PAGE.read_bytes()[:50_000], mtime=0)
    assert reason(lambda: decode_saved(mangle(data), 32 * MIB)) == "bad-gzip"


# --- local files -----------------------------------------------------------------------------------


def test_non_files_are_refused_without_reading(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # opening it blocking would hang: it has no writer
    assert reason(lambda: read_saved(Path("/dev/zero"), MIB)) == "not-a-file"
    assert reason(lambda: read_saved(tmp_path, MIB)) == "not-a-file"
    assert reason(lambda: read_saved(fifo, MIB)) == "not-a-file"
    assert reason(lambda: read_saved(tmp_path / "missing.html", MIB)) == "missing-file"


def test_a_file_over_the_limit_is_too_large(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_bytes(b"x" * 1001)
    assert reason(lambda: read_saved(page, 1000)) == "too-large"
    assert read_saved(page, 1001) == b"x" * 1001


def test_a_file_larger_than_its_size_says_is_read_whole_and_bounded() -> None:
    """A regular file whose size the system does not know (procfs says 0): read to its end, up to the limit."""
    cmdline = Path("/proc/self/cmdline")
    assert os.stat(cmdline).st_size == 0
    assert read_saved(cmdline, MIB) == cmdline.read_bytes()
    assert reason(lambda: read_saved(cmdline, len(cmdline.read_bytes()) - 1)) == "too-large"


def test_the_limit_is_never_unbounded() -> None:
    assert saved_page_limit(Settings({"SAVED_PAGE_MAXSIZE": 1000, "DOWNLOAD_MAXSIZE": 5000})) == 1000
    assert saved_page_limit(Settings({"SAVED_PAGE_MAXSIZE": 0, "DOWNLOAD_MAXSIZE": 5000})) == 5000
    assert saved_page_limit(Settings({"SAVED_PAGE_MAXSIZE": 0, "DOWNLOAD_MAXSIZE": 0})) == 32 * MIB


# --- decoding --------------------------------------------------------------------------------------


@pytest.mark.parametrize("declared", ["gbk", "GB2312", "gb18030"])
def test_a_gzipped_gbk_page_is_decoded_as_declared(declared: str) -> None:
    html = decode_saved(gzip.compress(gbk_page(declared=declared), mtime=0), 32 * MIB)
    assert msg_title(html) == TITLE


def test_undeclared_pages_are_utf8_or_else_gb18030() -> None:
    assert msg_title(decode_saved(gzip.compress(gbk_page(declared=""), mtime=0), 32 * MIB)) == TITLE
    assert msg_title(decode_saved(NORMAL_PAGE.read_bytes(), 32 * MIB)) == TITLE  # the real UTF-8 page


# --- through real crawls ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wechat_crawl(tmp_path_factory: pytest.TempPathFactory) -> tuple[CrawlResult, dict[str, str]]:
    """Served without Content-Encoding (as octet-stream): a bomb, corrupt gzip, a gzipped GBK page;
    given as saved files: /dev/zero, a folder, a gzipped GBK page."""
    tmp = tmp_path_factory.mktemp("saved")
    served = {  # URL → (file the replay server sends, its content); .bin: no Content-Encoding, .gz: gzip encoded
        "https://mp.weixin.qq.com/s/served_bomb_x": ("bomb.bin", bomb()),
        "https://mp.weixin.qq.com/s/served_bad_gzip_x": ("bad.bin", gzip.compress(b"<html>" * 1000, mtime=0)[:-20] + b"\x00" * 20),
        "https://mp.weixin.qq.com/s/served_gbk_page_x": ("gbk.bin", gzip.compress(gbk_page("gbkServedPage01"), mtime=0)),
        # over DOWNLOAD_MAXSIZE: refused by Scrapy itself, by Content-Length or while decompressing
        "https://mp.weixin.qq.com/s/served_huge_page_x": ("huge.bin", b"<p>x</p>" * (MIB + 1)),
        "https://mp.weixin.qq.com/s/served_encoded_bomb_x": ("encoded-bomb.html.gz", bomb()),
    }
    routes = []
    for url, (name, body) in served.items():
        (tmp / name).write_bytes(body)
        routes.append(wechat_route(url, tmp / name))
    (tmp / "gbk.html.gz").write_bytes(gzip.compress(gbk_page(), mtime=0))
    (tmp / "folder").mkdir()
    files = {"zero": "file:///dev/zero", "folder": (tmp / "folder").as_uri(), "gbk": (tmp / "gbk.html.gz").as_uri()}
    with MockServer({"routes": routes}, tmp) as server:
        result = run_crawl("wechat", tmp / "out", f"urls={','.join([*served, *files.values()])}",
                           settings={"WECHAT_BASE": server.url, "DOWNLOAD_MAXSIZE": str(8 * MIB)})
    return result, files


def test_bomb_and_bad_gzip_bodies_fail_named(wechat_crawl: tuple[CrawlResult, dict[str, str]]) -> None:
    result, _ = wechat_crawl
    assert "Traceback" not in result.log
    failed = {entry["url"]: entry["reason"] for entry in result.report()["failed"]}
    assert failed["https://mp.weixin.qq.com/s/served_bomb_x"] == "too-large"
    assert failed["https://mp.weixin.qq.com/s/served_bad_gzip_x"] == "bad-gzip"


def test_bodies_over_download_maxsize_fail_too_large(wechat_crawl: tuple[CrawlResult, dict[str, str]]) -> None:
    """Scrapy's own DOWNLOAD_MAXSIZE refusals (its messages are how we know) are named like ours."""
    result, _ = wechat_crawl
    failed = {entry["url"]: entry for entry in result.report()["failed"]}
    assert failed["https://mp.weixin.qq.com/s/served_huge_page_x"]["reason"] == "too-large"
    assert failed["https://mp.weixin.qq.com/s/served_encoded_bomb_x"]["reason"] == "too-large"
    assert "DOWNLOAD_MAXSIZE" in failed["https://mp.weixin.qq.com/s/served_encoded_bomb_x"]["detail"]
    assert result.stats()["article/failed/too-large"] == 3  # with the bomb served without Content-Encoding


def test_non_files_fail_not_a_file(wechat_crawl: tuple[CrawlResult, dict[str, str]]) -> None:
    result, files = wechat_crawl
    failed = {entry["url"]: entry["reason"] for entry in result.report()["failed"]}
    assert failed[files["zero"]] == "not-a-file"
    assert failed[files["folder"]] == "not-a-file"
    assert result.stats()["article/failed/not-a-file"] == 2


def test_gzipped_gbk_pages_are_written_with_their_real_title(wechat_crawl: tuple[CrawlResult, dict[str, str]]) -> None:
    result, _ = wechat_crawl
    files = result.files()
    assert sorted(files) == ["content/posts/wechat/s_KDWh_qGpFN5Vu1TR9t30Mw.md", "content/posts/wechat/s_gbkServedPage01.md"]
    for document in files.values():
        assert f"title: \"{TITLE}\"\n" in document.decode("utf-8")


def test_backfill_reads_saved_files_bounded(tmp_path: Path) -> None:
    (tmp_path / "gbk.html.gz").write_bytes(gzip.compress(gbk_page(), mtime=0))
    (tmp_path / "bomb.html.gz").write_bytes(bomb())
    (tmp_path / "folder").mkdir()
    lines = ["file:///dev/zero", "/dev/zero", str(tmp_path / "folder"), (tmp_path / "bomb.html.gz").as_uri(),
             (tmp_path / "gbk.html.gz").as_uri()]
    (tmp_path / "list.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_crawl("backfill", tmp_path / "out", f"urls_file={tmp_path / 'list.txt'}")
    assert "Traceback" not in result.log
    failed = {entry["url"]: entry["reason"] for entry in result.report()["failed"]}
    assert failed == {
        "file:///dev/zero": "not-a-file",
        (tmp_path / "folder").as_uri(): "not-a-file",
        (tmp_path / "bomb.html.gz").as_uri(): "too-large",
    }
    assert result.stats()["article/failed/not-a-file"] == 3  # /dev/zero given as a URL and as a path, the folder
    files = result.files()
    assert list(files) == ["content/posts/wechat/s_KDWh_qGpFN5Vu1TR9t30Mw.md"]
    assert f"title: \"{TITLE}\"\n" in files["content/posts/wechat/s_KDWh_qGpFN5Vu1TR9t30Mw.md"].decode("utf-8")
