"""The listed sources' spiders (infoq, pingwest) end to end: real ``scrapy crawl`` through Scrapy's
downloader against the replay server serving the demo routes (``demo/infoq.json``,
``demo/pingwest.json``: the real infoq listing and pingwest articles, hand-made infoq details and
bodies and pingwest listing, see the fixtures' PROVENANCE)."""

from __future__ import annotations

import json
from pathlib import Path

import frontmatter

from tests.conftest import ROOT, MockServer, run_crawl, serve
from tests.test_jobdir import SERIAL, check_resumed, interrupted, requested, slow

INFOQ_IDS = ["01aguG1Yrgxl0bpmfZps", "AWhEVVgvNquuiKZdRQ0H", "jc1vll7xctqYlopcwIKe", "sHqj6EHMWML2TQi3uTdj",
             "xfQ6bClXS02hYhOOqfr4", "xsZUSSR8PRtcjZobwkYA"]


def test_infoq_crawls_then_fetches_only_what_is_new(tmp_path: Path) -> None:
    with MockServer(ROOT / "demo" / "infoq.json", tmp_path) as server:
        first = run_crawl("infoq", tmp_path / "out", "pages=3", settings={"INFOQ_BASE": server.url})
        assert first.returncode == 0, first.log
        assert sorted(first.files()) == [f"content/posts/infoq/{uuid}.md" for uuid in INFOQ_IDS]
        assert "Listing done after 2 page(s) (end of the listing)" in first.log  # the empty page after the last item
        # shaped like the site's infoq sample: source name in categories and tags, body, origin link last
        document = first.files()["content/posts/infoq/xfQ6bClXS02hYhOOqfr4.md"].decode("utf-8")
        page = frontmatter.loads(document)
        assert list(page.metadata)[:5] == ["title", "date", "summary", "categories", "lang"]
        assert page["categories"] == page["tags"] == ["infoq"] and page["date"] == "2026-07-21 10:58:42"
        assert page["thumbnail"] == "https://static001.infoq.cn/resource/image/36/79/36152cf21ecf73e9ca6abd6b4df6f279.jpg"
        assert page.content.endswith("\n\n[infoq](https://www.infoq.cn/article/xfQ6bClXS02hYhOOqfr4)")
        assert "![]()" not in document and "![示意图](https://static001.geekbang.org/" in document
        served = len(server.requests())
        again = run_crawl("infoq", tmp_path / "out", "pages=3", settings={"INFOQ_BASE": server.url})
        assert again.returncode == 0, again.log
        assert server.requests()[served:] == ["/public/v1/article/getList"]  # the listing only: all stored, mark reached
        assert again.report()["counts"]["new"] == 0 and "last completed run's listing reached" in again.log


def test_pingwest_crawls_since_a_day(tmp_path: Path) -> None:
    with MockServer(ROOT / "demo" / "pingwest.json", tmp_path) as server:
        result = run_crawl("pingwest", tmp_path / "out", "since=2026-08-14", settings={"PINGWEST_BASE": server.url})
    assert result.returncode == 0, result.log
    # listed newest first down to 08-14 (the listing times are the fixtures' pub_date, see PROVENANCE)
    assert sorted(result.files()) == [f"content/posts/pingwest/{n}.md" for n in (316387, 316468, 316494, 316634, 316646)]
    assert "Listing done after 1 page(s) (since reached)" in result.log
    document = result.files()["content/posts/pingwest/316646.md"].decode("utf-8")
    page = frontmatter.loads(document)
    assert page["title"] == "把 4K 生图门槛打下来！商汤开源 SenseNova U1.5 Lite" and page["categories"] == ["pingwest"]
    assert page.content.endswith("\n\n[pingwest](https://www.pingwest.com/a/316646)")
    assert "x-oss-process" not in document and "![]()" not in document


def test_bad_base_setting_is_refused(tmp_path: Path) -> None:
    result = run_crawl("infoq", tmp_path / "out", settings={"INFOQ_BASE": "ftp://x"})
    assert result.returncode == 1 and "setting INFOQ_BASE='ftp://x' is refused" in result.log


def test_infoq_pauses_and_resumes(tmp_path: Path) -> None:
    """JOBDIR: stopped with SIGINT once one article is written, the same command finishes the rest
    without fetching any body again (requests with their Fetch meta are stored on disk)."""
    routes = json.loads((ROOT / "demo" / "infoq.json").read_text(encoding="utf-8"))
    for route in routes["routes"]:
        route["file"] = str(ROOT / "demo" / route["file"])
    fast = "/infoq-content/AWhEVVgvNquuiKZdRQ0H.json"
    settings = {**SERIAL, "JOBDIR": str(tmp_path / "job"), "SCHEDULER_DISK_QUEUE": "scrapy.squeues.PickleFifoDiskQueue",
                "SCHEDULER_MEMORY_QUEUE": "scrapy.squeues.FifoMemoryQueue"}
    with serve(slow(routes, "/public/v1/article/getList", "/public/v1/article/getDetail", fast), tmp_path, "server") as server:
        settings["INFOQ_BASE"] = server.url
        first = interrupted("infoq", tmp_path / "out", settings=settings)
        first_files = set(first.files())
        second = run_crawl("infoq", tmp_path / "out", settings=settings)
        served = server.requests()
    check_resumed(first, first_files, second, {f"content/posts/infoq/{uuid}.md" for uuid in INFOQ_IDS})
    bodies = [f"/infoq-content/{uuid}.json" for uuid in INFOQ_IDS if uuid != "jc1vll7xctqYlopcwIKe"]  # that one is HTML
    assert requested(served, bodies) == dict.fromkeys(bodies, 1), served
