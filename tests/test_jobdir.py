"""Pause and resume with ``-s JOBDIR=…`` for every spider (Scrapy's "Jobs: pausing and resuming crawls").

Each crawl is stopped with one SIGINT (Scrapy's graceful stop, as Ctrl-C) once it has
written an article while requests are still waiting, then run again with the same
JOBDIR: the second run must finish the rest without fetching again what the first
one wrote. The replay server holds most answers back (``delay``) so the stop comes
midway, and one request at a time keeps the rest waiting in the disk queue.
Every request must be stored on disk (picklable: spider-method callbacks, plain meta).
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import (
    ROOT, WECHAT, WECHAT_PAGES, CrawlResult, crawl_command, run_crawl, serve, wechat_route, wscn_routes,
)

#: Seconds the replay server holds back each slow answer: long enough for the stop to come
#: while the next request still waits in the queue.
SLOW = 2
#: The same for WeChat pages: a 3 MB page takes seconds from its answer to its file on a loaded
#: machine, and a graceful stop finishes the request in flight, so the hold must outlast that.
SLOW_PAGE = 6
WSCN_WRITTEN = {"content/posts/wallstreetcn/3740710.md", "content/posts/wallstreetcn/3782700.md"}
WECHAT_NORMAL = {
    "https://mp.weixin.qq.com/s/KDWh_qGpFN5Vu1TR9t30Mw": "content/posts/wechat/s_KDWh_qGpFN5Vu1TR9t30Mw.md",
    "https://mp.weixin.qq.com/s/SbB40tES2MrfoNaIPima5A": "content/posts/wechat/s_SbB40tES2MrfoNaIPima5A.md",
    "https://mp.weixin.qq.com/s?__biz=MjM5ODAyNTcwMA==&mid=2651788393&idx=1": "content/posts/wechat/2398025700_2651788393_1.md",
}
LISTING = "/apiv1/content/articles"
#: one at a time, so that the stop leaves requests waiting in the (disk) queue
SERIAL = {"CONCURRENT_REQUESTS": "1", "CONCURRENT_REQUESTS_PER_DOMAIN": "1"}


def slow(routes: dict[str, Any], *fast: str, delay: float = SLOW) -> dict[str, Any]:
    """``routes`` with every answer held back ``delay`` seconds but those of the ``fast`` paths."""
    for route in routes["routes"]:
        if route["path"] not in fast:
            route["delay"] = delay
    return routes


def wechat_slow_routes() -> dict[str, Any]:
    return {"routes": [wechat_route(url, WECHAT / "pages" / WECHAT_PAGES[url]) for url in WECHAT_NORMAL]}


def interrupted(spider: str, output: Path, *args: str, settings: dict[str, str]) -> CrawlResult:
    """The crawl, stopped with SIGINT as soon as it has written a file."""
    log = output.parent / f"{spider}-interrupted.log"
    with open(log, "w", encoding="utf-8") as sink:
        proc = subprocess.Popen(crawl_command(spider, output, *args, settings=settings), cwd=ROOT,
                                stdout=sink, stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.monotonic() + 120
            while not any(output.rglob("*.md")) and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
    return CrawlResult(proc.returncode, log.read_text(encoding="utf-8"), output)


def requested(server_requests: list[str], paths: list[str]) -> dict[str, int]:
    return {path: sum(1 for r in server_requests if r == path) for path in paths}


def check_resumed(first: CrawlResult, first_files: set[str], second: CrawlResult, expected: set[str]) -> None:
    assert "Traceback" not in first.log + second.log, first.log[-3000:] + second.log[-3000:]
    assert first.returncode == 3, first.log[-3000:]  # stopped before it finished
    report = first.report()
    assert report["finish_reason"] == "shutdown"
    assert report["stats"].get("scheduler/enqueued/disk", 0) > 0
    assert report["stats"].get("scheduler/enqueued/memory", 0) == 0, "a request could not be stored on disk"
    assert 0 < len(first_files) < len(expected), first.log[-3000:]
    assert set(second.files()) == expected, second.log[-3000:]
    assert second.returncode == 0, second.log[-3000:]


def test_wallstreetcn_resumes(tmp_path: Path) -> None:
    # First in, first out: page 1's articles before page 2, so the stop comes with page 2 still to read.
    settings = {**SERIAL, "JOBDIR": str(tmp_path / "job"), "SCHEDULER_DISK_QUEUE": "scrapy.squeues.PickleFifoDiskQueue",
                "SCHEDULER_MEMORY_QUEUE": "scrapy.squeues.FifoMemoryQueue"}
    with serve(slow(wscn_routes(), f"{LISTING}/3782700"), tmp_path, "server") as server:
        settings["WALLSTREETCN_API_BASE"] = server.url
        first = interrupted("wallstreetcn", tmp_path / "out", "pages=5", settings=settings)
        first_files = set(first.files())
        second = run_crawl("wallstreetcn", tmp_path / "out", "pages=5", settings=settings)
        served = server.requests()
    check_resumed(first, first_files, second, WSCN_WRITTEN)
    details = [f"/apiv1/content/articles/{name.rsplit('/', 1)[1][:-3]}?extract=0" for name in sorted(WSCN_WRITTEN)]
    assert requested(served, details) == dict.fromkeys(details, 1), served


def test_wechat_resumes(tmp_path: Path) -> None:
    settings = {**SERIAL, "JOBDIR": str(tmp_path / "job")}
    urls = ",".join(WECHAT_NORMAL)
    with serve(slow(wechat_slow_routes(), "/s/KDWh_qGpFN5Vu1TR9t30Mw", delay=SLOW_PAGE), tmp_path, "server") as server:
        settings["WECHAT_BASE"] = server.url
        first = interrupted("wechat", tmp_path / "out", f"urls={urls}", settings=settings)
        first_files = set(first.files())
        second = run_crawl("wechat", tmp_path / "out", f"urls={urls}", settings=settings)
        served = server.requests()
    check_resumed(first, first_files, second, set(WECHAT_NORMAL.values()))
    assert len(served) == len(WECHAT_NORMAL), served  # each page once over both runs


def test_backfill_resumes(tmp_path: Path) -> None:
    wscn = ["https://wallstreetcn.com/articles/3782700", "https://wallstreetcn.com/articles/3740710"]
    listing = tmp_path / "urls.txt"
    listing.write_text("\n".join([*wscn, *WECHAT_NORMAL]) + "\n", encoding="utf-8")
    routes = wscn_routes()
    routes["routes"] += wechat_slow_routes()["routes"]
    settings = {**SERIAL, "JOBDIR": str(tmp_path / "job")}
    with serve(slow(routes, f"{LISTING}/3782700", delay=SLOW_PAGE), tmp_path, "server") as server:
        settings |= {"WALLSTREETCN_API_BASE": server.url, "WECHAT_BASE": server.url}
        first = interrupted("backfill", tmp_path / "out", f"urls_file={listing}", settings=settings)
        first_files = set(first.files())
        second = run_crawl("backfill", tmp_path / "out", f"urls_file={listing}", settings=settings)
        served = server.requests()
    check_resumed(first, first_files, second, WSCN_WRITTEN | set(WECHAT_NORMAL.values()))
    assert len(served) == len(wscn) + len(WECHAT_NORMAL), served  # each article once over both runs


@pytest.mark.parametrize("spider", ["wallstreetcn", "wechat", "backfill"])
def test_jobdir_is_checked(tmp_path: Path, spider: str) -> None:
    """JOBDIR is among the checked settings for every spider (a path under a file can never be created)."""
    (tmp_path / "file").write_text("", encoding="utf-8")
    args = {"wallstreetcn": [], "wechat": ["urls=https://mp.weixin.qq.com/s/x"], "backfill": ["urls_file=-"]}[spider]
    result = run_crawl(spider, tmp_path / "out", *args, settings={"JOBDIR": str(tmp_path / "file" / "job")})
    assert result.returncode == 1
    assert "setting JOBDIR=" in result.log
