"""wallstreetcn.com's public JSON API: listing pages, article details, and their quirks.

Facts this relies on: every answer is HTTP 200 with an envelope
``{"code": 20000, "message": "OK", "data": …}``; paid pieces carry only a
truncated preview; republished pieces name their origin in ``source_name`` /
``source_uri`` and usually credit it in the body; the body ends with the site's
own disclaimer as two styled ``<div>``s.
"""

from __future__ import annotations

import json
import re

from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from bs4 import BeautifulSoup, Tag
from lxml import etree

from crawler.sources import SourceError, SourceSkip
from crawler.sources.wechat_url import article_identity
from pipelines import souplike
from pipelines.archive import RawSource
from pipelines.article import Article, Attribution
from pipelines.limits import TooDeep, check_depth

if TYPE_CHECKING:  # not imported at run time: parse workers need no Scrapy
    from scrapy.settings import BaseSettings

SOURCE = "wallstreetcn"
DEFAULT_API_BASE = "https://api-one-wscn.awtmt.com"
ARTICLE_URL = "https://wallstreetcn.com/articles/{id}"
ARTICLE_URL_RE = re.compile(r"^https?://(?:www\.)?wallstreetcn\.com/(?:articles|a)/([0-9]+)(?:[/?#]|$)")
#: An article id: a positive integer in ASCII digits, as the API writes it (no sign, no leading zero).
ID_RE = re.compile(r"[1-9][0-9]{0,18}")
#: Publication times a listing item may carry: after 1990, before 2200 (unix seconds).
TIME_RANGE = range(631152000, 7258118400)
LISTING_LIMIT = 30  # the API answers ``data: ""`` above 30
OK_CODE = 20000
ARTICLE_LAYOUT = "wscn-layout"
DISCLAIMER = (
    "风险提示及免责条款\n"
    "市场有风险，投资需谨慎。本文不构成个人投资建议，也未考虑到个别用户特殊的投资目标、财务状况或需要。"
    "用户应考虑本文中的任何意见、观点或结论是否符合其特定状况。据此投资，责任自负。"
)
#: Headers the API expects from a browser on the site.
HEADERS = {
    "Origin": "https://wallstreetcn.com",
    "Referer": "https://wallstreetcn.com/",
    "Accept": "application/json, text/plain, */*",
}

_PAID_FLAGS = ("is_priced", "is_need_pay", "is_paid", "is_vip", "is_in_vip_privilege")
_PAID_VALUES = ("vip_type", "membership_uri", "product_id")
_PAID_URL = re.compile(r"/(?:premium|member)/")
_ATTRIBUTION = re.compile(r"^(?:本文|文章)?(?:来源|来自|转载自|原文来源)\s*[：:]|原文标题\s*[：:]")
_DISCLAIMER_TITLE = "风险提示及免责条款"
_DISCLAIMER_TEXT = re.compile(r"^市场有风险，投资需谨慎.*责任自负。?$", re.S)


def listing_url(api_base: str, cursor: str = "") -> str:
    query = {"limit": LISTING_LIMIT}
    if cursor:
        query["cursor"] = cursor
    return f"{api_base.rstrip('/')}/apiv1/content/articles?{urlencode(query)}"


def detail_url(api_base: str, article_id: str) -> str:
    return f"{api_base.rstrip('/')}/apiv1/content/articles/{quote(article_id, safe='')}?extract=0"


def article_url(article_id: str) -> str:
    return ARTICLE_URL.format(id=quote(article_id, safe=""))


