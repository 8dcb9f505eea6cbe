"""The one writer of a distributed run: ``scrapy writer -s REDIS_URL=… -s OUTPUT_DIR=…``.

Workers (``crawler.distributed.worker``) fetch, parse and render; this process owns the output root,
the state, the reports and the site repo. It opens the run (publishing the state the workers skip
stored articles by), then reads the crawl's stream through a Redis consumer group: each rendered
article goes through the usual pipelines (``DedupePipeline`` decides cross-source duplicates,
``WritePipeline`` writes) and is acknowledged only once they are done with it; each worker's skip
or failure is recorded here, so one run report covers the whole crawl. A writer killed midway
leaves its unacknowledged entries pending: started again, it takes them first, and the write path
is idempotent (an article already on disk with the same content is ``unchanged``, not rewritten;
files are renamed into place, never partial). It ends once the crawl is done and its stream empty,
and clears the crawl's keys so the next scheduled run starts afresh.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from twisted.python.failure import Failure

from crawler import outcomes
from crawler.distributed import WRITER
from crawler.distributed.board import Board
from crawler.distributed.codec import MALFORMED_ENTRY, Malformed, decode_article, decode_outcome
from crawler.spiders.base import ArticleSpider
from pipelines.adapters import output_root
from pipelines.article import Article
from pipelines.state import utc_now

#: entries read from the stream at a time, and articles at most in the pipelines at once
BATCH = 32
#: seconds between looks at an empty stream
POLL = 0.2


def stored_identities(db: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every identity (key and alias) the SQLite state holds, with its article's record."""
    columns = "key, source, id, url, content_hash, path, first_written, last_changed"
    records = {row[0]: dict(zip(columns.split(", "), row)) for row in db.execute(f"SELECT {columns} FROM articles")}
    yield from records.items()
    for alias, key in db.execute("SELECT alias, key FROM aliases"):
        if key in records:
            yield alias, records[key]


def remove_stale_temporaries(root: Path) -> int:
    """Temporary files (``.<name>.<random>.tmp``, ``pipelines.write``) a killed writer left: this
    process is the only writer of the output root, so none of them is being written."""
    removed = 0
    for tmp in root.rglob(".*.tmp"):
        if tmp.is_file():
            tmp.unlink(missing_ok=True)
            removed += 1
    return removed


