"""The writer's report of a distributed crawl: every outcome, whichever writer process saw it.

A writer killed midway and started again is a new process with empty stats; the crawl's report
must still list every article. So each outcome the writer records (its own writes and dedupe
skips, and the skips and failures workers forwarded) goes to the crawl's ledger in Redis
(``crawler.distributed.board``) at once, and the report and its counters are built from the
ledger when the writer ends. An outcome recorded again (an entry redelivered after a kill: the
article then found ``unchanged``) is kept once, as first recorded.
"""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.distributed import WRITER
from crawler.distributed.board import Board
from crawler.extensions import RunReportExtension

#: stats counters that count outcomes (``crawler.outcomes``): rebuilt from the ledger
COUNTED = ("article/new", "article/updated", "article/unchanged", "article/skipped/", "article/failed/",
           "listing/failed/", "image/failed/")


def identity(kind: str, fields: dict[str, Any]) -> str:
    """What makes an outcome the same one recorded again: an article's file is written once per
    crawl whatever its status; a skip or failure is one per URL and reason."""
    if kind == "written":
        return f"written {fields['path']}"
    if kind == "image_failed":
        return f"image_failed {fields['article']} {fields['url']} {fields['reason']}"
    return f"{kind} {fields['url']} {fields['reason']}"


def stat_of(kind: str, fields: dict[str, Any]) -> str:
    """The stats counter ``crawler.outcomes`` increments for this outcome."""
    return {
        "written": f"article/{fields.get('status')}",
        "skipped": f"article/skipped/{fields.get('reason')}",
        "failed": f"article/failed/{fields.get('reason')}",
        "listing_failed": f"listing/failed/{fields.get('reason')}",
        "image_failed": f"image/failed/{fields.get('reason')}",
    }[kind]


class WriterReport(RunReportExtension):
    """The run report extension of ``scrapy writer``: outcomes go to the crawl's ledger, and the
    report (lists, counters, exit status) is the ledger's when the writer ends. The crawl's keys
    are cleared only after that report is saved (``WriterSpider.crawl_done``)."""

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.board = Board.from_settings(crawler.settings)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WriterReport:
        if crawler.settings.get("REDIS_ROLE") != WRITER:
            raise NotConfigured
        return cls(crawler)

    def note(self, kind: str, fields: dict[str, Any]) -> None:
        self.board.note_outcome(identity(kind, fields), {"kind": kind, "fields": fields})

    def written(self, url: str, status: str, path: str, title: str) -> None:
        self.note("written", dict(url=url, status=self.in_this_crawl(status, path), path=path, title=title))

    def in_this_crawl(self, status: str, path: str) -> str:
        """``unchanged`` for a file this crawl wrote before (a killed writer wrote it, then died before
        noting it here) is what that write was: ``new`` or ``updated`` since the crawl began."""
        if status != "unchanged":
            return status
        row = self.crawler.spider.store.db.execute(
            "SELECT first_written, last_changed FROM articles WHERE path = ?", (path,)).fetchone()
        began = self.board.began()
        if row is None or not began:
            return status
        return "new" if row[0] >= began else "updated" if row[1] >= began else status

    def skipped(self, url: str, reason: str, detail: str) -> None:
        self.note("skipped", dict(url=url, reason=reason, detail=detail))

    def failed(self, url: str, reason: str, detail: str, kind: str) -> None:
        self.note("failed", dict(url=url, reason=reason, detail=detail, kind=kind))

    def listing_failed(self, url: str, reason: str, detail: str) -> None:
        self.note("listing_failed", dict(url=url, reason=reason, detail=detail))

    def image_failed(self, url: str, article: str, reason: str, detail: str) -> None:
        self.note("image_failed", dict(url=url, article=article, reason=reason, detail=detail))

    def engine_stopped(self) -> None:
        self.load_ledger()
        super().engine_stopped()
        spider = self.crawler.spider
        if getattr(spider, "crawl_done", False):
            self.board.finish_run()
            spider.logger.info("Crawl done: run closed, its keys cleared")

    def load_ledger(self) -> None:
        """The report's lists and the outcome counters as the ledger holds them (the whole crawl)."""
        stats = self.crawler.stats
        counts = {name: value for name, value in stats.get_stats().items() if not name.startswith(COUNTED)}
        for entry in self.board.outcomes():
            kind, fields = entry["kind"], entry["fields"]
            getattr(super(), kind)(**fields)
            name = stat_of(kind, fields)
            counts[name] = counts.get(name, 0) + 1
        counts["listing/pages"] = self.board.pages_read()  # read by the workers, not here
        stats.set_stats(counts)
