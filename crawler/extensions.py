"""Scrapy extensions for the end of a run: the run report and the site repo hand-off.

Thin adapters: ``pipelines.report`` and ``pipelines.publish`` do the work.
The site repo is updated when the spider closes; the report is completed after
that (``engine_stopped``), so it includes how publishing went.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.settings import SETTINGS_PRIORITIES, BaseSettings, Settings
from scrapy.spiders import Spider
from twisted.python.failure import Failure

from crawler import outcomes
from crawler.logs import SUMMARY
from crawler.runlock import LOCKED, REFUSED
from crawler.spiders.base import ArticleSpider
from pipelines.adapters import output_root, state_dir, state_path
from pipelines.article import Article
from pipelines.publish import Change, PublishConfig, PublishError, publish
from pipelines.report import EXIT_BAD_SETUP, EXIT_LOCKED, PERMANENT, TRANSIENT, RunReport, masked_all, prune_reports
from pipelines.state import StateStore, utc_now

logger = logging.getLogger(__name__)

#: stat the ``crawl`` command turns into the process exit status
EXIT_CODE_STAT = "run/exit_code"


def changed_settings(settings: BaseSettings) -> dict[str, Any]:
    """The settings whose value differs from the project's (its settings module, ``crawler/settings.py``,
    over Scrapy's defaults): what this run was given with ``-s``, the environment or the spider.
    A value equal once written as text (``-s RETRY_TIMES=4``) is not a change."""
    project = Settings()
    module = settings.get("SETTINGS_MODULE") or "crawler.settings"
    project.setmodule(module, priority="project")
    project.set("SETTINGS_MODULE", module)

    def plain(value: Any) -> Any:
        return value.copy_to_dict() if isinstance(value, BaseSettings) else value

    changed = {}
    # Only names given above Scrapy's defaults: reading the others would also trip their deprecation warnings.
    for name in (n for n in settings if (settings.getpriority(n) or 0) > SETTINGS_PRIORITIES["default"]):
        value, default = plain(settings[name]), plain(project.get(name))
        if value != default and str(value) != str(default):
            changed[name] = value
    return changed


class RunReportExtension:
    """Collects every outcome of the run; at the end saves the report (``REPORTS_DIR``),
    prunes old ones, logs the summary (at ``SUMMARY``: always shown) and sets the exit status."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.report = RunReport(spider=crawler.spidercls.name)
        self.clock = time.monotonic()
        self.folder = Path(crawler.settings.get("REPORTS_DIR") or state_dir(crawler) / "reports")
        connect = crawler.signals.connect
        connect(self.written, signal=outcomes.article_written)
        connect(self.skipped, signal=outcomes.article_skipped)
        connect(self.failed, signal=outcomes.article_failed)
        connect(self.listing_failed, signal=outcomes.listing_failed)
        connect(self.image_failed, signal=outcomes.image_failed)
        connect(self.published, signal=outcomes.site_published)
        connect(self.spider_error, signal=signals.spider_error)
        connect(self.item_error, signal=signals.item_error)
        connect(self.spider_closed, signal=signals.spider_closed)
        connect(self.engine_stopped, signal=signals.engine_stopped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunReportExtension:
        if not issubclass(crawler.spidercls, ArticleSpider):
            raise NotConfigured("not an article run (e.g. scrapy shell)")
        return cls(crawler)

    def written(self, url: str, status: str, path: str, title: str) -> None:
        self.report.add_written(status, url, path, title)

    def skipped(self, url: str, reason: str, detail: str) -> None:
        self.report.skipped.append({"url": url, "reason": reason, "detail": detail})

    def failed(self, url: str, reason: str, detail: str, kind: str) -> None:
        self.report.add_failed(url, reason, detail, kind)

    def listing_failed(self, url: str, reason: str, detail: str) -> None:
        self.report.listing_failed.append({"url": url, "reason": reason, "detail": detail})

    def image_failed(self, url: str, article: str, reason: str, detail: str) -> None:
        self.report.images_failed.append({"url": url, "article": article, "reason": reason, "detail": detail})

    def published(self, status: str, commit: str, detail: str) -> None:
        self.report.publish = {"status": status, "commit": commit, "detail": detail}

    def spider_error(self, failure: Failure, response: Response, spider: Spider) -> None:
        """A callback raised: the page it was reading counts as failed, under the exception's name."""
        on_listing = response.meta.get("listing", False)
        record = outcomes.record_listing_failure if on_listing else outcomes.record_failure
        record(self.crawler, response.meta.get("article_url", response.url), failure.type.__name__, failure.getErrorMessage())

    def item_error(self, item: Any, response: Response | None, spider: Spider, failure: Failure) -> None:
        url = item.url if isinstance(item, Article) else response.url if response is not None else ""
        outcomes.record_failure(self.crawler, url, failure.type.__name__, failure.getErrorMessage())

    def spider_closed(self, spider: Spider, reason: str) -> None:
        self.report.finish_reason = reason
        self.report.arguments = masked_all(getattr(spider, "given_arguments", {}))
        if reason in REFUSED:  # refused by the run lock (crawler.runlock): this run did nothing to report
            self.crawler.stats.set_value(EXIT_CODE_STAT, EXIT_LOCKED if reason == LOCKED else EXIT_BAD_SETUP)

    def engine_stopped(self) -> None:
        if self.report.finish_reason in REFUSED:
            return  # a refused run reports nothing (Scrapy signals this only for an engine it started anyway)
        report = self.report
        report.finished = utc_now()
        report.duration = time.monotonic() - self.clock
        report.settings = masked_all(changed_settings(self.crawler.settings))
        stats = self.crawler.stats.get_stats()
        report.pages_read = int(stats.get("listing/pages", 0))
        report.stats = {name: stats[name] for name in sorted(stats)}
        exit_code = report.exit_code()
        try:
            path, retry = report.save(self.folder)
        except OSError as exc:
            logger.error("Run report not saved in %s: %s", self.folder, exc)
            path, retry, exit_code = None, None, exit_code or EXIT_BAD_SETUP
        else:
            self.prune()
        self.crawler.stats.set_value(EXIT_CODE_STAT, exit_code)
        lines = [f"{report.summary()}; exit status {exit_code}", f"  report: {path or 'NOT SAVED'}"]
        lines += self.retry_lines(retry)
        logger.log(SUMMARY, "\n".join(lines))

    def retry_lines(self, retry: Path | None) -> list[str]:
        """How many failed articles a later run can get, and the command that does it."""
        failed = self.report.failed
        if not failed:
            return []
        kinds = self.report.failed_by_kind()
        permanent = Counter(e["reason"] for e in failed if e.get("kind") == PERMANENT)
        why = f" ({', '.join(f'{r} {n}' for r, n in sorted(permanent.items()))})" if permanent else ""
        if not kinds[TRANSIENT]:
            return [f"  retry: none of the {len(failed)} failure(s) is worth retrying: all permanent{why}"]
        how = f"scrapy crawl backfill -a urls_file={retry}" if retry else "(retry file not saved)"
        line = f"  retry: {kinds[TRANSIENT]} transient failure(s) can be retried with: {how}"
        return [line + (f"; {kinds[PERMANENT]} permanent failure(s) left out{why}" if permanent else "")]

    def prune(self) -> None:
        settings = self.crawler.settings
        try:
            prune_reports(self.folder, self.report.spider, settings.getint("REPORTS_KEEP"), settings.getfloat("REPORTS_MAX_AGE_DAYS"))
        except OSError as exc:
            logger.error("Old run reports not pruned in %s: %s", self.folder, exc)


class PublishExtension:
    """With ``SITE_REPO`` set (setting or ``-a site_repo=``), commits and pushes the
    run's files when the spider closes: the ones it wrote, and those the state store
    lists as written but not yet published (by a run that failed or was killed)."""

    def __init__(self, crawler: Crawler, config: PublishConfig):
        self.crawler = crawler
        self.config = config
        self.changes: list[Change] = []
        crawler.signals.connect(self.written, signal=outcomes.article_written)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PublishExtension:
        settings = crawler.settings
        if not settings.get("SITE_REPO"):
            raise NotConfigured("SITE_REPO not set")
        folder = settings.get("ARTICLE_PATH").split("{")[0].rsplit("/", 1)[0] or "."
        config = PublishConfig(
            repo=output_root(crawler),
            paths=(folder,),
            remote=settings.get("SITE_REMOTE"),
            branch=settings.get("SITE_BRANCH"),
            author=settings.get("SITE_COMMIT_AUTHOR"),
            attempts=settings.getint("SITE_PUSH_ATTEMPTS"),
            backoff=settings.getfloat("SITE_PUSH_BACKOFF"),
            stale_lock=settings.getfloat("SITE_STALE_LOCK_SECONDS"),
        )
        return cls(crawler, config)

    def written(self, url: str, status: str, path: str, title: str) -> None:
        if status != "unchanged":
            self.changes.append(Change(status, path, title, url))

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        if reason in REFUSED:  # another run holds the run lock and the site checkout: leave both to it
            return
        state = StateStore(state_path(self.crawler))
        try:
            paths = sorted({change.path for change in self.changes} | set(state.unpublished()))
            try:
                result = await asyncio.to_thread(publish, self.config, self.changes, paths)
            except PublishError as exc:
                outcomes.record_publish(self.crawler, "failed", detail=f"{exc.reason}: {exc}", reason=exc.reason)
                return
            except OSError as exc:  # no git, or the repo path is gone
                outcomes.record_publish(self.crawler, "failed", detail=f"git-error: {exc}", reason="git-error")
                return
            state.mark_published(paths)
        finally:
            state.close()
        detail = f"{result.attempts} push attempt(s)" if result.attempts else ""
        outcomes.record_publish(self.crawler, result.status, result.commit, detail)
