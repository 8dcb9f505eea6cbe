"""What every article spider shares: outcome recording, the state of what was written (and
skipping it), hosts given up on, URL lists, typed arguments (``crawler.arguments``), the site
repo argument and the offline demo switch."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import scrapy
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler import distributed, inputs, outcomes
from crawler.arguments import SITE_REPO, Argument, parse_arguments
from crawler.hostguard import NOT_ATTEMPTED, HostBackedOff, HostGuard
from crawler.outbound import DisallowedURL, list_setting
from crawler.replay import ReplayServer
from crawler.savedpage import TOO_LARGE
from crawler.sources import SourceError, SourceSkip
from pipelines.article import Article
from pipelines.state import StateStore, utc_now

if TYPE_CHECKING:
    from crawler.distributed.worker import StateView

PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: Recorded responses the ``-a demo=1`` switch replays, per spider.
DEMO_ROUTES = PROJECT_ROOT / "demo"
#: Priority of a listing's next page: below the articles it listed, so the crawl reads the next page only
#: once the scheduler holds none of them. Scrapy's queue is last-in-first-out: at the default priority the
#: next page (yielded last) went first, the listing ran ahead of the articles and every article of the run
#: waited in memory as a request (peak RSS growing with the run's size).
LISTING_PRIORITY = -1


class ArticleSpider(scrapy.Spider):
    """Base for source spiders.

    ``-a demo=1`` starts a local replay server on the bundled recorded responses
    (``demo/<spider name>.json``) for the length of the crawl, so the spider runs
    offline; subclasses point their source at ``self.demo_url``.
    ``-a site_repo=PATH`` is the ``SITE_REPO`` setting for this run.
    ``arguments`` lists the ``-a`` arguments a spider takes (``crawler.arguments``; anything
    else is refused) and ``required_arguments`` groups of which one must be given; the
    spider's ``__init__`` receives them typed.
    ``self.store`` is the store of articles already written (read here, written by the pipelines);
    not ``state``, which Scrapy gives spiders for JOBDIR pause/resume. Stored articles are
    skipped (``stored``) unless ``self.refresh`` (the spiders' ``refresh`` switch).
    ``self.hostguard`` holds the hosts this run gave up on (``crawler.hostguard``); URLs left
    for them are reported ``not-attempted`` and listed again when the run ends.
    """

    arguments: tuple[Argument, ...] = (SITE_REPO,)
    required_arguments: tuple[tuple[str, ...], ...] = ()
    demo_server: ReplayServer | None = None
    store: StateStore | StateView
    hostguard: HostGuard
    not_attempted: list[str]  #: URLs left for backed-off hosts, listed again when the run ends
    listed_keys: set[str]  #: articles (or URLs) a list named so far (``first_listed``)
    #: fetch stored articles again (to pick up upstream edits) instead of skipping them
    refresh: bool = False
    started: str  #: when the run began (``utc_now()``): "stored" means stored by an earlier run
    #: the ``-a`` arguments as given, for the run report
    given_arguments: dict[str, Any]
    #: how many URLs a spider reading a list was given (progress lines show done/total), else None
    url_total: int | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> ArticleSpider:
        given = dict(kwargs)  # as the operator wrote them, for the run report
        kwargs = parse_arguments(cls, distributed.worker_arguments(crawler.settings, cls, given))
        if kwargs.get("urls_file") not in (None, "", distributed.QUEUED):  # a refused list ends the run before anything starts
            inputs.check_url_list(kwargs["urls_file"], crawler.settings.getint("URL_LIST_MAXSIZE"))
        if kwargs.get("site_repo"):  # settings freeze only after the spider exists
            crawler.settings.set("SITE_REPO", kwargs["site_repo"], priority="cmdline")
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.given_arguments = given
        spider.store = distributed.state_store(crawler)  # a worker's: the writer's state, from Redis
        spider.started = utc_now()
        spider.hostguard = HostGuard(crawler)
        spider.not_attempted = []
        spider.listed_keys = set()
        crawler.signals.connect(spider.close_state, signal=signals.spider_closed)
        if kwargs.get("demo"):
            # the replay server listens on 127.0.0.1, which crawler.outbound refuses unless allowed
            networks = list_setting(crawler.settings, "ALLOWED_PRIVATE_NETWORKS")
            crawler.settings.set("ALLOWED_PRIVATE_NETWORKS", [*networks, "127.0.0.1/32"], priority="cmdline")
            spider.demo_server = ReplayServer(DEMO_ROUTES / f"{spider.name}.json")
            spider.demo_server.start()
            spider.logger.info("Demo: replaying recorded responses from %s", spider.demo_server.url)
            crawler.signals.connect(spider.stop_demo, signal=signals.spider_closed)
        return spider

    def job_state(self) -> dict[str, Any] | None:
        """Scrapy's ``spider.state`` when the run has a ``JOBDIR`` (saved when the spider closes,
        loaded again when the job resumes, from ``spider_opened`` on), else None."""
        return getattr(self, "state", None)

    @property
    def demo_url(self) -> str | None:
        return self.demo_server.url if self.demo_server else None

    def stop_demo(self) -> None:
        if self.demo_server:
            self.demo_server.stop()

    def close_state(self) -> None:
        self.store.close()

    def article_from(self, response: Response, parse: Callable[[Response], Article]) -> Iterator[Article]:
        """The article ``parse`` makes of ``response``, or its skip or failure recorded."""
        url = response.meta.get("article_url", response.url)
        try:
            yield parse(response)
        except SourceSkip as exc:
            self.skip(url, exc.reason, exc.detail)
        except SourceError as exc:
            self.fail(url, exc.reason, exc.detail)

    def skip(self, url: str, reason: str, detail: str = "") -> None:
        outcomes.record_skip(self.crawler, url, reason, detail)

    def fail(self, url: str, reason: str, detail: str = "") -> None:
        outcomes.record_failure(self.crawler, url, reason, detail)

    def request_failed(self, failure: Failure) -> None:
        """Errback: a request that never gave a usable response (HTTP error after retries, DNS, timeout,
        a missing saved file, a backed-off host…), recorded under a kebab-case name."""
        request = failure.request  # type: ignore[attr-defined]
        url = request.meta.get("article_url", request.url)
        if isinstance(failure.value, HostBackedOff) and not request.meta.get("listing", False):
            self.report_not_attempted(url, str(failure.value))
            return
        response = getattr(failure.value, "response", None)
        detail = failure.getErrorMessage()
        if isinstance(failure.value, (SourceError, DisallowedURL)):  # refused or unreadable, already named
            reason, detail = failure.value.reason, failure.value.detail
        elif inputs.over_download_maxsize(failure.value):
            reason = TOO_LARGE
        elif response is not None:
            reason = f"http-{response.status}"
        else:
            reason = outcomes.error_reason(failure.value)
        on_listing = request.meta.get("listing", False)
        record = outcomes.record_listing_failure if on_listing else outcomes.record_failure
        record(self.crawler, url, reason, detail)

    def request_gone(self, request: Request) -> None:
        """A request Scrapy dropped before any callback or errback (``crawler.dropped`` recorded why):
        spiders that count outstanding requests release it here."""

    # --- stored articles ---------------------------------------------------------------------------

    def stored(self, url: str, keys: list[str]) -> bool:
        """Whether an earlier run wrote the article (it is then skipped as ``stored``, unless ``refresh``).
        One written by this very run is left to the dedupe pipeline, whose answer does not depend
        on which request came back first."""
        if self.refresh:
            return False
        owner = self.store.owner(keys)
        if owner is None or self.store.recorded_since_opened(owner, self.started):
            return False
        self.skip(url, "stored", f"already written as {owner.key} ({owner.path})")
        return True

    def unless_stored(self, response: Response, results: Iterable[Any]) -> Iterator[Any]:
        """``results`` without articles already stored (known only once a page or saved file is read)."""
        for result in results:
            if isinstance(result, Article) and self.stored(response.meta.get("article_url", response.url), [result.key, *result.aliases]):
                continue
            yield result

    # --- hosts given up on -------------------------------------------------------------------------

    def host_of(self, url: str) -> str:
        """The host (netloc) ``url`` is fetched from."""
        return urlsplit(url).netloc

    def is_backed_off(self, url: str) -> bool:
        return self.hostguard.why(self.host_of(url)) is not None

    def report_not_attempted(self, url: str, detail: str = "") -> None:
        self.not_attempted.append(url)
        host = self.host_of(url)
        self.fail(url, NOT_ATTEMPTED, detail or f"host {host} backed off ({self.hostguard.why(host)}); retry in a later run")

    #: how the end-of-run line tells an operator to retry what was not attempted (the URLs follow)
    retry_hint = "backfill them later (the run's retry file lists them): "

    def log_not_attempted(self) -> None:
        if self.not_attempted:
            self.logger.warning(
                "%d URL(s) not attempted after their host was backed off; %s%s",
                len(self.not_attempted), self.retry_hint, ",".join(self.not_attempted),
            )

    def closed(self, reason: str) -> None:
        self.log_not_attempted()

    # --- URL lists ---------------------------------------------------------------------------------

    def first_listed(self, key: str) -> bool:
        """Whether ``key`` (an article's identity, or a URL) is named by no earlier line of the list:
        a repeated article is reported, not fetched twice. Workers ask the crawl (they share one list)."""
        if distributed.is_worker(self.settings):
            from crawler.distributed.worker import board_of

            return board_of(self.crawler).first_listed(self.name, key)
        if key in self.listed_keys:
            return False
        self.listed_keys.add(key)
        return True

    def count_listed(self, path: str) -> int | None:
        """How many entries (URLs and bad lines: one outcome each) the list at ``path`` holds, read
        once ahead of the run for the progress lines' total; None for stdin or a list refused."""
        if path in (inputs.STDIN, distributed.QUEUED):
            return None
        maxsize = self.settings.getint("URL_LIST_MAXSIZE")
        try:
            stream = inputs.open_url_list(path, maxsize)
        except inputs.ListRefused:
            return None
        with stream:
            return sum(1 for _ in inputs.read_url_list(stream, path, self.settings.getint("URL_LIST_MAX_LINE"), maxsize))

    async def listed_urls(self, path: str) -> AsyncIterator[str]:
        """The URLs and paths of the list at ``path`` (``-``: stdin), read a line at a time off the
        reactor thread (a slow pipe must not stall the crawl); lines that are no URL fail
        ``bad-line`` and a list past ``URL_LIST_MAXSIZE`` ends with ``list-too-large``."""
        if path == distributed.QUEUED:  # a worker: the lines ``scrapy enqueue`` pushed, shared by all workers
            from crawler.distributed.worker import pushed_urls

            async for line in pushed_urls(self):
                yield line
            return
        maxsize = self.settings.getint("URL_LIST_MAXSIZE")
        try:
            stream = inputs.open_url_list(path, maxsize)
        except inputs.ListRefused as exc:
            self.fail(path, exc.reason, str(exc))
            return
        name = "stdin" if path == inputs.STDIN else path
        entries = inputs.read_url_list(stream, name, self.settings.getint("URL_LIST_MAX_LINE"), maxsize)
        try:
            while (entry := await asyncio.to_thread(next, entries, None)) is not None:
                if isinstance(entry, inputs.ListFailure):
                    self.fail(entry.where, entry.reason, entry.detail)
                else:
                    yield entry
        except OSError as exc:  # the file or pipe failed under us (I/O error): the rest is unread, and said so
            self.fail(name, inputs.UNREADABLE_LIST, f"reading stopped: {exc}")
        finally:
            if path != inputs.STDIN:
                stream.close()


class GivenUrls(ArticleSpider):
    """A spider reading the articles it is given: ``-a urls=`` items, then ``-a urls_file=`` lines
    (``wechat``, ``web``; ``backfill`` takes a list only)."""

    def __init__(self, urls: str = "", urls_file: str = "", refresh: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        if not urls.strip(" ,") and not urls_file:
            raise ValueError("give the articles with -a urls=URL[,URL…] or -a urls_file=FILE")
        self.urls = urls
        self.urls_file = urls_file
        self.refresh = refresh

    async def count_given(self) -> None:
        """Set the progress lines' total: the items plus the list's entries (unknown for stdin)."""
        listed = await asyncio.to_thread(self.count_listed, self.urls_file) if self.urls_file else 0
        self.url_total = None if listed is None else sum(1 for _ in inputs.split_urls(self.urls)) + listed

    async def given_urls(self) -> AsyncIterator[str]:
        """The ``-a urls=`` items, then the ``-a urls_file=`` lines, as URLs (paths made ``file://``)."""
        for entry in inputs.split_urls(self.urls):
            if isinstance(entry, inputs.ListFailure):
                self.fail(entry.where, entry.reason, entry.detail)
            else:
                yield inputs.as_url(entry)
        if self.urls_file:
            async for entry in self.listed_urls(self.urls_file):
                yield inputs.as_url(entry)