def valid_id(value: Any) -> str:
    """The article id ``value`` names, as text, or SourceError ``bad-id``.

    Ids name files and URLs, so only what the API really sends passes: a positive integer,
    as a JSON number or a string of ASCII digits. Floats, negatives, booleans, objects,
    white space, signs, non-ASCII digits and path-like strings are refused.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        raise SourceError("bad-id", f"id {value!r} is a {type(value).__name__}, not an integer")
    if not ID_RE.fullmatch(text):
        raise SourceError("bad-id", f"id {value!r} is not a positive integer")
    return text


def id_from_url(url: str) -> str | None:
    """The article id of a ``https://wallstreetcn.com/articles/<id>`` URL, else None."""
    match = ARTICLE_URL_RE.match(url.strip())
    if not match:
        return None
    try:
        return valid_id(match.group(1))
    except SourceError:
        return None


def envelope_data(body: bytes | str) -> Any:
    """The ``data`` of an API answer, or a SourceError naming what is wrong."""
    try:
        envelope = json.loads(body)
    except ValueError as exc:
        raise SourceError("bad-json", f"response is not JSON ({exc})") from None
    if not isinstance(envelope, dict) or "code" not in envelope:
        raise SourceError("bad-envelope", "response has no API envelope")
    if envelope["code"] != OK_CODE:
        raise SourceError("api-error", f"code {envelope['code']}: {envelope.get('message', '')}")
    return envelope.get("data")


def is_detail_answer(body: bytes | str) -> bool:
    """Whether a saved file is this API's answer for one article (backfills of saved answers)."""
    try:
        data = envelope_data(body)
    except SourceError:
        return False
    return isinstance(data, dict) and "content" in data and "id" in data


def parse_listing(data: Any) -> tuple[list[Any], str]:
    """Items (unchecked: see ``item_id``, ``item_time``) and the next cursor ("" at the end)
    of a listing page's ``data``."""
    if not isinstance(data, dict):
        raise SourceError("bad-listing", f"listing data is {type(data).__name__}, not an object")
    items = data.get("items") or []
    if not isinstance(items, list):
        raise SourceError("bad-listing", "listing items is not a list")
    return items, str(data.get("next_cursor") or "")


def item_id(item: Any) -> str:
    """The checked id of a listing item, or SourceError ``bad-item``, ``missing-id``, ``bad-id``."""
    if not isinstance(item, dict):
        raise SourceError("bad-item", f"listing item is a {type(item).__name__}, not an object")
    if item.get("id") in (None, ""):
        raise SourceError("missing-id", "listing item has no id")
    return valid_id(item["id"])


def item_time(item: dict[str, Any]) -> int:
    """A listing item's or article's publication time (unix s), or SourceError ``missing-time``, ``bad-time``."""
    value = item.get("display_time")
    if value in (None, ""):
        raise SourceError("missing-time", "no display_time")
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,12}", value):
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value not in TIME_RANGE:
        raise SourceError("bad-time", f"display_time {value!r} is not a unix time")
    return value


def is_paid(entry: dict[str, Any]) -> bool:
    """True for paid or members-only pieces, whose content is a truncated preview."""
    if any(entry.get(flag) for flag in _PAID_FLAGS) or any(entry.get(key) for key in _PAID_VALUES):
        return True
    return any(_PAID_URL.search(str(entry.get(key) or "")) for key in ("uri", "membership_uri"))


def skip_reason(item: dict[str, Any]) -> str | None:
    """Why a listing item gives no article ("layout", "paid"), or None to fetch it."""
    if item.get("layout", ARTICLE_LAYOUT) != ARTICLE_LAYOUT:
        return "layout"
    if is_paid(item):
        return "paid"
    return None


#: The body as a BeautifulSoup (markup souplike does not read as BeautifulSoup does) or as an lxml tree.
Body = BeautifulSoup | etree._Element


def _blocks(body: Body, names: tuple[str, ...]) -> list[Any]:
    return body.find_all(names) if isinstance(body, Tag) else list(body.iter(*names))


def _text(tag: Any) -> str:
    return re.sub(r"\s+", " ", tag.get_text() if isinstance(tag, Tag) else souplike.get_text(tag)).strip()


