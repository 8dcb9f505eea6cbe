"""Articles from any site, by URL: the generic path (``crawler.sources.web``).

    scrapy crawl web -a urls=URL[,URL…] | -a urls_file=FILE [-a refresh=1]

URLs may be any http(s) article page, ``file://`` URLs or paths of saved pages (``.html`` or
``.html.gz``). Any public host may be asked: the list is the user's; ``crawler.outbound`` still
refuses private addresses (``disallowed-url``). Articles already stored are skipped (``stored``)
unless ``-a refresh=1``. ``WebPages`` holds the page handling so the backfill spider reuses it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from scrapy import Request
from scrapy.http import Response

from crawler import rawsource
from crawler.arguments import REFRESH, URLS_FILE_ACCEPTED, Argument, comma_list, text
from crawler.sources import SourceError
from crawler.sources import web as source
from crawler.spiders.base import ArticleSpider, GivenUrls
from pipelines.article import Article


class WebPages(ArticleSpider):
    """Fetching and reading any article page, for any ``ArticleSpider``: ``web_request(url)`` makes
    the request, ``parse_web`` yields the Article or records the named failure."""

    def web_request(self, url: str) -> Request:
        return Request(url, headers=source.HEADERS, callback=self.parse_web, errback=self.request_failed,
                       meta={"article_url": url})

    def parse_web(self, response: Response) -> Iterator[Article]:
        """The page's Article, with the page as its raw source (``crawler/rawsource.py``): parsed by the
        same function a re-render calls."""
        url = response.meta.get("article_url", response.url)
        raw = rawsource.from_response(response, source.PARSER, {"reached_by": [url, *response.meta.get("redirect_urls", [])]})
        try:
            article = source.article_from_raw(raw, self.settings)
        except SourceError as exc:
            self.fail(url, exc.reason, exc.detail)
            return
        yield from self.unless_stored(response, [article])


class WebSpider(GivenUrls, WebPages):
    name = "web"
    retry_hint = "retry later with -a urls="
    arguments = (
        *ArticleSpider.arguments,
        Argument("urls", comma_list, "article links or saved pages, comma-separated"),
        Argument("urls_file", text, URLS_FILE_ACCEPTED),
        REFRESH,
    )
    required_arguments = (("urls", "urls_file"),)

    async def start(self) -> AsyncIterator[Request]:
        await self.count_given()
        seen: set[str] = set()
        async for url in self.given_urls():
            identity = source.web_identity(url)
            key = f"{source.ALIAS_PREFIX}{identity}" if identity else url
            if key in seen:
                self.skip(url, "duplicate-url", f"same page as an earlier URL ({key})")
                continue
            seen.add(key)
            if identity and self.stored(url, [key]):
                continue
            if self.is_backed_off(url):
                self.report_not_attempted(url)
                continue
            yield self.web_request(url)
