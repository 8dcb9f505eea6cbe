"""InfoQ China (www.infoq.cn): its public JSON API, and article bodies as JSON node trees.

Facts this relies on (``tests/fixtures/infoq/PROVENANCE.md``): every API call is a JSON
``POST`` answered ``{"code": 0, "data": …}``; ``public/v1/article/getList`` lists articles
newest first (``uuid``, ``article_title``, ``publish_time`` in epoch milliseconds, ``score``,
the next page's cursor); ``public/v1/article/getDetail`` ``{"uuid": id}`` gives an article's
metadata and either ``content`` (HTML, older articles) or ``content_url``, a JSON document
``{"type": "doc", "content": […]}`` of ProseMirror-like nodes (``NODE_TAGS``, text with marks).
"""

from __future__ import annotations

import json
import re
from html import escape
from typing import Any
from urllib.parse import urljoin

from bs4 import BeautifulSoup
from scrapy.settings import BaseSettings

from crawler.sources import SourceError, listed
from crawler.sources.listed import Fetch
from pipelines.archive import RawSource
from pipelines.article import Article
from pipelines.limits import TooDeep, check_depth

LISTED_SOURCE = True
SOURCE = "infoq"
BASE_SETTING = "INFOQ_BASE"
DEFAULT_BASE = "https://www.infoq.cn"
DISCLAIMER = ""  # the site's infoq pages carry none
ARTICLE_URL = "https://www.infoq.cn/article/{id}"
LISTING_SIZE = 30
OK_CODE = 0
#: An article id: the uuid InfoQ gives (20 URL-safe characters seen; 8–64 accepted).
ID_RE = re.compile(r"[A-Za-z0-9_-]{8,64}")
TIME_RANGE = range(631152000, 7258118400)
#: The API expects a browser on the site.
HEADERS = {
    "Origin": "https://www.infoq.cn",
    "Content-Type": "application/json",
    "Accept": "application/json, text/plain, */*",
}
#: Block and inline node types of a body tree → HTML element (children inside it).
NODE_TAGS = {
    "paragraph": "p", "blockquote": "blockquote", "bulletedlist": "ul", "numberedlist": "ol",
    "listitem": "li",
}
#: Text marks → HTML element.
MARK_TAGS = {"bold": "strong", "strong": "strong", "italic": "em", "em": "em", "strike": "del",
             "strikethrough": "del", "underline": "u", "code": "code", "codeinline": "code"}
#: Trees nested deeper are refused (``too-deep``), as deep HTML is.
MAX_TREE_DEPTH = 256


def article_url(article_id: str) -> str:
    return ARTICLE_URL.format(id=article_id)


def _api(base: str, path: str, payload: dict[str, Any], referer: str) -> Fetch:
    return Fetch(f"{base.rstrip('/')}/public/v1/{path}", method="POST", body=json.dumps(payload),
                 headers={**HEADERS, "Referer": referer})


def listing_request(base: str, cursor: str = "") -> Fetch:
    """A ``getList`` page: the newest articles, or those after ``cursor`` (the last item's ``score``)."""
    payload: dict[str, Any] = {"type": 1, "size": LISTING_SIZE}
    if cursor:
        payload["score"] = int(cursor)
    return _api(base, "article/getList", payload, "https://www.infoq.cn/")


def detail_request(base: str, article_id: str) -> Fetch:
    return _api(base, "article/getDetail", {"uuid": article_id}, article_url(article_id))


def envelope_data(body: bytes | str) -> Any:
    """The ``data`` of an API answer, or a SourceError naming what is wrong."""
    try:
        envelope = json.loads(body)
    except ValueError as exc:
        raise SourceError("bad-json", f"response is not JSON ({exc})") from None
    if not isinstance(envelope, dict) or "code" not in envelope:
        raise SourceError("bad-envelope", "response has no API envelope")
    if envelope["code"] != OK_CODE:
        raise SourceError("api-error", f"code {envelope['code']}: {envelope.get('error') or envelope.get('msg') or ''}")
    return envelope.get("data")


def parse_listing(body: bytes | str) -> tuple[list[Any], str]:
    """Items of a ``getList`` page and the next cursor: the last item's ``score`` ("" after an empty page)."""
    items = envelope_data(body)
    if not isinstance(items, list):
        raise SourceError("bad-listing", f"listing data is {type(items).__name__}, not a list")
    last = items[-1] if items else None
    score = last.get("score") if isinstance(last, dict) else None
    more = isinstance(score, int) and not isinstance(score, bool)  # an empty page ends the listing
    return items, str(score) if more else ""


def valid_id(value: Any) -> str:
    if not isinstance(value, str) or not ID_RE.fullmatch(value):
        raise SourceError("bad-id", f"uuid {value!r} is not an InfoQ article id")
    return value


def item_id(item: Any) -> str:
    if not isinstance(item, dict):
        raise SourceError("bad-item", f"listing item is a {type(item).__name__}, not an object")
    if item.get("uuid") in (None, ""):
        raise SourceError("missing-id", "listing item has no uuid")
    return valid_id(item["uuid"])


def item_time(item: dict[str, Any]) -> int:
    """Publication time in unix seconds (the API gives milliseconds)."""
    value = item.get("publish_time")
    if value in (None, ""):
        raise SourceError("missing-time", "no publish_time")
    if not isinstance(value, int) or isinstance(value, bool) or value // 1000 not in TIME_RANGE:
        raise SourceError("bad-time", f"publish_time {value!r} is not epoch milliseconds")
    return value // 1000


def skip_reason(item: dict[str, Any]) -> str | None:
    """None: every listed item is fetched (no paid or members-only flag of InfoQ's is on record)."""
    return None


