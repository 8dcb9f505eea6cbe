"""``scrapy state forget`` then a scheduled run of a listed source: the run, whose listing stops
at the mark (or ``pages``) before the old article, fetches exactly the forgotten article again
first (``crawler/refetch.py``), through Scrapy's real downloader against the replay server; the
refetch queue in the state store (``pipelines/state.py``) in process."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from scrapy.settings import Settings

from crawler.commands.state import state_command
from pipelines.state import StateStore
from tests.conftest import CrawlResult, run_crawl, serve, wscn_routes
from tests.test_rerender_sources import demo_routes

PINGWEST = "content/posts/pingwest"
WSCN = "content/posts/wallstreetcn"


def forget(output: Path, article: str) -> str:
    opts = argparse.Namespace(json=False, source="", delete_file=False, reset=False)
    return state_command(Settings({"OUTPUT_DIR": str(output), "SITE_REPO": "", "STATE_PATH": "", "ARCHIVE_DIR": ""}),
                         ["forget", article], opts)


def queue(output: Path, source: str) -> list[str]:
    store = StateStore(output / ".state" / "state.sqlite3")
    try:
        return store.refetch_queue(source)
    finally:
        store.close()


def crawled(result: CrawlResult) -> CrawlResult:
    assert result.returncode == 0, result.log[-3000:]
    return result


def test_state_store_queues_forgotten_articles_until_recorded_again(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.sqlite3")
    for n in ("1", "2", "3"):
        store.record(key=f"infoq:{n}", source="infoq", id=n, url=f"u{n}", document_hash="h", path=f"p{n}")
    store.forget("infoq:2", refetch=True, now="2026-12-03T10:00:00+00:00")
    store.forget("infoq:1", refetch=True, now="2026-12-03T11:00:00+00:00")
    store.forget("infoq:3")  # without refetch: only forgotten
    assert store.refetch_queue("infoq") == ["2", "1"] and store.refetch_queue("pingwest") == []
    store.record(key="infoq:2", source="infoq", id="2", url="u2", document_hash="h", path="p2")
    store.drop_refetch("infoq:1")
    assert store.refetch_queue("infoq") == [] and store.get("infoq:3") is None
    store.close()


def test_pingwest_refetches_the_forgotten_article_its_listing_no_longer_reaches(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with serve({"routes": demo_routes("pingwest")}, tmp_path, "first") as server:
        crawled(run_crawl("pingwest", out, "since=2026-08-14", settings={"PINGWEST_BASE": server.url}))
    before = (out / PINGWEST / "316387.md").read_bytes()
    assert forget(out, "pingwest:316387").endswith("its source's next scheduled run fetches it again\n")
    forget(out, "316468")
    assert queue(out, "pingwest") == ["316387", "316468"]
    # Hand-made: the real listing cut to its two newest items (the listing has moved on), and 316468 gone (404).
    listing = json.loads((tmp_path / "first" / "routes.json").read_text(encoding="utf-8"))["routes"]
    page = next(r for r in listing if r["path"] == "/api/index_news_list" and "query" not in r)
    answer = json.loads(Path(page["file"]).read_text(encoding="utf-8"))
    answer["data"]["list"] = "\n".join(answer["data"]["list"].splitlines()[:2])
    (tmp_path / "listing.json").write_text(json.dumps(answer, ensure_ascii=False), encoding="utf-8")
    routes = [{"path": "/a/316468", "status": 404, "body": ""}, page | {"file": str(tmp_path / "listing.json")},
              *(r for r in listing if r is not page)]
    with serve({"routes": routes}, tmp_path, "second") as server:
        second = run_crawl("pingwest", out, settings={"PINGWEST_BASE": server.url})
        assert second.returncode == 3, second.log[-3000:]  # the 404
        assert sorted(server.requests()) == ["/a/316387", "/a/316468", "/api/index_news_list?last_id="]
        third = crawled(run_crawl("pingwest", out, settings={"PINGWEST_BASE": server.url}))
        assert server.requests()[3:] == ["/api/index_news_list?last_id="]  # nothing queued any more
    assert "Listing done after 1 page(s) (last completed run's listing reached)" in second.log
    # written again as it was: its time is the first listing's, kept with its raw source (the page shows none)
    assert (out / PINGWEST / "316387.md").read_bytes() == before
    assert [e["url"] for e in second.report()["unchanged"]] == ["https://www.pingwest.com/a/316387"]
    assert [e["reason"] for e in second.report()["failed"]] == ["http-404"]
    assert queue(out, "pingwest") == []  # written again, or failed for good (http-404)
    assert third.report()["counts"]["failed"] == 0


def test_wallstreetcn_refetches_the_forgotten_article_below_its_listing_mark(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with serve(wscn_routes(), tmp_path, "server") as server:
        settings = {"WALLSTREETCN_API_BASE": server.url}
        run_crawl("wallstreetcn", out, "pages=2", settings=settings)  # exit 3: the recorded error answer fails
        before = (out / WSCN / "3740710.md").read_bytes()
        forget(out, "3740710")  # listed on page 2 only
        served = len(server.requests())
        second = run_crawl("wallstreetcn", out, settings=settings)
        requested = server.requests()[served:]
    detail = "/apiv1/content/articles/{}?extract=0"
    # the forgotten one, and page 1 (where 3782699, which failed before and so is not stored, is asked again)
    assert sorted(requested) == sorted(["/apiv1/content/articles?limit=30", detail.format(3740710), detail.format(3782699)])
    assert "Listing done after 1 page(s)" in second.log
    assert (out / WSCN / "3740710.md").read_bytes() == before
    assert queue(out, "wallstreetcn") == []
