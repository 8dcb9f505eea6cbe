"""Floor spiders: exactly the requests of a crawl, and nothing done with the answers.

``wallstreetcn`` reads the listing pages (following ``next_cursor``) and requests every
listed article's detail, as the real spider does, with the same headers and the
project's downloader stack; ``backfill`` reads the saved files a URL list names through
the same file handler. Neither parses, renders or writes: the time a crawl spends above
its floor is what our own processing costs.

    python -m benchmarks.floor wallstreetcn API_BASE PAGES [-s NAME=VALUE …]
    python -m benchmarks.floor backfill URLS_FILE [-s NAME=VALUE …]

Prints ``ANSWERS <n>``: the article answers (details or files) received.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response
from scrapy.utils.project import get_project_settings

from crawler.inputs import as_url
from crawler.sources import wallstreetcn as source

#: No item pipelines, no end-of-run extensions (report, progress, run lock, site repo).
FLOOR_SETTINGS = {"ITEM_PIPELINES": {}, "EXTENSIONS": {}}


class FloorSpider(scrapy.Spider):
    answers = 0

    def answered(self, response: Response) -> None:
        self.answers += 1


class WallstreetcnFloor(FloorSpider):
    name = "wallstreetcn-floor"

    def __init__(self, api_base: str, pages: int, **kwargs: Any):
        super().__init__(**kwargs)
        self.api_base = api_base
        self.pages = pages

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield self.listing(source.listing_url(self.api_base), 1)

    def listing(self, url: str, page: int) -> scrapy.Request:
        return scrapy.Request(url, headers=source.HEADERS, callback=self.parse_listing, cb_kwargs={"page": page})

    def parse_listing(self, response: Response, page: int) -> Iterator[scrapy.Request]:
        data = json.loads(response.body)["data"]
        for item in data["items"]:
            yield scrapy.Request(source.detail_url(self.api_base, str(item["id"])), headers=source.HEADERS, callback=self.answered)
        if data["next_cursor"] and page < self.pages:
            yield self.listing(source.listing_url(self.api_base, data["next_cursor"]), page + 1)


class BackfillFloor(FloorSpider):
    name = "backfill-floor"

    def __init__(self, urls_file: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.urls_file = urls_file

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for line in Path(self.urls_file).read_text(encoding="utf-8").split():
            yield scrapy.Request(as_url(line), callback=self.answered)


def main(argv: list[str]) -> None:
    kind, *rest = argv
    settings = get_project_settings()
    while "-s" in rest:
        at = rest.index("-s")
        name, value = rest[at + 1].split("=", 1)
        settings.set(name, value, priority="cmdline")
        del rest[at : at + 2]
    settings.setdict(FLOOR_SETTINGS, priority="cmdline")
    process = CrawlerProcess(settings)
    if kind == "wallstreetcn":
        spider: type[FloorSpider] = WallstreetcnFloor
        kwargs: dict[str, Any] = {"api_base": rest[0], "pages": int(rest[1])}
    else:
        spider, kwargs = BackfillFloor, {"urls_file": rest[0]}
    crawler = process.create_crawler(spider)
    process.crawl(crawler, **kwargs)
    process.start()
    print(f"ANSWERS {crawler.spider.answers}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
