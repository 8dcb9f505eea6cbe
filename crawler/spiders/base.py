"""What every article spider shares: outcome recording, the state of what was written,
the site repo argument and the offline demo switch."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler import outcomes
from crawler.outbound import DisallowedURL, list_setting
from crawler.replay import ReplayServer
from crawler.sources import SourceError, SourceSkip
from pipelines.adapters import state_path
from pipelines.article import Article
from pipelines.state import StateStore

PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: Recorded responses the ``-a demo=1`` switch replays, per spider.
DEMO_ROUTES = PROJECT_ROOT / "demo"


def flag(value: Any) -> bool:
    """A ``-a name=value`` switch: 1/true/yes/on are true."""
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


class ArticleSpider(scrapy.Spider):
    """Base for source spiders.

    ``-a demo=1`` starts a local replay server on the bundled recorded responses
    (``demo/<spider name>.json``) for the length of the crawl, so the spider runs
    offline; subclasses point their source at ``self.demo_url``.
    ``-a site_repo=PATH`` is the ``SITE_REPO`` setting for this run.
    ``self.store`` is the store of articles already written (read here, written by the pipelines);
    not ``state``, which Scrapy gives spiders for JOBDIR pause/resume.
    """

    demo_server: ReplayServer | None = None
    store: StateStore

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> ArticleSpider:
        if kwargs.get("site_repo"):  # settings freeze only after the spider exists
            crawler.settings.set("SITE_REPO", kwargs["site_repo"], priority="cmdline")
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.store = StateStore(state_path(crawler))
        crawler.signals.connect(spider.close_state, signal=signals.spider_closed)
        if flag(kwargs.get("demo", "")):
            # the replay server listens on 127.0.0.1, which crawler.outbound refuses unless allowed
            networks = list_setting(crawler.settings, "ALLOWED_PRIVATE_NETWORKS")
            crawler.settings.set("ALLOWED_PRIVATE_NETWORKS", [*networks, "127.0.0.1/32"], priority="cmdline")
            spider.demo_server = ReplayServer(DEMO_ROUTES / f"{spider.name}.json")
            spider.demo_server.start()
            spider.logger.info("Demo: replaying recorded responses from %s", spider.demo_server.url)
            crawler.signals.connect(spider.stop_demo, signal=signals.spider_closed)
        return spider

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
        """Errback: a request that never gave a usable response (HTTP error after retries, DNS, timeout…)."""
        request = failure.request  # type: ignore[attr-defined]
        response = getattr(failure.value, "response", None)
        detail = failure.getErrorMessage()
        if isinstance(failure.value, (SourceError, DisallowedURL)):  # refused or unreadable, already named
            reason, detail = failure.value.reason, failure.value.detail
        elif response is not None:
            reason = f"http-{response.status}"
        else:
            reason = type(failure.value).__name__
        on_listing = request.meta.get("listing", False)
        record = outcomes.record_listing_failure if on_listing else outcomes.record_failure
        record(self.crawler, request.meta.get("article_url", request.url), reason, detail)