class WriterSpider(ArticleSpider):
    """Not a crawl of any site: its ``start()`` yields the articles the workers hand in."""

    name = "writer"
    custom_settings = {"REDIS_ROLE": WRITER}

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> WriterSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.board = Board.from_settings(crawler.settings)
        spider.entries: dict[int, str] = {}  #: id(article) → its stream entry, until the pipelines are done
        spider.keys: dict[int, str] = {}  #: id(article) → its key, likewise
        spider.crawl_done = False  #: the crawl ended here: the report saved, the crawl's keys go
        for signal in (signals.item_scraped, signals.item_dropped, signals.item_error):
            crawler.signals.connect(spider.article_done, signal=signal)
        return spider

    async def start(self) -> AsyncIterator[Article]:
        board = self.board
        if not board.writer_beat():
            self.logger.error("Another writer holds %s: one writer per crawl", board.key("writer"))
            return
        removed = remove_stale_temporaries(output_root(self.crawler))
        if removed:
            self.logger.info("Removed %d temporary file(s) a killed writer left", removed)
        marks = {source: newest for source, newest, _ in self.store.listing_marks()}
        run, resumed = await asyncio.to_thread(board.open_run, list(stored_identities(self.store.db)), marks, utc_now())
        self.logger.info("%s run %s on %s", "Resuming" if resumed else "Opened", run, board.key(""))
        ticks = 0
        done_since: float | None = None
        idle_close = self.settings.getfloat("MAX_IDLE_TIME_BEFORE_CLOSE")
        after = "0"  # first the entries a killed writer took and did not acknowledge
        while True:
            ticks += 1
            if ticks % 10 == 0:
                board.writer_beat()
                for spider in board.spiders():
                    board.requeue(spider)
            batch = list(board.receive(BATCH, after))
            if after != ">":
                after = batch[-1][0] if batch else ">"
            for entry_id, kind, data in batch:
                try:
                    article = decode_article(data) if kind == b"article" else None
                    if article is None:
                        self.record(*decode_outcome(kind, data))
                except Malformed as exc:
                    self.reject(entry_id, str(exc))
                    continue
                if article is None:
                    board.ack([entry_id])
                    continue
                # an article (by key) at most once in the pipelines at a time: a request done twice
                # (a worker thought dead under load) hands it in twice, and two writes of one file
                # at once would both find it absent and both write it
                while len(self.entries) >= BATCH or article.key in self.keys.values():
                    await asyncio.sleep(0.01)
                self.entries[id(article)] = entry_id
                self.keys[id(article)] = article.key
                yield article
            if batch:
                done_since = None
                continue
            if self.entries or not board.done() or not board.stream_empty():
                done_since = None
            else:
                now = board.now()
                done_since = done_since or now
                if now - done_since >= idle_close:
                    break
            await asyncio.sleep(POLL)
        self.move_marks()
        self.crawl_done = True  # the report extension (crawler.distributed.ledger) clears the keys after the report
        self.logger.info("Crawl done: run %s", run)

    def reject(self, entry_id: str, why: str) -> None:
        """An entry that is no article or outcome a worker sends (hand-written into the crawl's
        Redis, or from another release): a failure of its own, and acknowledged, never run or retried."""
        outcomes.record_failure(self.crawler, f"{self.board.key('stream')}/{entry_id}", MALFORMED_ENTRY, why)
        self.board.ack([entry_id])

    def move_marks(self) -> None:
        """The listing marks, moved as a single-process run moves its own (``crawler.spiders.wallstreetcn``):
        only when the whole crawl read its listings (no listing failure, the writer's or a worker's, in
        the crawl's ledger) to the newest publication time any worker listed, held below the oldest
        listed article that failed transiently."""
        listed = self.board.listed()
        entries = self.board.outcomes()
        if any(entry["kind"] == "listing_failed" for entry in entries):
            if listed:
                self.logger.info("Listing mark left as it was (listing unreadable)")
            return
        transient = [entry["fields"]["url"] for entry in entries
                     if entry["kind"] == "failed" and entry["fields"].get("kind") == outcomes.TRANSIENT]
        held: dict[str, int] = {}
        for found in self.board.requested(transient):
            if found is not None:
                source, shown = found
                held[source] = min(held.get(source, shown), shown)
        for source, newest in sorted(listed.items()):
            if source in held:
                self.logger.info("Listing mark of %s held below %d: an article listed at that time failed transiently",
                                 source, held[source])
            self.store.set_listing_mark(source, newest, hold_below=held.get(source))

    def record(self, kind: str, payload: dict[str, Any]) -> None:
        """A worker's outcome, recorded here as if it happened here (log, stats, report)."""
        if kind == "skipped":
            outcomes.record_skip(self.crawler, payload["url"], payload["reason"], payload.get("detail", ""))
        elif kind == "failed":
            outcomes.record_failure(self.crawler, payload["url"], payload["reason"], payload.get("detail", ""))
        elif kind == "listing_failed":
            outcomes.record_listing_failure(self.crawler, payload["url"], payload["reason"], payload.get("detail", ""))

    def article_done(self, item: Any, response: Any = None, spider: Spider | None = None,
                     failure: Failure | None = None, **_: Any) -> None:
        """Signal handler: the pipelines are done with an article (written, unchanged, dropped or
        failed): acknowledge its entry, and publish what the state now holds for the workers."""
        entry_id = self.entries.pop(id(item), None)
        self.keys.pop(id(item), None)
        if entry_id is None:
            return
        if isinstance(item, Article) and item.path:
            record = self.store.get(item.key)
            if record is not None:
                self.board.publish_stored([item.key, *item.aliases], asdict(record))
        self.board.ack([entry_id])
