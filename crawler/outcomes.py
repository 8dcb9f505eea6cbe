"""How a run records what happened to each article.

Every skip and failure goes three places: the log (with URL and reason), the
crawl stats (``article/skipped/<reason>``, ``article/failed/<reason>``), and a
signal that the run report listens to. Articles that reach the write stage are
recorded the same way (``article/new``, ``article/updated``, ``article/unchanged``).
"""

from __future__ import annotations

import logging
import re

from scrapy.crawler import Crawler
from scrapy.exceptions import CannotResolveHostError, DownloadConnectionRefusedError, DownloadTimeoutError
from twisted.internet.error import ConnectionRefusedError, DNSLookupError, TCPTimedOutError
from twisted.internet.error import TimeoutError as TwistedTimeoutError

logger = logging.getLogger(__name__)

#: sent with ``url``, ``reason``, ``detail``
article_skipped = object()
#: sent with ``url``, ``reason``, ``detail``, ``kind`` (PERMANENT or TRANSIENT)
article_failed = object()
#: sent with ``url``, ``reason``, ``detail`` when a listing page cannot be read
listing_failed = object()
#: sent with ``url``, ``status`` ("new", "updated", "unchanged"), ``path``, ``title``
article_written = object()
#: sent with ``url`` (the image's), ``article`` (its URL), ``reason``, ``detail`` when an image is left remote
image_failed = object()
#: sent with ``status`` ("nothing", "committed", "pushed", "failed"), ``commit``, ``detail``,
#: ``reason`` (of a failure) once the run has handed its files to the site repo
site_published = object()


#: Failure classes: a permanent failure gives the same answer however often it is tried
#: (the article is gone, refused, paid, or not an article); a transient one may go
#: through later (network, 5xx, 429, anti-crawl) and is worth a retry.
PERMANENT = "permanent"
TRANSIENT = "transient"
PERMANENT_REASONS = frozenset({
    "deleted", "violation", "expired", "paid", "not-an-article", "error-page", "share-of-share",
    "missing-url", "missing-title", "missing-time", "missing-content", "missing-id", "missing-file",
    "bad-json", "bad-envelope", "bad-detail", "bad-listing", "api-error", "render", "front-matter", "unsupported",
    "bad-id", "id-mismatch", "bad-time", "bad-item", "unsafe-path",
    "bad-body",  # an infoq body that is no node tree
    "http-400", "http-401", "http-403", "http-404", "http-410", "http-451",
    # refused or unreadable input (crawler.outbound, crawler.inputs, pipelines.limits)
    "disallowed-url", "not-a-file", "too-large", "bad-gzip", "too-deep",
    "bad-line", "list-too-large", "url-too-long",
    # images that are no usable image (pipelines.imagecheck): the same bytes fail the same way
    "empty", "placeholder-image", "html-not-image", "not-an-image", "unsupported-format", "too-many-pixels",
    "corrupt-image",
    # a page of any site that holds no article (crawler.sources.web)
    "no-article",
    # a raw source today's parsers cannot read as the stored article (crawler/rerender.py)
    "unknown-parser", "identity-changed", "bad-raw-source",
    # a stream entry the writer of a distributed crawl cannot read (crawler.distributed.codec)
    "malformed-entry",
})


def failure_class(reason: str) -> str:
    """PERMANENT for reasons a retry cannot cure, else TRANSIENT (unknown reasons are retried: never lost)."""
    return PERMANENT if reason in PERMANENT_REASONS else TRANSIENT


#: Failure names of the download errors an operator meets most (others: their class name, kebab-cased).
ERROR_REASONS: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], str], ...] = (
    ((CannotResolveHostError, DNSLookupError), "dns-error"),
    ((DownloadConnectionRefusedError, ConnectionRefusedError), "connection-refused"),
    ((DownloadTimeoutError, TwistedTimeoutError, TCPTimedOutError), "timeout"),
    (FileNotFoundError, "missing-file"),
    (IsADirectoryError, "not-a-file"),
)


def error_reason(error: BaseException) -> str:
    """The kebab-case failure name of a download error: its own ``reason`` when it carries one
    (exceptions of our middlewares), a known name, or its class name (``ResponseNeverReceived`` →
    ``response-never-received``): a report never names a failure by a Python class."""
    reason = getattr(error, "reason", None)
    if isinstance(reason, str) and reason:
        return reason
    for kinds, name in ERROR_REASONS:
        if isinstance(error, kinds):
            return name
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+", type(error).__name__)
    return "-".join(word.lower() for word in words) or "download-error"


def record_skip(crawler: Crawler, url: str, reason: str, detail: str = "") -> None:
    """A deliberate skip; ``stored`` ones (every run's bulk) are logged at DEBUG only."""
    log = logger.debug if reason == "stored" else logger.info
    log("Skipped %s: %s%s", url, reason, f" ({detail})" if detail else "")
    crawler.stats.inc_value(f"article/skipped/{reason}")
    crawler.signals.send_catch_log(article_skipped, url=url, reason=reason, detail=detail)


def record_failure(crawler: Crawler, url: str, reason: str, detail: str = "") -> None:
    kind = failure_class(reason)
    logger.error("Failed %s: %s%s [%s]", url, reason, f" ({detail})" if detail else "", kind)
    crawler.stats.inc_value(f"article/failed/{reason}")
    crawler.signals.send_catch_log(article_failed, url=url, reason=reason, detail=detail, kind=kind)


def record_listing_failure(crawler: Crawler, url: str, reason: str, detail: str = "") -> None:
    logger.error("Listing %s unreadable: %s%s", url, reason, f" ({detail})" if detail else "")
    crawler.stats.inc_value(f"listing/failed/{reason}")
    crawler.signals.send_catch_log(listing_failed, url=url, reason=reason, detail=detail)


def record_image_failure(crawler: Crawler, url: str, article: str, reason: str, detail: str = "") -> None:
    """An image that stays a remote URL in its (still written) article: logged, counted as
    ``image/failed/<reason>``, listed in the run report. Not an article failure: the exit status stays."""
    logger.warning("Image %s of %s left remote: %s%s", url, article, reason, f" ({detail})" if detail else "")
    crawler.stats.inc_value(f"image/failed/{reason}")
    crawler.signals.send_catch_log(image_failed, url=url, article=article, reason=reason, detail=detail)


def record_written(crawler: Crawler, url: str, status: str, path: str, title: str) -> None:
    """An article that reached its file: created (``new``), rewritten (``updated``) or left as it was."""
    crawler.stats.inc_value(f"article/{status}")
    crawler.signals.send_catch_log(article_written, url=url, status=status, path=path, title=title)


def record_publish(crawler: Crawler, status: str, commit: str = "", detail: str = "", reason: str = "") -> None:
    """How handing the files to the site repo went; a failure carries its kebab-case ``reason``
    (counted as ``publish/failed/<reason>``)."""
    log = logger.error if status == "failed" else logger.info
    log("Site repo: %s%s%s", status, f" {commit}" if commit else "", f" ({detail})" if detail else "")
    crawler.stats.set_value("publish/status", status)
    if status == "failed":
        crawler.stats.inc_value(f"publish/failed/{reason or 'git-error'}")
    crawler.signals.send_catch_log(site_published, status=status, commit=commit, detail=detail, reason=reason)
