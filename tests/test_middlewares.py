"""Retries with backoff: unit rules, and a real crawl through a server that answers 429 then 503 first."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from scrapy import Request
from scrapy.http import Response
from scrapy.settings import Settings

from crawler.middlewares import BackoffRetryMiddleware, retry_after_seconds
from tests.conftest import MockServer, run_crawl, wscn_routes


def test_retry_after_forms() -> None:
    now = datetime(2026, 11, 30, 12, 0, 0, tzinfo=timezone.utc)
    assert retry_after_seconds(b"7") == 7.0
    assert retry_after_seconds("Mon, 30 Nov 2026 12:00:30 GMT", now=now) == 30.0
    assert retry_after_seconds("Mon, 30 Nov 2026 11:00:00 GMT", now=now) == 0.0  # in the past
    assert retry_after_seconds(b"soon") is None
    assert retry_after_seconds(None) is None


def test_backoff_doubles_and_is_capped() -> None:
    middleware = BackoffRetryMiddleware(Settings({"RETRY_ENABLED": True, "RETRY_BACKOFF_BASE": 2.0, "RETRY_BACKOFF_MAX": 10.0,
                                                   "RETRY_HTTP_CODES": [429], "RETRY_EXCEPTIONS": []}))
    delays = [middleware.backoff(Request("https://x", meta={"retry_times": n})) for n in (1, 2, 3, 4)]
    assert delays == [2.0, 4.0, 8.0, 10.0]
    busy = Response("https://x", status=429, headers={"Retry-After": "3"})
    assert middleware.backoff(Request("https://x", meta={"retry_times": 1}), busy) == 3.0
    assert middleware.backoff(Request("https://x", meta={"retry_times": 1}), Response("https://x", status=429, headers={"Retry-After": "999"})) == 10.0


def test_crawl_waits_as_asked_and_then_succeeds(tmp_path: Path) -> None:
    routes = wscn_routes()
    detail = next(r for r in routes["routes"] if r["path"].endswith("/3782700"))
    detail["responses"] = [
        {"status": 429, "headers": {"Retry-After": "1"}, "body": "slow down"},  # hand-made throttling answers
        {"status": 503, "body": "busy"},
        {"file": detail.pop("file")},
    ]
    with MockServer(routes, tmp_path) as server:
        result = run_crawl("wallstreetcn", tmp_path / "out", settings={"WALLSTREETCN_API_BASE": server.url, "RETRY_BACKOFF_BASE": "0.5"})
        served = server.requests()
    assert served.count("/apiv1/content/articles/3782700?extract=0") == 3
    url = f"{server.url}/apiv1/content/articles/3782700?extract=0"
    assert f"Backing off 1.0s before retrying {url} (HTTP 429)" in result.log  # as Retry-After asked
    assert f"Backing off 1.0s before retrying {url} (HTTP 503)" in result.log  # second retry: 0.5 s doubled
    assert (tmp_path / "out/content/posts/wallstreetcn/3782700.md").exists()
    assert result.stats()["retry/count"] == 2
