"""Distributed runs: the same spiders as workers of one crawl on Redis, and one writer.

``-s REDIS_URL=redis://HOST:PORT/DB`` turns a spider into a *worker*: its request queue and
dupefilter live in Redis (scrapy-redis), it fetches, parses and renders, and hands each rendered
article and each outcome (skip, failure) to the writer through a Redis stream instead of writing
files. ``scrapy writer`` (``crawler.writer``) is the one process that writes: files, state, report,
site repo. Without ``REDIS_URL`` nothing here changes a run, and redis is never imported: the
worker and writer modules (``crawler.distributed.board``, ``.worker``) load only when it is set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.settings import BaseSettings

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from crawler.distributed.worker import StateView
    from pipelines.state import StateStore

#: ``REDIS_ROLE`` of the writer (set by its spider); anything else with ``REDIS_URL`` is a worker.
WRITER = "writer"
#: ``urls_file`` of a worker that reads the URL list ``scrapy enqueue`` pushed to Redis.
QUEUED = "redis:"

#: Signal of a listing spider: one listing page read (``source``, ``newest`` publication time on it,
#: ``requested``: article URL → publication time of those it requested). A worker notes it in Redis
#: for the writer, which moves the listing mark at the crawl's end; in one process nobody listens.
listing_read = object()


def enabled(settings: BaseSettings) -> bool:
    return bool(settings.get("REDIS_URL"))


def is_worker(settings: BaseSettings) -> bool:
    return enabled(settings) and settings.get("REDIS_ROLE") != WRITER


def worker_arguments(settings: BaseSettings, spidercls: type, given: dict[str, Any]) -> dict[str, Any]:
    """A worker of a spider that reads URL lists, given none (``-a urls``/``urls_file``), reads the
    list pushed to the crawl with ``scrapy enqueue`` (``urls_file`` = ``QUEUED``)."""
    takes = {spec.name for spec in getattr(spidercls, "arguments", ())}
    if is_worker(settings) and "urls_file" in takes and not {"urls", "urls_file"} & set(given):
        return {**given, "urls_file": QUEUED}
    return given


def state_store(crawler: Crawler) -> StateStore | StateView:
    """What a spider asks "was this written before?": the writer's state as published in Redis for a
    worker (which may run on another machine and writes no file), else the SQLite state."""
    if is_worker(crawler.settings):
        from crawler.distributed.worker import StateView

        return StateView(crawler)
    from pipelines.adapters import state_path
    from pipelines.state import StateStore

    return StateStore(state_path(crawler))


#: Components a worker runs without (they write files) and those it runs instead.
WORKER_OFF = {
    "ITEM_PIPELINES": (
        "pipelines.adapters.DedupePipeline",
        "pipelines.adapters.ArchivePipeline",  # the writer keeps the raw source: it travels with the item
        "pipelines.adapters.WritePipeline",
    ),
    "EXTENSIONS": (
        "crawler.extensions.PublishExtension",
        "crawler.extensions.RunReportExtension",
        "crawler.runlock.RunLockExtension",
    ),
}
WORKER_ON = {
    "ITEM_PIPELINES": {"crawler.distributed.worker.HandoffPipeline": 800},
    "EXTENSIONS": {"crawler.distributed.worker.WorkerReport": 510, "crawler.distributed.worker.WorkerExtension": 600},
    "SPIDER_MIDDLEWARES": {"crawler.distributed.worker.WorkerStartMiddleware": 50},
}
#: The writer does not render (workers did), and its report covers the whole crawl (the ledger).
WRITER_OFF = {"ITEM_PIPELINES": ("pipelines.adapters.RenderPipeline",), "EXTENSIONS": ("crawler.extensions.RunReportExtension",)}
WRITER_ON = {"EXTENSIONS": {"crawler.distributed.ledger.WriterReport": 510}}


class DistributedAddon:
    """With ``REDIS_URL``, reconfigures a run as a worker (or, for ``scrapy writer``, the writer)."""

    def update_settings(self, settings: BaseSettings) -> None:
        if not enabled(settings):
            return
        if settings.get("REDIS_ROLE") == WRITER:
            switch(settings, WRITER_OFF, WRITER_ON)
            return
        switch(settings, WORKER_OFF, WORKER_ON)
        prefix = settings.get("REDIS_KEY_PREFIX")
        settings.set("SCHEDULER", "crawler.distributed.worker.RedisScheduler", priority="addon")
        settings.set("SCHEDULER_QUEUE_CLASS", "crawler.distributed.worker.ReliableQueue", priority="addon")
        settings.set("SCHEDULER_QUEUE_KEY", f"{prefix}:%(spider)s:requests", priority="addon")
        settings.set("SCHEDULER_DUPEFILTER_KEY", f"{prefix}:%(spider)s:dupefilter", priority="addon")
        settings.set("DUPEFILTER_CLASS", "scrapy_redis.dupefilter.RFPDupeFilter", priority="addon")
        # the queue and dupefilter belong to the crawl, not to one worker: the writer clears them at its end
        settings.set("SCHEDULER_PERSIST", True, priority="addon")


def switch(settings: BaseSettings, off: dict[str, tuple[str, ...]], on: dict[str, dict[str, int]]) -> None:
    for name, paths in off.items():
        for path in paths:
            settings[name][path] = None
    for name, components in on.items():
        for path, order in components.items():
            settings[name][path] = order
