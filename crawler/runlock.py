"""One run at a time per output folder, without a ``flock`` wrapper in cron.

Runs that share ``OUTPUT_DIR`` share the state database, the reports and the
site checkout, so a slow run must not overlap the next scheduled one. The
extension takes ``RUN_LOCK`` (default ``OUTPUT_DIR/.state/run.lock``) with a
non-blocking ``fcntl.flock`` when the crawler is built, before the spider opens
and so before any request. The kernel drops the lock when the process ends,
however it ends (even SIGKILL): there is no stale lock to clean up, and the
file itself is never removed (removing it would let two runs lock two files).

A run that finds the lock held logs one line (at ``SUMMARY``: always shown),
shows only errors from then on, and asks Scrapy to close the spider with the
reason ``locked`` before it starts: nothing is requested, written, reported or
published, the holder's log and report are untouched, and the run exits with
status 6 (``pipelines.report.EXIT_LOCKED``, set by the run report extension).
A lock file that cannot be opened at all (the checks found its folder creatable,
but the system refused) ends the run the same way, reason ``lock-unusable``,
with one error line and exit status 1.
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path
from typing import IO

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, NotConfigured
from scrapy.spiders import Spider

from crawler.logs import SUMMARY, only_errors_from_now
from pipelines.adapters import state_dir
from pipelines.report import EXIT_LOCKED
from pipelines.state import utc_now

logger = logging.getLogger(__name__)

#: close reason of a run that found the lock held
LOCKED = "locked"
#: close reason of a run that could not open its lock file
UNUSABLE = "lock-unusable"
#: close reasons of runs refused before they started: nothing to report or publish
REFUSED = frozenset({LOCKED, UNUSABLE})


def lock_path(crawler: Crawler) -> Path | None:
    """``RUN_LOCK``: unset → ``OUTPUT_DIR/.state/run.lock``, ``""`` → no lock."""
    setting = crawler.settings.get("RUN_LOCK")
    if setting == "":
        return None
    return Path(setting) if setting else state_dir(crawler) / "run.lock"


class RunLockExtension:
    """Holds ``RUN_LOCK`` for the whole run, or closes a run that cannot get it."""

    def __init__(self, crawler: Crawler, path: Path):
        self.crawler = crawler
        self.path = path
        self.held: IO[str] | None = None
        self.holder = ""
        self.unusable = ""
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.engine_stopped, signal=signals.engine_stopped)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(path, "a+", encoding="utf-8")  # "a+": never truncate the holder's note before locking
        except OSError as exc:
            self.unusable = exc.strerror or str(exc)
            return
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            self.holder = handle.read().strip()
            handle.close()
        else:
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()}, {crawler.spidercls.name} run started {utc_now()}\n")
            handle.flush()
            self.held = handle

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunLockExtension:
        path = lock_path(crawler)
        if path is None:
            raise NotConfigured  # without a message: switched off on purpose, nothing to warn about
        return cls(crawler, path)

    def spider_opened(self, spider: Spider) -> None:
        if self.unusable:
            logger.error("RUN_LOCK %s cannot be opened (%s): this %s run does nothing", self.path, self.unusable, spider.name)
            only_errors_from_now()
            raise CloseSpider(UNUSABLE)
        if self.held is None:
            logger.log(
                SUMMARY, "Another run holds %s (%s): this %s run does nothing and exits with status %d",
                self.path, self.holder or "no details", spider.name, EXIT_LOCKED,
            )
            only_errors_from_now()
            raise CloseSpider(LOCKED)

    def engine_stopped(self) -> None:
        """Release once the run is over: after publishing and the report (this extension comes after
        theirs in ``EXTENSIONS``, so its handler runs last), so that another crawl in the same
        process can take it; the process exit would release it anyway."""
        if self.held is not None:
            fcntl.flock(self.held, fcntl.LOCK_UN)
            self.held.close()
            self.held = None
