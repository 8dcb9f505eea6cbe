"""Scrapy item pipelines: thin adapters from settings and items to the plain functions."""

from __future__ import annotations

import logging
from pathlib import Path
from weakref import WeakKeyDictionary

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.settings import BaseSettings

from crawler.outcomes import record_failure, record_skip, record_written
from pipelines import archive, rerender
from pipelines.article import Article
from pipelines.bundles import remove_bundle, remove_files, stale_files
from pipelines.paths import ArticlePaths, UnsafePath
from pipelines.render import RenderConfig, RenderError, add_lastmod
from pipelines.state import Record, StateStore, change_status, content_hash, lastmod, utc_now
from pipelines.workers import WorkerPool, WorkerDied
from pipelines.write import write_atomic

logger = logging.getLogger(__name__)


def render_config(crawler: Crawler) -> RenderConfig:
    settings = crawler.settings
    return RenderConfig(
        front_matter=settings.getdict("FRONT_MATTER"),
        timezone=settings.get("TIMEZONE"),
        summary_length=settings.getint("SUMMARY_LENGTH"),
        disclaimers=settings.getdict("DISCLAIMERS"),
        image_rules=tuple((str(p), str(r)) for p, r in settings.getlist("IMAGE_URL_REWRITES")),
    )


_POOLS: WeakKeyDictionary[Crawler, WorkerPool] = WeakKeyDictionary()
_FILE_POOLS: WeakKeyDictionary[Crawler, WorkerPool] = WeakKeyDictionary()


def render_pool(crawler: Crawler) -> WorkerPool:
    """The crawl's render workers (``RENDER_WORKERS``), shared by its pipelines."""
    if crawler not in _POOLS:
        _POOLS[crawler] = WorkerPool(crawler.settings.getint("RENDER_WORKERS"))
    return _POOLS[crawler]


def file_pool(crawler: Crawler) -> WorkerPool:
    """The crawl's file writer (``WRITE_THREADS``): one process writing article files and raw sources,
    several at once. Each atomic write waits milliseconds on the disk (two fsyncs), which the crawl's
    thread would otherwise spend blocked, its downloads and hand-overs to the render workers stalled;
    a thread of the crawl's own process would wait on the GIL after every system call instead."""
    if crawler not in _FILE_POOLS:
        threads = crawler.settings.getint("WRITE_THREADS")
        _FILE_POOLS[crawler] = WorkerPool(1 if threads else 0, threads=threads)
    return _FILE_POOLS[crawler]


def output_path(crawler: Crawler, article: Article, paths: ArticlePaths | None = None) -> Path:
    """Absolute path of an article's file: output root / ``ARTICLE_PATH``, through the path
    boundary (``pipelines/paths.py``): inside the root, or inside the site's ``content/``
    folder when ``SITE_REPO`` is set. With ``IMAGES_MODE=localize`` the ``index.md`` of the article's
    page bundle (``<id>/index.md`` instead of ``<id>.md``). ``paths``: the run's ``article_paths``,
    kept by a caller asking for every article. Raises UnsafePath."""
    paths = paths or article_paths(crawler)
    place = paths.bundle if crawler.settings.get("IMAGES_MODE") == "localize" else paths.article
    return place(source=article.source, id=article.id)


def article_paths(crawler: Crawler) -> ArticlePaths:
    """The run's path boundary (``pipelines.paths.ArticlePaths``). Raises UnsafePath for a bad ``ARTICLE_PATH``."""
    root = output_root(crawler)
    inside = root / "content" if crawler.settings.get("SITE_REPO") else root
    return ArticlePaths(root, crawler.settings.get("ARTICLE_PATH"), inside)


def output_root(crawler: Crawler) -> Path:
    """Where article files go: the site repo's checkout when ``SITE_REPO`` is set, else ``OUTPUT_DIR``."""
    return root_folder(crawler.settings)


def state_dir(crawler: Crawler) -> Path:
    """``OUTPUT_DIR/.state``: state and reports live with the output, so a fresh ``OUTPUT_DIR`` is a fresh start."""
    return state_folder(crawler.settings)


def state_path(crawler: Crawler) -> Path:
    """``STATE_PATH``, by default ``OUTPUT_DIR/.state/state.sqlite3``."""
    return state_file(crawler.settings)


def archive_dir(crawler: Crawler) -> Path:
    """``ARCHIVE_DIR``, by default ``OUTPUT_DIR/.state/archive``: the raw sources (``pipelines/archive.py``)."""
    return archive_folder(crawler.settings)


# The same from settings alone, for commands that start no crawl (``scrapy state``).

