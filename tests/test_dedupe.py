"""One article, one file: the dedupe stage, directly (no crawl)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from crawler.spiders.wallstreetcn import WallstreetcnSpider
from pipelines.adapters import DedupePipeline, state_path
from pipelines.article import Article
from pipelines.state import StateStore


def article(source: str, id: str, aliases: list[str]) -> Article:  # hand-made items
    return Article(source=source, id=id, url=f"https://example.org/{source}/{id}", title="t", published=0,
                   body_html="<p>x</p>", aliases=aliases)


def test_two_identities_of_one_article_in_the_same_run(tmp_path: Path) -> None:
    crawler = get_crawler(WallstreetcnSpider, {"OUTPUT_DIR": str(tmp_path)})
    dedupe = DedupePipeline(crawler)
    republish = article("wallstreetcn", "1", ["wechat:123_4_1"])
    original = article("wechat", "123_4_1", ["wechat:s_token"])
    # Neither is written yet (both are still being rendered): the first to pass claims the identity.
    assert asyncio.run(dedupe.process_item(republish)) is republish
    with pytest.raises(DropItem, match="already taken in this run as wallstreetcn:1"):
        asyncio.run(dedupe.process_item(original))
    assert asyncio.run(dedupe.process_item(republish)) is republish  # the same article again is no duplicate


def test_article_stored_by_an_earlier_run_under_an_alias(tmp_path: Path) -> None:
    crawler = get_crawler(WallstreetcnSpider, {"OUTPUT_DIR": str(tmp_path)})
    store = StateStore(state_path(crawler))
    store.record(key="wechat:123_4_1", source="wechat", id="123_4_1", url="u", document_hash="h",
                 path="content/posts/wechat/123_4_1.md", aliases=["wechat:s_token"])
    store.close()
    with pytest.raises(DropItem, match="already written from wechat as wechat:123_4_1"):
        asyncio.run(DedupePipeline(crawler).process_item(article("wallstreetcn", "1", ["wechat:s_token"])))


def test_an_article_the_previous_run_wrote_in_the_second_this_run_starts_is_an_earlier_runs(tmp_path: Path) -> None:
    """Hand-made timestamps: the run before wrote at 10:00:00, this run starts at 10:00:00 too (runs
    follow each other within a second); "stored" must still mean stored by that earlier run, and an
    article this run writes in the same second must still count as this run's."""
    path = tmp_path / "state.sqlite3"
    now = "2026-12-03T10:00:00+00:00"
    earlier = StateStore(path)
    earlier.record(key="wallstreetcn:1", source="wallstreetcn", id="1", url="u1", document_hash="h", path="p1", now=now)
    earlier.close()
    spiders = StateStore(path)  # this run's, opened when its spider starts
    writer = StateStore(path)  # the write stage's, in the same run
    writer.record(key="wallstreetcn:2", source="wallstreetcn", id="2", url="u2", document_hash="h", path="p2", now=now)
    writer.record(key="wallstreetcn:1", source="wallstreetcn", id="1", url="u1", document_hash="h2", path="p1", now=now)
    first, second = spiders.owner(["wallstreetcn:1"]), spiders.owner(["wallstreetcn:2"])
    assert first is not None and second is not None and first.first_written == second.first_written == now
    assert not spiders.recorded_since_opened(first, now)  # updated in this run, first written by the earlier one
    assert spiders.recorded_since_opened(second, now)
