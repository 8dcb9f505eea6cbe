"""Scrapy item pipelines: thin adapters from settings and items to the plain functions."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.outcomes import record_failure
from pipelines.article import Article
from pipelines.render import RenderConfig, RenderError, render
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


def output_path(crawler: Crawler, article: Article) -> Path:
    """Absolute path of an article's file: ``OUTPUT_DIR`` / ``ARTICLE_PATH``."""
    relative = crawler.settings.get("ARTICLE_PATH").format(source=article.source, id=article.id)
    return Path(crawler.settings.get("OUTPUT_DIR")).resolve() / relative


class RenderPipeline:
    """Article → complete Markdown document (off the reactor thread: conversion is CPU work)."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.config = render_config(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RenderPipeline:
        return cls(crawler)

    async def process_item(self, item: Article) -> Article:
        try:
            item.document = await asyncio.to_thread(render, item, self.config)
        except RenderError as exc:
            record_failure(self.crawler, item.url, "render", str(exc))
            raise DropItem(f"{item.url}: {exc}") from None
        return item


class WritePipeline:
    """Document → file under OUTPUT_DIR, atomically; identical content is left untouched."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.written: list[Path] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WritePipeline:
        return cls(crawler)

    async def process_item(self, item: Article) -> Article:
        path = output_path(self.crawler, item)
        stats = self.crawler.stats
        if path.exists() and path.read_text(encoding="utf-8") == item.document:
            stats.inc_value("article/unchanged")
        else:
            await asyncio.to_thread(write_atomic, path, item.document)
            stats.inc_value("article/written")
            self.written.append(path)
            logger.info("Wrote %s (%s)", path, item.url)
        item.path = str(path.relative_to(Path(self.crawler.settings.get("OUTPUT_DIR")).resolve()))
        return item

    def close_spider(self) -> None:
        root = Path(self.crawler.settings.get("OUTPUT_DIR")).resolve()
        folders = sorted({str(path.parent) for path in self.written})
        logger.info(
            "%d file(s) written under %s%s", len(self.written), root, "".join(f"\n  {f}" for f in folders)
        )
