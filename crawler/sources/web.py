"""Any news page on any site: its article, found by a main-content extractor.

The body comes from readability-lxml (chosen over trafilatura on measured fidelity, see the
README's "Any URL"); the metadata from the page's own declarations first (``<link rel=canonical>``,
Open Graph, JSON-LD, ``<meta>``, ``<time pubdate>``), then htmldate's heuristics for the date
(trafilatura's date module, a package of its own). A page that holds no article — a home page, a listing, an error
page, a login wall — is the failure ``no-article``, never a file of navigation text.

Identity: the page's canonical URL, hashed (``url_id``): stable, path-safe and the same for
every spelling of the URL the page names as its own. The source label is the site's
registrable domain (``xinhuanet.com``, from the public suffix list bundled with tldextract,
read offline) unless ``WEB_SOURCE_NAMES`` maps it to a name.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import re
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit
from zoneinfo import ZoneInfo

import lxml.html
from lxml import etree
from w3lib.encoding import http_content_type_encoding, read_bom
from w3lib.url import canonicalize_url

from scrapy.settings import BaseSettings

from crawler.inputs import saved_page_limit
from crawler.savedpage import GZIP_MAGIC, gunzip
from crawler.sources import SourceError
from pipelines.archive import RawSource
from pipelines.article import Article, Attribution
from pipelines.limits import TooDeep, check_depth

#: Parser name of the generic path's raw sources (``crawler/rerender.py``).
PARSER = "web"
#: Key prefix of web articles' identities (``web:<url id>``) in the state store, across labels.
ALIAS_PREFIX = "web:"
#: Failure of a page without an article (permanent: the same page gives the same answer).
NO_ARTICLE = "no-article"
#: Headers of a browser following a link.
HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8",
}
#: Characters of text outside links an article body has at least (``WEB_MIN_TEXT``'s default).
MIN_TEXT = 200
#: Share of a body's text inside links above which it is navigation (a home page, a listing).
MAX_LINK_DENSITY = 0.35
#: Encodings a page declares that decode as a superset: GB2312 and GBK pages use GB18030 characters.
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "gb_2312-80": "gb18030", "iso-8859-1": "cp1252", "ascii": "cp1252"}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
#: Bytes at the start of a page where a ``<meta charset>`` counts (a wrapper like the Wayback
#: Machine's puts its own markup before the page's head).
_DECLARATION_WINDOW = 64 * 1024
#: Bytes per bad byte a page may hold and still be read in its declared encoding (``decode_html``).
_STRAY_BYTES = 1000
_LAZY_SOURCES = ("data-src", "data-original", "data-lazy-src", "data-actualsrc", "data-url")
_PLACEHOLDER = re.compile(r"^(data:|about:)|(^|/)(blank|space|spacer|pixel|placeholder|loading|lazy)[^/]*\.(gif|png|svg)$", re.I)
#: Text of the paragraph a data table waits in while readability runs (invisible separators around it).
_TABLE_MARK = "\u2063web-table-{}\u2063"
_TABLE_MARK_RE = re.compile("\u2063web-table-([0-9]+)\u2063")
_BYLINE = re.compile(r"(?:作者|文|撰文|记者|责任编辑|编辑)\s*[:：]\s*([^\s，,。|/]{2,20})")
#: What stands between a ``<title>``'s headline and the site name after it (not colons: headlines hold them).
_TITLE_SEPARATORS = re.compile(r"\s*(?:[-_|–—]|&#8211;)\s*")
_DATE_META = (
    "article:published_time", "og:published_time", "og:article:published_time", "datePublished",
    "publishdate", "pubdate", "publish_date", "publication_date", "PubDate", "publishtime",
    "dc.date", "dc.date.issued", "dcterms.created", "sailthru.date", "date",
)
_AUTHOR_META = ("author", "article:author", "dc.creator", "byl", "sailthru.author")
#: A date written on a page: ``2020-02-19 20:29:58``, ``2020/02/19``, ``2020年2月19日 20:29``.
_PAGE_DATE = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[T\s]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?"
)


@dataclass(frozen=True)
class Metadata:
    """What a page says about its article."""

    title: str
    url: str  #: canonical URL
    published: int  #: unix seconds
    author: str
    cover: str
    site_name: str


# --- Encoding ---------------------------------------------------------------------------------------


def _codec(name: str | None) -> str | None:
    """The Python codec for a declared charset (GB2312/GBK read as GB18030), or None when unknown."""
    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    try:
        canonical = codecs.lookup(name).name
    except LookupError:
        return None
    return _SUPERSETS.get(name, _SUPERSETS.get(canonical, canonical))


def declared_encodings(body: bytes, content_type: str | None) -> list[str]:
    """The encodings a page declares, most authoritative first: BOM, the HTTP header, then every
    ``<meta charset>`` near its start (a wrapper may declare one thing and its page another)."""
    found: list[str | None] = []
    bom, _ = read_bom(body)
    found.append(_codec(bom))
    found.append(_codec(http_content_type_encoding(content_type or "")))
    found += [_codec(match.group(1).decode("ascii")) for match in _META_CHARSET.finditer(body[:_DECLARATION_WINDOW])]
    return list(dict.fromkeys(name for name in found if name))


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """A page's text, decoded by the first rule that fits:

    1. the first declared encoding the bytes are valid in (a declaration they contradict, such as a
       GB2312 page served or wrapped as UTF-8, is passed over instead of making it replacement characters);
    2. UTF-8, when they are valid UTF-8;
    3. a declared encoding they are almost valid in (at most one bad byte in ``_STRAY_BYTES``): a page
       with a few broken bytes keeps its encoding, with replacement characters there;
    4. GB18030 (GBK's superset), when they are valid in it: the common undeclared case here;
    5. UTF-8 with replacement characters.
    """
    declared = declared_encodings(body, content_type)
    for encoding in [*declared, "utf-8"]:
        try:
            return body.decode(encoding).removeprefix("\ufeff")
        except UnicodeDecodeError:
            continue
    allowed = max(1, len(body) // _STRAY_BYTES)
    for encoding in declared:
        text = body.decode(encoding, errors="replace")
        if text.count("\ufffd") - body.decode(encoding, errors="ignore").count("\ufffd") <= allowed:
            return text.removeprefix("\ufeff")
    try:
        return body.decode("gb18030").removeprefix("\ufeff")
    except UnicodeDecodeError:
        return body.decode("utf-8", errors="replace").removeprefix("\ufeff")


# --- Identity and labels ----------------------------------------------------------------------------


def normalize_url(url: str) -> str:
    """``url`` without its fragment, scheme and host lower-cased, query sorted (w3lib's canonical form)."""
    return canonicalize_url(url.strip(), keep_fragments=False)


def url_id(url: str) -> str:
    """A stable, path-safe id for a page: the first 16 hex digits of the SHA-256 of its normal form."""
    return hashlib.sha256(normalize_url(url).encode("utf-8")).hexdigest()[:16]


def web_identity(url: str) -> str | None:
    """The id an http(s) URL names (before its page says otherwise), or None for any other URL."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url_id(url)


@lru_cache(maxsize=1)
def _extractor() -> Any:
    """tldextract on the suffix list snapshot it bundles: no download, no cache folder. Imported
    here, as readability and htmldate are where they are used: a run that reads no page of another
    site does not pay for them (settings import this module)."""
    import tldextract  # noqa: PLC0415

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def registrable_domain(url: str) -> str:
    """The site a URL belongs to: ``www.xinhuanet.com`` → ``xinhuanet.com``, ``a.b.gov.cn`` →
    ``b.gov.cn``; an IP address or a bare host name stays as it is."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    parts = _extractor()(host)
    return parts.top_domain_under_public_suffix or host


def source_label(url: str, names: Mapping[str, str]) -> str:
    """The source label of a page at ``url``: ``names[domain]`` when set, else the registrable domain."""
    domain = registrable_domain(url)
    return names.get(domain) or domain


# --- Metadata ----------------------------------------------------------------------------------------


def _meta(tree: lxml.html.HtmlElement) -> dict[str, str]:
    """``<meta>`` values by lower-cased ``property``/``name``/``itemprop`` (the first of each)."""
    values: dict[str, str] = {}
    for element in tree.iter("meta"):
        key = element.get("property") or element.get("name") or element.get("itemprop")
        content = (element.get("content") or "").strip()
        if key and content:
            values.setdefault(key.strip().lower(), content)
    return values


def _json_ld(tree: lxml.html.HtmlElement) -> Iterator[dict[str, object]]:
    """Every JSON-LD object of the page (``@graph`` members too); unreadable blocks are ignored."""
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        stack = data if isinstance(data, list) else [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, dict):
                yield item
                graph = item.get("@graph")
                if isinstance(graph, list):
                    stack += graph


def _text(element: lxml.html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def _absolute(url: str, base: str) -> str:
    """``url`` made absolute against ``base``; "" unless http(s)."""
    joined = urljoin(base, url.strip())
    return joined if urlsplit(joined).scheme in ("http", "https") else ""


def _title(tree: lxml.html.HtmlElement, meta: Mapping[str, str], ld: list[dict[str, object]], site: str) -> str:
    """og:title, JSON-LD headline, the ``<h1>`` the ``<title>`` starts with, or the ``<title>`` less
    the site name after a separator (``标题-新华网``)."""
    for candidate in (meta.get("og:title"), meta.get("twitter:title"), *(i.get("headline") for i in ld)):
        if isinstance(candidate, str) and candidate.strip():
            return " ".join(candidate.split())
    head = " ".join((tree.findtext(".//title") or "").split())
    for h1 in tree.iter("h1"):
        text = _text(h1)
        if text and (not head or head.startswith(text)):
            return text
    parts = _TITLE_SEPARATORS.split(head)
    if len(parts) > 1 and len(parts[-1]) <= max(12, len(site)) and len(" ".join(parts[:-1])) > len(parts[-1]):
        return head[: head.rfind(parts[-1])].rstrip(" -_|–—·:：")
    return head


def _parse_time(value: str, zone: ZoneInfo) -> int | None:
    """Unix seconds of an ISO 8601 or page-written date; a time without zone is read in ``zone``."""
    value = value.strip()
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        match = _PAGE_DATE.search(value)
        if not match:
            return None
        year, month, day, hour, minute, second = (int(g) if g else 0 for g in match.groups())
        try:
            moment = datetime(year, month, day, hour, minute, second)
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    if not 1990 <= moment.year <= 2199:
        return None
    return int(moment.timestamp())


def _published(tree: lxml.html.HtmlElement, meta: Mapping[str, str], ld: list[dict[str, object]],
               zone: ZoneInfo) -> int | None:
    """The page's publication time: its own declarations (meta, JSON-LD, ``<time>``), then htmldate."""
    declared = [meta.get(name.lower()) for name in _DATE_META]
    declared += [item.get("datePublished") for item in ld]
    declared += [t.get("datetime") for t in tree.iter("time") if t.get("pubdate") is not None or t.get("itemprop") == "datePublished"]
    for value in declared:
        if isinstance(value, str) and (found := _parse_time(value, zone)) is not None:
            return found
    from htmldate import find_date  # noqa: PLC0415 (see _extractor)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        guessed = find_date(tree, outputformat="%Y-%m-%dT%H:%M:%S", original_date=True, extensive_search=True)
    return _parse_time(guessed, zone) if guessed else None


def _clean_author(value: str) -> str:
    value = re.sub(r"^(?:作者|文|撰文|记者|责任编辑|编辑|by)\s*[:：]?\s*", "", " ".join(value.split()), flags=re.I)
    return "" if value.startswith(("http://", "https://")) else value[:80]


def _author(tree: lxml.html.HtmlElement, meta: Mapping[str, str], ld: list[dict[str, object]]) -> str:
    """The page's author: meta, JSON-LD, then a byline in the text (``作者：``, ``责任编辑：``)."""
    candidates: list[object] = [meta.get(name) for name in _AUTHOR_META]
    for item in ld:
        author = item.get("author")
        for one in author if isinstance(author, list) else [author]:
            candidates.append(one.get("name") if isinstance(one, dict) else one)
    for candidate in candidates:
        if isinstance(candidate, str) and (name := _clean_author(candidate)):
            return name
    body = tree.find("body")
    match = _BYLINE.search(_text(body)) if body is not None else None
    return _clean_author(match.group(1)) if match else ""


def own_url(tree: lxml.html.HtmlElement, url: str) -> str:
    """The URL the page names as its own (``<link rel=canonical>``, ``og:url``), else ``url`` when it
    is http(s), without fragment; "" for a saved page that names none."""
    declared = [link.get("href") or "" for link in tree.xpath('//link[@rel="canonical"]')]
    declared += [m.get("content") or "" for m in tree.xpath('//meta[@property="og:url"]')]
    found = next((u for u in (_absolute(d, url) for d in declared if d.strip()) if u), "") or _absolute(url, url)
    return urldefrag(found).url


def metadata(tree: lxml.html.HtmlElement, url: str, zone: ZoneInfo) -> Metadata:
    """The article's metadata; ``url`` is where the page was read (the canonical URL's fallback)."""
    meta = _meta(tree)
    ld = list(_json_ld(tree))
    canonical = own_url(tree, url)
    if not canonical:  # a saved page (file://) read without a URL of its own
        raise SourceError("missing-url", "the saved page names no URL of its own (canonical link or og:url)")
    site = meta.get("og:site_name", "")
    published = _published(tree, meta, ld, zone)
    if published is None:
        raise SourceError("missing-time", "the page states no publication date")
    title = _title(tree, meta, ld, site)
    if not title:
        raise SourceError("missing-title", "the page has no title")
    cover = meta.get("og:image") or meta.get("twitter:image") or ""
    base = url if web_identity(url) else canonical
    return Metadata(title=title, url=canonical, published=published, author=_author(tree, meta, ld),
                    cover=_absolute(cover, base) if cover else "", site_name=site)


# --- Body --------------------------------------------------------------------------------------------


def _unlazy(tree: lxml.html.HtmlElement) -> None:
    """Give lazy images their real source (``data-src`` and kin) where ``src`` is missing or a placeholder."""
    for image in tree.iter("img"):
        src = (image.get("src") or "").strip()
        lazy = next((image.get(name) for name in _LAZY_SOURCES if (image.get(name) or "").strip()), None)
        if lazy and (not src or _PLACEHOLDER.search(src)):
            image.set("src", lazy.strip())


def _is_data_table(table: lxml.html.HtmlElement) -> bool:
    """A table of data (cells of text), not a layout table holding the page's blocks."""
    if table.xpath(".//table|.//p|.//div|.//ul|.//ol|.//h1|.//h2|.//h3|.//h4|.//blockquote|.//pre"):
        return False
    rows = table.xpath(".//tr")
    return len(rows) >= 2 and max(len(row.xpath("./td|./th")) for row in rows) >= 2


def _set_aside_tables(tree: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    """Replace each data table by a placeholder paragraph: readability drops short tables as
    clutter, but a table inside the article is content. ``_put_back_tables`` restores those kept."""
    tables = [table for table in tree.iter("table") if _is_data_table(table)]
    for number, table in enumerate(tables):
        placeholder = lxml.html.Element("p")
        placeholder.text = _TABLE_MARK.format(number)
        placeholder.tail = table.tail
        table.getparent().replace(table, placeholder)
    return tables


def _put_back_tables(body: lxml.html.HtmlElement, tables: list[lxml.html.HtmlElement]) -> None:
    for placeholder in list(body.iter("p")):
        match = _TABLE_MARK_RE.fullmatch((placeholder.text or "").strip())
        if match and int(match.group(1)) < len(tables):
            table = tables[int(match.group(1))]
            table.tail = placeholder.tail
            placeholder.getparent().replace(placeholder, table)


def main_content(html: str, url: str) -> lxml.html.HtmlElement:
    """The article's body element, by readability-lxml, with absolute link and image URLs."""
    from readability import Document  # noqa: PLC0415 (see _extractor)
    from readability.readability import Unparseable  # noqa: PLC0415

    tree = lxml.html.document_fromstring(html)
    _unlazy(tree)
    base = next((b.get("href") for b in tree.iter("base") if b.get("href")), None)
    tables = _set_aside_tables(tree)
    try:
        summary = Document(lxml.html.tostring(tree, encoding="unicode"), url=url).summary(html_partial=True)
    except Unparseable as exc:
        raise SourceError(NO_ARTICLE, f"no main content found ({exc})") from None
    body = lxml.html.fragment_fromstring(summary, create_parent="div")
    _put_back_tables(body, tables)
    body.make_links_absolute(urljoin(url, base) if base else url, resolve_base_href=False, handle_failures="discard")
    for cell in body.iter("td", "th", "tr", "tbody", "thead", "tfoot"):
        if next(cell.iterancestors("table"), None) is None:  # a layout cell readability chose as the body
            cell.tag = "div"
    for image in list(body.iter("img")):
        if not image.get("src") or _PLACEHOLDER.search(image.get("src", "")):
            image.drop_tree()
    return body


def _link_text(body: lxml.html.HtmlElement) -> int:
    return sum(len("".join(a.text_content().split())) for a in body.iter("a"))


def check_article(body: lxml.html.HtmlElement, min_text: int) -> None:
    """Raise ``no-article`` for a body that is navigation, not an article: too little text outside
    links, or text mostly inside links (a home page or listing that readability still scored)."""
    total = len("".join(body.text_content().split()))
    linked = _link_text(body)
    if total - linked < min_text:
        raise SourceError(NO_ARTICLE, f"{total - linked} characters of text outside links (fewer than {min_text})")
    if linked > MAX_LINK_DENSITY * total:
        raise SourceError(NO_ARTICLE, f"{linked} of its {total} characters are links: navigation or a listing")


def _drop_title(body: lxml.html.HtmlElement, title: str) -> None:
    """Drop a leading heading that repeats the title (the site shows the title from the front matter)."""
    for heading in body.iter("h1", "h2"):
        if _text(heading) == title:
            heading.drop_tree()
        return


def article_from_page(html: str, url: str, *, names: Mapping[str, str] | None = None, timezone: str = "Asia/Shanghai",
                      min_text: int = MIN_TEXT, reached_by: list[str] | None = None) -> Article:
    """The Article of a page read at ``url``; SourceError (``no-article``, ``missing-time``, …) when it has none.

    ``reached_by``: other URLs that led to this page (the one asked for, redirects); each is an alias.
    """
    try:
        check_depth(html)  # before parsing: deep nesting costs minutes in every later stage
    except TooDeep as exc:
        raise SourceError(exc.reason, str(exc)) from None
    try:
        tree = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError) as exc:
        raise SourceError(NO_ARTICLE, f"unparsable page ({exc})") from None
    # Relative links of a saved page point into the site it was saved from, not the folder it sits in.
    body = main_content(html, url if web_identity(url) else own_url(tree, url) or url)
    check_article(body, min_text)
    info = metadata(tree, url, ZoneInfo(timezone))
    _drop_title(body, info.title)
    label = source_label(info.url, names or {})
    identities = [info.url, url, *(reached_by or [])]
    aliases = list(dict.fromkeys(f"{ALIAS_PREFIX}{url_id(u)}" for u in identities if web_identity(u)))
    site = info.site_name or label
    return Article(
        source=label,
        id=url_id(info.url),
        url=info.url,
        title=info.title,
        published=info.published,
        body_html=lxml.html.tostring(body, encoding="unicode"),
        cover=info.cover,
        attribution=Attribution(name=f"{site}（作者：{info.author}）" if info.author else site, url=info.url, title=info.title),
        aliases=aliases,
    )


def article_from_raw(raw: RawSource, settings: BaseSettings) -> Article:
    """The Article of a page kept in the raw archive: what the spider's callback and ``scrapy rerender``
    both call. The page is gunzipped when saved gzipped (up to ``SAVED_PAGE_MAXSIZE``), decoded as
    declared or detected (``decode_html``: the HTTP header is one declaration, not the last word);
    ``context["reached_by"]``: the URL asked for and its redirects, each an alias."""
    body = gunzip(raw.body, saved_page_limit(settings)) if raw.body[:2] == GZIP_MAGIC else raw.body
    article = article_from_page(
        decode_html(body, raw.headers.get("content-type")),
        raw.url,  # after redirects: what relative links in the page are relative to
        names=settings.getdict("WEB_SOURCE_NAMES"),
        timezone=settings.get("TIMEZONE"),
        min_text=settings.getint("WEB_MIN_TEXT"),
        reached_by=raw.context.get("reached_by", []),
    )
    article.raw = raw
    return article


#: Characters of a saved file ``looks_like_html`` reads.
HTML_HEAD_CHARS = 4096


def looks_like_html(text: str) -> bool:
    """Whether a saved file is an HTML page (any site's): the generic path takes what no source recognises."""
    head = text[:HTML_HEAD_CHARS].lower()
    return "<html" in head or "<!doctype html" in head or "<body" in head or "<head" in head
