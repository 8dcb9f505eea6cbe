"""The worker side of a distributed run (``-s REDIS_URL=…`` on ``scrapy crawl``).

- ``ReliableQueue``: scrapy-redis' priority queue, but a request taken is kept in the crawl's
  ``inflight`` until Scrapy is done with it, so a killed worker's requests go back to the queue.
- ``WorkerStartMiddleware``: the ``start()`` scrapy-redis spiders lack is the spider's own; it
  waits for the writer's run, joins it, and lets only one worker read the listing (or a list given
  with ``-a``); lists pushed with ``scrapy enqueue`` are read by every worker, a line each.
- ``WorkerExtension``: heartbeat, releasing finished requests, putting dead workers' back, and
  closing an idle worker once the crawl is done for ``MAX_IDLE_TIME_BEFORE_CLOSE`` seconds;
  forwards every skip and failure to the writer.
- ``HandoffPipeline``: the rendered article goes to the writer's stream instead of a file.
- ``StateView``: "was this stored?" answered from the state the writer published.
- ``WorkerReport``: the worker's own exit status and summary line; the report is the writer's.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import weakref
from collections.abc import AsyncIterator, Iterable
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy.utils.asyncio import AsyncioLoopingCall, create_looping_call
from scrapy.utils.defer import deferred_from_coro
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler
from twisted.internet.task import LoopingCall

from crawler import outcomes
from crawler.distributed import QUEUED, is_worker, listing_read
from crawler.distributed.board import Board
from crawler.distributed.codec import encode_article
from crawler.extensions import EXIT_CODE_STAT, RunReportExtension
from crawler.logs import SUMMARY
from pipelines.article import Article
from pipelines.state import Record

logger = logging.getLogger(__name__)

#: seconds between a worker's heartbeats (and checks of the crawl)
TICK = 0.5
#: outcome signals forwarded to the writer, by the stream entry kind
FORWARDED = {"skipped": outcomes.article_skipped, "failed": outcomes.article_failed, "listing_failed": outcomes.listing_failed}

_boards: weakref.WeakKeyDictionary[Crawler, Board] = weakref.WeakKeyDictionary()


def board_of(crawler: Crawler) -> Board:
    """The process's one board (one worker identity) for ``crawler``."""
    if crawler not in _boards:
        _boards[crawler] = Board.from_settings(crawler.settings)
    return _boards[crawler]


class RedisScheduler(Scheduler):
    """scrapy-redis' scheduler without its stats calls (they pass ``spider``, deprecated since Scrapy 2.13:
    a warning in every worker's log); Scrapy's own scheduler stats are not kept either."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedisScheduler:
        scheduler = cls.from_settings(crawler.settings)
        scheduler.crawler = crawler
        return scheduler

    def enqueue_request(self, request: Request) -> bool:
        """A request the crawl already saw (another worker read the same article off another listing
        page or list line) is skipped as ``duplicate-url``, not dropped as a failure."""
        if not request.dont_filter and self.df.request_seen(request):
            outcomes.record_skip(self.crawler, request.meta.get("article_url", request.url), "duplicate-url",
                                 "already requested in this crawl")
            return True
        self.queue.push(request)
        return True


class ReliableQueue(PriorityQueue):
    """scrapy-redis' priority queue whose ``pop`` moves the request into the crawl's ``inflight``
    (``crawler.distributed.board``); ``WorkerExtension`` releases it once Scrapy is done with it."""

    def __init__(self, server: Any, spider: Spider, key: str, serializer: Any = None):
        super().__init__(server, spider, key, serializer)
        self.board = board_of(spider.crawler)
        self.inflight = self.board.key(spider.name, "inflight")
        self.taken: dict[str, Request] = {}  #: inflight field → the request Scrapy has
        self.counter = itertools.count()

    def pop(self, timeout: int = 0) -> Request | None:
        field = f"{self.board.me}:{next(self.counter)}"
        data = self.board.take(self.key, self.inflight, field)
        if data is None:
            return None
        request = self._decode_request(data)
        self.taken[field] = request
        return request

    def release_finished(self, in_progress: set[Request]) -> None:
        """Forget the requests Scrapy no longer holds: their callbacks ran, their items were handed
        on, the requests they made were queued (the engine drops a request only after all that)."""
        finished = [field for field, request in self.taken.items() if request not in in_progress]
        self.board.release(self.inflight, finished)
        for field in finished:
            del self.taken[field]


def reads_pushed_list(spider: Spider) -> bool:
    """Whether the spider reads the list ``scrapy enqueue`` pushed (every worker takes lines)."""
    return getattr(spider, "urls_file", None) == QUEUED and not getattr(spider, "urls", "")


async def pushed_urls(spider: Spider) -> AsyncIterator[str]:
    """The lines of the spider's pushed list, one at a time, until it is empty."""
    board = board_of(spider.crawler)
    while (line := await asyncio.to_thread(board.next_url, spider.name)) is not None:
        yield line


