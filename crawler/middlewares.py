"""Downloader middlewares."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from scrapy import Request
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Response
from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (delta-seconds or HTTP date), or None."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retry, but waiting before each retry: ``Retry-After`` when the server
    sends one, else exponential backoff (``RETRY_BACKOFF_BASE`` doubling, capped at
    ``RETRY_BACKOFF_MAX``). Only the retried request waits; others proceed."""

    def __init__(self, settings: BaseSettings):
        super().__init__(settings)
        self.backoff_base = settings.getfloat("RETRY_BACKOFF_BASE", 2.0)
        self.backoff_max = settings.getfloat("RETRY_BACKOFF_MAX", 120.0)

    def backoff(self, retry: Request, response: Response | None = None) -> float:
        asked = retry_after_seconds(response.headers.get("Retry-After")) if response is not None else None
        if asked is not None:
            return min(asked, self.backoff_max)
        attempt = max(1, retry.meta.get("retry_times", 1))
        return min(self.backoff_base * 2 ** (attempt - 1), self.backoff_max)

    async def _wait(self, retry: Request, delay: float, why: str) -> None:
        if delay > 0:
            logger.info("Backing off %.1fs before retrying %s (%s)", delay, retry.url, why)
            self.crawler.stats.inc_value("retry/backoff_seconds", delay)
            await asyncio.sleep(delay)

    async def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        result = super().process_response(request, response)
        if isinstance(result, Request):
            await self._wait(result, self.backoff(result, response), f"HTTP {response.status}")
        return result

    async def process_exception(self, request: Request, exception: Exception) -> Request | Response | None:  # type: ignore[override]
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            await self._wait(result, self.backoff(result), type(exception).__name__)
        return result


#: Download slot of ``file://`` requests (saved pages): its delay and concurrency are in ``DOWNLOAD_SLOTS``.
LOCAL_FILES_SLOT = "local-files"


class LocalFilesMiddleware:
    """Saved pages (``file://``) are read, not fetched: no politeness delay (their own download slot,
    ``LOCAL_FILES_SLOT``, which AutoThrottle leaves alone) and no retries (a missing file stays
    missing: it fails once, ``missing-file``)."""

    def process_request(self, request: Request) -> None:
        if request.url.startswith("file:"):
            request.meta["download_slot"] = LOCAL_FILES_SLOT
            request.meta["dont_retry"] = True
            request.meta["autothrottle_dont_adjust_delay"] = True
