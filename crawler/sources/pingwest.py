"""PingWest (www.pingwest.com): its news listing API and article pages.

Facts this relies on (``tests/fixtures/pingwest/PROVENANCE.md``): an article is the page
``/a/<id>`` (ids are increasing integers); its body is ``<article class="article-style">``,
images ``figure.image > img`` on ``cdn.pingwest.com`` with a ``?x-oss-process=style/…`` resize
suffix (dropped for the original); its title is ``og:title`` minus the ``-品玩`` suffix. The
listing ``/api/index_news_list?last_id=<id>`` answers JSON whose ``data.list`` is an HTML
fragment, newest first, continuing below ``last_id``. How an item in that fragment shows its
time is not on record: items carry it as ``data-time`` (unix s) or ``<time datetime>``;
an item without one fails ``missing-time``.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from bs4 import BeautifulSoup, Tag
from scrapy.settings import BaseSettings

from crawler.sources import SourceError, listed
from crawler.sources.listed import Fetch
from pipelines.archive import RawSource
from pipelines.article import Article
from pipelines.limits import TooDeep, check_depth

LISTED_SOURCE = True
SOURCE = "pingwest"
BASE_SETTING = "PINGWEST_BASE"
DEFAULT_BASE = "https://www.pingwest.com"
DISCLAIMER = ""  # the site's pingwest pages carry none
ARTICLE_URL = "https://www.pingwest.com/a/{id}"
ARTICLE_PATH_RE = re.compile(r"^(?:https?:)?(?://(?:www\.)?pingwest\.com)?/a/([1-9][0-9]{0,11})/?$")
TIME_RANGE = range(631152000, 7258118400)
TITLE_SUFFIX = re.compile(r"\s*[-|_–—]\s*品玩\s*$")
#: Host of article images; without its ``?x-oss-process=`` resize suffix it serves the original.
IMAGE_HOST = "cdn.pingwest.com"
HEADERS = {"Referer": "https://www.pingwest.com/", "X-Requested-With": "XMLHttpRequest"}
_CHINA = ZoneInfo("Asia/Shanghai")


def article_url(article_id: str) -> str:
    return ARTICLE_URL.format(id=article_id)


def listing_request(base: str, cursor: str = "") -> Fetch:
    return Fetch(f"{base.rstrip('/')}/api/index_news_list?{urlencode({'last_id': cursor})}", headers=dict(HEADERS))


def detail_request(base: str, article_id: str) -> Fetch:
    return Fetch(f"{base.rstrip('/')}/a/{article_id}", headers={"Referer": "https://www.pingwest.com/"})


def _time(text: str) -> int | None:
    """Unix seconds from ``data-time`` digits or an ISO date-time (read in China time when zone-less)."""
    text = text.strip()
    if re.fullmatch(r"[0-9]{9,10}", text):
        return int(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return int((moment if moment.tzinfo else moment.replace(tzinfo=_CHINA)).timestamp())


def parse_listing(body: bytes | str) -> tuple[list[Any], str]:
    """Items (``{"id", "time", "title"}``; unchecked) of a listing answer, and the next cursor (the
    last item's id; "" when the page lists nothing)."""
    try:
        answer = json.loads(body)
    except ValueError as exc:
        raise SourceError("bad-json", f"response is not JSON ({exc})") from None
    data = answer.get("data") if isinstance(answer, dict) else None
    fragment = data.get("list") if isinstance(data, dict) else None
    if not isinstance(fragment, str):
        raise SourceError("bad-listing", "listing has no data.list HTML fragment")
    soup = BeautifulSoup(fragment, "lxml")
    items: list[Any] = []
    seen: set[str] = set()
    for link in soup.find_all("a", href=True):
        match = ARTICLE_PATH_RE.match(str(link["href"]).strip())
        if not match or match.group(1) in seen:
            continue
        seen.add(match.group(1))
        holder = _item_of(link)
        items.append({"id": match.group(1), "time": _item_time(holder), "title": holder.get_text(" ", strip=True)})
    return items, items[-1]["id"] if items else ""


def _item_of(link: Tag) -> Tag:
    """The listing item holding ``link``: its nearest ancestor holding no other article's link."""
    holder = link
    for parent in link.parents:
        if parent.name in ("body", "html", "[document]"):
            break
        links = {m.group(1) for a in parent.find_all("a", href=True) if (m := ARTICLE_PATH_RE.match(str(a["href"]).strip()))}
        if len(links) > 1:
            break
        holder = parent
    return holder


def _item_time(holder: Tag) -> int | None:
    for tag in [holder, *holder.find_all(True)]:
        for value in (tag.get("data-time"), tag.get("datetime") if tag.name == "time" else None):
            if value and (moment := _time(str(value))) is not None:
                return moment
    return None


def item_id(item: Any) -> str:
    if not isinstance(item, dict) or not item.get("id"):
        raise SourceError("missing-id", "listing item names no article")
    return str(item["id"])


def item_time(item: dict[str, Any]) -> int:
    value = item.get("time")
    if value is None:
        raise SourceError("missing-time", "listing item shows no time (data-time or <time datetime>)")
    if value not in TIME_RANGE:
        raise SourceError("bad-time", f"time {value!r} is not a plausible unix time")
    return int(value)


def skip_reason(item: dict[str, Any]) -> str | None:
    """None: every listed item is an article to fetch."""
    return None


def original_image(url: str) -> str:
    """A cdn.pingwest.com image without its resize suffix (``?x-oss-process=…``): the original."""
    parts = urlsplit(url)
    if parts.hostname == IMAGE_HOST and parts.query.startswith("x-oss-process="):
        return urlunsplit(parts._replace(query=""))
    return url


def _meta(soup: BeautifulSoup, prop: str) -> str:
    tag = soup.find("meta", attrs={"property": prop}) or soup.find("meta", attrs={"name": prop})
    return str(tag.get("content") or "").strip() if isinstance(tag, Tag) else ""


def clean_body(article: Tag) -> str:
    """The article element's content with original images and no ad blocks."""
    for junk in article.select(".ad, script, style"):
        junk.decompose()
    for img in article.find_all("img"):
        if img.get("src"):
            img["src"] = original_image(str(img["src"]))
    return article.decode_contents()


def parse_detail(body: bytes | str, url: str, fetch: Fetch) -> Article:
    """The Article of an article page; its time is the page's ``article:published_time`` or, when the
    page shows none, the listing's (``fetch.data["time"]``)."""
    article_id = str(fetch.data["id"])
    html = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        check_depth(html)
    except TooDeep as exc:
        raise SourceError(exc.reason, f"article {article_id}: {exc}") from None
    soup = BeautifulSoup(html, "lxml")
    article = soup.select_one("article.article-style")
    if article is None:
        raise SourceError("not-an-article", f"{url} has no article.article-style")
    title = TITLE_SUFFIX.sub("", _meta(soup, "og:title") or (soup.title.get_text() if soup.title else "")).strip()
    if not title:
        raise SourceError("missing-title", f"article {article_id} has no title")
    published = _time(_meta(soup, "article:published_time")) or fetch.data.get("time")
    if not published:
        raise SourceError("missing-time", f"article {article_id} shows no publication time")
    return Article(
        source=SOURCE,
        id=article_id,
        url=article_url(article_id),
        title=title,
        published=int(published),
        body_html=clean_body(article),
        cover=original_image(_meta(soup, "og:image")),
    )


def article_from_raw(raw: RawSource, settings: BaseSettings) -> Article:
    """The Article of a stored raw source, parsed again by ``parse_detail`` (``crawler.sources.listed.replay``)."""
    return listed.article_from_raw(parse_detail, raw)
