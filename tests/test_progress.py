"""Progress lines of long runs: done/total for a URL list, done and pages for a listing."""

from __future__ import annotations

import re
from pathlib import Path

from crawler.progress import progress_line
from tests.conftest import WECHAT, WECHAT_PAGES, MockServer, run_crawl, wechat_route

#: the recorded pages that are normal articles
NORMAL = [url for url, name in WECHAT_PAGES.items() if name.startswith("wae_normal")]


def test_progress_line_forms() -> None:
    assert progress_line(10, 40, 120.0, 0) == "Progress: 10/40 article(s) done, 5.0/min, ETA 6m00s"
    assert progress_line(0, 40, 30.0, 0) == "Progress: 0/40 article(s) done, 0.0/min, ETA unknown"
    assert progress_line(40, 40, 30.0, 0) == "Progress: 40/40 article(s) done, 80.0/min, ETA 0s"
    assert progress_line(7, None, 60.0, 2) == "Progress: 7 article(s) done, 7.0/min, 2 listing page(s) read"


def test_a_slow_url_list_reports_done_of_total(tmp_path: Path) -> None:
    """Each page takes a second to answer, one at a time: the run lasts several progress intervals.
    The list: one URL given with ``urls=``, the others in a file (with a comment and a blank line)."""
    routes = {"routes": [wechat_route(url, WECHAT / "pages" / WECHAT_PAGES[url]) | {"delay": 1} for url in NORMAL]}
    listed = tmp_path / "urls.txt"
    listed.write_text("# the rest\n\n" + "".join(f"{url}\n" for url in NORMAL[1:]), encoding="utf-8")
    with MockServer(routes, tmp_path) as server:
        result = run_crawl("wechat", tmp_path / "out", f"urls={NORMAL[0]}", f"urls_file={listed}", settings={
            "WECHAT_BASE": server.url, "CONCURRENT_REQUESTS_PER_DOMAIN": "1", "PROGRESS_INTERVAL": "0.3"})
    assert result.returncode == 0, result.log
    lines = re.findall(rf"INFO: Progress: (\d+)/{len(NORMAL)} article\(s\) done, [\d.]+/min, ETA \S+", result.log)
    assert lines, result.log
    assert [int(done) for done in lines] == sorted(int(done) for done in lines)  # done only grows


def test_progress_can_be_switched_off(tmp_path: Path) -> None:
    routes = {"routes": [wechat_route(NORMAL[0], WECHAT / "pages" / WECHAT_PAGES[NORMAL[0]]) | {"delay": 1}]}
    with MockServer(routes, tmp_path) as server:
        result = run_crawl("wechat", tmp_path / "out", f"urls={NORMAL[0]}", settings={
            "WECHAT_BASE": server.url, "PROGRESS_INTERVAL": "0"})
    assert result.returncode == 0, result.log
    assert "Progress:" not in result.log and "ERROR" not in result.log
