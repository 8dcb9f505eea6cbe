"""Images the site owns (``IMAGES_MODE = "localize"``): downloaded into the article's Hugo page bundle.

A FilesPipeline subclass, so images go through Scrapy's own downloader like every other
request: the outbound guard (no private addresses unless ``ALLOWED_PRIVATE_NETWORKS``), the
retries with backoff, the host guard and the politeness settings apply, and a URL two
articles share is fetched once per run. Bytes are kept exactly as served (ImagesPipeline would
re-encode them to JPEG); ``pipelines.imagecheck`` decides whether they are an image at all.

Each file is named by its content hash and real format and written atomically beside the
article's ``index.md``; what became of each URL is kept in the state (``images`` table), so a
rerun requests only what it does not have yet and a re-render needs no network. A failed image
keeps its remote URL in the article, which is still written; the failure is logged, counted as
``image/failed/<reason>`` and listed in the run report (``images_failed``).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.http.request import NO_CALLBACK
from scrapy.pipelines.files import FilesPipeline
from scrapy.pipelines.media import MediaPipeline, _MediaRequestFiltered
from twisted.python.failure import Failure

from crawler import inputs
from crawler.outcomes import PERMANENT, error_reason, failure_class, record_image_failure
from crawler.savedpage import TOO_LARGE
from pipelines.adapters import output_path, output_root, render_config, state_path
from pipelines.article import Article
from pipelines.clean import destination
from pipelines.imagecheck import ImageRejected, check_image
from pipelines.images import ImageRewriter, article_image_urls
from pipelines.paths import UnsafePath
from pipelines.state import StateStore
from pipelines.thumbnails import make_thumbnail
from pipelines.write import write_bytes_atomic

logger = logging.getLogger(__name__)

LOCALIZE = "localize"
REWRITE = "rewrite"
MODES = (REWRITE, LOCALIZE)


class ImageFailed(_MediaRequestFiltered):
    """One image that is not in the bundle, and why (``reason``). A subclass of Scrapy's "filtered"
    media error, which the media pipeline logs without a traceback: the reason is logged once, here."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason


def referer_for(url: str, referers: dict[str, str]) -> str | None:
    """The Referer to send for ``url``: ``IMAGES_REFERERS``' value for its host or the nearest parent
    domain listed (``mmbiz.qpic.cn`` refuses other sites' Referer), else none."""
    host = (urlsplit(url).hostname or "").lower()
    while host:
        if host in referers:
            return referers[host] or None
        host = host.partition(".")[2]
    return None


def site_folder(root: Path, index: Path, lowercase: bool) -> str:
    """The bundle's folder as a path from the site root (``posts/<source>/<id>/``), as Hugo publishes it:
    lowercased unless the site sets ``disablePathToLower`` (files inside keep their case)."""
    folder = index.parent.relative_to(root / "content").as_posix()
    return (folder.lower() if lowercase else folder) + "/"