class WorkerStartMiddleware:
    """Spider middleware around ``start()``: wait for the writer's run, join it, and read the
    spider's own start in one worker only (the listing is read once per run, not once per worker)."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WorkerStartMiddleware:
        return cls(crawler)

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        spider = self.crawler.spider
        board = board_of(self.crawler)
        waited = 0.0
        while await asyncio.to_thread(board.run_id) is None:
            if waited % 30 == 0:
                logger.info("Waiting for the writer (scrapy writer -s REDIS_URL=…) to open the run")
            await asyncio.sleep(TICK)
            waited += TICK
        board.set_busy(True)
        board.join(spider.name)
        try:
            if reads_pushed_list(spider) or board.claim(spider.name):
                async for item_or_request in start:
                    yield item_or_request
            else:
                logger.info("Another worker reads %s's start this run; taking requests from the shared queue", spider.name)
                if not hasattr(spider, "urls_file"):
                    # A listing spider's start() sets up what reading its pages needs (wallstreetcn: since,
                    # the mark): run it to its first request, which is dropped (the claiming worker sends it).
                    await anext(aiter(start), None)
                    close = getattr(start, "aclose", None)
                    if close is not None:
                        await close()
        finally:
            board.set_busy(False)


class WorkerExtension:
    """A worker's life in the crawl: heartbeat, requests released or put back, outcomes forwarded,
    and the end: idle workers close once the crawl is done (``MAX_IDLE_TIME_BEFORE_CLOSE``)."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.board = board_of(crawler)
        self.idle_close = crawler.settings.getfloat("MAX_IDLE_TIME_BEFORE_CLOSE")
        self.done_since: float | None = None
        self.run: str | None = None
        self.ticks = 0
        self.closing = False
        self.task: AsyncioLoopingCall | LoopingCall | None = None
        for kind, signal in FORWARDED.items():
            crawler.signals.connect(self.forwarder(kind), signal=signal, weak=False)
        crawler.signals.connect(self.listing_read, signal=listing_read)
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WorkerExtension:
        if not is_worker(crawler.settings):
            raise NotConfigured
        return cls(crawler)

    def forwarder(self, kind: str) -> Any:
        def forward(**fields: Any) -> None:
            payload = {name: value for name, value in fields.items() if name not in ("signal", "sender")}
            self.board.send(kind, payload)

        return forward

    def listing_read(self, source: str, newest: int, requested: dict[str, int]) -> None:
        """A listing page this worker read: noted for the writer's listing mark (before the page's
        request is released, so a kill midway has the page read again)."""
        self.board.note_listed(source, newest, requested)

    def spider_opened(self, spider: Spider) -> None:
        self.board.beat()
        self.task = create_looping_call(self.tick)
        self.task.start(TICK, now=False)

    def queue(self) -> ReliableQueue | None:
        slot = getattr(self.crawler.engine, "_slot", None)  # Scrapy has no public handle on the scheduler
        return getattr(getattr(slot, "scheduler", None), "queue", None)

    def tick(self) -> None:
        self.ticks += 1
        board = self.board
        board.beat()
        engine = self.crawler.engine
        slot = getattr(engine, "_slot", None)
        queue = self.queue()
        if queue is not None and slot is not None:
            queue.release_finished(slot.inprogress)
        if self.ticks % 4 == 0:
            for spider in board.spiders():
                if back := board.requeue(spider):
                    logger.warning("Put %d request(s) of a dead worker back in the %s queue", back, spider)
        if self.run is None:
            self.run = board.run_id()
        if slot is not None:
            slot.nextcall.schedule()  # requests other workers queued: Scrapy would look only every 5 s
        if self.closing or engine is None or not engine.spider_is_idle():
            self.done_since = None
            return
        if self.run is not None and board.run_id() != self.run:
            self.close("the writer closed the run")
            return
        if not board.done():
            self.done_since = None
            return
        now = board.now()
        self.done_since = self.done_since or now
        if now - self.done_since >= self.idle_close:
            self.close("the crawl is done")

    def close(self, why: str) -> None:
        logger.info("Worker closing: %s", why)
        self.closing = True
        deferred_from_coro(self.crawler.engine.close_spider_async(reason="finished"))  # type: ignore[union-attr]

    def spider_idle(self, spider: Spider) -> None:
        """An empty queue here is not the end of the crawl: other workers may queue more."""
        if not self.closing:
            raise DontCloseSpider

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
        queue = self.queue()
        if queue is not None and self.crawler.engine is not None and getattr(self.crawler.engine, "_slot", None):
            queue.release_finished(self.crawler.engine._slot.inprogress)
        back = self.board.requeue(spider.name, only_mine=True)  # stopped midway (Ctrl-C): others finish them
        if back:
            logger.info("Put %d unfinished request(s) back in the queue for the other workers", back)
        self.board.leave()