def strip_site_disclaimer(body: Body) -> None:
    """Remove the site's own disclaimer blocks wherever they are; the pipeline attaches its own."""
    for tag in _blocks(body, ("div", "p", "section")):
        if tag.parent is None if isinstance(tag, Tag) else not souplike.attached(tag, body):
            continue  # inside a block removed before
        text = _text(tag)
        if text == _DISCLAIMER_TITLE or _DISCLAIMER_TEXT.match(text):
            tag.decompose() if isinstance(tag, Tag) else souplike.remove(tag)


def has_own_attribution(body: Body, last_blocks: int = 3) -> bool:
    """Whether one of the body's last text blocks already credits the origin."""
    blocks = [text for tag in _blocks(body, ("p", "div")) if (text := _text(tag))]
    return any(_ATTRIBUTION.search(text) for text in blocks[-last_blocks:])


def _aliases(source_uri: str) -> list[str]:
    identity = article_identity(source_uri) if source_uri else None
    return [f"wechat:{identity}"] if identity else []


def article_from_detail(data: Any, requested_id: str | None = None) -> Article:
    """Build the Article from a detail response's ``data``; ``requested_id``: the id it was
    asked for (None for a saved answer), which the answer must name (``id-mismatch``)."""
    if not isinstance(data, dict):
        raise SourceError("bad-detail", f"detail data is {type(data).__name__}, not an object")
    if data.get("id") in (None, ""):
        raise SourceError("missing-id", "detail has no id")
    article_id = valid_id(data["id"])
    if requested_id is not None and article_id != requested_id:
        raise SourceError("id-mismatch", f"asked for article {requested_id}, the answer is article {article_id}")
    title = str(data.get("title") or "").strip()
    content = str(data.get("content") or "")
    if not title:
        raise SourceError("missing-title", f"article {article_id} has no title")
    if not content.strip():
        raise SourceError("missing-content", f"article {article_id} has no content")
    if is_paid(data):
        raise SourceSkip("paid", f"article {article_id} is paid; its content is a preview")
    published = item_time(data)

    try:
        check_depth(content)  # before parsing: deep nesting costs minutes in every later stage
    except TooDeep as exc:
        raise SourceError(exc.reason, f"article {article_id}: {exc}") from None
    # lxml's tree (a fraction of a BeautifulSoup parse's cost), written back as BeautifulSoup writes it
    parsed: Body | None = souplike.parse(content)
    if parsed is None:  # no body, or markup souplike does not read as BeautifulSoup does
        parsed = BeautifulSoup(content, "lxml")
    strip_site_disclaimer(parsed)
    source_name = str(data.get("source_name") or "").strip()
    source_uri = str(data.get("source_uri") or "").strip()
    attribution = None
    if source_name and not has_own_attribution(parsed):
        attribution = Attribution(name=source_name, url=source_uri, title=title)
    image = data.get("image") if isinstance(data.get("image"), dict) else {}
    if isinstance(parsed, BeautifulSoup):
        body = parsed.body.decode_contents() if parsed.body else ""
    else:
        body = souplike.inner_html(parsed)
    return Article(
        source=SOURCE,
        id=article_id,
        url=article_url(article_id),
        title=title,
        published=published,
        body_html=body,
        cover=str(image.get("uri") or ""),
        description=str(data.get("content_short") or ""),
        attribution=attribution,
        aliases=_aliases(source_uri),
    )


def article_from_raw(raw: RawSource, settings: BaseSettings) -> Article:
    """The Article of a detail answer kept in the raw archive: what the spider's callback and
    ``scrapy rerender`` both call (``context["article_id"]``: the id asked for, None for a saved answer)."""
    article = parse_answer(raw.body, raw.context.get("article_id"))
    article.raw = raw
    return article


def parse_answer(body: bytes, requested_id: str | None) -> Article:
    """The Article of a detail answer's bytes, without its raw source: what a parse worker
    (``pipelines.workers``) sends back to the crawl, which keeps the raw source itself."""
    return article_from_detail(envelope_data(body), requested_id)