class ImageFilesPipeline(FilesPipeline):
    """Article → its images in its page bundle (``Article.local_images``), before it is rendered."""

    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        if settings.get("IMAGES_MODE", REWRITE) != LOCALIZE:
            raise NotConfigured("IMAGES_MODE is not localize")
        self.root = output_root(crawler)
        super().__init__(str(self.root), crawler=crawler)
        self.rewrite = ImageRewriter(render_config(crawler).image_rules)
        self.state = StateStore(state_path(crawler))
        self.max_pixels = settings.getint("IMAGES_MAX_PIXELS")
        self.maxsize = settings.getint("IMAGES_MAXSIZE")
        self.placeholders = frozenset(h.lower() for h in settings.getlist("IMAGES_PLACEHOLDER_HASHES"))
        self.referers = {host.lower(): value for host, value in settings.getdict("IMAGES_REFERERS").items()}
        self.lowercase = not settings.getbool("HUGO_DISABLE_PATH_TO_LOWER")
        self.thumbnail_width = settings.getint("IMAGES_THUMBNAIL_WIDTH")
        #: article key → [(URL as the body names it, URL requested)] still to fetch
        self.pending: dict[str, list[tuple[str, str]]] = {}
        #: article key → what is known of its images so far: URL → (file, reason)
        self.known: dict[str, dict[str, tuple[str, str]]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ImageFilesPipeline:
        return cls(crawler)

    async def process_item(self, item: Article) -> Article:  # type: ignore[override]
        try:
            index = output_path(self.crawler, item)
        except UnsafePath:
            return item  # the write stage reports it; nothing may go near that path
        item.bundle_url = site_folder(self.root, index, self.lowercase)
        urls = await asyncio.to_thread(article_image_urls, item.body_html, item.cover, self.rewrite)
        before = self.state.images(item.key)
        offline = bool(getattr(self.crawler.spider, "rerender", ""))  # a re-render requests nothing
        known: dict[str, tuple[str, str]] = {}
        pending: list[tuple[str, str]] = []
        for url in urls:
            target = destination(url, relative=False)
            if target is None or not target.startswith(("http://", "https://")):
                continue  # nothing to fetch (the renderer drops it, or it is relative)
            file, reason = before.get(url, ("", ""))
            if file and (index.parent / file).is_file():
                known[url] = (file, "")  # a rerun downloads nothing it already has
            elif reason and failure_class(reason) == PERMANENT and not file:
                known[url] = ("", reason)  # the same answer again: not asked again
            elif offline:
                known[url] = ("", reason)  # not in the bundle: stays remote until a crawl fetches it
            else:
                pending.append((url, target))
        self.pending[item.key], self.known[item.key] = pending, known
        try:
            item = await super().process_item(item)
        finally:
            self.pending.pop(item.key, None)
            self.known.pop(item.key, None)
        cover = item.local_images.get(self.rewrite(item.cover)) if item.cover.strip() else None
        if cover and self.thumbnail_width:
            try:
                item.local_thumbnail = await asyncio.to_thread(make_thumbnail, index.parent, cover, self.thumbnail_width) or ""
            except OSError as exc:  # checked already, so a disk problem: the cover itself is shown
                logger.warning("No list-page copy of %s for %s: %s", cover, item.url, exc)
        return item

    def get_media_requests(self, item: Article, info: MediaPipeline.SpiderInfo) -> list[Request]:
        requests = []
        for url, target in self.pending[item.key]:
            referer = referer_for(target, self.referers)
            meta = {"download_maxsize": self.maxsize} if self.maxsize else {}
            requests.append(Request(target, headers={"Referer": referer} if referer else None, meta=meta,
                                    callback=NO_CALLBACK, dont_filter=True))
        return requests

    def media_to_download(self, request: Request, info: MediaPipeline.SpiderInfo, *, item: Any = None) -> None:
        return None  # what the bundle already holds was never requested (process_item)

    def media_failed(self, failure: Failure, request: Request, info: MediaPipeline.SpiderInfo) -> Any:
        error = failure.value
        if isinstance(error, ImageFailed):
            raise error
        reason = TOO_LARGE if inputs.over_download_maxsize(error) else error_reason(error)
        raise ImageFailed(reason, str(error) or reason)

    async def media_downloaded(self, response: Response, request: Request, info: MediaPipeline.SpiderInfo, *,
                               item: Any = None) -> dict[str, Any]:
        if response.status != 200:
            raise ImageFailed(f"http-{response.status}", f"HTTP {response.status}")
        try:
            checked = await asyncio.to_thread(check_image, response.body, max_pixels=self.max_pixels,
                                              placeholder_hashes=self.placeholders)
        except ImageRejected as exc:
            raise ImageFailed(exc.reason, str(exc)) from None
        path = output_path(self.crawler, item).parent / checked.name
        await asyncio.to_thread(self.keep, path, response.body)
        self.inc_stats("downloaded")
        return {"url": request.url, "path": path.relative_to(self.root).as_posix(), "checksum": checked.sha256,
                "status": "downloaded", "name": checked.name}

    def keep(self, path: Path, data: bytes) -> None:
        """``data`` at ``path`` (atomically), unless an identical file is already there: no byte changes."""
        if not (path.is_file() and path.read_bytes() == data):
            write_bytes_atomic(path, data)

    def item_completed(self, results: list[tuple[bool, Any]], item: Article, info: MediaPipeline.SpiderInfo) -> Article:
        folder = output_path(self.crawler, item).parent
        known = self.known[item.key]
        for (url, target), (ok, value) in zip(self.pending[item.key], results, strict=True):
            if ok:
                source = self.root / value["path"]
                if source.parent != folder:  # fetched this run for another article that shows it too
                    self.keep(folder / value["name"], source.read_bytes())
                known[url] = (value["name"], "")
                continue
            error = value.value
            reason = getattr(error, "reason", "") or error_reason(error)
            known[url] = ("", reason)
            record_image_failure(self.crawler, target, item.url, reason, str(error))
        item.local_images = {url: file for url, (file, _) in known.items() if file}
        self.state.record_images(item.key, known)
        return item

    def close_spider(self) -> None:
        self.state.close()