class HandoffPipeline:
    """Rendered article → the writer's stream (``crawler.writer`` writes it)."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.board = board_of(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HandoffPipeline:
        return cls(crawler)

    async def process_item(self, item: Article) -> Article:
        await asyncio.to_thread(self.hand_off, item)
        self.crawler.stats.inc_value("article/handed-off")
        return item

    def hand_off(self, item: Article) -> None:
        self.board.send("article", encode_article(item))


class StateView:
    """The part of ``pipelines.state.StateStore`` spiders read, from the state the writer publishes
    in Redis when it opens the run and keeps current as it writes. The listing mark is the writer's
    to keep: a worker reads it (it bounds the listing) and moves none (the writer does, at the end)."""

    def __init__(self, crawler: Crawler):
        self.board = board_of(crawler)

    def owner(self, keys: Iterable[str]) -> Record | None:
        for found in self.board.stored(list(keys)):
            if found:
                return Record(**found)
        return None

    def recorded_since_opened(self, record: Record, started: str) -> bool:
        """Whether the writer recorded ``record`` during this crawl (it published its state when the
        crawl opened, and ``first_written`` of a record since is not before the worker started)."""
        return record.first_written >= started

    def known_ids(self, source: str, ids: Iterable[str]) -> set[str]:
        wanted = list(ids)
        found = self.board.stored([f"{source}:{article_id}" for article_id in wanted])
        return {article_id for article_id, record in zip(wanted, found) if record and record["source"] == source}

    def listing_mark(self, source: str) -> int | None:
        return self.board.mark(source)

    def set_listing_mark(self, source: str, newest: int, now: str | None = None, hold_below: int | None = None) -> None:
        pass

    def close(self) -> None:
        pass


class WorkerReport(RunReportExtension):
    """The outcomes this worker saw give its exit status and a summary line; no report file:
    the writer's report covers the whole crawl."""

    def engine_stopped(self) -> None:
        exit_code = self.report.exit_code()
        self.crawler.stats.set_value(EXIT_CODE_STAT, exit_code)
        logger.log(SUMMARY, "Worker: %s; exit status %d (the writer's report covers the crawl)", self.report.summary(), exit_code)