# --- body trees ---------------------------------------------------------------------------------


def _attrs(node: dict[str, Any]) -> dict[str, Any]:
    attrs = node.get("attrs")
    return attrs if isinstance(attrs, dict) else {}


def _marked(text: str, marks: Any) -> str:
    html = escape(text)
    for mark in marks if isinstance(marks, list) else []:
        if not isinstance(mark, dict):
            continue
        kind = mark.get("type")
        if kind == "link":
            href = str(_attrs(mark).get("href") or "")
            html = f'<a href="{escape(href)}">{html}</a>' if href else html
        elif kind in MARK_TAGS:
            tag = MARK_TAGS[kind]
            html = f"<{tag}>{html}</{tag}>"
    return html


def _text_of(node: Any) -> str:
    if not isinstance(node, dict):
        return ""
    if node.get("type") == "text":
        return str(node.get("text") or "")
    children = node.get("content")
    return "".join(_text_of(child) for child in children) if isinstance(children, list) else ""


def _node_html(node: Any, depth: int) -> str:
    if depth > MAX_TREE_DEPTH:
        raise SourceError(TooDeep.reason, f"body tree nested over {MAX_TREE_DEPTH} deep")
    if not isinstance(node, dict):
        return ""
    kind = node.get("type")
    attrs = _attrs(node)
    children = node.get("content")
    inner = "".join(_node_html(child, depth + 1) for child in children) if isinstance(children, list) else ""
    if kind == "text":
        return _marked(str(node.get("text") or ""), node.get("marks"))
    if kind == "heading":
        level = attrs.get("level")
        level = level if isinstance(level, int) and 1 <= level <= 6 else 2
        return f"<h{level}>{inner}</h{level}>"
    if kind == "link":
        href = str(attrs.get("href") or "")
        return f'<a href="{escape(href)}">{inner}</a>' if href else inner
    if kind == "image":
        src = str(attrs.get("src") or "")
        alt = str(attrs.get("alt") or "")
        return f'<p><img src="{escape(src)}" alt="{escape(alt)}"></p>' if src else ""
    if kind == "codeblock":
        lang = re.sub(r"[^A-Za-z0-9_+-]", "", str(attrs.get("lang") or ""))
        css = f' class="language-{lang}"' if lang else ""
        return f"<pre><code{css}>{escape(_text_of(node))}</code></pre>"
    if kind in ("hardbreak", "hard_break"):
        return "<br>"
    if kind in ("horizontalrule", "horizontal_rule"):
        return "<hr>"
    if kind == "codeinline":
        return f"<code>{escape(_text_of(node))}</code>"
    tag = NODE_TAGS.get(str(kind))
    return f"<{tag}>{inner}</{tag}>" if tag else inner  # doc and unknown nodes: their content


def tree_to_html(tree: Any) -> str:
    """A body tree as HTML; unknown node types keep their content, text is escaped, links and images
    keep their URLs (the shared cleaning drops what is not http(s))."""
    if not isinstance(tree, dict) or not isinstance(tree.get("content"), list):
        raise SourceError("bad-body", "article body is not a node tree ({\"type\": \"doc\", \"content\": […]})")
    return _node_html(tree, 0)


# --- details ------------------------------------------------------------------------------------


def _metadata(data: Any, requested_id: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise SourceError("bad-detail", f"detail data is {type(data).__name__}, not an object")
    article_id = valid_id(data.get("uuid") or requested_id)
    if article_id != requested_id:
        raise SourceError("id-mismatch", f"asked for article {requested_id}, the answer is article {article_id}")
    title = str(data.get("article_title") or "").strip()
    if not title:
        raise SourceError("missing-title", f"article {article_id} has no title")
    return data


def _article(meta: dict[str, Any], article_id: str, body_html: str) -> Article:
    if not BeautifulSoup(body_html, "lxml").get_text(strip=True) and "<img" not in body_html:
        raise SourceError("missing-content", f"article {article_id} has no content")
    try:
        check_depth(body_html)
    except TooDeep as exc:
        raise SourceError(exc.reason, f"article {article_id}: {exc}") from None
    return Article(
        source=SOURCE,
        id=article_id,
        url=article_url(article_id),
        title=str(meta.get("article_title")).strip(),
        published=item_time(meta),
        body_html=body_html,
        cover=str(meta.get("article_cover") or ""),
    )


def parse_detail(body: bytes | str, url: str, fetch: Fetch) -> Article | Fetch:
    """The Article of a ``getDetail`` answer with HTML ``content``; for a tree body stored apart, the
    Fetch of its ``content_url`` (relative URLs resolve against the answer's), whose answer comes
    back here as step ``"body"``."""
    article_id = str(fetch.data["id"])
    if fetch.step == "body":
        try:
            tree = json.loads(body)
        except ValueError as exc:
            raise SourceError("bad-body", f"article {article_id}: body is not JSON ({exc})") from None
        return _article(fetch.data["meta"], article_id, tree_to_html(tree))
    meta = _metadata(envelope_data(body), article_id)
    item_time(meta)  # an unusable time fails here, not in the render
    content_url = str(meta.get("content_url") or "").strip()
    if content_url:
        kept = {key: meta.get(key) for key in ("uuid", "article_title", "publish_time", "article_cover")}
        return Fetch(urljoin(url, content_url), step="body", headers={"Referer": article_url(article_id)},
                     data={"id": article_id, "meta": kept})
    return _article(meta, article_id, str(meta.get("content") or ""))


def article_from_raw(raw: RawSource, settings: BaseSettings) -> Article:
    """The Article of a stored raw source, parsed again by ``parse_detail`` (``crawler.sources.listed.replay``)."""
    return listed.article_from_raw(parse_detail, raw)
