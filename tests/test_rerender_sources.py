"""``scrapy rerender`` of the listed sources (infoq, pingwest: one crawl each) and of the generic
``web`` spider, through Scrapy's real downloader against one replay server (the demo routes and
the generic pages of ``tests/test_web_crawl.py``): after a format setting changed, every file is
re-rendered with no request, byte-identical to a fresh crawl with the new setting, ``lastmod``
untouched. (The backfill's web path is covered by ``tests/test_rerender.py``.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scrapy.settings import Settings

from crawler.sources import SourceError, infoq, listed
from pipelines.archive import RawSource
from tests.conftest import ROOT, CrawlResult, run_crawl, serve
from tests.test_rerender import files, rerender
from tests.test_web_crawl import PATHS
from tests.test_web_crawl import routes as web_routes

#: the format change: shorter summaries, which every one of these articles has text for
NEW_FORMAT = {"SUMMARY_LENGTH": "20"}
WEB_PAGES = ("xinhuanet", "banyuetan", "gbk")


def demo_routes(name: str) -> list[dict]:
    routes = json.loads((ROOT / "demo" / f"{name}.json").read_text(encoding="utf-8"))["routes"]
    return [route | {"file": str(ROOT / "demo" / route["file"])} for route in routes]


def crawl_all(url: str, output: Path, settings: dict[str, str] | None = None) -> list[CrawlResult]:
    given = {"INFOQ_BASE": url, "PINGWEST_BASE": url, "WEB_SOURCE_NAMES": '{"127.0.0.1": "local"}'} | (settings or {})
    runs = [
        run_crawl("infoq", output, "pages=3", settings=given),
        run_crawl("pingwest", output, "since=2026-08-14", settings=given),
        run_crawl("web", output, "urls=" + ",".join(f"{url}{PATHS[key]}" for key in WEB_PAGES), settings=given),
    ]
    for run in runs:
        assert run.returncode == 0, run.log[-3000:]
    return runs


@pytest.fixture(scope="module")
def rerendered(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("rerender-sources")
    out, fresh = tmp / "out", tmp / "fresh"
    routes = {"routes": demo_routes("infoq") + demo_routes("pingwest") + web_routes()["routes"]}
    with serve(routes, tmp, "server") as server:
        crawl_all(server.url, out)
        before = files(out)
        served = len(server.requests())
        run = rerender(out, settings=NEW_FORMAT | {"WEB_SOURCE_NAMES": '{"127.0.0.1": "local"}'})
        assert len(server.requests()) == served, "a re-render made a request"
        crawl_all(server.url, fresh, NEW_FORMAT)
    return {"before": before, "run": run, "after": files(out), "fresh": files(fresh)}


def test_every_source_crawled_its_articles(rerendered) -> None:
    folders = sorted({path.rsplit("/", 1)[0] for path in rerendered["before"]})
    assert folders == ["content/posts/banyuetan.org", "content/posts/infoq", "content/posts/local", "content/posts/pingwest"]
    assert len(rerendered["before"]) == 6 + 5 + 3


def test_rerender_rewrites_every_file_as_a_fresh_crawl_with_the_new_setting(rerendered) -> None:
    run, before, after, fresh = rerendered["run"], rerendered["before"], rerendered["after"], rerendered["fresh"]
    assert run.returncode == 0, run.log[-3000:]
    report = run.report()
    counts = report["counts"]
    assert counts["skipped"] == counts["failed"] == 0 and counts["rerendered"] == len(before), counts  # all had raw sources
    assert "downloader/request_count" not in report["stats"]
    assert sorted(entry["path"] for entry in report["rerendered"]) == sorted(before)
    assert sorted(after) == sorted(fresh) == sorted(before)
    for path in after:
        assert after[path] != before[path], path
        assert after[path] == fresh[path], path
        assert b"\nlastmod: " not in after[path], path


def test_an_infoq_chain_is_replayed_from_its_first_fetch_and_a_broken_one_is_refused() -> None:
    """In process, on the infoq fixtures: the body answer's raw source holds the detail answer before
    it (the body alone has no title or time); a detail answer kept as the last answer (its body still
    to fetch) is ``bad-raw-source``."""
    uuid = "xfQ6bClXS02hYhOOqfr4"
    fixtures = ROOT / "tests" / "fixtures" / "infoq"
    detail, body = (fixtures / "details" / f"{uuid}.json").read_bytes(), (fixtures / "bodies" / f"{uuid}.json").read_bytes()
    first = listed.fetch_context(infoq.detail_request("http://127.0.0.1:1", uuid))
    first["fetch"]["data"] |= {"id": uuid}
    chained = listed.next_context(first, detail, "http://127.0.0.1:1/public/v1/article/getDetail")
    raw = RawSource("infoq", f"http://127.0.0.1:1/infoq-content/{uuid}.json", body, "2026-12-03T10:00:00+00:00", context=chained)
    article = infoq.article_from_raw(raw, Settings())
    assert (article.key, article.raw) == (f"infoq:{uuid}", raw) and article.published == 1784602722
    with pytest.raises(SourceError) as refused:
        infoq.article_from_raw(RawSource("infoq", raw.url, detail, raw.fetched, context=first), Settings())
    assert refused.value.reason == "bad-raw-source" and "asks for one more request" in refused.value.detail
