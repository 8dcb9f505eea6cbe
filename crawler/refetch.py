"""Articles ``scrapy state forget`` queued for their source's next scheduled run.

A scheduled run of a listed source (wallstreetcn, infoq, pingwest) reads its listing only down
to the listing mark, so it would never meet an old article that was forgotten. ``forget``
therefore also queues the article in the state (``StateStore.refetch_queue``); the source's next
scheduled run requests the queued articles first, before its listing, and each leaves the queue
once it is written again (``StateStore.record``), skipped, or has failed permanently (a transient
failure keeps it queued for the run after). The request is the listing's own, with what the
listing gave it (e.g. pingwest's listing time) taken from the article's raw source when kept.

A distributed run's workers read no queue (the queue lives in the writer's SQLite state, and the
listing data in its archive), though they do bound their listing by the mark: a single-process
scheduled run takes the queue, or the forgotten URLs are pushed with ``scrapy enqueue backfill``.
"""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler

from crawler import outcomes
from pipelines import archive
from pipelines.adapters import archive_dir
from pipelines.state import StateStore


class Refetch:
    """One run's share of the refetch queue of ``source``: what it requested, and settling each."""

    def __init__(self, crawler: Crawler, store: Any, source: str):
        self.crawler = crawler
        self.store = store
        self.source = source
        #: article URL → key of each queued article this run requested
        self.requested: dict[str, str] = {}
        crawler.signals.connect(self.article_failed, signal=outcomes.article_failed)
        crawler.signals.connect(self.article_skipped, signal=outcomes.article_skipped)

    def queued(self) -> list[tuple[str, dict[str, Any]]]:
        """Id and listing data (the first request's ``data`` kept with the raw source, else {}) of
        each queued article; none for a distributed worker, whose store is the writer's view."""
        if not isinstance(self.store, StateStore):
            return []
        root = archive_dir(self.crawler)
        found = []
        for article_id in self.store.refetch_queue(self.source):
            raw = archive.load(root, f"{self.source}:{article_id}")
            first = raw.context.get("fetch") if raw is not None else None
            found.append((article_id, dict(first.get("data") or {}) if isinstance(first, dict) else {}))
        return found

    def request(self, url: str, article_id: str) -> None:
        """Note that this run requests the queued article ``article_id`` (at article URL ``url``)."""
        self.requested[url] = f"{self.source}:{article_id}"
        self.crawler.stats.inc_value("refetch/requested")

    def article_failed(self, url: str, kind: str, **_: Any) -> None:
        if kind == outcomes.PERMANENT and url in self.requested:
            self.store.drop_refetch(self.requested[url])

    def article_skipped(self, url: str, **_: Any) -> None:
        if url in self.requested:
            self.store.drop_refetch(self.requested[url])
