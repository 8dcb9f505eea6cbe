"""Host back-off: a dead host costs HOST_FAILURE_LIMIT connection attempts, not every URL's retries."""

from __future__ import annotations

import socket
from pathlib import Path

from scrapy.utils.test import get_crawler

from crawler.hostguard import HostGuard
from tests.conftest import run_crawl


def closed_port() -> int:
    """A local port nothing listens on (bound, then released): connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_consecutive_failures_back_a_host_off_and_an_answer_resets_the_count() -> None:
    guard = HostGuard(get_crawler(settings_dict={"HOST_FAILURE_LIMIT": 3}))
    for _ in range(2):
        guard.connection_failed("a:80", ConnectionRefusedError())
    guard.reached("a:80")  # any HTTP answer: the host is there
    for _ in range(2):
        guard.connection_failed("a:80", ConnectionRefusedError())
    assert guard.why("a:80") is None
    guard.connection_failed("a:80", ConnectionRefusedError())
    assert "3 connection failures in a row" in (guard.why("a:80") or "")
    assert guard.why("b:80") is None


def test_backfill_against_a_dead_host_stops_after_the_limit(tmp_path: Path) -> None:
    """20 URLs, retries on (4 each): without the guard 100 connection attempts with back-off between them."""
    urls = tmp_path / "urls.txt"
    urls.write_text("".join(f"https://wallstreetcn.com/articles/{3782000 + n}\n" for n in range(20)), encoding="utf-8")
    result = run_crawl("backfill", tmp_path / "out", f"urls_file={urls}", settings={
        "WALLSTREETCN_API_BASE": f"http://127.0.0.1:{closed_port()}",
        "RETRY_TIMES": "4", "RETRY_BACKOFF_BASE": "0.01",
        "CONCURRENT_REQUESTS": "1",  # one attempt at a time: the count of attempts is exact
    })
    stats = result.stats()
    assert stats["downloader/request_count"] == 5  # HOST_FAILURE_LIMIT's default
    assert stats["hostguard/backed_off"] == 1
    failures = result.report()["failed"]
    assert len(failures) == 20
    assert {f["reason"] for f in failures} <= {"connection-refused", "not-attempted"}
    assert sum(f["reason"] == "not-attempted" for f in failures) >= 15
    assert "URL(s) not attempted after their host was backed off; backfill them later" in result.log
    assert "Traceback" not in result.log
    assert result.returncode == 3