def root_folder(settings: BaseSettings) -> Path:
    return Path(settings.get("SITE_REPO") or settings.get("OUTPUT_DIR")).resolve()


def state_folder(settings: BaseSettings) -> Path:
    return Path(settings.get("OUTPUT_DIR")).resolve() / ".state"


def state_file(settings: BaseSettings) -> Path:
    return Path(settings.get("STATE_PATH") or state_folder(settings) / "state.sqlite3")


def archive_folder(settings: BaseSettings) -> Path:
    return Path(settings.get("ARCHIVE_DIR") or state_folder(settings) / "archive").resolve()


class DedupePipeline:
    """Drops an article already written under another identity (e.g. a WeChat article
    that wallstreetcn republished): the first source to write it keeps it. Within a
    run the first item to pass here claims its identities, since items are rendered
    concurrently and neither is in the state yet."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.state = StateStore(state_path(crawler))  #: also holds the identities this run's items claimed

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupePipeline:
        return cls(crawler)

    async def process_item(self, item: Article) -> Article:
        identities = [item.key, *item.aliases]
        owner = self.state.owner(identities)
        if owner and owner.key != item.key:
            detail = f"already written from {owner.source} as {owner.key} ({owner.path})"
        elif taken := self.state.claimed_by(identities, item.key):
            detail = f"already taken in this run as {taken}"
        else:
            self.state.claim(identities, item.key)
            return item
        record_skip(self.crawler, item.url, "duplicate", detail)
        raise DropItem(f"{item.url}: {detail}")

    def close_spider(self) -> None:
        self.state.close()


class RenderPipeline:
    """Article → complete Markdown document, in the render workers (``pipelines.workers``):
    conversion is CPU work, which the crawl's thread cannot share."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.config = render_config(crawler)
        self.pool = render_pool(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RenderPipeline:
        return cls(crawler)

    async def process_item(self, item: Article) -> Article:
        if item.document:  # rendered with this config by the worker that parsed it (``pipelines.workers.parsed``)
            return item
        try:
            item.document = await self.pool.render(item, self.config)
        except RenderError as exc:
            record_failure(self.crawler, item.url, exc.reason, str(exc))
            raise DropItem(f"{item.url}: {exc}") from None
        return item

    def close_spider(self) -> None:
        self.pool.close()


class ArchivePipeline:
    """Keeps the article's raw source in the raw archive before the write stage records the article,
    so every article in the state can be re-rendered (``scrapy rerender``). An article whose source
    attaches none is written all the same (it is listed as "no raw source")."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.root = archive_dir(crawler)
        self.files = file_pool(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        return cls(crawler)

    async def process_item(self, item: Article) -> Article:
        if item.raw is not None:
            try:  # compressed and written by the file writer: its fsyncs wait there, not in the crawl's thread
                await self.files.run(archive.store, self.root, item.key, item.raw)
            except OSError as exc:
                record_failure(self.crawler, item.url, "archive-failed", f"raw source not kept in {self.root}: {exc}")
                raise DropItem(f"{item.url}: {exc}") from None
            except WorkerDied as exc:
                record_failure(self.crawler, item.url, exc.reason, f"raw source not kept: {exc}")
                raise DropItem(f"{item.url}: {exc}") from None
        return item

    def close_spider(self) -> None:
        self.files.close()


class WritePipeline:
    """Document → file under the output root, atomically, only when it is new or changed upstream.

    The content hash is taken before ``lastmod`` is added, so re-fetching an
    unchanged article writes nothing; a changed one is rewritten with ``lastmod``.
    The article is recorded in the state store only once its file is in place. With
    ``SITE_REPO`` set its path is marked unpublished *before* the write, so a run killed
    between the write and the site commit cannot lose it: the next run commits it.
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.root = output_root(crawler)
        self.config = render_config(crawler)
        self.state = StateStore(state_path(crawler))
        self.files = file_pool(crawler)
        self.publishing = bool(crawler.settings.get("SITE_REPO"))
        self.written = 0  #: files written; a count and their folders, not a list growing with the run
        self.folders: set[str] = set()
        #: "write" or "dry-run" in a re-render (``scrapy rerender``), else ""
        self.rerender: str = getattr(crawler.spider, "rerender", "")
        self.paths: ArticlePaths | None = None  #: made on the first item (a bad ARTICLE_PATH fails each item)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WritePipeline:
        return cls(crawler)

    async def process_item(self, item: Article) -> Article:
        try:
            self.paths = self.paths or article_paths(self.crawler)
            path = output_path(self.crawler, item, self.paths)
        except UnsafePath as exc:
            record_failure(self.crawler, item.url, exc.reason, str(exc))
            raise DropItem(f"{item.url}: {exc}") from None
        item.path = path.relative_to(self.root).as_posix()
        digest = content_hash(item.document)
        record = self.state.get(item.key)
        if self.rerender:
            return await self.rerendered(item, path, record, digest)
        now = utc_now()
        status = change_status(record, digest, path, item.document)
        item.lastmod = lastmod(status, record, now)
        if status != "unchanged":
            if item.lastmod is not None:
                item.document = add_lastmod(item.document, item.lastmod, self.config.timezone)
            bundled = self.unpublish(item, path)
            await self.write(item, path)
            if path.name == "index.md":  # images the article no longer shows (a refresh after an upstream edit)
                stale = stale_files(path.parent, {p.name for p in bundled})
                remove_files(stale)
                self.unpublished(stale)
            self.crawler.stats.inc_value("article/written")
            self.written += 1
            self.folders.add(str(path.parent))
            logger.info("Wrote %s (%s, %s)", path, status, item.url)
        if record is not None and record.path != item.path:  # IMAGES_MODE switched: one file per article
            self.remove_old(record.path)
        self.state.record(key=item.key, source=item.source, id=item.id, url=item.url,
                          document_hash=digest, path=item.path, aliases=item.aliases, now=now)
        record_written(self.crawler, item.url, status, item.path, item.title)
        return item

    async def write(self, item: Article, path: Path) -> None:
        """``item.document`` to ``path``, atomically, by the file writer (as the archive's store)."""
        try:
            await self.files.run(write_atomic, path, item.document)
        except WorkerDied as exc:
            record_failure(self.crawler, item.url, exc.reason, f"{item.path} not written: {exc}")
            raise DropItem(f"{item.url}: {exc}") from None

    def unpublish(self, item: Article, path: Path) -> list[Path]:
        """With a site repo, list the file (and its bundle's images) as unpublished before writing it;
        returns the bundle's image files."""
        bundled = [path.parent / name for name in (*item.local_images.values(), item.local_thumbnail) if name]
        self.unpublished([path, *bundled])
        return bundled

    def remove_old(self, old: str) -> None:
        """Remove the file this project wrote for the article at its old path (``<id>.md`` before a switch
        to page bundles, a bundle's ``index.md`` and our images after a switch back), so Hugo does not
        publish the article twice. Only a path the state recorded, and only inside the root."""
        path = (self.root / old).resolve()
        if not path.is_relative_to(self.root) or path.suffix != ".md" or not path.is_file():
            return
        if path.name == "index.md":
            removed = remove_bundle(path)
        else:
            removed = [path]
            remove_files(removed)
        self.unpublished(removed)
        logger.info("Removed %s: the article is now at another path (IMAGES_MODE)", old)

    async def rerendered(self, item: Article, path: Path, record: Record | None, digest: str) -> Article:
        """A stored article rendered again by today's code (``scrapy rerender``): its recorded ``lastmod``
        kept (a format change is no upstream edit), its file rewritten only when the bytes change, and
        its content hash updated so a later refresh does not take the new format for an edit."""
        item.lastmod = lastmod("unchanged", record, utc_now())
        if item.lastmod is not None:
            item.document = add_lastmod(item.document, item.lastmod, self.config.timezone)
        old = rerender.current(path)
        if old == item.document:
            status = "unchanged"
        elif self.rerender == rerender.DRY_RUN:
            change = rerender.diff(item.path, old, item.document)
            record_skip(self.crawler, item.url, "dry-run", f"would rewrite {item.path} ({change.stat})")
            self.crawler.signals.send_catch_log(rerender.would_change, change=change)
            return item
        else:
            status = rerender.REWRITTEN
            self.unpublish(item, path)
            await self.write(item, path)
            self.crawler.stats.inc_value("article/written")
            self.written += 1
            self.folders.add(str(path.parent))
            logger.info("Re-rendered %s (%s)", path, item.url)
        if self.rerender != rerender.DRY_RUN and record is not None and (record.content_hash, record.path) != (digest, item.path):
            if record.path != item.path:  # ARTICLE_PATH or IMAGES_MODE changed: one file per article
                self.remove_old(record.path)
            self.state.rerendered(item.key, digest, item.path)
        record_written(self.crawler, item.url, status, item.path, item.title)
        return item

    def unpublished(self, paths: list[Path]) -> None:
        """With a site repo, list files written or removed so the run's commit carries them."""
        if self.publishing and paths:
            self.state.mark_unpublished([p.relative_to(self.root).as_posix() for p in paths])

    def close_spider(self) -> None:
        self.files.close()
        self.state.close()
        logger.info(
            "%d file(s) written under %s%s", self.written, self.root, "".join(f"\n  {f}" for f in sorted(self.folders))
        )

