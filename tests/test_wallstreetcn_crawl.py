"""The wallstreetcn spider end to end: real ``scrapy crawl`` through Scrapy's downloader
against the replay server serving recorded API responses."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import WSCN, MockServer, run_crawl, wscn_routes

POSTS = "content/posts/wallstreetcn"


@pytest.fixture(scope="module")
def full_crawl(tmp_path_factory: pytest.TempPathFactory):
    """One crawl over all three recorded listing pages, shared by the tests below."""
    tmp = tmp_path_factory.mktemp("crawl")
    with MockServer(wscn_routes(), tmp) as server:
        result = run_crawl("wallstreetcn", tmp / "out", "pages=5", settings={"WALLSTREETCN_API_BASE": server.url})
        result.requests = server.requests()
    return result


def test_golden_article_is_byte_identical_to_the_site(full_crawl) -> None:
    written = (full_crawl.output / POSTS / "3740710.md").read_bytes()
    assert written == (WSCN / "seed-3740710.md").read_bytes()


def test_writes_exactly_the_free_articles(full_crawl) -> None:
    assert sorted(full_crawl.files()) == [f"{POSTS}/3740710.md", f"{POSTS}/3782700.md"]
    assert full_crawl.stats()["article/written"] == 2


def test_paid_article_is_skipped_with_a_logged_reason(full_crawl) -> None:
    assert "Skipped https://wallstreetcn.com/articles/3782635: paid" in full_crawl.log
    assert full_crawl.stats()["article/skipped/paid"] == 1
    assert "/apiv1/content/articles/3782635?extract=0" not in full_crawl.requests  # known paid from the listing


def test_non_article_layout_is_skipped(full_crawl) -> None:
    assert "Skipped https://wallstreetcn.com/articles/3782690: layout (wscn-video-layout)" in full_crawl.log
    assert full_crawl.stats()["article/skipped/layout"] == 1


def test_error_envelope_is_a_clear_per_article_error(full_crawl) -> None:
    assert "Failed https://wallstreetcn.com/articles/3782699: api-error (code 71404:" in full_crawl.log
    assert full_crawl.stats()["article/failed/api-error"] == 1
    assert not (full_crawl.output / POSTS / "3782699.md").exists()


def test_duplicates_are_fetched_once_within_and_across_pages(full_crawl) -> None:
    details = [r for r in full_crawl.requests if r.startswith("/apiv1/content/articles/")]
    assert sorted(details) == sorted(set(details))
    assert full_crawl.stats()["listing/duplicate"] == 2
    assert full_crawl.stats()["listing/pages"] == 3



def test_second_run_changes_no_byte(full_crawl, tmp_path: Path) -> None:
    with MockServer(wscn_routes(), tmp_path) as server:
        again = run_crawl("wallstreetcn", tmp_path / "out", "pages=5", settings={"WALLSTREETCN_API_BASE": server.url})
    assert again.files() == full_crawl.files()


def test_pages_argument_limits_the_listing(tmp_path: Path) -> None:
    with MockServer(wscn_routes(), tmp_path) as server:
        result = run_crawl("wallstreetcn", tmp_path / "out", settings={"WALLSTREETCN_API_BASE": server.url})
        listing = [r for r in server.requests() if "/articles?" in r]
    assert listing == ["/apiv1/content/articles?limit=30"]
    assert sorted(result.files()) == [f"{POSTS}/3782700.md"]


def test_since_stops_at_older_items(tmp_path: Path) -> None:
    with MockServer(wscn_routes(), tmp_path) as server:
        result = run_crawl("wallstreetcn", tmp_path / "out", "pages=5", "since=2026-01-01", settings={"WALLSTREETCN_API_BASE": server.url})
        listing = [r for r in server.requests() if "/articles?" in r]
    # Page 2 holds 3740710 (2025-02-10): older than since, so it is not fetched and page 3 is never read.
    assert len(listing) == 2
    assert sorted(result.files()) == [f"{POSTS}/3782700.md"]


def test_malformed_json_is_a_clear_error_and_writes_nothing(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"code": 20000, "data": {"id": 3782700, "title": "x", "content": "<p>', encoding="utf-8")
    with MockServer(wscn_routes({3782700: broken}), tmp_path) as server:
        result = run_crawl("wallstreetcn", tmp_path / "out", settings={"WALLSTREETCN_API_BASE": server.url})
    assert "Failed https://wallstreetcn.com/articles/3782700: bad-json" in result.log
    assert result.files() == {}
